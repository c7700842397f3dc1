#ifndef OIDC_DETAIL_BACKOFF_HPP
#define OIDC_DETAIL_BACKOFF_HPP

// The jittered exponential backoff after failed fetches, shared by the token cache
// (CachingTokenSource), JwksCache and DiscoveryCache, so the rule exists once: the n-th failure in
// a row waits min * 2^(n-1), at most max, shortened by a random fraction of up to `jitter` so that
// clients that failed together do not retry together. Failures a retry cannot heal wait max at once.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

#include "oidc/error.hpp"

namespace oidc::detail {

struct BackoffPolicy {
  std::chrono::milliseconds min{1000};
  std::chrono::milliseconds max{60000};
  double jitter = 0.25;                       // fraction, clamped to [0, 1]
  std::function<double()> random_fraction{};  // in [0, 1); empty: the Backoff's own generator
};

// Errors that retrying cannot heal: the configuration or the request itself is wrong.
inline bool is_permanent_failure(const Error& e) noexcept {
  return e.code() == errc::config || e.code() == errc::insecure_url || e.code() == errc::invalid_request;
}

// Not thread-safe: the owner guards it with its own lock.
class Backoff {
 public:
  using duration = std::chrono::system_clock::duration;

  // Counts one more failure and returns how long to wait before the next attempt.
  duration record_failure(const BackoffPolicy& policy, bool permanent) {
    if (failures_ < 64) ++failures_;
    const auto factor = std::int64_t{1} << std::min<std::uint32_t>(failures_ - 1, 20);
    const auto base = permanent ? policy.max : std::min<std::chrono::milliseconds>(policy.min * factor, policy.max);
    double u = 0;
    try {
      u = policy.random_fraction ? policy.random_fraction() : std::uniform_real_distribution<double>(0.0, 1.0)(prng_);
    } catch (...) {  // a failing random source must not stop the backoff
    }
    const double cut = std::clamp(policy.jitter, 0.0, 1.0) * std::clamp(u, 0.0, 1.0);
    return std::chrono::duration_cast<duration>(base * (1.0 - cut));
  }

  void reset() noexcept { failures_ = 0; }
  [[nodiscard]] std::uint32_t failures() const noexcept { return failures_; }

 private:
  static std::uint32_t seed() {
    try {
      return std::random_device{}();
    } catch (...) {  // no entropy source: the jitter need not be unpredictable, only spread
      return static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
  }

  std::uint32_t failures_ = 0;
  std::minstd_rand prng_{seed()};
};

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_BACKOFF_HPP
