// The knowledge-base Q&A page: a cited answer streams in, a citation opens its
// passage, a follow-up finds the passage about the same topic, feedback is sent,
// an uploaded document answers the next question, Chinese and a phone screen work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, openBrowser, screenshot } from './lib.mjs';

const kb = 'e2e-clinic';

async function api(path, body) {
  const r = await fetch(new URL(path, baseUrl), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.ok(r.status < 300 || r.status === 409, `${path}: ${r.status} ${await r.text()}`);
}

async function setUp() {
  await api('/v1/kbs', { name: kb, description: 'vaccine facts for the browser test' });
  await api(`/v1/kbs/${kb}/documents`, {
    documents: [
      { id: 'measles-doses', source: 'measles-doses.md', text: '# Measles vaccine doses\n\nThe measles vaccine is given as two doses: the first at 12 months and the second at 4 to 6 years of age.' },
      { id: 'measles-duration', source: 'measles-duration.md', text: '# Measles vaccine protection\n\nProtection from the measles vaccine lasts for life in almost everyone, so no booster is required.' },
      { id: 'flu-duration', source: 'flu-duration.md', text: '# Flu vaccine protection\n\nProtection from the flu vaccine lasts about six months, so it wanes by the end of the flu season.' },
      { id: 'hepb-doses', source: 'hepb.md', text: '乙肝疫苗一共需要接种三针，分别在第0个月、第1个月和第6个月接种。' },
    ],
  });
}

async function askOnPage(page, question, nth) {
  await page.fill('#question', question);
  await page.click('#send');
  const done = page.locator('.msg.bot.done').nth(nth);
  await done.waitFor({ timeout: 15000 });
  return done;
}

test('ask, open a citation, follow up, give feedback', async () => {
  await setUp();
  const b = await openBrowser();
  try {
    await b.page.goto(baseUrl);
    await b.page.waitForSelector(`#kb option[value="${kb}"]`, { state: 'attached' });
    await b.page.selectOption('#kb', kb);
    await b.page.waitForSelector('.msg.greeting');
    const first = await askOnPage(b.page, 'How many doses of the measles vaccine are given?', 0);
    assert.match(await first.textContent(), /two doses/);
    assert.ok(await first.locator('button.cite').count() > 0, 'answer has citation markers');
    assert.match(await first.locator('ol.sources').textContent(), /measles-doses\.md/);
    await screenshot(b.page, 'qa-answer');

    await first.locator('button.cite').first().click();
    await b.page.waitForSelector('#passage:not([hidden])');
    assert.match(await b.page.textContent('#passage-title'), /measles-doses\.md/);
    assert.match(await b.page.textContent('#passage-text'), /12 months/);
    assert.ok(await b.page.locator('#passage-text mark').count() > 0, 'cited sentences highlighted');
    await screenshot(b.page, 'qa-citation');
    await b.page.keyboard.press('Escape');
    await b.page.waitForSelector('#passage', { state: 'hidden' });

    const second = await askOnPage(b.page, 'and how long does it last?', 1);
    assert.match(await second.textContent(), /lasts for life/);
    assert.match(await second.locator('ol.sources li').first().textContent(), /measles-duration\.md/);
    await second.locator('button.fb-up').click();
    await b.page.waitForSelector('.feedback[data-sent="up"]');
    await screenshot(b.page, 'qa-follow-up');
    assert.deepEqual(b.errors, [], 'no script errors');
  } finally {
    await b.close();
  }
});

test('upload a document, then get an answer from it', async () => {
  const b = await openBrowser();
  try {
    await b.page.goto(baseUrl);
    await b.page.click('#upload-panel summary');
    await b.page.fill('#upload-kb', 'e2e-upload');
    await b.page.setInputFiles('#files', {
      name: 'observatory.md', mimeType: 'text/markdown',
      buffer: Buffer.from('# Observatory hours\n\nThe Zephyr observatory opens at 7 pm on Tuesdays and Fridays. Entry is free for students.\n'),
    });
    await b.page.click('#upload-go');
    await b.page.waitForSelector('#upload-status.ok', { timeout: 20000 });
    assert.equal(await b.page.getAttribute('#upload-progress', 'value'), '100');
    await b.page.waitForFunction(() => document.getElementById('kb').value === 'e2e-upload');
    await screenshot(b.page, 'qa-upload');
    const a = await askOnPage(b.page, 'When does the Zephyr observatory open?', 0);
    assert.match(await a.textContent(), /7 pm on Tuesdays/);
    assert.match(await a.locator('ol.sources').textContent(), /observatory\.md/);
    await screenshot(b.page, 'qa-upload-answer');
  } finally {
    await b.close();
  }
});

test('Chinese on a phone-sized screen', async () => {
  const b = await openBrowser({ width: 390, height: 844 });
  try {
    await b.page.goto(baseUrl);
    await b.page.waitForSelector(`#kb option[value="${kb}"]`, { state: 'attached' });
    await b.page.selectOption('#kb', kb);
    await b.page.click('#lang');
    assert.equal(await b.page.textContent('#send'), '提问');
    const a = await askOnPage(b.page, '乙肝疫苗需要打几针？', 0);
    assert.match(await a.textContent(), /三针/);
    const overflow = await b.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'no horizontal scrolling');
    await screenshot(b.page, 'qa-phone-zh');
  } finally {
    await b.close();
  }
});
