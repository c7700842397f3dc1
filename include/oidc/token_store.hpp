#ifndef OIDC_TOKEN_STORE_HPP
#define OIDC_TOKEN_STORE_HPP

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/cancel.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/error.hpp"
#include "oidc/token.hpp"
#include "oidc/token_json.hpp"

namespace oidc {

/// What a stored token was obtained for. A store hands a token only to the same key, so a token of
/// another scope, client, user or provider is never served (Duende foss#360), and a saved refresh
/// token is never sent to another token endpoint.
struct TokenKey {
  std::string issuer;          ///< The provider's issuer; empty when configured by endpoints only.
  std::string token_endpoint;  ///< Where the refresh token is redeemed.
  std::string client_id;       ///< The client the token was issued to.
  /// The grant that obtained it: "client_credentials", "password",
  /// "urn:ietf:params:oauth:grant-type:device_code", ...
  std::string grant;
  std::string scope;     ///< As requested; compared in canonical form (see canonical_scope()).
  std::string resource;  ///< RFC 8707 resource or audience; space-separated when several, compared as a set.
  std::string subject;   ///< Whose token: the username of a password grant, a profile name, ...

  /// The scope sorted with duplicates dropped: scopes are a set (RFC 6749 §3.3), so "b a a" and
  /// "a b" are one key.
  static std::string canonical_scope(std::string_view scope) {
    std::set<std::string> parts;
    std::istringstream in{std::string(scope)};
    for (std::string s; in >> s;) parts.insert(s);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
    return out;
  }

  /// The key of the tokens that a token request with \p form obtains for \p client_id: the form's
  /// grant_type, scope, resource and audience (space-separated, in the form's order) and username.
  static TokenKey of_request(std::string issuer, std::string token_endpoint, std::string client_id,
                             const Params& form) {
    TokenKey k{std::move(issuer),
               std::move(token_endpoint),
               std::move(client_id),
               detail::parameter_value(form, "grant_type"),
               detail::parameter_value(form, "scope"),
               {},
               detail::parameter_value(form, "username")};
    for (const auto& [name, value] : form)
      if (name == "resource" || name == "audience") k.resource += (k.resource.empty() ? "" : " ") + value;
    return k;
  }

