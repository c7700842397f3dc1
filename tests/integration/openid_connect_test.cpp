// The OpenID Connect facade of oidc::Client against the embedded provider over libcurl: discovery
// from the issuer URL alone, ID token validation with the jwks_uri's keys (and their rotation), the
// nonce checked by exchange_code, the allow-list, token sources that validate every ID token, and
// JWT access tokens. The validators' rules one by one are in tests/unit/id_token_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "provider_fixture.hpp"
#include "redirect_browser.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientConfig;
using oidc::errc;
using oidc::JwsAlgorithm;
using oidc_testing::error_of;
using oidc_testing::LocalProvider;
using oidc_testing::str;

namespace {

constexpr const char* kRedirect = "http://127.0.0.1:8400/callback";

class OpenIdConnect : public oidc_testing::ProviderFixture {
 protected:
  // ID tokens carry the provider's real time; the client's fake clock starts there.
  OpenIdConnect() { clock->set(std::chrono::system_clock::now()); }

  // jwt-secret-client (password grant, Basic) configured from discovery alone.
  ClientConfig base() const {
    ClientConfig c;
    c.client_id = str(LocalProvider::kSecretJwtClientId);
    c.client_secret = str(LocalProvider::kSecretJwtClientSecret);
    c.transport = oidc::make_curl_transport();
    c.clock = clock;
    return c;
  }
  Client discovered(ClientConfig c) const { return Client::discover(provider.issuer(), std::move(c)); }
  Client discovered() const { return discovered(base()); }

