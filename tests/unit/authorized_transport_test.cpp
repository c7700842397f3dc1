#include "oidc/authorized_transport.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"

using namespace std::chrono_literals;
using oidc_testing::FakeTransport;

namespace {
oidc::HttpResponse status(int s) {
  oidc::HttpResponse r;
  r.status = s;
  return r;
}
}  // namespace

TEST(AuthorizedTransport, AddsTheHeaderToACopyOfTheRequest) {
  auto api = std::make_shared<FakeTransport>();
  api->push(status(200));
  oidc::Token t;
  t.access_token = "abc";
  t.token_type = "bearer";
  auto transport = oidc::make_authorized_transport(std::make_shared<oidc::StaticTokenSource>(t), api);
  oidc::HttpRequest req;
  req.method = "GET";
  req.url = "https://api.example.com/v1/networks";
  EXPECT_EQ(transport->send(req).status, 200);
  EXPECT_EQ(api->last().headers.get("Authorization"), "Bearer abc");
  EXPECT_FALSE(req.headers.contains("Authorization"));  // the caller's request is untouched
}

TEST(AuthorizedTransport, On401RenewsOnceAndRetries) {
  auto idp = std::make_shared<FakeTransport>();
  idp->push_json(200, R"({"access_token":"t1","expires_in":300})");
  idp->push_json(200, R"({"access_token":"t2","expires_in":300})");
  oidc::ClientConfig c;
  c.token_endpoint = "https://auth.example.com/token";
  c.client_id = "svc";
  c.client_secret = "s";
  c.transport = idp;
  c.clock = std::make_shared<oidc_testing::FakeClock>();
  auto source = oidc::Client(c).token_source(oidc::grants::ClientCredentials{});

  auto api = std::make_shared<FakeTransport>();
  api->push(status(401));
  api->push(status(200));
  api->push(status(401));
  api->push(status(401));
  auto transport = oidc::make_authorized_transport(source, api);
  oidc::HttpRequest req;
  req.method = "GET";
  req.url = "https://api.example.com/v1";
  EXPECT_EQ(transport->send(req).status, 200);
  const auto sent = api->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].headers.get("Authorization"), "Bearer t1");
  EXPECT_EQ(sent[1].headers.get("Authorization"), "Bearer t2");
  // A second 401 after the retry is the answer: no loop.
  idp->push_json(200, R"({"access_token":"t3","expires_in":300})");
  EXPECT_EQ(transport->send(req).status, 401);
  EXPECT_EQ(api->request_count(), 4u);
}
