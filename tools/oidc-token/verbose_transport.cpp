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
                                      "cache-control", "retry-after", "user-agent", "pragma"};
  for (const char* n : names)
    if (oidc::detail::iequals(name, n)) return true;
  return false;
}

// Secrets and credential members (access_token, refresh_token, code, password, ...) masked, other
// text kept: URLs and metadata are what a trace is read for, and masking every long run would hide
// them.
constexpr oidc::detail::MaskRules members_only{true, oidc::detail::TokenRuns::keep};

class VerboseTransport final : public oidc::Transport {
 public:
  VerboseTransport(std::shared_ptr<oidc::Transport> base, std::shared_ptr<const std::vector<oidc::Secret>> secrets)
      : base_(std::move(base)), secrets_(std::move(secrets)) {}

  oidc::HttpResponse send(const oidc::HttpRequest& request) override {
    const auto views = secret_views();
    trace("> " + oidc::detail::printable(request.method, 16) + " " +
          oidc::detail::redacted_text(request.url, views, 1000, members_only));
    trace_headers("> ", request.headers, views);
    if (!request.body.empty()) trace(">   body: " + oidc::detail::redacted_text(request.body, views, 500, members_only));
    try {
      oidc::HttpResponse response = base_->send(request);
      trace("< " + std::to_string(response.status));
      trace_headers("< ", response.headers, views);
      if (!response.body.empty()) trace("<   body: " + oidc::detail::redacted_text(response.body, views, 500, members_only));
      return response;
    } catch (const oidc::Error& e) {
      trace("< failed: " + std::string(e.what()));
      throw;
    }
  }

 private:
  std::vector<std::string_view> secret_views() const {
    std::vector<std::string_view> v;
    for (const auto& s : *secrets_)
      if (!s.empty()) v.emplace_back(s.expose());
    return v;
  }

  void trace_headers(const std::string& dir, const oidc::Headers& headers, const std::vector<std::string_view>& views) {
    for (const auto& [name, value] : headers) {
      std::string line = dir + "  " + oidc::detail::printable(name, 100) + ": ";
      line += shown_value(name) ? oidc::detail::redacted_text(value, views, 200, members_only) : std::string(oidc::detail::redaction_mask);
      trace(line);
    }
  }

  void trace(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::cerr << line << '\n' << std::flush;
  }

  std::shared_ptr<oidc::Transport> base_;
  std::shared_ptr<const std::vector<oidc::Secret>> secrets_;
  std::mutex mutex_;
};

}  // namespace

std::shared_ptr<oidc::Transport> make_verbose_transport(std::shared_ptr<oidc::Transport> base,
                                                        std::shared_ptr<const std::vector<oidc::Secret>> secrets) {
  return std::make_shared<VerboseTransport>(std::move(base), std::move(secrets));
}

}  // namespace oidc_token
