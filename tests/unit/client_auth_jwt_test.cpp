// JWT client authentication (RFC 7523 §2.2, §3; OIDC Core §9): private_key_jwt and
// client_secret_jwt assertions, decoded and checked claim by claim, their signatures verified.
#include "oidc/client.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "message_hygiene.hpp"

using namespace std::chrono_literals;
using oidc::AssertionAudience;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::JwsAlgorithm;
using oidc::SigningKey;
using oidc_testing::error_of;
using oidc_testing::FakeClock;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;

namespace {

constexpr const char* kIssuer = "https://auth.example.com/realms/core";
constexpr const char* kTokenUrl = "https://auth.example.com/realms/core/protocol/openid-connect/token";
constexpr const char* kIntrospectUrl = "https://auth.example.com/realms/core/protocol/openid-connect/token/introspect";
constexpr const char* kRevokeUrl = "https://auth.example.com/realms/core/protocol/openid-connect/revoke";
constexpr const char* kOk = R"({"access_token":"at-1","token_type":"Bearer","expires_in":300})";

std::string value(const oidc::Params& form, std::string_view name) {
  std::string out;
  int n = 0;
  for (const auto& [k, v] : form)
    if (k == name) {
      out = v;
      ++n;
    }
  EXPECT_LE(n, 1) << name << " sent " << n << " times";
  return out;
}

struct Decoded {
  nlohmann::json header, payload;
  std::string signing_input, signature;
};

Decoded decode(const std::string& jwt) {
  Decoded d;
  const auto a = jwt.find('.');
  const auto b = jwt.find('.', a + 1);
  EXPECT_NE(b, std::string::npos);
  EXPECT_EQ(jwt.find('.', b + 1), std::string::npos);
  d.header = nlohmann::json::parse(oidc::detail::base64url_decode_strict(jwt.substr(0, a)).value());
  d.payload = nlohmann::json::parse(oidc::detail::base64url_decode_strict(jwt.substr(a + 1, b - a - 1)).value());
  d.signing_input = jwt.substr(0, b);
  d.signature = oidc::detail::base64url_decode_strict(jwt.substr(b + 1)).value();
  return d;
}

struct JwtAuthFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();

  ClientConfig config(ClientAuthMethod method) const {
    ClientConfig c;
    c.issuer = kIssuer;
    c.token_endpoint = kTokenUrl;
    c.introspection_endpoint = kIntrospectUrl;
    c.revocation_endpoint = kRevokeUrl;
    c.client_id = "svc";
    c.auth_method = method;
    c.transport = transport;
    c.clock = clock;
    return c;
  }
  long long now_s() const { return std::chrono::duration_cast<std::chrono::seconds>(clock->now().time_since_epoch()).count(); }

