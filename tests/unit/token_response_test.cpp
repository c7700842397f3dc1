#include "oidc/token_response.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_transport.hpp"
#include "oidc/detail/base64.hpp"

using namespace std::chrono_literals;
using oidc::errc;
using oidc::Error;
using oidc::HttpResponse;
using oidc::parse_token_response;
using oidc::Token;
using oidc_testing::json_response;

namespace {
const Token::time_point t0{std::chrono::seconds{1'700'000'000}};

Error parse_error(const HttpResponse& r, const std::vector<std::string_view>& secrets = {}) {
  try {
    (void)parse_token_response(r, t0, "token request (grant_type=password)", secrets);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected parse_token_response to throw";
  return Error(errc::transport, "", "");
}
}  // namespace

TEST(TokenResponse, KeycloakDeviceResponseOfSeed000) {
  const auto t = parse_token_response(json_response(200, R"({
    "access_token": "eyJ.access", "expires_in": 86375, "refresh_expires_in": 1775,
    "refresh_token": "eyJ.refresh", "token_type": "Bearer", "not-before-policy": 0,
    "session_state": "95535beb-dff0-4fd0-a91c-7bb7a1b826ae", "scope": ""})"),
                                      t0);
  EXPECT_EQ(t.access_token.expose(), "eyJ.access");
  EXPECT_EQ(t.type(), "Bearer");
  ASSERT_TRUE(t.expiry);
  EXPECT_EQ(*t.expiry, t0 + 86375s);
  EXPECT_EQ(t.refresh_token.expose(), "eyJ.refresh");
  ASSERT_TRUE(t.refresh_expiry);
  EXPECT_EQ(*t.refresh_expiry, t0 + 1775s);
  EXPECT_EQ(t.scope, "");
  EXPECT_EQ(t.received_at, t0);
  EXPECT_EQ(t.extra.at("session_state"), "95535beb-dff0-4fd0-a91c-7bb7a1b826ae");
  EXPECT_EQ(t.extra.at("not-before-policy"), 0);
  EXPECT_FALSE(t.extra.contains("access_token"));
  EXPECT_FALSE(t.extra.contains("refresh_token"));
}

TEST(TokenResponse, LowercaseBearerOfSeed003IsNormalised) {
  const auto t = parse_token_response(
      json_response(200, R"({"access_token":"eyJhb","expires_in":300,"token_type":"bearer","scope":"email profile"})"),
      t0);
  EXPECT_EQ(t.token_type, "bearer");
  EXPECT_EQ(t.type(), "Bearer");
  EXPECT_EQ(t.authorization_header(), "Bearer eyJhb");
  EXPECT_EQ(t.scope, "email profile");
}

TEST(TokenResponse, ExpiresInAsNumericString) {
  const auto t = parse_token_response(json_response(200, R"({"access_token":"a","expires_in":"3600"})"), t0);
  ASSERT_TRUE(t.expiry);
  EXPECT_EQ(*t.expiry, t0 + 3600s);
}

TEST(TokenResponse, UnusableExpiresInFallsBackToJwtExp) {
  const std::string payload = oidc::detail::base64url_encode(R"({"sub":"x","exp":1700000500})");
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9." + payload + ".sig";
  for (const char* expires_in : {"", R"(,"expires_in":"soon")", R"(,"expires_in":0)", R"(,"expires_in":-5)"}) {
    const auto t =
        parse_token_response(json_response(200, R"({"access_token":")" + jwt + "\"" + expires_in + "}"), t0);
    ASSERT_TRUE(t.expiry) << expires_in;
    EXPECT_EQ(*t.expiry, Token::time_point{std::chrono::seconds{1700000500}}) << expires_in;
  }
}

TEST(TokenResponse, NoLifetimeAtAllLeavesExpiryUnknown) {
  const auto t = parse_token_response(json_response(200, R"({"access_token":"opaque","token_type":"Bearer"})"), t0);
  EXPECT_FALSE(t.expiry);
  EXPECT_FALSE(t.expired(t0 + 24h));
}

TEST(TokenResponse, HugeExpiresInIsClamped) {
  const auto t =
      parse_token_response(json_response(200, R"({"access_token":"a","expires_in":99999999999999})"), t0);
  ASSERT_TRUE(t.expiry);
  EXPECT_LE(*t.expiry, t0 + std::chrono::hours(24 * 366 * 10));
}

TEST(TokenResponse, ScopeAsArrayIsJoined) {
  const auto t = parse_token_response(json_response(200, R"({"access_token":"a","scope":["openid","profile"]})"), t0);
  EXPECT_EQ(t.scope, "openid profile");
}

TEST(TokenResponse, FormEncodedBodyIsAccepted) {
  HttpResponse r;
  r.status = 200;
  r.headers.set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  r.body = "access_token=abc&token_type=bearer&expires_in=60&scope=a+b";
  const auto t = parse_token_response(r, t0);
  EXPECT_EQ(t.access_token.expose(), "abc");
  EXPECT_EQ(*t.expiry, t0 + 60s);
  EXPECT_EQ(t.scope, "a b");
}

TEST(TokenResponse, OAuthErrorBodyBecomesTypedError) {
  const auto e = parse_error(json_response(
      401, R"({"error":"invalid_client","error_description":"Invalid client credentials","error_uri":"https://e/x"})"));
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.http_status(), 401);
  ASSERT_TRUE(e.oauth());
  EXPECT_EQ(e.oauth()->error, "invalid_client");
  EXPECT_EQ(e.oauth()->error_description, "Invalid client credentials");
  EXPECT_EQ(e.oauth()->error_uri, "https://e/x");
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_STREQ(e.what(),
               "token request (grant_type=password): invalid_client: Invalid client credentials (see https://e/x) "
               "(HTTP 401)");
}

TEST(TokenResponse, ErrorInsideA200IsStillAnError) {
  const auto e = parse_error(json_response(200, R"({"error":"invalid_grant"})"));
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_grant");
}

TEST(TokenResponse, HtmlErrorPageGivesStatusAndShortSnippet) {
  HttpResponse r;
  r.status = 500;
  r.headers.set("Content-Type", "text/html");
  r.body = "<html><body><h1>Internal Server Error</h1>\n<p>" + std::string(5000, 'x') + "</p></body></html>";
  const auto e = parse_error(r);
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 500);
  EXPECT_FALSE(e.oauth());
  EXPECT_NE(e.body_snippet().find("Internal Server Error"), std::string::npos);
  EXPECT_LE(e.body_snippet().size(), 203u);
}

TEST(TokenResponse, EmptyAndTruncatedBodiesAreParseErrors) {
  auto e = parse_error(json_response(200, ""));
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_EQ(e.body_snippet(), "(empty)");
  e = parse_error(json_response(200, R"({"access_token":"abc","expires_in":3)"));
  EXPECT_EQ(e.code(), errc::parse);
  e = parse_error(json_response(200, R"({"token_type":"Bearer"})"));
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(std::string(e.what()).find("no access_token"), std::string::npos);
}

TEST(TokenResponse, WrongContentTypeIsAParseError) {
  HttpResponse r;
  r.status = 200;
  r.headers.set("Content-Type", "text/html; charset=utf-8");
  r.body = "<html>login page</html>";
  const auto e = parse_error(r);
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(std::string(e.what()).find("text/html"), std::string::npos);
}

TEST(TokenResponse, ErrorSnippetsNeverContainTokensOrSentSecrets) {
  // A misbehaving server that echoes everything back in an error page.
  HttpResponse r;
  r.status = 502;
  r.body = "<p>bad gateway for client_secret=s3cr3t-value password=pa55 token "
           "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl</p>";
  const auto e = parse_error(r, {"s3cr3t-value", "pa55"});
  const std::string what = e.what();
  EXPECT_EQ(what.find("s3cr3t-value"), std::string::npos) << what;
  EXPECT_EQ(what.find("pa55"), std::string::npos) << what;
  EXPECT_EQ(what.find("eyJhbGciOiJSUzI1NiJ9"), std::string::npos) << what;
  EXPECT_NE(what.find("bad gateway"), std::string::npos) << what;

  // A JSON body without "error" but with a token in it (wrong status).
  const auto e2 = parse_error(json_response(503, R"({"access_token":"tok-123","msg":"maintenance"})"));
  EXPECT_EQ(std::string(e2.what()).find("tok-123"), std::string::npos) << e2.what();
  EXPECT_NE(std::string(e2.what()).find("maintenance"), std::string::npos) << e2.what();
}

TEST(TokenResponse, SentSecretsEchoedInErrorDescriptionAreMasked) {
  const auto e = parse_error(
      json_response(400, R"({"error":"invalid_grant","error_description":"unknown refresh token rt-42 for client","error_uri":"https://e/?t=rt-42"})"),
      {"rt-42"});
  ASSERT_TRUE(e.oauth());
  EXPECT_EQ(e.oauth()->error_description, "unknown refresh token [redacted] for client");
  EXPECT_EQ(e.oauth()->error_uri, "https://e/?t=[redacted]");
  EXPECT_EQ(std::string(e.what()).find("rt-42"), std::string::npos);
}

// ---- Validation of what the server sent ---------------------------------------------------------

namespace {

Error parse_error_with(const std::string& body, const oidc::TokenResponseRules& rules = {}) {
  try {
    (void)parse_token_response(json_response(200, body), t0, "token request", {}, rules);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected parse_token_response to throw for " << body;
  return Error(errc::transport, "", "");
}

std::string jwt_exp(const std::string& exp) {
  return "eyJhbGciOiJSUzI1NiJ9." + oidc::detail::base64url_encode(R"({"sub":"x","exp":)" + exp + "}") + ".sig";
}

std::string deep_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 1; i < depth; ++i) s += "{\"a\":";
  return s + "{}" + std::string(depth - 1, '}');
}

}  // namespace

TEST(TokenResponse, AccessTokenOutsideB64TokenIsRefusedWithoutQuotingIt) {
  // JSON escapes for CR LF, NUL, and a space or comma that would split the Authorization header.
  for (const char* bad : {R"(s3cr3t\r\nX-Injected: 1)", R"(s3cr3t\u0000en)", "s3cr3t en", "s3cr3t,en", "s3cr3t\\ten",
                          "<s3cr3t>", "=s3cr3t"}) {
    const auto e = parse_error_with(std::string(R"({"token_type":"Bearer","access_token":")") + bad + "\"}");
    EXPECT_EQ(e.code(), errc::parse) << bad;
    EXPECT_NE(e.detail().find("access_token is not an RFC 6750 b64token"), std::string::npos) << e.detail();
    EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
  }
  // The same rule holds when token_type is absent (taken as Bearer) and for a form body.
  EXPECT_EQ(parse_error_with(R"({"access_token":"a b"})").code(), errc::parse);
  HttpResponse r;
  r.status = 200;
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  r.body = "access_token=a%0D%0Ab&token_type=bearer";
  EXPECT_EQ(parse_error(r).code(), errc::parse);
}

TEST(TokenResponse, TokenTypeMustBeAStringToken) {
  for (const char* type : {"1", "true", "{}", R"("")", R"("Bearer x")", R"("Bearer\r\n")"}) {
    const auto e = parse_error_with(std::string(R"({"access_token":"a","token_type":)") + type + "}");
    EXPECT_EQ(e.code(), errc::parse) << type;
    EXPECT_NE(e.detail().find("token_type"), std::string::npos) << e.detail();
  }
  // Absent or null keeps the documented lenience: Bearer.
  EXPECT_EQ(parse_token_response(json_response(200, R"({"access_token":"a","token_type":null})"), t0).type(), "Bearer");
}

TEST(TokenResponse, TypesOutsideTheAcceptedSetAreUnsupported) {
  const auto e = parse_error_with(R"({"access_token":"a","token_type":"mac"})");
  EXPECT_EQ(e.code(), errc::unsupported_token_type);
  EXPECT_NE(e.detail().find("accepted types (Bearer)"), std::string::npos) << e.detail();
  EXPECT_EQ(parse_error_with(R"({"access_token":"a","token_type":"N_A"})").code(), errc::unsupported_token_type);

  // Allowed when configured; compared case-insensitively. A MAC token only needs VSCHAR.
  const oidc::TokenResponseRules rules{{"Bearer", "MAC"}};
  const auto t = parse_token_response(json_response(200, R"({"access_token":"mac key id","token_type":"mac"})"), t0,
                                      "token request", {}, rules);
  EXPECT_EQ(t.type(), "MAC");
  EXPECT_EQ(t.access_token.expose(), "mac key id");
  EXPECT_EQ(parse_error_with(R"({"access_token":"a\nb","token_type":"mac"})", rules).code(), errc::parse);
  // A set without Bearer also refuses a response that names no type (taken as Bearer).
  EXPECT_EQ(parse_error_with(R"({"access_token":"a"})", oidc::TokenResponseRules{{"DPoP"}}).code(),
            errc::unsupported_token_type);
  EXPECT_EQ(parse_token_response(json_response(200, R"({"access_token":"a","token_type":"dpop"})"), t0, "token request",
                                 {}, oidc::TokenResponseRules{{"DPoP"}})
                .type(),
            "DPoP");
}

TEST(TokenResponse, ExpiresInEdgeCasesHaveDefinedResults) {
  const auto ten_years = std::chrono::seconds{10LL * 365 * 24 * 3600};
  auto expiry = [](const std::string& expires_in) {
    return parse_token_response(json_response(200, R"({"access_token":"a","expires_in":)" + expires_in + "}"), t0)
        .expiry;
  };
  EXPECT_EQ(expiry("18446744073709551616"), t0 + ten_years);  // 2^64
  EXPECT_EQ(expiry("1e20"), t0 + ten_years);
  EXPECT_EQ(expiry("3600.7"), t0 + 3600s);
  EXPECT_EQ(expiry(R"("3600")"), t0 + 3600s);
  EXPECT_EQ(expiry("-1"), std::nullopt);
  EXPECT_EQ(expiry("0"), std::nullopt);
  EXPECT_EQ(expiry(R"("abc")"), std::nullopt);
  // 1e309 does not fit a double: the document itself is refused.
  const auto e = parse_error_with(R"({"access_token":"a","expires_in":1e309})");
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(e.detail().find("out of range"), std::string::npos) << e.detail();
  // refresh_expires_in follows the same rules.
  const auto t = parse_token_response(
      json_response(200, R"({"access_token":"a","refresh_token":"r","refresh_expires_in":18446744073709551616})"), t0);
  EXPECT_EQ(t.refresh_expiry, t0 + ten_years);
}

TEST(TokenResponse, JwtExpIsUsedOnlyWhenPlausible) {
  auto expiry = [](const std::string& exp) {
    return parse_token_response(json_response(200, R"({"access_token":")" + jwt_exp(exp) + "\"}"), t0).expiry;
  };
  EXPECT_EQ(expiry("1700000500.5"), t0 + 500s);  // float: floored
  EXPECT_EQ(expiry("10000000000"), std::nullopt);  // 2286: past what a time_point holds (2262)
  EXPECT_EQ(expiry("99999999999999999999"), std::nullopt);
  EXPECT_EQ(expiry("-5"), std::nullopt);
  EXPECT_EQ(expiry("1600000000"), std::nullopt);  // in the past: no renewal storm
}