  oidc::Token login(const Client& client, std::string scope = "openid profile email") const {
    return client.password(str(LocalProvider::kAliceUsername), oidc::Secret(str(LocalProvider::kAlicePassword)),
                           {std::move(scope)});
  }
};

TEST_F(OpenIdConnect, DiscoverFillsTheConfigurationFromTheIssuerAlone) {
  const auto client = discovered();
  const auto& c = client.config();
  EXPECT_EQ(c.issuer, provider.issuer());
  EXPECT_EQ(c.token_endpoint, provider.token_endpoint());
  EXPECT_EQ(c.authorization_endpoint, provider.authorization_endpoint());
  EXPECT_EQ(c.jwks_uri, provider.jwks_endpoint());
  EXPECT_EQ(c.userinfo_endpoint, provider.userinfo_endpoint());
  EXPECT_EQ(c.introspection_endpoint, provider.introspection_endpoint());
  EXPECT_EQ(c.revocation_endpoint, provider.revocation_endpoint());
  EXPECT_EQ(c.end_session_endpoint, provider.end_session_endpoint());
  EXPECT_EQ(c.device_authorization_endpoint, provider.device_endpoint());
  EXPECT_EQ(c.auth_method, oidc::ClientAuthMethod::client_secret_basic);  // listed first by the server
  EXPECT_FALSE(c.id_token_signing_alg_values_supported.empty());
}

TEST_F(OpenIdConnect, EndpointsSetByHandWinOverDiscovery) {
  auto c = base();
  c.userinfo_endpoint = provider.base_url() + "/my/userinfo";
  EXPECT_EQ(discovered(c).config().userinfo_endpoint, provider.base_url() + "/my/userinfo");
}

TEST_F(OpenIdConnect, DiscoveryRefusesAnotherIssuer) {
  auto c = base();
  c.issuer = provider.issuer("vyopta");
  EXPECT_EQ(error_of([&] { (void)discovered(c); }).code(), errc::config);
  provider.set_discovery_override({{"issuer", "https://evil.example.com/realms/core"}});
  EXPECT_EQ(error_of([&] { (void)discovered(); }).code(), errc::issuer_mismatch);
}

TEST_F(OpenIdConnect, PasswordGrantIdTokenValidatesWithTheJwksUrisKeys) {
  const auto client = discovered();
  const auto token = login(client);
  const auto id = client.validate_id_token(token);
  EXPECT_EQ(id.issuer(), provider.issuer());
  EXPECT_EQ(id.subject(), provider.subject_id("alice"));
  EXPECT_EQ(id.email().value_or(""), "alice@example.com");
  EXPECT_EQ(provider.jwks_requests(), 1u);
  (void)client.validate_id_token(token);
  EXPECT_EQ(provider.jwks_requests(), 1u) << "the key set is cached";

  // at_hash binds the ID token to its access token: another access token does not match.
  auto swapped = token;
  swapped.access_token = oidc::Secret("another-access-token");
  EXPECT_EQ(error_of([&] { (void)client.validate_id_token(swapped); }).code(), errc::hash_mismatch);
  // Without the at_hash check (the JWT alone) the same ID token is fine.
  EXPECT_EQ(client.validate_id_token(token.id_token.expose()).subject(), id.subject());
}

TEST_F(OpenIdConnect, ExchangeCodeChecksTheNonceItSent) {
  auto c = base();
  c.client_id = str(LocalProvider::kPortalClientId);
  c.client_secret = str(LocalProvider::kPortalClientSecret);
  const auto client = discovered(c);
  oidc::AuthorizationOptions o;
  o.redirect_uri = kRedirect;
  o.scope = "openid profile";
  o.extra = {{"max_age", "300"}};

  auto request = client.authorization_request(o);
  auto callback = oidc_testing::browser_get(request.url()).location;
  const auto token = client.exchange_code(std::move(request), callback);
  EXPECT_EQ(client.validate_id_token(token).subject(), provider.subject_id("alice"));

  // A provider (or an attacker replaying another login's ID token) answering another nonce.
  provider.set_id_token_mutator([](nlohmann::json&, nlohmann::json& claims) { claims["nonce"] = "not-ours"; });
  request = client.authorization_request(o);
  callback = oidc_testing::browser_get(request.url()).location;
  const auto e = error_of([&] { (void)client.exchange_code(std::move(request), callback); });
  EXPECT_EQ(e.code(), errc::nonce_mismatch) << e.what();

  // max_age was asked for: an auth_time older than that is refused.
  provider.set_id_token_mutator([](nlohmann::json&, nlohmann::json& claims) {
    claims["auth_time"] = claims["auth_time"].get<std::int64_t>() - 3600;
  });
  request = client.authorization_request(o);
  callback = oidc_testing::browser_get(request.url()).location;
  EXPECT_EQ(error_of([&] { (void)client.exchange_code(std::move(request), callback); }).code(),
            errc::auth_time_too_old);
}

TEST_F(OpenIdConnect, ValidationCanBeLeftToTheCaller) {
  auto c = base();
  c.client_id = str(LocalProvider::kPortalClientId);
  c.client_secret = str(LocalProvider::kPortalClientSecret);
  c.validate_id_tokens = false;
  const auto client = discovered(c);
  provider.set_id_token_mutator([](nlohmann::json&, nlohmann::json& claims) { claims["nonce"] = "not-ours"; });
  oidc::AuthorizationOptions o;
  o.redirect_uri = kRedirect;
  o.scope = "openid";
  auto request = client.authorization_request(o);
  const auto nonce = request.nonce();
  const auto callback = oidc_testing::browser_get(request.url()).location;
  const auto token = client.exchange_code(std::move(request), callback);
  EXPECT_EQ(error_of([&] { (void)client.validate_id_token(token, {nonce, {}, nullptr}); }).code(),
            errc::nonce_mismatch);
}

TEST_F(OpenIdConnect, KeyRotationIsFollowedWithOneRefetch) {
  const auto client = discovered();
  (void)client.validate_id_token(login(client));
  ASSERT_EQ(provider.jwks_requests(), 1u);
  provider.rotate_signing_key(JwsAlgorithm::RS256);
  const auto after = login(client);
  // Within min_refetch_interval (60 s) of the last fetch the set is not fetched again: the rate
  // limit holds even for a real rotation (providers publish a key before signing with it).
  EXPECT_EQ(error_of([&] { (void)client.validate_id_token(after); }).code(), errc::key_not_found);
  EXPECT_EQ(provider.jwks_requests(), 1u);
  clock->advance(61s);
  EXPECT_EQ(client.validate_id_token(after).subject(), provider.subject_id("alice"));
  EXPECT_EQ(provider.jwks_requests(), 2u) << "an unknown kid refetches the key set once";
  EXPECT_EQ(client.validate_id_token(login(client)).subject(), provider.subject_id("alice"));
  EXPECT_EQ(provider.jwks_requests(), 2u);
}

TEST_F(OpenIdConnect, AFloodOfUnknownKidsCostsOneRefetchPerInterval) {
  const auto client = discovered();
  (void)client.validate_id_token(login(client));
  int n = 0;
  provider.set_id_token_mutator(
      [&n](nlohmann::json& header, nlohmann::json&) { header["kid"] = "random-kid-" + std::to_string(++n); });
  for (int i = 0; i < 20; ++i) {
    const auto token = login(client);
    EXPECT_EQ(error_of([&] { (void)client.validate_id_token(token); }).code(), errc::key_not_found);
  }
  EXPECT_EQ(provider.jwks_requests(), 1u) << "no refetch within 60 s (min_refetch_interval) of the last fetch";
  clock->advance(61s);
  for (int i = 0; i < 20; ++i) {
    const auto token = login(client);
    EXPECT_EQ(error_of([&] { (void)client.validate_id_token(token); }).code(), errc::key_not_found);
  }
  EXPECT_EQ(provider.jwks_requests(), 2u) << "the interval passed: one refetch for twenty unknown kids";
}

TEST_F(OpenIdConnect, TheAllowListComesFromDiscoveryAndNeverHoldsNone) {
  const auto client = discovered();
  provider.set_signing_algorithm(JwsAlgorithm::ES256);
  EXPECT_EQ(client.validate_id_token(login(client)).subject(), provider.subject_id("alice"))
      << "ES256 is advertised, so it is allowed";

  auto c = base();
  c.id_token_algorithms = {JwsAlgorithm::RS256};
  const auto strict = discovered(c);
  EXPECT_EQ(error_of([&] { (void)strict.validate_id_token(login(strict)); }).code(), errc::algorithm_rejected);

  const auto unsigned_token = std::string("eyJhbGciOiJub25lIn0.") +
                              oidc::detail::base64url_encode(R"({"iss":"x","sub":"alice","aud":"y"})") + ".";
  EXPECT_EQ(error_of([&] { (void)client.validate_id_token(unsigned_token); }).code(), errc::algorithm_rejected);
}

TEST_F(OpenIdConnect, SymmetricIdTokensOnlyWhenAllowed) {
  provider.set_signing_algorithm(JwsAlgorithm::HS256);
  const auto client = discovered();
  EXPECT_EQ(error_of([&] { (void)client.validate_id_token(login(client)); }).code(), errc::algorithm_rejected);
  auto c = base();
  c.allow_symmetric_id_tokens = true;
  c.id_token_algorithms = {JwsAlgorithm::HS256};
  const auto hs = discovered(c);
  EXPECT_EQ(hs.validate_id_token(login(hs)).subject(), provider.subject_id("alice"));
  auto bad = base();
  bad.id_token_algorithms = {JwsAlgorithm::HS256};
  EXPECT_EQ(error_of([&] { (void)discovered(bad); }).code(), errc::config);
}

TEST_F(OpenIdConnect, ATokenSourceValidatesEveryIdTokenItReceives) {
  const auto client = discovered();
  oidc::TokenSourceOptions options;
  options.validate = client.id_token_validator();
  const auto source = client.token_source(
      oidc::grants::Password{str(LocalProvider::kAliceUsername), oidc::Secret(str(LocalProvider::kAlicePassword)),
                             "openid profile"},
      options);
  const auto first = source->token();
  ASSERT_FALSE(first->id_token.empty());

  // The refreshed ID token names another user (OIDC Core §12.2): the renewal fails.
  provider.set_id_token_mutator([](nlohmann::json&, nlohmann::json& claims) { claims["sub"] = "someone-else"; });
  source->invalidate();
  EXPECT_EQ(error_of([&] { (void)source->token(); }).code(), errc::subject_mismatch);
}

TEST_F(OpenIdConnect, JwtAccessTokensForAResourceServer) {
  provider.set_signed_access_tokens(true);
  const auto client = discovered();
  const auto token = login(client, "openid profile");
  oidc::AccessTokenChecks checks;
  checks.audience = "account";
  const auto at = client.validate_access_token(token.access_token.expose(), checks);
  EXPECT_EQ(at.client_id(), str(LocalProvider::kSecretJwtClientId));
  checks.required_scopes = {"admin"};
  EXPECT_EQ(error_of([&] { (void)client.validate_access_token(token.access_token.expose(), checks); }).code(),
            errc::insufficient_scope);
}

TEST_F(OpenIdConnect, WithoutKeysValidationIsAConfigurationError) {
  ClientConfig c = base();
  c.issuer = provider.issuer();
  c.token_endpoint = provider.token_endpoint();
  const Client client(c);
  const auto token = login(client);
  EXPECT_EQ(error_of([&] { (void)client.validate_id_token(token); }).code(), errc::config);
}

}  // namespace
