// The served home page renders, reports the server healthy, and shows the version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { baseUrl, openBrowser, screenshot } from './lib.mjs';

test('home page renders and shows health', async () => {
  const b = await openBrowser();
  try {
    const resp = await b.page.goto(baseUrl);
    assert.equal(resp.status(), 200);
    assert.equal(await b.page.title(), 'moerag');
    await b.page.waitForSelector('#health.ok', { timeout: 10000 });
    assert.equal(await b.page.textContent('#health'), 'healthy');
    await b.page.waitForFunction(() => document.getElementById('version').textContent.startsWith('v'));
    const file = await screenshot(b.page, 'home');
    assert.ok(fs.statSync(file).size > 1000, 'screenshot written');
    assert.deepEqual(b.errors, [], 'no script errors');
  } finally {
    await b.close();
  }
});

test('home page fits a phone-sized screen', async () => {
  const b = await openBrowser({ width: 390, height: 844 });
  try {
    await b.page.goto(baseUrl);
    await b.page.waitForSelector('#health.ok');
    const overflow = await b.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'no horizontal scrolling');
    await screenshot(b.page, 'home-phone');
  } finally {
    await b.close();
  }
});
