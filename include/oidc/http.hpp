#ifndef OIDC_HTTP_HPP
#define OIDC_HTTP_HPP

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"

namespace oidc {
namespace detail {

inline char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// RFC 9110 §5.6.2 tchar.
inline bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// RFC 9110 token: a field name, a method.
inline bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

inline bool is_valid_header_name(std::string_view name) noexcept { return is_token(name); }

// RFC 9110 §5.5 field-value: visible ASCII, SP, HTAB and obs-text (0x80-0xFF). No CR, LF, NUL nor
// any other control byte, so a value can never end the field or the header section early.
inline bool is_valid_header_value(std::string_view value) noexcept {
  return std::none_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7F;
  });
}

// Only printable ASCII: no control byte (NUL included), space, DEL or non-ASCII byte, which
// libcurl would truncate at, reject, or send as something else.
inline bool is_plain_url_text(std::string_view url) noexcept {
  return std::all_of(url.begin(), url.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7F;
  });
}

// Throws errc::invalid_request for a field that would break the request. The message names the
// field (escaped) but never shows its value, which may be a credential.
inline void check_header_field(std::string_view name, std::string_view value, const char* operation = "HTTP header") {
  if (!is_valid_header_name(name))
    throw Error(errc::invalid_request, operation,
                "header name \"" + printable(name, 64) + "\" is not an RFC 9110 token");
  if (!is_valid_header_value(value))
    throw Error(errc::invalid_request, operation,
                "value of header " + std::string(name) + " contains CR, LF, NUL or another control byte");
}

}  // namespace detail

/// HTTP header fields in order; names compare case-insensitively (RFC 9110 §5.1).
///
/// set(), add() and the initializer-list constructor throw oidc::Error with errc::invalid_request
/// for a name that is not an RFC 9110 token or a value with CR, LF, NUL or another control byte,
/// so no Headers object can hold a field that splits a request. The message names the field but
/// never shows its value, which may be a credential.
class Headers {
 public:
  using value_type = std::pair<std::string, std::string>;  ///< One field: name, value.

  Headers() = default;
  /// Adds each field in order, as add() does (a repeated name is kept twice).
  Headers(std::initializer_list<value_type> init) {
    for (const auto& f : init) add(f.first, f.second);
  }

  /// Replaces every field named \p name (any case) with one field, appended last.
  void set(std::string name, std::string value) {
    detail::check_header_field(name, value);
    erase(name);
    fields_.emplace_back(std::move(name), std::move(value));
  }
  /// Appends a field, keeping those of the same name (RFC 9110 §5.3 list fields).
  void add(std::string name, std::string value) {
    detail::check_header_field(name, value);
    fields_.emplace_back(std::move(name), std::move(value));
  }
  /// Removes every field named \p name, compared case-insensitively; none is no error.
  void erase(std::string_view name) {
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const value_type& f) { return detail::iequals(f.first, name); }),
                  fields_.end());
  }
  /// The value of the first field named \p name (case-insensitive), or nullopt when there is none.
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const {
    for (const auto& f : fields_)
      if (detail::iequals(f.first, name)) return f.second;
    return std::nullopt;
  }
  /// Whether a field named \p name (case-insensitive) is present.
  [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }

  /// Iterates the fields as value_type, in the order they were added, names as given.
  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept { return fields_.end(); }  ///< End of the fields.
  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }  ///< Number of fields, repeats included.
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }  ///< Whether there is no field.

 private:
  std::vector<value_type> fields_;
};

/// An HTTP request as the library hands it to a Transport. The library's transports
/// (make_transport, make_curl_transport) refuse it before sending anything, with oidc::Error and
/// errc::invalid_request, when the method is not an RFC 9110 token, the URL is empty or not
/// printable ASCII, or a header field is invalid; the URL is never quoted in that message, since it
/// may carry credentials.
struct HttpRequest {
  std::string method;  ///< No default: every request says what it is ("GET", "POST", ...).
  std::string url;     ///< Absolute URL, printable ASCII (percent-encode anything else).
  Headers headers;     ///< Request fields; may hold credentials (Authorization): do not log them.
  std::string body;    ///< Sent as is; for a form, the caller sets Content-Type too.
  /// Total time allowed for this request, connect included; the transport also applies its own cap.
  std::chrono::milliseconds timeout{30000};
  /// When set, cancel() aborts the request in flight (errc::cancelled); no allocation when unset.
  std::optional<CancelToken> cancel{};
};

namespace detail {

// What every transport checks before sending anything: the method is a token, the URL printable
// ASCII, every header field valid (Headers already enforces that; this also covers requests built
// before a field was mutated through other means). Throws errc::invalid_request.
inline void validate_request(const HttpRequest& request) {
  if (request.method.empty()) throw Error(errc::invalid_request, "HTTP request", "no method");
  if (!is_token(request.method))
    throw Error(errc::invalid_request, "HTTP request", "method \"" + printable(request.method, 32) + "\" is not a token");
  // The URL is not quoted: it may carry credentials (userinfo, query) and is malformed anyway.
  if (request.url.empty()) throw Error(errc::invalid_request, "HTTP request", "no URL");
  if (!is_plain_url_text(request.url))
    throw Error(errc::invalid_request, "HTTP request",
                "URL contains a control byte, space or non-ASCII byte (percent-encode it)");
  for (const auto& [name, value] : request.headers) check_header_field(name, value, "HTTP request");
}

}  // namespace detail

/// An HTTP response as a Transport returns it: received, not yet trusted. The library validates
/// status, headers and body before using any of it.
struct HttpResponse {
  int status = 0;    ///< HTTP status code; 0 until a transport sets it.
  Headers headers;   ///< Response fields.
  std::string body;  ///< The body, as received.

  /// Whether the status is 2xx (RFC 9110 §15.3).
  [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }
};

}  // namespace oidc

#endif  // OIDC_HTTP_HPP
