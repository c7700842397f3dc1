#ifndef OIDC_REQUEST_OPTIONS_HPP
#define OIDC_REQUEST_OPTIONS_HPP

#include <optional>
#include <string>

#include "oidc/cancel.hpp"
#include "oidc/detail/form.hpp"

namespace oidc {

/// What every grant request may add: the scope (space-delimited, RFC 6749 §3.3) and extension
/// parameters such as `audience` (Auth0) or `resource` (RFC 8707), sent in the given order.
struct RequestOptions {
  std::string scope{};  ///< Space-delimited scope (RFC 6749 §3.3); empty: no `scope` parameter is sent.
  Params extra{};       ///< Extension parameters, appended to the form after `scope`, in this order.
  /// When set, cancel() aborts the request in flight with `errc::cancelled` (HttpRequest::cancel).
  std::optional<CancelToken> cancel{};
};

namespace detail {
inline void append_scope_and_extra(Params& form, const std::string& scope, const Params& extra) {
  if (!scope.empty()) form.emplace_back("scope", scope);
  form.insert(form.end(), extra.begin(), extra.end());
}
}  // namespace detail

}  // namespace oidc

#endif  // OIDC_REQUEST_OPTIONS_HPP
