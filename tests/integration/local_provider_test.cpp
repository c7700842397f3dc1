// Self-test of the embedded provider, talking to it with httplib::Client only
// (no dependency on the oidc library, so a provider bug can't hide behind a
// matching client bug).
#include "local_provider.hpp"
#include "seed_documents.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using oidc_testing::LocalProvider;
using nlohmann::ordered_json;
namespace seeds = oidc_testing::seeds;

constexpr const char* kForm = "application/x-www-form-urlencoded";

std::string str(std::string_view s) { return std::string(s); }

// WHATWG application/x-www-form-urlencoded serializer (space -> '+').
std::string encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& field : fields) {
    if (!out.empty()) out += '&';
    out += encode(field.first) + "=" + encode(field.second);
  }
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kTable[(n >> 18) & 63];
    out += kTable[(n >> 12) & 63];
    out += i + 1 < in.size() ? kTable[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kTable[n & 63] : '=';
  }
  return out;
}

httplib::Headers basic_auth(std::string_view encoded_credentials) {
  return {{"Authorization", "Basic " + base64(encoded_credentials)}};
}

std::string base64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
                                   : 63;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

ordered_json jwt_payload(const std::string& token) {
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  return ordered_json::parse(base64url_decode(token.substr(first + 1, second - first - 1)));
}

std::vector<std::string> keys(const ordered_json& object) {
  std::vector<std::string> out;
  for (const auto& item : object.items()) out.push_back(item.key());
  return out;
}

ordered_json body_json(const httplib::Result& result) {
  return ordered_json::parse(result->body);
}

httplib::Result post(httplib::Client& cli, const std::string& path, const std::string& body,
                     const httplib::Headers& headers = {}) {
  return cli.Post(path.c_str(), headers, body, kForm);
}

// Starts a Keycloak device flow for device-client on the given path style.
ordered_json start_device_flow(httplib::Client& cli, const std::string& path) {
  auto res = post(cli, path, str(seeds::kSeed000DeviceAuthorizationRequestBody));
  EXPECT_EQ(res->status, 200) << res->body;
  return body_json(res);
}

std::string device_token_body(const std::string& device_code) {
  return form({{"client_id", str(seeds::kSeed000ClientId)},
               {"device_code", device_code},
               {"grant_type", str(oidc_testing::kGrantDeviceCode)}});
}

// Runs seed 000's device flow to completion and returns the token response.
ordered_json complete_device_flow(LocalProvider& provider, httplib::Client& cli) {
  auto device = start_device_flow(cli, LocalProvider::device_path());
  EXPECT_TRUE(provider.approve(device["user_code"].get<std::string>()));
  auto res = post(cli, LocalProvider::token_path(), device_token_body(device["device_code"]));
  EXPECT_EQ(res->status, 200) << res->body;
  return body_json(res);
}

void expect_error(const httplib::Result& res, int status, const std::string& error) {
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, status) << res->body;
  auto body = body_json(res);
  EXPECT_EQ(body["error"], error) << res->body;
  EXPECT_TRUE(body.contains("error_description"));
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
}

std::string svc_body() {
  return form({{"client_id", str(LocalProvider::kServiceClientId)},
               {"client_secret", str(LocalProvider::kServiceClientSecret)},
               {"grant_type", "client_credentials"}});
}

}  // namespace

TEST(LocalProvider, ServesOnLoopbackAndRejectsUnknownPaths) {
  LocalProvider provider;
  EXPECT_GT(provider.port(), 0);
  EXPECT_EQ(provider.base_url(), "http://127.0.0.1:" + std::to_string(provider.port()));
  EXPECT_EQ(provider.token_endpoint("core"),
            provider.base_url() + "/realms/core/protocol/openid-connect/token");
  EXPECT_EQ(provider.legacy_device_endpoint("core"),
            provider.base_url() + "/auth/realms/core/protocol/openid-connect/auth/device");
  EXPECT_EQ(provider.sid_token_endpoint(), provider.base_url() + "/master/token");
  EXPECT_EQ(provider.sid_device_endpoint(), provider.base_url() + "/master/device_authorization");

  httplib::Client cli(provider.base_url());
  expect_error(post(cli, "/nowhere", svc_body()), 404, "invalid_request");
  expect_error(post(cli, LocalProvider::token_path("no-such-realm"), svc_body()), 404,
               "invalid_request");
  ASSERT_EQ(provider.rejections().size(), 2u);
  EXPECT_EQ(provider.rejections()[0].path, "/nowhere");
}

