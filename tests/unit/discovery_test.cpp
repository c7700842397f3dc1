#include "oidc/discovery.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"

namespace {

using namespace std::chrono_literals;
using oidc::ClientAuthMethod;
using oidc::DiscoveryOptions;
using oidc::errc;
using oidc::Error;
using oidc::HttpRequest;
using oidc::HttpResponse;
using oidc::IssuerPolicy;
using oidc::ProviderMetadata;
using oidc_testing::error_of;
using oidc_testing::FakeClock;

const std::string keycloak_issuer = "https://sso.example.com/realms/core";

// Keycloak 24's document for a realm, abridged (its member names, shapes and extras kept).
std::string keycloak_document(const std::string& issuer = keycloak_issuer) {
  const std::string p = issuer + "/protocol/openid-connect";
  return R"({"issuer":")" + issuer + R"(","authorization_endpoint":")" + p + R"(/auth","token_endpoint":")" + p +
         R"(/token","introspection_endpoint":")" + p + R"(/token/introspect","userinfo_endpoint":")" + p +
         R"(/userinfo","end_session_endpoint":")" + p + R"(/logout","frontchannel_logout_session_supported":true,)"
         R"("frontchannel_logout_supported":true,"jwks_uri":")" + p + R"(/certs","check_session_iframe":")" + p +
         R"(/login-status-iframe.html","grant_types_supported":["authorization_code","implicit","refresh_token",)"
         R"("password","client_credentials","urn:openid:params:grant-type:ciba",)"
         R"("urn:ietf:params:oauth:grant-type:device_code"],"acr_values_supported":["0","1"],)"
         R"("response_types_supported":["code","none","id_token","token","id_token token","code id_token",)"
         R"("code token","code id_token token"],"subject_types_supported":["public","pairwise"],)"
         R"("id_token_signing_alg_values_supported":["PS384","RS384","EdDSA","ES384","HS256","HS512","ES256",)"
         R"("RS256","HS384","ES512","PS256","PS512","RS512"],"id_token_encryption_alg_values_supported":["RSA-OAEP",)"
         R"("RSA-OAEP-256","RSA1_5"],"userinfo_signing_alg_values_supported":["PS384","RS384","EdDSA","ES384",)"
         R"("HS256","HS512","ES256","RS256","HS384","ES512","PS256","PS512","RS512","none"],)"
         R"("request_object_signing_alg_values_supported":["PS384","RS384","EdDSA","none"],)"
         R"("response_modes_supported":["query","fragment","form_post","query.jwt","fragment.jwt","form_post.jwt","jwt"],)"
         R"("registration_endpoint":")" + issuer + R"(/clients-registrations/openid-connect",)"
         R"("token_endpoint_auth_methods_supported":["private_key_jwt","client_secret_basic","client_secret_post",)"
         R"("tls_client_auth","client_secret_jwt"],"token_endpoint_auth_signing_alg_values_supported":["PS384",)"
         R"("RS384","ES256","RS256"],"introspection_endpoint_auth_methods_supported":["private_key_jwt",)"
         R"("client_secret_basic","client_secret_post","tls_client_auth","client_secret_jwt"],)"
         R"("claims_supported":["aud","sub","iss","auth_time","name","given_name","family_name",)"
         R"("preferred_username","email","acr"],"claim_types_supported":["normal"],"claims_parameter_supported":true,)"
         R"("scopes_supported":["openid","profile","email","offline_access","roles","web-origins"],)"
         R"("request_parameter_supported":true,"request_uri_parameter_supported":true,)"
         R"("require_request_uri_registration":true,"code_challenge_methods_supported":["plain","S256"],)"
         R"("tls_client_certificate_bound_access_tokens":true,"revocation_endpoint":")" + p +
         R"(/revoke","revocation_endpoint_auth_methods_supported":["private_key_jwt","client_secret_basic"],)"
         R"("backchannel_logout_supported":true,"backchannel_logout_session_supported":true,)"
         R"("device_authorization_endpoint":")" + p + R"(/auth/device","backchannel_token_delivery_modes_supported":)"
         R"(["poll","ping"],"require_pushed_authorization_requests":false,"pushed_authorization_request_endpoint":")" +
         p + R"(/ext/par/request","mtls_endpoint_aliases":{"token_endpoint":")" + p +
         R"(/token"},"authorization_response_iss_parameter_supported":true})";
}

