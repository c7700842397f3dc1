// The Redis token store (include/oidc/redis_token_store.hpp). Sealing needs OpenSSL only; the
// store needs hiredis too (OIDC_WITH_REDIS). One connection, taken by one command at a time: a
// renewal makes a handful of commands per expiry, so a pool would buy nothing but sockets.
#include "oidc/redis_token_store.hpp"

#include "oidc/crypto.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/detail/url.hpp"
#include "oidc/file_token_store.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#ifdef OIDC_WITH_OPENSSL
#include <openssl/evp.h>
#endif
#ifdef OIDC_WITH_REDIS
#include <hiredis/hiredis.h>
#include <sys/time.h>
#endif

namespace oidc {

namespace {

constexpr const char* kOperation = "redis token store";
constexpr std::string_view kSealedPrefix = "oidc-sealed/1.";
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kKeySize = 32;


// The key's slot name: the hash FileTokenStore names its files by, in braces (a Cluster hash tag).
std::string slot(const std::string& prefix, const TokenKey& key) {
  const std::string file = FileTokenStore::file_name(key);  // "<hex SHA-256>.json"
  return prefix + "{" + file.substr(0, file.size() - 5) + "}";
}

#ifdef OIDC_WITH_OPENSSL
// Binds a sealed record to its key: moved under another key, it does not open.
std::string associated_data(const TokenKey& key) { return "oidc-redis-record/1\n" + key.canonical(); }
#endif

void check_aes_key(const Secret& key) {
  if (key.expose().size() != kKeySize)
    throw Error(errc::config, kOperation,
                "the encryption key must be 32 bytes (AES-256), not " + std::to_string(key.expose().size()) +
                    "; RedisTokenStore::decode_key() reads one from base64");
}

#ifndef OIDC_WITH_OPENSSL
[[noreturn]] void no_crypto() {
  throw Error(errc::config, kOperation, "sealing records needs OpenSSL (this build has OIDC_WITH_OPENSSL=OFF)");
}
#endif

StoredTokenRead absent(const std::string& why) {
  return StoredTokenRead{std::nullopt, Error(errc::parse, "reading a saved token", why)};
}

}  // namespace

std::string seal_token_record(const TokenKey& key, const Token& token, const std::optional<Secret>& aes_key) {
  std::string plain = serialize_stored_token(key, token);
  if (!aes_key) return plain;
  check_aes_key(*aes_key);
#ifdef OIDC_WITH_OPENSSL
  const std::string nonce = random_bytes(kNonceSize);
  const std::string aad = associated_data(key);
  std::string sealed = nonce;
  sealed.resize(kNonceSize + plain.size() + kTagSize);
  auto* out = reinterpret_cast<unsigned char*>(&sealed[kNonceSize]);
  const auto* k = reinterpret_cast<const unsigned char*>(aes_key->expose().data());
  const std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0, total = 0;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k,
                                reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) == 1 &&
      (total = n, EVP_EncryptFinal_ex(ctx.get(), out + total, &n) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), out + plain.size()) == 1;
  detail::secure_wipe(plain);
  if (!ok) throw Error(errc::store, kOperation, "sealing the record failed (OpenSSL AES-256-GCM)");
  return std::string(kSealedPrefix) + detail::base64url_encode(sealed);
#else
  detail::secure_wipe(plain);
  no_crypto();
#endif
}