TEST(LocalProvider, Seed000DeviceFlowGoesFromPendingToTokens) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  // Seed 000 uses the legacy /auth prefix; the verification URI follows it.
  auto device = start_device_flow(cli, LocalProvider::legacy_device_path());
  EXPECT_EQ(keys(device), keys(ordered_json::parse(seeds::kSeed000DeviceAuthorizationResponse)));
  std::string user_code = device["user_code"];
  EXPECT_EQ(user_code.size(), seeds::kSeed000UserCode.size());
  EXPECT_EQ(user_code[4], '-');
  EXPECT_EQ(device["verification_uri"], provider.base_url() + "/auth/realms/core/device");
  EXPECT_EQ(device["verification_uri_complete"],
            provider.base_url() + "/auth/realms/core/device?user_code=" + user_code);
  EXPECT_EQ(device["expires_in"], 600);
  EXPECT_EQ(device["interval"], 5);
  EXPECT_EQ(provider.pending_user_codes(), std::vector<std::string>{user_code});

  auto poll = [&] { return post(cli, LocalProvider::legacy_token_path(), device_token_body(device["device_code"])); };
  expect_error(poll(), 400, "authorization_pending");
  expect_error(poll(), 400, "authorization_pending");
  ASSERT_TRUE(provider.approve(user_code));
  EXPECT_FALSE(provider.approve(user_code));  // no longer pending

  auto res = poll();
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  auto tokens = body_json(res);
  EXPECT_EQ(keys(tokens), keys(ordered_json::parse(seeds::kSeed000DeviceTokenResponse)));
  EXPECT_EQ(tokens["expires_in"], 86375);
  EXPECT_EQ(tokens["refresh_expires_in"], 1775);
  EXPECT_EQ(tokens["token_type"], "Bearer");
  EXPECT_EQ(tokens["not-before-policy"], 0);
  EXPECT_EQ(tokens["scope"], "");
  EXPECT_EQ(tokens["session_state"].get<std::string>().size(), seeds::kSeed000SessionState.size());
  EXPECT_EQ(jwt_payload(tokens["access_token"])["client_id"], "device-client");
  EXPECT_EQ(jwt_payload(tokens["access_token"])["sub"], "alice");

  expect_error(poll(), 400, "invalid_grant");  // a device code is single-use
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, Seed000RefreshRotatesTokensAndRestoresRefreshLifetime) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto first = complete_device_flow(provider, cli);
  std::string refresh_token = first["refresh_token"];

  auto refresh_body = form({{"client_id", "device-client"},
                            {"grant_type", "refresh_token"},
                            {"refresh_token", refresh_token}});
  auto res = post(cli, LocalProvider::token_path(), refresh_body);
  ASSERT_EQ(res->status, 200) << res->body;
  auto second = body_json(res);
  EXPECT_EQ(keys(second), keys(ordered_json::parse(seeds::kSeed000RefreshResponse)));
  EXPECT_EQ(second["refresh_expires_in"], 1800);
  EXPECT_EQ(second["session_state"], first["session_state"]);
  EXPECT_NE(second["access_token"], first["access_token"]);
  EXPECT_NE(second["refresh_token"], first["refresh_token"]);

  expect_error(post(cli, LocalProvider::token_path(), refresh_body), 400, "invalid_grant");
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, RefreshTokenExpiresOnProviderClock) {
  LocalProvider provider;
  auto start = std::chrono::system_clock::now();
  provider.set_clock([start] { return start; });
  httplib::Client cli(provider.base_url());
  auto tokens = complete_device_flow(provider, cli);
  auto refresh_body = form({{"client_id", "device-client"},
                            {"grant_type", "refresh_token"},
                            {"refresh_token", tokens["refresh_token"].get<std::string>()}});
  provider.advance_clock(std::chrono::seconds(1775));
  auto res = post(cli, LocalProvider::token_path(), refresh_body);
  expect_error(res, 400, "invalid_grant");
  EXPECT_EQ(body_json(res)["error_description"], "Token is not active");
}

