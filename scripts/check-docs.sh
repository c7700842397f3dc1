#!/usr/bin/env bash
# Builds the API reference (docs/Doxyfile) into ${OIDC_DOXYGEN_OUT:-build/doxygen} and fails on any
# Doxygen warning, e.g. an undocumented public name. Needs doxygen (scripts/setup-debian.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${OIDC_DOXYGEN_OUT:-build/doxygen}
mkdir -p "$out"
version=$(sed -n 's/^#define OIDC_VERSION "\(.*\)"/\1/p' include/oidc/version.hpp)
log=$out/warnings.log
if ! OIDC_VERSION=$version OIDC_DOXYGEN_OUT=$out doxygen docs/Doxyfile >"$out/doxygen.log" 2>"$log" || [[ -s $log ]]; then
  cat "$log" >&2
  echo "check-docs: $(grep -c . "$log") Doxygen warning line(s); the reference is in $out/html" >&2
  exit 1
fi
echo "check-docs: API reference built without warnings: $out/html/index.html"
