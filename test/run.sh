#!/usr/bin/env bash
# The one test command (README: `npm test`): installs what the suite needs on a fresh Debian
# machine (Debian packages for the real servers, npm packages), builds, lints, type-checks, and
# runs every unit and end-to-end test in one node:test run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== system packages (prosody, ejabberd, redis-server, slapd)"
bash test/harness/install-system-deps.sh

echo "== npm packages"
if [ "${CI:-}" = "true" ] || [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses this lock file: npm 11 omits turbo's other-platform optional packages from it.
  npm install --no-audit --no-fund --loglevel=error
fi

echo "== format, build, lint, type-check"
npx prettier --check . --log-level warn
npx turbo run build lint typecheck --output-logs=errors-only

echo "== tests"
node test/run-tests.mjs "$@"
