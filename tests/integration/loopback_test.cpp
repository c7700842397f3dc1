// The loopback redirect (RFC 8252 §7.3, §8.3) over real sockets: the listener from
// include/oidc/loopback.hpp, a test thread playing the browser with raw HTTP/1.1, and a scripted
// transport as the token endpoint. Every wait is bounded; the only real waits are the 200-ms
// timeout test and the time the listener takes to answer.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "error_of.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"
#include "oidc/loopback.hpp"

using oidc::errc;
using oidc_testing::error_of;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

constexpr const char* kTokenJson =
    R"({"access_token":"at-loopback","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-loopback"})";
constexpr const char* kClosePage = "You may close this window";

#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

std::string param(const oidc::Params& p, const std::string& name) {
  for (const auto& [n, v] : p)
    if (n == name) return v;
  return "<absent>";
}
oidc::Params query_of(const std::string& url) {
  const auto q = url.find('?');
  return q == std::string::npos ? oidc::Params{} : oidc::detail::form_decode(url.substr(q + 1));
}

// "http://127.0.0.1:49152/callback" -> host "127.0.0.1" (or "::1"), port, path.
struct Endpoint {
  std::string host;
  int port = 0;
  std::string path;
};
Endpoint endpoint_of(const std::string& uri) {
  const auto start = uri.find("://") + 3;
  const auto slash = uri.find('/', start);
  const auto colon = uri.rfind(':', slash);
  std::string host = uri.substr(start, colon - start);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, std::stoi(uri.substr(colon + 1, slash - colon - 1)), uri.substr(slash)};
}

// A raw TCP connection to the listener, with bounded waits.
class Connection {
 public:
  Connection(const std::string& host, int port) {
    const bool v6 = host.find(':') != std::string::npos;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    int rc = -1;
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET, host.c_str(), &a.sin_addr);
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
    if (rc != 0) {
      error_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] int connect_error() const { return error_; }

  // Sends all of `data`; false when the peer closed or reset the connection first.
  bool send_all(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const auto n = ::send(fd_, data.data() + off, data.size() - off, kSendFlags);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Everything until the peer closes (or resets) the connection, or `limit` passes; `closed`
  // says which.
  std::string read_until_closed(milliseconds limit, bool* closed = nullptr) {
    std::string out;
    const auto until = steady::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(until - steady::now()).count();
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }

 private:
  int fd_ = -1;
  int error_ = 0;
};

struct Reply {
  int status = 0;  // 0: no HTTP answer
  std::string head, body;
};

// What a browser does with the redirect: one GET (or another method) of `target`.
Reply browse(const std::string& host, int port, const std::string& target, const std::string& method = "GET") {
  Connection c(host, port);
  Reply r;
  if (!c.connected()) return r;
  const std::string authority = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!c.send_all(method + " " + target + " HTTP/1.1\r\nHost: " + authority + ":" + std::to_string(port) +
                  "\r\nUser-Agent: loopback-test\r\nAccept: text/html\r\nConnection: close\r\n\r\n"))
    return r;
  const auto raw = c.read_until_closed(milliseconds(5000));
  const auto blank = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || blank == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.head = raw.substr(0, blank);
  r.body = raw.substr(blank + 4);
  return r;
}

bool refuses_connections(const std::string& host, int port) {
  Connection c(host, port);
  return !c.connected() && c.connect_error() == ECONNREFUSED;
}

bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

long long ms_since(steady::time_point t) {
  return std::chrono::duration_cast<milliseconds>(steady::now() - t).count();
}

struct LoopbackTest : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::thread browser;

  void SetUp() override {
    if (!oidc::loopback_available()) {
      EXPECT_EQ(error_of([] { oidc::LoopbackListener l; }).code(), errc::config);
      GTEST_SKIP() << "built with OIDC_WITH_LOOPBACK=OFF";
    }
  }
  void TearDown() override {
    if (browser.joinable()) browser.join();
  }

  oidc::Client client() {
    oidc::ClientConfig c;
    c.authorization_endpoint = "https://auth.example.com/authorize";
    c.token_endpoint = "https://auth.example.com/token";
    c.client_id = "native-app";
    c.auth_method = oidc::ClientAuthMethod::none;  // a native app is a public client (RFC 8252 §8.4)
    c.transport = transport;
    c.validate_id_tokens = false;  // the scripted token response has no ID token; see openid_connect_test.cpp
    return oidc::Client(c);
  }
};

