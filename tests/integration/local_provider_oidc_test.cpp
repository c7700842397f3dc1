// Self-test of the embedded provider's OpenID Connect side: discovery (OpenID and RFC 8414), JWKS,
// signed ID tokens, userinfo, introspection, revocation, RP-initiated logout and JWT client
// authentication, driven over HTTP with httplib::Client and the libcurl test browser, not through
// the library's Client. Signatures are checked with the library's JOSE keys (oidc::JwkSet,
// oidc::VerificationKey); the tests that need them are skipped in a build that cannot sign.
#include "local_provider.hpp"
#include "redirect_browser.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/detail/base64.hpp"
#include "oidc/discovery.hpp"
#include "oidc/id_token.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwks.hpp"
#include "oidc/jwt_access_token.hpp"

namespace {

using nlohmann::json;
using oidc::JwsAlgorithm;
using oidc_testing::FormFields;
using oidc_testing::LocalProvider;
namespace detail = oidc_testing::local_provider_detail;

constexpr const char* kForm = "application/x-www-form-urlencoded";
// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::string str(std::string_view s) { return std::string(s); }

std::string form(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += detail::url_encode(name) + "=" + detail::url_encode(value);
  }
  return out;
}

std::string basic(std::string_view id, std::string_view secret) {
  return "Basic " + detail::base64_encode(std::string(id) + ":" + std::string(secret), false);
}

// Segment `index` (0 header, 1 claims) of a compact JWS as JSON.
json segment(const std::string& jws, int index) {
  auto parts = detail::split(jws, '.');
  EXPECT_EQ(parts.size(), 3u) << jws;
  if (parts.size() != 3) return json();
  auto decoded = oidc::detail::base64url_decode_strict(parts[static_cast<std::size_t>(index)]);
  EXPECT_TRUE(decoded) << jws;
  return decoded ? json::parse(*decoded) : json();
}

std::string signing_input(const std::string& jws) { return jws.substr(0, jws.rfind('.')); }
std::string signature(const std::string& jws) {
  return oidc::detail::base64url_decode_strict(jws.substr(jws.rfind('.') + 1)).value_or("");
}

std::string half_hash(JwsAlgorithm alg, const std::string& value) {
  auto hash = oidc::jws_hash(alg, value);
  return oidc::detail::base64url_encode(hash.substr(0, hash.size() / 2));
}

#define REQUIRE_SIGNING()                                                                   \
  do {                                                                                      \
    if (!LocalProvider::signing_available()) GTEST_SKIP() << "this build cannot sign JWS"; \
  } while (0)

class LocalProviderOidc : public ::testing::Test {
 protected:
  LocalProvider provider;
  httplib::Client api{provider.base_url()};

  httplib::Result post(const std::string& path, const FormFields& fields, const httplib::Headers& headers = {}) {
    return api.Post(path.c_str(), headers, form(fields), kForm);
  }
  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
    return api.Get(path.c_str(), headers);
  }
  json get_json(const std::string& path) {
    auto res = get(path);
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    return json::parse(res->body);
  }

  // Password grant for the confidential jwt-secret-client (client_secret_basic).
  json password_tokens(std::string scope = "openid profile email") {
    auto res = post(LocalProvider::token_path(),
                    {{"grant_type", "password"}, {"username", "alice"}, {"password", "secret"}, {"scope", scope}},
                    {{"Authorization", basic(LocalProvider::kSecretJwtClientId, LocalProvider::kSecretJwtClientSecret)}});
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body);
  }
  httplib::Headers secret_client_auth() {
    return {{"Authorization", basic(LocalProvider::kSecretJwtClientId, LocalProvider::kSecretJwtClientSecret)}};
  }
  json introspect(const std::string& token, std::optional<std::string> hint = std::nullopt) {
    FormFields fields{{"token", token}};
    if (hint) fields.emplace_back("token_type_hint", *hint);
    auto res = post(LocalProvider::introspection_path(), fields, secret_client_auth());
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body);
  }
  httplib::Result refresh(const std::string& refresh_token) {
    return post(LocalProvider::token_path(), {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}},
                secret_client_auth());
  }

  // Verifies a JWS with the realm's JWKS as served, through the library's JwkSet.
  bool verifies_with_jwks(const std::string& jws, const std::string& jwks_path = LocalProvider::jwks_path()) {
    auto res = get(jwks_path);
    if (!res || res->status != 200) return false;
    const auto set = oidc::JwkSet::parse(res->body);
    const auto header = segment(jws, 0);
    const auto alg = oidc::parse_jws_algorithm(header.value("alg", ""));
    if (!alg) return false;
    std::optional<std::string> kid;
    if (header.contains("kid")) kid = header["kid"].get<std::string>();
    for (const auto* key : set.select(kid, *alg)) {
      if (key->verify(*alg, signing_input(jws), signature(jws))) return true;
    }
    return false;
  }

  // A client assertion (RFC 7523 §2.2) for `client_id`.
  std::string assertion(const oidc::SigningKey& key, std::string client_id, std::string aud,
                        std::chrono::seconds lifetime = std::chrono::seconds(60), std::string jti = "") {
    static int counter = 0;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(provider.now().time_since_epoch()).count();
    json claims = {{"iss", client_id}, {"sub", client_id}, {"aud", std::move(aud)},
                   {"iat", now},       {"exp", now + lifetime.count()},
                   {"jti", jti.empty() ? "jti-" + std::to_string(++counter) : jti}};
    return oidc::sign_compact_jws(key, {{"typ", "JWT"}}, claims);
  }
  FormFields assertion_fields(const std::string& jwt) {
    return {{"client_assertion_type", str(kJwtBearer)}, {"client_assertion", jwt}};
  }
  httplib::Result client_credentials_with(const std::string& jwt) {
    FormFields fields{{"grant_type", "client_credentials"}};
    for (auto& f : assertion_fields(jwt)) fields.push_back(f);
    return post(LocalProvider::token_path(), fields);
  }

  // Logs alice in at the authorization endpoint for portal and redeems the code.
  json portal_code_tokens(const std::string& nonce) {
    const FormFields query{{"response_type", "code"},   {"client_id", "portal"},
                           {"redirect_uri", str(LocalProvider::kPortalRedirectUri)},
                           {"scope", "openid profile"}, {"state", "st-1"},
                           {"nonce", nonce},           {"code_challenge", kChallenge},
                           {"code_challenge_method", "S256"}};
    auto page = oidc_testing::browser_get(provider.authorization_endpoint() + "?" + form(query));
    EXPECT_EQ(page.status, 302) << page.body;
    FormFields params;
    std::string problem;
    EXPECT_TRUE(detail::parse_form(page.location.substr(page.location.find('?') + 1), params, problem)) << problem;
    const auto* code = detail::find_field(params, "code");
    EXPECT_NE(code, nullptr) << page.location;
    if (code == nullptr) return json();
    auto res = post(LocalProvider::token_path(),
                    {{"grant_type", "authorization_code"},
                     {"code", *code},
                     {"redirect_uri", str(LocalProvider::kPortalRedirectUri)},
                     {"code_verifier", kVerifier}},
                    {{"Authorization", basic("portal", LocalProvider::kPortalClientSecret)}});
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body);
  }
};

