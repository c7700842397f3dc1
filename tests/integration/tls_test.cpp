// TLS through the real libcurl transport against an HTTPS server with certificates made at
// configure time: verification is on by default, a CA file makes a private CA trusted, a name
// mismatch is refused, and only an explicit verify_tls=false skips the checks.
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "error_of.hpp"
#include "oidc/curl_transport.hpp"

using oidc::errc;
using oidc_testing::error_of;

#ifndef OIDC_TEST_CERT_DIR

TEST(Tls, NeedsOpensslAtConfigureTime) { GTEST_SKIP() << "no openssl executable: TLS tests not built"; }

#else

namespace {

const std::string kCertDir = OIDC_TEST_CERT_DIR;

// An HTTPS server on 127.0.0.1 presenting the named certificate.
class HttpsServer {
 public:
  explicit HttpsServer(const std::string& name)
      : server_((kCertDir + "/" + name + ".pem").c_str(), (kCertDir + "/" + name + ".key").c_str()) {
    server_.Post("/token", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"access_token":"over-tls","token_type":"Bearer","expires_in":60})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~HttpsServer() {
    server_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(port_) + "/token";
  }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

oidc::HttpResponse post(const std::shared_ptr<oidc::Transport>& transport, const std::string& url) {
  oidc::HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  request.body = "grant_type=client_credentials";
  return transport->send(request);
}

}  // namespace

TEST(Tls, SelfSignedCertificateIsRefusedByDefault) {
  HttpsServer server("loopback");
  const auto e = error_of([&] { (void)post(oidc::make_curl_transport(), server.url()); });
  EXPECT_EQ(e.code(), errc::tls) << e.what();
}

TEST(Tls, CaFileMakesAPrivateCaTrusted) {
  HttpsServer server("loopback");
  oidc::CurlOptions options;
  options.ca_file = kCertDir + "/loopback.pem";
  const auto response = post(oidc::make_curl_transport(options), server.url());
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("over-tls"), std::string::npos);
  EXPECT_EQ(post(oidc::make_curl_transport(options), server.url("localhost")).status, 200);
}

TEST(Tls, HostNameMismatchIsRefusedEvenWithTheCaTrusted) {
  HttpsServer server("elsewhere");  // certified for auth.example.com only
  oidc::CurlOptions options;
  options.ca_file = kCertDir + "/elsewhere.pem";
  const auto e = error_of([&] { (void)post(oidc::make_curl_transport(options), server.url()); });
  EXPECT_EQ(e.code(), errc::tls) << e.what();
}

TEST(Tls, VerificationCanBeTurnedOffExplicitly) {
  HttpsServer server("elsewhere");
  oidc::CurlOptions options;
  options.verify_tls = false;
  EXPECT_EQ(post(oidc::make_curl_transport(options), server.url()).status, 200);
}

#endif
