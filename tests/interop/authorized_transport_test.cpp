// make_authorized_transport against the provider's userinfo endpoint, a real resource server that
// answers 401 to a revoked token, with a password-grant CachingTokenSource (ropc-userinfo, alice,
// rotating refresh tokens) renewing through the real token endpoint.
//
// One test, in steps: CTest runs discovered tests as separate processes, in parallel under -j,
// and the exact request counts asserted here are the provider's, per client. ropc-userinfo is
// this file's alone.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "interop_support.hpp"
#include "oidc/authorized_transport.hpp"
#include "oidc/client.hpp"
#include "oidc/token_source.hpp"
#include "oidc/transport.hpp"

namespace {

using oidc_interop::kAlice;
using oidc_interop::kAlicePassword;
using oidc_interop::kRopcUserinfo;
using oidc_interop::Provider;

// Between the authorized transport and the network: records what went out and what came back,
// and can act (revoke) right before a request is sent.
class RecordingTransport final : public oidc::Transport {
 public:
  struct Exchange {
    std::string authorization;
    int status = 0;
    std::string www_authenticate;
  };

  explicit RecordingTransport(std::shared_ptr<oidc::Transport> base) : base_(std::move(base)) {}

  // Called with each request's access token before it is sent.
  void before_send(std::function<void(const std::string& access_token)> hook) {
    std::lock_guard<std::mutex> lock(m_);
    hook_ = std::move(hook);
  }

  oidc::HttpResponse send(const oidc::HttpRequest& request) override {
    const std::string authorization = request.headers.get("Authorization").value_or("");
    std::function<void(const std::string&)> hook;
    {
      std::lock_guard<std::mutex> lock(m_);
      hook = hook_;
    }
    if (hook) hook(authorization.rfind("Bearer ", 0) == 0 ? authorization.substr(7) : std::string());
    auto response = base_->send(request);
    std::lock_guard<std::mutex> lock(m_);
    exchanges_.push_back({authorization, response.status, response.headers.get("WWW-Authenticate").value_or("")});
    return response;
  }

  // The exchanges since the last call.
  std::vector<Exchange> take() {
    std::lock_guard<std::mutex> lock(m_);
    return std::exchange(exchanges_, {});
  }

