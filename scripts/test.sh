#!/usr/bin/env bash
# Builds and runs the whole test suite, stopping at the first failure:
#
#   1. main    build/test: Debug, -Werror, tests + examples + benchmarks (built, not run); ctest,
#              including the interop suite against node oidc-provider (tests/interop; npm ci
#              installs it from the lock file; this preset fails when Node.js >= 20 is missing),
#              and the documentation checks (label docs: the Doxygen API reference without a
#              warning, every snippet in README.md and docs/ a copy of a compiled file)
#   2. asan    build/asan: clang++ AddressSanitizer + UndefinedBehaviorSanitizer (leaks too) build of
#              the unit and integration tests; ctest
#   3. tsan    build/tsan: ThreadSanitizer build of the tests; ctest
#   4. fuzz    build/fuzz: the libFuzzer harnesses (tests/fuzz), built once, then run through
#              scripts/fuzz.sh in OIDC_JOBS parallel shards: every reproducer in
#              tests/fuzz/regressions once, then each harness OIDC_FUZZ_SECONDS on a copy of its
#              corpus; findings go to build/fuzz-findings
#   5. package consumer projects under tests/package, built against the library:
#              find_package (installed to a temporary prefix), add_subdirectory (only the library
#              target may appear), no_curl (OIDC_WITH_CURL=OFF, OIDC_WITH_OPENSSL=OFF, OIDC_WITH_LOOPBACK=OFF: must link without libcurl,
#              OpenSSL and cpp-httplib), and
#              the add_subdirectory consumer as C++20 with -Wall -Wextra -Wpedantic -Werror
#              (g++, and clang++ when installed)
#
# Ends with a line "N passed, M failed" (N = ctest tests of stages 1-3 + fuzz runs and regression
# files + package checks) and exits non-zero if anything failed. Installs missing Debian packages
# first (scripts/setup-debian.sh).
#
#   ./scripts/test.sh                 everything
#   ./scripts/test.sh main package    only some stages (main, asan, tsan, fuzz, package)
#
# Environment: OIDC_JOBS (parallel jobs, default 2), OIDC_TSAN_TESTS (a ctest -R regex to run
# only some tests under TSan; default: all), OIDC_FUZZ_SECONDS (per harness, default 30),
# CMAKE_GENERATOR (default Ninja when installed).
# The CMake presets "ci", "asan", "tsan" and "fuzz" (CMakePresets.json) hold the build settings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
source scripts/lib.sh

stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(main asan tsan fuzz package)
for s in "${stages[@]}"; do
  [[ $s =~ ^(main|asan|tsan|fuzz|package)$ ]] || { echo "test.sh: unknown stage '$s' (main, asan, tsan, fuzz, package)" >&2; exit 2; }
done

jobs=${OIDC_JOBS:-2}
passed=0
failed=0
current="setup"
timings=()
t_start=$(date +%s)
t_stage=$t_start

finish() {
  local rc=$?
  local now
  now=$(date +%s)
  if ((rc != 0)); then
    ((failed > 0)) || failed=1
    timings+=("$(printf '%-8s %4d s (failed)' "${current%%:*}" $((now - t_stage)))")
    echo
    echo "test.sh: FAILED in stage: $current" >&2
  fi
  echo
  for t in "${timings[@]}"; do echo "  $t"; done
  echo "  total: $((now - t_start)) s"
  echo
  echo "$passed passed, $failed failed"
  exit "$rc"
}
trap finish EXIT

stage_begin() {
  current=$1
  t_stage=$(date +%s)
  echo
  echo "=== $current"
}
stage_end() {
  timings+=("$(printf '%-8s %4d s' "$1" $(($(date +%s) - t_stage)))")
}

# Runs a command with its output in a log file, shown only on failure.
quiet() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    echo "test.sh: command failed: $*" >&2
    return 1
  fi
  rm -f "$log"
}


