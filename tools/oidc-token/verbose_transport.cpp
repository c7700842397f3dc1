#include "verbose_transport.hpp"

#include <iostream>
#include <mutex>
#include <string>

#include <oidc/detail/redact.hpp>
#include <oidc/error.hpp>

namespace oidc_token {
namespace {

// Header values worth seeing that never carry credentials.
bool shown_value(const std::string& name) {
  static const char* const names[] = {"content-type", "content-length", "accept", "host", "location",
                                      "cache-control", "www-authenticate", "retry-after", "user-agent"};
  for (const char* n : names)
    if (oidc::detail::iequals(name, n)) return true;
  return false;
}

class VerboseTransport final : public oidc::Transport {
 public:
  VerboseTransport(std::shared_ptr<oidc::Transport> base, std::vector<oidc::Secret> secrets)
      : base_(std::move(base)), secrets_(std::move(secrets)) {}

  oidc::HttpResponse send(const oidc::HttpRequest& request) override {
    const auto views = secret_views();
    trace("> " + oidc::detail::printable(request.method, 16) + " " +
          oidc::detail::redacted_text(request.url, views, 1000, {true, oidc::detail::TokenRuns::uri}));
    trace_headers("> ", request.headers, views);
    if (!request.body.empty()) trace(">   body: " + oidc::detail::redacted_snippet(request.body, views, 500));
    try {
      oidc::HttpResponse response = base_->send(request);
      trace("< " + std::to_string(response.status));
      trace_headers("< ", response.headers, views);
      if (!response.body.empty()) trace("<   body: " + oidc::detail::redacted_snippet(response.body, views, 500));
      return response;
    } catch (const oidc::Error& e) {
      trace("< failed: " + std::string(e.what()));
      throw;
    }
  }

 private:
  std::vector<std::string_view> secret_views() const {
    std::vector<std::string_view> v;
    for (const auto& s : secrets_)
      if (!s.empty()) v.emplace_back(s.expose());
    return v;
  }

  void trace_headers(const std::string& dir, const oidc::Headers& headers, const std::vector<std::string_view>& views) {
    for (const auto& [name, value] : headers) {
      std::string line = dir + "  " + oidc::detail::printable(name, 100) + ": ";
      line += shown_value(name) ? oidc::detail::redacted_text(value, views, 200) : std::string(oidc::detail::redaction_mask);
      trace(line);
    }
  }

  void trace(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::cerr << line << '\n' << std::flush;
  }

  std::shared_ptr<oidc::Transport> base_;
  std::vector<oidc::Secret> secrets_;
  std::mutex mutex_;
};

}  // namespace

std::shared_ptr<oidc::Transport> make_verbose_transport(std::shared_ptr<oidc::Transport> base,
                                                        std::vector<oidc::Secret> secrets) {
  return std::make_shared<VerboseTransport>(std::move(base), std::move(secrets));
}

}  // namespace oidc_token
