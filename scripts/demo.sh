#!/usr/bin/env bash
# Builds and runs examples/demo: the library obtaining tokens from the embedded local provider
# over real HTTP on loopback. Installs missing Debian packages first (scripts/setup-debian.sh).
#
#   ./scripts/demo.sh [demo arguments...]
#
# Release build in build/demo (CMake preset "demo": examples on, tests off), target oidc_demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup-debian.sh demo

build_dir=build/demo
generator=()
if [[ -f $build_dir/CMakeCache.txt ]]; then
  generator=(-G "$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build_dir/CMakeCache.txt")")
elif [[ -z ${CMAKE_GENERATOR:-} ]] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "Building examples/demo (Release, $build_dir) ..."
if ! cmake --preset demo "${generator[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "demo.sh: CMake configure failed" >&2
  exit 1
fi
if ! cmake --build --preset demo -j "${OIDC_JOBS:-2}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "demo.sh: build failed" >&2
  exit 1
fi

exe=$(find "$build_dir" -type f -name oidc_demo -perm -u+x | head -n 1)
if [[ -z $exe ]]; then
  echo "demo.sh: built, but no oidc_demo executable found under $build_dir" >&2
  exit 1
fi
echo "Running $exe"
echo
exec "$exe" "$@"
