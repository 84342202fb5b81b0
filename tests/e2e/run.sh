#!/usr/bin/env bash
# Browser tests: starts a real `moerag serve` on a free port with a fresh data
# folder, runs every tests/e2e/*.test.mjs with node's test runner against it
# (MOERAG_URL), then stops the server. Exit 77 (skipped) when Chromium or
# playwright-core is missing: `scripts/install-deps.sh --test` installs both.
set -euo pipefail
bin=${1:?usage: run.sh PATH/TO/moerag}
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -x /usr/bin/chromium ]]; then echo "e2e skipped: /usr/bin/chromium missing (run scripts/install-deps.sh --test)"; exit 77; fi
if [[ ! -d $here/node_modules/playwright-core ]]; then echo "e2e skipped: playwright-core missing (run scripts/install-deps.sh --test)"; exit 77; fi

work=$(mktemp -d)
# A second origin for the widget test (widget.test.mjs serves its host page there).
widget_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export MOERAG_WIDGET_ORIGIN="http://localhost:$widget_port"
"$bin" serve --port 0 --data-dir "$work/data" --set "cors.allowed_origins=$MOERAG_WIDGET_ORIGIN" >"$work/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
url=""
for _ in $(seq 1 200); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/server.log" | head -1 || true)
  [[ -n $url ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited early:"; cat "$work/server.log"; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "server did not start:"; cat "$work/server.log"; exit 1; }

export MOERAG_URL=$url
export MOERAG_BIN=$bin
export MOERAG_E2E_SCREENSHOTS=${MOERAG_E2E_SCREENSHOTS:-$here/screenshots}
mkdir -p "$MOERAG_E2E_SCREENSHOTS"
cd "$here"
node --test --test-concurrency=1 ./*.test.mjs
