// The deprecated implicit grant (RFC 6749 §4.2): seed 002's request and fragment response, and the
// same callback checks as the code flow.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "seed_documents.hpp"

// The API under test is deprecated on purpose.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using oidc::errc;
using oidc_testing::error_of;
namespace seeds = oidc_testing::seeds;

namespace {

oidc::Client seed_client() {
  oidc::ClientConfig c;
  c.authorization_endpoint = "https://localhost:5001/master/authorization";
  c.client_id = "your_client_id";
  c.transport = std::make_shared<oidc_testing::FakeTransport>();
  c.clock = std::make_shared<oidc_testing::FakeClock>();
  return oidc::Client(c);
}

oidc::AuthorizationOptions seed_options() {
  oidc::AuthorizationOptions o;
  o.redirect_uri = "https://your-app.com/callback";
  o.scope = "openid profile";
  o.state = "1234567890";
  o.nonce = "n-0S6_WzA2Mj";
  return o;
}

// Seed 002's request, with the doubled '&' of the document dropped and the nonce OpenID Connect
// requires for openid added (the document sends none).
TEST(Implicit, RequestOfSeed002) {
  const auto req = seed_client().implicit_request(seed_options());
  EXPECT_EQ(req.url(),
            "https://localhost:5001/master/authorization?response_type=token&client_id=your_client_id"
            "&redirect_uri=https%3A%2F%2Fyour-app.com%2Fcallback&scope=openid+profile&state=1234567890"
            "&nonce=n-0S6_WzA2Mj");
  EXPECT_EQ(req.url().find("code_challenge"), std::string::npos);
}

TEST(Implicit, FragmentResponseOfSeed002BecomesAToken) {
  const auto client = seed_client();
  auto req = client.implicit_request(seed_options());
  const auto token = client.implicit_token(std::move(req), "https://your-app.com/callback#" +
                                                                std::string(seeds::kSeed002ImplicitRedirectFragment));
  EXPECT_EQ(token.access_token.expose(), seeds::kSeed002ImplicitAccessToken);
  EXPECT_EQ(token.authorization_header(), "Bearer " + std::string(seeds::kSeed002ImplicitAccessToken));
  EXPECT_FALSE(token.has_refresh_token());
  EXPECT_EQ(token.extra.value("session_state", ""),
            "oJK5q8N1SnWeXGsLxRdSmpZiIKSgnJn1D7enzyA6_xE.c5ea6702-2d7a-4f2f-8687-c0618545d973");
  EXPECT_FALSE(token.extra.contains("state"));
  // No expires_in, and the JWT's exp (2023) lies before the clock: expiry unknown, as documented.
  EXPECT_FALSE(token.expiry);
}

TEST(Implicit, ExpiresInAndScopeFromTheFragment) {
  const auto client = seed_client();
  auto req = client.implicit_request(seed_options());
  const auto cb = "#access_token=abc.def&token_type=bearer&expires_in=3600&scope=openid+profile&state=1234567890";
  const auto token = client.implicit_token(std::move(req), cb);
  ASSERT_TRUE(token.expiry);
  EXPECT_EQ(*token.expiry - token.received_at, std::chrono::seconds(3600));
  EXPECT_EQ(token.scope, "openid profile");
}

TEST(Implicit, StateErrorsAndHostileValuesAreRefused) {
  const auto client = seed_client();
  struct Case {
    const char* callback;
    errc code;
  };
  for (const auto& c : {Case{"#access_token=abc&token_type=Bearer&state=other", errc::state_mismatch},
                        Case{"#access_token=abc&token_type=Bearer", errc::state_mismatch},
                        Case{"#error=access_denied&state=1234567890", errc::oauth_error},
                        Case{"#access_token=a%0D%0AX-Injected:%201&token_type=Bearer&state=1234567890", errc::parse},
                        Case{"#access_token=abc&token_type=Bearer&refresh_token=r&state=1234567890", errc::parse},
                        Case{"#access_token=abc&token_type=mac&state=1234567890", errc::unsupported_token_type},
                        Case{"#token_type=Bearer&state=1234567890", errc::parse},
                        Case{"?access_token=abc&token_type=Bearer&state=1234567890", errc::parse},
                        Case{"#access_token=abc&access_token=def&state=1234567890", errc::parse}}) {
    auto req = client.implicit_request(seed_options());
    const auto e = error_of([&] { (void)client.implicit_token(std::move(req), c.callback); });
    EXPECT_EQ(e.code(), c.code) << c.callback << ": " << e.what();
    EXPECT_TRUE(oidc_testing::is_clean(e, {"abc", "def"})) << c.callback;
  }
}

TEST(Implicit, ARequestIsUsedOnce) {
  const auto client = seed_client();
  auto req = client.implicit_request(seed_options());
  (void)client.implicit_token(std::move(req), "#access_token=abc&token_type=Bearer&state=1234567890");
  EXPECT_EQ(error_of([&] {
              (void)client.implicit_token(std::move(req),  // NOLINT(bugprone-use-after-move)
                                          "#access_token=abc&token_type=Bearer&state=1234567890");
            }).code(),
            errc::config);
}

}  // namespace