// What the browser saw, for the assertions on the main thread.
struct BrowserLog {
  std::string authorization_url, redirect_uri, state;
  std::vector<Reply> replies;
};

TEST_F(LoopbackTest, LoginThroughTheBrowserIgnoresStrayRequestsAndStopsListening) {
  transport->push_json(200, kTokenJson);
  BrowserLog log;
  oidc::LoopbackOptions lo;
  lo.timeout = milliseconds(10000);
  lo.open_browser = [&](const std::string& url) {
    log.authorization_url = url;
    const auto q = query_of(url);
    log.redirect_uri = param(q, "redirect_uri");
    log.state = param(q, "state");
    // Like xdg-open, the browser runs on its own while the application waits.
    browser = std::thread([&log] {
      const auto ep = endpoint_of(log.redirect_uri);
      log.replies.push_back(browse(ep.host, ep.port, "/favicon.ico"));
      log.replies.push_back(browse(ep.host, ep.port, ep.path + "?code=evil-code&state=forged-state"));
      log.replies.push_back(browse(ep.host, ep.port, ep.path + "?code=no-state"));
      log.replies.push_back(browse(ep.host, ep.port, ep.path + "?code=the-code&state=" + log.state, "POST"));
      log.replies.push_back(browse(ep.host, ep.port, ep.path + "?code=the-code&state=" + log.state));
    });
  };
  const auto start = steady::now();
  const oidc::Token token = oidc::loopback_login(client(), {{}, "openid"}, lo);
  const auto elapsed = ms_since(start);
  browser.join();

  EXPECT_EQ(token.authorization_header(), "Bearer at-loopback");
  EXPECT_LT(elapsed, 3000);

  // The redirect_uri is the listener's: loopback IP literal, the ephemeral port, the path.
  const auto ep = endpoint_of(log.redirect_uri);
  EXPECT_EQ(log.redirect_uri.rfind("http://127.0.0.1:", 0), 0u) << log.redirect_uri;
  EXPECT_GT(ep.port, 0);
  EXPECT_EQ(ep.path, "/callback");

  ASSERT_EQ(log.replies.size(), 5u);
  EXPECT_EQ(log.replies[0].status, 404);
  EXPECT_EQ(log.replies[1].status, 400);
  EXPECT_EQ(log.replies[2].status, 400);
  EXPECT_EQ(log.replies[3].status, 405);
  EXPECT_EQ(log.replies[4].status, 200);
  EXPECT_NE(log.replies[4].body.find(kClosePage), std::string::npos) << log.replies[4].body;
  EXPECT_NE(log.replies[4].head.find("Cache-Control: no-store"), std::string::npos) << log.replies[4].head;
  // Fixed pages: nothing a request carried comes back.
  for (const auto& r : log.replies)
    for (const std::string leak : {"evil-code", "forged-state", "no-state", "the-code", log.state.c_str()}) {
      EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
      EXPECT_EQ(r.head.find(leak), std::string::npos) << leak << " in " << r.head;
    }

  // One token request: the code, the very redirect_uri (with its port) and the PKCE verifier whose
  // S256 challenge the authorization URL carried.
  ASSERT_EQ(transport->request_count(), 1u);
  const auto form = form_of(transport->last());
  EXPECT_EQ(param(form, "grant_type"), "authorization_code");
  EXPECT_EQ(param(form, "code"), "the-code");
  EXPECT_EQ(param(form, "redirect_uri"), log.redirect_uri);
  const auto verifier = param(form, "code_verifier");
  const auto auth = query_of(log.authorization_url);
  EXPECT_EQ(param(auth, "code_challenge_method"), "S256");
  EXPECT_EQ(oidc::pkce_from_verifier(verifier).challenge, param(auth, "code_challenge"));

  EXPECT_TRUE(refuses_connections(ep.host, ep.port));
}

TEST_F(LoopbackTest, ReturnsTheCallbackUrlAndClosesThePortAtOnce) {
  oidc::LoopbackListener listener;
  const auto ep = endpoint_of(listener.redirect_uri());
  Reply reply;
  browser = std::thread([&] { reply = browse(ep.host, ep.port, "/callback?code=c%2F1&state=s-1&iss=x"); });
  const auto url = listener.wait_for_callback("s-1");
  // Rebuilt from the bound redirect_uri and the raw request target, not from a Host header.
  EXPECT_EQ(url, listener.redirect_uri() + "?code=c%2F1&state=s-1&iss=x");
  EXPECT_TRUE(refuses_connections(ep.host, ep.port));  // listener still alive: it stopped by itself
  browser.join();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(error_of([&] { (void)listener.wait_for_callback("s-1"); }).code(), errc::config);
}

