// OpenID Connect end to end against oidc-provider: discovery, the provider's real ID tokens (RS256,
// PS256, ES256, EdDSA) validated with its real JWKS, the JWKS after a key rotation, refreshed ID
// tokens, userinfo, introspection, revocation, the logout URL driven through the provider's own
// logout pages, JWT access tokens (RFC 9068), and private_key_jwt / client_secret_jwt.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "browser.hpp"
#include "error_of.hpp"
#include "interop_support.hpp"
#include "oidc/client.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/grants/client_credentials.hpp"

namespace {

using oidc::errc;
using oidc_interop::Browser;
using oidc_interop::ClientSpec;
using oidc_interop::Provider;
using oidc_testing::error_of;

// The relying parties of provider.mjs: one per ID token algorithm; rp-ps's key rotates.
constexpr ClientSpec kRp{"rp", "rp-secret-0123456789abcdef0123456789abcdef", oidc::ClientAuthMethod::client_secret_basic};
constexpr ClientSpec kRpEs{"rp-es", "rp-es-secret-0123456789abcdef0123456789abcdef",
                           oidc::ClientAuthMethod::client_secret_basic};
constexpr ClientSpec kRpEd{"rp-ed", "rp-ed-secret-0123456789abcdef0123456789abcdef",
                           oidc::ClientAuthMethod::client_secret_basic};
constexpr ClientSpec kRpPs{"rp-ps", "rp-ps-secret-0123456789abcdef0123456789abcdef",
                           oidc::ClientAuthMethod::client_secret_basic};
const std::string kScope = "openid offline_access profile email api:read";
const std::string kLogoutRedirect = "http://127.0.0.1/logged-out";

oidc::Token password_login(const oidc::Client& client, const std::string& scope = kScope) {
  return client.password(std::string(oidc_interop::kAlice), oidc::Secret(std::string(oidc_interop::kAlicePassword)),
                         {scope});
}

nlohmann::json jwt_header(const std::string& jwt) {
  return nlohmann::json::parse(oidc::detail::base64_decode(jwt.substr(0, jwt.find('.'))).value_or("{}"));
}

// Discovery fills every endpoint the library uses from the issuer URL alone, and the client then
// validates the provider's ID token with the provider's JWKS.
TEST(InteropOpenIdConnect, DiscoveryThenIdTokenValidation) {
  const auto& p = Provider::get();
  oidc::ClientConfig base;
  base.client_id = kRp.id;
  base.client_secret = oidc::Secret(kRp.secret);
  base.transport = p.transport();
  const auto client = oidc::Client::discover(p.issuer(), base);
  const auto& cfg = client.config();
  EXPECT_EQ(cfg.issuer, p.issuer());
  EXPECT_EQ(cfg.token_endpoint, p.endpoint("token_endpoint"));
  EXPECT_EQ(cfg.jwks_uri, p.endpoint("jwks_uri"));
  EXPECT_EQ(cfg.userinfo_endpoint, p.endpoint("userinfo_endpoint"));
  EXPECT_EQ(cfg.introspection_endpoint, p.endpoint("introspection_endpoint"));
  EXPECT_EQ(cfg.revocation_endpoint, p.endpoint("revocation_endpoint"));
  EXPECT_EQ(cfg.end_session_endpoint, p.endpoint("end_session_endpoint"));
  EXPECT_EQ(cfg.device_authorization_endpoint, p.endpoint("device_authorization_endpoint"));
  EXPECT_TRUE(cfg.authorization_response_iss_parameter_supported);
  EXPECT_FALSE(cfg.id_token_signing_alg_values_supported.empty());

  const auto token = password_login(client);
  const auto id = client.validate_id_token(token);
  EXPECT_EQ(id.issuer(), p.issuer());
  EXPECT_EQ(id.subject(), std::string(oidc_interop::kAlice));
  EXPECT_EQ(id.audience(), std::vector<std::string>{kRp.id});
  EXPECT_EQ(id.email().value_or(""), "alice@interop.test");
  EXPECT_EQ(id.name().value_or(""), "user alice");
  EXPECT_TRUE(id.claims().contains("at_hash"));  // checked against the access token
  EXPECT_EQ(jwt_header(id.raw()).value("alg", ""), "RS256");
}

// Every asymmetric algorithm oidc-provider signs ID tokens with, each verified with its real key.
TEST(InteropOpenIdConnect, EveryIdTokenAlgorithm) {
  const auto& p = Provider::get();
  for (const auto& [spec, alg] : {std::pair{kRp, "RS256"}, std::pair{kRpPs, "PS256"}, std::pair{kRpEs, "ES256"},
                                  std::pair{kRpEd, "EdDSA"}}) {
    SCOPED_TRACE(alg);
    const oidc::Client client(p.config(spec));
    const auto token = password_login(client);
    EXPECT_EQ(jwt_header(token.id_token.expose()).value("alg", ""), alg);
    const auto id = client.validate_id_token(token);
    EXPECT_EQ(id.subject(), std::string(oidc_interop::kAlice));
  }
}

// A token of the right issuer signed by one algorithm is refused by a client that allows only
// another: the allow-list is the client's, not the token header's.
TEST(InteropOpenIdConnect, AnAlgorithmOutsideTheAllowListIsRefused) {
  const auto& p = Provider::get();
  auto config = p.config(kRpEs);
  config.id_token_algorithms = {oidc::JwsAlgorithm::RS256};
  const oidc::Client client(config);
  const auto token = password_login(client);
  EXPECT_EQ(error_of([&] { (void)client.validate_id_token(token); }).code(), errc::algorithm_rejected);
}

// The refreshed ID token (OIDC Core §12.2) is validated against the first: same iss, sub, aud.
TEST(InteropOpenIdConnect, RefreshedIdTokenIsValidatedAgainstTheFirst) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kRp));
  const auto first = password_login(client);
  const auto id = client.validate_id_token(first);
  const auto refreshed = client.refresh(first);
  ASSERT_NE(refreshed.id_token.expose(), first.id_token.expose()) << "oidc-provider issues a new ID token on refresh";
  const auto again = client.validate_id_token(refreshed, {{}, {}, &id});
  EXPECT_EQ(again.subject(), id.subject());
}

