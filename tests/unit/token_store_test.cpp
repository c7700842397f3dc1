#include "oidc/token_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"
#include "oidc/token_source.hpp"

using namespace std::chrono_literals;
using oidc::CachingTokenSource;
using oidc::errc;
using oidc::Error;
using oidc::MemoryTokenStore;
using oidc::Token;
using oidc::TokenKey;
using oidc::TokenSourceOptions;
using oidc_testing::error_of;
using oidc_testing::FakeClock;
using oidc_testing::FakeTransport;

namespace {

TokenKey key() { return {"https://issuer.example", "https://issuer.example/token", "svc", "client_credentials", "b a", "", ""}; }

Token token(const std::string& access, Token::time_point received, std::chrono::seconds lifetime,
            const std::string& refresh = "") {
  Token t;
  t.access_token = access;
  t.token_type = "Bearer";
  t.received_at = received;
  t.expiry = received + lifetime;
  if (!refresh.empty()) t.refresh_token = refresh;
  return t;
}

}  // namespace

TEST(TokenKey, ScopesCompareAsSetsAndEveryOtherMemberCounts) {
  TokenKey a = key();
  TokenKey b = key();
  b.scope = "a  b a";
  EXPECT_EQ(a, b);
  for (std::string TokenKey::*member : {&TokenKey::issuer, &TokenKey::token_endpoint, &TokenKey::client_id,
                                        &TokenKey::grant, &TokenKey::scope, &TokenKey::resource, &TokenKey::subject}) {
    TokenKey c = key();
    c.*member += "x";
    EXPECT_NE(a, c);
    EXPECT_NE(a.canonical(), c.canonical());
  }
  // Member boundaries cannot be forged by moving characters between members.
  TokenKey d = key(), e = key();
  d.client_id = "svc\",\"client_credentials";
  d.grant = "";
  e.grant = "\"client_credentials";
  EXPECT_NE(d.canonical(), e.canonical());
}

