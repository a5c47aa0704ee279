#!/usr/bin/env bash
# The README's run command (`npm start`): on a fresh Debian machine (root, Node 20) installs what
# it needs, builds Cordon, and runs the demo: a private Prosody on loopback with Cordon's MUC and
# catalog attached, demo users with different clearances and demo labelled rooms.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/harness/install-system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses this lock file: npm 11 omits turbo's other-platform optional packages from it.
  npm install --no-audit --no-fund --loglevel=error
fi
npx turbo run build --output-logs=errors-only >/dev/null
exec node deploy/quickstart/quickstart.mjs "$@"
