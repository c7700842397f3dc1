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
#include "oidc/detail/validate.hpp"
#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"
#include "oidc/token_response.hpp"

namespace oidc {

/// RFC 8628 §3.2 device authorization response, with expires_in made absolute at receipt.
///
/// Validated by parse_device_authorization_response(), so safe to print to a terminal or show in a
/// UI as they are: user_code is valid UTF-8 without control characters (no ESC, CR, LF, C1), at
/// most 64 bytes; verification_uri and verification_uri_complete are absolute https URIs (or http
/// to a loopback host, or any host with allow_insecure_http) of printable ASCII, at most 2048
/// bytes. device_code is VSCHAR text.
struct DeviceAuthorization {
  using time_point = std::chrono::system_clock::time_point;  ///< The Clock's time point.

  Secret device_code;      ///< Sent only to the token endpoint while polling; redacted when printed.
  std::string user_code;   ///< What the user types at verification_uri.
  std::string verification_uri;           ///< Where the user goes to enter user_code.
  /// verification_uri with the code in it, for a link or QR code; may be empty (optional in RFC 8628).
  std::string verification_uri_complete;
  std::chrono::seconds expires_in{0};     ///< Lifetime of device_code and user_code, as the server sent it.
  /// Seconds to wait between polls (RFC 8628 §3.2): 5 when the server does not say; clamped to
  /// [1 s, 60 s] and to expires_in.
  std::chrono::seconds interval{5};
  time_point expires_at{};  ///< `now + expires_in` at receipt; polling stops there.
  nlohmann::json extra = nlohmann::json::object();  ///< Other members of the response.
};

/// What DevicePollOptions::on_pending learns while the user has not finished yet.
struct DevicePollProgress {
  std::size_t polls = 0;               ///< Token requests made so far.
  std::chrono::seconds interval{5};    ///< The interval now in force (grows on slow_down and timeouts).
  std::chrono::seconds remaining{0};   ///< Until polling ends: the code's expiry, or options.deadline if sooner.
  bool slow_down = false;              ///< The last answer was slow_down.
};

/// How Client::poll_device_token() polls (RFC 8628 §3.4–3.5).
struct DevicePollOptions {
  CancelToken cancel;  ///< cancel() ends polling with `errc::cancelled`, at once if sleeping or mid-request.
  /// Called on the polling thread after each answer that keeps polling (authorization_pending,
  /// slow_down, a timeout); what it throws ends polling.
  std::function<void(const DevicePollProgress&)> on_pending{};
  /// Stop earlier than the code's expiry (`errc::deadline_exceeded`).
  std::optional<std::chrono::system_clock::time_point> deadline{};
  Params extra{};      ///< Extension parameters for the token requests.
};

namespace grants {

/// RFC 8628 §3.4 device access token request.
struct DeviceCode {
  Secret device_code{};  ///< DeviceAuthorization::device_code.
  Params extra{};        ///< Extension parameters, appended after `device_code`.

  /// The RFC 8628 §3.4 `grant_type` value.
  static constexpr const char* grant_type = "urn:ietf:params:oauth:grant-type:device_code";
  /// The token request's form parameters; holds the device code in clear, so never log it.
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}, {"device_code", device_code.expose()}};
    p.insert(p.end(), extra.begin(), extra.end());
    return p;
  }
};

}  // namespace grants

/// Longest user_code accepted, in bytes: RFC 8628 §6.1 codes are meant to be typed (8 characters or so).
inline constexpr std::size_t user_code_max_bytes = 64;

/// Parses a device authorization response (RFC 8628 §3.2) received at \p now.
///
/// Google's pre-RFC spelling `verification_url` is accepted for `verification_uri`.
/// \param operation names the call in error messages.
/// \param secrets values the request sent; masked in the body excerpt an error carries.
/// \param allow_insecure_http admits http:// verification URIs to any host, as
///        ClientConfig::allow_insecure_http does for endpoints.
/// \throws oidc::Error `errc::parse` for a missing or invalid member (see DeviceAuthorization for
///         the rules), `errc::oauth_error` for an RFC 6749 §5.2 error body, `errc::http_status`
///         for another non-2xx response.
inline DeviceAuthorization parse_device_authorization_response(const HttpResponse& response,
                                                               DeviceAuthorization::time_point now,
                                                               const std::string& operation = "device authorization",
                                                               const std::vector<std::string_view>& secrets = {},
                                                               bool allow_insecure_http = false) {
  auto obj = detail::parse_oauth_response(response, operation, secrets);
  const auto fail = [&](std::string why) {
    detail::throw_malformed(errc::parse, response, operation, std::move(why), secrets);
  };
  const auto text = [&](const char* name) -> std::string {
    const auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return {};
    if (!it->is_string()) fail(std::string(name) + " is not a string");
    return it->get<std::string>();
  };
  DeviceAuthorization a;
  a.device_code = text("device_code");
  a.user_code = text("user_code");
  const char* uri_name = "verification_uri";
  a.verification_uri = text(uri_name);
  if (a.verification_uri.empty()) a.verification_uri = text(uri_name = "verification_url");
  a.verification_uri_complete = text("verification_uri_complete");
  const auto expires_in = detail::lifetime_member(obj, "expires_in");
  if (a.device_code.empty() || a.user_code.empty() || a.verification_uri.empty() || !expires_in)
    fail("response lacks device_code, user_code, verification_uri or expires_in");

  if (!detail::is_vschar_string(a.device_code.expose())) fail("device_code is not RFC 6749 VSCHAR text");
  if (!detail::is_printable_text(a.user_code, user_code_max_bytes))
    fail("user_code is not printable UTF-8 of at most " + std::to_string(user_code_max_bytes) +
         " bytes (control characters and escape sequences are refused)");
  if (const auto problem = detail::check_server_uri(a.verification_uri, allow_insecure_http))
    fail(std::string(uri_name) + " " + *problem);
  if (!a.verification_uri_complete.empty())
    if (const auto problem = detail::check_server_uri(a.verification_uri_complete, allow_insecure_http))
      fail("verification_uri_complete " + *problem);

  a.expires_in = *expires_in;
  a.expires_at = now + *expires_in;
  const auto interval = obj.find("interval");
  a.interval = detail::device_interval(interval == obj.end() ? nullptr : &*interval, *expires_in);
  for (const char* name : {"device_code", "user_code", "verification_uri", "verification_url",
                           "verification_uri_complete", "expires_in", "interval"})
    obj.erase(name);
  a.extra = std::move(obj);
  return a;
}

}  // namespace oidc

#endif  // OIDC_GRANTS_DEVICE_CODE_HPP
