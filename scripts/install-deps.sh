#!/usr/bin/env bash
# Installs what moerag needs from Debian 12 packages, only when something is
# missing (idempotent; `apt-get update` runs at most once). With --test it also
# installs what the tests need: Chromium, Node.js/npm and playwright-core (npm).
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake ninja-build pkg-config ccache git
  libfaiss-dev libopenblas-dev libsqlite3-dev libcpp-httplib-dev nlohmann-json3-dev
  libsentencepiece-dev libre2-dev libspdlog-dev libfmt-dev libcli11-dev libssl-dev
  libicu-dev libgumbo-dev libpoppler-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev)
test_pkgs=(chromium libclang-rt-14-dev)  # libFuzzer for the clang-only GGUF fuzz target

want=("${build_pkgs[@]}")
with_tests=0
[[ "${1:-}" == "--test" ]] && { with_tests=1; want+=("${test_pkgs[@]}"); }
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { [[ $with_tests == 1 ]] && want+=(nodejs npm); }

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all Debian packages present"
fi

if [[ $with_tests == 1 ]]; then
  # playwright-core drives the system Chromium; it never downloads a browser.
  if [[ ! -d tests/e2e/node_modules/playwright-core ]]; then
    echo "install-deps: npm ci in tests/e2e"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