// A token source that validates every ID token it receives, through renewals.
TEST(InteropOpenIdConnect, TokenSourceValidatesEveryIdToken) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kRpEd));
  oidc::TokenSourceOptions options;
  options.validate = client.id_token_validator();
  const auto source = client.token_source(password_login(client), options);
  source->invalidate();
  const auto renewed = source->token();
  ASSERT_FALSE(renewed->id_token.empty());
  EXPECT_EQ(client.validate_id_token(*renewed).subject(), std::string(oidc_interop::kAlice));
}

// Key rotation: after the provider starts signing PS256 with a new key, the cached key set has no
// such kid and is refetched once; after the old key is retired, a fresh cache no longer verifies
// tokens signed with it.
TEST(InteropOpenIdConnect, KeyRotation) {
  const auto& p = Provider::get();
  auto config = p.config(kRpPs);
  config.jwks_cache.min_refetch_interval = std::chrono::seconds{0};
  const oidc::Client client(config);
  const auto before = password_login(client);
  const auto old_kid = jwt_header(before.id_token.expose()).value("kid", "");
  (void)client.validate_id_token(before);

  ASSERT_EQ(oidc_interop::raw_request(p.issuer() + "/__test/rotate", p.ca_file(), "rotate=1").status, 200);
  const auto after = password_login(client);
  const auto new_kid = jwt_header(after.id_token.expose()).value("kid", "");
  ASSERT_NE(new_kid, old_kid) << "the provider signs with the new key after the rotation";
  EXPECT_EQ(client.validate_id_token(after).subject(), std::string(oidc_interop::kAlice));
  EXPECT_EQ(client.validate_id_token(before).subject(), std::string(oidc_interop::kAlice))
      << "the old key is still published until it is retired";

  ASSERT_EQ(oidc_interop::raw_request(p.issuer() + "/__test/retire", p.ca_file(), "retire=1").status, 200);
  const oidc::Client fresh(config);  // a new key cache: its first fetch has no old key
  EXPECT_EQ(fresh.validate_id_token(after).subject(), std::string(oidc_interop::kAlice));
  EXPECT_EQ(error_of([&] { (void)fresh.validate_id_token(before); }).code(), errc::key_not_found);
}

// Userinfo with the access token; sub must be the ID token's.
TEST(InteropOpenIdConnect, Userinfo) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kRp));
  const auto token = password_login(client);
  const auto id = client.validate_id_token(token);
  const auto info = client.userinfo(token, id.subject());
  EXPECT_EQ(info.subject(), std::string(oidc_interop::kAlice));
  EXPECT_EQ(info.claims().value("email", ""), "alice@interop.test");
  EXPECT_EQ(error_of([&] { (void)client.userinfo(token, "mallory"); }).code(), errc::subject_mismatch);
}