TEST(TokenResponse, OtherStringMembersAreValidated) {
  auto code_of = [](const std::string& members) {
    return parse_error_with(R"({"access_token":"a",)" + members + "}").code();
  };
  EXPECT_EQ(code_of(R"("refresh_token":"r\r\nx")"), errc::parse);
  EXPECT_EQ(code_of(R"("refresh_token":5)"), errc::parse);
  EXPECT_EQ(code_of(R"("id_token":"eyJ a.b.c")"), errc::parse);
  EXPECT_EQ(code_of(R"("scope":"openid \"x\"")"), errc::parse);
  EXPECT_EQ(code_of(R"("scope":["openid",5])"), errc::parse);
  EXPECT_EQ(code_of(R"("scope":["openid profile"])"), errc::parse);
  EXPECT_EQ(code_of(R"("scope":7)"), errc::parse);
  // VSCHAR includes the space (seed 003's abbreviated refresh token); empty means none.
  const auto t = parse_token_response(
      json_response(200, R"({"access_token":"a","refresh_token":"ey J...-H5oAwI8","id_token":"","scope":null})"), t0);
  EXPECT_EQ(t.refresh_token.expose(), "ey J...-H5oAwI8");
  EXPECT_TRUE(t.id_token.empty());
}

TEST(TokenResponse, DuplicateMembersAreRefusedInJsonFormAndErrorBodies) {
  auto e = parse_error_with(R"({"access_token":"a","access_token":"b"})");
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(e.detail().find("duplicate member \"access_token\""), std::string::npos) << e.detail();

  HttpResponse form;
  form.status = 200;
  form.headers.set("Content-Type", "application/x-www-form-urlencoded");
  form.body = "access_token=a&expires_in=60&expires_in=999999";
  e = parse_error(form);
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(e.detail().find("duplicate parameter \"expires_in\""), std::string::npos) << e.detail();

  // An error body with two "error" members has no trustworthy meaning either.
  e = parse_error(json_response(400, R"({"error":"invalid_grant","error":"slow_down"})"));
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_FALSE(e.oauth());
}

TEST(TokenResponse, DeepDocumentsAreRefusedWithoutCrashing) {
  for (const auto& body : {deep_objects(100'000), std::string(100'000, '[') + std::string(100'000, ']'),
                           R"({"access_token":"a","x":)" + deep_objects(100'000) + "}"}) {
    const auto e = parse_error(json_response(200, body));
    EXPECT_EQ(e.code(), errc::parse);
    EXPECT_LE(e.body_snippet().size(), 203u);
  }
  EXPECT_NE(parse_error(json_response(200, deep_objects(65))).detail().find("nested deeper than 64 levels"),
            std::string::npos);
  // A non-2xx deep body is refused the same way, not reported as an OAuth error.
  EXPECT_EQ(parse_error(json_response(400, R"({"error":"invalid_grant","x":)" + deep_objects(100'000) + "}")).code(),
            errc::parse);
  // The deepest document the limit allows is still a token response.
  const auto t = parse_token_response(json_response(200, R"({"access_token":"a","x":)" + deep_objects(63) + "}"), t0);
  EXPECT_TRUE(t.extra.contains("x"));
}

TEST(TokenResponse, RefusedAuthenticationWithoutErrorBodySaysSo) {
  for (int status : {401, 403}) {
    const auto e = parse_error(json_response(status, ""));
    EXPECT_EQ(e.code(), errc::http_status);
    EXPECT_EQ(e.http_status(), status);
    EXPECT_EQ(e.detail(), "the server refused the client's authentication or the grant");
  }
  const auto e = parse_error(json_response(500, ""));
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.detail(), "");
  EXPECT_STREQ(e.what(), "token request (grant_type=password): unexpected HTTP status (HTTP 500); body: (empty)");
}
