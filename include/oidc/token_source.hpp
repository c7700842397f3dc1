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
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/clock.hpp"
#include "oidc/detail/backoff.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"
#include "oidc/export.hpp"
#include "oidc/token.hpp"
#include "oidc/token_store.hpp"

namespace oidc {

/// Anything that hands out valid tokens (golang.org/x/oauth2's TokenSource). Implementations are
/// safe for concurrent use and hand out immutable tokens.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  /// A token that is valid now; never null.
  /// \throws oidc::Error when none can be had.
  [[nodiscard]] virtual std::shared_ptr<const Token> token() = 0;
  /// The Authorization header value for token(): "Bearer eyJ...". A credential: never log it.
  [[nodiscard]] virtual std::string authorization_header() { return token()->authorization_header(); }
  /// Tells the source that a token was refused (a resource server answered 401): a caching source
  /// drops it if it is still its current token, so any number of requests refused with one token
  /// cause one renewal. Sources that cannot renew ignore it.
  virtual void invalidate(const Token& /*refused*/) {}
  /// Drops the current token, whichever it is: the next call renews. For a refusal, prefer
  /// invalidate(const Token&), which cannot drop a token renewed meanwhile.
  virtual void invalidate() {}
};

/// Always the same token: for tests, and for tokens managed elsewhere. It never checks expiry
/// and never renews.
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(Token t) : token_(std::make_shared<const Token>(std::move(t))) {}  ///< Serves \p t.
  [[nodiscard]] std::shared_ptr<const Token> token() override { return token_; }  ///< The token given, expired or not.

 private:
  std::shared_ptr<const Token> token_;
};