TEST(LocalProvider, DeviceCodeExpiresOnProviderClock) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto device = start_device_flow(cli, LocalProvider::device_path());
  provider.advance_clock(std::chrono::seconds(600));
  EXPECT_FALSE(provider.approve(device["user_code"].get<std::string>()));
  expect_error(post(cli, LocalProvider::token_path(), device_token_body(device["device_code"])), 400,
               "expired_token");
}

TEST(LocalProvider, DeniedDeviceCodeYieldsAccessDenied) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto device = start_device_flow(cli, LocalProvider::device_path());
  ASSERT_TRUE(provider.deny(device["user_code"].get<std::string>()));
  expect_error(post(cli, LocalProvider::token_path(), device_token_body(device["device_code"])), 400,
               "access_denied");
}

TEST(LocalProvider, AutoApprovesAfterConfiguredPendingPolls) {
  LocalProvider provider;
  provider.auto_approve_after_polls(2);
  httplib::Client cli(provider.base_url());
  auto device = start_device_flow(cli, LocalProvider::device_path());
  auto poll = [&] { return post(cli, LocalProvider::token_path(), device_token_body(device["device_code"])); };
  expect_error(poll(), 400, "authorization_pending");
  expect_error(poll(), 400, "authorization_pending");
  EXPECT_EQ(poll()->status, 200);
}

TEST(LocalProvider, AnswersSlowDownWhenPolledFasterThanInterval) {
  LocalProvider provider;
  auto start = std::chrono::system_clock::now();
  provider.set_clock([start] { return start; });
  provider.enforce_slow_down(true);
  httplib::Client cli(provider.base_url());
  auto device = start_device_flow(cli, LocalProvider::device_path());
  auto poll = [&] { return post(cli, LocalProvider::token_path(), device_token_body(device["device_code"])); };
  expect_error(poll(), 400, "authorization_pending");
  expect_error(poll(), 400, "slow_down");
  provider.advance_clock(std::chrono::seconds(5));
  expect_error(poll(), 400, "slow_down");  // the interval grew to 10 s...
  provider.advance_clock(std::chrono::seconds(15));  // ...and now to 15 s
  expect_error(poll(), 400, "authorization_pending");
}

TEST(LocalProvider, VerificationPageApprovesUserCode) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto device = start_device_flow(cli, LocalProvider::device_path());
  std::string complete = device["verification_uri_complete"];
  auto page = cli.Get(complete.substr(provider.base_url().size()).c_str());
  ASSERT_EQ(page->status, 200);
  EXPECT_TRUE(provider.pending_user_codes().empty());
  EXPECT_EQ(post(cli, LocalProvider::token_path(), device_token_body(device["device_code"]))->status, 200);
}

