// The grants a client runs on its own, against oidc-provider over the real libcurl transport:
// client credentials with each secret method, resource indicators, the password grant, and a
// token source's caching. A recording transport shows what the library sent; the provider's
// introspection and request counters show what it made of it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "browser.hpp"
#include "interop_support.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"

namespace {

using namespace std::chrono_literals;
using oidc_interop::kAlice;
using oidc_interop::kAlicePassword;
using oidc_interop::kApiResource;
using oidc_interop::kCcBasic;
using oidc_interop::kCcPost;
using oidc_interop::kCcSpecial;
using oidc_interop::kRopc;
using oidc_interop::Provider;
using oidc_testing::error_of;
using oidc_testing::is_clean;

using oidc_interop::form_fields;
using oidc_interop::RecordingTransport;
using Fields = oidc_interop::Fields;
constexpr auto values_of = [](const Fields& f, std::string_view name) { return oidc_interop::values(f, name); };

// Base64 (RFC 4648 §4) and base64url (§5), padded or not.
std::string base64_decode(std::string_view in, bool url) {
  const std::string_view alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') break;
    const auto v = alphabet.find(c);
    if (v == std::string_view::npos) throw std::runtime_error("not base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}
std::string base64_encode(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
    for (const int shift : {18, 12, 6, 0}) out += alphabet[(n >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    const auto n = static_cast<unsigned char>(in[i]) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// "id:secret" as the Basic header of `request` carries it, still form-encoded; "" without one.
std::string basic_credential(const oidc::HttpRequest& request) {
  const auto h = request.headers.get("Authorization");
  if (!h || h->rfind("Basic ", 0) != 0) return {};
  return base64_decode(h->substr(6), false);
}

std::pair<std::shared_ptr<RecordingTransport>, oidc::Client> recorded_client(const oidc_interop::ClientSpec& spec) {
  auto config = Provider::get().config(spec);
  auto recorder = std::make_shared<RecordingTransport>(config.transport);
  config.transport = recorder;
  return {recorder, oidc::Client(config)};
}

std::chrono::seconds seconds_between(oidc::Token::time_point a, oidc::Token::time_point b) {
  return std::chrono::duration_cast<std::chrono::seconds>(b - a);
}

// RFC 6749 §2.3.1: the credential goes in the Authorization header, and nowhere in the body (the
// provider refuses a request with two mechanisms anyway: "client authentication must only be
// provided using one mechanism").
TEST(InteropGrants, ClientSecretBasicSendsTheCredentialInTheAuthorizationHeaderOnly) {
  const auto& p = Provider::get();
  auto [recorder, client] = recorded_client(kCcBasic);
  const auto token = client.client_credentials({"api:read", {}});

  const auto sent = recorder->exchanges();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].request.method, "POST");
  EXPECT_EQ(sent[0].request.url, p.endpoint("token_endpoint"));
  EXPECT_EQ(basic_credential(sent[0].request), "cc-basic:cc-basic-secret");
  const auto form = form_fields(sent[0].request.body);
  EXPECT_EQ(values_of(form, "grant_type"), std::vector<std::string>{"client_credentials"});
  EXPECT_EQ(values_of(form, "scope"), std::vector<std::string>{"api:read"});
  EXPECT_TRUE(values_of(form, "client_id").empty());
  EXPECT_TRUE(values_of(form, "client_secret").empty());
  EXPECT_EQ(sent[0].request.body.find(kCcBasic.secret), std::string::npos);

  // The granted scope as the provider echoed it, and a lifetime of 600 s (provider.mjs ttl).
  EXPECT_EQ(token.scope, "api:read");
  EXPECT_EQ(token.type(), "Bearer");
  ASSERT_TRUE(token.expiry.has_value());
  EXPECT_EQ(seconds_between(token.received_at, *token.expiry), 600s);
  EXPECT_FALSE(token.has_refresh_token());  // RFC 6749 §4.4.3: SHOULD NOT be issued

  const auto view = p.introspect(token.access_token.expose());
  EXPECT_EQ(view.at("active"), true) << view;
  EXPECT_EQ(view.at("client_id"), "cc-basic") << view;
  EXPECT_EQ(view.at("scope"), "api:read") << view;
  EXPECT_FALSE(view.contains("sub")) << "a client credentials token has no end-user: " << view;
  EXPECT_EQ(view.at("exp").get<std::int64_t>() - view.at("iat").get<std::int64_t>(), 600) << view;
}

// cc-post's request counts belong to this test alone (ctest -j2 runs tests at once), so its one
// client does both jobs: the credential goes in the form body only, and a token source asked from
// several threads, many times, makes one request, as the provider itself counts.
TEST(InteropGrants, ClientSecretPostSourceSendsOneRequestWithTheCredentialInTheBodyOnly) {
  const auto& p = Provider::get();
  auto [recorder, client] = recorded_client(kCcPost);
  const int before = p.token_requests(kCcPost, "client_credentials");
  const auto source = client.token_source(oidc::grants::ClientCredentials{"api:read api:write", {}});

  // Cold start from several threads at once (one renewal for all), then many more calls.
  constexpr std::size_t kThreads = 4, kCallsPerThread = 25;
  std::vector<std::vector<std::string>> seen(kThreads);
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        for (std::size_t i = 0; i < kCallsPerThread; ++i) seen[t].push_back(source->authorization_header());
      } catch (const std::exception& e) {  // a test failure, not std::terminate
        failures[t] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& f : failures) ASSERT_EQ(f, "");
  for (int i = 0; i < 100; ++i) seen[0].push_back(source->authorization_header());

  const auto token = source->token();
  const std::string header = "Bearer " + token->access_token.expose();
  std::set<std::string> distinct;
  for (const auto& calls : seen) distinct.insert(calls.begin(), calls.end());
  EXPECT_EQ(distinct, std::set<std::string>{header});
  EXPECT_EQ(p.token_requests(kCcPost, "client_credentials") - before, 1);
  EXPECT_EQ(source->renewals(), 1u);

  const auto sent = recorder->exchanges();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(sent[0].request.headers.contains("Authorization"));
  const auto form = form_fields(sent[0].request.body);
  EXPECT_EQ(values_of(form, "grant_type"), std::vector<std::string>{"client_credentials"});
  EXPECT_EQ(values_of(form, "client_id"), std::vector<std::string>{"cc-post"});
  EXPECT_EQ(values_of(form, "client_secret"), std::vector<std::string>{"cc-post-secret"});
  EXPECT_EQ(values_of(form, "scope"), std::vector<std::string>{"api:read api:write"});

  EXPECT_EQ(token->scope, "api:read api:write");
  const auto view = p.introspect(token->access_token.expose());
  EXPECT_EQ(view.at("active"), true) << view;
  EXPECT_EQ(view.at("client_id"), "cc-post") << view;
  EXPECT_EQ(view.at("scope"), "api:read api:write") << view;
}

// RFC 6749 §2.3.1: client_id and secret are form-encoded (Appendix B) before Base64, and the
// provider decodes them again. cc-special's secret holds every character that encoding changes:
// sent raw, '+' and "%20" would come back as spaces (the "secret encoding mismatch" a real
// provider showed before).
TEST(InteropGrants, ClientSecretBasicFormEncodesASecretOfSpecialCharacters) {
  const auto& p = Provider::get();
  auto [recorder, client] = recorded_client(kCcSpecial);
  const auto token = client.client_credentials({"api:read", {}});

  const auto sent = recorder->exchanges();
  ASSERT_EQ(sent.size(), 1u);
  const std::string credential = basic_credential(sent[0].request);
  const std::string prefix = "cc-special:";
  ASSERT_EQ(credential.rfind(prefix, 0), 0u);
  const std::string encoded = credential.substr(prefix.size());
  EXPECT_EQ(oidc_interop::form_decode_component(encoded), kCcSpecial.secret);
  for (const char c : encoded) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                         std::string_view("-._~%+").find(c) != std::string_view::npos;
    EXPECT_TRUE(allowed) << "left unencoded: '" << c << "'";
  }

  const auto view = p.introspect(token.access_token.expose());
  EXPECT_EQ(view.at("active"), true) << view;
  EXPECT_EQ(view.at("client_id"), "cc-special") << view;
  EXPECT_EQ(view.at("scope"), "api:read") << view;
}

// The control for the test above: the provider really decodes, so the raw secret in Basic is
// refused. (Sent through the library's request with only the header swapped.)
TEST(InteropGrants, TheProviderRefusesTheSpecialSecretWhenItIsNotFormEncoded) {
  const auto& p = Provider::get();
  auto config = p.config(kCcSpecial);
  const auto inner = config.transport;
  config.transport = oidc::make_transport([inner](const oidc::HttpRequest& request) {
    oidc::HttpRequest raw = request;
    raw.headers.set("Authorization", "Basic " + base64_encode(std::string("cc-special:") + kCcSpecial.secret));
    return inner->send(raw);
  });
  const auto e = error_of([&] { (void)oidc::Client(config).client_credentials({"api:read", {}}); });
  EXPECT_EQ(e.code(), oidc::errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "invalid_client") << e.what();
  EXPECT_EQ(e.http_status(), 401) << e.what();
}

// RFC 8707: the resource indicator makes oidc-provider issue a JWT access token (RFC 9068) for
// that audience. The library does not need to read it, but tracks its expiry; the claims are
// decoded here to show the token is what the provider meant for the API.
TEST(InteropGrants, ResourceIndicatorGivesAJwtAccessTokenWhoseExpiryIsTracked) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kCcBasic));
  const auto token = client.client_credentials({"api:read", {{"resource", std::string(kApiResource)}}});

  const std::string& jwt = token.access_token.expose();
  const auto dot1 = jwt.find('.');
  const auto dot2 = jwt.find('.', dot1 + 1);
  ASSERT_NE(dot1, std::string::npos);
  ASSERT_NE(dot2, std::string::npos);
  ASSERT_EQ(jwt.find('.', dot2 + 1), std::string::npos) << "a JWS has three parts";
  const auto header = nlohmann::json::parse(base64_decode(jwt.substr(0, dot1), true));
  const auto claims = nlohmann::json::parse(base64_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1), true));
  EXPECT_EQ(header.at("typ"), "at+jwt") << header;
  EXPECT_EQ(header.at("alg"), "RS256") << header;
  EXPECT_EQ(claims.at("aud"), kApiResource) << claims;
  EXPECT_EQ(claims.at("client_id"), "cc-basic") << claims;
  EXPECT_EQ(claims.at("iss"), p.issuer()) << claims;
  EXPECT_EQ(claims.at("scope"), "api:read") << claims;

  // The signing key is one the provider publishes.
  const auto jwks = nlohmann::json::parse(oidc_interop::raw_request(p.jwks_uri(), p.ca_file()).body);
  bool published = false;
  for (const auto& k : jwks.at("keys")) published = published || k.value("kid", "") == header.value("kid", "?");
  EXPECT_TRUE(published) << header;

  // The expiry the library keeps is the token's own exp (within the second both clocks round to).
  ASSERT_TRUE(token.expiry.has_value());
  const auto exp = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(claims.at("exp").get<std::int64_t>()));
  EXPECT_LE(std::abs((*token.expiry - exp) / 1ms), 2000);
  EXPECT_EQ(claims.at("exp").get<std::int64_t>() - claims.at("iat").get<std::int64_t>(), 600);
  EXPECT_FALSE(token.expired(std::chrono::system_clock::now()));
  EXPECT_TRUE(token.expired(exp + 3s));
  EXPECT_EQ(token.scope, "api:read");
}