/// How a CachingTokenSource times, retries and reports renewals, and where it keeps tokens.
///
/// Timing rule, per token, with lifetime = expiry - received_at (default_lifetime when the expiry
/// is unknown):
///
/// ~~~
/// renew_at     = expiry - skew' - refresh_ahead'   background renewal starts
/// stale_at     = expiry - skew'                    callers wait for the renewal
/// usable_until = expiry - safety_margin'           served while renewal fails
/// ~~~
///
/// where skew' and refresh_ahead' are the options capped at a quarter of the lifetime each, and
/// safety_margin' is capped at a twentieth (all 0 when expiry <= received_at). So a token is used
/// for at least half its lifetime, and a short one (60 s, 5 s) does not renew on every call. A
/// renewal never starts less than min_interval after the previous one obtained its token: until
/// then that token is served even if the rule calls it stale (1 s tokens, an expiry in the past),
/// and the callers that waited for a renewal always get its token.
struct TokenSourceOptions {
  /// A token with less than `skew` of life left is not handed out (it could expire in flight):
  /// callers wait for a new one.
  std::chrono::seconds skew{30};
  /// Renewal starts this long before the skew point, in the background: callers keep getting the
  /// current token meanwhile.
  std::chrono::seconds refresh_ahead{30};
  /// While renewal fails (the provider is down), the current token is still served until its
  /// expiry minus this margin, rather than failing every call while it is still good. The price:
  /// a token revoked at the provider is used until then (a resource server's 401 still drops it,
  /// see invalidate).
  std::chrono::seconds safety_margin{5};
  /// Lifetime assumed for a token whose response had neither expires_in nor a JWT exp claim.
  std::chrono::seconds default_lifetime{300};
  /// Least time between obtaining a token and starting the next renewal (invalidate bypasses it).
  std::chrono::milliseconds min_interval{1000};
  /// \name Backoff
  /// After a failed renewal, the next attempt waits min_backoff, doubling per failure up to
  /// max_backoff; failures that cannot heal by retrying (errc::config, errc::insecure_url,
  /// errc::invalid_request) wait max_backoff at once. Meanwhile callers without a usable token get
  /// the last error at once.
  ///@{
  std::chrono::milliseconds min_backoff{1000};   ///< Wait after the first failure in a row.
  std::chrono::milliseconds max_backoff{60000};  ///< Longest wait.
  /// Each backoff is shortened by up to this fraction, at random, so that clients that failed
  /// together do not retry together.
  double backoff_jitter = 0.25;
  /// The randomness for the jitter: a number in [0, 1). Empty: a generator per source. Tests make
  /// it deterministic.
  std::function<double()> random_fraction{};
  ///@}
  /// How long a caller waits for a renewal in flight before giving up (then it gets the current
  /// token if still usable, else `errc::deadline_exceeded`). Giving up does not abort the renewal:
  /// other callers still get its result.
  std::chrono::milliseconds max_wait{60000};
  /// Called on the renewal thread with every new token, and the token it replaces (null at first),
  /// before on_token and before it is served: throwing rejects the token, and the renewal fails
  /// with that error (callers, on_error, backoff). Client::id_token_validator() makes one that
  /// validates every ID token a source receives (OIDC Core §3.1.3.7, §12.2).
  std::function<void(const Token& fresh, const Token* replaced)> validate{};
  /// Called on the renewal thread with every new token before it is served, such as to persist a
  /// rotated refresh token. If it throws, the exception goes to on_error and the token is still used.
  std::function<void(const Token&)> on_token{};
  /// Called on the renewal thread with every failed renewal and every exception from on_token (a
  /// renewal thread that cannot be started is reported on the calling thread). Exceptions from it
  /// are ignored: there is nowhere left to report them. Error messages hold no secrets, so they
  /// may be logged.
  std::function<void(const Error&)> on_error{};
  /// A token to start from (one restored from storage, or the result of an interactive login).
  std::optional<Token> initial{};
  /// Where tokens are kept across restarts and shared between processes (TokenStore). With one,
  /// the source starts from the store's token for store_key (unless `initial` is set), and every
  /// renewal takes the store's lock, re-reads the store, and uses a token renewed elsewhere (one
  /// that is not the current one and not yet due for renewal) without a request; otherwise it
  /// renews from the store's token (its refresh token is the newest) and saves the result before
  /// serving it. A stored token whose refresh token this source redeemed already is ignored: the
  /// store missed this source's save (it was unreachable), and that refresh token is spent. A failed save goes to on_error; the token is still served, as a rotated refresh
  /// token would otherwise be lost. Client::token_source fills store_key from its configuration and
  /// the grant.
  std::shared_ptr<TokenStore> store{};
  /// The key of this source's token in \ref store; required with a store (Client::token_source
  /// derives it).
  std::optional<TokenKey> store_key{};
  /// How long a renewal waits for another holder of the store's lock (`errc::store` after it).
  std::chrono::milliseconds store_lock_timeout{30000};
};

namespace detail {
// The timing rule above, for one token.
struct TokenTimes {
  Token::time_point renew_at, stale_at, usable_until;
};
inline TokenTimes token_times(const TokenSourceOptions& o, const Token& t, Token::time_point obtained) {
  using duration = Token::time_point::duration;
  const auto scaled = [](duration d, duration lifetime, int divisor) {
    return lifetime <= duration::zero() ? duration::zero() : std::min(d, lifetime / divisor);
  };
  const Token::time_point received = t.received_at != Token::time_point{} ? t.received_at : obtained;
  const Token::time_point expiry = t.expiry ? *t.expiry : received + o.default_lifetime;
  const duration lifetime = expiry - received;
  TokenTimes times{};
  times.stale_at = expiry - scaled(o.skew, lifetime, 4);
  times.renew_at = times.stale_at - scaled(o.refresh_ahead, lifetime, 4);
  times.usable_until = std::max(times.stale_at, expiry - scaled(o.safety_margin, lifetime, 20));
  return times;
}

// Starts a token source's renewal thread. A seam for tests, which make it fail as thread creation
// does under EAGAIN; null means std::thread.
using ThreadStarter = std::thread (*)(std::function<void()>);
// Defined in src/token_source.cpp: one seam for the process, whichever shared object sets or reads it.
OIDC_API std::atomic<ThreadStarter>& token_source_thread_starter() noexcept;
}  // namespace detail

