// The embeddable widget on a page of another origin (a tiny node server on the port
// run.sh allowed in cors.allowed_origins): the button is reachable by keyboard,
// opens the panel, a question streams an answer with sources, the host page's
// hostile CSS does not leak in, Escape closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { baseUrl, openBrowser, screenshot } from './lib.mjs';

const origin = process.env.MOERAG_WIDGET_ORIGIN;
const kb = 'e2e-shop';

function hostPage() {
  const src = new URL('/widget.js', baseUrl).href;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>* { color: red !important; font-size: 30px !important; } button { display: none !important; }</style></head>
<body><h1>Bike shop</h1><p>Our host page with its own styles.</p>
<script src="${src}" data-kb="${kb}" data-title="Bike shop help"></script></body></html>`;
}

test('widget on another origin opens, asks and streams an answer', { skip: !origin && 'run through run.sh' }, async () => {
  for (const [path, body] of [['/v1/kbs', { name: kb }], [`/v1/kbs/${kb}/documents`, { documents: [
    { id: 'returns', source: 'returns.md', text: 'You can return a bike within 30 days of purchase for a full refund.' },
    { id: 'repairs', source: 'repairs.md', text: 'Repairs in our workshop take two working days; tyre punctures are fixed the same day.' },
  ] }]]) {
    const r = await fetch(new URL(path, baseUrl), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(r.status < 300 || r.status === 409, `${path}: ${r.status}`);
  }
  const port = Number(new URL(origin).port);
  const server = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(hostPage()); });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  const b = await openBrowser();
  try {
    await b.page.goto(origin + '/');
    const button = b.page.locator('#moerag-widget .btn');
    await button.waitFor();
    assert.equal(await button.evaluate((el) => getComputedStyle(el).display), 'block', 'host CSS does not hide the button');
    await b.page.keyboard.press('Tab');
    assert.equal(await b.page.evaluate(() => document.getElementById('moerag-widget').shadowRoot.activeElement?.className), 'btn');
    await b.page.keyboard.press('Enter');
    const panel = b.page.locator('#moerag-widget .panel');
    await panel.waitFor({ state: 'visible' });
    await b.page.locator('#moerag-widget .greeting').waitFor();
    await b.page.keyboard.type('How long do repairs take?');
    await b.page.keyboard.press('Enter');
    const answer = b.page.locator('#moerag-widget .m.b.done');
    await answer.waitFor({ timeout: 15000 });
    assert.match(await answer.textContent(), /two working days/);
    assert.match(await answer.locator('.src').textContent(), /repairs\.md/);
    const size = await answer.evaluate((el) => getComputedStyle(el).fontSize);
    assert.notEqual(size, '30px', 'host font size does not leak into the widget');
    await screenshot(b.page, 'widget-answer');
    await b.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.deepEqual(b.errors, [], 'no script errors');
  } finally {
    await b.close();
    server.close();
  }
});
