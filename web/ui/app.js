// moerag Q&A page: pick a knowledge base, ask, watch the answer stream in (SSE over
// fetch), open a citation to read its passage, continue the conversation, rate
// answers, upload documents with progress. Plain JS, English and Chinese.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const T = {
    en: {
      nav_qa: 'Q&A', nav_sql: 'SQL', kb: 'Knowledge base', new_chat: 'New conversation', upload_title: 'Add documents',
      upload_kb: 'To knowledge base (new or existing)', upload_files: 'Files (.txt .md .html .pdf .json .csv)',
      upload_go: 'Upload', api_key: 'API key (when the server requires one)', widget_hint: 'Put this chat on any site:',
      question: 'Your question', placeholder: 'Ask a question…', send: 'Ask', sources: 'Sources', helpful: 'Helpful',
      not_helpful: 'Not helpful', thanks: 'Thanks for the feedback.', escalate: 'A person from support can take over this question.',
      no_kbs: 'No knowledge base yet: add documents below to create one.', docs: 'documents', page: 'page',
      uploading: 'Uploading…', indexing: 'Indexing…', uploaded: 'Added {n} document(s) to {kb}.', blocked: 'The safety filter blocked this ({c}).',
      error: 'Error: ', lang: '中文', healthy: 'healthy', unhealthy: 'unhealthy', unreachable: 'unreachable', you: 'You', bot: 'Assistant',
    },
    zh: {
      nav_qa: '问答', nav_sql: 'SQL', kb: '知识库', new_chat: '新对话', upload_title: '添加文档',
      upload_kb: '目标知识库（新建或已有）', upload_files: '文件（.txt .md .html .pdf .json .csv）',
      upload_go: '上传', api_key: 'API 密钥（服务器需要时填写）', widget_hint: '把这个聊天放到任意网站：',
      question: '你的问题', placeholder: '请输入问题…', send: '提问', sources: '来源', helpful: '有帮助',
      not_helpful: '没帮助', thanks: '感谢反馈。', escalate: '可以由人工客服接手这个问题。',
      no_kbs: '还没有知识库：在下方添加文档即可创建。', docs: '篇文档', page: '第',
      uploading: '上传中…', indexing: '建立索引中…', uploaded: '已向 {kb} 添加 {n} 篇文档。', blocked: '安全过滤器拦截了此内容（{c}）。',
      error: '错误：', lang: 'English', healthy: '正常', unhealthy: '异常', unreachable: '无法连接', you: '你', bot: '助手',
    },
  };
  let lang = localStorage.getItem('moerag.lang') || ((navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en');
  const t = (k, vars) => (T[lang][k] || T.en[k] || k).replace(/\{(\w+)\}/g, (_, v) => (vars && v in vars ? vars[v] : ''));
  let sessionId = '';
  let kbs = [];

  function applyLang() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    $('lang').textContent = t('lang');
  }

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const key = $('api-key').value || localStorage.getItem('moerag.key') || '';
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }
  async function api(path, opts) {
    const o = Object.assign({}, opts || {});
    o.headers = headers(Object.assign(o.body ? { 'Content-Type': 'application/json' } : {}, o.headers || {}));
    const r = await fetch(path, o);
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((body.error && body.error.message) || ('HTTP ' + r.status));
    return body;
  }
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  async function health() {
    const el = $('health');
    try {
      const r = await fetch('/healthz');
      el.textContent = r.ok ? t('healthy') : t('unhealthy') + ' (' + r.status + ')';
      el.className = r.ok ? 'ok' : 'bad';
    } catch (e) { el.textContent = t('unreachable'); el.className = 'bad'; }
    try { $('version').textContent = 'v' + (await (await fetch('/v1/version')).json()).version; } catch (e) { /* cosmetic */ }
  }

  async function loadKbs(select) {
    try { kbs = (await api('/v1/kbs')).kbs || []; } catch (e) { kbs = []; }
    const sel = $('kb');
    const want = select || sel.value || localStorage.getItem('moerag.kb') || '';
    sel.innerHTML = kbs.map((k) => '<option value="' + esc(k.name) + '">' + esc(k.name) + '</option>').join('');
    if (kbs.some((k) => k.name === want)) sel.value = want;
    else if (kbs.some((k) => k.name === 'demo')) sel.value = 'demo';
    kbChanged();
  }

  async function kbChanged() {
    const kb = $('kb').value;
    const info = kbs.find((k) => k.name === kb);
    $('kb-info').textContent = info ? (info.documents ?? info.n_documents ?? 0) + ' ' + t('docs') + (info.description ? ' · ' + info.description : '') : t('no_kbs');
    if (kb) { localStorage.setItem('moerag.kb', kb); $('upload-kb').value = $('upload-kb').value || kb; }
    $('widget-snippet').textContent = '<script src="' + location.origin + '/widget.js" data-kb="' + (kb || 'KB') + '"></script>';
    newConversation();
  }

  async function newConversation() {
    sessionId = '';
    $('messages').innerHTML = '';
    const kb = $('kb').value;
    if (!kb) return;
    try {
      const p = await api('/v1/chat/profiles/' + encodeURIComponent(kb));
      addMessage('bot greeting', t('bot')).body.textContent = p.greeting;
    } catch (e) { /* no greeting */ }
  }

  function addMessage(cls, who) {
    const el = document.createElement('div');
    el.className = 'msg ' + cls;
    el.innerHTML = '<span class="who">' + esc(who) + '</span><div class="body"></div>';
    $('messages').appendChild(el);
    el.scrollIntoView({ block: 'end' });
    return { el, body: el.querySelector('.body') };
  }

  // Answer text with [n] markers turned into buttons that open the cited passage.
  function renderAnswer(msg, r) {
    const byN = {};
    (r.citations || []).forEach((c) => { byN[c.n] = c; });
    msg.body.innerHTML = esc(r.answer).replace(/\[(\d+)\]/g, (m, n) => (byN[n]
      ? '<button type="button" class="cite" data-n="' + n + '" aria-label="source ' + n + '">' + n + '</button>' : ''))
      .replace(/\n/g, '<br>');
    msg.body.querySelectorAll('button.cite').forEach((b) => b.addEventListener('click', () => showPassage(byN[b.dataset.n])));
    if (r.citations && r.citations.length) {
      const list = document.createElement('ol');
      list.className = 'sources';
      list.setAttribute('aria-label', t('sources'));
      r.citations.forEach((c) => {
        const li = document.createElement('li');
        li.value = c.n;
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'source link';
        b.textContent = c.source + (c.heading ? ' › ' + c.heading : '') + (c.page ? ' · ' + t('page') + ' ' + c.page : '');
        b.addEventListener('click', () => showPassage(c));
        li.appendChild(b);
        list.appendChild(li);
      });
      msg.el.appendChild(list);
    }
    if (r.escalate) {
      const p = document.createElement('p');
      p.className = 'escalate small';
      p.textContent = t('escalate');
      msg.el.appendChild(p);
    }
    if (r.message_id) msg.el.appendChild(feedbackBar(r.message_id));
  }

  function feedbackBar(id) {
    const bar = document.createElement('div');
    bar.className = 'feedback';
    [['up', '👍', t('helpful')], ['down', '👎', t('not_helpful')]].forEach(([rating, icon, label]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'fb fb-' + rating;
      b.textContent = icon;
      b.title = label;
      b.setAttribute('aria-label', label);
      b.addEventListener('click', async () => {
        try {
          await api('/v1/chat/feedback', { method: 'POST', body: JSON.stringify({ message_id: id, rating }) });
          bar.querySelectorAll('button').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
          bar.dataset.sent = rating;
          bar.querySelector('.fb-note').textContent = t('thanks');
        } catch (e) { bar.querySelector('.fb-note').textContent = t('error') + e.message; }
      });
      bar.appendChild(b);
    });
    const note = document.createElement('span');
    note.className = 'fb-note small muted';
    bar.appendChild(note);
    return bar;
  }

  function showPassage(c) {
    if (!c) return;
    $('passage-title').textContent = '[' + c.n + '] ' + c.source;
    $('passage-meta').textContent = [c.heading, c.page ? t('page') + ' ' + c.page : '', c.document_id].filter(Boolean).join(' · ');
    let html = esc(c.passage || c.snippet);
    const snip = esc(c.snippet || '');
    if (snip && html.includes(snip)) html = html.replace(snip, '<mark>' + snip + '</mark>');
    $('passage-text').innerHTML = html.replace(/\n/g, '<br>');
    $('passage').hidden = false;
    $('passage-close').focus();
  }

  // POST /v1/chat with stream:true; calls onEvent(name, data) per server-sent event.
  async function streamChat(body, onEvent) {
    const r = await fetch('/v1/chat', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
    if (!r.ok || !r.body) {
      const j = await r.json().catch(() => ({}));
      onEvent('error', j.error ? j : { error: { message: 'HTTP ' + r.status } });
      return;
    }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let name = 'message', data = '';
        block.split('\n').forEach((line) => {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        });
        try { onEvent(name, JSON.parse(data)); } catch (e) { /* ignore a malformed event */ }
      }
    }
  }

  async function ask(ev) {
    ev.preventDefault();
    const q = $('question').value.trim();
    const kb = $('kb').value;
    if (!q || !kb) return;
    $('question').value = '';
    $('send').disabled = true;
    addMessage('user', t('you')).body.textContent = q;
    const msg = addMessage('bot streaming', t('bot'));
    let text = '';
    try {
      await streamChat({ kb, session_id: sessionId || undefined, message: q, stream: true }, (name, data) => {
        if (name === 'token') { text += data.text; msg.body.textContent = text; msg.el.scrollIntoView({ block: 'end' }); }
        else if (name === 'done') { sessionId = data.session_id; msg.el.classList.remove('streaming'); msg.el.classList.add('done'); renderAnswer(msg, data); }
        else if (name === 'error') {
          msg.el.classList.remove('streaming');
          msg.el.classList.add('error');
          const e = data.error || {};
          msg.body.textContent = e.code === 'blocked' ? t('blocked', { c: (e.categories || []).join(', ') }) : t('error') + (e.message || '');
        }
      });
    } catch (e) {
      msg.el.classList.add('error');
      msg.body.textContent = t('error') + e.message;
    }
    $('send').disabled = false;
    $('question').focus();
  }

  async function ensureKb(kb) {
    const r = await fetch('/v1/kbs', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify({ name: kb }) });
    if (!r.ok && r.status !== 409) {
      const j = await r.json().catch(() => ({}));
      throw new Error((j.error && j.error.message) || 'HTTP ' + r.status);
    }
  }

  async function upload(ev) {
    ev.preventDefault();
    const kb = $('upload-kb').value.trim();
    const files = $('files').files;
    if (!kb || !files.length) return;
    const status = $('upload-status');
    const bar = $('upload-progress');
    $('upload-go').disabled = true;
    try {
      await ensureKb(kb);
      const form = new FormData();
      Array.from(files).forEach((f) => form.append('files', f, f.name));
      bar.hidden = false;
      bar.value = 0;
      status.textContent = t('uploading');
      const report = await new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/v1/kbs/' + encodeURIComponent(kb) + '/documents');
        const h = headers();
        Object.keys(h).forEach((k) => xhr.setRequestHeader(k, h[k]));
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
          if (e.loaded === e.total) status.textContent = t('indexing');
        };
        xhr.onload = () => {
          let j = {};
          try { j = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
          if (xhr.status >= 200 && xhr.status < 300) resolve(j);
          else reject(new Error((j.error && j.error.message) || 'HTTP ' + xhr.status));
        };
        xhr.onerror = () => reject(new Error('network error'));
        xhr.send(form);
      });
      bar.value = 100;
      status.textContent = t('uploaded', { n: (report.n_added || 0) + (report.n_updated || 0), kb });
      status.className = 'small ok';
      $('files').value = '';
      await loadKbs(kb);
    } catch (e) {
      status.textContent = t('error') + e.message;
      status.className = 'small bad';
    }
    $('upload-go').disabled = false;
  }

  $('lang').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('moerag.lang', lang);
    applyLang();
    health();
  });
  $('api-key').value = localStorage.getItem('moerag.key') || '';
  $('api-key').addEventListener('change', () => { localStorage.setItem('moerag.key', $('api-key').value); loadKbs(); });
  $('kb').addEventListener('change', kbChanged);
  $('new-chat').addEventListener('click', newConversation);
  $('ask').addEventListener('submit', ask);
  $('question').addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('ask').requestSubmit(); } });
  $('upload').addEventListener('submit', upload);
  $('passage-close').addEventListener('click', () => { $('passage').hidden = true; });
  $('passage').addEventListener('click', (e) => { if (e.target === $('passage')) $('passage').hidden = true; });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') $('passage').hidden = true; });
  applyLang();
  health();
  loadKbs();
})();
