#ifndef OIDC_JWK_SET_HPP
#define OIDC_JWK_SET_HPP

/// \file
/// A JWK Set (RFC 7517 §5): the keys a server signs with, every key checked and prepared once when
/// the set is parsed, never per verification.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/json.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"
#include "oidc/jose.hpp"

namespace oidc {

/// A JWK Set (RFC 7517 §5) of verification keys, immutable once built; safe to share between
/// threads as `std::shared_ptr<const JwkSet>`.
class JwkSet {
 public:
  /// Most keys a set may hold; a server rotating keys publishes two or three.
  static constexpr std::size_t max_keys = 100;

  JwkSet() = default;
  /// The given keys as they are (not deduplicated by kid, unlike parse()).
  explicit JwkSet(std::vector<VerificationKey> keys) : keys_(std::move(keys)) {}

  /// Parses a JWK Set document. The document must be a JSON object with a "keys" array of at most
  /// max_keys objects (parse_json's depth limit, duplicate members refused); anything else is
  /// Error(errc::parse). A key that is fine as JSON but not usable for verifying signatures (use
  /// "enc", an unknown kty or crv, an RSA modulus under 2048 bits, malformed members) is left out
  /// and remembered with the reason, so that a token naming its kid gets that reason, not a bare
  /// "unknown kid"; a set where two usable keys share a kid keeps neither of them (which one the
  /// token meant cannot be known).
  static JwkSet parse(std::string_view json, const std::string& operation = "JWK Set") {
    auto doc = detail::parse_json(json);
    if (!doc.ok()) throw Error(errc::parse, operation, "the JWK Set is not accepted JSON: " + doc.problem);
    if (!doc.value.is_object()) throw Error(errc::parse, operation, "the JWK Set is not a JSON object");
    const auto it = doc.value.find("keys");
    if (it == doc.value.end() || !it->is_array())
      throw Error(errc::parse, operation, "the JWK Set has no \"keys\" array");
    if (it->size() > max_keys)
      throw Error(errc::parse, operation, "the JWK Set has more than " + std::to_string(max_keys) + " keys");
    JwkSet set;
    for (const auto& jwk : *it) {
      std::string kid;
      if (jwk.is_object()) {
        const auto k = jwk.find("kid");
        if (k != jwk.end() && k->is_string()) kid = k->get<std::string>();
      }
      try {
        set.keys_.push_back(VerificationKey::from_jwk(jwk, operation));
      } catch (const Error& e) {
        set.refused_.emplace_back(std::move(kid), e.details().detail);
      }
    }
    set.drop_ambiguous();
    return set;
  }

  /// The usable keys, in document order.
  [[nodiscard]] const std::vector<VerificationKey>& keys() const noexcept { return keys_; }
  /// Whether no usable key is left (every key may have been refused).
  [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }

  /// The keys that may verify a JWS with this header: those whose kid equals \p kid (all keys when
  /// the header has no kid) and that accept \p alg. The pointers live as long as this set.
  [[nodiscard]] std::vector<const VerificationKey*> select(const std::optional<std::string>& kid,
                                                           JwsAlgorithm alg) const {
    std::vector<const VerificationKey*> out;
    for (const auto& k : keys_)
      if ((!kid || k.kid() == *kid) && k.accepts(alg)) out.push_back(&k);
    return out;
  }

  /// Whether some key (usable or refused) has this kid.
  [[nodiscard]] bool has_kid(std::string_view kid) const noexcept {
    for (const auto& k : keys_)
      if (k.kid() == kid) return true;
    return refusal(kid) != nullptr;
  }

  /// Why the key with this kid was left out of the set, or null. The string lives as long as this set.
  [[nodiscard]] const std::string* refusal(std::string_view kid) const noexcept {
    for (const auto& [k, why] : refused_)
      if (k == kid) return &why;
    return nullptr;
  }

 private:
  void drop_ambiguous() {
    std::vector<VerificationKey> kept;
    for (const auto& k : keys_) {
      std::size_t same = 0;
      for (const auto& o : keys_) same += (!k.kid().empty() && o.kid() == k.kid()) ? 1 : 0;
      if (same > 1) {
        if (!refusal(k.kid())) refused_.emplace_back(k.kid(), "two keys of the set have this kid");
      } else {
        kept.push_back(k);
      }
    }
    keys_ = std::move(kept);
  }

  std::vector<VerificationKey> keys_;
  std::vector<std::pair<std::string, std::string>> refused_;  // kid, reason
};

/// Where verification keys come from: a fixed set (StaticKeySource), or a JwksCache of a jwks_uri,
/// which refetches when a token names a kid it does not know. Implementations must be safe to call
/// from many threads at once.
class KeySource {
 public:
  virtual ~KeySource() = default;
  /// The keys to verify a JWS whose header names \p kid (nullopt: none named). A source that can
  /// fetch may do so here: when it has no keys yet, or when \p kid is not in its set (rate-limited).
  /// Throws oidc::Error when no set can be had.
  [[nodiscard]] virtual std::shared_ptr<const JwkSet> keys_for(const std::optional<std::string>& kid) const = 0;
};

/// A KeySource that always returns the same set: keys configured by hand, or pinned in tests.
class StaticKeySource final : public KeySource {
 public:
  explicit StaticKeySource(JwkSet keys) : keys_(std::make_shared<const JwkSet>(std::move(keys))) {}  ///< Takes the set.
  /// The set given at construction, whatever kid the token names; never fetches, never throws.
  [[nodiscard]] std::shared_ptr<const JwkSet> keys_for(const std::optional<std::string>&) const override {
    return keys_;
  }

 private:
  std::shared_ptr<const JwkSet> keys_;
};

}  // namespace oidc

#endif  // OIDC_JWK_SET_HPP
