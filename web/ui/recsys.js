// Recommendation playground: model status and training, a user's recommendations
// with their explanation paths, similar items, and a small demo data set imported
// through the same REST API (/v1/recsys/...).
(function () {
  const $ = (id) => document.getElementById(id);
  const keyInput = $('rs-key');
  keyInput.value = localStorage.getItem('moerag_key') || '';
  keyInput.addEventListener('change', () => localStorage.setItem('moerag_key', keyInput.value.trim()));

  async function api(method, path, body) {
    const headers = { 'Content-Type': 'application/json' };
    if (keyInput.value.trim()) headers.Authorization = 'Bearer ' + keyInput.value.trim();
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status));
    return j;
  }

  function message(text, bad) {
    $('rs-msg').textContent = text;
    $('rs-msg').className = 'small ' + (bad ? 'rs-error' : 'muted');
  }

  async function refreshStatus() {
    try {
      const s = await api('GET', '/v1/recsys/status');
      const model = s.model_version > 0 ? 'model v' + s.model_version + ' (' + s.trained_at + ', ' +
        s.train_seconds.toFixed(1) + ' s)' : 'no model yet';
      $('rs-status').textContent = s.users + ' users · ' + s.items + ' items · ' + s.interactions +
        ' interactions · ' + s.state + (s.state === 'training' ? ' (' + s.phase + ', ' +
        Math.round(100 * s.progress) + '%)' : '') + ' · ' + model;
      const w = $('rs-weights');
      w.textContent = '';
      for (const [name, x] of Object.entries(s.view_weights || {})) {
        const span = document.createElement('span');
        span.textContent = name + ' ' + (100 * x).toFixed(0) + '%';
        w.appendChild(span);
      }
      if (s.last_error) message('last training failed: ' + s.last_error, true);
      return s;
    } catch (e) {
      $('rs-status').textContent = 'status unavailable: ' + e.message;
      return null;
    }
  }

  async function train() {
    $('rs-train').disabled = true;
    try {
      await api('POST', '/v1/recsys/train', {});
      message('training…');
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const s = await refreshStatus();
        if (!s || s.state !== 'training') break;
      }
      message('training finished');
    } catch (e) {
      message(e.message, true);
    } finally {
      $('rs-train').disabled = false;
    }
  }

  // Two taste clusters: crime fans (uc*) and romance fans (ur*), 12 films each.
  function demoData() {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const items = [], interactions = [];
    for (let i = 0; i < 12; i++) {
      items.push({ id: 'c' + i, title: 'Night Heist ' + (i + 1), attributes: ['genre:Crime', i % 2 ? 'decade:1990s' : 'decade:2000s'] });
      items.push({ id: 'r' + i, title: 'Paris in Spring ' + (i + 1), attributes: ['genre:Romance', i % 3 ? 'decade:2000s' : 'decade:1990s'] });
    }
    for (let u = 0; u < 16; u++) {
      for (const g of ['c', 'r']) {
        const picked = new Set();
        while (picked.size < 6) picked.add(Math.floor(rand() * 12));
        let t = 1000;
        for (const i of picked) interactions.push({ user: 'u' + g + u, item: g + i, kind: 'view', time: t++ });
      }
    }
    return { items, interactions };
  }

  async function importDemo() {
    try {
      const r = await api('POST', '/v1/recsys/interactions', demoData());
      message('imported ' + r.items + ' items and ' + r.interactions + ' interactions; try user uc1');
      $('rs-user').value = $('rs-user').value || 'uc1';
      await refreshStatus();
    } catch (e) {
      message(e.message, true);
    }
  }

  function node(n) {
    const s = document.createElement('span');
    s.className = 'rs-node ' + n.type;
    s.title = n.type === 'U' ? 'user' : n.type === 'I' ? 'item' : 'attribute';
    s.textContent = n.label || n.id;
    return s;
  }

  function render(list, items) {
    list.textContent = '';
    if (!items.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'nothing to show';
      list.appendChild(li);
    }
    for (const it of items) {
      const li = document.createElement('li');
      const title = document.createElement('button');
      title.type = 'button';
      title.className = 'rs-title';
      title.textContent = it.title || it.item_id;
      title.title = 'show similar items';
      title.addEventListener('click', () => { $('rs-item').value = it.item_id; similar(); });
      const score = document.createElement('span');
      score.className = 'rs-score';
      score.textContent = it.item_id + ' · ' + it.score.toFixed(3);
      li.append(title, score);
      for (const e of it.explanations || []) {
        const why = document.createElement('div');
        why.className = 'rs-why';
        why.textContent = e.text;
        const path = document.createElement('div');
        path.className = 'rs-path';
        path.title = e.meta_path;
        e.path.forEach((n, k) => {
          if (k) { const a = document.createElement('span'); a.className = 'rs-arrow'; a.textContent = '→'; path.appendChild(a); }
          path.appendChild(node(n));
        });
        why.appendChild(path);
        li.appendChild(why);
      }
      list.appendChild(li);
    }
  }

  async function recommend(ev) {
    if (ev) ev.preventDefault();
    const q = new URLSearchParams({ k: $('rs-k').value, explain: $('rs-explain').checked, diversity: $('rs-div').value });
    if ($('rs-filter').value.trim()) q.set('filter', $('rs-filter').value.trim());
    try {
      const r = await api('GET', '/v1/recsys/users/' + encodeURIComponent($('rs-user').value.trim()) + '/recommendations?' + q);
      render($('rs-recs'), r.items);
      message('');
    } catch (e) {
      render($('rs-recs'), []);
      message(e.message, true);
    }
  }

  async function similar(ev) {
    if (ev) ev.preventDefault();
    try {
      const r = await api('GET', '/v1/recsys/items/' + encodeURIComponent($('rs-item').value.trim()) + '/similar?k=8&explain=true');
      render($('rs-sims'), r.items);
      message('');
    } catch (e) {
      render($('rs-sims'), []);
      message(e.message, true);
    }
  }

  $('rs-train').addEventListener('click', train);
  $('rs-demo').addEventListener('click', importDemo);
  $('rs-rec').addEventListener('submit', recommend);
  $('rs-sim').addEventListener('submit', similar);
  refreshStatus();
})();
