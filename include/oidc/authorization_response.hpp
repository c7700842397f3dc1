#ifndef OIDC_AUTHORIZATION_RESPONSE_HPP
#define OIDC_AUTHORIZATION_RESPONSE_HPP

/// \file
/// The authorization response (RFC 6749 §4.1.2): what the browser brings back to the redirect URI.
/// It arrives through the user's browser, so anyone can forge one; everything in it is checked
/// here before a code is ever exchanged: the state (CSRF, RFC 6749 §10.12), the issuer (mix-up,
/// RFC 9207), an error (RFC 6749 §4.1.2.1, sanitised like every server error), the code's
/// characters, and the encoding itself.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "oidc/detail/failure.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/secret.hpp"

namespace oidc {

/// Where the parameters of an authorization response are.
enum class ResponseLocation {
  query,    ///< After '?': response_type=code, the default.
  fragment  ///< After '#': response_type=token, or response_mode=fragment.
};

/// A successful authorization response (RFC 6749 §4.1.2), checked by parse_authorization_response.
struct AuthorizationResponse {
  Secret code;                ///< The authorization code: 1*VSCHAR (RFC 6749 Appendix A.11), never empty.
  std::string state;          ///< Equal to the request's (checked in constant time).
  std::string iss;            ///< RFC 9207, when sent: printable ASCII (VSCHAR), never empty when sent.
  std::string session_state;  ///< OpenID Connect Session Management, when sent (seed 002).
  Params extra;               ///< Any other parameter, decoded, printable ASCII (such as seed 002's token_type).
};

/// What the response must match: the request's state, and the issuer it was sent to.
struct AuthorizationResponseChecks {
  std::string state;           ///< Required: empty is errc::config.
  std::string issuer;          ///< Compared with iss when set; empty: iss cannot be checked and is ignored.
  bool iss_required = false;   ///< authorization_response_iss_parameter_supported: iss must be present.
};

namespace detail {

inline constexpr std::size_t max_callback_bytes = 32 * 1024;  // a browser's URL limit is lower still
inline constexpr std::size_t max_callback_parameters = 64;

// The parameter part of a callback: the query or fragment of a whole redirect URL, or that part
// alone, with or without its leading '?' or '#'.
inline std::string_view callback_parameters(std::string_view callback, ResponseLocation where,
                                            const std::string& operation) {
  const auto hash = callback.find('#');
  const auto question = callback.substr(0, hash).find('?');
  const bool has_query = question != std::string_view::npos, has_fragment = hash != std::string_view::npos;
  if (where == ResponseLocation::query) {
    if (has_query) return callback.substr(question + 1, hash == std::string_view::npos ? hash : hash - question - 1);
    if (has_fragment && hash == 0)
      throw Error(errc::parse, operation, "the parameters are in the fragment; this response belongs in the query");
  } else {
    if (has_fragment) return callback.substr(hash + 1);
    if (has_query && question == 0)
      throw Error(errc::parse, operation, "the parameters are in the query; this response belongs in the fragment");
  }
  // No '?'/'#' where expected: either the parameters alone, or a URL that has none.
  if (callback.find("://") != std::string_view::npos || callback.find(":/") != std::string_view::npos ||
      has_query || has_fragment)
    throw Error(errc::parse, operation,
                where == ResponseLocation::query ? "the redirect has no query parameters"
                                                 : "the redirect has no fragment parameters");
  return callback;
}

// Strict application/x-www-form-urlencoded parsing (RFC 6749 §3.1: no parameter twice).
inline Params parse_callback_parameters(std::string_view text, const std::string& operation) {
  Params out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const auto pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2": browsers and servers produce these
    if (out.size() == max_callback_parameters)
      throw Error(errc::parse, operation, "more than " + std::to_string(max_callback_parameters) + " parameters");
    const auto eq = pair.find('=');
    auto name = form_decode_component_strict(pair.substr(0, eq));
    auto value = form_decode_component_strict(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) throw Error(errc::parse, operation, "a parameter has a malformed %-escape");
    if (name->empty()) throw Error(errc::parse, operation, "a parameter has no name");
    if (!is_vschar_string(*name)) throw Error(errc::parse, operation, "a parameter name has non-printable characters");
    for (const auto& [seen, unused] : out)
      if (seen == *name)
        throw Error(errc::parse, operation, "parameter '" + printable(*name, 64) + "' given more than once");
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

// The checks every authorization response gets, in this order: state (a forged or stale response
// is refused before anything else in it is believed, even its error), issuer, then the error.
inline void check_authorization_response(const Params& params, const AuthorizationResponseChecks& checks,
                                         const std::string& operation) {
  if (checks.state.empty()) throw Error(errc::config, operation, "the request's state is unknown");
  const auto* state = find_parameter(params, "state");
  if (!state) throw Error(errc::state_mismatch, operation, "the response has no state");
  if (!detail::constant_time_equal(*state, checks.state))
    throw Error(errc::state_mismatch, operation, "the response's state is not the request's");
  const auto* iss = find_parameter(params, "iss");
  // An empty or unprintable iss names no issuer, whether or not one is expected: a bare "&iss"
  // must not count as present where iss is required (found by the authorization_response fuzzer).
  if (iss && !is_vschar_string(*iss))
    throw Error(errc::issuer_mismatch, operation, "the response's iss is empty or not printable text");
  if (iss && !checks.issuer.empty() && *iss != checks.issuer)  // RFC 9207 §2.4: simple string comparison
    throw Error(errc::issuer_mismatch, operation, "the response's iss is not the issuer the request was sent to");
  if (!iss && checks.iss_required)
    throw Error(errc::issuer_mismatch, operation,
                "the response has no iss though the server declares authorization_response_iss_parameter_supported");
  if (const auto* error = find_parameter(params, "error")) {
    const auto* description = find_parameter(params, "error_description");
    const auto* uri = find_parameter(params, "error_uri");
    Error::Details d;
    d.code = errc::oauth_error;
    d.operation = operation;
    d.oauth = sanitized_oauth_error(*error, description ? *description : std::string_view{},
                                    uri ? *uri : std::string_view{}, {});
    throw Error(std::move(d));
  }
}

}  // namespace detail

/// Parses and checks the redirect the browser delivered (a whole URL, or its query alone) for the
/// authorization code flow. Client::exchange_code calls it; call it directly only to split the
/// two steps.
///
/// The state is checked first, so a forged or stale response is refused before anything else in
/// it (even an error) is believed; then the issuer, then the error. Throws oidc::Error with
/// errc::state_mismatch or errc::issuer_mismatch when the response is not the answer to this
/// request (an iss that is empty or not printable is a mismatch too), errc::oauth_error with oauth() when the server refused (access_denied, ...),
/// errc::parse for a malformed response (over 32 KiB, over 64 parameters, a parameter twice, a bad
/// %-escape, non-printable values, no code), errc::config when `checks.state` is empty.
/// \param where ResponseLocation::fragment for a response_mode=fragment redirect.
inline AuthorizationResponse parse_authorization_response(std::string_view callback,
                                                          const AuthorizationResponseChecks& checks,
                                                          ResponseLocation where = ResponseLocation::query) {
  const std::string operation = "authorization response";
  if (callback.size() > detail::max_callback_bytes)
    throw Error(errc::parse, operation,
                "the redirect is longer than " + std::to_string(detail::max_callback_bytes) + " bytes");
  auto params = detail::parse_callback_parameters(detail::callback_parameters(callback, where, operation), operation);
  detail::check_authorization_response(params, checks, operation);

  AuthorizationResponse r;
  for (auto& [name, value] : params) {
    if (name == "code") {
      if (!detail::is_vschar_string(value))  // RFC 6749 Appendix A.11: 1*VSCHAR
        throw Error(errc::parse, operation, "the code is empty or has characters RFC 6749 does not allow");
      r.code = Secret(std::move(value));
    } else if (name == "state") {
      r.state = std::move(value);
    } else if (name == "iss") {
      r.iss = std::move(value);
    } else if (name == "session_state") {
      if (!detail::is_vschar_string(value)) throw Error(errc::parse, operation, "session_state has non-printable characters");
      r.session_state = std::move(value);
    } else {
      if (!value.empty() && !detail::is_vschar_string(value))  // VSCHAR, as RFC 6749 Appendix A has it
        throw Error(errc::parse, operation, "parameter '" + detail::printable(name, 64) + "' has non-printable characters");
      r.extra.emplace_back(std::move(name), std::move(value));
    }
  }
  if (r.code.empty()) throw Error(errc::parse, operation, "the response has neither a code nor an error");
  return r;
}

}  // namespace oidc

#endif  // OIDC_AUTHORIZATION_RESPONSE_HPP
