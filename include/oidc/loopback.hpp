#ifndef OIDC_LOOPBACK_HPP
#define OIDC_LOOPBACK_HPP

/// \file
/// The native-app loopback redirect (RFC 8252 §7.3, §8.3): a one-shot HTTP listener on 127.0.0.1
/// (or ::1) at an ephemeral port receives the authorization response from the user's browser.
/// Declarations only: the listener is defined in src/loopback.cpp with cpp-httplib, which never
/// reaches a public header. A library built with OIDC_WITH_LOOPBACK=OFF still has these functions;
/// the listener and loopback_login then throw errc::config (open_in_browser works either way).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "oidc/authorization_request.hpp"
#include "oidc/cancel.hpp"
#include "oidc/export.hpp"
#include "oidc/token.hpp"

namespace oidc {

class Client;

/// Where a LoopbackListener listens and how long it waits.
struct LoopbackOptions {
  /// "127.0.0.1" or "::1" (the redirect URI then says [::1]); anything else is errc::config:
  /// RFC 8252 §8.3 wants a loopback IP literal, not "localhost", which may resolve elsewhere.
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: ephemeral, chosen by the OS (RFC 8252 §7.3).
  std::string path = "/callback";  ///< Starts with '/', printable ASCII without '?', '#' or space (errc::config).
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  ///< For wait_for_callback.
  std::optional<CancelToken> cancel{};                         ///< The wait and, in loopback_login, the requests.
  std::function<void(const std::string& url)> open_browser{};  ///< loopback_login; empty: open_in_browser.
};

/// Whether the library was built with the listener (OIDC_WITH_LOOPBACK).
OIDC_API bool loopback_available() noexcept;

/// A one-shot HTTP listener on a loopback address that receives the authorization response from the
/// user's browser (RFC 8252 §7.3). Listens from construction on (bind failures throw there:
/// errc::config for an unusable host or path, errc::transport when the port cannot be bound) until
/// wait_for_callback returns or the object is destroyed. Movable; a moved-from listener only allows
/// destruction and assignment.
class OIDC_API LoopbackListener {
 public:
  /// Binds and starts listening; see the class description for what it throws.
  explicit LoopbackListener(const LoopbackOptions& options = {});
  LoopbackListener(LoopbackListener&&) noexcept;  ///< Takes over the listening socket.
  /// Stops this listener, then takes over the other's socket.
  LoopbackListener& operator=(LoopbackListener&&) noexcept;
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  ~LoopbackListener();

  /// "http://127.0.0.1:<port>/callback": the redirect_uri of the authorization request; "" for a
  /// moved-from listener.
  [[nodiscard]] const std::string& redirect_uri() const noexcept;

  /// Waits for the first GET of `path` whose state parameter equals \p state (compared in constant
  /// time), including one that arrived before this call. Answers it with a fixed page, stops
  /// listening at once and returns the callback URL (redirect_uri() + "?" + the request's raw
  /// query) for Client::exchange_code, which does the full checks; an error response with the right
  /// state ends the wait too. Other paths get 404, other methods 405, another or no state 400, all
  /// with fixed pages (nothing from a request is ever reflected), and the wait goes on. Throws
  /// errc::deadline_exceeded after options.timeout, errc::cancelled when options.cancel fires, and
  /// errc::config when called a second time, on a moved-from listener, or with an empty or
  /// non-printable \p state.
  [[nodiscard]] std::string wait_for_callback(const std::string& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Opens an http(s) URL in the user's browser: xdg-open (Linux) or open (macOS), started with
/// posix_spawnp (no shell: the URL is one argument) and not waited for. When that program is not
/// found, prints "Open this URL in your browser: <url>" (control characters escaped) to stderr.
/// Returns whether a browser program was started. Any other scheme is errc::config: xdg-open would
/// as happily open a local file.
OIDC_API bool open_in_browser(const std::string& url);

/// The whole login of a native app: a listener, client.authorization_request(options) with its
/// redirect_uri, the browser (loopback.open_browser) on the request's URL, the wait, then
/// client.exchange_code. options.redirect_uri must be empty (the listener sets it: errc::config
/// otherwise); options.cancel defaults to loopback.cancel. Throws whatever those steps throw.
[[nodiscard]] OIDC_API Token loopback_login(const Client& client, AuthorizationOptions options,
                                            const LoopbackOptions& loopback = {});

}  // namespace oidc

#endif  // OIDC_LOOPBACK_HPP
