#ifndef OIDC_TOKEN_SOURCE_HPP
#define OIDC_TOKEN_SOURCE_HPP

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "oidc/clock.hpp"
#include "oidc/error.hpp"
#include "oidc/token.hpp"

namespace oidc {

// Anything that hands out valid tokens (golang.org/x/oauth2's TokenSource). Implementations are
// safe for concurrent use and hand out immutable tokens.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token that is valid now. Throws oidc::Error when none can be had.
  [[nodiscard]] virtual std::shared_ptr<const Token> token() = 0;
  // The Authorization header value for token(): "Bearer eyJ...".
  [[nodiscard]] virtual std::string authorization_header() { return token()->authorization_header(); }
  // Tells the source its token was refused (a resource server answered 401): a caching source
  // drops it so the next call renews. Sources that cannot renew ignore it.
  virtual void invalidate() {}
};

// Always the same token: for tests, and for tokens managed elsewhere.
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(Token t) : token_(std::make_shared<const Token>(std::move(t))) {}
  [[nodiscard]] std::shared_ptr<const Token> token() override { return token_; }

 private:
  std::shared_ptr<const Token> token_;
};

struct TokenSourceOptions {
  // A token with less than `skew` of life left is never handed out (it could expire in flight);
  // callers wait for a new one.
  std::chrono::seconds skew{30};
  // Renewal starts this long before the skew point, in the background: callers keep getting the
  // current token meanwhile, and if the renewal fails they still do until the skew point.
  std::chrono::seconds refresh_ahead{30};
  // Lifetime assumed for a token whose response had neither expires_in nor a JWT exp claim.
  std::chrono::seconds default_lifetime{300};
  // After a failed renewal, the next attempt waits min_backoff, doubling per failure up to
  // max_backoff. Meanwhile callers that need a new token get the last error at once.
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  // How long a caller waits for a renewal in flight before giving up with deadline_exceeded.
  // Giving up does not abort the renewal: other callers still get its result.
  std::chrono::milliseconds max_wait{60000};
  // Called with every new token (from the renewal thread) before it is served, e.g. to persist
  // a rotated refresh token. Must not throw; exceptions are swallowed.
  std::function<void(const Token&)> on_token{};
  // A token to start from (one restored from storage, or the result of an interactive login).
  std::optional<Token> initial{};
};

// Caches one grant's token and renews it once, however many threads ask (single flight).
//
// - Hit path: one atomic load and a thread-local lookup; no lock, no shared reference count, so
//   readers on different cores do not contend.
// - Renewal runs on its own thread; each caller waits with its own deadline, so a caller giving up
//   never cancels the renewal for the others.
// - A failed renewal is not cached as a token: it is reported to the callers that waited for it,
//   and the next attempt comes after a bounded exponential backoff.
class CachingTokenSource final : public TokenSource {
 public:
  // Produces a new token; `current` is the token being replaced (null when there is none), so the
  // function can use its refresh_token; `cancel` fires when the source is destroyed, and the
  // function should hand it to its requests (HttpRequest::cancel). Throws oidc::Error on failure.
  using Renew = std::function<Token(const std::shared_ptr<const Token>& current, const CancelToken& cancel)>;

  CachingTokenSource(Renew renew, std::shared_ptr<const Clock> clock, TokenSourceOptions options = {})
      : renew_(std::move(renew)), clock_(clock ? std::move(clock) : system_clock()), options_(std::move(options)) {
    if (options_.initial) entry_ = make_entry(std::make_shared<const Token>(std::move(*options_.initial)));
    options_.initial.reset();
  }

  CachingTokenSource(const CachingTokenSource&) = delete;
  CachingTokenSource& operator=(const CachingTokenSource&) = delete;

