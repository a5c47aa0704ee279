#!/usr/bin/env bash
# Debian's chromium for the web console's browser tests (test/e2e/test/console-*.test.ts), driven
# by playwright-core at /usr/bin/chromium. Installed with apt when missing; no browser is ever
# downloaded from anywhere else (playwright-core has no download step of its own).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
# A font for the page's text (the screenshots in docs/screenshots).
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "cordon: missing ${need[*]} for the browser tests (install them with apt-get as root)" >&2
  exit 1
fi
echo "cordon: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/cordon-apt-chromium.log 2>&1; then
  apt-get update -q >>/tmp/cordon-apt-chromium.log 2>&1
  apt-get install -y -q --no-install-recommends "${need[@]}" >>/tmp/cordon-apt-chromium.log 2>&1 || {
    tail -30 /tmp/cordon-apt-chromium.log >&2
    exit 1
  }
fi
