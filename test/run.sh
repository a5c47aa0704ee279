#!/usr/bin/env bash
# The one test command (README: `npm test`): installs what the suite needs on a fresh Debian
# machine (Debian packages for the real servers, npm packages), builds, lints, type-checks, and
# runs every unit and end-to-end test in one node:test run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== system packages (prosody, ejabberd, redis-server, slapd, python3-slixmpp, python3-nbxmpp)"
bash test/harness/install-system-deps.sh

echo "== browser (Debian chromium, for the web console's browser tests)"
bash test/harness/install-chromium.sh

echo "== npm packages"
# npm ci in CI and on a fresh clone; npm install only when node_modules is older than the lock.
bash test/harness/install-npm-deps.sh

echo "== format, build, lint, type-check"
npx prettier --check . --log-level warn
npx turbo run build lint typecheck --output-logs=errors-only

echo "== tests"
node test/run-tests.mjs "$@"