// Only https://api.interop.test is a known resource: anything else is the provider's
// invalid_target (RFC 8707 §2), HTTP 400, "resource indicator is missing, or unknown".
TEST(InteropGrants, AnUnknownResourceIsTheProvidersInvalidTarget) {
  const oidc::Client client(Provider::get().config(kCcBasic));
  const auto e =
      error_of([&] { (void)client.client_credentials({"api:read", {{"resource", "https://unknown.interop.test"}}}); });
  EXPECT_EQ(e.code(), oidc::errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "invalid_target") << e.what();
  EXPECT_EQ(e.http_status(), 400) << e.what();
  ASSERT_TRUE(e.oauth().has_value());
  EXPECT_EQ(e.oauth()->error_description, "resource indicator is missing, or unknown");
  EXPECT_EQ(e.operation(), "token request (grant_type=client_credentials)");
  EXPECT_TRUE(is_clean(e, {kCcBasic.secret}));
}

// The password grant (provider.mjs's FIXTURE extension grant): with offline_access, an access
// token and a refresh token, both the provider's own for alice.
TEST(InteropGrants, PasswordGrantGivesAccessAndRefreshTokensForTheUser) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(kRopc));
  const auto token = client.password(std::string(kAlice), oidc::Secret(std::string(kAlicePassword)),
                                     {"openid offline_access", {}, std::nullopt});

  EXPECT_EQ(token.scope, "openid offline_access");
  EXPECT_EQ(token.type(), "Bearer");
  ASSERT_TRUE(token.has_refresh_token());
  ASSERT_TRUE(token.expiry.has_value());
  EXPECT_EQ(seconds_between(token.received_at, *token.expiry), 600s);

  const auto access = p.introspect(token.access_token.expose());
  EXPECT_EQ(access.at("active"), true) << access;
  EXPECT_EQ(access.at("sub"), kAlice) << access;
  EXPECT_EQ(access.at("client_id"), "ropc") << access;
  EXPECT_EQ(access.at("scope"), "openid offline_access") << access;
  const auto refresh = p.introspect(token.refresh_token.expose());
  EXPECT_EQ(refresh.at("active"), true) << refresh;
  EXPECT_EQ(refresh.at("sub"), kAlice) << refresh;
  EXPECT_EQ(refresh.at("client_id"), "ropc") << refresh;
}

}  // namespace
