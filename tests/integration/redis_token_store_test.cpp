// RedisTokenStore (include/oidc/redis_token_store.hpp) in one process against a redis-server of the
// test's own (tests/support/redis_server.hpp): the keys, sealed and plaintext records and their TTL,
// wrong keys and corrupt records, option checks and authentication, the fenced lease across two
// connections (two replicas), degrading when Redis is stopped, frozen or flushed and re-attaching,
// and two token sources sharing one renewal through it. The multi-process fleet tests are
// redis_fleet_test.cpp.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "local_provider.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/file_token_store.hpp"
#include "oidc/redis_token_store.hpp"
#include "redis_server.hpp"

using namespace std::chrono_literals;
using oidc::errc;
using oidc::Error;
using oidc::RedisTokenStore;
using oidc::RedisTokenStoreOptions;
using oidc::Secret;
using oidc::Token;
using oidc::TokenKey;
using oidc_testing::error_of;
using oidc_testing::RedisClient;
using oidc_testing::RedisServer;

namespace {

using Clock = std::chrono::steady_clock;

// Two application keys (32 bytes each) and the secrets no message may hold.
const std::string kKeyA = "0123456789abcdef0123456789ABCDEF";
const std::string kKeyB = "fedcba9876543210FEDCBA9876543210";
const std::string kAccess = "at-secret-redis-1";
const std::string kRefresh = "rt-secret-redis-1";
const std::string kPassword = "redis-pass-w0rd-42";

TokenKey key_of(std::string subject = "alice") {
  return {"https://issuer.example", "https://issuer.example/token", "cli", "password", "openid profile", "",
          std::move(subject)};
}

// A token at the real time: the store's TTL is the remaining life by the system clock.
Token token_of(std::string access = kAccess, std::string refresh = kRefresh) {
  Token t;
  t.access_token = std::move(access);
  t.token_type = "Bearer";
  t.refresh_token = std::move(refresh);
  t.scope = "openid profile";
  t.received_at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  t.expiry = t.received_at + 300s;
  t.refresh_expiry = t.received_at + 1800s;
  return t;
}

void expect_same(const Token& a, const Token& b) {
  EXPECT_EQ(a.access_token.expose(), b.access_token.expose());
  EXPECT_EQ(a.refresh_token.expose(), b.refresh_token.expose());
  EXPECT_EQ(a.token_type, b.token_type);
  EXPECT_EQ(a.scope, b.scope);
  EXPECT_EQ(a.expiry, b.expiry);
  EXPECT_EQ(a.refresh_expiry, b.refresh_expiry);
  EXPECT_EQ(a.received_at, b.received_at);
}

// `<prefix>{hash}:token` -> `<prefix>{hash}:<what>`.
std::string sibling_key(const std::string& record_key, const std::string& what) {
  return record_key.substr(0, record_key.size() - std::string("token").size()) + what;
}

std::string hex_hash(const TokenKey& k) { return oidc::FileTokenStore::file_name(k).substr(0, 64); }

// Everything the store reported through its hooks; they may be called on any thread.
struct Hooks {
  std::mutex mutex;
  std::vector<Error> errors;
  std::atomic<int> reattached{0};

  std::vector<Error> seen() {
    std::lock_guard<std::mutex> lock(mutex);
    return errors;
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return errors.size();
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex);
    errors.clear();
  }
};

// No error a test sees may hold a token, an encryption key or the Redis password.
::testing::AssertionResult clean(const Error& e) {
  return oidc_testing::is_clean(e, {kAccess, kRefresh, kKeyA, kKeyB, kPassword, "rt-secret-redis-2",
                                    "at-secret-redis-2", oidc::detail::base64_encode(kKeyA),
                                    oidc::detail::base64_encode(kKeyB)});
}

class RedisTokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { server = std::make_unique<RedisServer>(); }

  RedisTokenStoreOptions options(std::optional<std::string> key = kKeyA) {
    RedisTokenStoreOptions o;
    o.port = server->port();
    if (key) o.encryption_key = Secret(*key);
    else o.plaintext = true;
    o.connect_timeout = 250ms;
    o.command_timeout = 250ms;
    o.retry_interval = 50ms;
    o.on_error = [h = hooks](const Error& e) {
      std::lock_guard<std::mutex> lock(h->mutex);
      h->errors.push_back(e);
    };
    o.on_reattach = [h = hooks] { ++h->reattached; };
    return o;
  }
  std::unique_ptr<RedisTokenStore> store(std::optional<std::string> key = kKeyA) {
    return std::make_unique<RedisTokenStore>(options(std::move(key)));
  }
  std::unique_ptr<RedisTokenStore> store(RedisTokenStoreOptions o) {
    return std::make_unique<RedisTokenStore>(std::move(o));
  }
  std::string record_key(const TokenKey& k = key_of()) const { return RedisTokenStore::record_key("oidc:", k); }
  RedisClient redis() const { return server->client(); }

  // Loads until the store answers from Redis again: there is no event for "Redis is back", so
  // this polls (bounded) the real external process, each call bounded by the store's timeouts.
  bool wait_attached(RedisTokenStore& s, std::chrono::milliseconds limit = 20000ms) {
    const auto give_up = Clock::now() + limit;
    while (Clock::now() < give_up) {
      (void)s.load(key_of("probe"));
      if (s.attached()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::unique_ptr<RedisServer> server;
  std::shared_ptr<Hooks> hooks = std::make_shared<Hooks>();
};

}  // namespace

// ---- Keys and records

TEST_F(RedisTokenStoreTest, RecordKeyIsThePrefixAndTheHashOfTheCanonicalKeyInBraces) {
  const std::string k = RedisTokenStore::record_key("oidc:app:", key_of());
  EXPECT_EQ(k, "oidc:app:{" + hex_hash(key_of()) + "}:token");
  EXPECT_NE(RedisTokenStore::record_key("oidc:app:", key_of("bob")), k);
  TokenKey reordered = key_of();
  reordered.scope = "profile openid openid";
  EXPECT_EQ(RedisTokenStore::record_key("oidc:app:", reordered), k);
}

TEST_F(RedisTokenStoreTest, RoundTripsASealedRecordThatHidesTheToken) {
  const auto s = store();
  EXPECT_TRUE(s->attached());
  EXPECT_FALSE(s->load(key_of()));
  const Token t = token_of();
  s->save(key_of(), t);
  const auto back = s->load(key_of());
  ASSERT_TRUE(back);
  expect_same(*back, t);
  // Another connection with the same key (another replica) reads it.
  expect_same(*store()->load(key_of()), t);
  EXPECT_FALSE(s->load(key_of("bob")));

  auto r = redis();
  const auto raw = r.get(record_key());
  ASSERT_TRUE(raw);
  const std::string prefix = "oidc-sealed/1.";
  ASSERT_EQ(raw->rfind(prefix, 0), 0u) << "the record is not sealed";
  EXPECT_EQ(raw->find(kAccess), std::string::npos);
  EXPECT_EQ(raw->find(kRefresh), std::string::npos);
  EXPECT_EQ(raw->find("alice"), std::string::npos);
  const std::string body = raw->substr(prefix.size());
  EXPECT_EQ(body.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos)
      << "not unpadded base64url";
  // nonce (12) | ciphertext (as long as the record) | tag (16)
  std::string padded = body;
  for (auto& c : padded) c = c == '-' ? '+' : c == '_' ? '/' : c;
  padded.append((4 - padded.size() % 4) % 4, '=');
  const auto bytes = oidc::detail::base64_decode(padded);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 12 + oidc::serialize_stored_token(key_of(), t).size() + 16);

  // Two saves of one token are sealed under different nonces.
  s->save(key_of(), t);
  EXPECT_NE(r.get(record_key()), raw);

  s->remove(key_of());
  EXPECT_FALSE(s->load(key_of()));
  EXPECT_FALSE(r.get(record_key()));
  s->remove(key_of());  // absent is fine
  EXPECT_EQ(hooks->count(), 0u);
}

TEST_F(RedisTokenStoreTest, PrefixBeginsEveryKey) {
  RedisTokenStoreOptions o = options();
  o.prefix = "oidc:app-one:";
  const auto s = store(o);
  s->save(key_of(), token_of());
  auto held = s->lock(key_of(), 1s, {});
  ASSERT_TRUE(held);
  auto r = redis();
  const auto keys = r.keys();
  ASSERT_FALSE(keys.empty());
  for (const auto& k : keys) EXPECT_EQ(k.rfind("oidc:app-one:{" + hex_hash(key_of()) + "}:", 0), 0u) << k;
  EXPECT_TRUE(r.get(RedisTokenStore::record_key("oidc:app-one:", key_of())));
  // Another application's prefix does not see it.
  RedisTokenStoreOptions other = options();
  other.prefix = "oidc:app-two:";
  EXPECT_FALSE(store(other)->load(key_of()));
}

TEST_F(RedisTokenStoreTest, PlaintextStoreKeepsTheRecordAsIs) {
  const auto s = store(std::nullopt);
  const Token t = token_of();
  s->save(key_of(), t);
  EXPECT_EQ(redis().get(record_key()), oidc::serialize_stored_token(key_of(), t));
  expect_same(*s->load(key_of()), t);
}

