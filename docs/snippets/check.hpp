// What every runnable snippet needs besides its regions: the provider URL it is pointed at, and a
// check that makes the test fail when what the guide shows is not so.
#pragma once

#include <iostream>
#include <string>
#include <thread>

#include <oidc/oidc.hpp>

namespace snippet {

// argv[1] (run_with_provider.py passes the embedded provider's http://127.0.0.1:PORT), else the
// real provider's URL as the guide gives it.
inline std::string provider_url(int argc, char** argv, const char* real) { return argc > 1 ? argv[1] : real; }

// The embedded provider's confidential client "svc" (client credentials), for the snippets whose
// shown regions start after the client is made.
inline oidc::ClientConfig svc_config(const std::string& base_url, const char* secret = "svc-secret") {
  oidc::ClientConfig cfg;
  cfg.token_endpoint = base_url + "/realms/core/protocol/openid-connect/token";
  cfg.client_id = "svc";
  cfg.client_secret = oidc::Secret(secret);
  return cfg;
}

// false, and says so on stderr, when `ok` is false.
inline bool expect(bool ok, const char* what) {
  if (!ok) std::cerr << "snippet check failed: " << what << "\n";
  return ok;
}

// The user's browser, for the authorization code snippets: one GET of `url`, redirects not
// followed (the oidc transports never follow them); the Location the server answered, "" if none.
inline std::string browser_redirect(const std::string& url) {
  oidc::HttpRequest get;
  get.method = "GET";
  get.url = url;
  auto response = oidc::make_curl_transport()->send(get);
  return response.status / 100 == 3 ? response.headers.get("Location").value_or("") : "";
}

// A browser in its own thread that logs in at `url` and follows the redirect to the loopback
// listener (which loopback_login is waiting on); joined when destroyed.
class LoopbackBrowser {
 public:
  void open(const std::string& url) {
    thread_ = std::thread([url] {
      const std::string callback = browser_redirect(url);
      if (!callback.empty()) (void)browser_redirect(callback);
    });
  }
  ~LoopbackBrowser() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace snippet