TEST(LocalProvider, Seed001ClientCredentialsWithClientSecretPost) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto res = post(cli, LocalProvider::token_path(), svc_body());
  ASSERT_EQ(res->status, 200) << res->body;
  auto tokens = body_json(res);
  EXPECT_EQ(tokens["expires_in"], seeds::kSeed001ExpiresIn);
  EXPECT_EQ(tokens["refresh_expires_in"], 0);
  EXPECT_FALSE(tokens.contains("refresh_token"));
  EXPECT_EQ(tokens["token_type"], "Bearer");
  EXPECT_EQ(jwt_payload(tokens["access_token"])["sub"], "service-account-svc");
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, AcceptsClientSecretBasicWithUrlEncodedCredentials) {
  LocalProvider provider;
  oidc_testing::ClientRegistration client;
  client.realm = "core";
  client.client_id = "odd:id";
  client.secret = "s3cr:t/+ %";
  client.grant_types = {"client_credentials"};
  provider.add_client(client);
  httplib::Client cli(provider.base_url());
  auto res = post(cli, LocalProvider::token_path(), "grant_type=client_credentials",
                  basic_auth(encode(client.client_id) + ":" + encode(client.secret)));
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(jwt_payload(body_json(res)["access_token"])["client_id"], "odd:id");

  EXPECT_TRUE(provider.rejections().empty());

  // Skipping the RFC 6749 §2.3.1 urlencoding step is a client bug: rejected.
  expect_error(post(cli, LocalProvider::token_path(), "grant_type=client_credentials",
                    basic_auth(client.client_id + ":" + client.secret)),
               401, "invalid_client");
  ASSERT_EQ(provider.rejections().size(), 1u);
  EXPECT_NE(provider.rejections()[0].reason.find("malformed"), std::string::npos);
}

TEST(LocalProvider, RejectsBothClientAuthenticationMethods) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  expect_error(post(cli, LocalProvider::token_path(), svc_body(), basic_auth("svc:svc-secret")), 400,
               "invalid_request");
  ASSERT_EQ(provider.rejections().size(), 1u);
  EXPECT_NE(provider.rejections()[0].reason.find("both"), std::string::npos);
}

TEST(LocalProvider, WrongSecretIsInvalidClientWithoutRejection) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto res = post(cli, LocalProvider::token_path(),
                  "client_id=svc&client_secret=wrong&grant_type=client_credentials");
  expect_error(res, 401, "invalid_client");
  EXPECT_EQ(body_json(res)["error_description"], "Invalid client or Invalid client credentials");
  EXPECT_FALSE(res->get_header_value("WWW-Authenticate").empty());
  expect_error(post(cli, LocalProvider::token_path(), "client_id=nobody&grant_type=client_credentials"), 401,
               "invalid_client");
  expect_error(post(cli, LocalProvider::token_path(), "client_id=svc&grant_type=client_credentials"), 401,
               "invalid_client");
  EXPECT_TRUE(provider.rejections().empty());  // legitimate outcomes, not malformed requests
}

TEST(LocalProvider, GrantNotAllowedForClientIsUnauthorizedClient) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  expect_error(post(cli, LocalProvider::token_path(),
                    "client_id=device-client&grant_type=password&username=alice&password=secret"),
               400, "unauthorized_client");
  expect_error(post(cli, LocalProvider::device_path(), "client_id=svc&client_secret=svc-secret"), 400,
               "unauthorized_client");
}

TEST(LocalProvider, UnknownGrantTypeIsUnsupported) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  expect_error(post(cli, LocalProvider::token_path(), "client_id=svc&grant_type=magic&extra=1"), 400,
               "unsupported_grant_type");
}

TEST(LocalProvider, MissingFieldsAreInvalidRequest) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  expect_error(post(cli, LocalProvider::token_path(), "client_id=svc&client_secret=svc-secret"), 400,
               "invalid_request");
  expect_error(post(cli, LocalProvider::token_path(), "client_id=device-client&grant_type=refresh_token"), 400,
               "invalid_request");
  expect_error(post(cli, LocalProvider::token_path(), "client_secret=svc-secret&grant_type=client_credentials"),
               400, "invalid_request");
  auto rejections = provider.rejections();
  ASSERT_EQ(rejections.size(), 3u);
  EXPECT_EQ(rejections[1].reason, "Missing parameter: refresh_token");
}

TEST(LocalProvider, RejectsWrongContentTypeButAcceptsUtf8Charset) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto res = cli.Post(LocalProvider::token_path().c_str(), svc_body(), "application/json");
  expect_error(res, 400, "invalid_request");
  // Seed 002's "Content-Type: x-www-form-urlencoded" would be rejected too.
  expect_error(cli.Post(LocalProvider::token_path().c_str(), svc_body(), "x-www-form-urlencoded"), 400,
               "invalid_request");
  ASSERT_EQ(provider.rejections().size(), 2u);
  EXPECT_NE(provider.rejections()[0].reason.find("Content-Type"), std::string::npos);

  res = cli.Post(LocalProvider::token_path().c_str(), svc_body(),
                 "Application/X-WWW-Form-Urlencoded; charset=UTF-8");
  EXPECT_EQ(res->status, 200) << res->body;
  expect_error(cli.Post(LocalProvider::token_path().c_str(), svc_body(),
                        "application/x-www-form-urlencoded; charset=latin1"),
               400, "invalid_request");
}

