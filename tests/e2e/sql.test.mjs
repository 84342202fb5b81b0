// The SQL playground: register a Spider database through the admin API, then ask
// on the page and see the SQL, the result table, a bar chart for a label + number
// result, and which generator wrote the SQL. Screenshot: sql.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseUrl, openBrowser, screenshot } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = process.env.MOERAG_SHARED_DATA || path.resolve(here, '../../../shared/data');
const dbFile = path.join(shared, 'spider-dev/database/concert_singer/concert_singer.sqlite');

test('sql playground: question -> SQL, rows, chart, generator', { skip: !fs.existsSync(dbFile) && `missing ${dbFile}` }, async () => {
  const reg = await fetch(new URL('/v1/sql/databases', baseUrl), {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'concerts', path: dbFile }),
  });
  assert.equal(reg.status, 201, await reg.text());
  const b = await openBrowser();
  try {
    const resp = await b.page.goto(new URL('/sql.html', baseUrl).href);
    assert.equal(resp.status(), 200);
    await b.page.waitForFunction(() => [...document.querySelectorAll('#db option')].some((o) => o.value === 'concerts'));
    await b.page.selectOption('#db', 'concerts');
    await b.page.fill('#question', 'How many singers are there for each country?');
    await b.page.click('#go');
    await b.page.waitForFunction(() => !document.getElementById('answer').hidden && document.getElementById('sql').value.length > 0,
      null, { timeout: 20000 });
    const sql = await b.page.inputValue('#sql');
    assert.match(sql, /^SELECT/i);
    assert.match(sql, /singer/i);
    assert.match(sql, /GROUP BY/i);
    const rows = await b.page.$$eval('#rows tr', (trs) => trs.length);
    assert.ok(rows >= 2, 'a header and at least one row');
    assert.ok(await b.page.$('#chart svg'), 'a label + count result is charted');
    assert.match(await b.page.textContent('#status'), /row\(s\).*rule-based parser/);
    const file = await screenshot(b.page, 'sql');
    assert.ok(fs.statSync(file).size > 1000, 'screenshot written');
    // A write attempt is refused with a plain-words error, not run.
    await b.page.fill('#sql', 'DROP TABLE singer');
    await b.page.click('#rerun');
    await b.page.waitForFunction(() => /only|read|SELECT|not allowed/i.test(document.getElementById('explanation').textContent +
      document.getElementById('status').textContent), null, { timeout: 10000 });
    assert.deepEqual(b.errors, [], 'no script errors');
  } finally {
    await b.close();
  }
});