StoredTokenRead open_token_record(std::string_view value, const TokenKey& key, const std::optional<Secret>& aes_key) {
  const std::string operation = "reading a saved token";
  const bool sealed = value.substr(0, kSealedPrefix.size()) == kSealedPrefix;
  if (!aes_key) {
    if (sealed)
      throw Error(errc::store_mismatch, operation,
                  "the saved record is sealed (encrypted), and this store has no encryption key");
    return parse_stored_token(value, key);
  }
  check_aes_key(*aes_key);
  if (!sealed) {
    const auto first = value.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return absent("the saved record is empty");
    if (value[first] == '{')
      throw Error(errc::store_mismatch, operation,
                  "the saved record is not sealed, and this store seals records (was it written by a store "
                  "without an encryption key?)");
    return absent("the saved record is not a sealed oidc-token record");
  }
  std::optional<std::string> raw = detail::base64url_decode_strict(value.substr(kSealedPrefix.size()));
  if (!raw) return absent("the sealed record is not base64url");
  if (raw->size() < kNonceSize + kTagSize) return absent("the sealed record is truncated");
#ifdef OIDC_WITH_OPENSSL
  const std::string aad = associated_data(key);
  const std::size_t length = raw->size() - kNonceSize - kTagSize;
  std::string plain(length, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(raw->data());
  const auto* k = reinterpret_cast<const unsigned char*>(aes_key->expose().data());
  const std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string tag = raw->substr(kNonceSize + length);
  int n = 0;
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, in) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out, &n, in + kNonceSize, static_cast<int>(length)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out + n, &n) == 1;
  detail::secure_wipe(*raw);
  if (!ok) {
    detail::secure_wipe(plain);
    throw Error(errc::store_mismatch, operation,
                "the saved record does not open with this store's encryption key (another application's key, "
                "a record moved from another token key, or a corrupted record)");
  }
  StoredTokenRead read = parse_stored_token(plain, key);
  detail::secure_wipe(plain);
  return read;
#else
  no_crypto();
#endif
}

Secret RedisTokenStore::decode_key(std::string_view text) {
  std::optional<std::string> raw;
  if (text.size() == 44) raw = detail::base64_decode(text);
  if (text.size() == 43) raw = detail::base64url_decode_strict(text);
  if (!raw || raw->size() != kKeySize) {
    if (raw) detail::secure_wipe(*raw);
    throw Error(errc::config, kOperation, "the encryption key is not the base64 of 32 bytes (43 or 44 characters)");
  }
  return Secret(std::move(*raw));
}

std::string RedisTokenStore::generate_key() {
  std::string raw = random_bytes(kKeySize);
  std::string text = detail::base64_encode(raw);
  detail::secure_wipe(raw);
  return text;
}

std::string RedisTokenStore::record_key(const std::string& prefix, const TokenKey& key) {
  return slot(prefix, key) + ":token";
}

#ifndef OIDC_WITH_REDIS

struct RedisTokenStore::Impl {};

RedisTokenStore::RedisTokenStore(RedisTokenStoreOptions) {
  throw Error(errc::config, kOperation, "this build of oidc has no Redis token store (OIDC_WITH_REDIS=OFF)");
}
RedisTokenStore::~RedisTokenStore() = default;
bool RedisTokenStore::available() noexcept { return false; }
std::optional<Token> RedisTokenStore::load(const TokenKey&) { return std::nullopt; }
void RedisTokenStore::save(const TokenKey&, const Token&) {}
void RedisTokenStore::save_locked(const TokenKey&, const Token&, const TokenStoreLock&) {}
void RedisTokenStore::remove(const TokenKey&) {}
std::unique_ptr<TokenStoreLock> RedisTokenStore::lock(const TokenKey&, std::chrono::milliseconds, const CancelToken&) {
  return nullptr;
}
std::unique_ptr<TokenStoreLock> RedisTokenStore::lock_unless(const TokenKey&, std::chrono::milliseconds,
                                                             const CancelToken&, const std::function<bool()>&) {
  return nullptr;
}
bool RedisTokenStore::attached() const { return false; }

#else