TEST(LocalProvider, RejectsDuplicateAndUnknownParameters) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  expect_error(post(cli, LocalProvider::token_path(), svc_body() + "&grant_type=client_credentials"), 400,
               "invalid_request");
  expect_error(post(cli, LocalProvider::token_path(), svc_body() + "&redirect_uri=http%3A%2F%2Flocalhost"), 400,
               "invalid_request");
  expect_error(post(cli, LocalProvider::device_path(), "client_id=device-client&grant_type=x"), 400,
               "invalid_request");
  auto rejections = provider.rejections();
  ASSERT_EQ(rejections.size(), 3u);
  EXPECT_EQ(rejections[0].reason, "duplicate parameter: grant_type");
  EXPECT_EQ(rejections[1].reason, "unexpected parameter: redirect_uri");

  // scope, resource and audience are allowed extras.
  auto res = post(cli, LocalProvider::token_path(),
                  svc_body() + "&scope=a+b&resource=https%3A%2F%2Fapi.example&audience=api");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(body_json(res)["scope"], "a b");
}

TEST(LocalProvider, DecodesFormEncodingAndRejectsMalformedBodies) {
  LocalProvider provider;
  provider.add_user("master", "bob smith", "p@ss word+&=%");
  httplib::Client cli(provider.base_url());
  auto body = form({{"client_id", "userDevice"},
                    {"client_secret", "password"},
                    {"grant_type", "password"},
                    {"username", "bob smith"},
                    {"password", "p@ss word+&=%"}});
  auto res = post(cli, LocalProvider::sid_token_path(), body);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(jwt_payload(body_json(res)["access_token"])["sub"], "bob smith");

  for (const char* bad : {"grant_type=client_credentials&client_id=svc&client_secret=svc%2",
                          "grant_type=client_credentials&client_id=svc&client_secret=svc%zzz",
                          "grant_type=client_credentials&client_id=svc&&client_secret=svc-secret",
                          "grant_type=client_credentials&client_id=svc&client_secret",
                          "grant_type=client credentials&client_id=svc&client_secret=svc-secret"}) {
    expect_error(post(cli, LocalProvider::token_path(), bad), 400, "invalid_request");
  }
  EXPECT_EQ(provider.rejections().size(), 5u);
}

TEST(LocalProvider, RejectsGetAndQueryParameters) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto res = cli.Get((LocalProvider::token_path() + "?grant_type=client_credentials").c_str());
  expect_error(res, 405, "invalid_request");
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  expect_error(post(cli, LocalProvider::token_path() + "?client_id=svc",
                    "client_secret=svc-secret&grant_type=client_credentials"),
               400, "invalid_request");
  EXPECT_EQ(provider.rejections().size(), 2u);
}

