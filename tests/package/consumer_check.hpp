// Shared by the consumer projects under tests/package: a failure counter, the version check, a
// client whose transport answers every request with one canned token response and remembers what
// it was sent, and the libcurl transport's connect error on a closed port.
#ifndef OIDC_PACKAGE_CONSUMER_CHECK_HPP
#define OIDC_PACKAGE_CONSUMER_CHECK_HPP

#include <oidc/oidc.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

namespace consumer {

inline int failures = 0;

inline void check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "FAIL: " << what << '\n';
    ++failures;
  }
}

struct Seen {
  int calls = 0;
  std::string url;
  std::string authorization;
  std::string body;
};

inline std::shared_ptr<oidc::Transport> canned_token_transport(std::string token_json, Seen& seen) {
  return oidc::make_transport([token_json = std::move(token_json), &seen](const oidc::HttpRequest& request) {
    ++seen.calls;
    seen.url = request.url;
    seen.authorization = request.headers.get("Authorization").value_or("<none>");
    seen.body = request.body;
    oidc::HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "application/json");
    response.body = token_json;
    return response;
  });
}

// The headers found are the package's: `expected` is the version `source` (its metadata) says.
inline void check_version(const std::string& expected, const std::string& source) {
  check(OIDC_VERSION == expected, std::string("oidc/version.hpp says ") + OIDC_VERSION + ", " + source + " says " + expected);
}

// Client "app" (secret "s3cret", client_secret_basic) whose token requests get `token_json`.
inline oidc::ClientConfig canned_client_config(std::string token_json, Seen& seen) {
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.transport = canned_token_transport(std::move(token_json), seen);
  return config;
}

// The installed libcurl transport is linked and works: nothing listens on port 1, so a request is
// errc::connect, not a hang.
inline void check_closed_port_is_connect_error() {
  try {
    const auto curl = oidc::make_curl_transport();
    oidc::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:1/";
    request.timeout = std::chrono::seconds(5);
    const auto response = curl->send(request);
    check(false, "a request to a closed port returned HTTP " + std::to_string(response.status));
  } catch (const oidc::Error& e) {
    check(e.code() == oidc::errc::connect, std::string("expected errc::connect, got: ") + e.what());
  }
}

}  // namespace consumer

#endif  // OIDC_PACKAGE_CONSUMER_CHECK_HPP
