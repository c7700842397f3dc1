#!/usr/bin/env bash
# Builds the libFuzzer harnesses (build/fuzz, CMake preset "fuzz") and runs them: first every
# reproducer in tests/fuzz/regressions/<harness>/ once, then each harness for a while on a copy of
# its corpus (tests/fuzz/corpus/<harness>/), so the checked-in corpus never changes. Whatever a run
# finds (crash-*, leak-*, timeout-*, oom-*) lands in build/fuzz-findings/<harness>/, out of the
# repository; each failure prints its reproducer's path. See tests/fuzz/README.md.
#
#   ./scripts/fuzz.sh                          all harnesses, 60 s each
#   ./scripts/fuzz.sh redact url --seconds 600 --jobs 2
#   ./scripts/fuzz.sh --regressions            only replay tests/fuzz/regressions
#
# Options: --seconds N (per harness; default 60, or $OIDC_FUZZ_SECONDS), --jobs N (libFuzzer
# -fork=N; default 1), --regressions (no fuzzing), --no-build. Ends with "fuzz: N passed, M failed"
# (one unit per regression file and per fuzzing run) and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
source scripts/lib.sh

all=(token_response error_response device_response client form url base64 jwt token_json redact headers
  authorization_response jwk_set discovery userinfo introspection stored_token sealed_record
  pushed_authorization_response)
# -max_len per harness: room for a realistic response (a 2 KB token body, a few of them for the
# client), small for the codecs so the fuzzer explores instead of growing inputs.
declare -A max_len=(
  [token_response]=16384 [error_response]=4096 [device_response]=8192 [client]=32768 [form]=4096
  [url]=2048 [base64]=4096 [jwt]=8192 [token_json]=8192 [redact]=8192 [headers]=2048
  [authorization_response]=4096 [jwk_set]=16384 [discovery]=16384 [userinfo]=8192 [introspection]=8192 [stored_token]=8192 [sealed_record]=8192
  [pushed_authorization_response]=8192)
declare -A uses_json_dict=(
  [token_response]=1 [error_response]=1 [device_response]=1 [client]=1 [jwt]=1 [token_json]=1 [redact]=1 [jwk_set]=1 [discovery]=1 [userinfo]=1 [introspection]=1 [stored_token]=1 [sealed_record]=1
  [pushed_authorization_response]=1)

seconds=${OIDC_FUZZ_SECONDS:-60}
jobs=1
fuzz=1
build=1
harnesses=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --regressions) fuzz=0; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *)
      [[ -n ${max_len[$1]:-} ]] || { echo "fuzz.sh: unknown harness '$1' (${all[*]})" >&2; exit 2; }
      harnesses+=("$1"); shift ;;
  esac
done
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=("${all[@]}")
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds and --jobs take numbers" >&2; exit 2; }

scripts/setup-debian.sh test

build_dir=build/fuzz
bin=$build_dir/tests/fuzz
findings=$root/build/fuzz-findings
common=(-timeout=10 -rss_limit_mb=2048)

if ((build)); then
  echo "fuzz.sh: building ${#harnesses[@]} harness(es) in $build_dir ..."
  mapfile -t gen < <(generator_for "$build_dir")
  log=$(mktemp)
  if ! cmake --preset fuzz "${gen[@]}" >"$log" 2>&1 ||
    ! cmake --build "$build_dir" -j "${OIDC_JOBS:-2}" --target "${harnesses[@]/#/fuzz_}" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "fuzz.sh: build failed" >&2
    exit 1
  fi
  rm -f "$log"
fi

passed=0
failed=0
failures=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs a harness; on failure prints its log's report and the reproducer.
run() {
  local h=$1 what=$2 log=$work/log
  shift 2
  if "$bin/fuzz_$h" "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    return 0
  fi
  failed=$((failed + 1))
  # The sanitizer's or the invariant's report, without libFuzzer's progress lines.
  grep -vE '^#[0-9]+|^INFO:|^MERGE|^Loaded|^Running:|^Executed' "$log" | head -n 60 >&2 || true
  local repro=$what
  [[ $what != fuzzing ]] || repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  [[ -n $repro ]] || repro="(libFuzzer wrote none; see the report above)"
  failures+=("$h: $repro")
  echo "fuzz.sh: FAILED $h ($what); reproducer: $repro" >&2
  echo "fuzz.sh: replay with: $bin/fuzz_$h $repro" >&2
}

for h in "${harnesses[@]}"; do
  dict=()
  [[ -z ${uses_json_dict[$h]:-} ]] || dict=(-dict="$root/tests/fuzz/json.dict")
  shopt -s nullglob
  regressions=("tests/fuzz/regressions/$h"/*)
  shopt -u nullglob
  for f in "${regressions[@]}"; do
    [[ $(basename "$f") != README* ]] || continue
    run "$h" "$f" "${common[@]}" -artifact_prefix="$work/" "$f"
  done
  echo "fuzz.sh: $h: ${#regressions[@]} regression file(s) replayed"
  if ((fuzz)); then
    mkdir -p "$findings/$h"
    rm -rf "$work/corpus"
    cp -r "tests/fuzz/corpus/$h" "$work/corpus"
    fork=()
    ((jobs == 1)) || fork=(-fork="$jobs")
    echo "fuzz.sh: $h: fuzzing for $seconds s (-max_len=${max_len[$h]}) ..."
    run "$h" "fuzzing" "${common[@]}" "${dict[@]}" "${fork[@]}" -max_len="${max_len[$h]}" \
      -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/$h/" "$work/corpus"
  fi
done

if ((${#failures[@]} > 0)); then
  echo
  echo "fuzz.sh: failures (reproducers):"
  printf '  %s\n' "${failures[@]}"
fi
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
