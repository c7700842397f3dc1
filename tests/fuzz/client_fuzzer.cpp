// A whole oidc::Client over a transport that answers every request with the next fuzzed response
// (responses separated by "\n=====\n", each in fuzz_support.hpp's text format; a response "!t"
// is a transport timeout, "!c" a refused connection). Runs client credentials, password, refresh,
// and a device login with its polling, on a fake clock whose sleeps return at once.
// Invariant: nothing but oidc::Error escapes the Client.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "fake_clock.hpp"
#include "fuzz_support.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"
#include "oidc/transport.hpp"

namespace {

// Bounds the device polling loop: a server answering authorization_pending forever is not news.
constexpr std::size_t kMaxRequests = 32;

class ScriptedTransport final : public oidc::Transport {
 public:
  explicit ScriptedTransport(std::vector<std::string_view> script) : script_(std::move(script)) {}
  oidc::HttpResponse send(const oidc::HttpRequest&) override {
    if (next_ >= script_.size() || next_ >= kMaxRequests)
      throw oidc::Error(oidc::errc::connect, "fuzz transport", "script exhausted");
    const auto step = script_[next_++];
    if (step == "!t") throw oidc::Error(oidc::errc::timeout, "fuzz transport", "timed out");
    if (step == "!c") throw oidc::Error(oidc::errc::connect, "fuzz transport", "refused");
    return oidc_fuzz::parse_http(step);
  }

 private:
  std::vector<std::string_view> script_;
  std::size_t next_ = 0;
};

template <class F>
void attempt(F f) {
  try {
    f();
  } catch (const oidc::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto transport =
      std::make_shared<ScriptedTransport>(oidc_fuzz::split_responses({reinterpret_cast<const char*>(data), size}));
  auto clock = std::make_shared<oidc_testing::FakeClock>();
  auto client_with = [&](oidc::ClientAuthMethod method) {
    oidc::ClientConfig cfg;
    cfg.client_id = "fuzz-client";
    cfg.client_secret = method == oidc::ClientAuthMethod::none ? "" : std::string(oidc_fuzz::kSecret);
    cfg.auth_method = method;
    cfg.token_endpoint = "https://auth.example.com/token";
    cfg.device_authorization_endpoint = "https://auth.example.com/device";
    cfg.transport = transport;
    cfg.clock = clock;
    return oidc::Client(cfg);
  };
  const auto basic = client_with(oidc::ClientAuthMethod::client_secret_basic);
  const auto post = client_with(oidc::ClientAuthMethod::client_secret_post);
  const auto pub = client_with(oidc::ClientAuthMethod::none);

  oidc::Token token;
  token.access_token = "old-access";
  token.refresh_token = "old-refresh-token";
  attempt([&] { token = basic.client_credentials(); });
  attempt([&] { token = post.password("alice", "correct horse battery staple"); });
  attempt([&] {
    if (!token.has_refresh_token()) token.refresh_token = "old-refresh-token";
    token = pub.refresh(token);
  });
  attempt([&] {
    const auto authorization = pub.device_authorization();
    oidc::DevicePollOptions options;
    options.on_pending = [](const oidc::DevicePollProgress&) {};
    (void)pub.poll_device_token(authorization, options);
  });
  return 0;
}
