#ifndef OIDC_CURL_TRANSPORT_HPP
#define OIDC_CURL_TRANSPORT_HPP

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "oidc/export.hpp"
#include "oidc/transport.hpp"
#include "oidc/version.hpp"

namespace oidc {

/// \file
/// make_curl_transport(): the libcurl Transport, declared without <curl/curl.h>.

/// Settings of the libcurl transport. Defaults are the secure ones. Available only when the library
/// was built with OIDC_WITH_CURL=ON; <curl/curl.h> never reaches users of this header.
struct CurlOptions {
  bool verify_tls = true;  ///< Verify the peer certificate and host name; false only for tests.
  std::string ca_file;     ///< PEM bundle; empty: libcurl's built-in default.
  std::string ca_path;     ///< Directory of hashed certificates; empty: default.
  std::chrono::milliseconds connect_timeout{10000};  ///< For the TCP and TLS set-up.
  std::chrono::milliseconds timeout{30000};  ///< Upper bound for any request, whatever HttpRequest::timeout says.
  std::size_t max_response_bytes = 1024 * 1024;  ///< Largest body read (errc::response_too_large beyond).
  std::string proxy;  ///< Empty: libcurl's environment variables (https_proxy, no_proxy, ...) apply.
  std::string user_agent = "oidc-cpp/" OIDC_VERSION;  ///< The User-Agent header; empty: none sent.
  /// Idle easy handles kept for reuse; each keeps its connection alive, so sequential requests to
  /// one server pay for TCP and TLS set-up once.
  std::size_t max_idle_handles = 8;
};

/// A Transport over libcurl, safe to call from many threads at once (each request uses its own
/// easy handle). Only http and https URLs are fetched.
///
/// Redirects are never followed: a token endpoint that redirects is answered as-is (oauth2-rs
/// warns that following them enables SSRF).
/// Framing is checked strictly, since a token response is believed as read: no Accept-Encoding is
/// sent and any Content-Encoding but identity is refused, as are differing Content-Length values,
/// a header section cut short, a reply without status line and header fields with control bytes
/// (errc::protocol). Requests failing detail::validate_request are refused (errc::invalid_request)
/// before anything is sent; HttpRequest::cancel aborts within about a second (errc::cancelled).
/// A body over max_response_bytes is errc::response_too_large; when it is an error response whose
/// streamed prefix starts with an OAuth error code, the Error keeps that code and the HTTP status.
OIDC_API std::shared_ptr<Transport> make_curl_transport(CurlOptions options = {});

}  // namespace oidc

#endif  // OIDC_CURL_TRANSPORT_HPP
