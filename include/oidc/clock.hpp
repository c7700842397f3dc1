#ifndef OIDC_CLOCK_HPP
#define OIDC_CLOCK_HPP

#include <chrono>
#include <memory>

#include "oidc/cancel.hpp"
#include "oidc/export.hpp"

namespace oidc {

/// Wall-clock time and sleeping, injectable so expiry and polling are testable without waiting.
/// Token expiry is wall-clock (system_clock) because it is persisted and compared across restarts.
/// Implementations must be safe to call from many threads at once.
class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;  ///< Wall-clock time.
  using duration = std::chrono::system_clock::duration;      ///< A span of wall-clock time.

  virtual ~Clock() = default;
  [[nodiscard]] virtual time_point now() const = 0;  ///< The current time.
  /// Sleeps for \p d unless \p cancel fires first; returns false when cancelled. A test clock
  /// may advance its now() instead of waiting.
  virtual bool sleep_for(duration d, const CancelToken& cancel) const = 0;
};

/// The real clock: std::chrono::system_clock, and a sleep that wakes at once on cancel().
class SystemClock final : public Clock {
 public:
  /// std::chrono::system_clock::now().
  [[nodiscard]] time_point now() const override { return std::chrono::system_clock::now(); }
  /// Waits on \p cancel for up to \p d (CancelToken::wait_for); false when cancelled.
  bool sleep_for(duration d, const CancelToken& cancel) const override { return !cancel.wait_for(d); }
};

namespace detail {
// The system clock read cheaply: CLOCK_REALTIME_COARSE where there is one (a few ms behind, about
// a fifth of the cost of a precise read), else system_clock::now(). For hot paths that compare
// against deadlines seconds away; defined in src/clock.cpp, which keeps <time.h> out of headers.
[[nodiscard]] OIDC_API std::chrono::system_clock::time_point coarse_system_now() noexcept;
}  // namespace detail

/// A shared SystemClock: what a Client, a token source or a cache uses when given no clock.
inline std::shared_ptr<const Clock> system_clock() {
  // One per shared object is harmless: SystemClock is stateless and recognised by type, not address.
  static const auto clock = std::make_shared<const SystemClock>();
  return clock;
}

}  // namespace oidc

#endif  // OIDC_CLOCK_HPP
