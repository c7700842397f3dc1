#ifndef OIDC_TESTS_FAKE_CLOCK_HPP
#define OIDC_TESTS_FAKE_CLOCK_HPP

#include <chrono>
#include <mutex>
#include <vector>

#include "oidc/clock.hpp"

namespace oidc_testing {

// A clock that only moves when told to; sleep_for advances it instantly and records the duration,
// so polling intervals are asserted without waiting.
class FakeClock final : public oidc::Clock {
 public:
  explicit FakeClock(time_point start = time_point{std::chrono::seconds{1'700'000'000}}) : now_(start) {}

  [[nodiscard]] time_point now() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }
  bool sleep_for(duration d, const oidc::CancelToken& cancel) const override {
    if (cancel.cancelled()) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    sleeps_.push_back(d);
    now_ += d;
    return true;
  }

  void advance(duration d) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ += d;
  }
  void set(time_point t) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ = t;
  }
  [[nodiscard]] std::vector<duration> sleeps() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sleeps_;
  }

 private:
  mutable std::mutex mutex_;
  mutable time_point now_;
  mutable std::vector<duration> sleeps_;
};

}  // namespace oidc_testing

#endif  // OIDC_TESTS_FAKE_CLOCK_HPP