// --- discovery ---------------------------------------------------------------------------------

TEST_F(LocalProviderOidc, DiscoveryHasKeycloaksShape) {
  const auto md = get_json(LocalProvider::discovery_path());
  EXPECT_EQ(md["issuer"], provider.issuer());
  EXPECT_EQ(md["authorization_endpoint"], provider.authorization_endpoint());
  EXPECT_EQ(md["token_endpoint"], provider.token_endpoint());
  EXPECT_EQ(md["userinfo_endpoint"], provider.userinfo_endpoint());
  EXPECT_EQ(md["introspection_endpoint"], provider.issuer() + "/protocol/openid-connect/token/introspect");
  EXPECT_EQ(md["introspection_endpoint"], provider.introspection_endpoint());
  EXPECT_EQ(md["revocation_endpoint"], provider.issuer() + "/protocol/openid-connect/revoke");
  EXPECT_EQ(md["end_session_endpoint"], provider.issuer() + "/protocol/openid-connect/logout");
  EXPECT_EQ(md["jwks_uri"], provider.issuer() + "/protocol/openid-connect/certs");
  EXPECT_EQ(md["device_authorization_endpoint"], provider.device_endpoint());
  EXPECT_EQ(md["pushed_authorization_request_endpoint"], provider.par_endpoint());
  EXPECT_EQ(md["subject_types_supported"], json::array({"public"}));
  EXPECT_EQ(md["token_endpoint_auth_methods_supported"],
            json::array({"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"}));
  EXPECT_EQ(md["code_challenge_methods_supported"], json::array({"plain", "S256"}));
  for (const char* member : {"id_token_signing_alg_values_supported", "userinfo_signing_alg_values_supported",
                             "token_endpoint_auth_signing_alg_values_supported"}) {
    ASSERT_TRUE(md[member].is_array()) << member;
    EXPECT_EQ(md[member].size(), oidc::all_jws_algorithms.size()) << member;
    EXPECT_NE(std::find(md[member].begin(), md[member].end(), "RS256"), md[member].end()) << member;
    EXPECT_EQ(std::find(md[member].begin(), md[member].end(), "none"), md[member].end()) << member;
  }
  for (const char* grant : {"authorization_code", "refresh_token", "password", "client_credentials",
                            "urn:ietf:params:oauth:grant-type:device_code"}) {
    EXPECT_NE(std::find(md["grant_types_supported"].begin(), md["grant_types_supported"].end(), grant),
              md["grant_types_supported"].end())
        << grant;
  }
  for (const char* member : {"response_types_supported", "scopes_supported", "claims_supported"}) {
    EXPECT_TRUE(md[member].is_array() && !md[member].empty()) << member;
  }
  EXPECT_NE(std::find(md["scopes_supported"].begin(), md["scopes_supported"].end(), "openid"),
            md["scopes_supported"].end());
}

TEST_F(LocalProviderOidc, Rfc8414DocumentAtTheWellKnownPathBeforeTheIssuerPath) {
  EXPECT_EQ(LocalProvider::oauth_metadata_path(), "/.well-known/oauth-authorization-server/realms/core");
  const auto oauth = get_json(LocalProvider::oauth_metadata_path());
  EXPECT_EQ(oauth, get_json(LocalProvider::discovery_path()));
  EXPECT_EQ(oauth["issuer"], provider.issuer());
  // Keycloak's own in-realm copy, and SimpleIdServer's realm.
  EXPECT_EQ(get_json("/realms/core/.well-known/oauth-authorization-server"), oauth);
  EXPECT_EQ(get_json("/.well-known/oauth-authorization-server/master")["issuer"], provider.sid_issuer());
  // Unknown realms and other paths are not documents.
  EXPECT_EQ(get("/.well-known/oauth-authorization-server/realms/nope")->status, 404);
  EXPECT_EQ(get("/.well-known/oauth-authorization-server")->status, 404);
}

TEST_F(LocalProviderOidc, SimpleIdServerDiscoveryUsesItsLayout) {
  const auto md = get_json(LocalProvider::sid_discovery_path());
  EXPECT_EQ(md["issuer"], provider.sid_issuer());
  EXPECT_EQ(md["jwks_uri"], provider.sid_jwks_endpoint());
  EXPECT_EQ(md["userinfo_endpoint"], provider.sid_userinfo_endpoint());
  EXPECT_EQ(md["introspection_endpoint"], provider.base_url() + LocalProvider::sid_introspection_path());
  EXPECT_EQ(md["revocation_endpoint"], provider.base_url() + LocalProvider::sid_revocation_path());
  EXPECT_EQ(md["end_session_endpoint"], provider.base_url() + LocalProvider::sid_end_session_path());
  EXPECT_FALSE(md.contains("pushed_authorization_request_endpoint"));
}

