// Shared by the consumer projects under tests/package: a failure counter, and a transport that
// answers every request with one canned token response and remembers what it was sent.
#ifndef OIDC_PACKAGE_CONSUMER_CHECK_HPP
#define OIDC_PACKAGE_CONSUMER_CHECK_HPP

#include <oidc/oidc.hpp>

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

}  // namespace consumer

#endif  // OIDC_PACKAGE_CONSUMER_CHECK_HPP
