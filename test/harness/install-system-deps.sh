#!/usr/bin/env bash
# Installs the real servers the e2e suite runs against (Debian packages), without
# starting their system-wide instances: the tests start their own on loopback.
set -euo pipefail
need=()
command -v prosody >/dev/null 2>&1 || need+=(prosody)
[ -f /usr/lib/prosody/modules/mod_delegation/mod_delegation.lua ] || [ -f /usr/lib/prosody/modules/mod_delegation.lua ] || [ -d /usr/share/prosody-modules ] || need+=(prosody-modules)
{ command -v ejabberdctl >/dev/null 2>&1 && command -v erl >/dev/null 2>&1; } || need+=(ejabberd)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v slapd >/dev/null 2>&1 && [ -x /usr/sbin/slapd ] || need+=(slapd ldap-utils)
command -v ldapadd >/dev/null 2>&1 || need+=(ldap-utils)
# Third-party clients for the e2e tests (test/e2e/clients), Debian's own Python.
/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || need+=(python3-slixmpp)
/usr/bin/python3 -c 'import nbxmpp' >/dev/null 2>&1 || need+=(python3-nbxmpp)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "cordon: missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi
echo "cordon: installing ${need[*]}" >&2
# Keep Debian's maintainer scripts from starting system-wide daemons on default ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/cordon-apt.log 2>&1; then
  apt-get update -q >>/tmp/cordon-apt.log 2>&1
  apt-get install -y -q --no-install-recommends "${need[@]}" >>/tmp/cordon-apt.log 2>&1 || { tail -30 /tmp/cordon-apt.log >&2; exit 1; }
fi
# Stop anything the packages started anyway (containers without policy-rc.d support).
for svc in prosody ejabberd redis-server slapd; do
  (service "$svc" stop >/dev/null 2>&1 || true)
done