TEST_F(LocalProviderOidc, DiscoveryOverrideIsAMergePatchPerRealm) {
  provider.set_discovery_override({{"issuer", "https://evil.example"}, {"jwks_uri", nullptr}});
  auto md = get_json(LocalProvider::discovery_path());
  EXPECT_EQ(md["issuer"], "https://evil.example");
  EXPECT_FALSE(md.contains("jwks_uri"));
  EXPECT_EQ(md["token_endpoint"], provider.token_endpoint()) << "the rest untouched";
  EXPECT_EQ(get_json(LocalProvider::oauth_metadata_path())["issuer"], "https://evil.example");
  EXPECT_EQ(get_json(LocalProvider::sid_discovery_path())["issuer"], provider.sid_issuer()) << "other realm";
  provider.set_discovery_override(nullptr);
  EXPECT_EQ(get_json(LocalProvider::discovery_path())["issuer"], provider.issuer());

  provider.set_openid_configuration_served(false);
  EXPECT_EQ(get(LocalProvider::discovery_path())->status, 404);
  EXPECT_EQ(get_json(LocalProvider::oauth_metadata_path())["issuer"], provider.issuer());
}

// --- JWKS and ID tokens -----------------------------------------------------------------------

TEST_F(LocalProviderOidc, JwksPublishesOneRs256KeyAndCountsRequests) {
  REQUIRE_SIGNING();
  EXPECT_EQ(provider.jwks_requests(), 0u);
  const auto set = get_json(LocalProvider::jwks_path());
  ASSERT_EQ(set["keys"].size(), 1u) << set.dump();
  const auto& jwk = set["keys"][0];
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["alg"], "RS256");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(jwk["kid"], provider.current_kid());
  EXPECT_FALSE(jwk.contains("d")) << "public half only";
  EXPECT_EQ(provider.jwks_requests(), 1u);
  const auto sid = get_json(LocalProvider::sid_jwks_path());
  ASSERT_EQ(sid["keys"].size(), 1u);
  EXPECT_EQ(sid["keys"][0]["kid"], "ecdsa-1");  // seed 002's header
  EXPECT_EQ(sid["keys"][0]["alg"], "ES256");
  EXPECT_EQ(provider.jwks_requests(), 2u);
}

TEST_F(LocalProviderOidc, PasswordGrantIdTokenHasTheCoreClaimsAndVerifies) {
  REQUIRE_SIGNING();
  const auto before = std::chrono::duration_cast<std::chrono::seconds>(provider.now().time_since_epoch()).count();
  const auto tokens = password_tokens();
  const std::string id_token = tokens["id_token"];
  const auto header = segment(id_token, 0);
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["kid"], provider.current_kid());
  EXPECT_EQ(header["typ"], "JWT");
  const auto claims = segment(id_token, 1);
  EXPECT_EQ(claims["iss"], provider.issuer());
  EXPECT_EQ(claims["sub"], provider.subject_id("alice"));
  EXPECT_EQ(claims["sub"].get<std::string>().size(), 36u) << "UUID-shaped";
  EXPECT_EQ(claims["aud"], "jwt-secret-client");
  EXPECT_EQ(claims["azp"], "jwt-secret-client");
  EXPECT_EQ(claims["exp"].get<long long>() - claims["iat"].get<long long>(), 300);
  EXPECT_GE(claims["iat"].get<long long>(), before);
  EXPECT_EQ(claims["auth_time"], claims["iat"]);
  EXPECT_EQ(claims["sid"], tokens["session_state"]);
  EXPECT_EQ(claims["at_hash"], half_hash(JwsAlgorithm::RS256, tokens["access_token"]));
  EXPECT_EQ(claims["email"], "alice@example.com");
  EXPECT_EQ(claims["name"], "Alice Liddell");
  EXPECT_EQ(claims["preferred_username"], "alice");
  EXPECT_FALSE(claims.contains("nonce"));
  EXPECT_TRUE(verifies_with_jwks(id_token));
  // A flipped claim does not.
  auto forged = segment(id_token, 1);
  forged["sub"] = "mallory";
  const auto parts = detail::split(id_token, '.');
  const std::string tampered = std::string(parts[0]) + "." + oidc::detail::base64url_encode(forged.dump()) + "." +
                               std::string(parts[2]);
  EXPECT_FALSE(verifies_with_jwks(tampered));
  // The subject is stable: another login, another provider.
  LocalProvider other;
  EXPECT_EQ(other.subject_id("alice"), provider.subject_id("alice"));
  EXPECT_NE(provider.subject_id("bob"), provider.subject_id("alice"));
}

