#ifndef OIDC_DETAIL_SINGLE_FLIGHT_HPP
#define OIDC_DETAIL_SINGLE_FLIGHT_HPP

// One fetch in flight however many threads ask (JwksCache, DiscoveryCache): the first caller that
// needs a fetch leads it on its own thread; the others wait for its result, each with its own
// deadline, and get the same value or the same exception. A waiter giving up never aborts the
// fetch for the others (golang/oauth2#262); the leader's own wait is bounded by its request's
// timeout.
//
// The owner's state (the cached value, its times, its backoff) is guarded by the same mutex, so
// "is a fetch in flight, and if not, is one needed" is one decision: two callers cannot both
// decide to fetch.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "oidc/clock.hpp"
#include "oidc/detail/backoff.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"

namespace oidc::detail {

// A deadline `wait` from now on the steady clock, saturating (a "forever" wait must not overflow).
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds wait) {
  const auto start = std::chrono::steady_clock::now();
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::time_point::max() - start);
  return wait >= room ? std::chrono::steady_clock::time_point::max() : start + wait;
}

template <class T>
class SingleFlight {
 public:
  using Value = std::shared_ptr<const T>;
  using Lock = std::unique_lock<std::mutex>;

  // Guards the flight and the owner's state.
  [[nodiscard]] std::mutex& mutex() const noexcept { return mutex_; }

  // With the lock held: whether a fetch is in flight.
  [[nodiscard]] bool in_flight(const Lock&) const noexcept { return current_ != nullptr; }

  // With the lock held and a fetch in flight: waits for it until `deadline`. Returns its value or
  // rethrows its exception; nullopt when the deadline passed first (the fetch goes on).
  std::optional<Value> wait(Lock& lock, std::chrono::steady_clock::time_point deadline) const {
    const std::shared_ptr<Flight> flight = current_;
    if (!flight) return std::nullopt;
    ++waiting_;
    const bool done = done_.wait_until(lock, deadline, [&] { return flight->done; });
    --waiting_;
    if (!done) return std::nullopt;
    if (flight->error) std::rethrow_exception(flight->error);
    return flight->value;
  }

  // With the lock held and no fetch in flight: leads one. `fetch()` runs with the lock released
  // and returns the value or throws; `settle(value, error)` runs with the lock held before any
  // waiter wakes, to update the owner's state, and must not throw. Returns with the lock held,
  // the value, or rethrows the fetch's exception.
  template <class Fetch, class Settle>
  Value lead(Lock& lock, Fetch&& fetch, Settle&& settle) {
    auto flight = std::make_shared<Flight>();
    current_ = flight;
    ++started_;
    lock.unlock();
    Value value;
    std::exception_ptr error;
    try {
      value = fetch();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    settle(value, error);
    flight->value = value;
    flight->error = error;
    flight->done = true;
    current_.reset();
    done_.notify_all();
    if (error) std::rethrow_exception(error);
    return value;
  }

  // With the lock held: fetches started so far, and callers waiting for the one in flight.
  [[nodiscard]] std::uint64_t started(const Lock&) const noexcept { return started_; }
  [[nodiscard]] std::size_t waiting(const Lock&) const noexcept { return waiting_; }

 private:
  struct Flight {
    bool done = false;
    Value value;
    std::exception_ptr error;
  };

  mutable std::mutex mutex_;
  mutable std::condition_variable done_;
  std::shared_ptr<Flight> current_;  // null: none in flight
  std::uint64_t started_ = 0;
  mutable std::size_t waiting_ = 0;
};

// A document fetched on demand and kept for a lifetime (JwksCache, DiscoveryCache): fetched when
// there is none, when it expired, or when the owner has another reason (a kid it lacks) and the
// last attempt is older than `min_refetch`; one fetch in flight (SingleFlight); after a failure,
// the next attempt waits a Backoff, and meanwhile the previous value is served (stale keys or
// endpoints are better than none) until it is older than `max_stale`, or the last error is
// rethrown at once when there is nothing to serve, so an outage is not hammered.
template <class T>
class RefreshingValue {
 public:
  using Value = std::shared_ptr<const T>;
  using time_point = Clock::time_point;
  using duration = Clock::duration;