  /// One string per key, unambiguous (a JSON array), for hashing into a file name or a Redis key.
  /// It names the client and user, but holds no secret.
  [[nodiscard]] std::string canonical() const {
    return nlohmann::json::array({"oidc-token-key/1", issuer, token_endpoint, client_id, grant, canonical_scope(scope),
                                  canonical_scope(resource), subject})
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  /// Equal when canonical() is: scope and resource compare as sets, every other member exactly.
  friend bool operator==(const TokenKey& a, const TokenKey& b) { return a.canonical() == b.canonical(); }
  /// The negation of operator==.
  friend bool operator!=(const TokenKey& a, const TokenKey& b) { return !(a == b); }
};

/// Held while a token is renewed: exclusive for its key across everything sharing the store
/// (threads, and for a shared store processes or hosts). Released by destruction.
class TokenStoreLock {
 public:
  virtual ~TokenStoreLock() = default;
};

/// Where tokens survive restarts and are shared between processes. Implementations are safe for
/// concurrent use. A token source with a store (TokenSourceOptions::store) takes lock(), then
/// load()s again before renewing: a token another holder renewed meanwhile is used without a
/// request, and a rotating refresh token is redeemed once however many processes share it.
///
/// A store keeps records made by serialize_stored_token() and reads them with
/// parse_stored_token(), so every store shares one format. Records hold credentials.
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  /// The saved token for \p key, or nullopt when there is none. A store whose saved record is empty
  /// or unreadable treats it as absent and says so through its warning hook.
  /// \throws oidc::Error `errc::store_mismatch` for a record bound to another key or in an unknown
  ///         format version; `errc::store` for I/O failures.
  [[nodiscard]] virtual std::optional<Token> load(const TokenKey& key) = 0;
  /// Replaces the saved token for \p key, atomically: a reader sees the old record or the new one.
  /// \throws oidc::Error `errc::store` when it cannot be saved.
  virtual void save(const TokenKey& key, const Token& token) = 0;
  /// save() by the holder of \p held, a lock() of this store for \p key: what a renewal saves. A
  /// store that fences its locks (RedisTokenStore) refuses, with `errc::store`, a save whose lock
  /// was taken over meanwhile (it expired), so a slow holder never overwrites a newer token.
  /// The default is save().
  virtual void save_locked(const TokenKey& key, const Token& token, const TokenStoreLock& held) {
    static_cast<void>(held);
    save(key, token);
  }
  /// Deletes the saved token (logout); absent is not an error.
  virtual void remove(const TokenKey& key) = 0;
  /// Exclusive access to \p key until the result is destroyed. Waits at most \p timeout
  /// (`errc::store` after it) and gives up when \p cancel fires (`errc::cancelled`).
  [[nodiscard]] virtual std::unique_ptr<TokenStoreLock> lock(const TokenKey& key, std::chrono::milliseconds timeout,
                                                             const CancelToken& cancel) = 0;
  /// lock() for a caller that would as soon have the holder's result: while another holds the
  /// lock, \p renewed is called between waits (it may load()), and once it returns true the wait
  /// ends with null instead of the lock. Its exceptions end the wait too. A store that does not
  /// poll need not call it; the default is lock().
  [[nodiscard]] virtual std::unique_ptr<TokenStoreLock> lock_unless(const TokenKey& key,
                                                                    std::chrono::milliseconds timeout,
                                                                    const CancelToken& cancel,
                                                                    const std::function<bool()>& renewed) {
    static_cast<void>(renewed);
    return lock(key, timeout, cancel);
  }
};

// ---- The record format, shared by every store: versioned, self-describing, bound to its key.
//
//   {"format": "oidc-token", "version": 1, "key": {...TokenKey...}, "token": {...token_to_json...}}

/// The record format version serialize_stored_token() writes and parse_stored_token() reads.
inline constexpr int stored_token_version = 1;

/// The key as the record's `key` object; scope and resource in canonical form, so a record matches
/// every spelling of its key.
inline nlohmann::json token_key_to_json(const TokenKey& k) {
  return {{"issuer", k.issuer},
          {"token_endpoint", k.token_endpoint},
          {"client_id", k.client_id},
          {"grant", k.grant},
          {"scope", TokenKey::canonical_scope(k.scope)},
          {"resource", TokenKey::canonical_scope(k.resource)},
          {"subject", k.subject}};
}

/// The record as text (one line of JSON):
/// `{"format": "oidc-token", "version": 1, "key": {...}, "token": {...}}`, the token as
/// token_to_json() writes it. It holds credentials: stores keep it like a password.
inline std::string serialize_stored_token(const TokenKey& key, const Token& token) {
  const nlohmann::json j = {{"format", "oidc-token"},
                            {"version", stored_token_version},
                            {"key", token_key_to_json(key)},
                            {"token", token_to_json(token)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
}

/// How reading a record went. \ref warning is set (and \ref token empty) for a record that is to be
/// treated as absent: empty, not JSON, not a record, or a token that does not restore.
struct StoredTokenRead {
  std::optional<Token> token;    ///< The saved token; empty when the record is to be treated as absent.
  std::optional<Error> warning;  ///< Why the record is treated as absent (`errc::parse`); never quotes it.
};

/// Reads a record written by serialize_stored_token() for \p expected. Never quotes the record: it
/// holds secrets.
/// \throws oidc::Error `errc::store_mismatch` for another format version or a record bound to
///         another key (a refresh token must not reach another endpoint, and a newer writer's
///         record must not be overwritten by guesswork). For another key the message names the
///         members that differ, not their values.
inline StoredTokenRead parse_stored_token(std::string_view text, const TokenKey& expected) {
  const std::string operation = "reading a saved token";
  auto absent = [&](const std::string& why) { return StoredTokenRead{std::nullopt, Error(errc::parse, operation, why)}; };
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return absent("the saved record is empty");
  detail::JsonParseResult parsed = detail::parse_json(text);
  if (!parsed.ok()) return absent("the saved record is not JSON: " + parsed.problem_quoting_nothing());
  const nlohmann::json j = std::move(parsed.value);
  if (!j.is_object() || j.value("format", nlohmann::json()) != "oidc-token")
    return absent("the saved record is not an oidc-token record");
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer())
    return absent("the saved record has no format version");
  if (*version != stored_token_version)
    throw Error(errc::store_mismatch, operation,
                "the saved record has format version " + version->dump() + "; this library reads version " +
                    std::to_string(stored_token_version));
  const auto key = j.find("key");
  const nlohmann::json wanted = token_key_to_json(expected);
  if (key == j.end() || !key->is_object() || *key != wanted) {
    // Which member differs helps configuration mistakes; the values stay out (they may be private).
    std::string which;
    if (key != j.end() && key->is_object())
      for (const auto& [name, value] : wanted.items())
        if (key->value(name, nlohmann::json()) != value) which += (which.empty() ? "" : ", ") + name;
    throw Error(errc::store_mismatch, operation,
                "the saved token is bound to another " + (which.empty() ? std::string("key") : which));
  }
  const auto token = j.find("token");
  if (token == j.end()) return absent("the saved record has no token");
  try {
    return {token_from_json(*token), std::nullopt};
  } catch (const Error& e) {
    return absent("the saved token does not restore: " + e.detail());
  }
}

/// In memory, for tests and for sharing one token between sources of one process. The lock is a
/// per-key flag, so it is exclusive across threads (not processes).
class MemoryTokenStore final : public TokenStore {
 public:
  [[nodiscard]] std::optional<Token> load(const TokenKey& key) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    const auto it = state_->records.find(key.canonical());
    if (it == state_->records.end()) return std::nullopt;
    StoredTokenRead read = parse_stored_token(it->second, key);
    if (read.warning && on_warning) on_warning(*read.warning);
    return std::move(read.token);
  }
  void save(const TokenKey& key, const Token& token) override {
    std::string record = serialize_stored_token(key, token);
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->records[key.canonical()] = std::move(record);
    ++state_->saves;
  }
  void remove(const TokenKey& key) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->records.erase(key.canonical());
  }
  [[nodiscard]] std::unique_ptr<TokenStoreLock> lock(const TokenKey& key, std::chrono::milliseconds timeout,
                                                     const CancelToken& cancel) override {
    const std::string id = key.canonical();
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    std::unique_lock<std::mutex> lock(state_->mutex);
    while (state_->held.count(id) != 0) {
      if (cancel.cancelled()) throw Error(errc::cancelled, "locking the token store", "cancelled");
      // Short slices so that a cancellation is seen; the owner's release notifies at once.
      const auto slice = std::min(give_up, std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
      if (state_->released.wait_until(lock, slice) == std::cv_status::timeout &&
          std::chrono::steady_clock::now() >= give_up && state_->held.count(id) != 0)
        throw Error(errc::store, "locking the token store", "another renewal held the lock too long");
    }
    state_->held.insert(id);
    return std::make_unique<Held>(state_, id);
  }

  /// The raw record for \p key (tests corrupt or inspect it); it holds credentials.
  [[nodiscard]] std::optional<std::string> record(const TokenKey& key) const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    const auto it = state_->records.find(key.canonical());
    if (it == state_->records.end()) return std::nullopt;
    return it->second;
  }
  /// Replaces the raw record for \p key, unchecked (tests store corrupt or foreign records).
  void set_record(const TokenKey& key, std::string text) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->records[key.canonical()] = std::move(text);
  }
  /// How many times save() ran (for tests).
  [[nodiscard]] std::size_t saves() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->saves;
  }

  /// Called with records treated as absent (empty, corrupt). Set before sharing the store.
  std::function<void(const Error&)> on_warning{};

 private:
  struct State {
    mutable std::mutex mutex;
    std::condition_variable released;
    std::map<std::string, std::string> records;
    std::set<std::string> held;
    std::size_t saves = 0;
  };
  struct Held final : TokenStoreLock {
    Held(std::shared_ptr<State> s, std::string key_id) : state(std::move(s)), id(std::move(key_id)) {}
    ~Held() override {
      {
        std::lock_guard<std::mutex> lock(state->mutex);
        state->held.erase(id);
      }
      state->released.notify_all();
    }
    std::shared_ptr<State> state;
    std::string id;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace oidc

#endif  // OIDC_TOKEN_STORE_HPP