TEST_F(LocalProviderOidc, NonceTravelsThroughTheCodeAndRefreshKeepsTheIdentity) {
  REQUIRE_SIGNING();
  const auto tokens = portal_code_tokens("n-0S6_WzA2Mj");
  const auto first = segment(tokens["id_token"], 1);
  EXPECT_EQ(first["nonce"], "n-0S6_WzA2Mj");
  EXPECT_EQ(first["aud"], "portal");
  EXPECT_EQ(first["at_hash"], half_hash(JwsAlgorithm::RS256, tokens["access_token"]));
  EXPECT_TRUE(verifies_with_jwks(tokens["id_token"]));

  provider.advance_clock(std::chrono::seconds(100));
  auto res = post(LocalProvider::token_path(), {{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]}},
                  {{"Authorization", basic("portal", LocalProvider::kPortalClientSecret)}});
  ASSERT_EQ(res->status, 200) << res->body;
  const auto refreshed_tokens = json::parse(res->body);
  const auto refreshed = segment(refreshed_tokens["id_token"], 1);
  for (const char* claim : {"sub", "iss", "aud", "auth_time", "sid", "nonce"}) {
    EXPECT_EQ(refreshed[claim], first[claim]) << claim;  // OIDC Core §12.2; nonce as Keycloak does
  }
  EXPECT_EQ(refreshed["iat"].get<long long>(), first["iat"].get<long long>() + 100);
  EXPECT_EQ(refreshed["at_hash"], half_hash(JwsAlgorithm::RS256, refreshed_tokens["access_token"]));
  EXPECT_TRUE(verifies_with_jwks(refreshed_tokens["id_token"]));
  EXPECT_TRUE(provider.rejections().empty());
}

TEST_F(LocalProviderOidc, NoOpenidScopeNoIdToken) {
  const auto tokens = password_tokens("profile");
  EXPECT_FALSE(tokens.contains("id_token"));
}

TEST_F(LocalProviderOidc, RotationPublishesTheNewKeyBesideTheOldUntilRetired) {
  REQUIRE_SIGNING();
  const auto old_kid = provider.current_kid();
  const std::string old_token = password_tokens()["id_token"];
  const auto new_kid = provider.rotate_signing_key();
  EXPECT_NE(new_kid, old_kid);
  EXPECT_EQ(provider.current_kid(), new_kid);
  auto set = get_json(LocalProvider::jwks_path());
  ASSERT_EQ(set["keys"].size(), 2u);
  EXPECT_EQ(set["keys"][0]["kid"], old_kid);
  EXPECT_EQ(set["keys"][1]["kid"], new_kid);
  const std::string new_token = password_tokens()["id_token"];
  EXPECT_EQ(segment(new_token, 0)["kid"], new_kid);
  EXPECT_TRUE(verifies_with_jwks(new_token));
  EXPECT_TRUE(verifies_with_jwks(old_token));
  provider.retire_old_keys();
  set = get_json(LocalProvider::jwks_path());
  ASSERT_EQ(set["keys"].size(), 1u);
  EXPECT_EQ(set["keys"][0]["kid"], new_kid);
  EXPECT_FALSE(verifies_with_jwks(old_token));
  EXPECT_TRUE(verifies_with_jwks(new_token));
}

TEST_F(LocalProviderOidc, EverySigningAlgorithmVerifies) {
  REQUIRE_SIGNING();
  for (auto alg : {JwsAlgorithm::ES256, JwsAlgorithm::PS256, JwsAlgorithm::EdDSA, JwsAlgorithm::ES384,
                   JwsAlgorithm::RS512}) {
    SCOPED_TRACE(std::string(oidc::to_string(alg)));
    provider.set_signing_algorithm(alg);
    const auto tokens = password_tokens();
    const std::string id_token = tokens["id_token"];
    EXPECT_EQ(segment(id_token, 0)["alg"], std::string(oidc::to_string(alg)));
    EXPECT_EQ(segment(id_token, 1)["at_hash"], half_hash(alg, tokens["access_token"]));
    EXPECT_TRUE(verifies_with_jwks(id_token));
    EXPECT_EQ(get_json(LocalProvider::jwks_path())["keys"].size(), 1u);
  }
  // HS256: the client secret signs (OIDC Core §10.1); no kid, nothing new in the JWKS.
  const auto published = get_json(LocalProvider::jwks_path());
  provider.set_signing_algorithm(JwsAlgorithm::HS256);
  const std::string hs = password_tokens()["id_token"];
  EXPECT_EQ(segment(hs, 0)["alg"], "HS256");
  EXPECT_FALSE(segment(hs, 0).contains("kid"));
  EXPECT_TRUE(oidc::VerificationKey::from_secret(oidc::Secret(str(LocalProvider::kSecretJwtClientSecret)))
                  .verify(JwsAlgorithm::HS256, signing_input(hs), signature(hs)));
  EXPECT_FALSE(verifies_with_jwks(hs));
  EXPECT_EQ(get_json(LocalProvider::jwks_path()), published);
}