TEST_F(LoopbackTest, TimesOutPromptly) {
  oidc::LoopbackOptions lo;
  lo.timeout = milliseconds(200);
  oidc::LoopbackListener listener(lo);
  const auto ep = endpoint_of(listener.redirect_uri());
  const auto start = steady::now();
  const auto e = error_of([&] { (void)listener.wait_for_callback("never"); });
  const auto elapsed = ms_since(start);
  EXPECT_EQ(e.code(), errc::deadline_exceeded) << e.what();
  EXPECT_GE(elapsed, 200);
  EXPECT_LT(elapsed, 1500);
  EXPECT_TRUE(refuses_connections(ep.host, ep.port));
}

TEST_F(LoopbackTest, CancelEndsTheWaitPromptly) {
  oidc::CancelToken cancel;
  oidc::LoopbackOptions lo;
  lo.cancel = cancel;
  lo.timeout = milliseconds(60000);
  oidc::LoopbackListener listener(lo);
  const auto ep = endpoint_of(listener.redirect_uri());
  steady::time_point cancelled_at{};
  int wrong_status = 0;
  // The wrong-state request is judged only once the wait knows its state, so the cancel below
  // comes while wait_for_callback is waiting.
  browser = std::thread([&] {
    wrong_status = browse(ep.host, ep.port, "/callback?code=c&state=wrong").status;
    cancelled_at = steady::now();
    cancel.cancel();
  });
  const auto e = error_of([&] { (void)listener.wait_for_callback("right"); });
  const auto returned_at = steady::now();
  browser.join();
  EXPECT_EQ(e.code(), errc::cancelled) << e.what();
  EXPECT_EQ(wrong_status, 400);
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(returned_at - cancelled_at).count(), 500);
  EXPECT_TRUE(refuses_connections(ep.host, ep.port));
}

TEST_F(LoopbackTest, WorksOnIpv6Loopback) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no ::1 on this machine";
  transport->push_json(200, kTokenJson);
  std::string redirect_uri;
  int status = 0;
  oidc::LoopbackOptions lo;
  lo.host = "::1";
  lo.timeout = milliseconds(10000);
  lo.open_browser = [&](const std::string& url) {
    const auto q = query_of(url);
    redirect_uri = param(q, "redirect_uri");
    browser = std::thread([&, state = param(q, "state")] {
      const auto ep = endpoint_of(redirect_uri);
      status = browse(ep.host, ep.port, ep.path + "?code=v6-code&state=" + state).status;
    });
  };
  const auto token = oidc::loopback_login(client(), {}, lo);
  browser.join();
  EXPECT_EQ(token.authorization_header(), "Bearer at-loopback");
  EXPECT_EQ(redirect_uri.rfind("http://[::1]:", 0), 0u) << redirect_uri;
  EXPECT_EQ(status, 200);
  EXPECT_EQ(param(form_of(transport->last()), "redirect_uri"), redirect_uri);
}

TEST_F(LoopbackTest, RefusesHostsOtherThanLoopbackLiteralsAndBadPaths) {
  for (const char* host : {"0.0.0.0", "::", "localhost", "192.168.1.10", "127.0.0.2", "", "127.0.0.1 "}) {
    oidc::LoopbackOptions lo;
    lo.host = host;
    EXPECT_EQ(error_of([&] { oidc::LoopbackListener l(lo); }).code(), errc::config) << host;
  }
  for (const char* path : {"", "callback", "/cb?x=1", "/cb#f", "/a b", "/\x01"}) {
    oidc::LoopbackOptions lo;
    lo.path = path;
    EXPECT_EQ(error_of([&] { oidc::LoopbackListener l(lo); }).code(), errc::config) << path;
  }
  // The listener owns the redirect_uri.
  oidc::AuthorizationOptions options;
  options.redirect_uri = "http://127.0.0.1:8400/callback";
  EXPECT_EQ(error_of([&] { (void)oidc::loopback_login(client(), options); }).code(), errc::config);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(LoopbackTest, AnErrorResponseWithTheRightStateEndsTheLoginWithTheOAuthError) {
  int status = 0;
  std::string body;
  oidc::LoopbackOptions lo;
  lo.timeout = milliseconds(10000);
  lo.open_browser = [&](const std::string& url) {
    const auto q = query_of(url);
    browser = std::thread([&, redirect = param(q, "redirect_uri"), state = param(q, "state")] {
      const auto ep = endpoint_of(redirect);
      const auto r = browse(ep.host, ep.port,
                            ep.path + "?error=access_denied&error_description=The%20user%20said%20no&state=" + state);
      status = r.status;
      body = r.body;
    });
  };
  const auto e = error_of([&] { (void)oidc::loopback_login(client(), {}, lo); });
  browser.join();
  EXPECT_EQ(e.code(), errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "access_denied");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body.find("said no"), std::string::npos);
  EXPECT_EQ(transport->request_count(), 0u);  // no code, no exchange
}

