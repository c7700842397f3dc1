// Token endpoint errors as oidc-provider 9.13.3 really sends them, each as the typed oidc::Error
// the library promises (code, OAuth code, HTTP status), and each message clean: no control
// character and no echo of what was sent (secret, password, refresh token). Every test's comment
// records the provider's exact answer; where it departs from RFC 6749 the test asserts what it
// does and says so.
//
// The clients are cc-basic and ropc: cc-post's request counts belong to grants_test.cpp, so the
// client_secret_post case uses cc-basic, which oidc-provider accepts by either secret method.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error_of.hpp"
#include "interop_support.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"

namespace {

using oidc::errc;
using oidc_interop::kAlice;
using oidc_interop::kAlicePassword;
using oidc_interop::kCcBasic;
using oidc_interop::kRopc;
using oidc_interop::Provider;
using oidc_testing::error_of;
using oidc_testing::is_clean;

constexpr const char* kClientCredentialsOp = "token request (grant_type=client_credentials)";
constexpr const char* kPasswordOp = "token request (grant_type=password)";
constexpr const char* kRefreshOp = "token request (grant_type=refresh_token)";

// One OAuth error response (RFC 6749 §5.2) as the library types it.
void expect_oauth(const oidc::Error& e, const char* code, int status, const char* description, const char* operation) {
  EXPECT_EQ(e.code(), errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), code) << e.what();
  EXPECT_EQ(e.http_status(), status) << e.what();
  ASSERT_TRUE(e.oauth().has_value()) << e.what();
  EXPECT_EQ(e.oauth()->error_description, description) << e.what();
  EXPECT_EQ(e.operation(), operation) << e.what();
}

oidc::Client client_with(const oidc_interop::ClientSpec& spec, const char* id, const char* secret,
                         oidc::ClientAuthMethod method) {
  auto config = Provider::get().config(spec);
  config.client_id = id;
  config.client_secret = oidc::Secret(secret);
  config.auth_method = method;
  return oidc::Client(config);
}

oidc::Token alice_grant() {
  return oidc::Client(Provider::get().config(kRopc))
      .password(std::string(kAlice), oidc::Secret(std::string(kAlicePassword)), {"openid offline_access", {}, std::nullopt});
}

// 401 {"error":"invalid_client","error_description":"client authentication failed"}, with
// WWW-Authenticate: Basic (RFC 6749 §5.2: 401 is required when the client used the header).
TEST(InteropErrors, AWrongSecretByBasicIsInvalidClient401) {
  const auto client = client_with(kCcBasic, "cc-basic", "not-the-cc-basic-secret", oidc::ClientAuthMethod::client_secret_basic);
  const auto e = error_of([&] { (void)client.client_credentials({"api:read", {}}); });
  expect_oauth(e, "invalid_client", 401, "client authentication failed", kClientCredentialsOp);
  EXPECT_TRUE(is_clean(e, {"not-the-cc-basic-secret", "cc-basic:not-the-cc-basic-secret",
                           "Y2MtYmFzaWM6bm90LXRoZS1jYy1iYXNpYy1zZWNyZXQ="}));
}

// 401 invalid_client "client authentication failed" as well: RFC 6749 §5.2 allows 401 for any
// invalid_client (400 is the default only when no Authorization header was used); the provider
// always answers 401.
TEST(InteropErrors, AWrongSecretByPostIsInvalidClient401) {
  const auto client = client_with(kCcBasic, "cc-basic", "not-the-cc-basic-secret", oidc::ClientAuthMethod::client_secret_post);
  const auto e = error_of([&] { (void)client.client_credentials({"api:read", {}}); });
  expect_oauth(e, "invalid_client", 401, "client authentication failed", kClientCredentialsOp);
  EXPECT_TRUE(is_clean(e, {"not-the-cc-basic-secret"}));
}

