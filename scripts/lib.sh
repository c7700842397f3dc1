# Shared by the scripts in this folder; sourced, not run.

# Prints the -G arguments for a build dir: keep what an existing cache uses, else $CMAKE_GENERATOR,
# else Ninja when installed (one per line, for mapfile).
generator_for() {
  local cache=$1/CMakeCache.txt gen=""
  if [[ -f $cache ]]; then
    gen=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")
  elif [[ -n ${CMAKE_GENERATOR:-} ]]; then
    gen=$CMAKE_GENERATOR
  elif command -v ninja >/dev/null 2>&1; then
    gen=Ninja
  fi
  [[ -z $gen ]] || printf '%s\n' -G "$gen"
}

# Configures and builds a CMake preset whose binaryDir is $2, quietly: the log is shown only when a
# step fails, and then the calling script ($3 names it) exits.
build_preset_quietly() {
  local preset=$1 build_dir=$2 who=$3 log
  local -a generator
  mapfile -t generator < <(generator_for "$build_dir")
  log=$(mktemp)
  if ! cmake --preset "$preset" "${generator[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "$who: CMake configure failed" >&2
    exit 1
  fi
  if ! cmake --build --preset "$preset" -j "${OIDC_JOBS:-2}" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "$who: build failed" >&2
    exit 1
  fi
  rm -f "$log"
}