TEST_F(LocalProviderOidc, MutatorAndOverrideMakeBadTokens) {
  provider.set_id_token_mutator([](json& header, json& claims) {
    header["kid"] = "no-such-kid";
    claims["aud"] = "someone-else";
    claims.erase("nonce");
  });
  auto id_token = password_tokens()["id_token"].get<std::string>();
  EXPECT_EQ(segment(id_token, 0)["kid"], "no-such-kid");
  EXPECT_EQ(segment(id_token, 1)["aud"], "someone-else");
  provider.set_id_token_mutator(nullptr);
  provider.set_id_token_override(std::string("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."));
  EXPECT_EQ(password_tokens()["id_token"], "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
  provider.set_id_token_override(std::nullopt);
  EXPECT_EQ(segment(password_tokens()["id_token"], 1)["aud"], "jwt-secret-client");
}

// The library's discovery, JWKS cache and ID token validator against the provider, over libcurl:
// the provider's tokens are what a real client accepts, through a refresh and a key rotation.
TEST_F(LocalProviderOidc, TheLibraryDiscoversTheProviderAndValidatesItsIdTokens) {
  REQUIRE_SIGNING();
  const auto md = oidc::discover(provider.issuer());
  EXPECT_EQ(md.issuer, provider.issuer());
  EXPECT_EQ(md.token_endpoint, provider.token_endpoint());
  EXPECT_EQ(md.jwks_uri, provider.jwks_endpoint());
  EXPECT_EQ(md.end_session_endpoint, provider.end_session_endpoint());
  EXPECT_EQ(md.revocation_endpoint, provider.revocation_endpoint());
  oidc::JwksCacheOptions cache_options;
  cache_options.min_refetch_interval = std::chrono::seconds(0);
  oidc::JwksCache keys(md.jwks_uri, {}, cache_options);

  const auto tokens = portal_code_tokens("n-lib");
  oidc::IdTokenChecks checks;
  checks.issuer = md.issuer;
  checks.client_id = "portal";
  checks.now = provider.now();
  checks.nonce = "n-lib";
  checks.access_token = tokens["access_token"];
  checks.max_age = std::chrono::seconds(60);
  const auto first = oidc::validate_id_token(tokens["id_token"].get<std::string>(), keys, checks);
  EXPECT_EQ(first.subject(), provider.subject_id("alice"));
  EXPECT_EQ(first.claims()["email"], "alice@example.com");

  provider.rotate_signing_key(JwsAlgorithm::ES256);
  auto res = post(LocalProvider::token_path(), {{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]}},
                  {{"Authorization", basic("portal", LocalProvider::kPortalClientSecret)}});
  ASSERT_EQ(res->status, 200) << res->body;
  const auto refreshed_tokens = json::parse(res->body);
  auto again = checks;
  again.algorithms = {JwsAlgorithm::RS256, JwsAlgorithm::ES256};
  again.access_token = refreshed_tokens["access_token"];
  again.previous = &first;
  const auto refreshed = oidc::validate_id_token(refreshed_tokens["id_token"].get<std::string>(), keys, again);
  EXPECT_EQ(refreshed.header()["alg"], "ES256");
  EXPECT_EQ(refreshed.subject(), first.subject());
  EXPECT_EQ(keys.fetches(), 2u) << "the new kid made the cache refetch";

  // A mutated token is refused by the library, with the rule's errc.
  provider.set_id_token_mutator([](json&, json& claims) { claims["aud"] = "someone-else"; });
  const std::string wrong_aud = password_tokens()["id_token"];
  auto other = checks;
  other.client_id = "jwt-secret-client";
  other.nonce.clear();
  other.max_age.reset();
  other.access_token.clear();
  other.algorithms = again.algorithms;
  try {
    (void)oidc::validate_id_token(wrong_aud, keys, other);
    ADD_FAILURE() << "accepted a token for another audience";
  } catch (const oidc::Error& e) {
    EXPECT_EQ(e.code(), oidc::errc::audience_mismatch) << e.what();
  }
}

TEST_F(LocalProviderOidc, SignedAccessTokensAreRfc9068JwtsTheLibraryValidates) {
  REQUIRE_SIGNING();
  const std::string opaque = password_tokens()["access_token"];
  EXPECT_FALSE(verifies_with_jwks(opaque)) << "random signature by default";
  provider.set_signed_access_tokens(true);
  const auto tokens = password_tokens();
  const std::string access = tokens["access_token"];
  EXPECT_EQ(segment(access, 0)["typ"], "at+jwt");
  EXPECT_TRUE(verifies_with_jwks(access));
  oidc::JwksCache keys(provider.jwks_endpoint());
  oidc::AccessTokenChecks checks;
  checks.issuer = provider.issuer();
  checks.audience = "account";
  checks.required_scopes = {"email"};
  checks.now = provider.now();
  const auto at = oidc::validate_access_token(access, keys, checks);
  EXPECT_EQ(at.client_id(), "jwt-secret-client");
  EXPECT_EQ(at.subject(), "alice");
  // Still a live token for userinfo and introspection.
  EXPECT_EQ(introspect(access)["active"], true);
  EXPECT_EQ(segment(tokens["id_token"], 1)["at_hash"], half_hash(JwsAlgorithm::RS256, access));
}

// --- userinfo ----------------------------------------------------------------------------------

TEST_F(LocalProviderOidc, UserinfoAnswersTheIdTokensSubjectForABearerToken) {
  const auto tokens = password_tokens();
  const httplib::Headers bearer{{"Authorization", "Bearer " + tokens["access_token"].get<std::string>()}};
  auto res = get(LocalProvider::userinfo_path(), bearer);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const auto info = json::parse(res->body);
  EXPECT_EQ(info["sub"], segment(tokens["id_token"], 1)["sub"]);
  EXPECT_EQ(info["sub"], provider.subject_id("alice"));
  EXPECT_EQ(info["email"], "alice@example.com");
  EXPECT_EQ(info["preferred_username"], "alice");
  // POST works too (OIDC Core §5.3.1).
  res = api.Post(LocalProvider::userinfo_path().c_str(), bearer, "", kForm);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body), info);
  // Another sub, for the client's check.
  provider.set_userinfo_subject("someone-else");
  res = get(LocalProvider::userinfo_path(), bearer);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["sub"], "someone-else");
  EXPECT_TRUE(provider.rejections().empty());
}

TEST_F(LocalProviderOidc, UserinfoRefusesMissingBadExpiredAndNonOpenidTokens) {
  auto res = get(LocalProvider::userinfo_path());
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer realm=\"core\"") << "RFC 6750 §3.1: no error code";

  res = get(LocalProvider::userinfo_path(), {{"Authorization", "Bearer not-a-token"}});
  EXPECT_EQ(res->status, 401);
  EXPECT_NE(res->get_header_value("WWW-Authenticate").find("error=\"invalid_token\""), std::string::npos)
      << res->get_header_value("WWW-Authenticate");
  EXPECT_EQ(json::parse(res->body)["error"], "invalid_token");

  res = get(LocalProvider::userinfo_path(), {{"Authorization", basic("a", "b")}});
  EXPECT_EQ(res->status, 400);

  const auto tokens = password_tokens();
  const httplib::Headers bearer{{"Authorization", "Bearer " + tokens["access_token"].get<std::string>()}};
  provider.advance_clock(std::chrono::seconds(300));
  res = get(LocalProvider::userinfo_path(), bearer);
  EXPECT_EQ(res->status, 401) << "expired";
  EXPECT_NE(res->get_header_value("WWW-Authenticate").find("invalid_token"), std::string::npos);

  // A token without openid (service account) is not for userinfo.
  auto svc = post(LocalProvider::token_path(), {{"grant_type", "client_credentials"}},
                  {{"Authorization", basic(LocalProvider::kServiceClientId, LocalProvider::kServiceClientSecret)}});
  ASSERT_EQ(svc->status, 200);
  res = get(LocalProvider::userinfo_path(),
            {{"Authorization", "Bearer " + json::parse(svc->body)["access_token"].get<std::string>()}});
  EXPECT_EQ(res->status, 403);
  EXPECT_NE(res->get_header_value("WWW-Authenticate").find("insufficient_scope"), std::string::npos);
}

