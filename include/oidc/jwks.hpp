#ifndef OIDC_JWKS_HPP
#define OIDC_JWKS_HPP

/// \file
/// A JWK Set fetched from a jwks_uri and cached (OIDC Core §10.1.1: keys rotate, and a token naming
/// an unknown kid is the sign of it).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "oidc/detail/backoff.hpp"
#include "oidc/detail/request.hpp"
#include "oidc/detail/single_flight.hpp"
#include "oidc/fetch_options.hpp"
#include "oidc/jwk_set.hpp"

namespace oidc {

/// How a JwksCache refreshes its set; the defaults suit production.
struct JwksCacheOptions {
  /// Least time between two fetches caused by unknown kids: the rate limit, so a flood of tokens
  /// with random kids costs at most one request per interval.
  std::chrono::seconds min_refetch_interval{60};
  /// A set older than this is refetched; a shorter Cache-Control max-age wins, but never below
  /// min_refetch_interval (max-age=0 or no-cache must not mean a fetch per token).
  std::chrono::seconds max_age{std::chrono::hours{24}};
  /// How long a caller waits for a fetch another caller started; then it gets the current set, or
  /// errc::deadline_exceeded when there is none. Giving up does not abort the fetch.
  std::chrono::milliseconds max_wait{30000};
  /// After a failed fetch, no new one before this backoff (doubling from min to max, jittered; see
  /// detail/backoff.hpp): callers get the previous set, or the last error at once without one.
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes{5}};  ///< The backoff's ceiling.
  /// Each backoff is shortened by a random fraction of up to this, so that clients that failed
  /// together do not retry together.
  double backoff_jitter = 0.25;
  std::function<double()> random_fraction{};  ///< In [0, 1); empty: random. Tests make it exact.
};

/// A KeySource that fetches a jwks_uri and caches the set. keys_for(kid) fetches when there is no
/// set yet, when the set is older than its lifetime, or when `kid` is not in the set and the last
/// fetch attempt is older than min_refetch_interval (then once, single flight: concurrent callers
/// wait for the same fetch). Otherwise it returns the current set, and the verifier reports
/// key_not_found. A failed fetch keeps the previous set, however old (stale keys are better than
/// none: a token signed with a rotated-out key still fails its signature check). Thread-safe.
///
/// A response must be 2xx with Content-Type application/json or application/jwk-set+json (RFC 7517
/// §8.5), at most FetchOptions::max_document_bytes, and parse as JwkSet::parse requires.
class JwksCache final : public KeySource {
 public:
  /// The URI is checked now (https, or http to loopback unless allow_insecure_http): errc::config
  /// or errc::insecure_url. Nothing is fetched before the first keys_for().
  JwksCache(std::string jwks_uri, FetchOptions fetch = {}, JwksCacheOptions options = {})
      : uri_(std::move(jwks_uri)), fetch_(std::move(fetch)), options_(std::move(options)) {
    detail::require_secure_url(uri_, fetch_.options.allow_insecure_http, operation());
    policy_.min_refetch = options_.min_refetch_interval;
    policy_.min_lifetime = options_.min_refetch_interval;
    policy_.max_lifetime = std::max(options_.max_age, options_.min_refetch_interval);
    policy_.max_wait = options_.max_wait;
    policy_.backoff = {options_.min_backoff, options_.max_backoff, options_.backoff_jitter, options_.random_fraction};
  }

  /// The current set, fetched first when the class comment says so. Throws oidc::Error only
  /// while it has no set at all: the fetch's error, or errc::deadline_exceeded after max_wait.
  [[nodiscard]] std::shared_ptr<const JwkSet> keys_for(const std::optional<std::string>& kid) const override {
    return cache_.get(
        *fetch_.clock, policy_, [this] { return fetch(); },
        [&](const JwkSet& set) { return kid.has_value() && !set.has_kid(*kid); }, operation());
  }

  [[nodiscard]] const std::string& jwks_uri() const noexcept { return uri_; }  ///< As given.
  /// Fetches started so far, successful or not: for tests and metrics.
  [[nodiscard]] std::uint64_t fetches() const { return cache_.fetches(); }
  /// Callers waiting for the fetch in flight: for tests.
  [[nodiscard]] std::size_t waiting() const { return cache_.waiting(); }

 private:
  using Cache = detail::RefreshingValue<JwkSet>;

  static std::string operation() { return "JWK Set fetch"; }

  Cache::Fetched fetch() const {
    const auto r = detail::get(fetch_.context(), uri_, operation());
    // RFC 7517 §8.5 registers application/jwk-set+json; most servers send application/json.
    detail::check_document_response(r, operation(), fetch_.options.max_document_bytes,
                                    {"application/json", "application/jwk-set+json"});
    return {std::make_shared<const JwkSet>(JwkSet::parse(r.body, operation())), detail::cache_max_age(r)};
  }

  std::string uri_;
  detail::ResolvedFetch fetch_;
  JwksCacheOptions options_;
  Cache::Policy policy_;
  Cache cache_;
};

}  // namespace oidc

#endif  // OIDC_JWKS_HPP
