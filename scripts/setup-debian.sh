#!/usr/bin/env bash
# Installs the Debian packages the build needs, and only the missing ones.
#
#   scripts/setup-debian.sh [demo|test|bench] [EXTRA_PACKAGE...]
#
#   demo   compiler, CMake, libcurl, OpenSSL 3, nlohmann-json, cpp-httplib (the embedded provider),
#          CLI11 and libqrencode (the oidc-token tool)
#   test   demo + GoogleTest/GoogleMock + Google Benchmark + clang with its sanitizer and libFuzzer
#          runtimes, and Node.js + npm when the commands are missing (the interop suite) (the default)
#   bench  same as test
#
# Idempotent and quiet: when every package is already installed it does not touch apt at all;
# otherwise it runs `apt-get update` once and `apt-get install --no-install-recommends` for the
# missing ones, printing apt's output only if that fails. Works as root, or through passwordless
# sudo. Set OIDC_SKIP_SETUP=1 to skip it (e.g. on a machine whose packages you manage yourself);
# on a system without apt-get it only checks for the tools and warns.
set -euo pipefail

profile=test
if [[ $# -gt 0 && "$1" =~ ^(demo|test|bench)$ ]]; then
  profile=$1
  shift
fi

packages=(cmake g++ make ninja-build pkg-config libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libqrencode-dev)
case "$profile" in
  # clang and libclang-rt-14-dev (its ASan/UBSan/libFuzzer runtimes, libclang_rt.*): the asan and
  # fuzz stages of scripts/test.sh; doxygen: the API reference check (scripts/check-docs.sh); libboost-dev: docs/snippets/transport_beast.cpp (Boost.Beast).
  # libhiredis-dev, redis-server: the Redis token store (OIDC_WITH_REDIS, on when hiredis is found) and its
  # tests and benchmark, which start their own redis-server on loopback (never the service).
  test | bench) packages+=(libgtest-dev libgmock-dev libbenchmark-dev openssl clang libclang-rt-14-dev doxygen libboost-dev libhiredis-dev redis-server) ;;
esac
# ThreadSanitizer with g++ needs libtsan2, which g++ already pulls in (g++-12 -> libgcc-12-dev).
packages+=("$@")
# The interop suite (tests/interop) runs node oidc-provider. Node.js is looked for as a command,
# not a package: an image's own Node (NodeSource, nvm) must not be replaced by Debian's. Debian 12's
# nodejs is 18, too old for oidc-provider 9; tests/interop/CMakeLists.txt reports that.
node_missing=0
if [[ $profile == test ]] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
  node_missing=1
fi

if [[ "${OIDC_SKIP_SETUP:-0}" == 1 ]]; then
  exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  for tool in cmake c++ pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || echo "setup-debian: warning: '$tool' not found and this is not a Debian system" >&2
  done
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done
((node_missing)) && missing+=(nodejs npm)
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "setup-debian: missing packages: ${missing[*]}" >&2
    echo "setup-debian: run as root, or install them: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup-debian: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
if ! "${apt[@]}" update -q >"$log" 2>&1 </dev/null; then
  cat "$log" >&2
  echo "setup-debian: apt-get update failed" >&2
  exit 1
fi
if ! "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1 </dev/null; then
  cat "$log" >&2
  echo "setup-debian: apt-get install failed" >&2
  exit 1
fi