TEST_F(LocalProviderOidc, SignedUserinfoIsAJwtWithIssAndAud) {
  REQUIRE_SIGNING();
  provider.set_userinfo_signed(true);
  const auto tokens = password_tokens();
  auto res = get(LocalProvider::userinfo_path(),
                 {{"Authorization", "Bearer " + tokens["access_token"].get<std::string>()}});
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/jwt");
  const auto claims = segment(res->body, 1);
  EXPECT_EQ(claims["sub"], provider.subject_id("alice"));
  EXPECT_EQ(claims["iss"], provider.issuer());
  EXPECT_EQ(claims["aud"], "jwt-secret-client");
  EXPECT_TRUE(verifies_with_jwks(res->body));
}

// --- introspection and revocation ---------------------------------------------------------------

TEST_F(LocalProviderOidc, IntrospectionDescribesLiveTokensOnly) {
  const auto tokens = password_tokens();
  const std::string access = tokens["access_token"];
  const std::string refresh_token = tokens["refresh_token"];
  auto info = introspect(access);
  EXPECT_EQ(info["active"], true);
  EXPECT_EQ(info["client_id"], "jwt-secret-client");
  EXPECT_EQ(info["username"], "alice");
  EXPECT_EQ(info["sub"], "alice") << "the access token's sub";
  EXPECT_EQ(info["scope"], "openid profile email");
  EXPECT_EQ(info["token_type"], "Bearer");
  EXPECT_EQ(info["iss"], provider.issuer());
  EXPECT_EQ(info["exp"].get<long long>() - info["iat"].get<long long>(), 300);
  // The hint is honoured, and a wrong one does not hide the token (RFC 7662 §2.1).
  EXPECT_EQ(introspect(refresh_token, "refresh_token")["token_type"], "Refresh");
  EXPECT_EQ(introspect(refresh_token, "access_token")["active"], true);
  EXPECT_EQ(introspect(access, "refresh_token")["token_type"], "Bearer");
  EXPECT_EQ(introspect("unknown-token"), json({{"active", false}}));

  provider.advance_clock(std::chrono::seconds(301));
  EXPECT_EQ(introspect(access), json({{"active", false}}));
  EXPECT_EQ(introspect(refresh_token)["active"], true) << "refresh tokens live 1800 s";
  EXPECT_TRUE(provider.rejections().empty());
}

TEST_F(LocalProviderOidc, IntrospectionAuthenticatesTheClient) {
  const std::string access = password_tokens()["access_token"];
  auto res = post(LocalProvider::introspection_path(), {{"token", access}},
                  {{"Authorization", basic(LocalProvider::kSecretJwtClientId, "wrong")}});
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"], "invalid_client");
  res = post(LocalProvider::introspection_path(), {{"token", access}, {"client_id", "web-app"}});
  EXPECT_EQ(res->status, 401) << "public clients may not introspect";
  res = post(LocalProvider::introspection_path(), {{"token", access},
                                                   {"client_id", str(LocalProvider::kServiceClientId)},
                                                   {"client_secret", str(LocalProvider::kServiceClientSecret)}});
  EXPECT_EQ(res->status, 200) << "another confidential client of the realm may (client_secret_post)";
  EXPECT_EQ(json::parse(res->body)["active"], true);
  res = post(LocalProvider::introspection_path(), {{"token", access}, {"grant_type", "password"}}, secret_client_auth());
  EXPECT_EQ(res->status, 400) << "not an introspection parameter";
  res = post(LocalProvider::introspection_path(), {}, secret_client_auth());
  EXPECT_EQ(res->status, 400) << "token is required";
  EXPECT_EQ(provider.rejections().size(), 2u);
}

TEST_F(LocalProviderOidc, RevokingARefreshTokenEndsTheClientSession) {
  const auto tokens = password_tokens();
  const std::string access = tokens["access_token"];
  const std::string refresh_token = tokens["refresh_token"];
  auto res = post(LocalProvider::revocation_path(), {{"token", refresh_token}, {"token_type_hint", "refresh_token"}},
                  secret_client_auth());
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(res->body.empty());
  EXPECT_EQ(introspect(refresh_token)["active"], false);
  EXPECT_EQ(introspect(access)["active"], false) << "Keycloak revokes the session's access tokens too";
  auto again = refresh(refresh_token);
  EXPECT_EQ(again->status, 400);
  EXPECT_EQ(json::parse(again->body)["error"], "invalid_grant");
  EXPECT_EQ(get(LocalProvider::userinfo_path(), {{"Authorization", "Bearer " + access}})->status, 401);
  // Unknown (and already revoked) tokens: 200 as well (RFC 7009 §2.2).
  EXPECT_EQ(post(LocalProvider::revocation_path(), {{"token", refresh_token}}, secret_client_auth())->status, 200);
  EXPECT_EQ(post(LocalProvider::revocation_path(), {{"token", "never-issued"}}, secret_client_auth())->status, 200);
  EXPECT_TRUE(provider.rejections().empty());
}