  // The assertion of the last request, after checking the fields around it.
  std::string last_assertion() const {
    const auto req = transport->last();
    const auto form = form_of(req);
    EXPECT_FALSE(req.headers.contains("Authorization"));
    EXPECT_EQ(value(form, "client_id"), "svc");
    EXPECT_EQ(value(form, "client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    EXPECT_EQ(value(form, "client_secret"), "");
    return value(form, "client_assertion");
  }
};

}  // namespace

TEST_F(JwtAuthFixture, PrivateKeyJwtEveryAlgorithm) {
  for (const auto alg : {JwsAlgorithm::RS256, JwsAlgorithm::PS256, JwsAlgorithm::ES256, JwsAlgorithm::EdDSA}) {
    SCOPED_TRACE(std::string(oidc::to_string(alg)));
    const auto key = SigningKey::generate(alg, "key-1");
    auto cfg = config(ClientAuthMethod::private_key_jwt);
    cfg.signing_key = key;
    transport->push_json(200, kOk);
    (void)Client(cfg).client_credentials({"api"});
    EXPECT_EQ(value(form_of(transport->last()), "grant_type"), "client_credentials");
    const auto jwt = last_assertion();
    const auto d = decode(jwt);
    EXPECT_EQ(d.header["alg"], std::string(oidc::to_string(alg)));
    EXPECT_EQ(d.header["typ"], "JWT");
    EXPECT_EQ(d.header["kid"], "key-1");
    EXPECT_EQ(d.payload["iss"], "svc");
    EXPECT_EQ(d.payload["sub"], "svc");
    EXPECT_EQ(d.payload["aud"], kTokenUrl);
    EXPECT_EQ(d.payload["iat"], now_s());
    EXPECT_EQ(d.payload["exp"], now_s() + 60);
    ASSERT_TRUE(d.payload["jti"].is_string());
    const auto jti = oidc::detail::base64url_decode_strict(d.payload["jti"].get<std::string>());
    ASSERT_TRUE(jti);
    EXPECT_GE(jti->size(), 16u);
    EXPECT_EQ(d.payload.size(), 6u) << d.payload.dump();
    EXPECT_TRUE(key.verification_key().verify(alg, d.signing_input, d.signature));
    // Another key does not verify it: the check above can fail.
    EXPECT_FALSE(SigningKey::generate(alg).verification_key().verify(alg, d.signing_input, d.signature));
  }
}

TEST_F(JwtAuthFixture, FreshAssertionPerRequestFromTheClientsClock) {
  auto cfg = config(ClientAuthMethod::private_key_jwt);
  cfg.signing_key = SigningKey::generate(JwsAlgorithm::ES256);
  const Client client(cfg);
  std::set<std::string> jtis, assertions;
  for (int i = 0; i < 5; ++i) {
    transport->push_json(200, kOk);
    (void)client.client_credentials();
    const auto jwt = last_assertion();
    const auto d = decode(jwt);
    EXPECT_FALSE(d.header.contains("kid"));  // the key has none
    EXPECT_EQ(d.payload["iat"], now_s());
    EXPECT_EQ(d.payload["exp"], now_s() + 60);
    jtis.insert(d.payload["jti"].get<std::string>());
    assertions.insert(jwt);
    clock->advance(7s);
  }
  EXPECT_EQ(jtis.size(), 5u);
  EXPECT_EQ(assertions.size(), 5u);
}

TEST_F(JwtAuthFixture, ClientSecretJwtIsHs256WithTheSecret) {
  auto cfg = config(ClientAuthMethod::client_secret_jwt);
  cfg.client_secret = "a-client-secret-of-32-bytes-or-more!";
  transport->push_json(200, kOk);
  (void)Client(cfg).client_credentials();
  const auto d = decode(last_assertion());
  EXPECT_EQ(d.header["alg"], "HS256");
  EXPECT_EQ(d.header["typ"], "JWT");
  EXPECT_EQ(d.payload["iss"], "svc");
  EXPECT_EQ(d.payload["aud"], kTokenUrl);
  const auto body = transport->last().body;
  EXPECT_EQ(body.find("a-client-secret"), std::string::npos);  // only its signature travels
  EXPECT_TRUE(oidc::VerificationKey::from_secret(cfg.client_secret).verify(JwsAlgorithm::HS256, d.signing_input, d.signature));
  EXPECT_FALSE(oidc::VerificationKey::from_secret(oidc::Secret("another-secret-of-32-bytes-or-more!!"))
                   .verify(JwsAlgorithm::HS256, d.signing_input, d.signature));
}

TEST_F(JwtAuthFixture, AudienceModes) {
  auto cfg = config(ClientAuthMethod::private_key_jwt);
  cfg.signing_key = SigningKey::generate(JwsAlgorithm::RS256);

  // Default token_endpoint: also for introspection and revocation (OIDC Core §9).
  transport->push_json(200, R"({"active":false})");
  (void)Client(cfg).introspect("tok");
  EXPECT_EQ(decode(last_assertion()).payload["aud"], kTokenUrl);
  EXPECT_EQ(value(form_of(transport->last()), "token"), "tok");

  cfg.assertion_audience = AssertionAudience::issuer;
  transport->push_json(200, "");
  Client(cfg).revoke("tok");
  EXPECT_EQ(decode(last_assertion()).payload["aud"], kIssuer);

  cfg.assertion_audience = AssertionAudience::endpoint;
  transport->push_json(200, R"({"active":false})");
  (void)Client(cfg).introspect("tok");
  EXPECT_EQ(decode(last_assertion()).payload["aud"], kIntrospectUrl);
  transport->push_json(200, kOk);
  (void)Client(cfg).client_credentials();
  EXPECT_EQ(decode(last_assertion()).payload["aud"], kTokenUrl);

  cfg.assertion_audience = AssertionAudience::issuer;
  cfg.issuer.clear();
  auto e = error_of([&] { (void)Client(cfg).introspect("tok"); });
  EXPECT_EQ(e.code(), errc::config);
  EXPECT_NE(std::string(e.what()).find("issuer"), std::string::npos);
  cfg.assertion_audience = AssertionAudience::token_endpoint;
  cfg.token_endpoint.clear();
  EXPECT_EQ(error_of([&] { (void)Client(cfg).introspect("tok"); }).code(), errc::config);
}

TEST_F(JwtAuthFixture, ConfigErrors) {
  auto cfg = config(ClientAuthMethod::private_key_jwt);
  auto e = error_of([&] { (void)Client(cfg); });
  EXPECT_EQ(e.code(), errc::config);
  EXPECT_NE(std::string(e.what()).find("signing_key"), std::string::npos);

  cfg.signing_key = SigningKey::from_secret(oidc::Secret("a-client-secret-of-32-bytes-or-more!"));
  e = error_of([&] { (void)Client(cfg); });
  EXPECT_EQ(e.code(), errc::config);
  EXPECT_NE(std::string(e.what()).find("asymmetric"), std::string::npos);

  auto secret_jwt = config(ClientAuthMethod::client_secret_jwt);
  e = error_of([&] { (void)Client(secret_jwt); });
  EXPECT_EQ(e.code(), errc::config);
  EXPECT_NE(std::string(e.what()).find("client_secret"), std::string::npos);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(JwtAuthFixture, AssertionParametersAreReserved) {
  auto cfg = config(ClientAuthMethod::private_key_jwt);
  cfg.signing_key = SigningKey::generate(JwsAlgorithm::ES256);
  for (const char* name : {"client_assertion", "client_assertion_type"}) {
    const auto e = error_of([&] {
      (void)Client(cfg).request_token({{"grant_type", "client_credentials"}, {name, "x"}});
    });
    EXPECT_EQ(e.code(), errc::config) << name;
  }
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(JwtAuthFixture, EchoedAssertionIsRedacted) {
  auto cfg = config(ClientAuthMethod::private_key_jwt);
  cfg.signing_key = SigningKey::generate(JwsAlgorithm::ES256);
  const Client client(cfg);
  // The assertion is only known after the request: a transport that echoes it.
  struct Echo final : oidc::Transport {
    std::string assertion;
    bool valid_json = false;
    oidc::HttpResponse send(const oidc::HttpRequest& r) override {
      for (const auto& [k, v] : form_of(r))
        if (k == "client_assertion") assertion = v;
      oidc::HttpResponse out;
      out.status = 400;
      out.headers.set("Content-Type", "application/json");
      out.body = R"({"error":"invalid_client","error_description":"bad assertion )" + assertion + R"("})" +
                 (valid_json ? "" : " trailing " + assertion);
      return out;
    }
  };
  auto echo = std::make_shared<Echo>();
  cfg.transport = echo;
  auto e = error_of([&] { (void)Client(cfg).client_credentials(); });
  ASSERT_FALSE(echo->assertion.empty());
  EXPECT_EQ(e.code(), errc::http_status);  // not JSON: the body is excerpted, masked
  EXPECT_FALSE(e.body_snippet().empty());
  EXPECT_TRUE(oidc_testing::is_clean(e, {echo->assertion}));
  echo->valid_json = true;  // the assertion in error_description
  e = error_of([&] { (void)Client(cfg).client_credentials(); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_TRUE(oidc_testing::is_clean(e, {echo->assertion}));
}

TEST_F(JwtAuthFixture, OtherMethodsIgnoreTheSigningKey) {
  auto cfg = config(ClientAuthMethod::client_secret_post);
  cfg.client_secret = "s3cret";
  cfg.signing_key = SigningKey::generate(JwsAlgorithm::ES256);
  transport->push_json(200, kOk);
  (void)Client(cfg).client_credentials();
  const auto form = form_of(transport->last());
  EXPECT_EQ(value(form, "client_secret"), "s3cret");
  EXPECT_EQ(value(form, "client_assertion"), "");
}