  struct Policy {
    duration min_refetch{std::chrono::seconds{60}};  // least time between two attempts for `extra` reasons
    duration min_lifetime{std::chrono::seconds{60}};  // bound below a server's max-age
    duration max_lifetime{std::chrono::hours{24}};
    std::optional<duration> max_stale{};  // age beyond which a value is no longer served on failure
    std::chrono::milliseconds max_wait{30000};
    BackoffPolicy backoff{};
  };

  // What a fetch produced: the value and the server's max-age, if it gave one.
  struct Fetched {
    Value value;
    std::optional<std::chrono::seconds> max_age;
  };

  // The current value, fetching as described above. `fetch()` returns a Fetched or throws
  // oidc::Error; `extra(const T&)` says whether the owner wants a refetch of a fresh value.
  template <class Fetch, class Extra>
  Value get(const Clock& clock, const Policy& policy, Fetch&& fetch, Extra&& extra,
            const std::string& operation) const {
    const auto give_up = deadline_after(policy.max_wait);
    const time_point now = clock.now();
    typename SingleFlight<T>::Lock lock(flight_.mutex());
    const auto servable = [&] {
      return value_ && (!policy.max_stale || now - fetched_at_ <= *policy.max_stale);
    };
    if (flight_.in_flight(lock)) {
      try {
        if (auto v = flight_.wait(lock, give_up)) return *v;
      } catch (const Error&) {
        if (servable()) return value_;
        throw;
      }
      if (servable()) return value_;
      throw Error(errc::deadline_exceeded, operation, "gave up waiting for the fetch in flight");
    }
    const bool expired = value_ && now >= expires_at_;
    const bool wanted = value_ && !expired &&
                        (last_attempt_ == time_point::min() || now - last_attempt_ >= policy.min_refetch) &&
                        extra(*value_);
    if (value_ && !expired && !wanted) return value_;
    if (now < next_attempt_) {  // backing off
      if (servable()) return value_;
      std::rethrow_exception(last_error_);
    }
    last_attempt_ = now;
    std::optional<std::chrono::seconds> max_age;
    try {
      return flight_.lead(
          lock,
          [&]() -> Value {
            try {
              Fetched f = fetch();
              max_age = f.max_age;
              return std::move(f.value);
            } catch (const Error&) {
              throw;
            } catch (const std::exception& e) {  // callers and waiters only ever see oidc::Error
              throw Error(errc::transport, operation, "unexpected exception: " + printable(e.what(), 200));
            }
          },
          [&](const Value& v, const std::exception_ptr& error) { settle(clock, policy, v, error, max_age); });
    } catch (const Error&) {
      if (servable()) return value_;
      throw;
    }
  }

  // Fetches started so far, and callers waiting for the one in flight: for tests and metrics.
  [[nodiscard]] std::uint64_t fetches() const {
    typename SingleFlight<T>::Lock lock(flight_.mutex());
    return flight_.started(lock);
  }
  [[nodiscard]] std::size_t waiting() const {
    typename SingleFlight<T>::Lock lock(flight_.mutex());
    return flight_.waiting(lock);
  }

 private:
  void settle(const Clock& clock, const Policy& policy, const Value& v, const std::exception_ptr& error,
              std::optional<std::chrono::seconds> max_age) const noexcept {
    time_point now = last_attempt_;
    try {
      now = clock.now();
    } catch (...) {  // keep the time of the attempt
    }
    if (!error) {
      duration life = policy.max_lifetime;
      if (max_age && *max_age < life) life = std::max<duration>(*max_age, policy.min_lifetime);
      value_ = v;
      fetched_at_ = now;
      expires_at_ = now + life;
      backoff_.reset();
      next_attempt_ = time_point::min();
      last_error_ = nullptr;
      return;
    }
    bool permanent = false;
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      permanent = is_permanent_failure(e);
    } catch (...) {
    }
    next_attempt_ = now + backoff_.record_failure(policy.backoff, permanent);
    last_error_ = error;
  }

  mutable SingleFlight<T> flight_;
  // Guarded by flight_.mutex().
  mutable Value value_;
  mutable time_point fetched_at_{};
  mutable time_point expires_at_{};
  mutable time_point last_attempt_ = time_point::min();
  mutable time_point next_attempt_ = time_point::min();
  mutable std::exception_ptr last_error_;
  mutable Backoff backoff_;
};

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_SINGLE_FLIGHT_HPP