TEST(LocalProvider, Seed003PasswordGrantRequiresVyoptaHost) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto body = form({{"grant_type", "password"},
                    {"client_id", str(seeds::kSeed003ClientId)},
                    {"username", "alice"},
                    {"password", "secret"}});
  auto path = LocalProvider::legacy_token_path("vyopta");
  expect_error(post(cli, path, body), 400, "invalid_request");
  ASSERT_EQ(provider.rejections().size(), 1u);
  EXPECT_NE(provider.rejections()[0].reason.find("login.vyopta.com"), std::string::npos);

  httplib::Headers host{{"Host", str(seeds::kSeed003Host)}};
  auto res = post(cli, path, body, host);
  ASSERT_EQ(res->status, 200) << res->body;
  auto tokens = body_json(res);
  auto seed = ordered_json::parse(seeds::kSeed003AbbreviatedPasswordResponse);
  EXPECT_EQ(keys(tokens), keys(seed));
  EXPECT_EQ(tokens["token_type"], seeds::kSeed003TokenType);
  EXPECT_EQ(tokens["expires_in"], seed["expires_in"]);
  EXPECT_EQ(tokens["refresh_expires_in"], seed["refresh_expires_in"]);
  EXPECT_EQ(tokens["not-before-policy"], seeds::kSeed003NotBeforePolicy);
  EXPECT_EQ(tokens["scope"], seeds::kSeed003Scope);
  EXPECT_EQ(tokens["access_token"].get<std::string>().rfind("eyJh", 0), 0u);  // "beginning eyJh"

  expect_error(post(cli, path, form({{"grant_type", "password"}, {"client_id", "vyopta"},
                                     {"username", "alice"}, {"password", "nope"}}), host),
               400, "invalid_grant");
  // The document says refreshing is not implemented.
  expect_error(post(cli, path, form({{"grant_type", "refresh_token"}, {"client_id", "vyopta"},
                                     {"refresh_token", tokens["refresh_token"]}}), host),
               400, "unauthorized_client");
}

TEST(LocalProvider, Seed002ClientCredentialsVerbatimBody) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto res = post(cli, LocalProvider::sid_token_path(), str(seeds::kSeed002ClientCredentialsRequestBody));
  ASSERT_EQ(res->status, 200) << res->body;
  auto tokens = body_json(res);
  EXPECT_EQ(keys(tokens), (std::vector<std::string>{"expires_in", "scope", "access_token", "token_type"}));
  EXPECT_EQ(tokens["scope"], "networks");
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, Seed002PasswordGrantIssuesIdTokenAndRefreshToken) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto body = form({{"client_id", "userDevice"},
                    {"grant_type", "password"},
                    {"client_secret", "password"},
                    {"scope", "openid profile"},
                    {"username", str(LocalProvider::kAdministratorUsername)},
                    {"password", str(LocalProvider::kAdministratorPassword)}});
  auto res = post(cli, LocalProvider::sid_token_path(), body);
  ASSERT_EQ(res->status, 200) << res->body;
  auto tokens = body_json(res);
  EXPECT_EQ(keys(tokens), keys(ordered_json::parse(seeds::kSeed002DeviceTokenResponse)));
  EXPECT_EQ(jwt_payload(tokens["id_token"])["sub"], "administrator");
  EXPECT_EQ(tokens["refresh_token"].get<std::string>().size(), std::string("5e63301c-e320-49aa-a9cf-959e26bfd818").size());

  // The seed's verbatim body has a raw space in the scope: strictly malformed.
  auto verbatim = str(seeds::kSeed002PasswordRequestBodyTemplate);
  expect_error(post(cli, LocalProvider::sid_token_path(), verbatim), 400, "invalid_request");
}

TEST(LocalProvider, Seed002DeviceFlowIssuesIdToken) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto res = post(cli, LocalProvider::sid_device_path(),
                  form({{"client_id", "device"}, {"client_secret", "password"}, {"scope", "openid profile"}}));
  ASSERT_EQ(res->status, 200) << res->body;
  auto device = body_json(res);
  EXPECT_EQ(keys(device), keys(ordered_json::parse(seeds::kSeed002DeviceAuthorizationResponse)));
  std::string user_code = device["user_code"];
  EXPECT_EQ(user_code.size(), 4u);
  EXPECT_EQ(device["verification_uri_complete"], provider.base_url() + "/master/Device?userCode=" + user_code);

  ASSERT_TRUE(provider.approve(user_code, "administrator"));
  res = post(cli, LocalProvider::sid_token_path(),
             form({{"client_id", "device"},
                   {"grant_type", str(oidc_testing::kGrantDeviceCode)},
                   {"client_secret", "password"},
                   {"device_code", device["device_code"]}}));
  ASSERT_EQ(res->status, 200) << res->body;
  auto tokens = body_json(res);
  EXPECT_EQ(keys(tokens), keys(ordered_json::parse(seeds::kSeed002DeviceTokenResponse)));
  EXPECT_EQ(tokens["expires_in"], 1800);
  EXPECT_EQ(tokens["scope"], "openid profile");
  EXPECT_EQ(jwt_payload(tokens["id_token"])["aud"], ordered_json::array({"device"}));
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, Seed002VerbatimDeviceRequestLacksClientSecret) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  // Verbatim body has a raw space ("openid profile"): malformed.
  expect_error(post(cli, LocalProvider::sid_device_path(), str(seeds::kSeed002DeviceAuthorizationRequestBody)),
               400, "invalid_request");
  // Properly encoded, it still omits the confidential client's secret.
  expect_error(post(cli, LocalProvider::sid_device_path(), "client_id=device&scope=openid+profile"), 401,
               "invalid_client");
}