TEST_F(RedisTokenStoreTest, RecordExpiresWithTheTokensRemainingLife) {
  RedisTokenStoreOptions o = options();
  o.default_ttl = std::chrono::hours(24);
  const auto s = store(o);
  auto r = redis();
  const auto pttl = [&](const Token& t) {
    s->save(key_of(), t);
    return r.integer({"PTTL", record_key()});
  };
  // A refresh token of known life: the record lasts as long as it (1800 s), not the access token.
  const Token rotating = token_of();
  auto ms = pttl(rotating);
  EXPECT_GT(ms, 300'000);
  EXPECT_LE(ms, 1'800'000);

  // No refresh token: the access token's life.
  Token access_only = token_of();
  access_only.refresh_token = Secret();
  access_only.refresh_expiry.reset();
  ms = pttl(access_only);
  EXPECT_GT(ms, 0);
  EXPECT_LE(ms, 300'000);

  // A refresh token of unknown life, and a token that says nothing: default_ttl.
  Token unknown_life = token_of();
  unknown_life.refresh_expiry.reset();
  ms = pttl(unknown_life);
  EXPECT_GT(ms, 1'800'000);
  EXPECT_LE(ms, 24 * 3'600'000);
  Token no_expiry = access_only;
  no_expiry.expiry.reset();
  ms = pttl(no_expiry);
  EXPECT_GT(ms, 1'800'000);
  EXPECT_LE(ms, 24 * 3'600'000);
}

// ---- Wrong keys, corrupt and oversized records

TEST_F(RedisTokenStoreTest, RecordSealedWithAnotherKeyIsAClearMismatch) {
  store(kKeyA)->save(key_of(), token_of());
  const auto b = store(kKeyB);
  const Error e = error_of([&] { (void)b->load(key_of()); });
  EXPECT_EQ(e.code(), errc::store_mismatch) << e.what();
  EXPECT_NE(std::string(e.what()).find("not open"), std::string::npos)
      << "the message should say the key does not open the record: " << e.what();
  EXPECT_TRUE(clean(e));
  // The record is left alone: the replicas with the right key still read it.
  EXPECT_TRUE(store(kKeyA)->load(key_of()));
}

TEST_F(RedisTokenStoreTest, SealedAndPlaintextRecordsDoNotReadAsEachOther) {
  store(kKeyA)->save(key_of(), token_of());
  Error e = error_of([&] { (void)store(std::nullopt)->load(key_of()); });
  EXPECT_EQ(e.code(), errc::store_mismatch) << e.what();
  EXPECT_TRUE(clean(e));

  store(std::nullopt)->save(key_of("bob"), token_of());
  e = error_of([&] { (void)store(kKeyA)->load(key_of("bob")); });
  EXPECT_EQ(e.code(), errc::store_mismatch) << e.what();
  EXPECT_TRUE(clean(e));
}

TEST_F(RedisTokenStoreTest, SealedRecordMovedUnderAnotherKeyDoesNotOpen) {
  const auto s = store();
  s->save(key_of("bob"), token_of());
  auto r = redis();
  const auto bobs = r.get(record_key(key_of("bob")));
  ASSERT_TRUE(bobs);
  r.run({"SET", record_key(key_of("alice")), *bobs});
  const Error e = error_of([&] { (void)s->load(key_of("alice")); });
  EXPECT_EQ(e.code(), errc::store_mismatch) << e.what();
  EXPECT_TRUE(clean(e));
  EXPECT_EQ(std::string(e.what()).find("bob"), std::string::npos) << e.what();
}

TEST_F(RedisTokenStoreTest, CorruptSealedRecordsAreAbsentWithAParseWarning) {
  const auto s = store();
  auto r = redis();
  const std::vector<std::string> bad = {
      "oidc-sealed/1.",                  // nothing sealed
      "oidc-sealed/1.!!!not*base64!!!",  // not base64url
      "oidc-sealed/1.A",                 // impossible length
      "oidc-sealed/1.AAAAAAAAAAAAAAAA",  // 12 bytes: a nonce and nothing else
      "oidc-sealed/1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  // 26 bytes: shorter than nonce and tag
  };
  for (const auto& value : bad) {
    hooks->clear();
    r.run({"SET", record_key(), value});
    std::optional<Token> loaded;
    EXPECT_NO_THROW(loaded = s->load(key_of())) << value;
    EXPECT_FALSE(loaded) << value;
    const auto seen = hooks->seen();
    ASSERT_EQ(seen.size(), 1u) << value;
    EXPECT_EQ(seen[0].code(), errc::parse) << seen[0].what();
    EXPECT_TRUE(clean(seen[0]));
    EXPECT_TRUE(s->attached()) << "a corrupt record is not an outage";
  }
  // The next save replaces it.
  s->save(key_of(), token_of());
  EXPECT_TRUE(s->load(key_of()));
}

TEST_F(RedisTokenStoreTest, CorruptPlaintextRecordIsAbsentWithAParseWarning) {
  const auto s = store(std::nullopt);
  redis().run({"SET", record_key(), "{\"format\":\"oidc-token\",\"vers"});
  EXPECT_FALSE(s->load(key_of()));
  const auto seen = hooks->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].code(), errc::parse) << seen[0].what();
}

TEST_F(RedisTokenStoreTest, OversizedRecordIsAbsentWithAWarning) {
  store()->save(key_of(), token_of());
  const auto size = redis().get(record_key())->size();
  RedisTokenStoreOptions o = options();
  o.max_record_size = size;
  EXPECT_TRUE(store(o)->load(key_of()));
  EXPECT_EQ(hooks->count(), 0u);
  o.max_record_size = size - 1;
  const auto small = store(o);
  EXPECT_FALSE(small->load(key_of()));
  const auto seen = hooks->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(clean(seen[0]));
  EXPECT_TRUE(small->attached());
}

// ---- Options, keys and authentication

