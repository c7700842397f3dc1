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
#              find_package, pkg-config, the vcpkg port's usage and Conan's test_package, each
#              against a static and a shared (BUILD_SHARED_LIBS=ON) install in a temporary prefix
#              (the shared one: consumers load its liboidc.so, which exports oidc:: names only),
#              add_subdirectory (only the library target may appear), a configure without the test
#              dependencies (must name the OIDC_BUILD_* switches to turn off), no_curl
#              (OIDC_WITH_CURL=OFF, OIDC_WITH_OPENSSL=OFF, OIDC_WITH_LOOPBACK=OFF: must link without
#              libcurl, OpenSSL and cpp-httplib), and the add_subdirectory consumer as C++20 with -Wall -Wextra -Wpedantic -Werror
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

# The library and the tools, Release, installed to $pkg/prefix (static, the default) or, with
# `shared`, to $pkg/prefix-shared (BUILD_SHARED_LIBS=ON); the consumers below build against either.
prefix_of() { [[ $1 == shared ]] && echo "$pkg/prefix-shared" || echo "$pkg/prefix"; }

install_prefix() {
  local kind=$1 prefix lib=$pkg/lib args=()
  prefix=$(prefix_of "$kind")
  if [[ $kind == shared ]]; then
    lib=$pkg/lib-shared
    args=(-DBUILD_SHARED_LIBS=ON)
  fi
  # Release, so -O2-only warnings (-Wmaybe-uninitialized, ...) are errors here too.
  build_project . "$lib" -DCMAKE_BUILD_TYPE=Release -DOIDC_WERROR=ON \
    -DOIDC_BUILD_TESTS=OFF -DOIDC_BUILD_EXAMPLES=OFF -DOIDC_BUILD_BENCHMARKS=OFF -DOIDC_INSTALL=ON "${args[@]}"
  rm -rf "$prefix"
  quiet cmake --install "$lib" --prefix "$root/$prefix"
  local f
  for f in include/oidc/oidc.hpp include/oidc/version.hpp; do
    [[ -f $prefix/$f ]] || { echo "not installed: $f" >&2; return 1; }
  done
  ls "$prefix"/lib*/cmake/oidc/oidcConfig.cmake >/dev/null ||
    { echo "not installed: lib*/cmake/oidc/oidcConfig.cmake" >&2; return 1; }
  # The CLI is installed with the library (issue 15) and runs from the prefix (shared: through its
  # install RPATH, $ORIGIN/../lib).
  local help
  help=$("$prefix/bin/oidc-token" --help) && [[ $help == *"Exit status:"* ]] ||
    { echo "not installed or not runnable: $prefix/bin/oidc-token" >&2; return 1; }
  if find "$prefix" -name '*test*' -o -name 'local_provider*' | grep -q .; then
    echo "test files were installed:" >&2
    find "$prefix" -name '*test*' -o -name 'local_provider*' >&2
    return 1
  fi
  [[ $kind == shared ]] || return 0
  if find "$prefix" -name 'liboidc.a' | grep -q .; then
    echo "a shared install has liboidc.a" >&2
    return 1
  fi
  check_exports "$prefix"
  uses_shared_liboidc "$prefix" "$prefix/bin/oidc-token"
}

# The installed liboidc.so's SONAME is liboidc.so.MAJOR.MINOR while 0.x (a minor may break the
# ABI), liboidc.so.MAJOR from 1.0 on (CMakeLists.txt),
# and its dynamic symbols are oidc:: names only (cmake/oidc.map), no oidc::detail name but those
# declared OIDC_API, no lambda or anonymous-namespace internals.
soname_of() {
  local version
  version=$(sed -n 's/^#define OIDC_VERSION "\([0-9]*\.[0-9]*\)\.[0-9]*"$/\1/p' include/oidc/version.hpp)
  [[ $version == 0.* ]] || version=${version%%.*}
  echo "liboidc.so.$version"
}

check_exports() {
  local so soname syms bad
  so=$(echo "$1"/lib*/liboidc.so)
  soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [[ $soname == "$(soname_of)" ]] || { echo "$so: SONAME '$soname', expected $(soname_of)" >&2; return 1; }
  syms=$(nm -D --defined-only "$so" | awk '{print $3}')
  bad=$(grep -Ev '^_Z(N|NK|TIN|TSN|TVN)4oidc' <<<"$syms" || true)
  bad+=$(c++filt <<<"$syms" | grep -E 'anonymous namespace|\{lambda|oidc::detail::' |
    grep -Ev '^oidc::detail::(coarse_system_now|token_source_thread_starter)\(\)$' || true)
  if [[ -n $bad ]]; then
    echo "$so exports more than oidc::'s OIDC_API names:" >&2
    c++filt <<<"$bad" >&2
    return 1
  fi
  echo "$so: $(wc -l <<<"$syms") exported symbols, all oidc::"
}

# `exe` loads the prefix's liboidc.so, not a static copy, and runs.
uses_shared_liboidc() {
  local prefix=$1 exe=$2
  local needed loaded
  needed=$(readelf -d "$exe" | grep '(NEEDED)')
  [[ $needed == *"[$(soname_of)]"* ]] || { echo "$exe does not need $(soname_of):" >&2; echo "$needed" >&2; return 1; }
  loaded=$(ldd "$exe" | sed -n "s/^[[:space:]]*$(soname_of) => \(.*\) (0x.*/\1/p")
  [[ -n $loaded && $(realpath "$loaded") == $(realpath "$prefix"/lib*/"$(soname_of)") ]] ||
    { echo "$exe does not load the prefix's liboidc.so:" >&2; ldd "$exe" >&2; return 1; }
}