/// Caches one grant's token and renews it once, however many threads ask (single flight).
///
/// - Hit path: one atomic load, a thread-local lookup and a clock read (a coarse one for the system
///   clock); no lock and no write to shared memory, so readers on different cores do not contend.
/// - Renewal runs on one long-lived thread per source, started on first need. Each caller waits
///   with its own deadline, so a caller giving up never cancels the renewal for the others.
/// - A failed renewal is not cached as a token: it is reported to the callers that waited for it
///   and to on_error, and the next attempt comes after a bounded, jittered exponential backoff.
/// - Destruction does not wait for a renewal in flight: it fires the renewal's CancelToken and
///   leaves the thread to finish on its own; the result is dropped and no hook is called after the
///   destructor returned. It does wait for a hook that is running (unless called from that hook).
///
/// Timing and hooks: TokenSourceOptions. Client::token_source() makes one for each grant.
class CachingTokenSource final : public TokenSource {
 public:
  /// Produces a new token; `current` is the token being replaced (null when there is none), so the
  /// function can use its refresh_token; `cancel` fires when the source is destroyed, and the
  /// function should hand it to its requests (HttpRequest::cancel). It may still run after the
  /// source is destroyed, so it must own (capture by value) what it uses. Throws oidc::Error on
  /// failure; any other exception is reported as `errc::transport`.
  using Renew = std::function<Token(const std::shared_ptr<const Token>& current, const CancelToken& cancel)>;

  /// A source that renews with \p renew on \p clock (null: system_clock()), starting from
  /// options.initial or, with options.store, the store's token. Nothing is requested yet.
  /// \throws oidc::Error with options.store: what the store's first load() throws
  ///         (`errc::store_mismatch`, `errc::store`), and `errc::config` without options.store_key.
  CachingTokenSource(Renew renew, std::shared_ptr<const Clock> clock, TokenSourceOptions options = {})
      : state_(make_state(std::move(renew), clock ? std::move(clock) : system_clock(), std::move(options))) {
    State& s = *state_;
    if (s.options.initial) {
      const time_point now = s.clock->now();
      s.publish(s.make_entry(std::make_shared<const Token>(std::move(*s.options.initial)), now, false));
    }
    s.options.initial.reset();
  }

  CachingTokenSource(const CachingTokenSource&) = delete;
  CachingTokenSource& operator=(const CachingTokenSource&) = delete;

  ~CachingTokenSource() override {
    State& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    s.shutdown = true;
    const bool on_worker = worker_.joinable() && worker_.get_id() == std::this_thread::get_id();
    // A hook may use what its owner destroys right after this destructor: let it finish.
    if (!on_worker) s.done.wait(lock, [&] { return s.phase != Phase::hooks; });
    const bool abandon = on_worker || s.phase == Phase::renewing;
    lock.unlock();
    s.cancel.cancel();
    s.wake.notify_all();
    if (!worker_.joinable()) return;
    // The worker owns the state, so it can outlive the source; an idle one exits at once.
    if (abandon) {
      worker_.detach();
    } else {
      worker_.join();
    }
  }

  /// The current token when it is fresh (no lock); otherwise waits up to options.max_wait for the
  /// renewal, starting one if needed.
  /// \throws oidc::Error the renewal's error (at once while backing off after a failure) when no
  ///         usable token is left; `errc::deadline_exceeded` when the wait ran out.
  [[nodiscard]] std::shared_ptr<const Token> token() override {
    // An aliasing pointer owned by this thread's own handle: handing it out does not write to the
    // token's shared reference count, whose cache line would bounce between cores.
    if (const Slot* s = cached()) return std::shared_ptr<const Token>(s->handle, s->handle->get());
    return acquire()->token;
  }

  /// token()'s Authorization header value, precomputed per token (the hit path only copies it).
  [[nodiscard]] std::string authorization_header() override {
    if (const Slot* s = cached()) return s->entry->header;
    return acquire()->header;
  }