TEST_F(LocalProviderOidc, RevokingAnAccessTokenLeavesTheRefreshToken) {
  const auto tokens = password_tokens();
  const std::string access = tokens["access_token"];
  ASSERT_EQ(post(LocalProvider::revocation_path(), {{"token", access}}, secret_client_auth())->status, 200);
  EXPECT_EQ(introspect(access)["active"], false);
  EXPECT_EQ(refresh(tokens["refresh_token"])->status, 200);
}

TEST_F(LocalProviderOidc, RevocationRefusesOtherClientsTokensRefusedHintsAndBadAuth) {
  const auto tokens = password_tokens();
  auto res = post(LocalProvider::revocation_path(), {{"token", tokens["refresh_token"]}},
                  {{"Authorization", basic(LocalProvider::kServiceClientId, LocalProvider::kServiceClientSecret)}});
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"], "unauthorized_client");
  EXPECT_EQ(introspect(tokens["refresh_token"])["active"], true) << "not revoked";

  provider.set_refused_token_type_hint("access_token");
  res = post(LocalProvider::revocation_path(), {{"token", tokens["access_token"]}, {"token_type_hint", "access_token"}},
             secret_client_auth());
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"], "unsupported_token_type");
  EXPECT_EQ(introspect(tokens["access_token"])["active"], true);

  res = post(LocalProvider::revocation_path(), {{"token", tokens["access_token"]}},
             {{"Authorization", basic(LocalProvider::kSecretJwtClientId, "wrong")}});
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(introspect(tokens["access_token"])["active"], true);
  res = api.Get((LocalProvider::revocation_path() + "?token=x").c_str());
  EXPECT_EQ(res->status, 405);
}

// --- RP-initiated logout -----------------------------------------------------------------------

TEST_F(LocalProviderOidc, LogoutWithAnIdTokenHintRedirectsWithTheStateAndEndsTheSession) {
  REQUIRE_SIGNING();
  const auto tokens = portal_code_tokens("n-1");
  const FormFields query{{"id_token_hint", tokens["id_token"]},
                         {"post_logout_redirect_uri", str(LocalProvider::kPostLogoutRedirectUri)},
                         {"state", "bye 1"}};
  auto page = oidc_testing::browser_get(provider.end_session_endpoint() + "?" + form(query));
  EXPECT_EQ(page.status, 302) << page.body;
  EXPECT_EQ(page.location, str(LocalProvider::kPostLogoutRedirectUri) + "?state=bye%201");
  const auto logouts = provider.logouts();
  ASSERT_EQ(logouts.size(), 1u);
  EXPECT_EQ(logouts[0].client_id, "portal");
  EXPECT_EQ(logouts[0].subject, provider.subject_id("alice"));
  EXPECT_EQ(logouts[0].sid, tokens["session_state"]);
  EXPECT_TRUE(logouts[0].id_token_hint);
  auto res = post(LocalProvider::token_path(), {{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]}},
                  {{"Authorization", basic("portal", LocalProvider::kPortalClientSecret)}});
  EXPECT_EQ(res->status, 400) << "the session is over";
  EXPECT_TRUE(provider.rejections().empty());
}

TEST_F(LocalProviderOidc, LogoutRefusesForgedHintsAndUnregisteredRedirects) {
  REQUIRE_SIGNING();
  const std::string id_token = portal_code_tokens("n-2")["id_token"];
  auto forged_claims = segment(id_token, 1);
  forged_claims["sub"] = "mallory";
  const auto parts = detail::split(id_token, '.');
  const std::string forged = std::string(parts[0]) + "." + oidc::detail::base64url_encode(forged_claims.dump()) +
                             "." + std::string(parts[2]);
  auto page = oidc_testing::browser_get(
      provider.end_session_endpoint() + "?" +
      form({{"id_token_hint", forged}, {"post_logout_redirect_uri", str(LocalProvider::kPostLogoutRedirectUri)}}));
  EXPECT_EQ(page.status, 400);
  EXPECT_TRUE(page.location.empty());
  page = oidc_testing::browser_get(
      provider.end_session_endpoint() + "?" +
      form({{"id_token_hint", id_token}, {"post_logout_redirect_uri", "https://evil.example/"}}));
  EXPECT_EQ(page.status, 400);
  EXPECT_TRUE(page.location.empty());
  // A token of another realm's keys: signed by a key not in this JWKS.
  provider.rotate_signing_key();
  provider.retire_old_keys();
  page = oidc_testing::browser_get(provider.end_session_endpoint() + "?" + form({{"id_token_hint", id_token}}));
  EXPECT_EQ(page.status, 400) << "its key was retired";
  EXPECT_TRUE(provider.logouts().empty());
}

TEST_F(LocalProviderOidc, LogoutWithClientIdOnly) {
  // web-app has no post-logout list: its redirect URIs count (Keycloak's "+").
  auto page = oidc_testing::browser_get(
      provider.end_session_endpoint() + "?" +
      form({{"client_id", "web-app"}, {"post_logout_redirect_uri", "http://127.0.0.1:4711/callback"}, {"state", "s"}}));
  EXPECT_EQ(page.status, 302) << page.body;
  EXPECT_EQ(page.location, "http://127.0.0.1:4711/callback?state=s");
  // Without a client the redirect cannot be checked.
  page = oidc_testing::browser_get(provider.end_session_endpoint() + "?" +
                                   form({{"post_logout_redirect_uri", str(LocalProvider::kPostLogoutRedirectUri)}}));
  EXPECT_EQ(page.status, 400);
  // Nothing at all: the logged-out page.
  page = oidc_testing::browser_get(provider.end_session_endpoint());
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(provider.logouts().size(), 2u);
}

