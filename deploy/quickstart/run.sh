#!/usr/bin/env bash
# The README's run command (`npm start`): on a fresh Debian machine (root, Node 20) installs what
# it needs, builds Cordon, and runs the demo: a private Prosody on loopback with Cordon's MUC and
# catalog attached, demo users with different clearances and demo labelled rooms.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/harness/install-system-deps.sh
bash test/harness/install-npm-deps.sh
npx turbo run build --output-logs=errors-only >/dev/null
exec node deploy/quickstart/quickstart.mjs "$@"
