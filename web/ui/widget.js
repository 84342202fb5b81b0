// moerag chat widget: <script src="https://HOST/widget.js" data-kb="faq" data-key="KEY"></script>
// adds a floating chat button that opens a small chat panel talking to HOST's
// /v1/chat (streamed). Everything lives in a shadow root, so the host page's CSS
// and this widget's CSS never meet. Keyboard: Tab to the button, Enter opens,
// Escape closes. Optional: data-title, data-lang="zh".
(function () {
  'use strict';
  const script = document.currentScript;
  if (!script || window.__moeragWidget) return;
  window.__moeragWidget = true;
  const host = new URL(script.src, location.href).origin;
  const kb = script.dataset.kb || 'demo';
  const key = script.dataset.key || '';
  const zh = (script.dataset.lang || navigator.language || '').toLowerCase().startsWith('zh');
  const L = zh
    ? { open: '打开聊天', close: '关闭', title: '在线客服', send: '发送', placeholder: '请输入问题…', sources: '来源', escalate: '已为您转接人工客服，请稍候。', error: '出错了：' }
    : { open: 'Open chat', close: 'Close chat', title: 'Support chat', send: 'Send', placeholder: 'Type your question…', sources: 'Sources', escalate: 'A person from our team will follow up on this.', error: 'Something went wrong: ' };
  const storeKey = 'moerag.widget.' + kb;

  const css = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Noto Sans CJK SC", sans-serif; }
.btn { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: none; background: #0b6bcb; color: #fff; font-size: 26px; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483646; }
.btn:focus-visible, button:focus-visible, textarea:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.panel { position: fixed; right: 20px; bottom: 88px; width: 360px; max-width: calc(100vw - 24px); height: 500px; max-height: calc(100vh - 110px); background: #fff; color: #1d232a; border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); display: flex; flex-direction: column; overflow: hidden; z-index: 2147483647; font-size: 15px; line-height: 1.45; }
.panel[hidden] { display: none; }
.head { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px; background: #0b6bcb; color: #fff; font-weight: 600; }
.head button { background: none; border: none; color: #fff; font-size: 22px; cursor: pointer; line-height: 1; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f6f8fa; }
.m { max-width: 88%; padding: 7px 10px; border-radius: 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
.u { align-self: flex-end; background: #0b6bcb; color: #fff; }
.b { align-self: flex-start; background: #fff; border: 1px solid #e1e4e8; }
.b.err { border-color: #cf222e; color: #cf222e; }
.src { margin-top: 6px; font-size: 12px; color: #57606a; }
.src ol { margin: 2px 0 0; padding-left: 18px; }
.esc { margin-top: 6px; font-size: 12px; color: #9a6700; }
form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #e1e4e8; background: #fff; }
textarea { flex: 1; resize: none; height: 40px; padding: 8px; border: 1px solid #c9d1d9; border-radius: 8px; font-size: 14px; color: #1d232a; background: #fff; }
.send { border: none; border-radius: 8px; background: #0b6bcb; color: #fff; padding: 0 14px; cursor: pointer; font-size: 14px; }
.send:disabled { opacity: .6; }
@media (max-width: 480px) { .panel { right: 8px; left: 8px; width: auto; bottom: 80px; } }
`;

  const root = document.createElement('div');
  root.id = 'moerag-widget';
  document.body.appendChild(root);
  const shadow = root.attachShadow({ mode: 'open' });
  shadow.innerHTML = '<style>' + css + '</style>' +
    '<button class="btn" type="button" aria-haspopup="dialog" aria-expanded="false" aria-label="' + L.open + '">💬</button>' +
    '<div class="panel" role="dialog" aria-label="' + L.title + '" hidden>' +
    '<div class="head"><span>' + (script.dataset.title || L.title) + '</span><button type="button" class="x" aria-label="' + L.close + '">×</button></div>' +
    '<div class="log" aria-live="polite"></div>' +
    '<form><textarea aria-label="' + L.placeholder + '" placeholder="' + L.placeholder + '"></textarea><button class="send" type="submit">' + L.send + '</button></form>' +
    '</div>';
  const btn = shadow.querySelector('.btn');
  const panel = shadow.querySelector('.panel');
  const log = shadow.querySelector('.log');
  const input = shadow.querySelector('textarea');
  const send = shadow.querySelector('.send');
  let greeted = false;

  function headers() {
    const h = { 'Content-Type': 'application/json' };
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }
  function bubble(cls, text) {
    const d = document.createElement('div');
    d.className = 'm ' + cls;
    d.textContent = text;
    log.appendChild(d);
    log.scrollTop = log.scrollHeight;
    return d;
  }
  async function greet() {
    if (greeted) return;
    greeted = true;
    try {
      const r = await fetch(host + '/v1/chat/profiles/' + encodeURIComponent(kb), { headers: headers() });
      if (r.ok) bubble('b greeting', (await r.json()).greeting);
    } catch (e) { /* greeting is optional */ }
  }
  function setOpen(open) {
    panel.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    btn.setAttribute('aria-label', open ? L.close : L.open);
    if (open) { greet(); input.focus(); } else { btn.focus(); }
  }
  function finish(d, r) {
    d.textContent = r.answer.replace(/ ?\[\d+\]/g, '');
    if (r.citations && r.citations.length) {
      const s = document.createElement('div');
      s.className = 'src';
      s.textContent = L.sources + ':';
      const ol = document.createElement('ol');
      r.citations.forEach((c) => {
        const li = document.createElement('li');
        li.textContent = c.source + (c.heading ? ' › ' + c.heading : '') + (c.page ? ' p.' + c.page : '');
        li.title = c.snippet;
        ol.appendChild(li);
      });
      s.appendChild(ol);
      d.appendChild(s);
    }
    if (r.escalate) {
      const e = document.createElement('div');
      e.className = 'esc';
      e.textContent = L.escalate;
      d.appendChild(e);
    }
  }
  async function ask(q) {
    bubble('u', q);
    const d = bubble('b streaming', '…');
    send.disabled = true;
    let text = '';
    try {
      const body = { kb, message: q, stream: true };
      const sid = sessionStorage.getItem(storeKey);
      if (sid) body.session_id = sid;
      const r = await fetch(host + '/v1/chat', { method: 'POST', headers: headers(), body: JSON.stringify(body) });
      if (!r.ok || !r.body) {
        const j = await r.json().catch(() => ({}));
        if (r.status === 404 && sid) sessionStorage.removeItem(storeKey);
        throw new Error((j.error && j.error.message) || 'HTTP ' + r.status);
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
          const ev = (block.match(/^event: (.*)$/m) || [])[1];
          const data = JSON.parse((block.match(/^data: (.*)$/m) || [, '{}'])[1]);
          if (ev === 'token') { text += data.text; d.textContent = text; log.scrollTop = log.scrollHeight; }
          else if (ev === 'done') { sessionStorage.setItem(storeKey, data.session_id); d.classList.remove('streaming'); d.classList.add('done'); finish(d, data); }
          else if (ev === 'error') throw new Error((data.error && data.error.message) || 'error');
        }
      }
    } catch (e) {
      d.className = 'm b err';
      d.textContent = L.error + e.message;
    }
    send.disabled = false;
    log.scrollTop = log.scrollHeight;
    input.focus();
  }

  btn.addEventListener('click', () => setOpen(panel.hidden));
  shadow.querySelector('.x').addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') setOpen(false); });
  shadow.querySelector('form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q || send.disabled) return;
    input.value = '';
    ask(q);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); shadow.querySelector('form').requestSubmit(); }
  });
})();