// --- JWT client authentication ------------------------------------------------------------------

TEST_F(LocalProviderOidc, PrivateKeyJwtIsAcceptedOnceAndOnlyWithTheRegisteredKey) {
  REQUIRE_SIGNING();
  const auto key = oidc::SigningKey::generate(JwsAlgorithm::ES256, "jwt-client-key");
  const std::string id(LocalProvider::kJwtClientId);
  auto res = client_credentials_with(assertion(key, id, provider.token_endpoint()));
  EXPECT_EQ(res->status, 401) << "no key registered yet";

  provider.register_client_jwk(id, key.public_jwk());
  const auto good = assertion(key, id, provider.token_endpoint());
  res = client_credentials_with(good);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["token_type"], "Bearer");
  res = client_credentials_with(good);
  EXPECT_EQ(res->status, 401) << "jti replayed";
  EXPECT_NE(json::parse(res->body)["error_description"].get<std::string>().find("replayed"), std::string::npos);
  // The issuer is an audience too.
  EXPECT_EQ(client_credentials_with(assertion(key, id, provider.issuer()))->status, 200);

  const auto other = oidc::SigningKey::generate(JwsAlgorithm::ES256, "jwt-client-key");
  EXPECT_EQ(client_credentials_with(assertion(other, id, provider.token_endpoint()))->status, 401) << "bad signature";
  EXPECT_EQ(client_credentials_with(assertion(key, id, "https://elsewhere.example/token"))->status, 401) << "wrong aud";
  EXPECT_EQ(client_credentials_with(assertion(key, id, provider.token_endpoint(), std::chrono::seconds(-5)))->status,
            401)
      << "expired";
  EXPECT_EQ(client_credentials_with(assertion(key, id, provider.token_endpoint(), std::chrono::hours(2)))->status, 401)
      << "exp too far";
  auto wrong_sub = assertion(key, id, provider.token_endpoint());
  {
    json claims = segment(wrong_sub, 1);
    claims["sub"] = "portal";
    wrong_sub = oidc::sign_compact_jws(key, {{"typ", "JWT"}}, claims);
  }
  EXPECT_EQ(client_credentials_with(wrong_sub)->status, 401) << "sub != iss";
  // A secret alongside the assertion, and a secret instead of it.
  FormFields both{{"grant_type", "client_credentials"}, {"client_secret", "x"}};
  for (auto& f : assertion_fields(assertion(key, id, provider.token_endpoint()))) both.push_back(f);
  EXPECT_EQ(post(LocalProvider::token_path(), both)->status, 400);
  EXPECT_EQ(post(LocalProvider::token_path(), {{"grant_type", "client_credentials"}, {"client_id", id}})->status, 401);
}

TEST_F(LocalProviderOidc, JwtClientAuthenticationAtIntrospectionAndRevocation) {
  REQUIRE_SIGNING();
  const auto key = oidc::SigningKey::generate(JwsAlgorithm::RS256, "k1");
  const std::string id(LocalProvider::kJwtClientId);
  provider.register_client_jwk(id, key.public_jwk());
  FormFields login{{"grant_type", "password"}, {"username", "alice"}, {"password", "secret"}};
  for (auto& f : assertion_fields(assertion(key, id, provider.token_endpoint()))) login.push_back(f);
  auto res = post(LocalProvider::token_path(), login);
  ASSERT_EQ(res->status, 200) << res->body;
  const auto tokens = json::parse(res->body);

  FormFields ask{{"token", tokens["access_token"]}};
  for (auto& f : assertion_fields(assertion(key, id, provider.introspection_endpoint()))) ask.push_back(f);
  res = post(LocalProvider::introspection_path(), ask);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["active"], true);

  FormFields revoke{{"token", tokens["refresh_token"]}};
  for (auto& f : assertion_fields(assertion(key, id, provider.revocation_endpoint()))) revoke.push_back(f);
  EXPECT_EQ(post(LocalProvider::revocation_path(), revoke)->status, 200);
  EXPECT_EQ(introspect(tokens["refresh_token"])["active"], false);
}

TEST_F(LocalProviderOidc, ClientSecretJwtIsSignedWithTheSecret) {
  REQUIRE_SIGNING();
  const std::string id(LocalProvider::kSecretJwtClientId);
  const auto key = oidc::SigningKey::from_secret(oidc::Secret(str(LocalProvider::kSecretJwtClientSecret)));
  auto res = client_credentials_with(assertion(key, id, provider.token_endpoint()));
  EXPECT_EQ(res->status, 200) << res->body;
  const auto wrong = oidc::SigningKey::from_secret(oidc::Secret(std::string(48, 'x')));
  EXPECT_EQ(client_credentials_with(assertion(wrong, id, provider.token_endpoint()))->status, 401);
  // An HMAC assertion for a client that has no secret (key confusion) is refused.
  const auto hs = oidc::SigningKey::from_secret(oidc::Secret(std::string(48, 'y')));
  EXPECT_EQ(client_credentials_with(assertion(hs, str(LocalProvider::kJwtClientId), provider.token_endpoint()))->status,
            401);
}

TEST_F(LocalProviderOidc, MalformedClientAssertionsAreRejections) {
  auto res = post(LocalProvider::token_path(), {{"grant_type", "client_credentials"},
                                                {"client_assertion_type", "urn:wrong"},
                                                {"client_assertion", "a.b.c"}});
  EXPECT_EQ(res->status, 400);
  res = client_credentials_with("not-a-jwt");
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"], "invalid_client");
  res = client_credentials_with("eyJhbGciOiJub25lIn0.eyJpc3MiOiJqd3QtY2xpZW50In0.");
  EXPECT_EQ(res->status, 401) << "alg none, no sub";
  EXPECT_EQ(provider.rejections().size(), 3u);
}

}  // namespace