namespace {

// Take the lease and the next fencing number at once, so no one holds a lease without a number. A
// missing counter (new, flushed, evicted) starts at a random number (ARGV[3]), so that a holder
// from before a flush cannot find its old number valid again.
constexpr const char* kAcquire =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
    "redis.call('SET', KEYS[2], ARGV[3], 'NX') return redis.call('INCR', KEYS[2]) end "
    "return 0";
// Release only our own lease: an expired one may be another replica's by now.
constexpr const char* kRelease =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
// Keep our own lease alive while the renewal runs (a live holder is never taken over however long
// its token request takes; a dead one stops extending and loses the lease after lease_ttl).
constexpr const char* kExtend =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
// A renewal's save: refused once another lease was taken (the fence moved on). No fence at all
// means the store was flushed and no lease taken since: this renewal's token is the newest.
constexpr const char* kFencedSave =
    "local fence = redis.call('GET', KEYS[2]) "
    "if fence and fence ~= ARGV[1] then return 0 end "
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1";
// A save outside a lease (a login) is the newest token: it moves the fence on, so that a lease
// taken before it cannot overwrite it.
// The save of a renewal under a lock taken while Redis was unreachable (no lease, no fence): it
// leaves the record to a live lease's holder, whose save comes next; else it is a save().
constexpr const char* kUnfencedSave =
    "if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end "
    "redis.call('SET', KEYS[2], ARGV[3], 'NX') redis.call('INCR', KEYS[2]) "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1";
constexpr const char* kSave =
    "redis.call('SET', KEYS[2], ARGV[3], 'NX') redis.call('INCR', KEYS[2]) "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1";

timeval to_timeval(std::chrono::milliseconds d) {
  const auto ms = std::max<std::int64_t>(1, d.count());
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms % 1000) * 1000);
  return tv;
}

bool loopback(const std::string& host) {
  return host == "::1" || detail::is_loopback_host(host);
}

using Reply = std::unique_ptr<redisReply, void (*)(void*)>;

// The first word of an error reply (NOAUTH, WRONGPASS, NOPERM, OOM, READONLY...): its code. The
// rest is the server's text, which is not ours to show.
std::string reply_code(const redisReply& r) {
  std::string_view s(r.str ? r.str : "", r.str ? r.len : 0);
  s = s.substr(0, std::min<std::size_t>(s.find(' '), 32));
  return detail::printable(s, 32);
}

// One command on \p ctx; null on a transport failure (then ctx->err says which).
Reply command(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data())),
               freeReplyObject);
}

}  // namespace

struct RedisTokenStore::Impl {
  explicit Impl(RedisTokenStoreOptions options) : o(std::move(options)) {
    owner = detail::base64url_encode(random_bytes(12));
  }
  ~Impl() {
    if (ctx) redisFree(ctx);
  }

