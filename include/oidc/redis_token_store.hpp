#ifndef OIDC_REDIS_TOKEN_STORE_HPP
#define OIDC_REDIS_TOKEN_STORE_HPP
/// \file
/// A TokenStore on Redis, shared by every replica of an application (docs/fleet.md), so that a
/// fleet makes one token request per expiry and redeems a rotating refresh token once. Defined in
/// src/redis_token_store.cpp with hiredis and OpenSSL, which never reach this header. A library
/// built with OIDC_WITH_REDIS=OFF (the default when hiredis is not found) has the class, but its
/// constructor throws errc::config.
///
/// - Records are TokenStore records (serialize_stored_token()) sealed with AES-256-GCM under the
///   application's key, the TokenKey bound in as associated data; a store without a key is an
///   explicit choice (RedisTokenStoreOptions::plaintext); seal_token_record() has the format. Each expires with the token: Redis `PX`
///   is the token's remaining life (its refresh token's when it has one).
/// - Keys: `<prefix>{<hex SHA-256 of TokenKey::canonical()>}:token`, `:lease` and `:fence`, the
///   hash FileTokenStore names its files by; the braces keep a key's three entries in one slot of
///   a Redis Cluster.
/// - lock() is a lease: `SET <lease> <owner> NX PX lease_ttl` and an increment of `<fence>`, in one
///   script; the others poll it until released or expired. Its holder extends it every third of
///   lease_ttl while it renews, so a slow token request is never taken over, and a holder that died
///   (or lost Redis) loses it within lease_ttl. save_locked() writes only while `<fence>` still holds the lease's number, so a
///   replica whose lease expired and was taken over never overwrites the newer rotated token.
/// - Redis down, slow or flushed is a cache miss, never a failure: every command is bounded by
///   command_timeout; an unreachable Redis is reported once through on_error, then left alone for
///   retry_interval while the process renews by itself (its lock() is then one in-process lock per
///   key), and used again as soon as it answers (on_reattach).
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/error.hpp"
#include "oidc/export.hpp"
#include "oidc/secret.hpp"
#include "oidc/token.hpp"
#include "oidc/token_store.hpp"

namespace oidc {

/// Where the Redis server is, how records are sealed, and how long anything may take.
struct RedisTokenStoreOptions {
  /// The server's address or host name (TCP). A name is resolved by the system's resolver, whose
  /// time connect_timeout does not bound: prefer an address.
  std::string host = "127.0.0.1";
  int port = 6379;                 ///< The server's port (TCP).
  /// A Unix domain socket path; when set, host and port are not used.
  std::string unix_socket{};
  /// hiredis 0.14 (Debian 12) speaks no TLS, so a host other than loopback (127.0.0.0/8, ::1,
  /// localhost) is refused with errc::insecure_url unless this is set; docs/fleet.md runs a TLS
  /// tunnel on loopback instead. Records are sealed either way; the password and lease are not.
  bool allow_remote_plaintext = false;
  std::string username{};  ///< An ACL user (Redis 6+, `AUTH username password`); empty: the default user.
  Secret password{};       ///< `AUTH` password; empty: no AUTH.
  int database = 0;        ///< `SELECT`ed after connecting when not 0.
  /// Begins every key, so that applications sharing a server (or an ACL key pattern, `~oidc:app:*`)
  /// keep apart. Printable ASCII without spaces or braces.
  std::string prefix = "oidc:";
  /// The AES-256-GCM key: 32 bytes (decode_key() reads them from base64). Every replica of the
  /// application has the same one; a record sealed with another is errc::store_mismatch.
  std::optional<Secret> encryption_key{};
  /// Keys that open records but never seal them (32 bytes each). Rotating the key in a rolling
  /// deploy takes three: {old, previous: new} everywhere (all read what any writes), then
  /// {new, previous: old}, then {new} once every record was rewritten (at its next renewal).
  std::vector<Secret> previous_keys{};
  /// Store records unencrypted: without a key, the constructor refuses (errc::config) unless this
  /// says that is meant. Anyone who can read the server then reads refresh tokens.
  bool plaintext = false;
  std::chrono::milliseconds connect_timeout{250};  ///< Connecting, and each of AUTH, SELECT and PING, takes at most this.
  std::chrono::milliseconds command_timeout{250};  ///< Each command's reply takes at most this.
  /// While Redis is unreachable, how long the store leaves it alone before trying it again.
  std::chrono::milliseconds retry_interval{1000};
  /// How long a lease outlives a holder that stopped extending it (died, or cut off from Redis): the
  /// others wait that long for a dead holder, so keep it shorter than
  /// TokenSourceOptions::store_lock_timeout. A live holder extends it every third of it.
  std::chrono::milliseconds lease_ttl{10000};
  /// How often a replica waiting for another's lease looks again (jittered by up to a half).
  std::chrono::milliseconds poll_interval{10};
  /// Record lifetime when the token says nothing: no expiry, or a refresh token of unknown life.
  std::chrono::seconds default_ttl{std::chrono::hours(24) * 30};
  /// Record size cap on reading: a larger value is treated as absent (with a warning).
  std::size_t max_record_size = std::size_t{1} << 20;
  /// Called once when Redis becomes unreachable (errc::store, naming the server, never a secret)
  /// and with records treated as absent (errc::parse). Must not throw; may be called on any thread.
  std::function<void(const Error&)> on_error{};
  /// Called once when Redis answers again after an outage. Must not throw.
  std::function<void()> on_reattach{};
};

/// The record RedisTokenStore keeps, for tools that read or write a store's records (and its
/// tests): the text "oidc-sealed/1." and the base64url of a 12-byte nonce, the AES-256-GCM ciphertext of
/// serialize_stored_token() and the 16-byte tag; the associated data is "oidc-redis-record/1", a
/// newline and TokenKey::canonical(), so a record moved under another key does not open. Without
/// \p aes_key: the record as is.
/// It holds credentials (sealed, it is as safe as the key).
/// \throws oidc::Error errc::config for a key not of 32 bytes or a build without OpenSSL.
OIDC_API std::string seal_token_record(const TokenKey& key, const Token& token, const std::optional<Secret>& aes_key);
/// Opens what seal_token_record() wrote, never quoting it. A corrupt record is absent with a
/// warning (errc::parse in StoredTokenRead::warning).
/// \throws oidc::Error errc::store_mismatch for a record sealed with another key, sealed when
///         \p aes_key is empty, unsealed when it is not, or bound to another TokenKey
///         (parse_stored_token()); errc::config as seal_token_record().
OIDC_API StoredTokenRead open_token_record(std::string_view value, const TokenKey& key,
                                           const std::optional<Secret>& aes_key);

/// A TokenStore on a Redis server shared by processes and hosts (see the file's description).
/// Safe for concurrent use; one connection, taken by one command at a time.
class OIDC_API RedisTokenStore final : public TokenStore {
 public:
  /// Checks the options and connects. An unreachable server is not an error here (the store starts
  /// degraded and reports it through on_error); a wrong password or ACL refusal is errc::store.
  /// \throws oidc::Error errc::config (no key and not plaintext, a key not 32 bytes, a bad prefix,
  ///         a build without the Redis store), errc::insecure_url (a remote host without
  ///         allow_remote_plaintext), errc::store (authentication refused).
  explicit RedisTokenStore(RedisTokenStoreOptions options);
  ~RedisTokenStore() override;
  RedisTokenStore(const RedisTokenStore&) = delete;
  RedisTokenStore& operator=(const RedisTokenStore&) = delete;

