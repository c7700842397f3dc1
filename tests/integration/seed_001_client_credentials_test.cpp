// Seed 001 (Keycloak client credentials, confidential client `svc`, realm "core") replayed through
// the real libcurl transport against the in-process LocalProvider.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fake_clock.hpp"
#include "local_provider.hpp"
#include "provider_fixture.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/form.hpp"
#include "seed_documents.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::Params;
using oidc_testing::FakeClock;
using oidc_testing::LocalProvider;
using oidc_testing::RecordedRequest;
using oidc_testing::str;
namespace seeds = oidc_testing::seeds;

namespace {


std::vector<std::string> names_of(const Params& fields) {
  std::vector<std::string> names;
  for (const auto& field : fields) names.push_back(field.first);
  return names;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class Seed001ClientCredentials : public oidc_testing::ProviderFixture {
 protected:
  ClientConfig svc_config(ClientAuthMethod method) const {
    ClientConfig c;
    c.token_endpoint = provider.token_endpoint(LocalProvider::kCoreRealm);
    c.client_id = str(LocalProvider::kServiceClientId);
    c.client_secret = str(LocalProvider::kServiceClientSecret);
    c.auth_method = method;
    c.transport = oidc::make_curl_transport();  // never the static default transport
    c.clock = clock;
    return c;
  }

  RecordedRequest only_token_request() const {
    const auto requests = provider.requests(LocalProvider::token_path(LocalProvider::kCoreRealm));
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? RecordedRequest{} : requests.front();
  }

  void expect_form_post_headers(const RecordedRequest& r) const {
    oidc_testing::expect_library_form_post(r);
    EXPECT_EQ(r.target, LocalProvider::token_path(LocalProvider::kCoreRealm));  // no query string
    EXPECT_EQ(r.header("Host"), "127.0.0.1:" + std::to_string(provider.port()));
    EXPECT_EQ(r.header("User-Agent"), "oidc-cpp/" OIDC_VERSION);
    EXPECT_FALSE(r.has_header("Expect"));
  }
};

}  // namespace

TEST_F(Seed001ClientCredentials, ClientSecretPostSendsExactlyTheDocumentedFields) {
  const Client client(svc_config(ClientAuthMethod::client_secret_post));
  const auto token = client.client_credentials();

  const auto r = only_token_request();
  expect_form_post_headers(r);
  EXPECT_FALSE(r.has_header("Authorization"));
  const Params expected{{"grant_type", "client_credentials"}, {"client_id", "svc"}, {"client_secret", "svc-secret"}};
  EXPECT_EQ(r.form, expected);
  EXPECT_EQ(r.body, "grant_type=client_credentials&client_id=svc&client_secret=svc-secret");
  // The document's curl sends the same three fields (in another order, which RFC 6749 leaves free).
  EXPECT_EQ(sorted(names_of(r.form)),
            sorted(names_of(oidc::detail::form_decode(seeds::kSeed001ClientCredentialsRequestBodyTemplate))));

  EXPECT_FALSE(token.access_token.empty());
  EXPECT_EQ(token.token_type, "Bearer");
  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(token.authorization_header(), "Bearer " + token.access_token.expose());
  ASSERT_TRUE(token.expiry.has_value());
  // expires_in (300, "e.g. 5 minutes") counts from the client's clock, not the JWT's exp claim.
  EXPECT_EQ(*token.expiry, clock->now() + std::chrono::seconds(seeds::kSeed001ExpiresIn));
  EXPECT_EQ(token.received_at, clock->now());
  EXPECT_FALSE(token.has_refresh_token());  // Keycloak never issues one for client_credentials
  EXPECT_FALSE(token.refresh_expiry.has_value());  // refresh_expires_in is 0
  EXPECT_TRUE(token.id_token.empty());
  EXPECT_EQ(token.scope, "profile email");  // the client's default scope
  EXPECT_EQ(token.extra.at("not-before-policy"), 0);
  EXPECT_TRUE(token.extra.at("session_state").is_string());
  EXPECT_FALSE(token.extra.contains("access_token"));
}

TEST_F(Seed001ClientCredentials, ClientSecretPostWithScope) {
  const Client client(svc_config(ClientAuthMethod::client_secret_post));
  const auto token = client.client_credentials({"profile"});

  const auto r = only_token_request();
  expect_form_post_headers(r);
  EXPECT_FALSE(r.has_header("Authorization"));
  const Params expected{{"grant_type", "client_credentials"},
                        {"scope", "profile"},
                        {"client_id", "svc"},
                        {"client_secret", "svc-secret"}};
  EXPECT_EQ(r.form, expected);
  EXPECT_EQ(token.scope, "profile");
  EXPECT_EQ(*token.expiry, clock->now() + 300s);
  EXPECT_FALSE(token.has_refresh_token());
}

TEST_F(Seed001ClientCredentials, ClientSecretBasicSendsOnlyTheGrantInTheBody) {
  const Client client(svc_config(ClientAuthMethod::client_secret_basic));
  const auto token = client.client_credentials({"email profile"});

  const auto r = only_token_request();
  expect_form_post_headers(r);
  EXPECT_EQ(r.headers.count("Authorization"), 1u);
  EXPECT_EQ(r.header("Authorization"), "Basic c3ZjOnN2Yy1zZWNyZXQ=");  // base64("svc:svc-secret")
  const Params expected{{"grant_type", "client_credentials"}, {"scope", "email profile"}};
  EXPECT_EQ(r.form, expected);
  EXPECT_EQ(r.body, "grant_type=client_credentials&scope=email+profile");
  EXPECT_FALSE(r.form_value("client_id").has_value());
  EXPECT_FALSE(r.form_value("client_secret").has_value());

  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(token.scope, "email profile");
  EXPECT_EQ(*token.expiry, clock->now() + 300s);
  EXPECT_FALSE(token.has_refresh_token());
}

TEST_F(Seed001ClientCredentials, ExtraParametersReachTheServerInOrder) {
  const Client client(svc_config(ClientAuthMethod::client_secret_post));
  const auto token = client.client_credentials(
      {"profile", {{"audience", "orders-api"}, {"resource", "https://api.example.com/v1"}}});

  const auto r = only_token_request();
  expect_form_post_headers(r);
  const Params expected{{"grant_type", "client_credentials"},
                        {"scope", "profile"},
                        {"audience", "orders-api"},
                        {"resource", "https://api.example.com/v1"},
                        {"client_id", "svc"},
                        {"client_secret", "svc-secret"}};
  EXPECT_EQ(r.form, expected);
  EXPECT_NE(r.body.find("&resource=https%3A%2F%2Fapi.example.com%2Fv1&"), std::string::npos) << r.body;
  EXPECT_FALSE(token.access_token.empty());
}

TEST_F(Seed001ClientCredentials, EachCallIsANewGrantWithANewToken) {
  const Client client(svc_config(ClientAuthMethod::client_secret_post));
  const auto first = client.client_credentials();
  clock->advance(301s);  // the 5-minute token has expired
  EXPECT_TRUE(first.expired(clock->now()));
  const auto second = client.client_credentials();

  EXPECT_FALSE(second.access_token.equals(first.access_token.expose()));
  EXPECT_FALSE(second.expired(clock->now()));
  const auto requests = provider.requests(LocalProvider::token_path());
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].form, requests[1].form);
}