  // Runs one command. nullopt when Redis cannot be asked (degraded): unreachable, timed out, or an
  // error reply; the first such failure of an outage goes to on_error.
  std::optional<Reply> run(const std::vector<std::string>& args) {
    std::optional<Error> report;
    bool reattached = false;
    std::optional<Reply> result;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!ctx && std::chrono::steady_clock::now() >= retry_at) {
        std::string why;
        if (connect_locked(why) != Connected::yes) report = fail_locked(why);
      }
      if (ctx) {
        Reply reply = command(ctx, args);
        if (!reply || ctx->err) {
          // A timeout is an I/O error too ("Resource temporarily unavailable").
          report = fail_locked("no answer to " + args.front() + " (" + detail::printable(ctx->errstr, 120) + ")");
        } else if (reply->type == REDIS_REPLY_ERROR) {
          report = fail_locked("it answered " + args.front() + " with the error " + reply_code(*reply));
        } else {
          // Back only once a command went through: a server that lets us in but refuses the
          // commands (an ACL without EVAL) stays one outage, reported once.
          reattached = down;
          down = false;
          result = std::move(reply);
        }
      }
      attached.store(ctx != nullptr, std::memory_order_relaxed);
    }
    if (reattached && o.on_reattach) o.on_reattach();
    if (report && o.on_error) o.on_error(*report);
    if (result) release_orphans();
    return result;
  }

  // A lease request that timed out may still have been carried out once the server woke up: a
  // lease nobody holds, which would stall every replica for lease_ttl. Released (if ours) as soon
  // as Redis answers again.
  void orphan(std::string slot, std::string owner_id) {
    std::lock_guard<std::mutex> lock(mutex);
    if (orphans.size() == 64) orphans.erase(orphans.begin());  // bounded through a long outage; leases expire anyway
    orphans.emplace_back(std::move(slot), std::move(owner_id));
  }
  void release_orphans() {
    std::vector<std::pair<std::string, std::string>> pending;
    {
      std::lock_guard<std::mutex> lock(mutex);
      pending.swap(orphans);
    }
    for (auto& [slot, owner_id] : pending)
      if (!run({"EVAL", kRelease, "1", slot + ":lease", owner_id})) orphan(std::move(slot), std::move(owner_id));
  }

  enum class Connected { yes, unreachable, refused };

  // Connects, authenticates and selects the database; on failure leaves ctx null and says why.
  Connected connect_locked(std::string& why) {
    const timeval connect_timeout = to_timeval(o.connect_timeout);
    ctx = o.unix_socket.empty() ? redisConnectWithTimeout(o.host.c_str(), o.port, connect_timeout)
                                : redisConnectUnixWithTimeout(o.unix_socket.c_str(), connect_timeout);
    if (!ctx || ctx->err) {
      why = ctx ? "cannot connect (" + detail::printable(ctx->errstr, 120) + ")" : "cannot connect (out of memory)";
      drop_locked();
      return Connected::unreachable;
    }
    // The handshake counts as connecting; every later command as a command.
    redisSetTimeout(ctx, connect_timeout);
    if (o.unix_socket.empty()) redisEnableKeepAlive(ctx);
    std::vector<std::string> auth;
    struct Wipe {  // the copy of the password in the AUTH command
      std::vector<std::string>& words;
      ~Wipe() {
        for (auto& w : words) detail::secure_wipe(w);
      }
    } wipe{auth};
    if (!o.password.empty()) {
      auth = {"AUTH"};
      if (!o.username.empty()) auth.push_back(o.username);
      auth.push_back(o.password.expose());
    }
    std::vector<std::string> select = {"SELECT", std::to_string(o.database)};
    // A server that accepts the connection without answering (hung, SIGSTOPped) or that wants a
    // password we lack shows itself here, not at the first renewal.
    std::vector<std::string> ping = {"PING"};
    for (const auto* handshake : {&auth, &select, &ping}) {
      if (handshake->empty() || (handshake == &select && o.database == 0)) continue;
      const Reply reply = command(ctx, *handshake);
      if (!reply || ctx->err) {
        why = "no answer to " + handshake->front() + " within connect_timeout";
        drop_locked();
        return Connected::unreachable;
      }
      if (reply->type == REDIS_REPLY_ERROR) {
        const std::string code = reply_code(*reply);
        why = handshake == &auth     ? "it refused the credentials (" + code + ")"
              : handshake == &select ? "it refused SELECT " + std::to_string(o.database) + " (" + code + ")"
              : code == "NOAUTH"     ? "it requires a password (NOAUTH), and none is configured"
                                     : "it refused PING (" + code + ")";
        drop_locked();
        return Connected::refused;
      }
    }
    redisSetTimeout(ctx, to_timeval(o.command_timeout));
    return Connected::yes;
  }

  void drop_locked() {
    if (ctx) redisFree(ctx);
    ctx = nullptr;
  }

  // Drops the connection until retry_interval has passed; the error to report if this begins an outage.
  std::optional<Error> fail_locked(const std::string& why) {
    drop_locked();
    retry_at = std::chrono::steady_clock::now() + o.retry_interval;
    if (down) return std::nullopt;
    down = true;
    return Error(errc::store, kOperation,
                 "Redis at " + where() + ": " + why +
                     "; tokens are renewed by this process alone until it answers again");
  }

  [[nodiscard]] std::string where() const {
    return o.unix_socket.empty() ? detail::printable(o.host, 200) + ":" + std::to_string(o.port)
                                 : detail::printable(o.unix_socket, 200);
  }

  // ---- The in-process lock of each key: replicas exclude each other through the lease, sources of
  // one process through this (and alone through this while Redis is unreachable).
  void lock_local(const std::string& id, std::chrono::steady_clock::time_point deadline, const CancelToken& cancel) {
    std::unique_lock<std::mutex> lock(local_mutex);
    while (local_held.count(id) != 0) {
      if (cancel.cancelled()) throw Error(errc::cancelled, "locking the token store", "cancelled");
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) throw Error(errc::store, "locking the token store", "another renewal held the lock too long");
      // Short slices so that a cancellation is seen; a release notifies at once.
      local_released.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)));
    }
    local_held.insert(id);
  }
  void unlock_local(const std::string& id) {
    {
      std::lock_guard<std::mutex> lock(local_mutex);
      local_held.erase(id);
    }
    local_released.notify_all();
  }

  // Opens a record with the key, else with a previous one (a record sealed before a key rotation).
  [[nodiscard]] StoredTokenRead open(std::string_view value, const TokenKey& key) const {
    try {
      return open_token_record(value, key, o.encryption_key);
    } catch (const Error& e) {
      if (e.code() != errc::store_mismatch || !o.encryption_key || value.substr(0, kSealedPrefix.size()) != kSealedPrefix)
        throw;
      for (const Secret& previous : o.previous_keys) {
        try {
          return open_token_record(value, key, previous);
        } catch (const Error&) {  // not this one either
        }
      }
      throw;
    }
  }

  std::string next_owner() { return owner + ":" + std::to_string(++leases); }

  // Where a missing fencing counter starts: random, below 2^52 so Lua's numbers stay exact.
  static std::string fence_start() {
    const std::string r = random_bytes(8);
    std::uint64_t n = 0;
    for (unsigned char c : r) n = (n << 8) | c;
    return std::to_string(n & ((std::uint64_t{1} << 52) - 1));
  }

  // A record's lifetime in Redis: the token's remaining life, its refresh token's when it has one.
  [[nodiscard]] std::string ttl_ms(const Token& token) const {
    const auto now = std::chrono::system_clock::now();
    std::optional<Token::time_point> until = token.expiry;
    if (token.has_refresh_token()) until = token.refresh_expiry;
    const auto ttl = until ? std::chrono::duration_cast<std::chrono::milliseconds>(*until - now)
                           : std::chrono::duration_cast<std::chrono::milliseconds>(o.default_ttl);
    return std::to_string(std::max<std::int64_t>(1, ttl.count()));
  }

  const RedisTokenStoreOptions o;
  std::string owner;  // random per store: leases name their holder
  std::atomic<std::uint64_t> leases{0};
  std::atomic<bool> attached{false};

  std::mutex mutex;  // the connection and the outage state
  redisContext* ctx = nullptr;
  bool down = false;
  std::chrono::steady_clock::time_point retry_at{};
  std::vector<std::pair<std::string, std::string>> orphans;  // (slot, owner) of lease requests that timed out

  std::mutex local_mutex;
  std::condition_variable local_released;
  std::set<std::string> local_held;

  struct Lease;
};