  ~CachingTokenSource() override {
    std::thread worker;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      worker = std::move(worker_);
    }
    if (worker.joinable()) worker.join();
  }

  [[nodiscard]] std::shared_ptr<const Token> token() override {
    // An aliasing pointer owned by this thread's own handle: handing it out does not write to the
    // token's shared reference count, whose cache line would bounce between cores.
    if (const Slot* s = cached(clock_->now())) return std::shared_ptr<const Token>(s->handle, s->handle->get());
    return acquire()->token;
  }

  [[nodiscard]] std::string authorization_header() override {
    if (const Slot* s = cached(clock_->now())) return s->entry->header;
    return acquire()->header;
  }

  // Forgets the cached token (say, a resource server answered 401): the next call renews. The
  // refresh token, if any, is kept for that renewal.
  void invalidate() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entry_) {
      auto e = std::make_shared<Entry>(*entry_);
      e->renew_at = e->stale_at = Token::time_point::min();
      publish_locked(std::move(e));
    }
  }

  // Renewals finished so far, successful or not: for tests and metrics.
  [[nodiscard]] std::uint64_t renewals() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_;
  }

 private:
  using time_point = Token::time_point;

  struct Entry {
    std::shared_ptr<const Token> token;
    std::string header;    // precomputed: the hit path only copies it
    time_point renew_at;   // background renewal starts here
    time_point stale_at;   // not handed out from here on (expiry - skew)
  };

  // Per-thread copies of recently used entries, keyed by a source id that is never reused (an
  // address could be, after a source is destroyed).
  struct Slot {
    std::uint64_t source = 0;
    std::uint64_t generation = 0;
    std::shared_ptr<const Entry> entry;
    std::shared_ptr<const std::shared_ptr<const Token>> handle;  // this thread's owner of entry->token
  };
  static constexpr std::size_t kSlots = 8;

  static std::uint64_t next_source_id() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
  }

  Slot& slot() {
    thread_local std::array<Slot, kSlots> slots{};
    thread_local std::size_t victim = 0;
    for (auto& s : slots)
      if (s.source == id_) return s;
    Slot& s = slots[victim++ % kSlots];
    s = Slot{id_, 0, nullptr, nullptr};
    return s;
  }

  // The hit path. A slot is current while the generation is unchanged: publish_locked() bumps it.
  const Slot* cached(time_point now) {
    const Slot& s = slot();
    if (!s.entry || s.generation != generation_.load(std::memory_order_acquire)) return nullptr;
    if (now >= s.entry->renew_at) return nullptr;
    return &s;
  }

  std::shared_ptr<const Entry> make_entry(std::shared_ptr<const Token> t) const {
    auto e = std::make_shared<Entry>();
    const time_point expiry = t->expiry ? *t->expiry : t->received_at + options_.default_lifetime;
    e->stale_at = expiry - options_.skew;
    e->renew_at = e->stale_at - options_.refresh_ahead;
    e->header = t->authorization_header();
    e->token = std::move(t);
    return e;
  }

  void publish_locked(std::shared_ptr<const Entry> e) {
    entry_ = std::move(e);
    generation_.fetch_add(1, std::memory_order_release);
  }

  // The slow path: serve, renew in the background, or wait for a renewal.
  std::shared_ptr<const Entry> acquire() {
    // Saturating: a "forever" max_wait must not overflow the time point.
    const auto start = std::chrono::steady_clock::now();
    const auto room =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::time_point::max() - start);
    const auto give_up =
        options_.max_wait >= room ? std::chrono::steady_clock::time_point::max() : start + options_.max_wait;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      const time_point now = clock_->now();
      if (entry_ && now < entry_->renew_at) {
        Slot& s = slot();
        s.entry = entry_;
        s.handle = std::make_shared<const std::shared_ptr<const Token>>(entry_->token);
        s.generation = generation_.load(std::memory_order_relaxed);
        return entry_;
      }
      if (entry_ && now < entry_->stale_at) {
        // Early window: renew in the background, keep serving the current token.
        if (!in_flight_ && now >= next_attempt_) start_renewal_locked();
        return entry_;
      }
      if (!in_flight_) {
        if (last_error_ && now < next_attempt_) std::rethrow_exception(last_error_);
        start_renewal_locked();
      }
      const std::uint64_t attempt = started_;
      if (!done_.wait_until(lock, give_up, [&] { return completed_ >= attempt; }))
        throw Error(errc::deadline_exceeded, "token source", "gave up waiting for the token renewal in flight");
      if (failed_attempt_ == attempt) std::rethrow_exception(last_error_);
    }
  }

  void start_renewal_locked() {
    ++started_;
    in_flight_ = true;
    if (worker_.joinable()) worker_.join();  // the previous renewal has already finished
    worker_ = std::thread([this, current = entry_ ? entry_->token : nullptr, attempt = started_] {
      renew_in_background(current, attempt);
    });
  }

  void renew_in_background(const std::shared_ptr<const Token>& current, std::uint64_t attempt) {
    std::shared_ptr<const Entry> fresh;
    std::exception_ptr error;
    try {
      auto t = std::make_shared<const Token>(renew_(current, cancel_));
      if (options_.on_token) {
        try {
          options_.on_token(*t);
        } catch (...) {  // persisting is the application's business; the token is still good
        }
      }
      fresh = make_entry(std::move(t));
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (fresh) {
        publish_locked(std::move(fresh));
        failures_ = 0;
        failed_attempt_ = 0;
        next_attempt_ = time_point::min();
        last_error_ = nullptr;
      } else {
        ++failures_;
        const auto factor = std::int64_t{1} << std::min<std::uint32_t>(failures_ - 1, 20);
        const auto backoff = std::min<std::chrono::milliseconds>(options_.min_backoff * factor, options_.max_backoff);
        next_attempt_ = clock_->now() + backoff;
        last_error_ = error;
        failed_attempt_ = attempt;
      }
      completed_ = attempt;
      in_flight_ = false;
    }
    done_.notify_all();
  }

  const Renew renew_;
  CancelToken cancel_;
  const std::shared_ptr<const Clock> clock_;
  TokenSourceOptions options_;
  const std::uint64_t id_ = next_source_id();

  std::atomic<std::uint64_t> generation_{1};
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::shared_ptr<const Entry> entry_;
  bool in_flight_ = false;
  std::uint64_t started_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t failed_attempt_ = 0;
  std::uint32_t failures_ = 0;
  time_point next_attempt_ = time_point::min();
  std::exception_ptr last_error_;
  std::thread worker_;
};

}  // namespace oidc

#endif  // OIDC_TOKEN_SOURCE_HPP