 private:
  std::shared_ptr<oidc::Transport> base_;
  std::mutex m_;
  std::function<void(const std::string&)> hook_;
  std::vector<Exchange> exchanges_;
};

// Token endpoint requests of ropc-userinfo so far, by grant.
struct Counts {
  int password = 0, refresh = 0;
  static Counts now() {
    const auto& p = Provider::get();
    return {p.token_requests(kRopcUserinfo, "password"), p.token_requests(kRopcUserinfo, "refresh_token")};
  }
};

oidc::HttpResponse get_userinfo(oidc::Transport& transport) {
  oidc::HttpRequest request;
  request.method = "GET";
  request.url = Provider::get().endpoint("userinfo_endpoint");
  request.headers.set("Accept", "application/json");
  return transport.send(request);
}

std::string sub_of(const oidc::HttpResponse& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  return body.is_object() && body.contains("sub") && body["sub"].is_string() ? body["sub"].get<std::string>() : "";
}

TEST(InteropAuthorizedTransport, UserinfoRenewsOncePerRevocationAndRetriesOnce) {
  const auto& provider = Provider::get();
  const oidc::Client client(provider.config(kRopcUserinfo));
  auto source = client.token_source(
      oidc::grants::Password{std::string(kAlice), oidc::Secret(std::string(kAlicePassword)), "openid offline_access"});
  auto recorder = std::make_shared<RecordingTransport>(provider.transport());
  auto transport = oidc::make_authorized_transport(source, recorder);
  // What oidc-provider sends with a 401 for a revoked (or unknown) access token, RFC 6750 §3.
  const std::string invalid_token = "Bearer realm=\"" + provider.issuer() +
                                    "\", error=\"invalid_token\", error_description=\"invalid token provided\"";
  const auto bearer = [](const std::shared_ptr<const oidc::Token>& t) { return "Bearer " + t->access_token.expose(); };

  auto counts = Counts::now();
  const auto expect_counts = [&](int password, int refresh) {
    const auto c = Counts::now();
    EXPECT_EQ(c.password - counts.password, password) << "password grants";
    EXPECT_EQ(c.refresh - counts.refresh, refresh) << "refresh_token grants";
    counts = c;
  };

  {
    SCOPED_TRACE("a first call: one password grant, then userinfo with its token");
    const auto r = get_userinfo(*transport);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(sub_of(r), kAlice);
    const auto ex = recorder->take();
    ASSERT_EQ(ex.size(), 1u);
    EXPECT_EQ(ex[0].authorization, bearer(source->token()));
    expect_counts(1, 0);
    EXPECT_EQ(source->renewals(), 1u);
  }

  {
    SCOPED_TRACE("a revoked token: 401 invalid_token, one renewal, one retry, 200");
    const auto revoked = source->token();
    ASSERT_TRUE(revoked->has_refresh_token());
    provider.revoke(revoked->access_token.expose(), kRopcUserinfo);
    ASSERT_EQ(provider.introspect(revoked->access_token.expose()).value("active", true), false);
    // oidc-provider revokes the whole grant's tokens with its access token, refresh token included:
    // the renewal's refresh is refused and the source falls back to the password.
    EXPECT_EQ(provider.introspect(revoked->refresh_token.expose()).value("active", true), false);

    const auto r = get_userinfo(*transport);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(sub_of(r), kAlice);
    const auto ex = recorder->take();
    ASSERT_EQ(ex.size(), 2u);
    EXPECT_EQ(ex[0].authorization, bearer(revoked));
    EXPECT_EQ(ex[0].status, 401);
    EXPECT_EQ(ex[0].www_authenticate, invalid_token);
    const auto renewed = source->token();
    EXPECT_NE(renewed->access_token.expose(), revoked->access_token.expose());
    EXPECT_EQ(ex[1].authorization, bearer(renewed));
    EXPECT_EQ(ex[1].status, 200);
    expect_counts(1, 1);
    EXPECT_EQ(source->renewals(), 2u);
  }

  {
    SCOPED_TRACE("the retry is refused too: its 401 goes to the caller, after exactly one retry");
    provider.revoke(source->token()->access_token.expose(), kRopcUserinfo);
    // The renewed token is revoked right before the retry sends it: a real second 401.
    std::atomic<int> sends{0};
    recorder->before_send([&](const std::string& token) {
      if (sends.fetch_add(1) == 1) provider.revoke(token, kRopcUserinfo);
    });
    const auto r = get_userinfo(*transport);
    recorder->before_send(nullptr);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.headers.get("WWW-Authenticate").value_or(""), invalid_token);
    const auto ex = recorder->take();
    ASSERT_EQ(ex.size(), 2u);
    EXPECT_EQ(ex[0].status, 401);
    EXPECT_EQ(ex[1].status, 401);
    EXPECT_NE(ex[0].authorization, ex[1].authorization);
    expect_counts(1, 1);
    EXPECT_EQ(source->renewals(), 3u);

    // The token refused twice is still current (the transport does not drop the token of its
    // retry); the next call's own 401 drops it.
    EXPECT_EQ(bearer(source->token()), ex[1].authorization);
    const auto next = get_userinfo(*transport);
    EXPECT_EQ(next.status, 200) << next.body;
    const auto ex2 = recorder->take();
    ASSERT_EQ(ex2.size(), 2u);
    EXPECT_EQ(ex2[0].authorization, ex[1].authorization);
    EXPECT_EQ(ex2[0].status, 401);
    EXPECT_EQ(ex2[1].status, 200);
    expect_counts(1, 1);
    EXPECT_EQ(source->renewals(), 4u);
  }

  {
    SCOPED_TRACE("8 threads at once after a revocation: one renewal, all 200");
    const auto revoked = source->token();
    provider.revoke(revoked->access_token.expose(), kRopcUserinfo);
    constexpr int kThreads = 8;
    // The first attempts are held until all 8 are in, so that all 8 go out with the revoked token
    // and their 401s (and retries) overlap, however the threads happen to be scheduled.
    std::atomic<int> arrived{0};
    recorder->before_send([&](const std::string&) {
      if (arrived.fetch_add(1) >= kThreads) return;  // a retry
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (arrived.load() < kThreads && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    });
    std::vector<oidc::HttpResponse> responses(kThreads);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        try {
          responses[static_cast<std::size_t>(i)] = get_userinfo(*transport);
        } catch (const std::exception& e) {
          errors[static_cast<std::size_t>(i)] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    recorder->before_send(nullptr);
    for (int i = 0; i < kThreads; ++i) {
      const auto& r = responses[static_cast<std::size_t>(i)];
      EXPECT_EQ(errors[static_cast<std::size_t>(i)], "");
      EXPECT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(sub_of(r), kAlice);
    }
    const auto renewed = source->token();
    int refused = 0;
    const auto ex = recorder->take();
    EXPECT_EQ(ex.size(), 2u * kThreads);  // each thread: the refused request and its one retry
    for (const auto& e : ex) {
      if (e.status == 401) {
        ++refused;
        EXPECT_EQ(e.authorization, bearer(revoked));
        EXPECT_EQ(e.www_authenticate, invalid_token);
      } else {
        EXPECT_EQ(e.status, 200);
        EXPECT_EQ(e.authorization, bearer(renewed));
      }
    }
    EXPECT_EQ(refused, kThreads);
    expect_counts(1, 1);
    EXPECT_EQ(source->renewals(), 5u);
  }
}

}  // namespace
