// Discovery and JWK Set fetching over the real libcurl transport against MisbehavingServer (raw
// HTTP on a loopback socket): the request path, the RFC 8414 fallback URL as sent on the wire,
// redirects not followed, size caps and single-flight fetching counted at the server.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "misbehaving_server.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/discovery.hpp"
#include "oidc/jwks.hpp"

namespace {

using namespace std::chrono_literals;
using oidc::errc;
using oidc_testing::error_of;
using oidc_testing::FakeClock;
using oidc_testing::MisbehavingServer;

std::string document(const std::string& issuer, const std::string& base) {
  return R"({"issuer":")" + issuer + R"(","authorization_endpoint":")" + base + R"(/auth","token_endpoint":")" + base +
         R"(/token","jwks_uri":")" + base + R"(/certs","response_types_supported":["code"],)"
         R"("subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]})";
}

oidc::DiscoveryOptions options() {
  oidc::DiscoveryOptions o;
  o.transport = oidc::make_curl_transport();
  o.timeout = 5000ms;
  return o;
}

TEST(DiscoveryIntegration, OpenIdConfigurationOverCurl) {
  MisbehavingServer server;
  const std::string issuer = server.url("/realms/core");
  server.push(MisbehavingServer::text(200, "application/json;charset=UTF-8", document(issuer, issuer + "/oidc")));
  const auto m = oidc::discover(issuer, options());
  EXPECT_EQ(m.token_endpoint, issuer + "/oidc/token");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/realms/core/.well-known/openid-configuration");
  EXPECT_EQ(server.requests()[0].header("Accept"), std::optional<std::string>("application/json"));
}

TEST(DiscoveryIntegration, Rfc8414FallbackInsertsAfterHost) {
  MisbehavingServer server;
  const std::string issuer = server.url("/realms/core");
  server.push(MisbehavingServer::text(404, "text/html", "<h1>Not Found</h1>"));
  server.push(MisbehavingServer::json(200, document(issuer, issuer)));
  EXPECT_EQ(oidc::discover(issuer, options()).jwks_uri, issuer + "/certs");
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].target, "/.well-known/oauth-authorization-server/realms/core");
}

TEST(DiscoveryIntegration, BothAbsent) {
  MisbehavingServer server(MisbehavingServer::text(404, "text/plain", "no"));
  const auto e = error_of([&] { (void)oidc::discover(server.url("/x"), options()); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(DiscoveryIntegration, RedirectIsNotFollowed) {
  MisbehavingServer server;
  MisbehavingServer target;
  const std::string issuer = server.url("/realms/core");
  server.push(MisbehavingServer::raw("HTTP/1.1 302 Found\r\nLocation: " + target.url("/.well-known/openid-configuration") +
                                     "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  const auto e = error_of([&] { (void)oidc::discover(issuer, options()); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 302);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(target.connections(), 0u);
}

TEST(DiscoveryIntegration, NonJsonContentTypeAndIssuerMismatch) {
  MisbehavingServer server;
  const std::string issuer = server.url("/realms/core");
  server.push(MisbehavingServer::text(200, "text/html", document(issuer, issuer)));
  EXPECT_EQ(error_of([&] { (void)oidc::discover(issuer, options()); }).code(), errc::parse);
  server.push(MisbehavingServer::json(200, document(issuer + "/", issuer)));
  EXPECT_EQ(error_of([&] { (void)oidc::discover(issuer, options()); }).code(), errc::issuer_mismatch);
  server.push(MisbehavingServer::json(200, document(issuer, "http://sso.example.com")));
  EXPECT_EQ(error_of([&] { (void)oidc::discover(issuer, options()); }).code(), errc::insecure_url);
}

TEST(DiscoveryIntegration, HugeDocumentCapped) {
  MisbehavingServer server;
  const std::string issuer = server.url("");
  std::string doc = document(issuer, issuer);
  doc.insert(1, "\"x_pad\":\"" + std::string(600 * 1024, 'a') + "\",");
  server.push(MisbehavingServer::json(200, doc));
  EXPECT_EQ(error_of([&] { (void)oidc::discover(issuer, options()); }).code(), errc::response_too_large);
}

TEST(JwksIntegration, ConcurrentCallersOneRequestThenRateLimited) {
  const std::string set =
      R"({"keys":[{"kty":"RSA","kid":"k1","use":"sig","n":"AQAB","e":"AQAB"}]})";
  MisbehavingServer server(MisbehavingServer::json(200, set));
  auto clock = std::make_shared<FakeClock>();
  oidc::FetchOptions f;
  f.transport = oidc::make_curl_transport();
  f.clock = clock;
  oidc::JwksCache cache(server.url("/certs"), f);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) EXPECT_TRUE(cache.keys_for("kid-" + std::to_string(i * 100 + k)));
    });
  for (auto& t : threads) t.join();
  // One fetch shared by all; unknown kids within min_refetch_interval of it fetch nothing.
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests().size(), cache.fetches());
  EXPECT_EQ(server.requests()[0].target, "/certs");
}

TEST(JwksIntegration, ServerDownWithoutSetBacksOff) {
  MisbehavingServer server(MisbehavingServer::text(503, "text/plain", "down"));
  auto clock = std::make_shared<FakeClock>();
  oidc::FetchOptions f;
  f.transport = oidc::make_curl_transport();
  f.clock = clock;
  oidc::JwksCache cache(server.url("/certs"), f);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(error_of([&] { (void)cache.keys_for(std::nullopt); }).code(), errc::http_status);
  EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