TEST(LocalProvider, IssuesUniqueJwtShapedTokensAcrossThreads) {
  LocalProvider provider;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::string>> tokens(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client cli(provider.base_url());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      for (int i = 0; i < kPerThread; ++i) {
        auto res = post(cli, LocalProvider::token_path(), svc_body());
        if (res && res->status == 200) tokens[t].push_back(body_json(res)["access_token"]);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::string> unique;
  for (const auto& list : tokens) {
    EXPECT_EQ(list.size(), static_cast<std::size_t>(kPerThread));
    unique.insert(list.begin(), list.end());
  }
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kThreads * kPerThread));
  auto token = *unique.begin();
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  auto payload = jwt_payload(token);
  for (const char* claim : {"exp", "iat", "sub", "client_id", "scope", "jti"}) {
    EXPECT_TRUE(payload.contains(claim)) << claim;
  }
  EXPECT_EQ(payload["exp"].get<long long>() - payload["iat"].get<long long>(), 300);
  EXPECT_EQ(provider.request_count(LocalProvider::token_path()),
            static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, ServesScriptedResponsesFifoBeforeNormalBehaviour) {
  LocalProvider provider;
  auto path = LocalProvider::legacy_token_path();
  provider.enqueue(path, LocalProvider::Response::json(200, str(seeds::kSeed000DeviceTokenResponse)));
  auto html = LocalProvider::Response::text(500, "text/html", "<html><body>Internal Server Error</body></html>");
  html.headers = {{"Retry-After", "1"}};
  provider.enqueue(path, html);

  httplib::Client cli(provider.base_url());
  auto body = str(seeds::kSeed000DeviceTokenRequestBody);
  auto res = post(cli, path, body);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->body, seeds::kSeed000DeviceTokenResponse);  // verbatim replay
  res = post(cli, path, body);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html");
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  // Queue drained: normal behaviour (the seed's device code is unknown here).
  expect_error(post(cli, path, body), 400, "invalid_grant");
  EXPECT_EQ(provider.request_count(path), 3u);
}

