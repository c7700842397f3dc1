#ifndef OIDC_GRANTS_DEVICE_CODE_HPP
#define OIDC_GRANTS_DEVICE_CODE_HPP

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/cancel.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"
#include "oidc/token_response.hpp"

namespace oidc {

// RFC 8628 §3.2 device authorization response, with expires_in made absolute at receipt.
struct DeviceAuthorization {
  using time_point = std::chrono::system_clock::time_point;

  Secret device_code;
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;  // may be empty (optional in RFC 8628)
  std::chrono::seconds expires_in{0};
  std::chrono::seconds interval{5};  // RFC 8628 §3.2: 5 seconds when the server does not say
  time_point expires_at{};
  nlohmann::json extra = nlohmann::json::object();  // other members
};

// What a progress callback learns while the user has not finished yet.
struct DevicePollProgress {
  std::size_t polls = 0;               // token requests made so far
  std::chrono::seconds interval{5};    // the interval now in force (grows on slow_down)
  std::chrono::seconds remaining{0};   // until the device code expires
  bool slow_down = false;              // the last answer was slow_down
};

struct DevicePollOptions {
  CancelToken cancel;  // cancel() ends polling with errc::cancelled, at once if sleeping
  std::function<void(const DevicePollProgress&)> on_pending{};  // after each pending/slow_down answer
  std::optional<std::chrono::system_clock::time_point> deadline{};  // stop earlier than the code's expiry
  Params extra{};      // extension parameters for the token requests
};

namespace grants {

// RFC 8628 §3.4 device access token request.
struct DeviceCode {
  Secret device_code{};
  Params extra{};

  static constexpr const char* grant_type = "urn:ietf:params:oauth:grant-type:device_code";
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}, {"device_code", device_code.expose()}};
    p.insert(p.end(), extra.begin(), extra.end());
    return p;
  }
};

}  // namespace grants

// Parses a device authorization response received at `now`, or throws oidc::Error. Google's
// pre-RFC spelling `verification_url` is accepted for `verification_uri`.
inline DeviceAuthorization parse_device_authorization_response(const HttpResponse& response,
                                                               DeviceAuthorization::time_point now,
                                                               const std::string& operation = "device authorization",
                                                               const std::vector<std::string_view>& secrets = {}) {
  auto obj = detail::parse_oauth_response(response, operation, secrets);
  DeviceAuthorization a;
  a.device_code = detail::string_member(obj, "device_code");
  a.user_code = detail::string_member(obj, "user_code");
  a.verification_uri = detail::string_member(obj, "verification_uri");
  if (a.verification_uri.empty()) a.verification_uri = detail::string_member(obj, "verification_url");
  a.verification_uri_complete = detail::string_member(obj, "verification_uri_complete");
  const auto expires_in = detail::lifetime_member(obj, "expires_in");
  if (a.device_code.empty() || a.user_code.empty() || a.verification_uri.empty() || !expires_in)
    detail::throw_malformed(errc::parse, response, operation,
                            "response lacks device_code, user_code, verification_uri or expires_in", secrets);
  a.expires_in = *expires_in;
  a.expires_at = now + *expires_in;
  if (const auto interval = detail::lifetime_member(obj, "interval")) a.interval = *interval;
  for (const char* name : {"device_code", "user_code", "verification_uri", "verification_url",
                           "verification_uri_complete", "expires_in", "interval"})
    obj.erase(name);
  a.extra = std::move(obj);
  return a;
}

}  // namespace oidc

#endif  // OIDC_GRANTS_DEVICE_CODE_HPP