// A held lock: this process's lock of the key, and the Redis lease unless Redis was unreachable.
struct RedisTokenStore::Impl::Lease final : TokenStoreLock {
  Lease(std::shared_ptr<Impl> i, std::string s) : impl(std::move(i)), slot(std::move(s)) {}
  ~Lease() override {
    if (keeper.joinable()) {
      {
        std::lock_guard<std::mutex> lock(keeper_mutex);
        released = true;
      }
      keeper_wake.notify_all();
      keeper.join();
    }
    if (remote) {
      try {
        impl->run({"EVAL", kRelease, "1", slot + ":lease", owner});
      } catch (...) {  // it expires by itself
      }
    }
    if (local) impl->unlock_local(slot);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // Extends the lease every third of lease_ttl until released; stops when the lease is lost (taken
  // over, or flushed), as extending someone else's would defeat the fence.
  void keep_alive() {
    const auto every = std::max(std::chrono::milliseconds(1), impl->o.lease_ttl / 3);
    const std::string ttl = std::to_string(impl->o.lease_ttl.count());
    try {
      keeper = std::thread([this, every, ttl] {
      std::unique_lock<std::mutex> lock(keeper_mutex);
      while (!keeper_wake.wait_for(lock, every, [this] { return released; })) {
        lock.unlock();
        const std::optional<Reply> reply = impl->run({"EVAL", kExtend, "1", slot + ":lease", owner, ttl});
        lock.lock();
        if (reply && (*reply)->type == REDIS_REPLY_INTEGER && (*reply)->integer == 0) return;
      }
      });
    } catch (const std::system_error&) {
      // No thread to spare: the lease then lasts lease_ttl, as a holder's that died would.
    }
  }

  std::shared_ptr<Impl> impl;
  std::string slot;  // "<prefix>{<hash>}"
  bool local = false;
  bool remote = false;
  std::string owner;
  std::string fence;
  std::thread keeper;
  std::mutex keeper_mutex;
  std::condition_variable keeper_wake;
  bool released = false;
};

RedisTokenStore::RedisTokenStore(RedisTokenStoreOptions options) {
  if (!options.encryption_key && !options.plaintext)
    throw Error(errc::config, kOperation,
                "no encryption_key: records hold refresh tokens; set one (RedisTokenStore::generate_key()), or set "
                "plaintext to store them unencrypted");
  if (options.encryption_key) check_aes_key(*options.encryption_key);
  for (const Secret& previous : options.previous_keys) check_aes_key(previous);
  if (!options.previous_keys.empty() && !options.encryption_key)
    throw Error(errc::config, kOperation, "previous_keys without an encryption_key");
  if (options.prefix.empty() ||
      !std::all_of(options.prefix.begin(), options.prefix.end(),
                   [](char c) { return c > ' ' && c < 0x7F && c != '{' && c != '}'; }))
    throw Error(errc::config, kOperation, "the key prefix must be printable ASCII without spaces or braces");
  if (options.unix_socket.empty() && !options.allow_remote_plaintext && !loopback(options.host))
    throw Error(errc::insecure_url, kOperation,
                "Redis at " + detail::printable(options.host, 200) +
                    " is not on loopback and this hiredis speaks no TLS: reach it through a TLS tunnel on loopback "
                    "(docs/fleet.md), or set allow_remote_plaintext");
  if (options.port <= 0 || options.port > 65535) throw Error(errc::config, kOperation, "the port is not 1 to 65535");
  for (const auto d : {options.connect_timeout, options.command_timeout, options.lease_ttl, options.poll_interval})
    if (d <= std::chrono::milliseconds::zero())
      throw Error(errc::config, kOperation, "timeouts, lease_ttl and poll_interval must be positive");
  impl_ = std::make_shared<Impl>(std::move(options));
  // Reachability is no precondition (the store starts degraded), but refused credentials are a
  // configuration error to be told at once.
  std::optional<Error> report;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    std::string why;
    const Impl::Connected c = impl_->connect_locked(why);
    if (c == Impl::Connected::refused) throw Error(errc::store, kOperation, "Redis at " + impl_->where() + ": " + why);
    if (c == Impl::Connected::unreachable) report = impl_->fail_locked(why);
    impl_->attached.store(c == Impl::Connected::yes, std::memory_order_relaxed);
  }
  if (report && impl_->o.on_error) impl_->o.on_error(*report);
}

