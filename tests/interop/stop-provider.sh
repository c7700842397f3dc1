#!/usr/bin/env bash
# CTest fixture cleanup of the interop suite: stops the provider start-provider.sh started, by PID,
# and shows its log when it reported server errors.
#
#   stop-provider.sh STATE_DIR
set -euo pipefail
state=$1
[[ -f $state/pid ]] || exit 0
pid=$(cat "$state/pid")
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
rm -f "$state/pid" "$state/provider.json"
if grep -q server_error "$state/provider.log" 2>/dev/null; then
  cat "$state/provider.log" >&2
  echo "stop-provider: the provider logged server errors" >&2
  exit 1
fi
