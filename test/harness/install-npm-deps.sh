#!/usr/bin/env bash
# The npm packages `npm test` (test/run.sh) and `npm start` (deploy/quickstart/run.sh) need:
# `npm ci` (exactly the committed lock, into a clean node_modules) in CI and on a fresh clone;
# `npm install` when a developer's node_modules is older than the lock (keeps the rest of it);
# nothing when it is current. Neither changes the committed lock: it lists every platform's
# optional packages (turbo's), so a fresh clone's `git status` stays clean.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${CI:-}" = "true" ] || [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
elif [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