// SimpleIdServer's document (its shape: a root issuer, lists of capabilities, a few extra members).
const std::string sid_issuer = "https://localhost:5001";
std::string simpleidserver_document() {
  const std::string i = sid_issuer;
  return R"({"issuer":")" + i + R"(","authorization_endpoint":")" + i + R"(/authorization","token_endpoint":")" + i +
         R"(/token","userinfo_endpoint":")" + i + R"(/userinfo","jwks_uri":")" + i + R"(/jwks",)"
         R"("registration_endpoint":")" + i + R"(/register","revocation_endpoint":")" + i + R"(/token/revoke",)"
         R"("introspection_endpoint":")" + i + R"(/token_info","end_session_endpoint":")" + i + R"(/end_session",)"
         R"("scopes_supported":["openid","profile","email","address","phone","offline_access"],)"
         R"("response_types_supported":["code","id_token","token","code id_token","code token","code id_token token"],)"
         R"("grant_types_supported":["client_credentials","password","refresh_token","authorization_code",)"
         R"("urn:ietf:params:oauth:grant-type:device_code"],"token_endpoint_auth_methods_supported":)"
         R"(["client_secret_post","client_secret_basic","client_secret_jwt","private_key_jwt","tls_client_auth"],)"
         R"("subject_types_supported":["public","pairwise"],"id_token_signing_alg_values_supported":["RS256","ES256"],)"
         R"("code_challenge_methods_supported":["plain","S256"],"claims_parameter_supported":true,)"
         R"("request_parameter_supported":true,"request_uri_parameter_supported":true,)"
         R"("backchannel_authentication_endpoint":")" + i + R"(/bc-authorize","device_authorization_endpoint":")" + i +
         R"(/device_authorization","mtls_endpoint_aliases":{}})";
}