RedisTokenStore::~RedisTokenStore() = default;

bool RedisTokenStore::available() noexcept { return true; }

bool RedisTokenStore::attached() const { return impl_->attached.load(std::memory_order_relaxed); }

std::optional<Token> RedisTokenStore::load(const TokenKey& key) {
  const std::optional<Reply> reply = impl_->run({"GET", record_key(impl_->o.prefix, key)});
  if (!reply || (*reply)->type != REDIS_REPLY_STRING) return std::nullopt;
  const std::string_view value((*reply)->str, (*reply)->len);
  StoredTokenRead read =
      value.size() > impl_->o.max_record_size
          ? StoredTokenRead{std::nullopt, Error(errc::parse, "reading a saved token",
                                                "the saved record is larger than max_record_size")}
          : impl_->open(value, key);
  if (read.warning && impl_->o.on_error) impl_->o.on_error(*read.warning);
  return std::move(read.token);
}

void RedisTokenStore::save(const TokenKey& key, const Token& token) {
  const std::string s = slot(impl_->o.prefix, key);
  impl_->run({"EVAL", kSave, "2", s + ":token", s + ":fence", seal_token_record(key, token, impl_->o.encryption_key),
              impl_->ttl_ms(token), Impl::fence_start()});
}

void RedisTokenStore::save_locked(const TokenKey& key, const Token& token, const TokenStoreLock& held) {
  const auto* lease = dynamic_cast<const Impl::Lease*>(&held);
  if (!lease || lease->impl != impl_)
    throw Error(errc::config, "saving a renewed token", "the lock is not one of this store's");
  const std::string& s = lease->slot;
  if (!lease->remote) {
    impl_->run({"EVAL", kUnfencedSave, "3", s + ":token", s + ":fence", s + ":lease",
                seal_token_record(key, token, impl_->o.encryption_key), impl_->ttl_ms(token), Impl::fence_start()});
    return;
  }
  const std::optional<Reply> reply =
      impl_->run({"EVAL", kFencedSave, "2", s + ":token", s + ":fence", lease->fence,
                  seal_token_record(key, token, impl_->o.encryption_key), impl_->ttl_ms(token)});
  if (reply && (*reply)->type == REDIS_REPLY_INTEGER && (*reply)->integer == 0)
    throw Error(errc::store, "saving a renewed token",
                "refused: this replica's renewal lease expired and another replica took it over (fencing token " +
                    lease->fence + " is stale); the newer token in the store is kept");
}