TEST(StoredToken, RoundTripsAndBindsTheKey) {
  const auto now = Token::time_point{std::chrono::seconds{1'700'000'000}};
  const std::string text = oidc::serialize_stored_token(key(), token("at", now, 300s, "rt"));
  EXPECT_NE(text.find("\"version\":1"), std::string::npos);
  const auto read = oidc::parse_stored_token(text, key());
  ASSERT_TRUE(read.token);
  EXPECT_FALSE(read.warning);
  EXPECT_EQ(read.token->access_token.expose(), "at");
  EXPECT_EQ(read.token->refresh_token.expose(), "rt");
  EXPECT_EQ(*read.token->expiry, now + 300s);
  TokenKey respelled = key();
  respelled.scope = "a b";
  EXPECT_TRUE(oidc::parse_stored_token(text, respelled).token);
}

TEST(StoredToken, EmptyOrCorruptRecordsAreAbsentWithAWarning) {
  const auto now = Token::time_point{std::chrono::seconds{1'700'000'000}};
  std::string record = oidc::serialize_stored_token(key(), token("at", now, 300s));
  const std::string half = record.substr(0, record.size() / 2);
  std::string bad_token = record;
  bad_token.replace(bad_token.find("\"access_token\":\"at\""), 19, "\"access_token\":7");
  for (const std::string& text :
       {std::string(), std::string(" \n"), half, std::string("[]"), std::string(R"({"format":"other","version":1})"),
        std::string(R"({"format":"oidc-token"})"), bad_token, std::string(100, '[') + std::string(100, ']')}) {
    const auto read = oidc::parse_stored_token(text, key());
    EXPECT_FALSE(read.token) << text;
    ASSERT_TRUE(read.warning) << text;
    EXPECT_EQ(read.warning->code(), errc::parse);
    EXPECT_EQ(std::string(read.warning->what()).find("\"at\""), std::string::npos);
  }
}

TEST(StoredToken, ADuplicateMembersNameIsNotQuoted) {
  // Found by the stored_token fuzzer (regressions/stored_token/duplicate-member-name-holds-a-secret):
  // a member name is record text like any value, and the stray one may be another writer's secret.
  const auto now = Token::time_point{std::chrono::seconds{1'700'000'000}};
  std::string record = oidc::serialize_stored_token(key(), token("at", now, 300s));
  record.insert(1, R"("s3cr3t-name":1,"s3cr3t-name":2,)");
  const auto read = oidc::parse_stored_token(record, key());
  ASSERT_TRUE(read.warning);
  EXPECT_EQ(read.warning->code(), errc::parse);
  EXPECT_EQ(std::string(read.warning->what()),
            "reading a saved token: malformed response: the saved record is not JSON: an object names a member twice");
}

TEST(StoredToken, AnotherVersionOrKeyIsAMismatchNamingTheMemberNotItsValue) {
  const auto now = Token::time_point{std::chrono::seconds{1'700'000'000}};
  std::string record = oidc::serialize_stored_token(key(), token("secret-at", now, 300s, "secret-rt"));
  std::string v2 = record;
  v2.replace(v2.find("\"version\":1"), 11, "\"version\":2");
  EXPECT_EQ(error_of([&] { (void)oidc::parse_stored_token(v2, key()); }).code(), errc::store_mismatch);

  TokenKey other = key();
  other.token_endpoint = "https://evil.example/token";
  other.subject = "mallory";
  const Error e = error_of([&] { (void)oidc::parse_stored_token(record, other); });
  EXPECT_EQ(e.code(), errc::store_mismatch);
  EXPECT_NE(std::string(e.what()).find("another subject, token_endpoint"), std::string::npos) << e.what();
  for (const char* leak : {"evil", "mallory", "secret-at", "secret-rt", "issuer.example"})
    EXPECT_EQ(std::string(e.what()).find(leak), std::string::npos) << e.what();
}

TEST(MemoryTokenStore, LockIsExclusiveBoundedAndCancellable) {
  MemoryTokenStore store;
  oidc::CancelToken never;
  auto held = store.lock(key(), 1s, never);
  EXPECT_EQ(error_of([&] { (void)store.lock(key(), 20ms, never); }).code(), errc::store);
  oidc::CancelToken cancel;
  cancel.cancel();
  EXPECT_EQ(error_of([&] { (void)store.lock(key(), 10s, cancel); }).code(), errc::cancelled);
  TokenKey other = key();
  other.subject = "other";
  EXPECT_NE(store.lock(other, 0ms, never), nullptr);  // keys lock independently

  std::thread releaser([&] { held.reset(); });
  EXPECT_NE(store.lock(key(), 10s, never), nullptr);  // a release wakes the waiter
  releaser.join();
}

TEST(MemoryTokenStore, WarnsAboutACorruptRecordAndTreatsItAsAbsent) {
  MemoryTokenStore store;
  std::vector<Error> warnings;
  store.on_warning = [&](const Error& e) { warnings.push_back(e); };
  store.set_record(key(), "{\"format\":\"oidc-");
  EXPECT_FALSE(store.load(key()));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].code(), errc::parse);
}

// ---- Token sources over a store: several sources sharing one store stand for several processes.

namespace {

struct StoreSourceFixture : ::testing::Test {
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::shared_ptr<MemoryTokenStore> store = std::make_shared<MemoryTokenStore>();
  int renewals = 0;
  std::vector<std::string> renewed_from;  // the access token of `current` each renewal saw

  CachingTokenSource::Renew renew() {
    return [this](const std::shared_ptr<const Token>& current, const oidc::CancelToken&) {
      renewed_from.push_back(current ? current->access_token.expose() : "");
      ++renewals;
      return token("t" + std::to_string(renewals), clock->now(), 300s, "r" + std::to_string(renewals));
    };
  }
  TokenSourceOptions options() {
    TokenSourceOptions o;
    o.store = store;
    o.store_key = key();
    o.min_interval = 0ms;
    return o;
  }
};

}  // namespace

TEST_F(StoreSourceFixture, NeedsAKey) {
  TokenSourceOptions o = options();
  o.store_key.reset();
  EXPECT_EQ(error_of([&] { CachingTokenSource s(renew(), clock, o); }).code(), errc::config);
}

TEST_F(StoreSourceFixture, StartsFromTheStoredTokenWithoutARequest) {
  store->save(key(), token("saved", clock->now(), 300s));
  CachingTokenSource source(renew(), clock, options());
  EXPECT_EQ(source.authorization_header(), "Bearer saved");
  EXPECT_EQ(renewals, 0);
}

TEST_F(StoreSourceFixture, SavesEveryRenewalBeforeServingIt) {
  CachingTokenSource source(renew(), clock, options());
  EXPECT_EQ(source.authorization_header(), "Bearer t1");
  const auto saved = store->load(key());
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->access_token.expose(), "t1");
  EXPECT_EQ(saved->refresh_token.expose(), "r1");
}

TEST_F(StoreSourceFixture, ATokenRenewedByAnotherHolderIsTakenWithoutARequest) {
  CachingTokenSource a(renew(), clock, options());
  EXPECT_EQ(a.authorization_header(), "Bearer t1");
  CachingTokenSource b(renew(), clock, options());  // "another process": starts from the store
  EXPECT_EQ(b.authorization_header(), "Bearer t1");
  EXPECT_EQ(renewals, 1);

  clock->advance(280s);  // both are stale now
  EXPECT_EQ(a.authorization_header(), "Bearer t2");
  EXPECT_EQ(b.authorization_header(), "Bearer t2");  // b re-read the store under its lock
  EXPECT_EQ(renewals, 2);
}

TEST_F(StoreSourceFixture, RenewsFromTheStoresTokenWhichHasTheNewestRefreshToken) {
  CachingTokenSource a(renew(), clock, options());
  EXPECT_EQ(a.authorization_header(), "Bearer t1");
  // Another holder rotated the refresh token and saved a token that is itself already due.
  store->save(key(), token("elsewhere", clock->now() - 290s, 300s, "rotated"));
  clock->advance(280s);
  EXPECT_EQ(a.authorization_header(), "Bearer t2");
  ASSERT_EQ(renewed_from.size(), 2u);
  EXPECT_EQ(renewed_from[1], "elsewhere");  // not t1: its refresh token was already redeemed
}

// The store missed a's save (a Redis outage): it still holds the token whose refresh token a
// redeemed and had rotated. a's next renewal neither takes that record nor renews from it.
TEST_F(StoreSourceFixture, ARecordHoldingARefreshTokenThisSourceRedeemedIsIgnored) {
  store->save(key(), token("login", clock->now(), 300s, "r0"));
  CachingTokenSource a(renew(), clock, options());
  const std::string login_record = *store->record(key());
  a.invalidate();
  EXPECT_EQ(a.authorization_header(), "Bearer t1");  // renewed from r0, got r1
  store->set_record(key(), login_record);             // as if that save never landed
  a.invalidate();
  EXPECT_EQ(a.authorization_header(), "Bearer t2");
  ASSERT_EQ(renewed_from, (std::vector<std::string>{"login", "t1"}));  // not "login" again: r0 is spent
}

// A provider that keeps the refresh token (no rotation): another holder's token with that same
// refresh token is still taken, so the fleet still makes one request per expiry.
TEST_F(StoreSourceFixture, AnUnrotatedRefreshTokenStaysUsableForEveryHolder) {
  auto same_refresh = [this](const std::shared_ptr<const Token>& current, const oidc::CancelToken&) {
    renewed_from.push_back(current ? current->access_token.expose() : "");
    ++renewals;
    return token("t" + std::to_string(renewals), clock->now(), 300s, "kept");
  };
  CachingTokenSource a(same_refresh, clock, options());
  EXPECT_EQ(a.authorization_header(), "Bearer t1");
  clock->advance(280s);
  EXPECT_EQ(a.authorization_header(), "Bearer t2");  // renewed from t1 ("kept"), got "kept" again
  CachingTokenSource b(same_refresh, clock, options());
  store->save(key(), token("elsewhere", clock->now(), 300s, "kept"));  // another holder's renewal
  a.invalidate();
  EXPECT_EQ(a.authorization_header(), "Bearer elsewhere");
  EXPECT_EQ(renewals, 2);
}

TEST_F(StoreSourceFixture, InvalidatedTokenIsRenewedEvenThoughTheStoreStillHasIt) {
  CachingTokenSource a(renew(), clock, options());
  const auto t1 = a.token();
  a.invalidate(*t1);
  EXPECT_EQ(a.authorization_header(), "Bearer t2");
  EXPECT_EQ(renewals, 2);
}

TEST_F(StoreSourceFixture, AFailedSaveIsReportedAndTheTokenStillServed) {
  struct Failing final : oidc::TokenStore {
    std::optional<Token> load(const TokenKey&) override { return std::nullopt; }
    void save(const TokenKey&, const Token&) override { throw Error(errc::store, "saving", "disk full"); }
    void remove(const TokenKey&) override {}
    std::unique_ptr<oidc::TokenStoreLock> lock(const TokenKey&, std::chrono::milliseconds,
                                               const oidc::CancelToken&) override {
      return std::make_unique<oidc::TokenStoreLock>();
    }
  };
  TokenSourceOptions o = options();
  o.store = std::make_shared<Failing>();
  std::vector<Error> errors;
  o.on_error = [&](const Error& e) { errors.push_back(e); };
  CachingTokenSource source(renew(), clock, o);
  EXPECT_EQ(source.authorization_header(), "Bearer t1");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code(), errc::store);
}

TEST_F(StoreSourceFixture, AStoreThatCannotBeLockedFailsTheRenewalNotTheProcess) {
  auto held = store->lock(key(), 1s, oidc::CancelToken{});
  TokenSourceOptions o = options();
  o.store_lock_timeout = 10ms;
  CachingTokenSource source(renew(), clock, o);
  EXPECT_EQ(error_of([&] { (void)source.token(); }).code(), errc::store);
  EXPECT_EQ(renewals, 0);
  held.reset();
  clock->advance(2s);  // past the first backoff
  EXPECT_EQ(source.authorization_header(), "Bearer t1");
}

TEST_F(StoreSourceFixture, ARecordOfAnotherKeyStopsTheSourceFromStarting) {
  TokenKey other = key();
  other.client_id = "other";
  store->set_record(key(), oidc::serialize_stored_token(other, token("x", clock->now(), 300s)));
  EXPECT_EQ(error_of([&] { CachingTokenSource s(renew(), clock, options()); }).code(), errc::store_mismatch);
}

// ---- The Client derives the key from its configuration and the grant.

namespace {

oidc::Client store_client(const std::shared_ptr<FakeTransport>& transport, const std::shared_ptr<FakeClock>& clock) {
  oidc::ClientConfig c;
  c.issuer = "https://issuer.example";
  c.token_endpoint = "https://issuer.example/token";
  c.client_id = "svc";
  c.client_secret = "secret";
  c.transport = transport;
  c.clock = clock;
  c.validate_id_tokens = false;
  return oidc::Client(c);
}

}  // namespace

TEST(ClientTokenKey, ComesFromTheClientAndTheGrantsForm) {
  const auto client = store_client(std::make_shared<FakeTransport>(), std::make_shared<FakeClock>());
  const TokenKey k = client.token_key(oidc::grants::Password{"alice", oidc::Secret("pw"), "read write", {{"resource", "https://api"}, {"audience", "x"}}}.form());
  EXPECT_EQ(k.issuer, "https://issuer.example");
  EXPECT_EQ(k.token_endpoint, "https://issuer.example/token");
  EXPECT_EQ(k.client_id, "svc");
  EXPECT_EQ(k.grant, "password");
  EXPECT_EQ(k.scope, "read write");
  EXPECT_EQ(k.resource, "https://api x");
  EXPECT_EQ(k.subject, "alice");
}

TEST(ClientTokenKey, OfRequestTakesEachNamedParameterOnceAndJoinsResourcesInOrder) {
  // What Client::token_key and the CLI's profile keys are made of; a repeated name keeps its first value.
  const TokenKey k = TokenKey::of_request("https://i", "https://i/token", "svc",
                                          {{"grant_type", "client_credentials"}, {"audience", "x"},
                                           {"scope", "b a"}, {"resource", "https://api"}, {"scope", "c"},
                                           {"grant_type", "password"}, {"client_id", "other"}, {"password", "pw"}});
  EXPECT_EQ(k, (TokenKey{"https://i", "https://i/token", "svc", "client_credentials", "a b", "https://api x", ""}));
  EXPECT_EQ(k.resource, "x https://api");
  EXPECT_EQ(k.scope, "b a");  // as sent; compared canonically
  EXPECT_EQ(TokenKey::of_request("", "https://t", "c", {}), (TokenKey{"", "https://t", "c", "", "", "", ""}));
}

TEST(ClientTokenKey, SourcesWithAStoreAreKeyedAndRefuseAKeyOfAnotherClient) {
  auto transport = std::make_shared<FakeTransport>();
  auto clock = std::make_shared<FakeClock>();
  auto store = std::make_shared<MemoryTokenStore>();
  const auto client = store_client(transport, clock);
  transport->push_json(200, R"({"access_token":"cc","token_type":"Bearer","expires_in":300})");
  TokenSourceOptions o;
  o.store = store;
  auto source = client.token_source(oidc::grants::ClientCredentials{"b a"}, o);
  EXPECT_EQ(source->authorization_header(), "Bearer cc");
  EXPECT_TRUE(store->load(key()));  // scope "a b" in canonical form

  o.store_key = TokenKey{};
  o.store_key->client_id = "someone-else";
  EXPECT_EQ(error_of([&] { (void)client.token_source(oidc::grants::ClientCredentials{"b a"}, o); }).code(),
            errc::config);
}

TEST(ClientTokenKey, AStoredSourceRefreshesTheStoredLoginAndWithoutOneAsksForALogin) {
  auto transport = std::make_shared<FakeTransport>();
  auto clock = std::make_shared<FakeClock>();
  auto store = std::make_shared<MemoryTokenStore>();
  const auto client = store_client(transport, clock);
  TokenSourceOptions o;
  o.store = store;
  o.store_key = TokenKey{};
  o.store_key->grant = "urn:ietf:params:oauth:grant-type:device_code";
  o.store_key->subject = "profile-a";
  {
    auto empty = client.stored_token_source(o);
    EXPECT_EQ(error_of([&] { (void)empty->token(); }).code(), errc::interaction_required);
  }
  TokenKey k = client.token_key();
  k.grant = o.store_key->grant;
  k.subject = "profile-a";
  store->save(k, token("old", clock->now() - 400s, 300s, "rt-1"));
  transport->push_json(200, R"({"access_token":"new","token_type":"Bearer","expires_in":300,"refresh_token":"rt-2"})");
  auto source = client.stored_token_source(o);
  EXPECT_EQ(source->authorization_header(), "Bearer new");
  ASSERT_EQ(transport->request_count(), 1u);
  EXPECT_NE(transport->requests()[0].body.find("refresh_token=rt-1"), std::string::npos);
  EXPECT_EQ(store->load(k)->refresh_token.expose(), "rt-2");
  TokenSourceOptions none;
  EXPECT_EQ(error_of([&] { (void)client.stored_token_source(none); }).code(), errc::config);
}

TEST(ClientTokenKey, AKeyGivenWithScopeOrResourceInAnotherOrderIsTheSameKey) {
  auto transport = std::make_shared<FakeTransport>();
  const auto client = store_client(transport, std::make_shared<FakeClock>());
  TokenSourceOptions o;
  o.store = std::make_shared<MemoryTokenStore>();
  o.store_key = TokenKey{};
  o.store_key->scope = "b a";
  o.store_key->resource = "x https://api";
  EXPECT_NO_THROW((void)client.token_source(
      oidc::grants::ClientCredentials{"a b", {{"resource", "https://api"}, {"audience", "x"}}}, o));
  o.store_key->resource = "https://other";
  EXPECT_EQ(error_of([&] {
              (void)client.token_source(oidc::grants::ClientCredentials{"a b", {{"resource", "https://api"}}}, o);
            }).code(),
            errc::config);
}