HttpResponse response(std::string body, int status = 200, std::string content_type = "application/json") {
  HttpResponse r;
  r.status = status;
  if (!content_type.empty()) r.headers.set("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

ProviderMetadata parse(const std::string& body, const std::string& issuer = keycloak_issuer,
                       const DiscoveryOptions& options = {}) {
  return oidc::parse_provider_metadata(response(body), issuer, options);
}

Error parse_error(const std::string& body, const std::string& issuer = keycloak_issuer,
                  const DiscoveryOptions& options = {}) {
  return error_of([&] { (void)parse(body, issuer, options); });
}

// A document with one member replaced (or added), the rest valid.
std::string with(const std::string& member, const std::string& json_value) {
  auto doc = nlohmann::json::parse(keycloak_document());
  doc[member] = nlohmann::json::parse(json_value);
  return doc.dump();
}

TEST(ParseProviderMetadata, KeycloakDocument) {
  const auto m = parse(keycloak_document());
  const std::string p = keycloak_issuer + "/protocol/openid-connect";
  EXPECT_EQ(m.issuer, keycloak_issuer);
  EXPECT_EQ(m.authorization_endpoint, p + "/auth");
  EXPECT_EQ(m.token_endpoint, p + "/token");
  EXPECT_EQ(m.device_authorization_endpoint, p + "/auth/device");
  EXPECT_EQ(m.userinfo_endpoint, p + "/userinfo");
  EXPECT_EQ(m.revocation_endpoint, p + "/revoke");
  EXPECT_EQ(m.introspection_endpoint, p + "/token/introspect");
  EXPECT_EQ(m.jwks_uri, p + "/certs");
  EXPECT_EQ(m.pushed_authorization_request_endpoint, p + "/ext/par/request");
  EXPECT_EQ(m.end_session_endpoint, p + "/logout");
  EXPECT_FALSE(m.require_pushed_authorization_requests);
  EXPECT_TRUE(m.authorization_response_iss_parameter_supported);
  EXPECT_EQ(m.grant_types_supported.size(), 7u);
  EXPECT_EQ(m.response_types_supported.size(), 8u);
  EXPECT_EQ(m.scopes_supported.front(), "openid");
  EXPECT_EQ(m.token_endpoint_auth_methods_supported.size(), 5u);
  EXPECT_EQ(m.token_endpoint_auth_signing_alg_values_supported.size(), 4u);
  EXPECT_EQ(m.code_challenge_methods_supported, (std::vector<std::string>{"plain", "S256"}));
  EXPECT_EQ(m.id_token_signing_alg_values_supported.size(), 13u);
  EXPECT_EQ(m.userinfo_signing_alg_values_supported.back(), "none");
  EXPECT_EQ(m.subject_types_supported, (std::vector<std::string>{"public", "pairwise"}));
  EXPECT_EQ(m.response_modes_supported.size(), 7u);
  EXPECT_EQ(m.claims_supported.size(), 10u);
  EXPECT_EQ(m.introspection_endpoint_auth_methods_supported.size(), 5u);
  EXPECT_EQ(m.revocation_endpoint_auth_methods_supported.size(), 2u);
  EXPECT_EQ(m.raw.at("check_session_iframe"), p + "/login-status-iframe.html");  // unknown: kept, not typed
}

TEST(ParseProviderMetadata, SimpleIdServerDocumentOnLoopbackHttps) {
  const auto m = parse(simpleidserver_document(), sid_issuer);
  EXPECT_EQ(m.token_endpoint, sid_issuer + "/token");
  EXPECT_EQ(m.introspection_endpoint, sid_issuer + "/token_info");
  EXPECT_EQ(m.device_authorization_endpoint, sid_issuer + "/device_authorization");
  EXPECT_TRUE(m.pushed_authorization_request_endpoint.empty());
  EXPECT_FALSE(m.authorization_response_iss_parameter_supported);
  EXPECT_EQ(m.id_token_signing_alg_values_supported, (std::vector<std::string>{"RS256", "ES256"}));
}

TEST(ParseProviderMetadata, ContentTypeWithParametersAccepted) {
  EXPECT_NO_THROW((void)oidc::parse_provider_metadata(
      response(keycloak_document(), 200, "Application/JSON ; charset=UTF-8"), keycloak_issuer, {}));
}

TEST(ParseProviderMetadata, IssuerMismatch) {
  for (const std::string& configured : std::vector<std::string>{
           keycloak_issuer + "/", "https://SSO.example.com/realms/core", "https://sso.example.com/realms/Core",
        "https://evil.example.com/realms/core", "https://sso.example.com:443/realms/core",
        "https://sso.example.com/realms/cor"}) {
    const auto e = parse_error(keycloak_document(), configured);
    EXPECT_EQ(e.code(), errc::issuer_mismatch) << configured;
    EXPECT_NE(std::string(e.what()).find(configured), std::string::npos);  // both quoted
    EXPECT_NE(std::string(e.what()).find(keycloak_issuer + "\""), std::string::npos);
  }
  // The document's issuer with a trailing slash, the configured one without.
  EXPECT_EQ(parse_error(keycloak_document(keycloak_issuer + "/")).code(), errc::issuer_mismatch);
}

TEST(ParseProviderMetadata, IssuerInMessageIsEscaped) {
  const auto e = parse_error(with("issuer", R"("https://evil.example.com/\u001b[2J\r\nX: y")"));
  EXPECT_EQ(e.code(), errc::issuer_mismatch);
  const std::string what = e.what();
  EXPECT_EQ(what.find('\x1b'), std::string::npos);
  EXPECT_EQ(what.find('\r'), std::string::npos);
  EXPECT_NE(what.find("\\x1b"), std::string::npos);
}

TEST(ParseProviderMetadata, MissingOrNonStringIssuer) {
  auto doc = nlohmann::json::parse(keycloak_document());
  doc.erase("issuer");
  EXPECT_EQ(parse_error(doc.dump()).code(), errc::parse);
  EXPECT_EQ(parse_error(with("issuer", "42")).code(), errc::parse);
}

TEST(ParseProviderMetadata, HttpEndpointOnNonLoopbackRefused) {
  const auto e = parse_error(with("token_endpoint", R"("http://sso.example.com/token")"));
  EXPECT_EQ(e.code(), errc::insecure_url);
  EXPECT_NE(std::string(e.what()).find("token_endpoint"), std::string::npos);
  DiscoveryOptions allow;
  allow.allow_insecure_http = true;
  EXPECT_EQ(parse(with("token_endpoint", R"("http://sso.example.com/token")"), keycloak_issuer, allow).token_endpoint,
            "http://sso.example.com/token");
  EXPECT_EQ(parse(with("token_endpoint", R"("http://127.0.0.1:8080/token")")).token_endpoint,
            "http://127.0.0.1:8080/token");
}

TEST(ParseProviderMetadata, BadEndpointUrls) {
  for (const std::string& v : std::vector<std::string>{
           R"("https://sso.example.com/token#frag")", R"("https://sso.example.com/to\u0000ken")",
        R"("https://sso.example.com/\u001b[2Jtoken")", R"("https://sso.example.com/tok en")",
        R"("ftp://sso.example.com/token")", R"("/relative/token")", R"("")", R"("https://%61uth.example.com/")",
        R"("https://sso.example.com/\u00e9")", "\"https://sso.example.com/" + std::string(3000, 'a') + "\""}) {
    const auto e = parse_error(with("jwks_uri", v));
    EXPECT_EQ(e.code(), errc::parse) << v;
    EXPECT_NE(std::string(e.what()).find("jwks_uri"), std::string::npos) << v;
    EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos);
  }
}

TEST(ParseProviderMetadata, WrongMemberTypes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"token_endpoint", "42"},
      {"authorization_endpoint", R"(["https://sso.example.com/auth"])"},
      {"userinfo_endpoint", "true"},
      {"grant_types_supported", R"("authorization_code")"},
      {"scopes_supported", R"(["openid", 3])"},
      {"response_types_supported", R"({"code":true})"},
      {"claims_supported", R"([["sub"]])"},
      {"code_challenge_methods_supported", R"(["S256", ""])"},
      {"id_token_signing_alg_values_supported", R"(["RS256\u001b[2J"])"},
      {"require_pushed_authorization_requests", R"("false")"},
      {"authorization_response_iss_parameter_supported", "1"},
      {"require_pushed_authorization_requests", "null"},
  };
  for (const auto& [member, value] : cases) {
    const auto e = parse_error(with(member, value));
    EXPECT_EQ(e.code(), errc::parse) << member << " = " << value;
    EXPECT_NE(std::string(e.what()).find(member), std::string::npos) << e.what();
  }
}

TEST(ParseProviderMetadata, OverLongListRefused) {
  std::string list = "[";
  for (std::size_t i = 0; i <= oidc::detail::metadata_list_max_entries; ++i) list += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  list += "]";
  EXPECT_EQ(parse_error(with("scopes_supported", list)).code(), errc::parse);
  EXPECT_EQ(parse_error(with("scopes_supported", "[\"" + std::string(300, 'x') + "\"]")).code(), errc::parse);
}

TEST(ParseProviderMetadata, UnknownMembersIgnoredNullEndpointsAbsent) {
  const auto m = parse(with("x_vendor", R"({"deep":[1,2,{"a":null}]})"));
  EXPECT_EQ(m.raw.at("x_vendor").at("deep").size(), 3u);
  EXPECT_TRUE(parse(with("userinfo_endpoint", "null")).userinfo_endpoint.empty());
}

TEST(ParseProviderMetadata, OpenIdRequiredMembers) {
  for (const char* member :
       {"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"}) {
    auto doc = nlohmann::json::parse(keycloak_document());
    doc.erase(member);
    const auto e = parse_error(doc.dump());
    EXPECT_EQ(e.code(), errc::parse) << member;
    EXPECT_NE(std::string(e.what()).find(member), std::string::npos);
    DiscoveryOptions oauth;  // what discover() uses for an RFC 8414 document
    oauth.require_openid_metadata = false;
    EXPECT_NO_THROW((void)parse(doc.dump(), keycloak_issuer, oauth)) << member;
  }
}

TEST(ParseProviderMetadata, ResponseChecks) {
  using oidc::parse_provider_metadata;
  EXPECT_EQ(error_of([&] { (void)parse_provider_metadata(response(keycloak_document(), 200, "text/html"), keycloak_issuer, {}); }).code(),
            errc::parse);
  EXPECT_EQ(error_of([&] { (void)parse_provider_metadata(response(keycloak_document(), 200, ""), keycloak_issuer, {}); }).code(),
            errc::parse);
  EXPECT_EQ(error_of([&] { (void)parse_provider_metadata(response(keycloak_document(), 200, "application/jsonp"), keycloak_issuer, {}); }).code(),
            errc::parse);
  const auto e = error_of([&] { (void)parse_provider_metadata(response(R"({"error":"nope"})", 500), keycloak_issuer, {}); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 500);
  const auto redirect = error_of([&] { (void)parse_provider_metadata(response("", 302, ""), keycloak_issuer, {}); });
  EXPECT_EQ(redirect.code(), errc::http_status);
  EXPECT_NE(std::string(redirect.what()).find("redirects are not followed"), std::string::npos);
  EXPECT_EQ(error_of([&] { (void)parse_provider_metadata(response("[1,2]"), keycloak_issuer, {}); }).code(), errc::parse);
  EXPECT_EQ(error_of([&] { (void)parse_provider_metadata(response("{\"issuer\":1,"), keycloak_issuer, {}); }).code(), errc::parse);
  EXPECT_EQ(error_of([&] {
              (void)parse_provider_metadata(response(R"({"issuer":"a","issuer":")" + keycloak_issuer + "\"}"),
                                            keycloak_issuer, {});
            }).code(),
            errc::parse);  // duplicate member
}

TEST(ParseProviderMetadata, DeepNestingAndHugeDocument) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(parse_error(with("x", "1").substr(0, with("x", "1").size() - 1) + ",\"y\":" + deep + "}").code(), errc::parse);
  const std::string huge = with("x_padding", "\"" + std::string(600 * 1024, 'a') + "\"");
  const auto e = parse_error(huge);
  EXPECT_EQ(e.code(), errc::response_too_large);
  DiscoveryOptions roomy;
  roomy.max_document_bytes = 1024 * 1024;
  EXPECT_NO_THROW((void)parse(huge, keycloak_issuer, roomy));
}

TEST(IssuerPolicy, TemplatedTenantOptIn) {
  const std::string doc_issuer = "https://login.microsoftonline.com/{tenantid}/v2.0";
  const auto policy = IssuerPolicy::templated("{tenantid}");
  EXPECT_TRUE(policy.matches(doc_issuer, "https://login.microsoftonline.com/common/v2.0"));
  EXPECT_TRUE(policy.matches(doc_issuer, "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"));
  EXPECT_TRUE(policy.matches("https://a.example/x", "https://a.example/x"));  // exact still works
  EXPECT_FALSE(policy.matches(doc_issuer, "https://login.microsoftonline.com/a/b/v2.0"));   // two segments
  EXPECT_FALSE(policy.matches(doc_issuer, "https://login.microsoftonline.com//v2.0"));      // empty segment
  EXPECT_FALSE(policy.matches(doc_issuer, "https://login.microsoftonline.com/t%2F/v2.0"));  // odd bytes
  EXPECT_FALSE(policy.matches(doc_issuer, "https://login.evil.com/common/v2.0"));
  EXPECT_FALSE(policy.matches(doc_issuer, "https://login.microsoftonline.com/common/v2.0/"));
  EXPECT_FALSE(policy.matches("https://{tenantid}/v2.0", "https://evil.com/v2.0"));  // not in the host
  EXPECT_FALSE(policy.matches("https://h/{tenantid}x/v2.0", "https://h/ax/v2.0"));  // not a whole segment
  EXPECT_FALSE(policy.matches("https://h/{tenantid}/{tenantid}", "https://h/a/a"));  // twice
  // The default never accepts a template.
  EXPECT_FALSE(IssuerPolicy{}.matches(doc_issuer, "https://login.microsoftonline.com/common/v2.0"));
  EXPECT_EQ(error_of([] { (void)IssuerPolicy::templated("tenantid"); }).code(), errc::config);
  EXPECT_EQ(error_of([] { (void)IssuerPolicy::templated("{}"); }).code(), errc::config);
}

TEST(IssuerPolicy, TemplatedDocumentParses) {
  auto doc = nlohmann::json::parse(keycloak_document());
  doc["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0";
  const std::string configured = "https://login.microsoftonline.com/organizations/v2.0";
  EXPECT_EQ(parse_error(doc.dump(), configured).code(), errc::issuer_mismatch);
  DiscoveryOptions entra;
  entra.issuer_policy = IssuerPolicy::templated("{tenantid}");
  EXPECT_EQ(parse(doc.dump(), configured, entra).issuer, "https://login.microsoftonline.com/{tenantid}/v2.0");
}

TEST(ApplyMetadata, FillsOnlyWhatIsUnset) {
  const auto m = parse(keycloak_document());
  oidc::Endpoints e;
  e.token_endpoint = "https://proxy.example.com/token";
  e.scopes_supported = {"mine"};
  oidc::apply_metadata(m, e);
  EXPECT_EQ(e.issuer, keycloak_issuer);
  EXPECT_EQ(e.token_endpoint, "https://proxy.example.com/token");  // hand-set wins
  EXPECT_EQ(e.authorization_endpoint, m.authorization_endpoint);
  EXPECT_EQ(e.device_authorization_endpoint, m.device_authorization_endpoint);
  EXPECT_EQ(e.userinfo_endpoint, m.userinfo_endpoint);
  EXPECT_EQ(e.revocation_endpoint, m.revocation_endpoint);
  EXPECT_EQ(e.introspection_endpoint, m.introspection_endpoint);
  EXPECT_EQ(e.jwks_uri, m.jwks_uri);
  EXPECT_EQ(e.pushed_authorization_request_endpoint, m.pushed_authorization_request_endpoint);
  EXPECT_EQ(e.end_session_endpoint, m.end_session_endpoint);
  EXPECT_TRUE(e.authorization_response_iss_parameter_supported);
  EXPECT_EQ(e.scopes_supported, std::vector<std::string>{"mine"});
  EXPECT_EQ(e.grant_types_supported, m.grant_types_supported);
  EXPECT_EQ(e.response_types_supported, m.response_types_supported);
  EXPECT_EQ(e.token_endpoint_auth_methods_supported, m.token_endpoint_auth_methods_supported);
  EXPECT_EQ(e.token_endpoint_auth_signing_alg_values_supported, m.token_endpoint_auth_signing_alg_values_supported);
  EXPECT_EQ(e.code_challenge_methods_supported, m.code_challenge_methods_supported);
  EXPECT_EQ(e.id_token_signing_alg_values_supported, m.id_token_signing_alg_values_supported);
  EXPECT_EQ(e.userinfo_signing_alg_values_supported, m.userinfo_signing_alg_values_supported);
  oidc::Endpoints flagged;
  flagged.require_pushed_authorization_requests = true;
  oidc::apply_metadata(m, flagged);
  EXPECT_TRUE(flagged.require_pushed_authorization_requests);  // set by hand, not cleared
}

TEST(ChooseClientAuthMethod, Rules) {
  using oidc::choose_client_auth_method;
  EXPECT_EQ(choose_client_auth_method({}, true), ClientAuthMethod::client_secret_basic);  // RFC 8414 default
  EXPECT_EQ(choose_client_auth_method({"client_secret_post", "client_secret_basic"}, true),
            ClientAuthMethod::client_secret_basic);
  EXPECT_EQ(choose_client_auth_method({"private_key_jwt", "client_secret_post"}, true),
            ClientAuthMethod::client_secret_post);
  EXPECT_EQ(choose_client_auth_method({"private_key_jwt"}, true), std::nullopt);
  EXPECT_EQ(choose_client_auth_method({"client_secret_basic"}, false), ClientAuthMethod::none);
}

// ---- discover() over a scripted transport ----

struct Scripted {
  std::mutex m;
  std::vector<std::string> urls;
  std::function<HttpResponse(const std::string&)> answer;
  std::shared_ptr<oidc::Transport> transport() {
    return oidc::make_transport([this](const HttpRequest& req) {
      std::lock_guard<std::mutex> l(m);
      urls.push_back(req.url);
      EXPECT_EQ(req.method, "GET");
      EXPECT_EQ(req.headers.get("Accept"), std::optional<std::string>("application/json"));
      return answer(req.url);
    });
  }
};

DiscoveryOptions over(Scripted& s) {
  DiscoveryOptions o;
  o.transport = s.transport();
  return o;
}

TEST(Discover, OpenIdConfigurationUrl) {
  Scripted s;
  s.answer = [](const std::string&) { return response(keycloak_document()); };
  EXPECT_EQ(oidc::discover(keycloak_issuer, over(s)).token_endpoint,
            keycloak_issuer + "/protocol/openid-connect/token");
  ASSERT_EQ(s.urls.size(), 1u);
  EXPECT_EQ(s.urls[0], keycloak_issuer + "/.well-known/openid-configuration");
  // A trailing slash: no double slash, and the issuer must then match with its slash.
  s.answer = [](const std::string&) { return response(keycloak_document(keycloak_issuer + "/")); };
  (void)oidc::discover(keycloak_issuer + "/", over(s));
  EXPECT_EQ(s.urls[1], keycloak_issuer + "/.well-known/openid-configuration");
}

TEST(Discover, FallsBackToRfc8414WithPathInsertion) {
  Scripted s;
  auto doc = nlohmann::json::parse(keycloak_document());
  doc.erase("subject_types_supported");  // an OAuth server's document need not have it
  s.answer = [&](const std::string& url) {
    if (url.find("openid-configuration") != std::string::npos) return response("not found", 404, "text/plain");
    return response(doc.dump());
  };
  EXPECT_EQ(oidc::discover(keycloak_issuer, over(s)).issuer, keycloak_issuer);
  ASSERT_EQ(s.urls.size(), 2u);
  EXPECT_EQ(s.urls[1], "https://sso.example.com/.well-known/oauth-authorization-server/realms/core");
  EXPECT_EQ(oidc::detail::oauth_metadata_url("https://sso.example.com"),
            "https://sso.example.com/.well-known/oauth-authorization-server");
  EXPECT_EQ(oidc::detail::oauth_metadata_url("https://sso.example.com/"),
            "https://sso.example.com/.well-known/oauth-authorization-server");
  EXPECT_EQ(oidc::detail::oauth_metadata_url("https://sso.example.com:8443/a/b/"),
            "https://sso.example.com:8443/.well-known/oauth-authorization-server/a/b");
}

TEST(Discover, FallbackOnlyOnAbsentStatuses) {
  for (int status : {405, 410}) {
    Scripted s;
    s.answer = [&](const std::string& url) {
      return url.find("openid-configuration") != std::string::npos ? response("", status, "") : response(keycloak_document());
    };
    EXPECT_NO_THROW((void)oidc::discover(keycloak_issuer, over(s)));
    EXPECT_EQ(s.urls.size(), 2u);
  }
  for (int status : {500, 503, 401, 302}) {
    Scripted s;
    s.answer = [&](const std::string&) { return response("", status, ""); };
    const auto e = error_of([&] { (void)oidc::discover(keycloak_issuer, over(s)); });
    EXPECT_EQ(e.code(), errc::http_status);
    EXPECT_EQ(e.http_status(), status);
    EXPECT_EQ(s.urls.size(), 1u) << status;
  }
  Scripted html;  // a 200 that is not JSON is an error, not a reason to look elsewhere
  html.answer = [](const std::string&) { return response("<html></html>", 200, "text/html"); };
  EXPECT_EQ(error_of([&] { (void)oidc::discover(keycloak_issuer, over(html)); }).code(), errc::parse);
  EXPECT_EQ(html.urls.size(), 1u);
}

TEST(Discover, BothLocationsAbsent) {
  Scripted s;
  s.answer = [](const std::string&) { return response("", 404, ""); };
  const auto e = error_of([&] { (void)oidc::discover(keycloak_issuer, over(s)); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 404);
  EXPECT_NE(std::string(e.what()).find("RFC 8414"), std::string::npos);
  EXPECT_EQ(s.urls.size(), 2u);
}

TEST(Discover, IssuerUrlChecked) {
  Scripted s;
  s.answer = [](const std::string&) { return response(keycloak_document()); };
  EXPECT_EQ(error_of([&] { (void)oidc::discover("http://sso.example.com/realms/core", over(s)); }).code(),
            errc::insecure_url);
  EXPECT_EQ(error_of([&] { (void)oidc::discover(keycloak_issuer + "?x=1", over(s)); }).code(), errc::config);
  EXPECT_EQ(error_of([&] { (void)oidc::discover(keycloak_issuer + "#f", over(s)); }).code(), errc::config);
  EXPECT_EQ(error_of([&] { (void)oidc::discover("sso.example.com", over(s)); }).code(), errc::config);
  EXPECT_TRUE(s.urls.empty());
}

TEST(Discover, TransportErrorNamesDiscovery) {
  DiscoveryOptions o;
  o.transport = oidc::make_transport([](const HttpRequest&) -> HttpResponse { throw Error(errc::timeout, "HTTP", "slow"); });
  const auto e = error_of([&] { (void)oidc::discover(keycloak_issuer, o); });
  EXPECT_EQ(e.code(), errc::timeout);
  EXPECT_EQ(e.operation(), "discovery");
}

// ---- DiscoveryCache ----

TEST(DiscoveryCache, SharesPerIssuerAndRefetchesAfterLifetime) {
  Scripted s;
  std::string cache_control;
  s.answer = [&](const std::string& url) {
    auto r = response(url.find("sso.example.com") != std::string::npos ? keycloak_document() : simpleidserver_document());
    if (!cache_control.empty()) r.headers.set("Cache-Control", cache_control);
    return r;
  };
  auto clock = std::make_shared<FakeClock>();
  auto o = over(s);
  o.clock = clock;
  oidc::DiscoveryCache cache(o);
  const auto a = cache.get(keycloak_issuer);
  EXPECT_EQ(cache.get(keycloak_issuer), a);
  EXPECT_EQ(cache.get(sid_issuer)->issuer, sid_issuer);
  EXPECT_EQ(cache.fetches(), 2u);
  clock->advance(24h);
  EXPECT_NE(cache.get(keycloak_issuer), a);
  EXPECT_EQ(cache.fetches(), 3u);
  cache_control = "max-age=60";  // shorter than 24 h, bounded below by 5 min
  clock->advance(24h);
  (void)cache.get(keycloak_issuer);
  clock->advance(299s);
  (void)cache.get(keycloak_issuer);
  EXPECT_EQ(cache.fetches(), 4u);
  clock->advance(1s);
  (void)cache.get(keycloak_issuer);
  EXPECT_EQ(cache.fetches(), 5u);
}

TEST(DiscoveryCache, FailedRefetchServesPreviousUntilHardLimit) {
  Scripted s;
  bool down = false;
  s.answer = [&](const std::string&) { return down ? response("", 503, "") : response(keycloak_document()); };
  auto clock = std::make_shared<FakeClock>();
  auto o = over(s);
  o.clock = clock;
  oidc::DiscoveryCacheOptions c;
  c.backoff_jitter = 0;
  oidc::DiscoveryCache cache(o, c);
  const auto a = cache.get(keycloak_issuer);
  down = true;
  clock->advance(24h);
  EXPECT_EQ(cache.get(keycloak_issuer), a);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(cache.get(keycloak_issuer), a);
  EXPECT_EQ(s.urls.size(), 2u);  // backing off
  clock->advance(24h * 6);
  EXPECT_EQ(cache.get(keycloak_issuer), a);  // 7 days old: still served
  clock->advance(1s);
  EXPECT_EQ(error_of([&] { (void)cache.get(keycloak_issuer); }).code(), errc::http_status);
}

}  // namespace