TEST_F(RedisTokenStoreTest, PreviousKeysOpenRecordsButNeverSealThem) {
  const Token t = token_of();
  store(kKeyA)->save(key_of(), t);
  RedisTokenStoreOptions o = options(kKeyB);
  o.previous_keys = {Secret(kKeyA)};
  const auto rotated = store(o);
  const auto opened = rotated->load(key_of());
  ASSERT_TRUE(opened);
  expect_same(*opened, t);
  // What it saves is sealed with the new key only.
  rotated->save(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"));
  EXPECT_EQ(store(kKeyB)->load(key_of())->refresh_token.expose(), "rt-secret-redis-2");
  const Error e = error_of([&] { (void)store(kKeyA)->load(key_of()); });
  EXPECT_EQ(e.code(), errc::store_mismatch) << e.what();
  EXPECT_TRUE(clean(e));
  // A record sealed with neither key is still a mismatch.
  RedisTokenStoreOptions third = options("third-key-0123456789abcdef-32byt");
  third.previous_keys = {Secret(kKeyA)};
  EXPECT_EQ(error_of([&] { (void)store(third)->load(key_of()); }).code(), errc::store_mismatch);
  // Every previous key is 32 bytes too.
  o.previous_keys = {Secret(kKeyA), Secret(std::string(31, 'k'))};
  EXPECT_EQ(error_of([&] { RedisTokenStore bad(o); }).code(), errc::config);
}

TEST_F(RedisTokenStoreTest, ConstructorRefusesAStoreWithoutAKeyUnlessPlaintextIsMeant) {
  RedisTokenStoreOptions o = options();
  o.encryption_key.reset();
  o.plaintext = false;
  EXPECT_EQ(error_of([&] { RedisTokenStore s(o); }).code(), errc::config);
  o.plaintext = true;
  EXPECT_NO_THROW(RedisTokenStore s(o));
}

TEST_F(RedisTokenStoreTest, ConstructorRefusesAKeyThatIsNot32Bytes) {
  for (const std::string& k : {std::string(), std::string(16, 'k'), std::string(31, 'k'), std::string(33, 'k'),
                              std::string(64, 'k')}) {
    RedisTokenStoreOptions o = options(k);
    const Error e = error_of([&] { RedisTokenStore s(o); });
    EXPECT_EQ(e.code(), errc::config) << k.size() << ": " << e.what();
    EXPECT_TRUE(oidc_testing::is_clean(e, {k}));
  }
}

TEST_F(RedisTokenStoreTest, ConstructorRefusesABadPrefix) {
  for (const char* p : {"", "oidc app:", "oidc:{app}:", "oidc:{", "oidc:}", "oidc:\napp", "oidc:\x7f"}) {
    RedisTokenStoreOptions o = options();
    o.prefix = p;
    EXPECT_EQ(error_of([&] { RedisTokenStore s(o); }).code(), errc::config) << p;
  }
  EXPECT_EQ(hooks->count(), 0u);
}

TEST_F(RedisTokenStoreTest, RemoteHostNeedsAllowRemotePlaintext) {
  RedisTokenStoreOptions o = options();
  o.host = "10.1.2.3";
  o.connect_timeout = 100ms;
  const Error e = error_of([&] { RedisTokenStore s(o); });
  EXPECT_EQ(e.code(), errc::insecure_url) << e.what();
  // Refused before connecting: an attempt would have failed and been reported through on_error.
  EXPECT_EQ(hooks->count(), 0u);

  // Allowed, it is an unreachable server (nothing answers there): degraded, not an error.
  o.allow_remote_plaintext = true;
  std::unique_ptr<RedisTokenStore> s;
  const auto started = Clock::now();
  ASSERT_NO_THROW(s = store(o));
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_FALSE(s->attached());
  EXPECT_EQ(hooks->count(), 1u);

  // Loopback by name or anywhere in 127/8 is not remote.
  o = options();
  o.host = "localhost";
  EXPECT_NO_THROW(RedisTokenStore loopback(o));
}

TEST_F(RedisTokenStoreTest, UnreachableServerDegradesAndIsReportedOnce) {
  RedisTokenStoreOptions o = options();
  o.port = oidc_testing::free_loopback_port();  // nothing listens there
  std::unique_ptr<RedisTokenStore> s;
  ASSERT_NO_THROW(s = store(o));
  EXPECT_FALSE(s->attached());
  for (int i = 0; i < 5; ++i) {
    const auto started = Clock::now();
    EXPECT_FALSE(s->load(key_of()));
    s->save(key_of(), token_of());
    EXPECT_LT(Clock::now() - started, 2s);
  }
  const auto seen = hooks->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].code(), errc::store) << seen[0].what();
  EXPECT_NE(std::string(seen[0].what()).find(std::to_string(o.port)), std::string::npos)
      << "the report names the server: " << seen[0].what();
  EXPECT_TRUE(clean(seen[0]));
}