// Introspection sees the token active; after revocation (RFC 7009) it is inactive, and a revoked
// refresh token no longer refreshes.
TEST(InteropOpenIdConnect, IntrospectionAndRevocation) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kRp));
  const auto token = password_login(client);
  const auto live = client.introspect(token.access_token);
  EXPECT_TRUE(live.active);
  EXPECT_EQ(live.client_id, kRp.id);
  EXPECT_EQ(live.sub, std::string(oidc_interop::kAlice));
  EXPECT_TRUE(live.has_scope("openid"));

  client.revoke(token.access_token, "access_token");
  EXPECT_FALSE(client.introspect(token.access_token).active);
  // oidc-provider's default revokeGrantPolicy revokes the whole grant (RFC 7009 §2.1 allows it).
  EXPECT_FALSE(client.introspect(token.refresh_token, "refresh_token").active);

  const auto second = password_login(client);
  ASSERT_TRUE(second.has_refresh_token());
  EXPECT_TRUE(client.introspect(second.refresh_token, "refresh_token").active);
  client.revoke(second.refresh_token, "refresh_token");
  EXPECT_FALSE(client.introspect(second.refresh_token, "refresh_token").active);
  const auto e = error_of([&] { (void)client.refresh(second); });
  EXPECT_EQ(e.oauth_code(), "invalid_grant") << e.what();
  // RFC 7009 §2.2: an unknown token is not an error.
  client.revoke("not-a-token-the-provider-issued");
}

// RP-initiated logout: the URL the library builds is accepted by the provider, which (after its
// confirmation page) redirects to the registered post_logout_redirect_uri with our state.
TEST(InteropOpenIdConnect, LogoutUrl) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kRp));
  const auto token = password_login(client);
  const auto id = client.validate_id_token(token);
  const auto url = client.end_session_url(id, kLogoutRedirect, "bye-state-1");
  EXPECT_EQ(url.rfind(p.endpoint("end_session_endpoint"), 0), 0u);

  Browser browser(p.ca_file());
  auto page = browser.get(url);
  ASSERT_EQ(page.status, 200) << "oidc-provider asks to confirm the logout";
  auto done = browser.follow(browser.submit(page, 0, {{"logout", "yes"}}), kLogoutRedirect);
  ASSERT_EQ(done.location.rfind(kLogoutRedirect, 0), 0u) << done.location;
  EXPECT_NE(done.location.find("state=bye-state-1"), std::string::npos) << done.location;
}

// RFC 9068: oidc-provider's JWT access token for the resource indicator, validated as a resource
// server with the provider's keys.
TEST(InteropOpenIdConnect, JwtAccessTokenForAResource) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kCcBasic));
  oidc::grants::ClientCredentials grant;
  grant.scope = "api:read";
  grant.extra = {{"resource", std::string(oidc_interop::kApiResource)}};
  const auto token = client.client_credentials(grant);
  oidc::AccessTokenChecks checks;
  checks.audience = std::string(oidc_interop::kApiResource);
  checks.required_scopes = {"api:read"};
  const auto at = client.validate_access_token(token.access_token.expose(), checks);
  EXPECT_EQ(at.client_id(), oidc_interop::kCcBasic.id);
  checks.required_scopes = {"api:write"};
  EXPECT_EQ(error_of([&] { (void)client.validate_access_token(token.access_token.expose(), checks); }).code(),
            errc::insufficient_scope);
  checks.required_scopes = {};
  checks.audience = "https://other.interop.test";
  EXPECT_EQ(error_of([&] { (void)client.validate_access_token(token.access_token.expose(), checks); }).code(),
            errc::audience_mismatch);
}

// private_key_jwt (RFC 7523 §2.2) with the client's ES256 key, and client_secret_jwt (HS256).
TEST(InteropOpenIdConnect, JwtClientAuthentication) {
  const auto& p = Provider::get();
  std::ifstream in(p.state_dir() + "/pkjwt.key.pem");
  std::stringstream pem;
  pem << in.rdbuf();
  ASSERT_FALSE(pem.str().empty());

  auto config = p.config({"pkjwt", "", oidc::ClientAuthMethod::private_key_jwt});
  config.signing_key = oidc::SigningKey::from_pem(oidc::Secret(pem.str()), "pkjwt-1");
  const auto token = oidc::Client(config).client_credentials({"api:read"});
  EXPECT_EQ(p.introspect(token.access_token.expose()).value("client_id", ""), "pkjwt");

  const oidc::Client secjwt(
      p.config({"secjwt", "secjwt-secret-0123456789abcdef0123456789abcdef", oidc::ClientAuthMethod::client_secret_jwt}));
  EXPECT_EQ(p.introspect(secjwt.client_credentials({"api:read"}).access_token.expose()).value("client_id", ""),
            "secjwt");

  // A key the provider does not know is refused as invalid_client.
  config.signing_key = oidc::SigningKey::generate(oidc::JwsAlgorithm::ES256, "pkjwt-1");
  EXPECT_EQ(error_of([&] { (void)oidc::Client(config).client_credentials({"api:read"}); }).oauth_code(),
            "invalid_client");
}

}  // namespace
