#!/usr/bin/env bash
# Builds and runs examples/demo: the library obtaining tokens from the embedded local provider
# over real HTTP on loopback. Installs missing Debian packages first (scripts/setup-debian.sh).
#
#   ./scripts/demo.sh [demo arguments...]
#
# Release build in build/demo (CMake preset "demo": examples on, tests off), target oidc_demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

scripts/setup-debian.sh demo

build_dir=build/demo
echo "Building examples/demo (Release, $build_dir) ..."
build_preset_quietly demo "$build_dir" demo.sh

exe=$(find "$build_dir" -type f -name oidc_demo -perm -u+x | head -n 1)
if [[ -z $exe ]]; then
  echo "demo.sh: built, but no oidc_demo executable found under $build_dir" >&2
  exit 1
fi
echo "Running $exe"
echo
exec "$exe" "$@"