// 401 invalid_client "client authentication failed": the same answer as a wrong secret, by either
// method, so the response does not tell which client ids exist.
TEST(InteropErrors, AnUnknownClientIsInvalidClient401) {
  for (const auto method : {oidc::ClientAuthMethod::client_secret_basic, oidc::ClientAuthMethod::client_secret_post}) {
    const auto client = client_with(kCcBasic, "no-such-client", "no-such-secret", method);
    const auto e = error_of([&] { (void)client.client_credentials({"api:read", {}}); });
    expect_oauth(e, "invalid_client", 401, "client authentication failed", kClientCredentialsOp);
    EXPECT_TRUE(is_clean(e, {"no-such-secret", "no-such-client:no-such-secret"}));
  }
}

// 400 {"error":"invalid_scope","error_description":"requested scope is not allowed","scope":"openid"}
// for a scope the provider knows but cc-basic may not have (its scope is "api:read api:write").
// The extra "scope" member is the provider's own; the library keeps the error typed regardless.
TEST(InteropErrors, AScopeTheClientMayNotHaveIsInvalidScope) {
  const oidc::Client client(Provider::get().config(kCcBasic));
  const auto e = error_of([&] { (void)client.client_credentials({"openid", {}}); });
  expect_oauth(e, "invalid_scope", 400, "requested scope is not allowed", kClientCredentialsOp);
  EXPECT_TRUE(is_clean(e, {kCcBasic.secret}));
}

// Not an error: a scope the provider does not know at all ("api:admin") is dropped silently,
// 200 {"access_token":...,"expires_in":600,"token_type":"Bearer"} with no scope member. RFC 6749
// §3.3 lets a server ignore requested scope, but §5.1 then makes `scope` REQUIRED in the answer
// ("if identical to the scope requested by the client" only is it optional): the provider
// deviates, and a client reading the response alone would believe api:admin was granted. The
// library reports what was said (nothing: scope ""), and the provider's view agrees: no scope.
TEST(InteropErrors, AScopeUnknownToTheProviderIsDroppedWithoutSayingSo) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kCcBasic));
  const auto token = client.client_credentials({"api:admin", {}});
  EXPECT_EQ(token.scope, "");
  const auto view = p.introspect(token.access_token.expose());
  EXPECT_EQ(view.at("active"), true) << view;
  EXPECT_FALSE(view.contains("scope")) << view;
  // Known and unknown together: the known one is granted and then the scope member is sent.
  EXPECT_EQ(client.client_credentials({"api:admin api:read", {}}).scope, "api:read");
}

// 400 {"error":"invalid_grant","error_description":"grant request is invalid"} for a wrong
// password and for an unknown user alike. (provider.mjs throws InvalidGrant('invalid username or
// password'); oidc-provider keeps that as error_detail, which it does not send.)
TEST(InteropErrors, AWrongPasswordIsInvalidGrant) {
  const oidc::Client client(Provider::get().config(kRopc));
  for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
           {std::string(kAlice), "not-wonderland"}, {"mallory", "mallory-pass-9"}, {std::string(kAlice), "builder-42"}}) {
    const auto e = error_of([&] { (void)client.password(user, oidc::Secret(password), {"openid", {}, std::nullopt}); });
    expect_oauth(e, "invalid_grant", 400, "grant request is invalid", kPasswordOp);
    EXPECT_TRUE(is_clean(e, {password, kRopc.secret})) << user;
  }
}

// 400 invalid_request. A password grant without a password (empty, or not sent at all):
// "username and password are required" (that text is provider.mjs's, the grant being a fixture).
// A refresh without refresh_token: "missing required parameter 'refresh_token'", oidc-provider's
// own presence check for the built-in grant.
TEST(InteropErrors, MissingGrantParametersAreInvalidRequest) {
  const oidc::Client client(Provider::get().config(kRopc));
  {
    const auto e = error_of([&] { (void)client.password(std::string(kAlice), oidc::Secret(""), {"openid", {}, std::nullopt}); });
    expect_oauth(e, "invalid_request", 400, "username and password are required", kPasswordOp);
    EXPECT_TRUE(is_clean(e, {kRopc.secret}));
  }
  {
    const auto e = error_of([&] { (void)client.request_token({{"grant_type", "password"}, {"password", "wonderland-7"}}); });
    expect_oauth(e, "invalid_request", 400, "username and password are required", kPasswordOp);
    EXPECT_TRUE(is_clean(e, {"wonderland-7", kRopc.secret}));
  }
  {
    const auto e = error_of([&] { (void)client.request_token({{"grant_type", "refresh_token"}}); });
    expect_oauth(e, "invalid_request", 400, "missing required parameter 'refresh_token'", kRefreshOp);
    EXPECT_TRUE(is_clean(e, {kRopc.secret}));
  }
}

