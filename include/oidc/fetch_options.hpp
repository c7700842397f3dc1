#ifndef OIDC_FETCH_OPTIONS_HPP
#define OIDC_FETCH_OPTIONS_HPP

/// \file
/// How documents the library fetches by itself (discovery, JWK Sets) are fetched: no Client is
/// needed, every fetch goes through the one request path (detail/request.hpp).

#include <chrono>
#include <cstddef>
#include <memory>

#include "oidc/clock.hpp"
#include "oidc/detail/request.hpp"
#include "oidc/http.hpp"
#include "oidc/transport.hpp"

namespace oidc {

/// How a discovery document (DiscoveryOptions) or a JWK Set (JwksCache) is fetched, without a Client.
struct FetchOptions {
  std::shared_ptr<Transport> transport{};  ///< Null: default_transport().
  std::chrono::milliseconds timeout{30000};  ///< Per request, connect included (HttpRequest::timeout).
  Headers extra_headers{};  ///< Sent first in every request; an `Accept` among them is replaced by the library's.
  bool allow_insecure_http = false;  ///< http:// beyond loopback (never needed in production).
  std::shared_ptr<const Clock> clock{};  ///< Times cache lifetimes (JwksCache, DiscoveryCache); null: system_clock().
  /// Largest body accepted (errc::response_too_large). The transport's own cap still applies, so
  /// this can only lower it: real discovery documents and key sets are a few KiB.
  std::size_t max_document_bytes = 512 * 1024;
};

namespace detail {

// The options with their defaults filled in, owning what a RequestContext points at.
struct ResolvedFetch {
  std::shared_ptr<Transport> transport;
  std::shared_ptr<const Clock> clock;
  FetchOptions options;

  explicit ResolvedFetch(FetchOptions o)
      : transport(o.transport ? o.transport : default_transport()),
        clock(o.clock ? o.clock : system_clock()),
        options(std::move(o)) {}

  [[nodiscard]] RequestContext context() const {
    RequestContext ctx;
    ctx.transport = transport.get();
    ctx.timeout = options.timeout;
    ctx.extra_headers = options.extra_headers.empty() ? nullptr : &options.extra_headers;
    ctx.allow_insecure_http = options.allow_insecure_http;
    return ctx;
  }
};

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_FETCH_OPTIONS_HPP