check_find_package() {
  local kind=$1 prefix out=$pkg/find_package-$1
  prefix=$(prefix_of "$kind")
  install_prefix "$kind"
  build_project tests/package/find_package "$out" -DCMAKE_PREFIX_PATH="$root/$prefix"
  [[ $kind == static ]] || uses_shared_liboidc "$prefix" "$out/consumer"
  "$out/consumer"
}

check_add_subdirectory() {
  # CMakeLists.txt fails the configure step if oidc defines anything but the library target.
  build_project tests/package/add_subdirectory "$pkg/add_subdirectory"
  "$pkg/add_subdirectory/consumer"
}

# A top-level configure on a machine without the test dependencies (no cpp-httplib or GoogleTest
# through CMake packages or pkg-config) must stop with the switches that turn their users off, and
# must succeed with them.
check_no_test_dependencies() {
  local dir=$pkg/no_test_deps empty=$pkg/no_test_deps-pkgconfig out
  rm -rf "$dir" "$empty"
  mkdir -p "$empty"
  local -a hide=(-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_httplib=ON
                 -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON -DOIDC_WITH_LOOPBACK=OFF)
  if out=$(PKG_CONFIG_LIBDIR=$empty PKG_CONFIG_PATH="" cmake -S "$root" -B "$dir" "${hide[@]}" 2>&1); then
    echo "configure without cpp-httplib and GoogleTest succeeded with the tests on" >&2
    return 1
  fi
  # CMake wraps the message; join it before looking for the advice.
  if ! tr '\n' ' ' <<<"$out" | tr -s ' ' | grep -F -e "-DOIDC_BUILD_TESTS=OFF -DOIDC_BUILD_EXAMPLES=OFF" >/dev/null; then
    printf '%s\n' "$out" >&2
    echo "the failed configure does not say which OIDC_BUILD_* switches to turn off" >&2
    return 1
  fi
  rm -rf "$dir"
  PKG_CONFIG_LIBDIR=$empty PKG_CONFIG_PATH="" quiet cmake -S "$root" -B "$dir" "${hide[@]}" \
    -DOIDC_BUILD_TESTS=OFF -DOIDC_BUILD_EXAMPLES=OFF
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

# docs/packaging.md's ways in, against a prefix check_find_package installed (static or shared):
# the recipes checked without vcpkg/Conan, the pkg-config Makefile, the port's usage, Conan's test_package.
# The CMake consumers find a shared liboidc through the build-tree RPATH CMake gives them; the
# Makefile gets -Wl,-rpath, as a pkg-config user would pass it.
check_packaging() {
  local kind=$1 what=$2 prefix pc exe
  prefix=$(prefix_of "$kind")
  pc=$(echo "$root/$prefix"/lib*/pkgconfig)
  case $what in
    recipes) python3 scripts/check-packaging.py ;;
    pkg_config)
      local static=(--static) ldflags=()
      if [[ $kind == shared ]]; then
        static=()
        ldflags=(SHARED=1 LDFLAGS="-Wl,-rpath,$(dirname "$pc")")
        [[ " $(PKG_CONFIG_PATH=$pc pkg-config --cflags oidc) " == *" -DOIDC_SHARED "* ]] ||
          { echo "oidc.pc of a shared install has no -DOIDC_SHARED in Cflags" >&2; return 1; }
      fi
      PKG_CONFIG_PATH=$pc quiet pkg-config --exists --print-errors "${static[@]}" oidc
      rm -rf "$pkg/pkg_config-$kind" && mkdir -p "$pkg/pkg_config-$kind"
      PKG_CONFIG_PATH=$pc quiet make -C "$pkg/pkg_config-$kind" -f "$root/tests/package/pkg_config/Makefile" "${ldflags[@]}"
      exe=$pkg/pkg_config-$kind/consumer ;;
    *)
      build_project "$3" "$pkg/$what-$kind" -DCMAKE_PREFIX_PATH="$root/$prefix"
      exe=$pkg/$what-$kind/$4 ;;
  esac
  [[ -n ${exe:-} ]] || return 0
  [[ $kind == static ]] || uses_shared_liboidc "$prefix" "$exe"
  "$exe"
}

if has_stage package; then
  stage_begin "package: consumer projects (tests/package)"
  package_check "vcpkg port and Conan recipe agree with CMakeLists.txt" check_packaging static recipes
  for kind in static shared; do
    package_check "find_package against an installed $kind prefix" check_find_package $kind
    package_check "pkg-config consumer (plain Makefile), $kind" check_packaging $kind pkg_config
    package_check "vcpkg port's usage snippet, $kind" check_packaging $kind vcpkg_usage tests/package/vcpkg_usage main
    package_check "Conan test_package as a plain CMake project, $kind" check_packaging $kind test_package packaging/conan/test_package test_package
  done
  package_check "add_subdirectory builds only the library" check_add_subdirectory
  package_check "no test dependencies: the configure names the switches to turn off" check_no_test_dependencies
  package_check "OIDC_WITH_CURL, OIDC_WITH_OPENSSL, OIDC_WITH_LOOPBACK OFF: own transport, no libcurl, OpenSSL, httplib" check_no_curl
  package_check "two hidden-visibility shared libraries, each source serves its own token" check_two_shared_libs
  package_check "C++20 consumer, g++ -Wall -Wextra -Wpedantic -Werror" check_cxx20 g++
  if command -v clang++ >/dev/null 2>&1; then
    package_check "C++20 consumer, clang++ -Wall -Wextra -Wpedantic -Werror" check_cxx20 clang++
  fi
  stage_end package
fi

current="done"