  /// Whether this build has the Redis store (OIDC_WITH_REDIS).
  static bool available() noexcept;
  /// A key for RedisTokenStoreOptions::encryption_key from its base64 or base64url text (43 or 44
  /// characters). \throws oidc::Error errc::config unless it decodes to 32 bytes.
  static Secret decode_key(std::string_view base64);
  /// A new random key (CSPRNG) as base64, for decode_key(); `openssl rand -base64 32` makes one too.
  static std::string generate_key();
  /// The Redis key of \p key's record under \p prefix: `<prefix>{<hex SHA-256>}:token`.
  [[nodiscard]] static std::string record_key(const std::string& prefix, const TokenKey& key);

  /// TokenStore::load: the record, opened and checked; nullopt when absent or Redis is unreachable.
  /// \throws oidc::Error errc::store_mismatch for a record sealed with another key (or unsealed
  ///         when this store seals, and the reverse) or bound to another TokenKey.
  [[nodiscard]] std::optional<Token> load(const TokenKey& key) override;
  /// TokenStore::save outside a lease (a login): written, and the fence moved on, so that a lease
  /// taken before it cannot overwrite it. Skipped while Redis is unreachable.
  void save(const TokenKey& key, const Token& token) override;
  /// TokenStore::save_locked: written only if \p held's lease is still the newest
  /// (errc::store otherwise: another replica took over and saved a newer token). Under a lock taken
  /// while Redis was unreachable (no lease): written unless another replica holds a live lease,
  /// whose save comes next; skipped while Redis is still unreachable.
  void save_locked(const TokenKey& key, const Token& token, const TokenStoreLock& held) override;
  /// TokenStore::remove: deletes the record (its lease and fence stay).
  void remove(const TokenKey& key) override;
  /// TokenStore::lock: the lease, polled every poll_interval until \p timeout (errc::store after
  /// it) or \p cancel (errc::cancelled); while Redis is unreachable, an in-process lock per key.
  [[nodiscard]] std::unique_ptr<TokenStoreLock> lock(const TokenKey& key, std::chrono::milliseconds timeout,
                                                     const CancelToken& cancel) override;
  /// TokenStore::lock_unless: lock(), calling \p renewed after each look at a taken lease.
  [[nodiscard]] std::unique_ptr<TokenStoreLock> lock_unless(const TokenKey& key, std::chrono::milliseconds timeout,
                                                            const CancelToken& cancel,
                                                            const std::function<bool()>& renewed) override;

  /// Whether the last command reached Redis (false while degraded).
  [[nodiscard]] bool attached() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with outstanding leases, which may outlive the store
};

}  // namespace oidc

#endif  // OIDC_REDIS_TOKEN_STORE_HPP
