#!/usr/bin/env bash
# CTest fixture setup of the interop suite: makes a CA and a server certificate for 127.0.0.1,
# installs oidc-provider from the lock file (npm ci, once per lock file), starts provider.mjs in
# the background and waits until it has written STATE/provider.json. Its PID goes to STATE/pid
# for stop-provider.sh.
#
#   start-provider.sh SOURCE_DIR STATE_DIR
set -euo pipefail
src=$1
state=$2
mkdir -p "$state/node"

die() { echo "start-provider: $*" >&2; exit 1; }
command -v node >/dev/null || die "node not found (Node.js >= 20 runs the interop provider)"
command -v npm >/dev/null || die "npm not found"
command -v openssl >/dev/null || die "openssl not found (it makes the test CA)"
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 20)) || die "Node.js $(node --version) is too old; oidc-provider 9 needs >= 20"

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
cp "$src/package.json" "$src/package-lock.json" "$src/provider.mjs" "$state/node/"
if ! cmp -s "$src/package-lock.json" "$state/node/node_modules/.installed-lock" 2>/dev/null; then
  (cd "$state/node" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  cp "$src/package-lock.json" "$state/node/node_modules/.installed-lock"
fi

node "$state/node/provider.mjs" --state "$state" >"$state/provider.log" 2>&1 &
echo $! >"$state/pid"
for _ in $(seq 1 300); do
  [[ -f $state/provider.json ]] && { cat "$state/provider.json"; echo; exit 0; }
  kill -0 "$(cat "$state/pid")" 2>/dev/null || { cat "$state/provider.log" >&2; die "the provider exited"; }
  sleep 0.1
done
cat "$state/provider.log" >&2
die "the provider did not start within 30 s"
