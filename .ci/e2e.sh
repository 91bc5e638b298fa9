#!/usr/bin/env bash
# End-to-end browser tests: the tests in e2e/tests drive the web UI with a headless Chromium
# (Debian's package, through playwright-core from npm), each test file against its own
# `pipewise demo` on a fresh SQLite database. Installs Chromium if it is missing.
#
# Usage: .ci/e2e.sh PATH/TO/pipewise
set -euo pipefail
pipewise=$(realpath "${1:?usage: .ci/e2e.sh PATH/TO/pipewise}")
[ -x "$pipewise" ] || { echo "no pipewise binary at $pipewise" >&2; exit 1; }
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
    echo "== installing Chromium from Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq chromium >/dev/null
fi

(cd e2e && npm ci --no-audit --no-fund)

# One test file at a time: each starts a server and a browser. The files are named by the
# shell because `node --test DIRECTORY` searches the directory only on Node 20; from Node 21
# on it tries to load the directory as a module.
PIPEWISE_BIN=$pipewise node --test --test-concurrency=1 e2e/tests/*.test.mjs
