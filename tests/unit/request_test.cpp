// The free request path (detail/request.hpp): what discovery, JWKS, introspection and revocation
// will use without a Client.
#include "oidc/detail/request.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "error_of.hpp"
#include "fake_transport.hpp"

using namespace std::chrono_literals;
using oidc::ClientAuthMethod;
using oidc::errc;
using oidc::Params;
using oidc::detail::ClientAuthentication;
using oidc::detail::RequestContext;
using oidc_testing::error_of;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;

namespace {

constexpr const char* kUrl = "https://auth.example.com/revoke";

struct RequestFixture : ::testing::Test {
  FakeTransport transport;
  oidc::Headers extra{{"Host", "auth.example.com"}};

  RequestContext context() {
    RequestContext ctx;
    ctx.transport = &transport;
    ctx.timeout = 1500ms;
    ctx.extra_headers = &extra;
    return ctx;
  }
};

}  // namespace

TEST_F(RequestFixture, PostFormWithoutClientAuthenticationSendsTheFormAsIs) {
  transport.push_json(200, "{}");
  oidc::CancelToken cancel;
  auto ctx = context();
  ctx.cancel = cancel;
  const auto out = oidc::detail::post_form(ctx, kUrl, {{"token", "tok-1"}, {"token_type_hint", "refresh_token"}},
                                           "revocation");
  const auto req = transport.last();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, kUrl);
  EXPECT_EQ(req.timeout, 1500ms);
  EXPECT_EQ(req.headers.get("Host"), "auth.example.com");
  EXPECT_EQ(req.headers.get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.headers.get("Accept"), "application/json");
  EXPECT_FALSE(req.headers.contains("Authorization"));
  EXPECT_EQ(form_of(req), (Params{{"token", "tok-1"}, {"token_type_hint", "refresh_token"}}));
  ASSERT_TRUE(req.cancel.has_value());
  cancel.cancel();
  EXPECT_TRUE(req.cancel->cancelled());  // the caller's token itself
  ASSERT_EQ(out.secret_views().size(), 1u);
  EXPECT_EQ(out.secret_views()[0], "tok-1");
}

TEST_F(RequestFixture, PostFormWithClientAuthenticationReportsEverySentSecret) {
  transport.push_json(200, "{}");
  const ClientAuthentication auth(ClientAuthMethod::client_secret_basic, "svc", "s3cret");
  auto ctx = context();
  ctx.client_auth = &auth;
  const auto out = oidc::detail::post_form(ctx, kUrl, {{"token", "tok-1"}}, "revocation");
  EXPECT_EQ(transport.last().headers.get("Authorization"), "Basic c3ZjOnMzY3JldA==");  // base64("svc:s3cret")
  const auto secrets = out.secret_views();
  // The plain "id:secret" too: the redactor derives its other Base64 forms (url alphabet, unpadded).
  const std::vector<std::string_view> expected{"tok-1", "s3cret", "svc:s3cret", "c3ZjOnMzY3JldA=="};
  EXPECT_EQ(secrets, expected);
  // client_id/client_secret come from the authentication, never from the form.
  EXPECT_EQ(error_of([&] { (void)oidc::detail::post_form(ctx, kUrl, {{"client_id", "x"}}, "revocation"); }).code(),
            errc::config);
  EXPECT_EQ(transport.request_count(), 1u);
}

TEST_F(RequestFixture, MakeRequestChecksTheUrlAndSendNamesTheOperation) {
  auto ctx = context();
  EXPECT_EQ(error_of([&] { (void)oidc::detail::make_request(ctx, "GET", "http://idp.example.com/jwks", "jwks"); })
                .code(),
            errc::insecure_url);
  const auto get = oidc::detail::make_request(ctx, "GET", "https://idp.example.com/jwks", "jwks");
  EXPECT_EQ(get.method, "GET");
  EXPECT_TRUE(get.body.empty());
  EXPECT_FALSE(get.cancel.has_value());

  auto throwing = oidc::make_transport([](const oidc::HttpRequest&) -> oidc::HttpResponse {
    throw std::runtime_error("socket closed");
  });
  const auto e = error_of([&] { (void)oidc::detail::send(*throwing, get, "JWKS request"); });
  EXPECT_EQ(e.code(), errc::transport);
  EXPECT_EQ(e.operation(), "JWKS request");
}
