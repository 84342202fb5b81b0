// The recommendation playground: import the demo data through the page, train,
// show a user's recommendations with explanation paths and an item's similar items;
// also fits a phone-sized screen. Screenshots: recsys.png, recsys-phone.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { baseUrl, openBrowser, screenshot } from './lib.mjs';

test('recsys playground: demo data, training, recommendations, similar items', async () => {
  const b = await openBrowser();
  try {
    const resp = await b.page.goto(new URL('/recsys.html', baseUrl).href);
    assert.equal(resp.status(), 200);
    await b.page.click('#rs-demo');
    await b.page.waitForFunction(() => document.getElementById('rs-msg').textContent.startsWith('imported'), null, { timeout: 10000 });
    await b.page.click('#rs-train');
    await b.page.waitForFunction(() => /ready · model v\d+/.test(document.getElementById('rs-status').textContent), null, { timeout: 60000 });
    await b.page.fill('#rs-user', 'uc1');
    await b.page.fill('#rs-k', '5');
    await b.page.click('#rs-rec button[type=submit]');
    await b.page.waitForSelector('#rs-recs li .rs-why', { timeout: 10000 });
    const recs = await b.page.$$eval('#rs-recs li', (lis) => lis.map((li) => ({
      title: li.querySelector('.rs-title').textContent,
      paths: [...li.querySelectorAll('.rs-path')].map((p) => p.querySelectorAll('.rs-node').length),
    })));
    assert.equal(recs.length, 5);
    assert.ok(recs.filter((r) => r.title.startsWith('Night Heist')).length >= 4, 'a crime fan gets crime films');
    assert.ok(recs.every((r) => r.paths.length > 0 && r.paths.every((n) => n >= 2)), 'every item explained by a path');
    await b.page.click('#rs-recs li .rs-title');
    await b.page.waitForSelector('#rs-sims li .rs-title', { timeout: 10000 });
    const sims = await b.page.$$eval('#rs-sims li .rs-title', (els) => els.map((e) => e.textContent));
    assert.ok(sims.length >= 5);
    const file = await screenshot(b.page, 'recsys');
    assert.ok(fs.statSync(file).size > 1000, 'screenshot written');
    // An unknown user shows the server's message instead of failing silently.
    await b.page.fill('#rs-user', 'nobody-at-all');
    await b.page.click('#rs-rec button[type=submit]');
    await b.page.waitForFunction(() => document.getElementById('rs-msg').textContent.includes('unknown user'));
    assert.deepEqual(b.errors, [], 'no script errors');
  } finally {
    await b.close();
  }
});

test('recsys playground fits a phone-sized screen', async () => {
  const b = await openBrowser({ width: 390, height: 844 });
  try {
    await b.page.goto(new URL('/recsys.html', baseUrl).href);
    await b.page.waitForFunction(() => !document.getElementById('rs-status').textContent.startsWith('loading'));
    const overflow = await b.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'no horizontal scrolling');
    await screenshot(b.page, 'recsys-phone');
  } finally {
    await b.close();
  }
});
