// moerag UI: shows server health and version; later pages build on this file.
(async function () {
  const health = document.getElementById('health');
  try {
    const r = await fetch('/healthz');
    health.textContent = r.ok ? 'healthy' : 'unhealthy (' + r.status + ')';
    health.className = r.ok ? 'ok' : 'bad';
  } catch (e) {
    health.textContent = 'unreachable';
    health.className = 'bad';
  }
  try {
    const v = await (await fetch('/v1/version')).json();
    document.getElementById('version').textContent = 'v' + v.version;
  } catch (e) { /* version is cosmetic */ }
})();