TEST_F(LoopbackTest, IdleSlowAndOversizedConnectionsDoNotHoldUpTheCallback) {
  oidc::LoopbackListener listener;
  const auto ep = endpoint_of(listener.redirect_uri());
  const std::string state = "s-hostile";

  Connection idle(ep.host, ep.port);  // connects, never sends
  Connection slow(ep.host, ep.port);  // a request that never ends
  ASSERT_TRUE(idle.connected() && slow.connected());
  ASSERT_TRUE(slow.send_all("GET /callback?code=c&state=" + state + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"));

  // 128 KiB of headers behind the right state: cut off at the listener's bound, refused, and the
  // wait goes on.
  bool oversized_closed = false;
  std::string oversized_reply;
  {
    Connection big(ep.host, ep.port);
    ASSERT_TRUE(big.connected());
    std::string request = "GET /callback?code=c&state=" + state + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    const std::string pad = "X-Pad: " + std::string(4000, 'a') + "\r\n";
    while (request.size() < 128 * 1024) request += pad;
    (void)big.send_all(request + "\r\n");  // may be reset midway
    oversized_reply = big.read_until_closed(milliseconds(5000), &oversized_closed);
  }
  EXPECT_TRUE(oversized_closed);
  EXPECT_TRUE(oversized_reply.empty() || oversized_reply.rfind("HTTP/1.1 4", 0) == 0) << oversized_reply.substr(0, 80);

  const auto start = steady::now();
  Reply reply;
  browser = std::thread([&] { reply = browse(ep.host, ep.port, "/callback?code=good&state=" + state); });
  const auto url = listener.wait_for_callback(state);
  browser.join();
  EXPECT_LT(ms_since(start), 2000);  // well inside the 10-s bound the slow connection may use
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(url, listener.redirect_uri() + "?code=good&state=" + state);

  // Once the callback is in, the connections still open are ended, not left to time out.
  bool idle_closed = false, slow_closed = false;
  (void)idle.read_until_closed(milliseconds(2000), &idle_closed);
  (void)slow.read_until_closed(milliseconds(2000), &slow_closed);
  EXPECT_TRUE(idle_closed);
  EXPECT_TRUE(slow_closed);
}

TEST_F(LoopbackTest, AFixedPortIsNeitherSharedNorStolen) {
  oidc::LoopbackListener first;
  const auto ep = endpoint_of(first.redirect_uri());
  // httplib's default socket options (SO_REUSEPORT) would let this second bind succeed.
  oidc::LoopbackOptions lo;
  lo.port = static_cast<std::uint16_t>(ep.port);
  const auto e = error_of([&] { oidc::LoopbackListener second(lo); });
  EXPECT_EQ(e.code(), errc::transport) << e.what();
  EXPECT_NE(e.detail().find(std::to_string(ep.port)), std::string::npos) << e.what();
}

TEST_F(LoopbackTest, MovedFromListenerRefusesToWait) {
  oidc::LoopbackListener a;
  const std::string uri = a.redirect_uri();
  oidc::LoopbackListener b(std::move(a));
  EXPECT_EQ(b.redirect_uri(), uri);
  EXPECT_TRUE(a.redirect_uri().empty());  // NOLINT(bugprone-use-after-move): that is the point
  EXPECT_EQ(error_of([&] { (void)a.wait_for_callback("s"); }).code(), errc::config);
  EXPECT_EQ(error_of([&] { (void)b.wait_for_callback(""); }).code(), errc::config);
}

}  // namespace
