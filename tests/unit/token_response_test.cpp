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