# Runs a ctest command line (possibly behind a wrapper) and counts its closing line into
# passed/failed.
run_ctest() {
  local log rc=0
  log=$(mktemp)
  "$@" 2>&1 | tee "$log" || rc=$?
  local line
  line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  # A skipped test (the interop suite without Node.js) is neither passed nor failed.
  local skipped
  skipped=$(grep -cE '^[[:space:]]*[0-9]+ - .*\(Skipped\)$' "$log" || true)
  rm -f "$log"
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1] - skipped))
    failed=$((failed + BASH_REMATCH[1]))
  fi
  ((skipped == 0)) || echo "test.sh: $skipped test(s) SKIPPED (see above)"
  return "$rc"
}

# Runs `setarch -R` (no address-space randomisation) in front of a command when it works here:
# ThreadSanitizer's runtime in GCC 12 aborts ("unexpected memory mapping") on kernels with high
# mmap entropy (vm.mmap_rnd_bits > 28).
no_aslr=()
if setarch "$(uname -m)" -R true >/dev/null 2>&1; then
  no_aslr=(setarch "$(uname -m)" -R)
fi

scripts/setup-debian.sh test

has_stage() {
  local s
  for s in "${stages[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}

# --- 1. main build --------------------------------------------------------------------------------
if has_stage main; then
  stage_begin "main: build/test (Debug, -Werror, tests + examples + benchmarks)"
  mapfile -t gen < <(generator_for build/test)
  quiet cmake --preset ci "${gen[@]}"
  cmake --build --preset ci -j "$jobs"
  current="main: ctest"
  run_ctest ctest --preset ci -j "$jobs"
  stage_end main
fi

# --- 2. AddressSanitizer + UndefinedBehaviorSanitizer ---------------------------------------------
if has_stage asan; then
  stage_begin "asan: build/asan (clang++ -fsanitize=address,undefined, unit + integration tests)"
  mapfile -t gen < <(generator_for build/asan)
  quiet cmake --preset asan "${gen[@]}"
  cmake --build --preset asan -j "$jobs"
  current="asan: ctest"
  # ASAN_OPTIONS/UBSAN_OPTIONS come from the test preset.
  run_ctest ctest --preset asan -j "$jobs"
  stage_end asan
fi

# --- 3. ThreadSanitizer ---------------------------------------------------------------------------
if has_stage tsan; then
  stage_begin "tsan: build/tsan (-fsanitize=thread, tests only)"
  mapfile -t gen < <(generator_for build/tsan)
  quiet cmake --preset tsan "${gen[@]}"
  # gtest_discover_tests runs each test binary after linking it, so the build needs no_aslr too.
  "${no_aslr[@]}" cmake --build --preset tsan -j "$jobs"
  current="tsan: ctest"
  filter=()
  [[ -z ${OIDC_TSAN_TESTS:-} ]] || filter=(-R "$OIDC_TSAN_TESTS")
  # TSAN_OPTIONS come from the test preset.
  run_ctest "${no_aslr[@]}" ctest --preset tsan -j "$jobs" "${filter[@]}"
  stage_end tsan
fi

# --- 4. fuzzing -----------------------------------------------------------------------------------
# Each libFuzzer run is single-threaded and bounded by time, so one scripts/fuzz.sh running the
# harnesses one after another left all cores but one idle for 16 x OIDC_FUZZ_SECONDS. The harnesses
# are built once here, then split round-robin into $jobs shards, each a scripts/fuzz.sh --no-build
# of its own (its own temporary directory; findings per harness), run side by side.
if has_stage fuzz; then
  stage_begin "fuzz: build/fuzz (libFuzzer harnesses, ${OIDC_FUZZ_SECONDS:-30} s each, regressions replayed)"
  mapfile -t gen < <(generator_for build/fuzz)
  quiet cmake --preset fuzz "${gen[@]}"
  quiet cmake --build build/fuzz -j "$jobs" --target oidc_fuzzers
  current="fuzz: run"
  # The harness list is tests/fuzz/CMakeLists.txt's set(OIDC_FUZZERS ...).
  mapfile -t harnesses < <(sed -n '/^set(OIDC_FUZZERS/,/)/p' tests/fuzz/CMakeLists.txt |
    sed 's/set(OIDC_FUZZERS//; s/)//' | tr -s ' ' '\n' | sed '/^$/d')
  ((${#harnesses[@]} > 0)) || { echo "test.sh: no harnesses in tests/fuzz/CMakeLists.txt" >&2; exit 1; }
  shards=$jobs
  ((shards <= ${#harnesses[@]})) || shards=${#harnesses[@]}
  fuzz_tmp=$(mktemp -d)
  for ((i = 0; i < shards; i++)); do
    shard=()
    for ((j = i; j < ${#harnesses[@]}; j += shards)); do shard+=("${harnesses[j]}"); done
    (
      rc=0
      scripts/fuzz.sh --no-build --seconds "${OIDC_FUZZ_SECONDS:-30}" "${shard[@]}" >"$fuzz_tmp/$i.log" 2>&1 || rc=$?
      echo "$rc" >"$fuzz_tmp/$i.rc"
    ) &
  done
  wait
  rc=0
  for ((i = 0; i < shards; i++)); do
    echo "--- fuzz shard $((i + 1))/$shards"
    cat "$fuzz_tmp/$i.log"
    line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed$' "$fuzz_tmp/$i.log" | tail -n 1 || true)
    if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
      passed=$((passed + BASH_REMATCH[1]))
      failed=$((failed + BASH_REMATCH[2]))
    fi
    shard_rc=$(cat "$fuzz_tmp/$i.rc" 2>/dev/null || echo 1)
    ((shard_rc == 0)) || rc=$shard_rc
  done
  rm -rf "$fuzz_tmp"
  ((rc == 0)) || exit "$rc"
  stage_end fuzz
fi

# --- 5. packaging ---------------------------------------------------------------------------------
pkg=build/pkg

# Configure + build a project quietly; the remaining arguments go to CMake's configure step.
build_project() {
  local src=$1 dir=$2 gen
  shift 2
  mapfile -t gen < <(generator_for "$dir")
  quiet cmake -S "$src" -B "$dir" "${gen[@]}" "$@"
  quiet cmake --build "$dir" -j "$jobs"
}

package_check() {
  local name=$1
  shift
  current="package: $name"
  echo "--- $name"
  "$@"
  passed=$((passed + 1))
  echo "ok: $name"
}

check_find_package() {
  # Release, so -O2-only warnings (-Wmaybe-uninitialized, ...) are errors here too.
  build_project . "$pkg/lib" -DCMAKE_BUILD_TYPE=Release -DOIDC_WERROR=ON \
    -DOIDC_BUILD_TESTS=OFF -DOIDC_BUILD_EXAMPLES=OFF -DOIDC_BUILD_BENCHMARKS=OFF -DOIDC_INSTALL=ON
  rm -rf "$pkg/prefix"
  quiet cmake --install "$pkg/lib" --prefix "$root/$pkg/prefix"
  local f
  for f in include/oidc/oidc.hpp include/oidc/version.hpp; do
    [[ -f $pkg/prefix/$f ]] || { echo "not installed: $f" >&2; return 1; }
  done
  ls "$pkg"/prefix/lib*/cmake/oidc/oidcConfig.cmake >/dev/null ||
    { echo "not installed: lib*/cmake/oidc/oidcConfig.cmake" >&2; return 1; }
  # The CLI is installed with the library (issue 15) and runs from the prefix.
  local help
  help=$("$pkg/prefix/bin/oidc-token" --help) && [[ $help == *"Exit status:"* ]] ||
    { echo "not installed or not runnable: bin/oidc-token" >&2; return 1; }
  if find "$pkg/prefix" -name '*test*' -o -name 'local_provider*' | grep -q .; then
    echo "test files were installed:" >&2
    find "$pkg/prefix" -name '*test*' -o -name 'local_provider*' >&2
    return 1
  fi
  build_project tests/package/find_package "$pkg/find_package" -DCMAKE_PREFIX_PATH="$root/$pkg/prefix"
  "$pkg/find_package/consumer"
}

check_add_subdirectory() {
  # CMakeLists.txt fails the configure step if oidc defines anything but the library target.
  build_project tests/package/add_subdirectory "$pkg/add_subdirectory"
  "$pkg/add_subdirectory/consumer"
}

check_no_curl() {
  build_project tests/package/no_curl "$pkg/no_curl"
  local exe=$pkg/no_curl/consumer
  if ldd "$exe" | grep -i curl; then
    echo "$exe is linked against libcurl" >&2
    return 1
  fi
  if nm "$exe" | grep -E ' [TtUu] curl_'; then
    echo "$exe contains libcurl symbols" >&2
    return 1
  fi
  if ldd "$exe" | grep -E 'libcrypto|libssl'; then
    echo "$exe is linked against OpenSSL" >&2
    return 1
  fi
  # OIDC_WITH_LOOPBACK=OFF there: Debian's libcpp-httplib would bring zlib and brotli (and OpenSSL).
  if ldd "$exe" | grep -E 'libcpp-httplib|libz\.|libbrotli'; then
    echo "$exe is linked against cpp-httplib or its compression libraries" >&2
    return 1
  fi
  "$exe"
}

check_two_shared_libs() {
  build_project tests/package/two_shared_libs "$pkg/two_shared_libs"
  "$pkg/two_shared_libs/consumer"
}

check_cxx20() {
  local compiler=$1
  build_project tests/package/add_subdirectory "$pkg/cxx20-$compiler" -DCMAKE_CXX_COMPILER="$compiler" \
    -DCMAKE_CXX_STANDARD=20 -DCMAKE_CXX_STANDARD_REQUIRED=ON -DOIDC_WERROR=ON
  "$pkg/cxx20-$compiler/consumer"
}

# docs/packaging.md's ways in, against the prefix check_find_package installed (static library):
# the recipes checked without vcpkg/Conan, the pkg-config Makefile, the port's usage, Conan's test_package.
check_packaging() {
  local pc
  pc=$(echo "$root/$pkg"/prefix/lib*/pkgconfig)
  case $1 in
    recipes) python3 scripts/check-packaging.py ;;
    pkg_config)
      PKG_CONFIG_PATH=$pc quiet pkg-config --exists --print-errors --static oidc
      rm -rf "$pkg/pkg_config" && mkdir -p "$pkg/pkg_config"
      PKG_CONFIG_PATH=$pc quiet make -C "$pkg/pkg_config" -f "$root/tests/package/pkg_config/Makefile"
      "$pkg/pkg_config/consumer" ;;
    *) build_project "$2" "$pkg/$1" -DCMAKE_PREFIX_PATH="$root/$pkg/prefix" && "$pkg/$1/$3" ;;
  esac
}

if has_stage package; then
  stage_begin "package: consumer projects (tests/package)"
  package_check "find_package against an installed prefix" check_find_package
  package_check "vcpkg port and Conan recipe agree with CMakeLists.txt" check_packaging recipes
  package_check "pkg-config consumer (plain Makefile)" check_packaging pkg_config
  package_check "vcpkg port's usage snippet" check_packaging vcpkg_usage tests/package/vcpkg_usage main
  package_check "Conan test_package as a plain CMake project" check_packaging test_package packaging/conan/test_package test_package
  package_check "add_subdirectory builds only the library" check_add_subdirectory
  package_check "OIDC_WITH_CURL, OIDC_WITH_OPENSSL, OIDC_WITH_LOOPBACK OFF: own transport, no libcurl, OpenSSL, httplib" check_no_curl
  package_check "two hidden-visibility shared libraries, each source serves its own token" check_two_shared_libs
  package_check "C++20 consumer, g++ -Wall -Wextra -Wpedantic -Werror" check_cxx20 g++
  if command -v clang++ >/dev/null 2>&1; then
    package_check "C++20 consumer, clang++ -Wall -Wextra -Wpedantic -Werror" check_cxx20 clang++
  fi
  stage_end package
fi

current="done"