TEST_F(RedisTokenStoreTest, MissingPasswordIsRefusedAtConstruction) {
  // Set at run time: RedisServer's readiness check PINGs without AUTH.
  redis().run({"CONFIG", "SET", "requirepass", kPassword});
  const Error e = error_of([&] { RedisTokenStore s(options()); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_TRUE(clean(e));
  for (const auto& reported : hooks->seen()) EXPECT_TRUE(clean(reported));
}

TEST_F(RedisTokenStoreTest, PasswordIsCheckedAndNeverQuoted) {
  // Set at run time: RedisServer's readiness check PINGs without AUTH.
  redis().run({"CONFIG", "SET", "requirepass", kPassword});
  RedisTokenStoreOptions o = options();
  o.password = Secret("wrong-" + kPassword);
  const Error e = error_of([&] { RedisTokenStore s(o); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_TRUE(clean(e));
  EXPECT_TRUE(oidc_testing::is_clean(e, {"wrong-" + kPassword}));
  for (const auto& reported : hooks->seen()) EXPECT_TRUE(clean(reported));

  o.password = Secret(kPassword);
  const auto s = store(o);
  EXPECT_TRUE(s->attached());
  s->save(key_of(), token_of());
  expect_same(*s->load(key_of()), token_of());
}

TEST_F(RedisTokenStoreTest, AclUserWithUsernameAndPassword) {
  auto r = redis();
  auto info = r.run({"INFO", "server"});
  const std::string text(info->str, info->len);
  const auto at = text.find("redis_version:");
  ASSERT_NE(at, std::string::npos);
  if (std::stoi(text.substr(at + 14)) < 6) GTEST_SKIP() << "ACL users need Redis 6";
  // An application's user: its own key pattern only, as docs/fleet.md sets one up.
  auto set = r.run({"ACL", "SETUSER", "fleet-app", "on", ">" + kPassword, "~oidc:*", "+@all"});
  ASSERT_EQ(set->type, REDIS_REPLY_STATUS) << std::string(set->str, set->len);

  RedisTokenStoreOptions o = options();
  o.username = "fleet-app";
  o.password = Secret(kPassword);
  const auto s = store(o);
  EXPECT_TRUE(s->attached());
  s->save(key_of(), token_of());
  EXPECT_TRUE(s->load(key_of()));
  EXPECT_TRUE(s->lock(key_of(), 1s, {}));

  o.password = Secret("wrong-" + kPassword);
  const Error e = error_of([&] { RedisTokenStore wrong(o); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_TRUE(clean(e));
  EXPECT_TRUE(oidc_testing::is_clean(e, {"wrong-" + kPassword}));
}

TEST_F(RedisTokenStoreTest, DecodeKeyReadsBase64OrBase64urlOf32Bytes) {
  const std::string raw = "\xfb\xff\xfe" + std::string(29, '\x3e');  // +/ in base64, -_ in base64url
  const std::string std64 = oidc::detail::base64_encode(raw);
  const std::string url64 = oidc::detail::base64url_encode(raw);
  ASSERT_EQ(std64.size(), 44u);
  ASSERT_EQ(url64.size(), 43u);
  EXPECT_EQ(RedisTokenStore::decode_key(std64).expose(), raw);
  EXPECT_EQ(RedisTokenStore::decode_key(url64).expose(), raw);
  for (const std::string& bad : {std::string(), oidc::detail::base64_encode(std::string(31, 'k')),
                                oidc::detail::base64_encode(std::string(33, 'k')), std64.substr(0, 43) + "*",
                                std::string(44, '!'), std64 + std64}) {
    const Error e = error_of([&] { (void)RedisTokenStore::decode_key(bad); });
    EXPECT_EQ(e.code(), errc::config) << bad;
    EXPECT_TRUE(oidc_testing::is_clean(e, {bad}));
  }
}

TEST_F(RedisTokenStoreTest, GenerateKeyMakesADifferentUsableKeyEachTime) {
  const std::string one = RedisTokenStore::generate_key();
  const std::string two = RedisTokenStore::generate_key();
  EXPECT_NE(one, two);
  EXPECT_EQ(RedisTokenStore::decode_key(one).expose().size(), 32u);
  EXPECT_EQ(RedisTokenStore::decode_key(two).expose().size(), 32u);
  EXPECT_NE(RedisTokenStore::decode_key(one).expose(), RedisTokenStore::decode_key(two).expose());
  RedisTokenStoreOptions o = options();
  o.encryption_key = RedisTokenStore::decode_key(one);
  const auto s = store(o);
  s->save(key_of(), token_of());
  EXPECT_TRUE(s->load(key_of()));
}

// ---- The lease (two stores: two connections, as two replicas have)

TEST_F(RedisTokenStoreTest, LeaseIsExclusiveAcrossTwoConnections) {
  const auto a = store();
  const auto b = store();
  auto held = a->lock(key_of(), 1s, {});
  ASSERT_TRUE(held);
  auto r = redis();
  EXPECT_TRUE(r.get(sibling_key(record_key(), "lease"))) << "the lease is a Redis key";
  EXPECT_TRUE(r.get(sibling_key(record_key(), "fence"))) << "and so is its fencing counter";

  const auto started = Clock::now();
  const Error e = error_of([&] { (void)b->lock(key_of(), 200ms, {}); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_GE(Clock::now() - started, 200ms);
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_TRUE(clean(e));
  // The same store twice (two sources of one process sharing it) excludes too.
  EXPECT_EQ(error_of([&] { (void)a->lock(key_of(), 100ms, {}); }).code(), errc::store);
  // Another key is independent.
  EXPECT_TRUE(b->lock(key_of("bob"), 200ms, {}));
  // The holder saves under its lease.
  a->save_locked(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"), *held);
  EXPECT_EQ(b->load(key_of())->access_token.expose(), "at-secret-redis-2");

  held.reset();
  EXPECT_FALSE(r.get(sibling_key(record_key(), "lease"))) << "released at once, not left to expire";
  EXPECT_TRUE(b->lock(key_of(), 200ms, {}));
  EXPECT_EQ(hooks->count(), 0u);
}

TEST_F(RedisTokenStoreTest, WaiterGetsTheLeaseWhenTheHolderReleases) {
  const auto a = store();
  const auto b = store();
  auto held = a->lock(key_of(), 1s, {});
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto mine = b->lock(key_of(), 30s, {});
    got = mine != nullptr;
  });
  held.reset();
  waiter.join();
  EXPECT_TRUE(got);
}

TEST_F(RedisTokenStoreTest, WaitingForTheLeaseHonoursCancel) {
  const auto a = store();
  const auto b = store();
  auto held = a->lock(key_of(), 1s, {});
  oidc::CancelToken cancel;
  std::optional<Error> seen;
  const auto started = Clock::now();
  std::thread waiter([&] { seen = error_of([&] { (void)b->lock(key_of(), 60s, cancel); }); });
  cancel.cancel();
  waiter.join();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->code(), errc::cancelled) << seen->what();
  EXPECT_LT(Clock::now() - started, 30s);
  held.reset();
  EXPECT_TRUE(b->lock(key_of(), 1s, {}));
}

// A holder that died stops extending its lease: the others get it within lease_ttl. The holder is
// a child process, SIGKILLed while it holds the lease.
TEST_F(RedisTokenStoreTest, LeaseOfAHolderThatDiedExpires) {
  RedisTokenStoreOptions o = options();
  o.lease_ttl = 600ms;
  int to_parent[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(to_parent[0]);
    try {
      RedisTokenStore mine(o);
      auto held = mine.lock(key_of(), 5s, {});
      char c = held ? 'L' : 'x';
      if (::write(to_parent[1], &c, 1) == 1) ::pause();  // hold it until killed
    } catch (...) {
    }
    ::_exit(1);
  }
  ::close(to_parent[1]);
  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  ::close(to_parent[0]);
  ASSERT_EQ(c, 'L');
  const auto b = store(o);
  EXPECT_EQ(error_of([&] { (void)b->lock(key_of(), 50ms, {}); }).code(), errc::store) << "held by the child";
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const auto killed = Clock::now();
  auto mine = b->lock(key_of(), 20s, {});
  ASSERT_TRUE(mine);
  EXPECT_LT(Clock::now() - killed, 10s);
  b->save_locked(key_of(), token_of(), *mine);
  EXPECT_TRUE(b->load(key_of()));
}

// A live holder extends its lease (every third of lease_ttl), so a slow renewal is not taken over.
TEST_F(RedisTokenStoreTest, LiveHolderKeepsItsLeasePastLeaseTtl) {
  RedisTokenStoreOptions o = options();
  o.lease_ttl = 300ms;
  const auto a = store(o);
  const auto b = store(o);
  auto held = a->lock(key_of(), 1s, {});
  ASSERT_TRUE(held);
  // The wait itself spans more than three lease_ttls.
  const Error e = error_of([&] { (void)b->lock(key_of(), 1000ms, {}); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  a->save_locked(key_of(), token_of(), *held);  // still the newest lease
  EXPECT_TRUE(b->load(key_of()));
  held.reset();
  EXPECT_TRUE(b->lock(key_of(), 1s, {}));
}

// The first holder keeps extending after its lease was taken over; that must not revive its lease
// or shorten the new holder's.
TEST_F(RedisTokenStoreTest, ExtendingNeverRevivesATakenOverLease) {
  RedisTokenStoreOptions o = options();
  o.lease_ttl = 300ms;
  const auto a = store(o);
  const auto b = store(o);
  const auto c = store(o);
  auto r = redis();
  const std::string lease = sibling_key(record_key(), "lease");
  auto first = a->lock(key_of(), 1s, {});
  ASSERT_TRUE(first);
  ASSERT_EQ(r.integer({"DEL", lease}), 1);
  auto second = b->lock(key_of(), 1s, {});
  ASSERT_TRUE(second);
  const auto owner = r.get(lease);
  ASSERT_TRUE(owner);
  // Over this wait both holders' keepers run several times.
  EXPECT_EQ(error_of([&] { (void)c->lock(key_of(), 1000ms, {}); }).code(), errc::store);
  EXPECT_EQ(r.get(lease), owner);
  EXPECT_EQ(error_of([&] { a->save_locked(key_of(), token_of(), *first); }).code(), errc::store);
  b->save_locked(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"), *second);
  EXPECT_EQ(c->load(key_of())->refresh_token.expose(), "rt-secret-redis-2");
}

TEST_F(RedisTokenStoreTest, TakenOverLeaseRefusesTheOldHoldersSaveAndSurvivesItsRelease) {
  const auto a = store();
  const auto b = store();
  const auto c = store();
  auto r = redis();
  const std::string lease = sibling_key(record_key(), "lease");
  const std::string fence = sibling_key(record_key(), "fence");
  auto first = a->lock(key_of(), 1s, {});
  ASSERT_TRUE(first);
  const auto fence_of_first = r.get(fence);
  ASSERT_TRUE(fence_of_first);
  // The lease expires (deterministically: deleted, as Redis does after lease_ttl) and b takes it.
  ASSERT_EQ(r.integer({"DEL", lease}), 1);
  auto second = b->lock(key_of(), 1s, {});
  ASSERT_TRUE(second);
  EXPECT_NE(r.get(fence), fence_of_first) << "every lease has its own fencing number";
  b->save_locked(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"), *second);

  // The slow first holder renewed too, from the old refresh token: refused.
  const Error e = error_of([&] { a->save_locked(key_of(), token_of(), *first); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_TRUE(clean(e));
  const auto kept = c->load(key_of());
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->refresh_token.expose(), "rt-secret-redis-2");

  // Releasing the taken-over lease leaves the new holder's alone.
  const auto owner = r.get(lease);
  first.reset();
  EXPECT_EQ(r.get(lease), owner);
  EXPECT_EQ(error_of([&] { (void)c->lock(key_of(), 100ms, {}); }).code(), errc::store);
  second.reset();
  EXPECT_TRUE(c->lock(key_of(), 1s, {}));
}

TEST_F(RedisTokenStoreTest, SaveOutsideALeaseFencesOffTheLeasesTakenBefore) {
  const auto a = store();
  const auto b = store();
  auto held = a->lock(key_of(), 1s, {});
  ASSERT_TRUE(held);
  b->save(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"));  // a login meanwhile
  const Error e = error_of([&] { a->save_locked(key_of(), token_of(), *held); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_TRUE(clean(e));
  EXPECT_EQ(a->load(key_of())->refresh_token.expose(), "rt-secret-redis-2");
  // A lease taken after it saves normally.
  held.reset();
  auto next = a->lock(key_of(), 1s, {});
  a->save_locked(key_of(), token_of(), *next);
  EXPECT_EQ(b->load(key_of())->refresh_token.expose(), kRefresh);
}

// ---- Degrading and re-attaching

TEST_F(RedisTokenStoreTest, StoppedServerDegradesToAnInProcessStoreAndReattaches) {
  const auto s = store();
  s->save(key_of(), token_of());
  ASSERT_TRUE(s->attached());
  server->stop();

  for (int i = 0; i < 5; ++i) {
    const auto started = Clock::now();
    EXPECT_FALSE(s->load(key_of()));
    s->save(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"));
    s->remove(key_of("bob"));
    EXPECT_LT(Clock::now() - started, 2s) << "call " << i;
  }
  EXPECT_FALSE(s->attached());

  // lock() is an in-process lock: exclusive between two threads on this store.
  {
    const auto started = Clock::now();
    auto held = s->lock(key_of(), 1s, {});
    ASSERT_TRUE(held);
    EXPECT_LT(Clock::now() - started, 2s);
    std::optional<Error> other;
    std::thread t([&] { other = error_of([&] { (void)s->lock(key_of(), 100ms, {}); }); });
    t.join();
    ASSERT_TRUE(other);
    EXPECT_EQ(other->code(), errc::store) << other->what();
    s->save_locked(key_of(), token_of(), *held);  // a no-op, not a refusal
    std::atomic<bool> got{false};
    std::thread waiter([&] { got = s->lock(key_of(), 30s, {}) != nullptr; });
    held.reset();
    waiter.join();
    EXPECT_TRUE(got);
  }
  const auto seen = hooks->seen();
  ASSERT_EQ(seen.size(), 1u) << "one report per outage";
  EXPECT_EQ(seen[0].code(), errc::store) << seen[0].what();
  EXPECT_TRUE(clean(seen[0]));
  EXPECT_EQ(hooks->reattached.load(), 0);

  server->start();  // same port, empty (no persistence)
  ASSERT_TRUE(wait_attached(*s));
  EXPECT_EQ(hooks->reattached.load(), 1);
  EXPECT_FALSE(s->load(key_of()));
  s->save(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"));
  EXPECT_TRUE(redis().get(record_key()));
  EXPECT_EQ(store()->load(key_of())->access_token.expose(), "at-secret-redis-2");
  EXPECT_EQ(hooks->count(), 1u);
  EXPECT_EQ(hooks->reattached.load(), 1);
}

TEST_F(RedisTokenStoreTest, FrozenServerBoundsEveryCallAndReattachesWhenThawed) {
  const auto s = store();
  s->save(key_of(), token_of());
  server->freeze();  // accepts, never answers: a hung server
  // Each call is bounded by the timeouts (250 ms each), not by the server.
  const auto bounded = [](const char* what, const std::function<void()>& call) {
    const auto started = Clock::now();
    call();
    EXPECT_LT(Clock::now() - started, 2s) << what;
  };
  for (int i = 0; i < 3; ++i) {
    bounded("load", [&] { EXPECT_FALSE(s->load(key_of())); });
    bounded("save", [&] { s->save(key_of(), token_of()); });
    bounded("lock", [&] { EXPECT_TRUE(s->lock(key_of(), 1s, {})); });
    bounded("remove", [&] { s->remove(key_of("bob")); });
  }
  EXPECT_FALSE(s->attached());
  ASSERT_EQ(hooks->count(), 1u) << "one report per outage";
  EXPECT_TRUE(clean(hooks->seen()[0]));

  server->thaw();
  ASSERT_TRUE(wait_attached(*s));
  EXPECT_EQ(hooks->reattached.load(), 1);
  EXPECT_TRUE(s->load(key_of()));
  EXPECT_EQ(hooks->count(), 1u);
}

// The kernel accepts the connection of a frozen server, so connecting is no proof that it answers.
TEST_F(RedisTokenStoreTest, StoreCreatedWhileTheServerIsFrozenStartsDegraded) {
  server->freeze();
  const auto started = Clock::now();
  std::unique_ptr<RedisTokenStore> late;
  ASSERT_NO_THROW(late = store());
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_FALSE(late->attached());
  ASSERT_EQ(hooks->count(), 1u);
  EXPECT_EQ(hooks->seen()[0].code(), errc::store);
  EXPECT_TRUE(clean(hooks->seen()[0]));
  server->thaw();
  ASSERT_TRUE(wait_attached(*late));
  EXPECT_EQ(hooks->reattached.load(), 1);
  EXPECT_EQ(hooks->count(), 1u);
}

TEST_F(RedisTokenStoreTest, FlushedServerIsAMiss) {
  const auto s = store();
  s->save(key_of(), token_of());
  auto r = redis();
  r.run({"FLUSHALL"});
  EXPECT_FALSE(s->load(key_of()));
  EXPECT_TRUE(s->attached());
  EXPECT_EQ(hooks->count(), 0u);
  // Leases and fences went with it; they start over.
  auto held = s->lock(key_of(), 1s, {});
  ASSERT_TRUE(held);
  s->save_locked(key_of(), token_of(), *held);
  EXPECT_TRUE(store()->load(key_of()));
}

// Flushed mid-renewal with no lease taken since: the holder's save is the newest token, kept.
TEST_F(RedisTokenStoreTest, LeaseHolderSavesAfterAFlushWhenNoLeaseWasTakenSince) {
  const auto a = store();
  auto held = a->lock(key_of(), 1s, {});
  ASSERT_TRUE(held);
  redis().run({"FLUSHALL"});
  a->save_locked(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"), *held);
  EXPECT_EQ(store()->load(key_of())->refresh_token.expose(), "rt-secret-redis-2");
  EXPECT_EQ(hooks->count(), 0u);
}

// The fencing counter starts again after a flush, but at a random number: a lease taken before the
// flush never shares its number with one taken after it.
TEST_F(RedisTokenStoreTest, LeaseTakenBeforeAFlushCannotOverwriteAfterIt) {
  const auto a = store();
  const auto b = store();
  auto first = a->lock(key_of(), 1s, {});
  redis().run({"FLUSHALL"});
  auto second = b->lock(key_of(), 1s, {});
  ASSERT_TRUE(second);
  b->save_locked(key_of(), token_of("at-secret-redis-2", "rt-secret-redis-2"), *second);
  const Error e = error_of([&] { a->save_locked(key_of(), token_of(), *first); });
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_EQ(a->load(key_of())->refresh_token.expose(), "rt-secret-redis-2");
}

// ---- Token sources on the store, against the embedded provider (rotating single-use refresh tokens)

namespace {

// A device login against `provider`, saved to `store` under `subject`; the provider's request log
// starts empty after.
struct SavedLogin {
  oidc::Client client;
  Token token;
  TokenKey key;
};
SavedLogin device_login_into(oidc_testing::LocalProvider& provider, oidc::TokenStore& store,
                             const std::string& subject) {
  oidc::ClientConfig c;
  c.device_authorization_endpoint = provider.device_endpoint();
  c.token_endpoint = provider.token_endpoint();
  c.client_id = oidc_testing::LocalProvider::kDeviceClientId;
  c.transport = oidc::make_curl_transport();
  c.clock = std::make_shared<oidc_testing::FakeClock>(std::chrono::system_clock::now());
  oidc::Client client(c);
  provider.auto_approve_after_polls(0);
  Token login = client.poll_device_token(client.device_authorization());
  TokenKey key = client.token_key();
  key.grant = oidc::grants::DeviceCode::grant_type;
  key.subject = subject;
  store.save(key, login);
  provider.clear_requests();
  return {std::move(client), std::move(login), std::move(key)};
}

}  // namespace

TEST_F(RedisTokenStoreTest, SourcesOnTwoConnectionsShareOneRenewalAndRenewAloneWhenRedisIsDown) {
  oidc_testing::LocalProvider provider;
  const auto a_store = std::shared_ptr<RedisTokenStore>(store());
  const auto b_store = std::shared_ptr<RedisTokenStore>(store());
  const SavedLogin saved = device_login_into(provider, *a_store, "fleet");
  const auto requests = [&] { return provider.request_count(oidc_testing::LocalProvider::token_path()); };

  oidc::TokenSourceOptions a, b;
  a.store = a_store;
  b.store = b_store;
  a.store_key = b.store_key = saved.key;
  std::vector<Error> source_errors;
  a.on_error = b.on_error = [&](const Error& e) { source_errors.push_back(e); };
  const auto first = saved.client.stored_token_source(a);
  const auto second = saved.client.stored_token_source(b);
  EXPECT_TRUE(second->token()->access_token.equals(saved.token.access_token.expose())) << "read from Redis";

  first->invalidate();
  const auto renewed = first->token();
  EXPECT_FALSE(renewed->access_token.equals(saved.token.access_token.expose()));
  EXPECT_EQ(requests(), 1u);
  second->invalidate();  // it still held the login's token
  EXPECT_TRUE(second->token()->access_token.equals(renewed->access_token.expose()));
  EXPECT_EQ(requests(), 1u) << "the renewal was picked up from Redis";

  // Redis down: each source still gets tokens, renewing by itself from what it holds.
  server->stop();
  first->invalidate();
  const auto alone = first->token();
  EXPECT_FALSE(alone->access_token.equals(renewed->access_token.expose()));
  EXPECT_EQ(requests(), 2u);
  EXPECT_TRUE(second->token()->access_token.equals(renewed->access_token.expose())) << "served from memory";
  EXPECT_EQ(requests(), 2u);
  EXPECT_TRUE(provider.rejections().empty());
  EXPECT_FALSE(a_store->attached());
  EXPECT_EQ(hooks->count(), 1u) << "the outage reported once (by the store that met it)";
  for (const auto& e : hooks->seen())
    EXPECT_TRUE(oidc_testing::is_clean(e, {saved.token.access_token.expose(), saved.token.refresh_token.expose(),
                                           alone->access_token.expose(), alone->refresh_token.expose(), kKeyA}));
  EXPECT_TRUE(source_errors.empty());
}

// Redis frozen (it keeps its data) while a refresh-only source renews alone: the store still holds
// the login, whose refresh token that renewal redeemed (rotated away). After the thaw, the next
// renewal must not take or redeem that record (invalid_grant, then a lost login for the fleet): it
// renews from its own token and saves the result, which a second replica then picks up.
TEST_F(RedisTokenStoreTest, AfterAnOutageThatKeptTheDataTheSpentRecordIsNotRedeemed) {
  oidc_testing::LocalProvider provider;
  const auto a_store = std::shared_ptr<RedisTokenStore>(store());
  const SavedLogin saved = device_login_into(provider, *a_store, "outage");
  const auto requests = [&] { return provider.request_count(oidc_testing::LocalProvider::token_path()); };
  oidc::TokenSourceOptions a;
  a.store = a_store;
  a.store_key = saved.key;
  std::vector<Error> source_errors;
  a.on_error = [&](const Error& e) { source_errors.push_back(e); };
  const auto first = saved.client.stored_token_source(a);

  server->freeze();
  first->invalidate();
  const auto alone = first->token();  // the lease times out (command_timeout): renewed alone
  EXPECT_FALSE(alone->access_token.equals(saved.token.access_token.expose()));
  EXPECT_EQ(requests(), 1u);
  EXPECT_FALSE(a_store->attached());
  server->thaw();
  ASSERT_TRUE(wait_attached(*a_store));
  {
    const auto record = a_store->load(saved.key);
    ASSERT_TRUE(record);
    EXPECT_TRUE(record->refresh_token.equals(saved.token.refresh_token.expose())) << "the save was skipped";
  }

  first->invalidate();
  const auto after = first->token();
  EXPECT_FALSE(after->access_token.equals(alone->access_token.expose()));
  EXPECT_FALSE(after->access_token.equals(saved.token.access_token.expose())) << "the stale record was taken";
  ASSERT_EQ(requests(), 2u);
  EXPECT_EQ(provider.requests(oidc_testing::LocalProvider::token_path()).back().form_value("refresh_token"),
            std::optional<std::string>(alone->refresh_token.expose()))
      << "renewed from its own, newer refresh token";
  EXPECT_TRUE(provider.rejections().empty());
  EXPECT_TRUE(source_errors.empty());

  // The fleet shares it again: a second replica starts from the saved record, with no request.
  oidc::TokenSourceOptions b;
  b.store = std::shared_ptr<RedisTokenStore>(store());
  b.store_key = saved.key;
  const auto second = saved.client.stored_token_source(b);
  EXPECT_TRUE(second->token()->access_token.equals(after->access_token.expose()));
  EXPECT_EQ(requests(), 2u);
  for (const auto& e : hooks->seen())
    EXPECT_TRUE(oidc_testing::is_clean(e, {saved.token.refresh_token.expose(), alone->refresh_token.expose(),
                                           after->refresh_token.expose(), kKeyA}));
}
