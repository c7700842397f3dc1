#ifndef OIDC_CLOCK_HPP
#define OIDC_CLOCK_HPP

#include <chrono>
#include <memory>

#include "oidc/cancel.hpp"
#include "oidc/export.hpp"

namespace oidc {

// Wall-clock time and sleeping, injectable so expiry and polling are testable without waiting.
// Token expiry is wall-clock (system_clock) because it is persisted and compared across restarts.
class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  virtual ~Clock() = default;
  [[nodiscard]] virtual time_point now() const = 0;
  // Sleeps for d unless cancel fires first; returns false when cancelled.
  virtual bool sleep_for(duration d, const CancelToken& cancel) const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const override { return std::chrono::system_clock::now(); }
  bool sleep_for(duration d, const CancelToken& cancel) const override { return !cancel.wait_for(d); }
};

namespace detail {
// The system clock read cheaply: CLOCK_REALTIME_COARSE where there is one (a few ms behind, about
// a fifth of the cost of a precise read), else system_clock::now(). For hot paths that compare
// against deadlines seconds away; defined in src/clock.cpp, which keeps <time.h> out of headers.
[[nodiscard]] OIDC_API std::chrono::system_clock::time_point coarse_system_now() noexcept;
}  // namespace detail

inline std::shared_ptr<const Clock> system_clock() {
  // One per shared object is harmless: SystemClock is stateless and recognised by type, not address.
  static const auto clock = std::make_shared<const SystemClock>();
  return clock;
}

}  // namespace oidc

#endif  // OIDC_CLOCK_HPP
