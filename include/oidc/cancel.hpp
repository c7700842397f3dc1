#ifndef OIDC_CANCEL_HPP
#define OIDC_CANCEL_HPP

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace oidc {

/// A shared cancellation flag: copies observe the same state, so an app keeps one copy and hands
/// another to a blocking call (device polling, a cache wait, a request in flight).
///
/// cancel() wakes sleepers at once. Every member is thread-safe; cancellation cannot be undone.
class CancelToken {
 public:
  /// A new flag, not cancelled, shared by every copy made of this one.
  CancelToken() : state_(std::make_shared<State>()) {}

  /// Sets the flag and wakes every wait_for() on any copy; calling it again does nothing more.
  void cancel() const {
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      state_->cancelled = true;
    }
    state_->cv.notify_all();
  }

  /// Whether cancel() has been called on any copy.
  [[nodiscard]] bool cancelled() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->cancelled;
  }

  /// Blocks for up to \p d; returns true if cancelled (before or during the wait), false on timeout.
  bool wait_for(std::chrono::nanoseconds d) const {
    std::unique_lock<std::mutex> lock(state_->mutex);
    return state_->cv.wait_for(lock, d, [&] { return state_->cancelled; });
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    bool cancelled = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace oidc

#endif  // OIDC_CANCEL_HPP