// 400 {"error":"invalid_request","error_description":"requested grant type is not allowed for this
// client"}. RFC 6749 §5.2 names this case unauthorized_client ("The authenticated client is not
// authorized to use this authorization grant type"): oidc-provider deviates (lib/actions/token.js
// allowedGrantTypeCheck throws InvalidRequest). So a refresh refused this way would not count as
// refused by Client's token sources, which look for unauthorized_client.
TEST(InteropErrors, AGrantTypeTheClientMayNotUseIsInvalidRequestNotUnauthorizedClient) {
  const oidc::Client client(Provider::get().config(kCcBasic));
  const auto e = error_of([&] {
    (void)client.password(std::string(kAlice), oidc::Secret(std::string(kAlicePassword)), {"openid", {}, std::nullopt});
  });
  expect_oauth(e, "invalid_request", 400, "requested grant type is not allowed for this client", kPasswordOp);
  EXPECT_NE(e.oauth_code(), "unauthorized_client");
  EXPECT_TRUE(is_clean(e, {std::string(kAlicePassword), kCcBasic.secret}));
}

// 400 {"error":"unsupported_grant_type","error_description":"unsupported grant_type requested"}
// for an extension grant the provider does not have (RFC 6749 §5.2).
TEST(InteropErrors, AnExtensionGrantTheProviderLacksIsUnsupportedGrantType) {
  const oidc::Client client(Provider::get().config(kCcBasic));
  const auto e = error_of([&] {
    (void)client.request_token({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", "a.b.c"}});
  });
  expect_oauth(e, "unsupported_grant_type", 400, "unsupported grant_type requested",
               "token request (grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer)");
  EXPECT_TRUE(is_clean(e, {kCcBasic.secret}));
}

// 400 {"error":"invalid_grant","error_description":"grant request is invalid"} for a refresh
// token the provider never issued.
TEST(InteropErrors, ARefreshTokenThatDoesNotExistIsInvalidGrant) {
  const oidc::Client client(Provider::get().config(kRopc));
  oidc::Token made_up;
  made_up.access_token = oidc::Secret("made-up-access-token");
  made_up.refresh_token = oidc::Secret("made-up-refresh-token-4711");
  const auto e = error_of([&] { (void)client.refresh(made_up); });
  expect_oauth(e, "invalid_grant", 400, "grant request is invalid", kRefreshOp);
  EXPECT_TRUE(is_clean(e, {"made-up-refresh-token-4711", kRopc.secret}));
}

// 400 {"error":"invalid_scope","error_description":"refresh token missing requested scope",
// "scope":"api:read"}: a refresh may only narrow the grant (RFC 6749 §6). The refresh token is
// not consumed by the refusal: it still refreshes afterwards.
TEST(InteropErrors, ARefreshAskingForMoreScopeThanGrantedIsInvalidScope) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kRopc));
  const auto token = alice_grant();
  const auto e = error_of([&] { (void)client.refresh(token, {"openid offline_access api:read", {}, std::nullopt}); });
  expect_oauth(e, "invalid_scope", 400, "refresh token missing requested scope", kRefreshOp);
  EXPECT_TRUE(is_clean(e, {token.refresh_token.expose(), token.access_token.expose(), kRopc.secret}));
  EXPECT_EQ(p.introspect(token.refresh_token.expose()).at("active"), true);
  EXPECT_EQ(client.refresh(token).scope, "openid offline_access");
}

}  // namespace