void RedisTokenStore::remove(const TokenKey& key) { impl_->run({"DEL", record_key(impl_->o.prefix, key)}); }

std::unique_ptr<TokenStoreLock> RedisTokenStore::lock(const TokenKey& key, std::chrono::milliseconds timeout,
                                                      const CancelToken& cancel) {
  return lock_unless(key, timeout, cancel, {});
}

std::unique_ptr<TokenStoreLock> RedisTokenStore::lock_unless(const TokenKey& key, std::chrono::milliseconds timeout,
                                                             const CancelToken& cancel,
                                                             const std::function<bool()>& renewed) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto lease = std::make_unique<Impl::Lease>(impl_, slot(impl_->o.prefix, key));
  impl_->lock_local(lease->slot, deadline, cancel);
  lease->local = true;
  const std::string owner = impl_->next_owner();
  const std::string ttl = std::to_string(impl_->o.lease_ttl.count());
  const std::string start = Impl::fence_start();
  std::minstd_rand jitter(static_cast<std::uint32_t>(std::hash<std::string>{}(owner)));
  for (;;) {
    const std::optional<Reply> reply =
        impl_->run({"EVAL", kAcquire, "2", lease->slot + ":lease", lease->slot + ":fence", owner, ttl, start});
    if (!reply) {  // degraded: this process's lock alone
      impl_->orphan(lease->slot, owner);
      return lease;
    }
    if ((*reply)->type == REDIS_REPLY_INTEGER && (*reply)->integer > 0) {
      lease->remote = true;
      lease->owner = owner;
      lease->fence = std::to_string((*reply)->integer);
      lease->keep_alive();
      return lease;
    }
    if (renewed && renewed()) return nullptr;  // the holder's result will do
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      throw Error(errc::store, "locking the token store", "another replica held the renewal lease too long");
    // Jittered, so that replicas released together do not ask together.
    const auto poll = impl_->o.poll_interval.count();
    const auto pause = std::chrono::milliseconds(poll / 2 + static_cast<std::int64_t>(jitter() % (poll + 1)));
    if (cancel.wait_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now)))
      throw Error(errc::cancelled, "locking the token store", "cancelled");
  }
}

#endif

}  // namespace oidc