  /// Drops \p refused if it is still the current token (compared by access token): concurrent 401s
  /// for one token cause one renewal, and a token renewed meanwhile is kept. The refresh token is
  /// kept for the renewal.
  void invalidate(const Token& refused) override {
    State& s = *state_;
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.entry && !s.dropped &&
        (s.entry->token.get() == &refused || s.entry->token->access_token.equals(refused.access_token.expose())))
      s.drop();
  }

  /// Drops the current token unconditionally (say, the application knows its grants changed).
  void invalidate() override {
    State& s = *state_;
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.entry) s.drop();
  }

  /// Renewals finished so far, successful or not: for tests and metrics.
  [[nodiscard]] std::uint64_t renewals() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->completed;
  }

  /// True while a renewal has been started and not finished: for tests and metrics.
  [[nodiscard]] bool renewing() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->in_flight;
  }

 private:
  using time_point = Token::time_point;
  using duration = Clock::duration;

  struct Entry {
    std::shared_ptr<const Token> token;
    std::string header;       // precomputed: the hit path only copies it
    time_point renew_at;      // background renewal starts here
    time_point stale_at;      // callers wait for a renewal from here on
    time_point usable_until;  // served while renewal fails until here
    time_point grace_until;   // min_interval after a renewal obtained it: served, not renewed
  };

  enum class Phase { idle, renewing, hooks };

  // Everything the renewal thread touches: shared by the source and its thread, so the thread can
  // finish after the source is gone.
  struct State {
    State(Renew r, std::shared_ptr<const Clock> c, TokenSourceOptions o)
        : renew(std::move(r)),
          clock(std::move(c)),
          coarse(dynamic_cast<const SystemClock*>(clock.get()) != nullptr),
          options(std::move(o)) {}

    const Renew renew;
    const std::shared_ptr<const Clock> clock;
    const bool coarse;  // the clock is the system clock: hits may read it coarsely
    TokenSourceOptions options;
    CancelToken cancel;

    // The entry hits may serve, null when there is none. Compared, never dereferenced, until a
    // thread's slot is found holding it: a held entry cannot share its address with another.
    std::atomic<const Entry*> current{nullptr};

    std::mutex mutex;
    std::condition_variable done;  // a renewal or a hook finished
    std::condition_variable wake;  // work for the renewal thread, or shutdown
    std::shared_ptr<const Entry> entry;
    bool dropped = false;  // invalidated: not served, but its refresh token is used
    bool requested = false;
    bool in_flight = false;
    bool shutdown = false;
    Phase phase = Phase::idle;
    std::uint64_t started = 0;
    std::uint64_t completed = 0;
    std::uint64_t succeeded = 0;  // the last attempt that produced a token
    detail::Backoff backoff;
    time_point requested_at{};
    time_point next_attempt = time_point::min();
    std::exception_ptr last_error;

    std::shared_ptr<const Entry> make_entry(std::shared_ptr<const Token> t, time_point obtained,
                                            bool by_renewal) const {
      auto e = std::make_shared<Entry>();
      const detail::TokenTimes times = detail::token_times(options, *t, obtained);
      e->renew_at = times.renew_at;
      e->stale_at = times.stale_at;
      e->usable_until = times.usable_until;
      e->grace_until = by_renewal ? obtained + options.min_interval : time_point::min();
      e->header = t->authorization_header();
      e->token = std::move(t);
      return e;
    }

    void publish(std::shared_ptr<const Entry> e) {
      entry = std::move(e);
      dropped = false;
      current.store(entry.get(), std::memory_order_release);
    }

    void drop() {
      dropped = true;
      current.store(nullptr, std::memory_order_release);
    }

    // Never throws: the thread must not die, and failures are data here.
    void report(const Error& e) const noexcept { report_to(options.on_error, e); }

    void record_failure(const Error& e, time_point now) {
      const detail::BackoffPolicy policy{options.min_backoff, options.max_backoff, options.backoff_jitter,
                                         options.random_fraction};
      next_attempt = now + backoff.record_failure(policy, detail::is_permanent_failure(e));
      last_error = std::make_exception_ptr(e);
    }
  };

  // Never throws: the renewal thread must not die, and failures are data here.
  static void report_to(const std::function<void(const Error&)>& on_error, const Error& e) noexcept {
    if (!on_error) return;
    try {
      on_error(e);
    } catch (...) {  // documented: ignored
    }
  }

  static std::shared_ptr<State> make_state(Renew renew, std::shared_ptr<const Clock> clock, TokenSourceOptions o) {
    if (o.store) {
      if (!o.store_key) throw Error(errc::config, "token source", "a token store needs a store_key");
      if (!o.initial) o.initial = o.store->load(*o.store_key);
      renew = through_store(std::move(renew), clock, o);
    }
    return std::make_shared<State>(std::move(renew), std::move(clock), std::move(o));
  }

  // The refresh tokens a source's last renewals redeemed (a few: a stale record is at most one or
  // two renewals behind), compared in constant time.
  struct SpentRefreshTokens {
    void add(const Secret& refresh_token) {
      if (refresh_token.empty()) return;
      std::lock_guard<std::mutex> lock(mutex);
      if (tokens.size() == 4) tokens.erase(tokens.begin());
      tokens.push_back(refresh_token);
    }
    [[nodiscard]] bool redeemed(const Secret& refresh_token) const {
      if (refresh_token.empty()) return false;
      std::lock_guard<std::mutex> lock(mutex);
      return std::any_of(tokens.begin(), tokens.end(),
                         [&](const Secret& t) { return t.equals(refresh_token.expose()); });
    }
    mutable std::mutex mutex;
    std::vector<Secret> tokens;
  };

  // A renewal under the store's lock: another holder's fresh token is taken as is, else the
  // store's token (newest refresh token) is renewed and the result saved before it is served.
  static Renew through_store(Renew inner, std::shared_ptr<const Clock> clock, const TokenSourceOptions& o) {
    TokenSourceOptions timing;  // only the timing rule's members: no hooks, no token
    timing.skew = o.skew;
    timing.refresh_ahead = o.refresh_ahead;
    timing.safety_margin = o.safety_margin;
    timing.default_lifetime = o.default_lifetime;
    return [inner = std::move(inner), clock = std::move(clock), timing = std::move(timing), store = o.store,
            key = *o.store_key, spent = std::make_shared<SpentRefreshTokens>(),
            timeout = o.store_lock_timeout,
            on_error = o.on_error](const std::shared_ptr<const Token>& current, const CancelToken& cancel) {
      // A token renewed elsewhere that this source can serve: not its own, not yet due, and not
      // one whose refresh token it redeemed already (a record the store kept while this source's
      // save could not reach it, in a Redis outage: the provider would refuse that refresh token).
      const auto renewed_elsewhere = [&](std::optional<Token>& saved) {
        if (saved && spent->redeemed(saved->refresh_token)) saved.reset();
        if (!saved || (current && saved->access_token.equals(current->access_token.expose()))) return false;
        const auto now = clock->now();
        return now < detail::token_times(timing, *saved, now).renew_at;
      };
      // While another holder renews, watch the record: its token is served as soon as it is saved,
      // by every waiter at once rather than one lock holder after the other. Only a record that
      // changed since the wait began: the one before is what the holder is replacing.
      std::optional<Token> saved;
      std::optional<Secret> replaced;  // the record's access token when the wait began ("" for none)
      bool taken = false;
      const std::unique_ptr<TokenStoreLock> held = store->lock_unless(key, timeout, cancel, [&] {
        saved = store->load(key);
        if (!replaced) {
          replaced = saved ? saved->access_token : Secret();
          return false;
        }
        if (saved && saved->access_token.equals(replaced->expose())) return false;
        return taken = renewed_elsewhere(saved);
      });
      if (!held && taken) return std::move(*saved);
      saved = store->load(key);
      if (renewed_elsewhere(saved)) return std::move(*saved);
      const std::shared_ptr<const Token> base = saved ? std::make_shared<const Token>(std::move(*saved)) : current;
      Token fresh = inner(base, cancel);
      // Spent only when rotated: a provider that keeps the refresh token lets every holder use it.
      if (base && !fresh.refresh_token.equals(base->refresh_token.expose())) spent->add(base->refresh_token);
      try {
        if (held)
          store->save_locked(key, fresh, *held);
        else
          store->save(key, fresh);
      } catch (...) {
        report_to(on_error, as_error(std::current_exception()));
      }
      return fresh;
    };
  }

  // Any exception as the one error type, so callers and on_error always see oidc::Error.
  static Error as_error(const std::exception_ptr& p) {
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      return e;
    } catch (const std::exception& e) {
      return Error(errc::transport, "token renewal", "unexpected exception: " + detail::printable(e.what(), 200));
    } catch (...) {
      return Error(errc::transport, "token renewal", "unexpected exception");
    }
  }

  // The renewal thread: waits for work, renews without the lock, runs the hooks, publishes.
  static void work(const std::shared_ptr<State>& state) {
    State& s = *state;
    std::unique_lock<std::mutex> lock(s.mutex);
    for (;;) {
      s.wake.wait(lock, [&] { return s.requested || s.shutdown; });
      if (s.shutdown) return;
      s.requested = false;
      s.phase = Phase::renewing;
      const std::uint64_t attempt = s.started;
      const time_point requested_at = s.requested_at;
      const std::shared_ptr<const Token> current = s.entry ? s.entry->token : nullptr;
      lock.unlock();

      std::shared_ptr<const Entry> fresh;
      std::optional<Error> failure;
      time_point now = requested_at;
      try {
        auto t = std::make_shared<const Token>(s.renew(current, s.cancel));
        now = s.clock->now();
        fresh = s.make_entry(std::move(t), now, true);
      } catch (...) {
        failure = as_error(std::current_exception());
      }

      lock.lock();
      if (s.shutdown) return;  // abandoned by the destructor: nobody to hand the result to
      s.phase = Phase::hooks;
      lock.unlock();
      if (fresh && s.options.on_token) {
        try {
          s.options.on_token(*fresh->token);
        } catch (...) {  // persisting failed: say so; the token itself is good
          s.report(as_error(std::current_exception()));
        }
      }
      if (failure) {
        try {
          now = s.clock->now();
        } catch (...) {  // keep the time of the request
        }
        s.report(*failure);
      }

      lock.lock();
      s.phase = Phase::idle;
      if (!s.shutdown) {
        if (fresh) {
          s.publish(std::move(fresh));
          s.backoff.reset();
          s.next_attempt = time_point::min();
          s.last_error = nullptr;
          s.succeeded = attempt;
        } else {
          s.record_failure(*failure, now);
        }
        s.completed = attempt;
        s.in_flight = false;
      }
      lock.unlock();
      s.done.notify_all();
      lock.lock();
    }
  }

  // Per-thread copies of recently used entries. An entry held here is pinned, so "this slot holds
  // the source's current entry" is an exact test that no other source, in this or another shared
  // library, can pass. `owner` only chooses which slot to reuse.
  struct Slot {
    const void* owner = nullptr;
    std::shared_ptr<const Entry> entry;
    std::shared_ptr<const std::shared_ptr<const Token>> handle;  // this thread's owner of entry->token
  };
  static constexpr std::size_t kSlots = 8;
  struct Slots {
    std::array<Slot, kSlots> slot{};
    std::size_t victim = 0;
  };
  static Slots& slots() {
    // One per shared object is harmless: a slot matches only its own source's entry, by address.
    thread_local Slots s;
    return s;
  }

  // The hit path.
  const Slot* cached() const {
    const State& s = *state_;
    const Entry* current = s.current.load(std::memory_order_acquire);
    if (current == nullptr) return nullptr;
    for (const Slot& slot : slots().slot) {
      if (slot.entry.get() != current) continue;
      // Milliseconds of coarseness against a skew of seconds: a hit may be served a tick late.
      const time_point now = s.coarse ? detail::coarse_system_now() : s.clock->now();
      return now < current->renew_at ? &slot : nullptr;
    }
    return nullptr;
  }

  void remember(const std::shared_ptr<const Entry>& e) {
    Slots& ts = slots();
    Slot* target = nullptr;
    for (Slot& slot : ts.slot) {
      if (slot.owner == state_.get()) {
        target = &slot;
        break;
      }
    }
    if (target == nullptr) target = &ts.slot[ts.victim++ % kSlots];
    if (target->entry == e) return;
    target->owner = state_.get();
    target->entry = e;
    target->handle = std::make_shared<const std::shared_ptr<const Token>>(e->token);
  }

  // Starts a renewal on the (lazily started) thread; an Error if the thread cannot be started.
  std::optional<Error> start_renewal_locked(time_point now) {
    State& s = *state_;
    if (!worker_.joinable()) {
      try {
        std::function<void()> body = [state = state_] { work(state); };
        const auto starter = detail::token_source_thread_starter().load();
        worker_ = starter ? starter(std::move(body)) : std::thread(std::move(body));
      } catch (const std::exception& e) {
        return Error(errc::transport, "token renewal",
                     "could not start the renewal thread: " + detail::printable(e.what(), 200));
      }
    }
    ++s.started;
    s.in_flight = true;
    s.requested = true;
    s.requested_at = now;
    s.wake.notify_one();
    return std::nullopt;
  }

  // The slow path: serve, renew in the background, or wait for a renewal.
  std::shared_ptr<const Entry> acquire() {
    std::shared_ptr<const Entry> e = acquire_entry();
    remember(e);
    return e;
  }

  std::shared_ptr<const Entry> acquire_entry() {
    State& s = *state_;
    // Saturating: a "forever" max_wait must not overflow the time point.
    const auto start = std::chrono::steady_clock::now();
    const auto room =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::time_point::max() - start);
    const auto give_up =
        s.options.max_wait >= room ? std::chrono::steady_clock::time_point::max() : start + s.options.max_wait;
    time_point now = s.clock->now();
    std::unique_lock<std::mutex> lock(s.mutex);
    std::optional<Error> unstarted;  // reported after the lock is released
    const auto usable = [&](const std::shared_ptr<const Entry>& e) { return e && now < e->usable_until; };
    for (;;) {
      const std::shared_ptr<const Entry> e = s.dropped ? nullptr : s.entry;
      if (e && now < e->renew_at) return e;
      if (e && (now < e->stale_at || now < e->grace_until)) {
        // Early window, or a token obtained so recently that renewing again would not help: serve
        // it, renewing in the background when due.
        if (!s.in_flight && now >= s.next_attempt && now >= e->grace_until) unstarted = start_renewal_locked(now);
        if (unstarted) {
          lock.unlock();
          s.report(*unstarted);
        }
        return e;
      }
      if (!s.in_flight) {
        if (s.last_error && now < s.next_attempt) {
          if (usable(e)) return e;
          std::rethrow_exception(s.last_error);
        }
        unstarted = start_renewal_locked(now);
        if (unstarted) {
          lock.unlock();
          s.report(*unstarted);
          if (usable(e)) return e;
          throw *unstarted;
        }
      }
      const std::uint64_t attempt = s.started;
      const bool finished = s.done.wait_until(lock, give_up, [&] { return s.completed >= attempt; });
      // The callers that waited for a renewal get its token, even one the rule already calls stale.
      if (finished && s.succeeded >= attempt && s.entry && !s.dropped) return s.entry;
      now = s.clock->now();
      if (!finished) {
        if (usable(e)) return e;
        throw Error(errc::deadline_exceeded, "token source", "gave up waiting for the token renewal in flight");
      }
      if (s.succeeded < attempt) {
        if (usable(e)) return e;
        std::rethrow_exception(s.last_error);
      }
      // Renewed, then invalidated meanwhile: start over.
    }
  }

  const std::shared_ptr<State> state_;
  std::thread worker_;  // guarded by state_->mutex
};

}  // namespace oidc

#endif  // OIDC_TOKEN_SOURCE_HPP