TEST(LocalProvider, ScriptedDelaySimulatesSlowServerAndDoesNotBlockShutdown) {
  auto started = std::chrono::steady_clock::now();
  {
    LocalProvider provider;
    auto slow = LocalProvider::Response::json(200, "{}");
    slow.delay = std::chrono::seconds(30);
    provider.enqueue("/slow", slow);
    httplib::Client cli(provider.base_url());
    cli.set_read_timeout(std::chrono::milliseconds(200));
    auto res = cli.Get("/slow");
    EXPECT_FALSE(res);
    EXPECT_EQ(res.error(), httplib::Error::Read);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(LocalProvider, RecordsRequestsWithHeadersAndOrderedForm) {
  LocalProvider provider;
  httplib::Client cli(provider.base_url());
  auto body = str(seeds::kSeed000DeviceTokenRequestBody);
  post(cli, LocalProvider::legacy_token_path(), body, {{"X-Trace", "abc"}});
  cli.Get("/elsewhere?x=1");

  auto all = provider.requests();
  ASSERT_EQ(all.size(), 2u);
  const auto& first = all[0];
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.path, LocalProvider::legacy_token_path());
  EXPECT_EQ(first.header("content-type"), kForm);  // case-insensitive
  EXPECT_EQ(first.header("x-trace"), "abc");
  EXPECT_FALSE(first.has_header("REMOTE_ADDR"));  // httplib pseudo-headers stripped
  EXPECT_EQ(first.body, body);
  ASSERT_EQ(first.form.size(), 3u);
  EXPECT_EQ(first.form[0], (std::pair<std::string, std::string>{"client_id", "device-client"}));
  EXPECT_EQ(first.form[2].second, oidc_testing::kGrantDeviceCode);  // raw ':' tolerated
  EXPECT_EQ(first.form_value("device_code"), str(seeds::kSeed000DeviceCode));
  EXPECT_EQ(all[1].target, "/elsewhere?x=1");
  EXPECT_EQ(provider.requests("/elsewhere").size(), 1u);
  EXPECT_EQ(provider.request_count(LocalProvider::legacy_token_path()), 1u);
  EXPECT_EQ(provider.rejections().size(), 1u);  // the GET to /elsewhere

  provider.clear_requests();
  EXPECT_TRUE(provider.requests().empty());
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, ReusesOneConnectionForThousandsOfRequests) {
  LocalProvider provider;
  provider.set_recording(false);
  httplib::Client cli(provider.base_url());
  cli.set_keep_alive(true);
  // httplib's client sends headers and body in two writes; without this each
  // request on a warm connection waits ~40 ms for the server's delayed ACK.
  cli.set_tcp_nodelay(true);
  auto body = svc_body();
  int ok = 0;
  for (int i = 0; i < 3000; ++i) {
    auto res = post(cli, LocalProvider::token_path(), body);
    ok += res && res->status == 200;
  }
  EXPECT_EQ(ok, 3000);
  EXPECT_TRUE(provider.requests().empty());

  provider.set_recording(true);
  post(cli, LocalProvider::token_path(), body);
  post(cli, LocalProvider::token_path(), body);
  auto recorded = provider.requests();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].remote_port, recorded[1].remote_port);  // same connection
}

TEST(LocalProvider, ServesManyConcurrentKeepAliveClients) {
  LocalProvider provider;
  provider.auto_approve_after_polls(1);
  constexpr int kThreads = 24;  // more than httplib's default worker pool
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      httplib::Client cli(provider.base_url());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      for (int i = 0; i < 5; ++i) {
        auto device = post(cli, LocalProvider::device_path(), "client_id=device-client");
        if (!device || device->status != 200) return;
        auto code = body_json(device)["device_code"].get<std::string>();
        auto pending = post(cli, LocalProvider::token_path(), device_token_body(code));
        auto done = post(cli, LocalProvider::token_path(), device_token_body(code));
        if (pending && pending->status == 400 && done && done->status == 200) ++completed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(completed.load(), kThreads * 5);
  EXPECT_TRUE(provider.rejections().empty());
}

TEST(LocalProvider, RegistersAdditionalClientsAndUsers) {
  LocalProvider provider(oidc_testing::LocalProviderOptions{false});
  httplib::Client cli(provider.base_url());
  expect_error(post(cli, LocalProvider::token_path(), svc_body()), 404, "invalid_request");  // no realms

  oidc_testing::ClientRegistration client;
  client.realm = "custom";
  client.client_id = "app";
  client.grant_types = {"password", "refresh_token"};
  client.expires_in = 60;
  client.refresh_expires_in = 120;
  client.default_scope = "openid";
  provider.add_client(client);
  provider.add_user("custom", "carol", "pw");
  auto res = post(cli, LocalProvider::token_path("custom"),
                  "client_id=app&grant_type=password&username=carol&password=pw");
  ASSERT_EQ(res->status, 200) << res->body;
  auto tokens = body_json(res);
  EXPECT_EQ(tokens["expires_in"], 60);
  EXPECT_EQ(tokens["refresh_expires_in"], 120);
  EXPECT_TRUE(tokens.contains("id_token"));  // Keycloak adds one for "openid"
}
