#!/usr/bin/env bash
# Builds the benchmarks in Release (build/bench, CMake preset "bench") and runs them:
# 1. client-credentials requests to the embedded provider over one keep-alive connection, through
#    oidc::Client versus a plain libcurl loop, ending with the line "ratio library/plain: ...";
# 2. the token cache: hit latency on 1 and 2 threads against a mutex-guarded cache, and 64 threads
#    on one expired token, ending with the "cache hit: ..." lines;
# 3. ID token validation against a bare EVP_DigestVerify;
# 4. the Redis fleet store: 100 racer processes on a loopback redis-server over simulated
#    expiries, ending with the "fleet: ..." and "cache hit through Redis: ..." lines.
# See docs/performance.md.
#
#   ./scripts/bench.sh                                  5 interleaved repetitions, medians
#   OIDC_BENCH_REPETITIONS=10 ./scripts/bench.sh
#   ./scripts/bench.sh --benchmark_filter=Plain         extra Google Benchmark flags
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

scripts/setup-debian.sh bench

build_dir=build/bench
echo "Building the benchmarks (Release, $build_dir) ..."
build_preset_quietly bench "$build_dir" bench.sh

echo "Running on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Interleaved repetitions: background load on a small machine then hits every variant alike.
"$build_dir/benchmarks/oidc_client_credentials_benchmark" --benchmark_repetitions="${OIDC_BENCH_REPETITIONS:-5}" \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true "$@"
# The cache benchmarks set their own repetitions (medians of 5).
"$build_dir/benchmarks/oidc_token_source_benchmark" "$@"
# ID token validation against a bare EVP_DigestVerify (paired; ratio lines last).
if [[ -x "$build_dir/benchmarks/oidc_id_token_benchmark" ]]; then "$build_dir/benchmarks/oidc_id_token_benchmark" "$@"; fi
# The Redis fleet store (built when hiredis and redis-server are there; summary lines last).
if [[ -x "$build_dir/benchmarks/oidc_redis_fleet_benchmark" ]]; then "$build_dir/benchmarks/oidc_redis_fleet_benchmark" "$@"; fi
