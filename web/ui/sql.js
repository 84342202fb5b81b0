// SQL playground: pick a database, ask, see the SQL, the rows, a chart when the
// result has one label column and one numeric column, and the schema links.
(function () {
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

  async function api(method, path, body) {
    const r = await fetch(path, { method, headers: { 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status));
    return j;
  }

  async function loadDatabases() {
    const j = await api('GET', '/v1/sql/databases');
    const sel = $('db');
    sel.innerHTML = j.databases.map((d) => `<option value="${esc(d.name)}">${esc(d.name)} (${d.tables} tables)</option>`).join('');
    if (!j.databases.length) $('status').textContent = 'No database registered yet: an admin can POST /v1/sql/databases {name, path}.';
    else loadSchema();
  }

  async function loadSchema() {
    try {
      const s = await api('GET', '/v1/sql/databases/' + encodeURIComponent($('db').value) + '/schema');
      $('schema').innerHTML = s.tables.map((t) => `<p><strong>${esc(t.name)}</strong> (${t.rows} rows): ` +
        t.columns.map((c) => esc(c.name) + (c.primary_key ? '*' : '')).join(', ') + '</p>').join('');
    } catch (e) { $('schema').textContent = e.message; }
  }

  function renderTable(cols, rows) {
    const head = '<tr>' + cols.map((c) => `<th>${esc(c)}</th>`).join('') + '</tr>';
    const body = rows.map((r) => '<tr>' + r.map((v) => `<td>${v === null ? '<i>NULL</i>' : esc(v)}</td>`).join('') + '</tr>').join('');
    $('rows').innerHTML = head + body;
  }

  // A bar chart (or a line when labels look like years/dates) for label + number results.
  function renderChart(cols, rows) {
    const box = $('chart');
    box.innerHTML = '';
    if (cols.length !== 2 || rows.length < 2 || rows.length > 60) return;
    let li = typeof rows[0][1] === 'number' ? 0 : typeof rows[0][0] === 'number' ? 1 : -1;
    if (li < 0 || !rows.every((r) => typeof r[1 - li] === 'number')) return;
    const vi = 1 - li;
    const W = 600, H = 240, P = 30;
    const max = Math.max(...rows.map((r) => r[vi]), 0), min = Math.min(...rows.map((r) => r[vi]), 0);
    const span = max - min || 1;
    const y = (v) => H - P - ((v - min) / span) * (H - 2 * P);
    const step = (W - 2 * P) / rows.length;
    const isLine = rows.every((r) => /^\d{4}(-\d\d)?/.test(String(r[li])));
    let svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="chart of ${esc(cols[vi])} by ${esc(cols[li])}">`;
    if (isLine) {
      const pts = rows.map((r, i) => `${P + step * (i + 0.5)},${y(r[vi])}`).join(' ');
      svg += `<polyline class="line" points="${pts}"/>`;
    } else {
      rows.forEach((r, i) => {
        const top = Math.min(y(r[vi]), y(0)), h = Math.abs(y(r[vi]) - y(0));
        svg += `<rect class="bar" x="${P + step * i + 2}" y="${top}" width="${Math.max(step - 4, 1)}" height="${h}"><title>${esc(r[li])}: ${r[vi]}</title></rect>`;
      });
    }
    rows.forEach((r, i) => {
      if (rows.length <= 20 || i % Math.ceil(rows.length / 20) === 0)
        svg += `<text x="${P + step * (i + 0.5)}" y="${H - 8}" text-anchor="middle">${esc(String(r[li]).slice(0, 10))}</text>`;
    });
    svg += `<text x="4" y="12">${esc(max)}</text><text x="4" y="${H - P}">${esc(min)}</text></svg>`;
    box.innerHTML = svg;
  }

  function show(j) {
    $('answer').hidden = false;
    $('sql').value = j.sql || '';
    $('explanation').textContent = j.explanation;
    $('explanation').className = j.declined ? 'declined' : '';
    renderTable(j.columns || [], j.rows || []);
    renderChart(j.columns || [], j.rows || []);
    $('links').innerHTML = (j.links || []).map((l) => `<li>“${esc(l.phrase)}” → ${esc(l.kind)} ${esc(l.table)}${l.column ? '.' + esc(l.column) : ''}` +
      `${l.value ? ' = ' + esc(l.value) : ''} (${Number(l.score).toFixed(2)})</li>`).join('');
    const by = { model: 'SQL written by the model', rules: 'SQL written by the rule-based parser', user: 'your SQL' }[j.generator] || '';
    const ran = j.executed ? `${j.rows.length} row(s)${j.truncated ? ' (cut at the row limit)' : ''} in ${Math.round(j.elapsed_ms)} ms` : '';
    $('status').textContent = [ran, by].filter(Boolean).join(' · ');
  }

  async function run(body) {
    $('status').textContent = 'Working…';
    try { show(await api('POST', '/v1/sql/query', body)); } catch (e) { $('status').textContent = 'Error: ' + e.message; }
  }

  $('ask').addEventListener('submit', (ev) => {
    ev.preventDefault();
    run({ db: $('db').value, question: $('question').value, execute: $('execute').checked });
  });
  $('rerun').addEventListener('click', () => run({ db: $('db').value, sql: $('sql').value, execute: true }));
  $('db').addEventListener('change', loadSchema);
  loadDatabases().catch((e) => { $('status').textContent = 'Error: ' + e.message; });
})();
