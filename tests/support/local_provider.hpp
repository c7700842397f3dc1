// LocalProvider: an embedded, Keycloak-shaped OAuth 2.0 provider for tests and
// the demo. It serves the token and device authorization endpoints of the
// seed providers (Keycloak realms "core" and "vyopta", SimpleIdServer realm
// "master") on 127.0.0.1, validates requests strictly (so client bugs show up
// as recorded rejections instead of silently working), and can replay
// scripted responses verbatim.
//
// It also has a browser-facing authorization endpoint (RFC 6749 §4.1/§4.2)
// that a test drives like a browser: GET the request URL without following
// redirects and read the 302's Location. Keycloak layout:
//   /realms/<realm>/protocol/openid-connect/auth             authorization
//   /realms/<realm>/protocol/openid-connect/ext/par/request  PAR (RFC 9126)
//   /realms/<realm>/.well-known/openid-configuration         metadata
// SimpleIdServer layout (seed 002): /<realm>/authorization and
// /<realm>/.well-known/openid-configuration (no PAR).
//
// OpenID Connect (Keycloak layout under /realms/<realm>/protocol/openid-connect;
// SimpleIdServer's in brackets):
//   /certs [/jwks]                   JWKS: the realm's public signing keys
//   /userinfo [/userinfo]            OIDC Core §5.3, GET/POST with a Bearer
//                                    access token (RFC 6750 §2.1)
//   /token/introspect [/token_info]  RFC 7662, client-authenticated
//   /revoke [/token/revoke]          RFC 7009, client-authenticated
//   /logout [/end_session]           RP-initiated logout 1.0
//   /.well-known/oauth-authorization-server/realms/<realm> (and Keycloak's
//   /realms/<realm>/.well-known/oauth-authorization-server): RFC 8414, the
//   same document as openid-configuration.
// ID tokens (whenever the scope has openid: authorization_code, password,
// refresh_token, device_code; not the implicit fragment, which only has
// response_type=token) are signed with the library's oidc::SigningKey:
// RS256 kid kDefaultKid in Keycloak realms, ES256 kid "ecdsa-1" in
// SimpleIdServer ones (one key per process, made on first use). Claims: iss,
// sub (subject_id(): a stable UUID in Keycloak realms, the username in
// SimpleIdServer ones; access tokens and introspection keep the username),
// aud (Keycloak a string, SimpleIdServer an array), azp, exp, iat, auth_time,
// nonce (from the authorization request; echoed on refresh, as Keycloak
// does), at_hash, sid, and alice's profile (name, email, preferred_username).
// No c_hash: there is no hybrid flow. Refresh keeps sub, iss, aud, auth_time.
// Clients authenticate with client_secret_basic, client_secret_post, or a
// JWT assertion (RFC 7523 §2.2) at the token, device, PAR, introspection and
// revocation endpoints: private_key_jwt with register_client_jwk()'s key,
// client_secret_jwt with the client secret; iss = sub = client_id, aud the
// token endpoint, the endpoint called or the issuer, exp in the future and
// at most an hour away, jti once.
// Switches: rotate_signing_key / retire_old_keys / set_signing_algorithm
// (HS* signs with the client secret), set_id_token_mutator (header and claims
// before signing), set_id_token_override (verbatim), set_discovery_override
// (merge patch), set_openid_configuration_served, set_userinfo_signed
// (application/jwt), set_userinfo_subject, set_refused_token_type_hint; and
// counters/records jwks_requests(), logouts(). In a build that cannot sign
// (signing_available() false) ID tokens carry random signatures and the JWKS
// is empty. Access tokens are JWT-shaped with random signatures (opaque)
// unless set_signed_access_tokens(true) (RFC 9068 at+jwt).
// The "user" is set_authorization_user() (alice by default) and consents at
// once unless set_authorization_denied(true). RFC 9207 iss is sent in
// Keycloak-layout responses and not in SimpleIdServer ones (seed 002 has
// none) unless set_authorization_response_iss() says otherwise; the metadata
// declares authorization_response_iss_parameter_supported as sent unless
// set_advertise_authorization_response_iss() says otherwise.
//
// Header-only; needs cpp-httplib (`pkg-config --cflags --libs cpp-httplib`)
// and nlohmann/json. Thread-safe: one mutex guards all provider state.
//
// Defaults (LocalProviderOptions::register_seed_clients, on by default):
//   realm "core" (Keycloak, seeds 000/001)
//     device-client  public; device_code + refresh_token; expires_in 86375;
//                    refresh_expires_in 1775 on the first token of a session
//                    and 1800 after each refresh (as seed 000 shows)
//     svc            secret "svc-secret"; client_credentials; expires_in 300;
//                    no refresh token (Keycloak never issues one here)
//   realm "vyopta" (Keycloak, seed 003)
//     vyopta         public; password only; Host must be "login.vyopta.com";
//                    token_type "bearer"; expires_in 300; refresh_expires_in
//                    1800 (a refresh token is issued but cannot be used, the
//                    document says refresh is not implemented);
//                    not-before-policy 1533920635; scope "email profile"
//   realm "master" (SimpleIdServer, seed 002)
//     device         secret "password"; client_credentials + device_code +
//                    refresh_token; scope "networks"; expires_in 1800
//     userDevice     secret "password"; password + refresh_token;
//                    scope "openid profile" (=> id_token); expires_in 1800
//     website        secret "password"; authorization_code + implicit +
//                    refresh_token; redirect https://your-app.com/callback;
//                    scope "openid profile"; expires_in 1800 (seed 002)
//   realm "core", OIDC clients:
//     jwt-client     private_key_jwt only (no key until register_client_jwk);
//                    client_credentials + password + authorization_code +
//                    refresh_token; scope "openid profile email"; loopback
//                    redirects
//     jwt-secret-client  secret kSecretJwtClientSecret (basic, post or
//                    client_secret_jwt); client_credentials + password +
//                    refresh_token; scope "openid profile email"
//   realm "core", browser clients (any port on the loopback redirects,
//   RFC 8252 §7.3):
//     web-app        public; authorization_code + refresh_token; PKCE
//                    required; redirects http://127.0.0.1/callback,
//                    http://[::1]/callback, com.example.app:/oauth2redirect
//     portal         secret "portal-secret"; authorization_code + implicit +
//                    refresh_token; PKCE optional; redirects
//                    https://portal.example.com/callback and the loopback
//                    ones above; post-logout redirect
//                    https://portal.example.com/bye
//   users: alice/secret in every realm, administrator/password in "master".
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include "oidc/detail/base64.hpp"
#include "oidc/error.hpp"
#include "oidc/jose.hpp"
#include "oidc/secret.hpp"
#include "test_keys.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace oidc_testing {

enum class Flavor { keycloak, simpleidserver };

inline constexpr std::string_view kGrantClientCredentials = "client_credentials";
inline constexpr std::string_view kGrantPassword = "password";
inline constexpr std::string_view kGrantRefreshToken = "refresh_token";
inline constexpr std::string_view kGrantDeviceCode =
    "urn:ietf:params:oauth:grant-type:device_code";
inline constexpr std::string_view kGrantAuthorizationCode = "authorization_code";
// Not a token endpoint grant: the registration's permission to use
// response_type=token (RFC 7591 §2 grant_types "implicit").
inline constexpr std::string_view kGrantImplicit = "implicit";

struct ClientRegistration {
  std::string realm;
  std::string client_id;
  std::string secret;  // empty = public client
  std::vector<std::string> grant_types;
  std::string required_host;  // seed 003: reject unless Host equals this
  bool issue_refresh_token = true;  // never for client_credentials
  std::string token_type = "Bearer";
  int expires_in = 300;
  int refresh_expires_in = 1800;
  // > 0: refresh_expires_in of the first refresh token of a session (seed 000
  // shows 1775, then 1800 after refreshing).
  int first_refresh_expires_in = 0;
  long long not_before_policy = 0;
  std::string default_scope;  // used when the request has no scope
  Flavor flavor = Flavor::keycloak;
  // Authorization endpoint: compared exactly (RFC 6749 §3.1.2.3), except that
  // a loopback IP redirect registered without a port matches any port.
  std::vector<std::string> redirect_uris;
  bool require_pkce = false;  // no code_challenge: error=invalid_request
  bool require_pushed_authorization_requests = false;  // RFC 9126 §6
  // RP-initiated logout: compared exactly; empty means the redirect_uris
  // (Keycloak's "+").
  std::vector<std::string> post_logout_redirect_uris;
  // private_key_jwt (RFC 7523 §2.2): the client's public JWK (see
  // LocalProvider::register_client_jwk); null: none registered. A client with
  // a secret may use client_secret_jwt besides client_secret_basic/post.
  nlohmann::json jwk;
  bool confidential() const { return !secret.empty() || !jwk.is_null(); }
};

// One RP-initiated logout the end_session endpoint accepted.
struct RecordedLogout {
  std::string realm, client_id, subject, sid, post_logout_redirect_uri, state;
  bool id_token_hint = false;
};

// An authorization code as the provider issued it (see authorization_code()).
struct IssuedAuthorizationCode {
  std::string realm, client_id, redirect_uri, scope, nonce, subject, session_state;
  std::string code_challenge, code_challenge_method;  // empty: no PKCE
  std::vector<std::string> resources;
  std::chrono::system_clock::time_point expires_at;
  std::chrono::system_clock::time_point auth_time;  // when the user logged in
  bool redeemed = false;
  std::vector<std::string> refresh_tokens;  // revoked if the code is replayed
};

// Values the next authorization response uses instead of fresh ones, to
// replay a document's callback exactly. Empty members are generated.
struct ScriptedAuthorization {
  std::string code;
  std::string access_token;  // response_type=token
  std::string session_state;
};

using FormFields = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::string method;
  std::string path;    // decoded path, no query
  std::string target;  // as sent, including any query
  httplib::Headers headers;  // case-insensitive multimap
  std::string body;
  FormFields form;  // in order; empty unless the body is a well-formed form
  int remote_port = -1;  // same port on two requests = same connection

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const {
    return headers.count(name) != 0;
  }
  std::optional<std::string> form_value(std::string_view name) const {
    for (const auto& field : form) {
      if (field.first == name) return field.second;
    }
    return std::nullopt;
  }
};

// A request that failed a strictness check (malformed, wrong method, wrong
// content type, ...), as opposed to a legitimate protocol outcome such as
// authorization_pending or a wrong password.
struct Rejection {
  std::string method;
  std::string path;
  int status = 0;
  std::string error;
  std::string reason;
};

struct LocalProviderOptions {
  bool register_seed_clients = true;
  // Lets a benchmark reuse one connection for thousands of requests.
  std::size_t keep_alive_max_count = 100000;
  // Longer than the default device polling interval (5 s) so a polling
  // client's idle connection is not closed under it. The destructor waits up
  // to this long for a client's idle keep-alive connection (measured: 10 s
  // with a live libcurl transport), so destroy clients and transports first.
  std::time_t keep_alive_timeout_seconds = 10;
  // Upper bound of the on-demand worker pool. Every keep-alive connection
  // pins a worker, and httplib's fixed default pool (max(8, cores-1)) would
  // make the 9th concurrent client wait for an idle connection to time out.
  std::size_t max_worker_threads = 256;
};

namespace local_provider_detail {

// Thrown by request handling; `strict` marks a rejection worth recording.
struct OAuthError {
  int status;
  std::string error;
  std::string description;
  bool strict;
};

[[noreturn]] inline void reject(int status, std::string error,
                                std::string description) {
  throw OAuthError{status, std::move(error), std::move(description), true};
}

[[noreturn]] inline void fail(int status, std::string error,
                              std::string description) {
  throw OAuthError{status, std::move(error), std::move(description), false};
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto pos = s.find(sep);
    parts.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return parts;
    s.remove_prefix(pos + 1);
  }
}

inline std::string base64_encode(std::string_view in, bool url) {
  static constexpr char kStd[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* table = url ? kUrl : kStd;
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto n = (std::uint32_t(std::uint8_t(in[i])) << 16) |
             (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += table[(n >> shift) & 63];
  }
  if (i < in.size()) {
    auto n = std::uint32_t(std::uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    if (i + 1 < in.size()) out += table[(n >> 6) & 63];
    if (!url) out.append(i + 1 < in.size() ? 1 : 2, '=');  // JWTs are unpadded
  }
  return out;
}

// Standard alphabet, padding required: what RFC 7617 Basic credentials use.
inline std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=' && i + 2 >= in.size()) { ++padding; continue; }
    else return std::nullopt;
    if (padding != 0) return std::nullopt;  // data after '='
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding (RFC 6749 Appendix B): '+' is a
// space, %XX a byte. Whitespace, control and non-ASCII bytes must arrive
// percent-encoded; anything else printable is tolerated because curl --data
// (used by every seed) sends ':', '<' etc. raw.
inline bool form_decode(std::string_view in, std::string& out, std::string& error) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        error = "malformed percent-encoding in '" + std::string(in) + "'";
        return false;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c <= 0x20 || c >= 0x7F) {
      error = "unencoded byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
              std::string(1, "0123456789abcdef"[c & 15]) + " in '" +
              std::string(in) + "'";
      return false;
    } else {
      out += static_cast<char>(c);
    }
  }
  return true;
}

// The one form parser: used for recording and for strict validation.
inline bool parse_form(std::string_view body, FormFields& out, std::string& error) {
  out.clear();
  if (body.empty()) return true;
  for (auto segment : split(body, '&')) {
    if (segment.empty()) {
      error = "empty form parameter (stray '&')";
      return false;
    }
    auto eq = segment.find('=');
    if (eq == std::string_view::npos) {
      error = "form parameter without '=': '" + std::string(segment) + "'";
      return false;
    }
    std::string name, value;
    if (!form_decode(segment.substr(0, eq), name, error) ||
        !form_decode(segment.substr(eq + 1), value, error)) {
      return false;
    }
    if (name.empty()) {
      error = "empty form parameter name";
      return false;
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

// Empty when the request declares a form body (charset=utf-8 allowed).
inline std::string content_type_problem(const httplib::Request& req) {
  auto count = req.get_header_value_count("Content-Type");
  if (count == 0) return "missing Content-Type (expected application/x-www-form-urlencoded)";
  if (count > 1) return "multiple Content-Type headers";
  auto value = req.get_header_value("Content-Type");
  auto parts = split(value, ';');
  if (lower(trim(parts[0])) != "application/x-www-form-urlencoded") {
    return "Content-Type must be application/x-www-form-urlencoded, got '" + value + "'";
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto param = trim(parts[i]);
    auto eq = param.find('=');
    auto name = lower(trim(param.substr(0, eq)));
    auto val = eq == std::string_view::npos ? std::string_view() : trim(param.substr(eq + 1));
    if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
    if (name != "charset" || lower(val) != "utf-8") {
      return "unsupported Content-Type parameter '" + std::string(param) + "'";
    }
  }
  return {};
}

inline const std::string* find_field(const FormFields& form, std::string_view name) {
  for (const auto& field : form) {
    if (field.first == name) return &field.second;
  }
  return nullptr;
}

inline std::set<std::string> scope_set(std::string_view scope) {
  std::set<std::string> out;
  for (auto s : split(scope, ' ')) {
    if (!s.empty()) out.emplace(s);
  }
  return out;
}

// SHA-256 (FIPS 180-4), written here rather than taken from the library so that the provider's
// PKCE S256 check is an independent oracle: a wrong oidc::sha256 would otherwise agree with itself.
inline std::array<std::uint8_t, 32> sha256(std::string_view data) {
  static constexpr std::uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg(data);
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  msg += static_cast<char>(0x80);
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bits >> (8 * i)) & 0xFF);
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (std::size_t block = 0; block < msg.size(); block += 64) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int j = 0; j < 4; ++j) w[i] = (w[i] << 8) | static_cast<std::uint8_t>(msg[block + 4 * i + j]);
    }
    for (int i = 16; i < 64; ++i) {
      const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t v[8];
    for (int i = 0; i < 8; ++i) v[i] = h[i];
    for (int i = 0; i < 64; ++i) {
      const auto s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      const auto ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const auto t1 = v[7] + s1 + ch + k[i] + w[i];
      const auto s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      const auto maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      for (int j = 7; j > 0; --j) v[j] = v[j - 1];
      v[4] += t1;
      v[0] = t1 + s0 + maj;
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  }
  std::array<std::uint8_t, 32> out{};
  for (int i = 0; i < 32; ++i) out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

// RFC 3986 percent-encoding of everything but the unreserved characters: what
// a server puts in the redirect's query or fragment.
inline std::string url_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// RFC 7636 §4.1/§4.2: 43-128 characters of ALPHA / DIGIT / "-" / "." / "_" / "~"
// (verifiers, and S256 or plain challenges alike).
inline bool is_pkce_value(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  return std::all_of(v.begin(), v.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
  });
}

// RFC 6749 §3.3: scope-tokens separated by single spaces.
inline bool is_scope(std::string_view scope) {
  if (scope.empty()) return false;
  for (auto token : split(scope, ' ')) {
    if (token.empty()) return false;
    for (unsigned char c : token) {
      if (c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E) return false;
    }
  }
  return true;
}

// RFC 8707 §2: an absolute URI without a fragment.
inline bool is_resource_indicator(std::string_view uri) {
  auto colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || uri.find('#') != std::string_view::npos) return false;
  return std::all_of(uri.begin(), uri.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

inline std::string html_escape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A compact JWS split and decoded (RFC 7515 §7.1): what the provider checks
// in client assertions and id_token_hint. nullopt unless three strict
// base64url segments with a JSON object header and claims.
struct ParsedJws {
  nlohmann::json header, claims;
  std::string signing_input, signature;
  std::optional<oidc::JwsAlgorithm> alg;  // nullopt: none or unknown
};

inline std::optional<ParsedJws> parse_jws(std::string_view token) {
  auto parts = split(token, '.');
  if (parts.size() != 3) return std::nullopt;
  auto header = oidc::detail::base64url_decode_strict(parts[0]);
  auto claims = oidc::detail::base64url_decode_strict(parts[1]);
  auto signature = oidc::detail::base64url_decode_strict(parts[2]);
  if (!header || !claims || !signature) return std::nullopt;
  ParsedJws out;
  out.header = nlohmann::json::parse(*header, nullptr, false);
  out.claims = nlohmann::json::parse(*claims, nullptr, false);
  if (!out.header.is_object() || !out.claims.is_object()) return std::nullopt;
  out.signing_input = std::string(token.substr(0, parts[0].size() + 1 + parts[1].size()));
  out.signature = std::move(*signature);
  auto alg = out.header.find("alg");
  if (alg != out.header.end() && alg->is_string()) out.alg = oidc::parse_jws_algorithm(alg->get<std::string>());
  return out;
}

// httplib::TaskQueue that starts workers only when no idle one can take a
// job: a fixed pool big enough for many clients costs ~200 ms to start and
// join per provider under TSan.
class ElasticPool : public httplib::TaskQueue {
 public:
  explicit ElasticPool(std::size_t max_threads) : max_threads_(std::max<std::size_t>(1, max_threads)) {}

  // httplib calls enqueue() and shutdown() from its accept thread only, so
  // threads_ needs no lock of its own.
  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(fn));
    if (jobs_.size() > idle_ && threads_.size() < max_threads_) {
      threads_.emplace_back([this] { work(); });
    } else {
      cv_.notify_one();
    }
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    cv_.notify_all();
    for (auto& thread : threads_) thread.join();
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // shut down and drained
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  const std::size_t max_threads_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::size_t idle_ = 0;
  bool shutdown_ = false;
};

}  // namespace local_provider_detail

class LocalProvider {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Clock = std::function<TimePoint()>;

  // A canned response served (FIFO per path) before normal behaviour.
  struct Response {
    int status = 200;
    std::string content_type = "application/json";  // empty: httplib sends text/plain
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};  // simulates a slow server

    static Response json(int status, std::string body) {
      Response r;
      r.status = status;
      r.body = std::move(body);
      return r;
    }
    static Response text(int status, std::string content_type, std::string body) {
      Response r = json(status, std::move(body));
      r.content_type = std::move(content_type);
      return r;
    }
  };

  static constexpr std::string_view kCoreRealm = "core";
  static constexpr std::string_view kDeviceClientId = "device-client";
  static constexpr std::string_view kServiceClientId = "svc";
  static constexpr std::string_view kServiceClientSecret = "svc-secret";
  static constexpr std::string_view kVyoptaRealm = "vyopta";
  static constexpr std::string_view kVyoptaClientId = "vyopta";
  static constexpr std::string_view kVyoptaHost = "login.vyopta.com";
  static constexpr std::string_view kMasterRealm = "master";
  static constexpr std::string_view kSidDeviceClientId = "device";
  static constexpr std::string_view kSidDeviceClientSecret = "password";
  static constexpr std::string_view kSidUserDeviceClientId = "userDevice";
  static constexpr std::string_view kSidUserDeviceClientSecret = "password";
  static constexpr std::string_view kWebAppClientId = "web-app";
  static constexpr std::string_view kPortalClientId = "portal";
  static constexpr std::string_view kPortalClientSecret = "portal-secret";
  static constexpr std::string_view kPortalRedirectUri = "https://portal.example.com/callback";
  static constexpr std::string_view kLoopbackRedirectUri = "http://127.0.0.1/callback";
  static constexpr std::string_view kNativeRedirectUri = "com.example.app:/oauth2redirect";
  static constexpr std::string_view kSidWebsiteClientId = "website";
  static constexpr std::string_view kSidWebsiteClientSecret = "password";
  static constexpr std::string_view kSidWebsiteRedirectUri = "https://your-app.com/callback";
  // realm "core": private_key_jwt (no key until register_client_jwk) and
  // client_secret_jwt clients.
  static constexpr std::string_view kJwtClientId = "jwt-client";
  static constexpr std::string_view kSecretJwtClientId = "jwt-secret-client";
  static constexpr std::string_view kSecretJwtClientSecret = "jwt-secret-client-secret-of-at-least-32-bytes";
  static constexpr std::string_view kPostLogoutRedirectUri = "https://portal.example.com/bye";
  static constexpr std::string_view kAliceUsername = "alice";
  static constexpr std::string_view kAlicePassword = "secret";
  static constexpr std::string_view kAdministratorUsername = "administrator";
  static constexpr std::string_view kAdministratorPassword = "password";

  explicit LocalProvider(LocalProviderOptions options = {}) {
    using httplib::Server;
    auto handler = Server::Handler(
        [this](const httplib::Request& req, httplib::Response& res) { dispatch(req, res); });
    server_.Get(".*", handler).Post(".*", handler).Put(".*", handler);
    server_.Patch(".*", handler).Delete(".*", handler).Options(".*", handler);
    server_.set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          record_rejection(req, {500, "server_error", "provider bug: " + what, true});
          write_error(res, {500, "server_error", what, true}, "");
        });
    // httplib writes headers and body separately; with Nagle on, each
    // keep-alive response stalls on the peer's delayed ACK (~40 ms).
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(options.keep_alive_max_count);
    server_.set_keep_alive_timeout(options.keep_alive_timeout_seconds);
    auto max_threads = options.max_worker_threads;
    server_.new_task_queue = [max_threads] { return new local_provider_detail::ElasticPool(max_threads); };
    // The packaged library listens with a backlog of 5; remember the socket
    // so we can raise it and a burst of client threads isn't SYN-dropped.
    server_.set_socket_options([this](socket_t sock) {
      httplib::default_socket_options(sock);
      listen_socket_ = sock;
    });

    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("LocalProvider: cannot bind 127.0.0.1");
    ::listen(listen_socket_, SOMAXCONN);
    base_url_ = "http://127.0.0.1:" + std::to_string(port_);
    if (options.register_seed_clients) register_seed_defaults();

    thread_ = std::thread([this] {
      server_.listen_after_bind();
      listen_returned_ = true;
    });
    // The socket already accepts connections (bound + listening), but stop()
    // is a no-op until the accept loop runs, so returning earlier would let
    // the destructor hang. httplib 0.11.4 has no wait_until_ready().
    while (!server_.is_running()) {
      if (listen_returned_) {
        thread_.join();
        throw std::runtime_error("LocalProvider: accept loop failed to start");
      }
      std::this_thread::yield();
    }
  }

  ~LocalProvider() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;  // cut scripted delays short
    }
    stop_cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  LocalProvider(const LocalProvider&) = delete;
  LocalProvider& operator=(const LocalProvider&) = delete;

  // --- addresses -----------------------------------------------------------
  int port() const { return port_; }
  std::string base_url() const { return base_url_; }

  static std::string token_path(std::string_view realm = kCoreRealm) {
    return "/realms/" + std::string(realm) + "/protocol/openid-connect/token";
  }
  static std::string device_path(std::string_view realm = kCoreRealm) {
    return "/realms/" + std::string(realm) + "/protocol/openid-connect/auth/device";
  }
  // Keycloak < 17 layout, used by seeds 000 and 003.
  static std::string legacy_token_path(std::string_view realm = kCoreRealm) {
    return "/auth" + token_path(realm);
  }
  static std::string legacy_device_path(std::string_view realm = kCoreRealm) {
    return "/auth" + device_path(realm);
  }
  static std::string sid_token_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/token";
  }
  static std::string sid_device_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/device_authorization";
  }

  static std::string authorization_path(std::string_view realm = kCoreRealm) {
    return "/realms/" + std::string(realm) + "/protocol/openid-connect/auth";
  }
  static std::string par_path(std::string_view realm = kCoreRealm) {
    return "/realms/" + std::string(realm) + "/protocol/openid-connect/ext/par/request";
  }
  static std::string discovery_path(std::string_view realm = kCoreRealm) {
    return "/realms/" + std::string(realm) + "/.well-known/openid-configuration";
  }
  static std::string sid_authorization_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/authorization";
  }
  static std::string sid_discovery_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/.well-known/openid-configuration";
  }

  static std::string oidc_path(std::string_view realm, std::string_view tail) {
    return "/realms/" + std::string(realm) + "/protocol/openid-connect/" + std::string(tail);
  }
  static std::string jwks_path(std::string_view realm = kCoreRealm) { return oidc_path(realm, "certs"); }
  static std::string userinfo_path(std::string_view realm = kCoreRealm) { return oidc_path(realm, "userinfo"); }
  static std::string introspection_path(std::string_view realm = kCoreRealm) {
    return oidc_path(realm, "token/introspect");
  }
  static std::string revocation_path(std::string_view realm = kCoreRealm) { return oidc_path(realm, "revoke"); }
  static std::string end_session_path(std::string_view realm = kCoreRealm) { return oidc_path(realm, "logout"); }
  // RFC 8414 §3.1: the well-known segment goes between host and issuer path.
  static std::string oauth_metadata_path(std::string_view realm = kCoreRealm) {
    return "/.well-known/oauth-authorization-server/realms/" + std::string(realm);
  }
  static std::string sid_jwks_path(std::string_view realm = kMasterRealm) { return "/" + std::string(realm) + "/jwks"; }
  static std::string sid_userinfo_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/userinfo";
  }
  static std::string sid_introspection_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/token_info";
  }
  static std::string sid_revocation_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/token/revoke";
  }
  static std::string sid_end_session_path(std::string_view realm = kMasterRealm) {
    return "/" + std::string(realm) + "/end_session";
  }

  std::string jwks_endpoint(std::string_view realm = kCoreRealm) const { return base_url_ + jwks_path(realm); }
  std::string userinfo_endpoint(std::string_view realm = kCoreRealm) const { return base_url_ + userinfo_path(realm); }
  std::string introspection_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + introspection_path(realm);
  }
  std::string revocation_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + revocation_path(realm);
  }
  std::string end_session_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + end_session_path(realm);
  }
  std::string oauth_metadata_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + oauth_metadata_path(realm);
  }
  std::string sid_jwks_endpoint(std::string_view realm = kMasterRealm) const { return base_url_ + sid_jwks_path(realm); }
  std::string sid_userinfo_endpoint(std::string_view realm = kMasterRealm) const {
    return base_url_ + sid_userinfo_path(realm);
  }

  // The issuer identifiers the metadata and RFC 9207 iss carry.
  std::string issuer(std::string_view realm = kCoreRealm) const { return base_url_ + "/realms/" + std::string(realm); }
  std::string sid_issuer(std::string_view realm = kMasterRealm) const { return base_url_ + "/" + std::string(realm); }

  std::string authorization_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + authorization_path(realm);
  }
  std::string par_endpoint(std::string_view realm = kCoreRealm) const { return base_url_ + par_path(realm); }
  std::string discovery_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + discovery_path(realm);
  }
  std::string sid_authorization_endpoint(std::string_view realm = kMasterRealm) const {
    return base_url_ + sid_authorization_path(realm);
  }
  std::string sid_discovery_endpoint(std::string_view realm = kMasterRealm) const {
    return base_url_ + sid_discovery_path(realm);
  }

  std::string token_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + token_path(realm);
  }
  std::string device_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + device_path(realm);
  }
  std::string legacy_token_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + legacy_token_path(realm);
  }
  std::string legacy_device_endpoint(std::string_view realm = kCoreRealm) const {
    return base_url_ + legacy_device_path(realm);
  }
  std::string sid_token_endpoint(std::string_view realm = kMasterRealm) const {
    return base_url_ + sid_token_path(realm);
  }
  std::string sid_device_endpoint(std::string_view realm = kMasterRealm) const {
    return base_url_ + sid_device_path(realm);
  }

  // --- registry ------------------------------------------------------------
  void add_client(ClientRegistration client) {
    std::lock_guard<std::mutex> lock(mutex_);
    realms_.insert(client.realm);
    auto key = std::make_pair(client.realm, client.client_id);
    clients_[key] = std::move(client);
  }

  void add_user(std::string realm, std::string username, std::string password) {
    std::lock_guard<std::mutex> lock(mutex_);
    realms_.insert(realm);
    users_[{std::move(realm), std::move(username)}] = std::move(password);
  }

  // --- device flow ---------------------------------------------------------
  // Approves a pending, unexpired user code on behalf of `username`.
  bool approve(std::string_view user_code,
               std::string_view username = kAliceUsername) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto* grant = pending_device_grant_locked(user_code);
    if (grant == nullptr) return false;
    grant->state = DeviceState::approved;
    grant->subject = std::string(username);
    return true;
  }

  bool deny(std::string_view user_code) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto* grant = pending_device_grant_locked(user_code);
    if (grant == nullptr) return false;
    grant->state = DeviceState::denied;
    return true;
  }

  std::vector<std::string> pending_user_codes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> codes;
    for (const auto& entry : device_grants_) {
      if (entry.second.state == DeviceState::pending) codes.push_back(entry.second.user_code);
    }
    return codes;
  }

  // Approve (as alice) after `polls` authorization_pending answers; 0 means
  // the first poll succeeds, negative disables (the default).
  void auto_approve_after_polls(int polls) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto_approve_after_ = polls < 0 ? std::nullopt : std::optional<int>(polls);
  }

  // RFC 8628 §3.5: answer slow_down (and add 5 s to the interval) when a
  // device code is polled sooner than its interval on the provider clock.
  void enforce_slow_down(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    enforce_slow_down_ = on;
  }

  void set_device_code_expires_in(int seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    device_expires_in_ = seconds;
  }

  void set_device_poll_interval(int seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    device_interval_ = seconds;
  }

  // --- authorization endpoint ---------------------------------------------
  // Who logs in at the authorization endpoint (consent is given at once).
  void set_authorization_user(std::string username) {
    std::lock_guard<std::mutex> lock(mutex_);
    authorization_user_ = std::move(username);
  }

  // The user refuses: error=access_denied with this description.
  void set_authorization_denied(bool denied, std::string description = "The user denied the request") {
    std::lock_guard<std::mutex> lock(mutex_);
    authorization_denied_ = denied;
    denial_description_ = std::move(description);
  }

  // RFC 9207 iss in authorization responses: nullopt is the layout's default
  // (Keycloak sends it, SimpleIdServer does not).
  void set_authorization_response_iss(std::optional<bool> send) {
    std::lock_guard<std::mutex> lock(mutex_);
    send_iss_ = send;
  }

  // authorization_response_iss_parameter_supported in the metadata: nullopt
  // says what is sent; a value can make the metadata lie either way.
  void set_advertise_authorization_response_iss(std::optional<bool> advertise) {
    std::lock_guard<std::mutex> lock(mutex_);
    advertise_iss_ = advertise;
  }

  // The next authorization response (only the next) uses these values.
  void script_next_authorization(ScriptedAuthorization next) {
    std::lock_guard<std::mutex> lock(mutex_);
    next_authorization_ = std::move(next);
  }

  // Keycloak's default: codes live 60 s, pushed request_uris 60 s.
  void set_authorization_code_lifetime(int seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    code_lifetime_ = seconds;
  }
  void set_request_uri_lifetime(int seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    request_uri_lifetime_ = seconds;
  }

  // What the provider stored with a code it issued.
  std::optional<IssuedAuthorizationCode> authorization_code(std::string_view code) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = codes_.find(std::string(code));
    if (it == codes_.end()) return std::nullopt;
    return it->second;
  }

  std::size_t pushed_request_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pushed_requests_.size();
  }

  // --- OpenID Connect ------------------------------------------------------
  // Whether this build can sign (the library's JOSE implementation, OpenSSL
  // 3). Without it ID tokens and signed userinfo carry random signatures, as
  // access tokens always do, the JWKS is empty and id_token_hint cannot be
  // verified.
  static bool signing_available() {
    return shared_key(oidc::JwsAlgorithm::RS256, std::string(kDefaultKid)).has_value();
  }

  // A new key with a new kid becomes the realm's signer; the previous ones
  // stay in the JWKS until retire_old_keys(). Returns the new kid.
  std::string rotate_signing_key(oidc::JwsAlgorithm alg = oidc::JwsAlgorithm::RS256,
                                 std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& keys = realm_keys_locked(std::string(realm));
    std::string kid = "lp-" + std::string(oidc::to_string(alg)) + "-" + std::to_string(++rotations_) + "-" +
                      local_provider_detail::base64_encode(random_bytes_locked(6), true);
    keys.published.push_back(oidc::SigningKey::generate(alg, kid));
    keys.symmetric.reset();
    return kid;
  }

  // Drops every published key but the current signer.
  void retire_old_keys(std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& keys = realm_keys_locked(std::string(realm));
    if (keys.published.size() > 1) keys.published.erase(keys.published.begin(), keys.published.end() - 1);
  }

  // Signs ID tokens and signed userinfo with `alg`: HS256/384/512 with the
  // client's secret (OIDC Core §10.1; the JWKS is unchanged), anything else
  // with a key of that algorithm that replaces the published ones.
  void set_signing_algorithm(oidc::JwsAlgorithm alg, std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& keys = realm_keys_locked(std::string(realm));
    if (oidc::is_symmetric(alg)) {
      keys.symmetric = alg;
      return;
    }
    keys.symmetric.reset();
    auto key = shared_key(alg, "lp-" + std::string(oidc::to_string(alg)));
    if (!key) throw std::runtime_error("LocalProvider: this build cannot sign");
    keys.published = {*key};
  }

  // The kid of the key that signs the realm's tokens now ("" when HS* or
  // signing is unavailable).
  std::string current_kid(std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& keys = realm_keys_locked(std::string(realm));
    return keys.symmetric || keys.published.empty() ? std::string() : keys.published.back().kid();
  }

  // The JWK Set the jwks_uri serves.
  nlohmann::json jwks(std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    return jwks_locked(std::string(realm));
  }

  std::size_t jwks_requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return jwks_requests_;
  }

  // Applied to every ID token's header and claims before signing (e.g. a
  // wrong aud, an old auth_time, kid of another key). Called with the
  // provider mutex held: it must not call back into the provider.
  using IdTokenMutator = std::function<void(nlohmann::json& header, nlohmann::json& claims)>;
  void set_id_token_mutator(IdTokenMutator mutator) {
    std::lock_guard<std::mutex> lock(mutex_);
    id_token_mutator_ = std::move(mutator);
  }

  // Every ID token is this string, verbatim (alg none, garbage, ...); nullopt
  // restores minting.
  void set_id_token_override(std::optional<std::string> raw) {
    std::lock_guard<std::mutex> lock(mutex_);
    id_token_override_ = std::move(raw);
  }

  // An RFC 7386 merge patch over the realm's discovery documents (both the
  // OpenID and the RFC 8414 one): {"issuer": "https://evil"} lies,
  // {"jwks_uri": null} omits. A null patch removes the override.
  void set_discovery_override(nlohmann::json patch, std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (patch.is_null()) {
      discovery_patches_.erase(std::string(realm));
    } else {
      discovery_patches_[std::string(realm)] = std::move(patch);
    }
  }

  // false: /.well-known/openid-configuration answers 404, so only the RFC
  // 8414 document is left (a client's fallback).
  void set_openid_configuration_served(bool served) {
    std::lock_guard<std::mutex> lock(mutex_);
    serve_openid_configuration_ = served;
  }

  // Access tokens as RFC 9068 JWTs (typ at+jwt) signed by the realm's key,
  // for resource-server validation; off: JWT-shaped with random signatures.
  void set_signed_access_tokens(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    signed_access_tokens_ = on;
  }

  // Userinfo as a signed JWT (application/jwt, OIDC Core §5.3.2) instead of
  // JSON; with iss and aud.
  void set_userinfo_signed(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    userinfo_signed_ = on;
  }

  // Userinfo answers this sub instead of the ID token's (OIDC Core §5.3.2:
  // the client must refuse it); nullopt restores.
  void set_userinfo_subject(std::optional<std::string> sub) {
    std::lock_guard<std::mutex> lock(mutex_);
    userinfo_subject_ = std::move(sub);
  }

  // Revocation answers unsupported_token_type (RFC 7009 §2.2.1) to requests
  // with this token_type_hint; empty: none refused.
  void set_refused_token_type_hint(std::string hint) {
    std::lock_guard<std::mutex> lock(mutex_);
    refused_hint_ = std::move(hint);
  }

  // private_key_jwt: the public JWK that verifies the client's assertions.
  void register_client_jwk(std::string_view client_id, nlohmann::json jwk, std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = clients_.find({std::string(realm), std::string(client_id)});
    if (it == clients_.end()) throw std::invalid_argument("LocalProvider: no client " + std::string(client_id));
    it->second.jwk = std::move(jwk);
  }

  // Standard claims (OIDC Core §5.1) of a user for ID tokens and userinfo;
  // alice has a name and an email in every realm.
  void set_user_claims(std::string_view username, nlohmann::json claims, std::string_view realm = kCoreRealm) {
    std::lock_guard<std::mutex> lock(mutex_);
    profiles_[{std::string(realm), std::string(username)}] = std::move(claims);
  }

  // The sub of a user's ID tokens and userinfo: a stable UUID derived from
  // realm and username in Keycloak realms (access tokens and introspection
  // keep the username, as they always did here), the username in
  // SimpleIdServer ones (seed 002).
  std::string subject_id(std::string_view username, std::string_view realm = kCoreRealm) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return subject_id_locked(std::string(realm), std::string(username));
  }

  std::vector<RecordedLogout> logouts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return logouts_;
  }

  // --- provider time -------------------------------------------------------
  // The clock is called with the provider mutex held: it must not call back
  // into the provider.
  void set_clock(Clock clock) {
    std::lock_guard<std::mutex> lock(mutex_);
    clock_ = clock ? std::move(clock) : Clock(std::chrono::system_clock::now);
  }

  // Shifts provider time forward, on top of whatever clock is installed.
  void advance_clock(std::chrono::seconds by) {
    std::lock_guard<std::mutex> lock(mutex_);
    clock_offset_ += by;
  }

  TimePoint now() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_locked();
  }

  // --- scripting and recording --------------------------------------------
  void enqueue(std::string path, Response response) {
    std::lock_guard<std::mutex> lock(mutex_);
    scripts_[std::move(path)].push_back(std::move(response));
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  std::vector<RecordedRequest> requests(std::string_view path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<RecordedRequest> out;
    for (const auto& r : requests_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }

  std::size_t request_count(std::string_view path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<std::size_t>(std::count_if(
        requests_.begin(), requests_.end(), [&](const RecordedRequest& r) { return r.path == path; }));
  }

  std::vector<Rejection> rejections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return rejections_;
  }

  // Forgets recorded requests and rejections.
  void clear_requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.clear();
    rejections_.clear();
  }

  // Stops storing requests (e.g. for a long benchmark); rejections are
  // always kept.
  void set_recording(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    recording_ = on;
  }

 private:
  using OAuthError = local_provider_detail::OAuthError;
  using Json = nlohmann::ordered_json;  // keeps the providers' key order

  enum class DeviceState { pending, approved, denied };
  enum class Endpoint {
    none, token, device, verification, authorization, par, discovery, oauth_metadata,
    jwks, userinfo, introspection, revocation, end_session
  };

  struct Route {
    Endpoint endpoint = Endpoint::none;
    std::string realm;
    Flavor style = Flavor::keycloak;  // which URL layout was used
    std::string prefix;               // "" or "/auth"
  };

  // What every handler sees: the request plus its form, parsed once.
  struct Inbound {
    const httplib::Request& http;
    FormFields form;
    std::string form_problem;  // empty if the body is a well-formed form
  };

  struct DeviceGrant {
    std::string realm, client_id, user_code, scope;
    TimePoint expires_at;
    int interval = 5;
    DeviceState state = DeviceState::pending;
    std::string subject;
    int pending_polls = 0;
    std::optional<TimePoint> last_poll;
  };

  struct RefreshGrant {
    std::string realm, client_id, subject, scope, session_state;
    TimePoint expires_at;
    std::vector<std::string> resources;
    std::string code;  // the authorization code it descends from, if any
    TimePoint issued_at;
    std::string nonce;    // Keycloak echoes it in refreshed ID tokens
    TimePoint auth_time;  // kept across refreshes (OIDC Core §12.2)
  };

  // An access token the provider issued, for userinfo, introspection and
  // revocation; stored by the SHA-256 of the token (see access_key).
  struct AccessGrant {
    std::string realm, client_id, subject, scope, session_state, jti;
    std::vector<std::string> resources;
    TimePoint issued_at, expires_at;
    bool revoked = false;
  };

  struct RealmKeys {
    std::vector<oidc::SigningKey> published;      // the JWKS; back() signs
    std::optional<oidc::JwsAlgorithm> symmetric;  // HS*: the client secret signs instead
  };

  // The outcome of a grant, before tokens are minted.
  struct Grant {
    std::string subject;
    std::string scope;
    std::string session_state;
    bool for_user = true;       // false: client_credentials (no id/refresh token)
    bool refreshed = false;     // picks refresh_expires_in over first_...
    std::string nonce;                   // into the id_token (authorization code)
    std::vector<std::string> resources;  // the access token's aud (RFC 8707)
    std::string code;                    // the authorization code redeemed
    std::optional<TimePoint> auth_time;  // nullopt: the user authenticated now
  };

  static Grant user_grant(std::string subject, std::string scope, std::string session_state, bool refreshed) {
    Grant g;
    g.subject = std::move(subject);
    g.scope = std::move(scope);
    g.session_state = std::move(session_state);
    g.refreshed = refreshed;
    return g;
  }

  // A validated authorization request, from the query or a pushed request.
  struct AuthorizationParams {
    std::string client_id, response_type, redirect_uri, state, scope, nonce;
    std::string code_challenge, code_challenge_method;
    std::vector<std::string> resources;
  };

  struct PushedRequest {
    std::string realm;
    AuthorizationParams params;
    TimePoint expires_at;
    bool used = false;
  };

  // Where an authorization error may be redirected: known only once client_id
  // and redirect_uri have been checked (RFC 6749 §4.1.2.1).
  struct RedirectTarget {
    std::string redirect_uri;
    std::string state;  // echoed when the request had one
    std::string iss;    // empty: not sent
    bool fragment = false;
  };

  struct GrantSpec {
    std::string_view grant_type;
    std::vector<std::string_view> required;  // with `optional`, the grant's whitelist
    std::vector<std::string_view> optional = {};
  };

  static const GrantSpec* find_grant_spec(std::string_view grant_type) {
    static const std::vector<GrantSpec> specs = {
        {kGrantClientCredentials, {}},
        {kGrantPassword, {"username", "password"}},
        {kGrantRefreshToken, {"refresh_token"}},
        {kGrantDeviceCode, {"device_code"}},
        {kGrantAuthorizationCode, {"code"}, {"redirect_uri", "code_verifier"}},
    };
    for (const auto& spec : specs) {
      if (spec.grant_type == grant_type) return &spec;
    }
    return nullptr;
  }

  // Accepted on every token request besides the grant's own fields.
  static constexpr std::string_view kCommonParams[] = {
      "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
      "scope",      "resource",  "audience"};
  // Client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2): all that
  // introspection and revocation accept besides their own parameters.
  static constexpr std::string_view kClientAuthParams[] = {"client_id", "client_secret", "client_assertion",
                                                           "client_assertion_type"};
  static constexpr std::string_view kJwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

  // --- request pipeline ----------------------------------------------------
  void dispatch(const httplib::Request& req, httplib::Response& res) {
    using namespace local_provider_detail;
    Inbound in{req, {}, content_type_problem(req)};
    if (in.form_problem.empty()) parse_form(req.body, in.form, in.form_problem);

    std::optional<Response> scripted;
    Route route;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (recording_) requests_.push_back(make_record(req, in));
      auto it = scripts_.find(req.path);
      if (it != scripts_.end() && !it->second.empty()) {
        scripted = std::move(it->second.front());
        it->second.pop_front();
      }
      route = match_route(req.path);
      if (realms_.count(route.realm) == 0) route.endpoint = Endpoint::none;
    }
    if (scripted) return serve_scripted(*scripted, res);

    try {
      switch (route.endpoint) {
        case Endpoint::token: return handle_token(in, route, res);
        case Endpoint::device: return handle_device_authorization(in, route, res);
        case Endpoint::verification: return handle_verification(in, res);
        case Endpoint::authorization: return handle_authorization(in, route, res);
        case Endpoint::par: return handle_par(in, route, res);
        case Endpoint::discovery: return handle_discovery(in, route, res);
        case Endpoint::oauth_metadata: return handle_discovery(in, route, res);
        case Endpoint::jwks: return handle_jwks(in, route, res);
        case Endpoint::userinfo: return handle_userinfo(in, route, res);
        case Endpoint::introspection: return handle_introspection(in, route, res);
        case Endpoint::revocation: return handle_revocation(in, route, res);
        case Endpoint::end_session: return handle_end_session(in, route, res);
        case Endpoint::none: break;
      }
      reject(404, "invalid_request", "no endpoint at " + req.method + " " + req.path);
    } catch (const OAuthError& e) {
      if (e.strict) record_rejection(req, e);
      write_error(res, e, route.realm);
    }
  }

  static Route match_route(std::string_view path) {
    using local_provider_detail::starts_with;
    // RFC 8414 §3.1: /.well-known/oauth-authorization-server/<issuer path>.
    constexpr std::string_view kOAuthMetadata = "/.well-known/oauth-authorization-server";
    if (starts_with(path, kOAuthMetadata)) {
      auto route = match_route(std::string(path.substr(kOAuthMetadata.size())) + "/.well-known/openid-configuration");
      route.endpoint = route.endpoint == Endpoint::discovery ? Endpoint::oauth_metadata : Endpoint::none;
      return route;
    }
    Route route;
    if (starts_with(path, "/auth/realms/")) {
      route.prefix = "/auth";
      path.remove_prefix(5);
    }
    bool keycloak = starts_with(path, "/realms/");
    if (keycloak) path.remove_prefix(7);
    if (!starts_with(path, "/")) return route;
    path.remove_prefix(1);
    auto slash = path.find('/');
    if (slash == 0 || slash == std::string_view::npos) return route;
    route.realm = std::string(path.substr(0, slash));
    auto rest = path.substr(slash);
    route.style = keycloak ? Flavor::keycloak : Flavor::simpleidserver;
    if (keycloak) {
      if (rest == "/protocol/openid-connect/token") route.endpoint = Endpoint::token;
      if (rest == "/protocol/openid-connect/auth/device") route.endpoint = Endpoint::device;
      if (rest == "/device") route.endpoint = Endpoint::verification;
      if (rest == "/protocol/openid-connect/auth") route.endpoint = Endpoint::authorization;
      if (rest == "/protocol/openid-connect/ext/par/request") route.endpoint = Endpoint::par;
      if (rest == "/.well-known/openid-configuration") route.endpoint = Endpoint::discovery;
      // Keycloak also serves the RFC 8414 document inside the realm.
      if (rest == "/.well-known/oauth-authorization-server") route.endpoint = Endpoint::oauth_metadata;
      if (rest == "/protocol/openid-connect/certs") route.endpoint = Endpoint::jwks;
      if (rest == "/protocol/openid-connect/userinfo") route.endpoint = Endpoint::userinfo;
      if (rest == "/protocol/openid-connect/token/introspect") route.endpoint = Endpoint::introspection;
      if (rest == "/protocol/openid-connect/revoke") route.endpoint = Endpoint::revocation;
      if (rest == "/protocol/openid-connect/logout") route.endpoint = Endpoint::end_session;
    } else if (route.prefix.empty()) {
      if (rest == "/token") route.endpoint = Endpoint::token;
      if (rest == "/device_authorization") route.endpoint = Endpoint::device;
      if (rest == "/Device") route.endpoint = Endpoint::verification;
      if (rest == "/authorization") route.endpoint = Endpoint::authorization;
      if (rest == "/.well-known/openid-configuration") route.endpoint = Endpoint::discovery;
      if (rest == "/jwks") route.endpoint = Endpoint::jwks;
      if (rest == "/userinfo") route.endpoint = Endpoint::userinfo;
      if (rest == "/token_info") route.endpoint = Endpoint::introspection;
      if (rest == "/token/revoke") route.endpoint = Endpoint::revocation;
      if (rest == "/end_session") route.endpoint = Endpoint::end_session;
    }
    return route;
  }

  // Method, query, content type, form syntax and duplicates (RFC 6749 §3.2:
  // parameters in the body, none repeated but RFC 8707's resource).
  static const FormFields& require_form_post(const Inbound& in) {
    using namespace local_provider_detail;
    if (in.http.method != "POST") {
      reject(405, "invalid_request", "HTTP method " + in.http.method + " not allowed, use POST");
    }
    if (in.http.target.find('?') != std::string::npos) {
      reject(400, "invalid_request", "parameters belong in the form body, not the query");
    }
    if (!in.form_problem.empty()) reject(400, "invalid_request", in.form_problem);
    std::set<std::string_view> seen;
    for (const auto& field : in.form) {
      if (!seen.insert(field.first).second && field.first != "resource") {
        reject(400, "invalid_request", "duplicate parameter: " + field.first);
      }
    }
    return in.form;
  }

  // Whitelist: kCommonParams (kClientAuthParams when !token_request) plus `extra`.
  static void require_known_params(const FormFields& form, const std::vector<std::string_view>& extra,
                                   bool token_request = true) {
    const auto* base = token_request ? std::begin(kCommonParams) : std::begin(kClientAuthParams);
    const auto* base_end = token_request ? std::end(kCommonParams) : std::end(kClientAuthParams);
    for (const auto& field : form) {
      if (std::find(base, base_end, field.first) == base_end &&
          std::find(extra.begin(), extra.end(), field.first) == extra.end()) {
        local_provider_detail::reject(400, "invalid_request", "unexpected parameter: " + field.first);
      }
    }
  }

  void handle_token(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    const auto& form = require_form_post(in);
    const auto* grant_type = find_field(form, "grant_type");
    if (grant_type == nullptr || grant_type->empty()) {
      reject(400, "invalid_request", "Missing form parameter: grant_type");
    }
    const GrantSpec* spec = find_grant_spec(*grant_type);
    if (spec == nullptr) fail(400, "unsupported_grant_type", "Unsupported grant_type");
    auto allowed = spec->required;
    allowed.insert(allowed.end(), spec->optional.begin(), spec->optional.end());
    require_known_params(form, allowed);
    for (auto name : spec->required) {
      const auto* value = find_field(form, name);
      if (value == nullptr || value->empty()) {
        reject(400, "invalid_request", "Missing parameter: " + std::string(name));
      }
    }

    std::lock_guard<std::mutex> lock(mutex_);
    const auto& client = authenticate_locked(in, route);
    if (std::find(client.grant_types.begin(), client.grant_types.end(), *grant_type) ==
        client.grant_types.end()) {
      fail(400, "unauthorized_client", "Client not allowed to use grant_type " + *grant_type);
    }
    const auto* scope = find_field(form, "scope");
    std::string requested_scope = scope ? *scope : client.default_scope;
    auto now = now_locked();
    Grant grant;
    if (*grant_type == kGrantClientCredentials) {
      if (!client.confidential()) {
        fail(400, "unauthorized_client", "Public client not allowed to retrieve service account");
      }
      grant = user_grant("service-account-" + client.client_id, requested_scope, uuid_locked(), false);
      grant.for_user = false;
    } else if (*grant_type == kGrantPassword) {
      auto user = users_.find({client.realm, *find_field(form, "username")});
      if (user == users_.end() || user->second != *find_field(form, "password")) {
        fail(400, "invalid_grant", "Invalid user credentials");
      }
      grant = user_grant(user->first.second, requested_scope, uuid_locked(), false);
    } else if (*grant_type == kGrantRefreshToken) {
      grant = redeem_refresh_token_locked(client, *find_field(form, "refresh_token"), scope, now);
    } else if (*grant_type == kGrantAuthorizationCode) {
      grant = redeem_code_locked(client, form, now);
    } else {
      grant = poll_device_code_locked(client, *find_field(form, "device_code"), now);
    }
    write_json(res, 200, issue_tokens_locked(client, grant, now));
  }

  Grant redeem_refresh_token_locked(const ClientRegistration& client, const std::string& token,
                                    const std::string* scope, TimePoint now) {
    using namespace local_provider_detail;
    auto it = refresh_grants_.find(token);
    if (it == refresh_grants_.end()) fail(400, "invalid_grant", "Invalid refresh token");
    RefreshGrant stored = it->second;
    if (stored.realm != client.realm || stored.client_id != client.client_id) {
      fail(400, "invalid_grant", "Token client and authorized client don't match");
    }
    refresh_grants_.erase(it);  // rotation: every refresh token is single-use
    if (now >= stored.expires_at) fail(400, "invalid_grant", "Token is not active");
    std::string granted = stored.scope;
    if (scope != nullptr) {
      auto allowed = scope_set(stored.scope);
      for (const auto& s : scope_set(*scope)) {
        if (allowed.count(s) == 0) fail(400, "invalid_scope", "Invalid scopes: " + *scope);
      }
      granted = *scope;
    }
    auto grant = user_grant(stored.subject, granted, stored.session_state, true);
    grant.resources = stored.resources;
    grant.code = stored.code;
    grant.nonce = stored.nonce;
    grant.auth_time = stored.auth_time;
    return grant;
  }

  Grant poll_device_code_locked(const ClientRegistration& client, const std::string& device_code,
                                TimePoint now) {
    using local_provider_detail::fail;
    auto it = device_grants_.find(device_code);
    if (it == device_grants_.end() || it->second.realm != client.realm ||
        it->second.client_id != client.client_id) {
      fail(400, "invalid_grant", "Device code not valid");
    }
    auto& device = it->second;
    if (now >= device.expires_at) fail(400, "expired_token", "Device code is expired");
    if (enforce_slow_down_ && device.last_poll &&
        now - *device.last_poll < std::chrono::seconds(device.interval)) {
      device.interval += 5;
      device.last_poll = now;
      fail(400, "slow_down", "Slow down");
    }
    device.last_poll = now;
    if (device.state == DeviceState::pending && auto_approve_after_ &&
        device.pending_polls >= *auto_approve_after_) {
      device.state = DeviceState::approved;
      device.subject = std::string(kAliceUsername);
    }
    switch (device.state) {
      case DeviceState::denied:
        fail(400, "access_denied", "The end user denied the authorization request");
      case DeviceState::pending:
        ++device.pending_polls;
        fail(400, "authorization_pending", "The authorization request is still pending");
      case DeviceState::approved:
        break;
    }
    Grant grant = user_grant(device.subject, device.scope, uuid_locked(), false);
    device_grants_.erase(it);  // a device code yields tokens once
    return grant;
  }

  void handle_device_authorization(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    const auto& form = require_form_post(in);
    // grant_type is not a device authorization parameter (seed 002's prose
    // mentions it, its example doesn't send it).
    if (find_field(form, "grant_type") != nullptr) reject(400, "invalid_request", "unexpected parameter: grant_type");
    require_known_params(form, {});
    std::lock_guard<std::mutex> lock(mutex_);
    const auto& client = authenticate_locked(in, route);
    if (std::find(client.grant_types.begin(), client.grant_types.end(), kGrantDeviceCode) ==
        client.grant_types.end()) {
      fail(400, "unauthorized_client",
           "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. "
           "The flow is disabled for the client.");
    }
    const auto* scope = find_field(form, "scope");
    DeviceGrant device;
    device.realm = client.realm;
    device.client_id = client.client_id;
    device.scope = scope ? *scope : client.default_scope;
    device.expires_at = now_locked() + std::chrono::seconds(device_expires_in_);
    device.interval = device_interval_;
    // Keycloak: 43-char random code and "XCMX-RRUL" user codes; SimpleIdServer:
    // UUID and 4-digit user codes (seed 002).
    do {
      device.user_code = route.style == Flavor::keycloak ? keycloak_user_code_locked()
                                                         : std::to_string(1000 + random_locked() % 9000);
    } while (user_code_taken_locked(device.user_code));
    std::string device_code = route.style == Flavor::keycloak
                                  ? base64_encode(random_bytes_locked(32), true)
                                  : uuid_locked();
    std::string verification = route.style == Flavor::keycloak
                                   ? base_url_ + route.prefix + "/realms/" + route.realm + "/device"
                                   : base_url_ + "/" + route.realm + "/Device";
    std::string query = route.style == Flavor::keycloak ? "?user_code=" : "?userCode=";
    Json body;
    body["device_code"] = device_code;
    body["user_code"] = device.user_code;
    body["verification_uri"] = verification;
    body["verification_uri_complete"] = verification + query + device.user_code;
    body["expires_in"] = device_expires_in_;
    body["interval"] = device.interval;
    device_grants_.emplace(std::move(device_code), std::move(device));
    write_json(res, 200, body);
  }

  // The user-facing verification page, so a human can finish the demo in a
  // browser: GET with the user code approves it as alice.
  void handle_verification(const Inbound& in, httplib::Response& res) {
    using local_provider_detail::reject;
    if (in.http.method != "GET") reject(405, "invalid_request", "use GET");
    std::string code = in.http.has_param("user_code") ? in.http.get_param_value("user_code")
                                                      : in.http.get_param_value("userCode");
    if (code.empty()) {
      res.set_content("<form><input name=\"user_code\"><button>Approve</button></form>", "text/html");
    } else if (approve(code)) {
      res.set_content("<p>Device approved.</p>", "text/html");
    } else {
      res.status = 400;
      res.set_content("<p>Invalid or expired code.</p>", "text/html");
    }
  }

  // --- authorization endpoint ----------------------------------------------
  // RFC 6749 §4.1.1/§4.2.1, driven like a browser: a GET answered with a 302
  // to the client's redirect_uri. Errors before client_id and redirect_uri
  // are known good get an error page instead (§4.1.2.1: never redirect to an
  // unverified URI); after that, they are redirected with the state.
  void handle_authorization(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    std::optional<RedirectTarget> target;
    try {
      if (in.http.method != "GET") reject(405, "invalid_request", "use GET");
      auto q = in.http.target.find('?');
      FormFields query;
      std::string problem;
      if (!parse_form(q == std::string::npos ? std::string_view() : std::string_view(in.http.target).substr(q + 1),
                      query, problem)) {
        reject(400, "invalid_request", "malformed query: " + problem);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      std::string iss = send_iss_locked(route) ? route_issuer(route) : std::string();
      AuthorizationParams params;
      const ClientRegistration* client = nullptr;
      if (const auto* request_uri = find_field(query, "request_uri")) {
        client = &authorization_client_locked(query, route.realm);
        params = take_pushed_request_locked(*request_uri, *client, route.realm);
        target = RedirectTarget{params.redirect_uri, params.state, iss, params.response_type == "token"};
        // RFC 9126 §4: the pushed request is the whole request.
        for (const auto& field : query) {
          if (field.first != "client_id" && field.first != "request_uri") {
            reject(400, "invalid_request", "parameter " + field.first + " besides request_uri");
          }
        }
      } else {
        client = &authorization_client_locked(query, route.realm);
        auto redirect_uri = registered_redirect_uri(query, *client);
        const auto* state = find_field(query, "state");
        const auto* response_type = find_field(query, "response_type");
        target = RedirectTarget{redirect_uri, state ? *state : std::string(), iss,
                                response_type != nullptr && *response_type == "token"};
        params = validate_authorization(query, *client, redirect_uri);
        if (client->require_pushed_authorization_requests) {
          fail(400, "invalid_request", "Pushed Authorization Request is only allowed");
        }
      }
      authorize_locked(params, *client, route, *target, res);
    } catch (const OAuthError& e) {
      if (e.strict) record_rejection(in.http, e);
      if (!target) return write_error_page(res, e);
      FormFields out{{"error", e.error}, {"error_description", e.description}};
      if (!target->state.empty()) out.emplace_back("state", target->state);
      if (!target->iss.empty()) out.emplace_back("iss", target->iss);  // RFC 9207 §2: errors too
      write_redirect(res, *target, out);
    }
  }

  // The user's decision and the response: a code (query) or a token (fragment).
  void authorize_locked(const AuthorizationParams& p, const ClientRegistration& client, const Route& route,
                        const RedirectTarget& target, httplib::Response& res) {
    using namespace local_provider_detail;
    if (authorization_denied_) fail(400, "access_denied", denial_description_);
    auto next = std::move(next_authorization_);
    next_authorization_.reset();
    const bool keycloak = route.style == Flavor::keycloak;
    auto now = now_locked();
    // Keycloak: a UUID; SimpleIdServer: base64url(32 bytes) "." UUID (seed 002).
    std::string session_state = next && !next->session_state.empty() ? next->session_state
                                : keycloak ? uuid_locked()
                                           : base64_encode(random_bytes_locked(32), true) + "." + uuid_locked();
    FormFields out{{"state", p.state}};
    if (p.response_type == "code") {
      std::string code = next && !next->code.empty() ? next->code
                         : keycloak ? uuid_locked() + "." + session_state + "." + uuid_locked()
                                    : uuid_locked();
      IssuedAuthorizationCode issued;
      issued.realm = client.realm;
      issued.client_id = client.client_id;
      issued.redirect_uri = p.redirect_uri;
      issued.scope = p.scope;
      issued.nonce = p.nonce;
      issued.subject = authorization_user_;
      issued.session_state = session_state;
      issued.code_challenge = p.code_challenge;
      issued.code_challenge_method = p.code_challenge_method;
      issued.resources = p.resources;
      issued.expires_at = now + std::chrono::seconds(code_lifetime_);
      issued.auth_time = now;
      codes_[code] = std::move(issued);
      // Each layout's order: Keycloak state, session_state, iss, code;
      // SimpleIdServer state, code, token_type, session_state (seed 002).
      if (keycloak) {
        out.emplace_back("session_state", session_state);
        if (!target.iss.empty()) out.emplace_back("iss", target.iss);
        out.emplace_back("code", code);
      } else {
        out.emplace_back("code", code);
        out.emplace_back("token_type", "Bearer");
        out.emplace_back("session_state", session_state);
        if (!target.iss.empty()) out.emplace_back("iss", target.iss);
      }
    } else {
      // RFC 6749 §4.2.2: the token itself, never a refresh token.
      auto grant = user_grant(authorization_user_, p.scope, session_state, false);
      grant.resources = p.resources;
      auto claims = access_claims_locked(client, grant, now);
      std::string access_token =
          next && !next->access_token.empty() ? next->access_token : mint_access_token_locked(client, claims);
      remember_access_token_locked(access_token, client, grant, claims, now);
      if (keycloak) {
        out.emplace_back("session_state", session_state);
        if (!target.iss.empty()) out.emplace_back("iss", target.iss);
        out.emplace_back("access_token", access_token);
        out.emplace_back("token_type", client.token_type);
        out.emplace_back("expires_in", std::to_string(client.expires_in));
      } else {
        // Seed 002's fragment: no expires_in.
        out.emplace_back("access_token", access_token);
        out.emplace_back("token_type", client.token_type);
        out.emplace_back("session_state", session_state);
        if (!target.iss.empty()) out.emplace_back("iss", target.iss);
      }
    }
    write_redirect(res, target, out);
  }

  // client_id must name a registered client of the realm; duplicates are
  // refused here too, since a repeated redirect_uri could not be trusted.
  const ClientRegistration& authorization_client_locked(const FormFields& query, const std::string& realm) const {
    using local_provider_detail::reject;
    std::set<std::string_view> seen;
    for (const auto& field : query) {
      if (!seen.insert(field.first).second && field.first != "resource") {
        reject(400, "invalid_request", "duplicate parameter: " + field.first + " (RFC 6749 §3.1)");
      }
    }
    const auto* client_id = local_provider_detail::find_field(query, "client_id");
    if (client_id == nullptr || client_id->empty()) reject(400, "invalid_request", "Missing parameter: client_id");
    auto it = clients_.find({realm, *client_id});
    if (it == clients_.end()) reject(400, "invalid_request", "Client not found: " + *client_id);
    return it->second;
  }

  static std::string registered_redirect_uri(const FormFields& query, const ClientRegistration& client) {
    using local_provider_detail::reject;
    const auto* redirect_uri = local_provider_detail::find_field(query, "redirect_uri");
    // OIDC Core §3.1.2.1 requires it; so does this provider, for every client.
    if (redirect_uri == nullptr || redirect_uri->empty()) reject(400, "invalid_request", "Missing parameter: redirect_uri");
    for (const auto& registered : client.redirect_uris) {
      if (redirect_uri_matches(registered, *redirect_uri)) return *redirect_uri;
    }
    reject(400, "invalid_request", "Invalid parameter: redirect_uri " + *redirect_uri);
  }

  // RFC 6749 §3.1.2.3 simple string comparison; RFC 8252 §7.3: a loopback IP
  // redirect registered without a port matches the same URI with any port.
  static bool redirect_uri_matches(const std::string& registered, const std::string& given) {
    if (registered == given) return true;
    for (std::string_view host : {"http://127.0.0.1", "http://[::1]"}) {
      if (!local_provider_detail::starts_with(registered, host) || registered.size() == host.size() ||
          registered[host.size()] == ':' || !local_provider_detail::starts_with(given, std::string(host) + ":")) {
        continue;
      }
      auto rest = std::string_view(given).substr(host.size() + 1);
      std::size_t digits = 0;
      while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
      if (digits == 0 || digits > 5) return false;
      return std::string(host) + std::string(rest.substr(digits)) == registered;
    }
    return false;
  }

  // Everything but client_id and redirect_uri (checked already); failures
  // are redirected to the client.
  static AuthorizationParams validate_authorization(const FormFields& query, const ClientRegistration& client,
                                                    const std::string& redirect_uri) {
    using namespace local_provider_detail;
    AuthorizationParams p;
    p.client_id = client.client_id;
    p.redirect_uri = redirect_uri;
    const auto* response_type = find_field(query, "response_type");
    if (response_type == nullptr || response_type->empty()) {
      reject(400, "invalid_request", "Missing parameter: response_type");
    }
    if (*response_type != "code" && *response_type != "token") {
      reject(400, "unsupported_response_type", "Unsupported response_type: " + *response_type);
    }
    p.response_type = *response_type;
    auto allowed = [&](std::string_view grant) {
      return std::find(client.grant_types.begin(), client.grant_types.end(), grant) != client.grant_types.end();
    };
    if (!allowed(p.response_type == "code" ? kGrantAuthorizationCode : kGrantImplicit)) {
      fail(400, "unauthorized_client", "Client is not allowed to initiate browser login with response_type " +
                                           p.response_type);
    }
    // RFC 6749 makes state RECOMMENDED; this provider insists, as the library always sends one.
    const auto* state = find_field(query, "state");
    if (state == nullptr || state->empty()) reject(400, "invalid_request", "Missing parameter: state");
    p.state = *state;
    if (const auto* mode = find_field(query, "response_mode")) {
      if (*mode != "fragment" && !(*mode == "query" && p.response_type == "code")) {
        reject(400, "invalid_request", "Invalid parameter: response_mode " + *mode);
      }
    }
    const auto* scope = find_field(query, "scope");
    if (scope != nullptr && !is_scope(*scope)) reject(400, "invalid_scope", "Invalid scopes: " + *scope);
    p.scope = scope ? *scope : client.default_scope;
    if (const auto* nonce = find_field(query, "nonce")) p.nonce = *nonce;

    const auto* challenge = find_field(query, "code_challenge");
    const auto* method = find_field(query, "code_challenge_method");
    if (p.response_type == "token" && (challenge || method)) {
      reject(400, "invalid_request", "PKCE does not apply to response_type=token");
    }
    if (method && !challenge) reject(400, "invalid_request", "code_challenge_method without code_challenge");
    if (challenge) {
      p.code_challenge_method = method ? *method : "plain";  // RFC 7636 §4.3 default
      if (p.code_challenge_method != "S256" && p.code_challenge_method != "plain") {
        reject(400, "invalid_request", "Invalid parameter: code_challenge_method " + p.code_challenge_method);
      }
      if (!is_pkce_value(*challenge)) reject(400, "invalid_request", "Invalid parameter: code_challenge");
      p.code_challenge = *challenge;
    } else if (client.require_pkce && p.response_type == "code") {
      reject(400, "invalid_request", "Missing parameter: code_challenge_method");
    }
    for (const auto& field : query) {
      if (field.first != "resource") continue;
      if (!is_resource_indicator(field.second)) {
        reject(400, "invalid_target", "Invalid resource indicator: " + field.second);
      }
      p.resources.push_back(field.second);
    }
    return p;
  }

  AuthorizationParams take_pushed_request_locked(const std::string& request_uri, const ClientRegistration& client,
                                                 const std::string& realm) {
    using local_provider_detail::fail;
    using local_provider_detail::reject;
    auto it = pushed_requests_.find(request_uri);
    // Reloading a spent or expired request is a user's doing, not a client bug.
    if (it == pushed_requests_.end() || it->second.used || now_locked() >= it->second.expires_at) {
      fail(400, "invalid_request_uri", "Invalid, expired or already used request_uri");
    }
    if (it->second.realm != realm || it->second.params.client_id != client.client_id) {
      reject(400, "invalid_request_uri", "request_uri was pushed by another client");
    }
    it->second.used = true;  // RFC 9126 §4: one-time use
    return it->second.params;
  }

  // RFC 9126 §2: the authorization request, authenticated like a token request.
  void handle_par(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    const auto& form = require_form_post(in);
    // §2.1: client_id is required here even when the client authenticates
    // with HTTP Basic, since it is a required authorization request parameter.
    if (find_field(form, "client_id") == nullptr) {
      reject(400, "invalid_request", "Missing parameter: client_id (RFC 9126 §2.1)");
    }
    if (find_field(form, "request_uri") != nullptr) {
      reject(400, "invalid_request", "request_uri must not be pushed (RFC 9126 §2.1)");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    const auto& client = authenticate_locked(in, route);
    FormFields params;
    for (const auto& field : form) {
      if (field.first != "client_secret") params.push_back(field);
    }
    auto validated = validate_authorization(params, client, registered_redirect_uri(params, client));
    std::string request_uri = "urn:ietf:params:oauth:request_uri:" + base64_encode(random_bytes_locked(24), true);
    pushed_requests_[request_uri] = {route.realm, std::move(validated),
                                     now_locked() + std::chrono::seconds(request_uri_lifetime_), false};
    Json body;
    body["request_uri"] = request_uri;
    body["expires_in"] = request_uri_lifetime_;
    write_json(res, 201, body);
  }

  // OpenID Connect Discovery 1.0 §3 / RFC 8414 §2, Keycloak's member order
  // and shape (SimpleIdServer's endpoints in its layout), with what this
  // provider really does; the realm's merge patch on top.
  void handle_discovery(const Inbound& in, const Route& route, httplib::Response& res) {
    using local_provider_detail::reject;
    if (in.http.method != "GET") reject(405, "invalid_request", "use GET");
    std::lock_guard<std::mutex> lock(mutex_);
    if (route.endpoint == Endpoint::discovery && !serve_openid_configuration_) {
      local_provider_detail::fail(404, "not_found", "no OpenID configuration here");
    }
    const bool keycloak = route.style == Flavor::keycloak;
    const std::string realm_url = route_issuer(route);
    const std::string oidc = realm_url + "/protocol/openid-connect";
    auto names = [](std::initializer_list<std::string_view> list) {
      Json out = Json::array();
      for (auto name : list) out.push_back(std::string(name));
      return out;
    };
    Json algorithms = Json::array();
    for (auto alg : oidc::all_jws_algorithms) algorithms.push_back(std::string(oidc::to_string(alg)));
    Json auth_methods = names({"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"});
    Json body;
    body["issuer"] = realm_url;
    if (keycloak) {
      body["authorization_endpoint"] = oidc + "/auth";
      body["token_endpoint"] = oidc + "/token";
      body["introspection_endpoint"] = oidc + "/token/introspect";
      body["userinfo_endpoint"] = oidc + "/userinfo";
      body["end_session_endpoint"] = oidc + "/logout";
      body["jwks_uri"] = oidc + "/certs";
    } else {
      body["authorization_endpoint"] = realm_url + "/authorization";
      body["token_endpoint"] = realm_url + "/token";
      body["introspection_endpoint"] = realm_url + "/token_info";
      body["userinfo_endpoint"] = realm_url + "/userinfo";
      body["end_session_endpoint"] = realm_url + "/end_session";
      body["jwks_uri"] = realm_url + "/jwks";
    }
    body["grant_types_supported"] = Json::array();
    for (auto grant : {kGrantAuthorizationCode, kGrantImplicit, kGrantRefreshToken, kGrantPassword,
                       kGrantClientCredentials, kGrantDeviceCode}) {
      body["grant_types_supported"].push_back(std::string(grant));
    }
    body["response_types_supported"] = names({"code", "token"});
    body["subject_types_supported"] = names({"public"});
    body["id_token_signing_alg_values_supported"] = algorithms;
    body["userinfo_signing_alg_values_supported"] = algorithms;
    body["response_modes_supported"] = names({"query", "fragment"});
    body["token_endpoint_auth_methods_supported"] = auth_methods;
    body["token_endpoint_auth_signing_alg_values_supported"] = algorithms;
    body["introspection_endpoint_auth_methods_supported"] = auth_methods;
    body["introspection_endpoint_auth_signing_alg_values_supported"] = algorithms;
    body["revocation_endpoint_auth_methods_supported"] = auth_methods;
    body["revocation_endpoint_auth_signing_alg_values_supported"] = algorithms;
    body["claims_supported"] = names({"aud", "sub", "iss", "auth_time", "name", "given_name", "family_name",
                                      "preferred_username", "email", "email_verified", "acr", "azp", "nonce",
                                      "at_hash", "sid"});
    body["claim_types_supported"] = names({"normal"});
    body["claims_parameter_supported"] = false;
    body["scopes_supported"] = names({"openid", "profile", "email", "offline_access"});
    body["request_parameter_supported"] = false;
    body["request_uri_parameter_supported"] = false;
    body["code_challenge_methods_supported"] = names({"plain", "S256"});
    if (keycloak) {
      body["revocation_endpoint"] = oidc + "/revoke";
      body["device_authorization_endpoint"] = oidc + "/auth/device";
      body["pushed_authorization_request_endpoint"] = oidc + "/ext/par/request";
      body["require_pushed_authorization_requests"] = false;
    } else {
      body["revocation_endpoint"] = realm_url + "/token/revoke";
      body["device_authorization_endpoint"] = realm_url + "/device_authorization";
    }
    body["authorization_response_iss_parameter_supported"] = advertise_iss_.value_or(send_iss_locked(route));
    auto patch = discovery_patches_.find(route.realm);
    if (patch != discovery_patches_.end()) body.merge_patch(Json::parse(patch->second.dump()));
    write_json(res, 200, body);
  }

  // RFC 7517 §5: the realm's public signing keys.
  void handle_jwks(const Inbound& in, const Route& route, httplib::Response& res) {
    using local_provider_detail::reject;
    if (in.http.method != "GET") reject(405, "invalid_request", "use GET");
    std::lock_guard<std::mutex> lock(mutex_);
    ++jwks_requests_;
    res.status = 200;
    res.set_content(jwks_locked(route.realm).dump(), "application/json");
  }

  // RFC 6750 §3: a Bearer challenge, with an error code unless the request
  // had no credentials at all.
  void write_bearer_error(httplib::Response& res, const OAuthError& e, const Route& route) {
    std::string challenge = "Bearer realm=\"" + route.realm + "\"";
    if (!e.error.empty()) {
      challenge += ", error=\"" + e.error + "\", error_description=\"" + e.description + "\"";
    }
    res.set_header("WWW-Authenticate", challenge);
    Json body;
    if (!e.error.empty()) body["error"] = e.error;
    body["error_description"] = e.description;
    write_json(res, e.status, body);
  }

  // OIDC Core §5.3 with RFC 6750 §2.1 (the Authorization header only).
  void handle_userinfo(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    try {
      if (in.http.method != "GET" && in.http.method != "POST") {
        reject(405, "invalid_request", "HTTP method " + in.http.method + " not allowed");
      }
      if (in.http.target.find('?') != std::string::npos) {
        reject(400, "invalid_request", "no query parameters at userinfo (RFC 6750 §2.3 is not supported)");
      }
      const auto count = in.http.get_header_value_count("Authorization");
      if (count == 0) reject(401, "", "Missing bearer token");
      if (count > 1) reject(400, "invalid_request", "multiple Authorization headers");
      const auto header = in.http.get_header_value("Authorization");
      const auto space = header.find(' ');
      if (space == std::string::npos || lower(header.substr(0, space)) != "bearer" || space + 1 >= header.size()) {
        reject(400, "invalid_request", "Authorization is not a Bearer credential");
      }
      const std::string token = header.substr(space + 1);
      std::lock_guard<std::mutex> lock(mutex_);
      const auto* grant = live_access_locked(route.realm, token);
      if (grant == nullptr) fail(401, "invalid_token", "Token verification failed");
      if (scope_set(grant->scope).count("openid") == 0) {
        fail(403, "insufficient_scope", "Missing openid scope");
      }
      auto claims = user_claims_locked(route.realm, grant->subject);
      if (userinfo_subject_) claims["sub"] = *userinfo_subject_;
      if (!userinfo_signed_) return write_json(res, 200, Json::parse(claims.dump()));
      const auto& client = clients_.at({grant->realm, grant->client_id});
      claims["iss"] = token_issuer(client);
      claims["aud"] = client.client_id;
      const auto signer = signer_locked(client);
      res.status = 200;
      res.set_header("Cache-Control", "no-store");
      res.set_content(sign_jws_locked(signer, jws_header(signer, "JWT"), claims), "application/jwt");
    } catch (const OAuthError& e) {
      if (e.strict) record_rejection(in.http, e);
      write_bearer_error(res, e, route);
    }
  }

  // RFC 7662 §2: any confidential client of the realm may ask; unknown,
  // expired and revoked tokens are just inactive.
  void handle_introspection(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    const auto& form = require_form_post(in);
    require_known_params(form, {"token", "token_type_hint"}, false);
    const auto* token = find_field(form, "token");
    if (token == nullptr || token->empty()) reject(400, "invalid_request", "Missing parameter: token");
    std::lock_guard<std::mutex> lock(mutex_);
    const auto& client = authenticate_locked(in, route);
    if (!client.confidential()) fail(401, "invalid_client", "Public client is not allowed to introspect tokens");
    const auto* hint = find_field(form, "token_type_hint");
    const bool refresh_first = hint != nullptr && *hint == "refresh_token";
    Json body;
    for (int pass = 0; pass < 2 && body.empty(); ++pass) {
      body = (pass == 0) == refresh_first ? introspect_refresh_locked(*token) : introspect_access_locked(route, *token);
    }
    if (body.empty()) body["active"] = false;
    write_json(res, 200, body);
  }

  Json introspect_access_locked(const Route& route, const std::string& token) const {
    const auto* g = live_access_locked(route.realm, token);
    if (g == nullptr) return Json();
    const auto& client = clients_.at({g->realm, g->client_id});
    Json body;
    body["exp"] = epoch_seconds(g->expires_at);
    body["iat"] = epoch_seconds(g->issued_at);
    body["jti"] = g->jti;
    body["iss"] = token_issuer(client);
    if (!g->resources.empty()) body["aud"] = g->resources;
    body["sub"] = g->subject;
    body["typ"] = "Bearer";
    body["azp"] = g->client_id;
    body["session_state"] = g->session_state;
    body["scope"] = g->scope;
    body["client_id"] = g->client_id;
    if (!local_provider_detail::starts_with(g->subject, "service-account-")) body["username"] = g->subject;
    body["token_type"] = client.token_type;
    body["active"] = true;
    return body;
  }

  Json introspect_refresh_locked(const std::string& token) const {
    auto it = refresh_grants_.find(token);
    if (it == refresh_grants_.end() || now_locked() >= it->second.expires_at) return Json();
    const auto& g = it->second;
    const auto& client = clients_.at({g.realm, g.client_id});
    Json body;
    body["exp"] = epoch_seconds(g.expires_at);
    body["iat"] = epoch_seconds(g.issued_at);
    body["iss"] = token_issuer(client);
    body["sub"] = g.subject;
    body["typ"] = "Refresh";
    body["azp"] = g.client_id;
    body["session_state"] = g.session_state;
    body["scope"] = g.scope;
    body["client_id"] = g.client_id;
    body["username"] = g.subject;
    body["token_type"] = "Refresh";
    body["active"] = true;
    return body;
  }

  // RFC 7009 §2: 200 with an empty body, for unknown tokens too (§2.2); a
  // token of another client is refused (§2.1); revoking a refresh token ends
  // its client session, access tokens included (Keycloak does).
  void handle_revocation(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    const auto& form = require_form_post(in);
    require_known_params(form, {"token", "token_type_hint"}, false);
    const auto* token = find_field(form, "token");
    if (token == nullptr || token->empty()) reject(400, "invalid_request", "Missing parameter: token");
    std::lock_guard<std::mutex> lock(mutex_);
    const auto& client = authenticate_locked(in, route);
    const auto* hint = find_field(form, "token_type_hint");
    if (hint != nullptr && !refused_hint_.empty() && *hint == refused_hint_) {
      fail(400, "unsupported_token_type", "Unsupported token_type_hint: " + *hint);
    }
    auto refresh = refresh_grants_.find(*token);
    if (refresh != refresh_grants_.end()) {
      if (refresh->second.client_id != client.client_id) fail(400, "unauthorized_client", "Unmatching clients");
      const auto session = refresh->second.session_state;
      end_session_locked(route.realm, client.client_id, session);
    } else {
      auto access = access_grants_.find(access_key(*token));
      if (access != access_grants_.end() && access->second.realm == route.realm) {
        if (access->second.client_id != client.client_id) fail(400, "unauthorized_client", "Unmatching clients");
        access->second.revoked = true;
      }
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
  }

  // OpenID Connect RP-Initiated Logout 1.0 §2/§3: id_token_hint verified with
  // the realm's own keys (an expired one is fine, §4), post_logout_redirect_uri
  // registered for the client it names, 302 there with the state.
  void handle_end_session(const Inbound& in, const Route& route, httplib::Response& res) {
    using namespace local_provider_detail;
    try {
      FormFields params;
      if (in.http.method == "GET") {
        auto q = in.http.target.find('?');
        std::string problem;
        if (!parse_form(q == std::string::npos ? std::string_view() : std::string_view(in.http.target).substr(q + 1),
                        params, problem)) {
          reject(400, "invalid_request", "malformed query: " + problem);
        }
      } else if (in.http.method == "POST") {
        params = require_form_post(in);
      } else {
        reject(405, "invalid_request", "use GET or POST");
      }
      std::set<std::string_view> seen;
      for (const auto& field : params) {
        if (!seen.insert(field.first).second) reject(400, "invalid_request", "duplicate parameter: " + field.first);
        static const std::set<std::string_view> known = {"id_token_hint", "post_logout_redirect_uri", "state",
                                                          "client_id", "ui_locales", "logout_hint"};
        if (known.count(field.first) == 0) reject(400, "invalid_request", "unexpected parameter: " + field.first);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      RecordedLogout logout;
      logout.realm = route.realm;
      if (const auto* client_id = find_field(params, "client_id")) logout.client_id = *client_id;
      if (const auto* hint = find_field(params, "id_token_hint")) {
        const auto claims = verify_own_id_token_locked(route, *hint);
        const auto azp = claims.find("azp");
        const std::string hinted = azp != claims.end() && azp->is_string() ? azp->get<std::string>() : "";
        if (!logout.client_id.empty() && logout.client_id != hinted) {
          reject(400, "invalid_request", "client_id differs from the id_token_hint's azp");
        }
        logout.client_id = hinted;
        logout.subject = claims.value("sub", "");
        logout.sid = claims.value("sid", "");
        logout.id_token_hint = true;
      }
      if (const auto* state = find_field(params, "state")) logout.state = *state;
      if (const auto* uri = find_field(params, "post_logout_redirect_uri")) {
        if (logout.client_id.empty()) {
          reject(400, "invalid_request", "post_logout_redirect_uri needs id_token_hint or client_id");
        }
        auto it = clients_.find({route.realm, logout.client_id});
        if (it == clients_.end()) reject(400, "invalid_request", "Client not found: " + logout.client_id);
        const auto& allowed = it->second.post_logout_redirect_uris.empty() ? it->second.redirect_uris
                                                                            : it->second.post_logout_redirect_uris;
        if (std::none_of(allowed.begin(), allowed.end(),
                         [&](const std::string& registered) { return redirect_uri_matches(registered, *uri); })) {
          reject(400, "invalid_request", "Invalid redirect uri: " + *uri);
        }
        logout.post_logout_redirect_uri = *uri;
      }
      if (!logout.sid.empty()) end_session_locked(route.realm, "", logout.sid);
      logouts_.push_back(logout);
      if (logout.post_logout_redirect_uri.empty()) {
        res.status = 200;
        res.set_content("<html><body><p>You are logged out.</p></body></html>", "text/html");
        return;
      }
      FormFields out;
      if (!logout.state.empty()) out.emplace_back("state", logout.state);
      write_redirect(res, RedirectTarget{logout.post_logout_redirect_uri, logout.state, "", false}, out);
    } catch (const OAuthError& e) {
      if (e.strict) record_rejection(in.http, e);
      write_error_page(res, e);
    }
  }

  // The claims of an ID token this realm signed (exp not checked), or a
  // rejection.
  nlohmann::json verify_own_id_token_locked(const Route& route, const std::string& token) {
    using local_provider_detail::reject;
    auto jws = local_provider_detail::parse_jws(token);
    if (!jws || !jws->alg) reject(400, "invalid_request", "id_token_hint is not a JWS");
    const auto kid = jws->header.find("kid");
    bool verified = false;
    if (oidc::is_symmetric(*jws->alg)) {
      const auto azp = jws->claims.find("azp");
      auto client = azp != jws->claims.end() && azp->is_string()
                        ? clients_.find({route.realm, azp->get<std::string>()})
                        : clients_.end();
      if (client != clients_.end() && !client->second.secret.empty()) {
        verified = oidc::VerificationKey::from_secret(oidc::Secret(client->second.secret))
                       .verify(*jws->alg, jws->signing_input, jws->signature);
      }
    } else {
      for (const auto& key : realm_keys_locked(route.realm).published) {
        if (kid != jws->header.end() && (!kid->is_string() || kid->get<std::string>() != key.kid())) continue;
        verified = verified || key.verification_key().verify(*jws->alg, jws->signing_input, jws->signature);
      }
    }
    if (!verified) reject(400, "invalid_request", "id_token_hint signature not valid");
    const auto iss = jws->claims.find("iss");
    if (iss == jws->claims.end() || *iss != route_issuer(route)) reject(400, "invalid_request", "id_token_hint iss");
    return jws->claims;
  }

  bool send_iss_locked(const Route& route) const {
    return send_iss_.value_or(route.style == Flavor::keycloak);
  }

  std::string route_issuer(const Route& route) const {
    return route.style == Flavor::keycloak ? base_url_ + route.prefix + "/realms/" + route.realm
                                           : base_url_ + "/" + route.realm;
  }

  static void write_redirect(httplib::Response& res, const RedirectTarget& target, const FormFields& params) {
    std::string location = target.redirect_uri;
    char sep = target.fragment ? '#' : (location.find('?') == std::string::npos ? '?' : '&');
    for (const auto& [name, value] : params) {
      location += sep;
      sep = '&';
      location += local_provider_detail::url_encode(name) + "=" + local_provider_detail::url_encode(value);
    }
    res.status = 302;
    res.set_header("Location", location);
    res.set_header("Cache-Control", "no-store");
  }

  static void write_error_page(httplib::Response& res, const OAuthError& e) {
    res.status = e.status;
    if (e.status == 405) res.set_header("Allow", "GET");
    res.set_header("Cache-Control", "no-store");
    res.set_content("<html><body><h1>We are sorry...</h1><p>" + local_provider_detail::html_escape(e.error) +
                        ": " + local_provider_detail::html_escape(e.description) + "</p></body></html>",
                    "text/html");
  }

  // RFC 6749 §4.1.3 with RFC 7636 §4.6 and RFC 8707 §2.2.
  Grant redeem_code_locked(const ClientRegistration& client, const FormFields& form, TimePoint now) {
    using namespace local_provider_detail;
    const auto& code = *find_field(form, "code");
    auto it = codes_.find(code);
    if (it == codes_.end()) fail(400, "invalid_grant", "Code not valid");
    auto& issued = it->second;
    // Not consumed: another client must not be able to burn someone's code.
    if (issued.realm != client.realm || issued.client_id != client.client_id) {
      fail(400, "invalid_grant", "Code was issued to another client");
    }
    if (issued.redeemed) {
      // §4.1.2: a replayed code revokes what it yielded.
      for (const auto& token : issued.refresh_tokens) refresh_grants_.erase(token);
      issued.refresh_tokens.clear();
      fail(400, "invalid_grant", "Code already used");
    }
    issued.redeemed = true;  // single use, whatever the outcome below
    if (now >= issued.expires_at) fail(400, "invalid_grant", "Code is expired");
    const auto* redirect_uri = find_field(form, "redirect_uri");
    if (redirect_uri == nullptr) {
      reject(400, "invalid_request", "Missing parameter: redirect_uri (it was in the authorization request)");
    }
    if (*redirect_uri != issued.redirect_uri) fail(400, "invalid_grant", "Incorrect redirect_uri");
    const auto* verifier = find_field(form, "code_verifier");
    if (issued.code_challenge.empty()) {
      // RFC 9700 §2.1.1: a verifier without a challenge is a PKCE downgrade.
      if (verifier != nullptr) reject(400, "invalid_grant", "code_verifier without a code_challenge");
    } else {
      if (verifier == nullptr) reject(400, "invalid_grant", "PKCE code verifier not specified");
      if (!is_pkce_value(*verifier)) reject(400, "invalid_grant", "PKCE invalid code verifier");
      std::string expected = *verifier;
      if (issued.code_challenge_method == "S256") {
        auto digest = sha256(*verifier);
        expected = base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()), true);
      }
      if (expected != issued.code_challenge) fail(400, "invalid_grant", "PKCE verification failed");
    }
    std::vector<std::string> resources;
    for (const auto& field : form) {
      if (field.first != "resource") continue;
      if (std::find(issued.resources.begin(), issued.resources.end(), field.second) == issued.resources.end()) {
        fail(400, "invalid_target", "Resource not authorized: " + field.second);
      }
      resources.push_back(field.second);
    }
    auto grant = user_grant(issued.subject, issued.scope, issued.session_state, false);
    grant.nonce = issued.nonce;
    grant.auth_time = issued.auth_time;
    grant.resources = resources.empty() ? issued.resources : resources;
    grant.code = code;
    return grant;
  }

  // client_secret_basic, client_secret_post or a JWT assertion (RFC 7523
  // §2.2: private_key_jwt, client_secret_jwt), exactly one; public clients
  // send only client_id. Seed 003's Host requirement is checked here too.
  const ClientRegistration& authenticate_locked(const Inbound& in, const Route& route) {
    using namespace local_provider_detail;
    const auto& realm = route.realm;
    const auto* body_id = find_field(in.form, "client_id");
    const auto* body_secret = find_field(in.form, "client_secret");
    const auto* assertion_type = find_field(in.form, "client_assertion_type");
    const auto* assertion = find_field(in.form, "client_assertion");
    std::optional<std::pair<std::string, std::string>> basic;
    auto authorization_count = in.http.get_header_value_count("Authorization");
    if (authorization_count > 1) reject(400, "invalid_request", "multiple Authorization headers");
    if (authorization_count == 1) basic = parse_basic(in.http.get_header_value("Authorization"));
    if (basic && body_secret) {
      reject(400, "invalid_request",
             "client used both client_secret_basic and client_secret_post (RFC 6749 §2.3)");
    }
    if (assertion_type || assertion) {
      if (basic || body_secret) reject(400, "invalid_request", "client assertion besides a client secret (RFC 6749 §2.3)");
      if (assertion_type == nullptr || *assertion_type != kJwtBearerAssertion) {
        reject(400, "invalid_request", "client_assertion_type must be " + std::string(kJwtBearerAssertion));
      }
      if (assertion == nullptr || assertion->empty()) reject(400, "invalid_request", "Missing parameter: client_assertion");
      return authenticate_assertion_locked(in, route, *assertion, body_id);
    }
    if (basic && body_id && *body_id != basic->first) {
      reject(400, "invalid_request", "client_id in body differs from HTTP Basic credentials");
    }
    if (!basic && !body_id) reject(400, "invalid_request", "Missing parameter: client_id");
    const std::string& id = basic ? basic->first : *body_id;
    const std::string* secret = basic ? &basic->second : body_secret;

    auto it = clients_.find({realm, id});
    if (it == clients_.end()) fail(401, "invalid_client", "Invalid client or Invalid client credentials");
    const auto& client = it->second;
    check_required_host(in, client);
    if (client.secret.empty()) {
      if (secret != nullptr) reject(400, "invalid_request", "public client must not send a client secret");
      if (!client.jwk.is_null()) fail(401, "invalid_client", "Client authentication with signed JWT required");
    } else if (secret == nullptr) {
      fail(401, "invalid_client", "Client secret not provided in request");
    } else if (*secret != client.secret) {
      fail(401, "invalid_client", "Invalid client or Invalid client credentials");
    }
    return client;
  }

  static void check_required_host(const Inbound& in, const ClientRegistration& client) {
    using namespace local_provider_detail;
    if (!client.required_host.empty() &&
        lower(in.http.get_header_value("Host")) != lower(client.required_host)) {
      reject(400, "invalid_request", "Host header must be " + client.required_host + ", got '" +
                                         in.http.get_header_value("Host") + "'");
    }
  }

  // RFC 7523 §3 and OIDC Core §9: iss = sub = client_id, aud the token
  // endpoint, the endpoint called or the issuer, exp in the future (at most
  // an hour away), jti never seen before, signed with the registered JWK
  // (private_key_jwt) or the client secret (client_secret_jwt).
  const ClientRegistration& authenticate_assertion_locked(const Inbound& in, const Route& route,
                                                          const std::string& assertion, const std::string* body_id) {
    using namespace local_provider_detail;
    auto jws = parse_jws(assertion);
    if (!jws) reject(401, "invalid_client", "client_assertion is not a compact JWS with JSON header and claims");
    const auto& claims = jws->claims;
    auto string_claim = [&](const char* name) {
      auto it = claims.find(name);
      if (it == claims.end() || !it->is_string() || it->get<std::string>().empty()) {
        reject(401, "invalid_client", std::string("client_assertion without ") + name);
      }
      return it->get<std::string>();
    };
    const std::string iss = string_claim("iss");
    if (string_claim("sub") != iss) reject(401, "invalid_client", "client_assertion sub differs from iss");
    if (body_id && *body_id != iss) reject(400, "invalid_request", "client_id differs from the assertion's iss");
    auto it = clients_.find({route.realm, iss});
    if (it == clients_.end()) fail(401, "invalid_client", "Invalid client or Invalid client credentials");
    const auto& client = it->second;
    check_required_host(in, client);

    const std::string token_endpoint =
        route_issuer(route) + (route.style == Flavor::keycloak ? "/protocol/openid-connect/token" : "/token");
    const std::vector<std::string> audiences = {route_issuer(route), token_endpoint, base_url_ + in.http.path};
    bool aud_ok = false;
    const auto aud = claims.find("aud");
    if (aud != claims.end()) {
      for (const auto& a : aud->is_array() ? *aud : nlohmann::json::array({*aud})) {
        aud_ok = aud_ok || (a.is_string() && std::find(audiences.begin(), audiences.end(), a.get<std::string>()) !=
                                                 audiences.end());
      }
    }
    if (!aud_ok) reject(401, "invalid_client", "client_assertion aud is neither the token endpoint nor the issuer");
    const auto now = epoch_seconds(now_locked());
    const auto exp = claims.find("exp");
    if (exp == claims.end() || !exp->is_number()) reject(401, "invalid_client", "client_assertion without exp");
    if (exp->get<double>() <= static_cast<double>(now)) reject(401, "invalid_client", "client_assertion expired");
    if (exp->get<double>() > static_cast<double>(now + 3600)) {
      reject(401, "invalid_client", "client_assertion exp more than an hour away");
    }
    const auto nbf = claims.find("nbf");
    if (nbf != claims.end() && (!nbf->is_number() || nbf->get<double>() > static_cast<double>(now))) {
      reject(401, "invalid_client", "client_assertion not yet valid (nbf)");
    }
    const std::string jti = string_claim("jti");

    if (!jws->alg) reject(401, "invalid_client", "client_assertion alg is not a JWS algorithm this provider knows");
    bool verified = false;
    try {
      if (oidc::is_symmetric(*jws->alg)) {
        if (client.secret.empty()) reject(401, "invalid_client", "client_secret_jwt by a client without a secret");
        verified = oidc::VerificationKey::from_secret(oidc::Secret(client.secret))
                       .verify(*jws->alg, jws->signing_input, jws->signature);
      } else {
        if (client.jwk.empty()) reject(401, "invalid_client", "private_key_jwt by a client without a registered key");
        verified = oidc::VerificationKey::from_jwk(client.jwk, "client JWK")
                       .verify(*jws->alg, jws->signing_input, jws->signature);
      }
    } catch (const oidc::Error& e) {
      reject(401, "invalid_client", std::string("client key unusable: ") + e.what());
    }
    if (!verified) reject(401, "invalid_client", "client_assertion signature invalid");
    // RFC 7523 §3 item 7: a jti is accepted once (checked after the
    // signature, so a forgery cannot burn a real jti).
    if (!assertion_jtis_.insert(route.realm + "\n" + iss + "\n" + jti).second) {
      reject(401, "invalid_client", "client_assertion jti replayed");
    }
    return client;
  }

  // RFC 6749 §2.3.1: Basic base64(urlencode(id) ":" urlencode(secret)).
  static std::pair<std::string, std::string> parse_basic(const std::string& header) {
    using namespace local_provider_detail;
    auto space = header.find(' ');
    if (space == std::string::npos || lower(header.substr(0, space)) != "basic") {
      reject(401, "invalid_client", "unsupported client authentication scheme");
    }
    auto decoded = base64_decode(trim(std::string_view(header).substr(space + 1)));
    auto colon = decoded ? decoded->find(':') : std::string::npos;
    std::pair<std::string, std::string> credentials;
    std::string error;
    if (colon == std::string::npos ||
        !form_decode(std::string_view(*decoded).substr(0, colon), credentials.first, error) ||
        !form_decode(std::string_view(*decoded).substr(colon + 1), credentials.second, error)) {
      reject(401, "invalid_client", "malformed HTTP Basic credentials" + (error.empty() ? "" : ": " + error));
    }
    return credentials;
  }

  // --- token minting -------------------------------------------------------
  std::string token_issuer(const ClientRegistration& client) const {
    return client.flavor == Flavor::keycloak ? issuer(client.realm) : sid_issuer(client.realm);
  }

  static long long epoch_seconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }

  Json access_claims_locked(const ClientRegistration& client, const Grant& grant, TimePoint now) {
    auto iat = epoch_seconds(now);
    Json access;
    access["exp"] = iat + client.expires_in;
    access["iat"] = iat;
    access["jti"] = "lp-" + std::to_string(++issued_) + "-" + uuid_locked();
    access["iss"] = token_issuer(client);
    if (!grant.resources.empty()) access["aud"] = grant.resources;
    access["sub"] = grant.subject;
    access["typ"] = "Bearer";
    access["azp"] = client.client_id;
    access["client_id"] = client.client_id;
    access["scope"] = grant.scope;
    access["session_state"] = grant.session_state;
    return access;
  }

  Json issue_tokens_locked(const ClientRegistration& client, const Grant& grant, TimePoint now) {
    bool keycloak = client.flavor == Flavor::keycloak;
    auto iat = epoch_seconds(now);

    Json access = access_claims_locked(client, grant, now);
    std::string access_token = mint_access_token_locked(client, access);
    remember_access_token_locked(access_token, client, grant, access, now);

    std::optional<std::string> refresh_token;
    int refresh_expires_in = 0;
    if (client.issue_refresh_token && grant.for_user) {
      refresh_expires_in = grant.refreshed || client.first_refresh_expires_in <= 0
                               ? client.refresh_expires_in
                               : client.first_refresh_expires_in;
      if (keycloak) {
        Json refresh = access;
        refresh["exp"] = iat + refresh_expires_in;
        refresh["jti"] = "lp-" + std::to_string(++issued_) + "-" + uuid_locked();
        refresh["typ"] = "Refresh";
        refresh_token = mint_jwt_locked("HS256", refresh, 32);
      } else {
        refresh_token = uuid_locked();
      }
      refresh_grants_[*refresh_token] = {client.realm,        client.client_id,
                                         grant.subject,       grant.scope,
                                         grant.session_state, now + std::chrono::seconds(refresh_expires_in),
                                         grant.resources,     grant.code,
                                         now,                 grant.nonce,
                                         grant.auth_time.value_or(now)};
      auto code = codes_.find(grant.code);
      if (code != codes_.end()) code->second.refresh_tokens.push_back(*refresh_token);
    }

    std::optional<std::string> id_token;
    if (grant.for_user && local_provider_detail::scope_set(grant.scope).count("openid") != 0) {
      id_token = id_token_locked(client, grant, now, access_token);
    }

    Json body;
    if (keycloak) {
      body["access_token"] = access_token;
      body["expires_in"] = client.expires_in;
      body["refresh_expires_in"] = refresh_expires_in;
      if (refresh_token) body["refresh_token"] = *refresh_token;
      body["token_type"] = client.token_type;
      if (id_token) body["id_token"] = *id_token;
      body["not-before-policy"] = client.not_before_policy;
      body["session_state"] = grant.session_state;
      body["scope"] = grant.scope;
    } else {
      body["expires_in"] = client.expires_in;
      body["scope"] = grant.scope;
      body["access_token"] = access_token;
      if (id_token) body["id_token"] = *id_token;
      if (refresh_token) body["refresh_token"] = *refresh_token;
      body["token_type"] = client.token_type;
    }
    return body;
  }

  // JWT-shaped (header.payload.signature, base64url); the signature is random
  // bytes: clients must treat tokens as opaque.
  std::string mint_jwt_locked(std::string_view alg, const Json& payload, std::size_t signature_bytes) {
    using local_provider_detail::base64_encode;
    Json header;
    header["alg"] = std::string(alg);
    header["typ"] = "JWT";
    header["kid"] = "local-provider";
    return base64_encode(header.dump(), true) + "." + base64_encode(payload.dump(), true) + "." +
           base64_encode(random_bytes_locked(signature_bytes), true);
  }

  // --- OpenID Connect: keys, ID tokens, access token records --------------
  // Keycloak-shaped default kid (seed 000's realistic tokens carry it).
  static constexpr std::string_view kDefaultKid = "kQ3Tq7h0tC1PZyJw5aXq9mN2lB6vR8sD4fG0hJ1kL2m";
  static constexpr std::string_view kSidDefaultKid = "ecdsa-1";  // seed 002's id_token header

  // test_key(): one key per (alg, kid) per process. nullopt when the
  // library cannot sign (built without OpenSSL).
  static std::optional<oidc::SigningKey> shared_key(oidc::JwsAlgorithm alg, const std::string& kid) {
    try {
      return test_key(alg, kid);
    } catch (const oidc::Error&) {
      return std::nullopt;
    }
  }

  Flavor realm_flavor_locked(const std::string& realm) const {
    for (const auto& entry : clients_) {
      if (entry.first.first == realm) return entry.second.flavor;
    }
    return Flavor::keycloak;
  }

  // Keycloak realms sign with RS256, SimpleIdServer ones with ES256 (seed 002).
  RealmKeys& realm_keys_locked(const std::string& realm) {
    auto it = keys_.find(realm);
    if (it != keys_.end()) return it->second;
    RealmKeys keys;
    auto key = realm_flavor_locked(realm) == Flavor::simpleidserver
                   ? shared_key(oidc::JwsAlgorithm::ES256, std::string(kSidDefaultKid))
                   : shared_key(oidc::JwsAlgorithm::RS256, std::string(kDefaultKid));
    if (key) keys.published.push_back(std::move(*key));
    return keys_.emplace(realm, std::move(keys)).first->second;
  }

  nlohmann::json jwks_locked(const std::string& realm) { return jwks_json(realm_keys_locked(realm).published); }

  // What signs the client's ID tokens: the client secret under HS*, else the
  // realm's current key; nullopt when nothing can sign.
  std::optional<oidc::SigningKey> signer_locked(const ClientRegistration& client) {
    auto& keys = realm_keys_locked(client.realm);
    if (keys.symmetric && !client.secret.empty()) {
      try {
        return oidc::SigningKey::from_secret(oidc::Secret(client.secret), *keys.symmetric);
      } catch (const oidc::Error&) {
        return std::nullopt;
      }
    }
    if (keys.published.empty()) return std::nullopt;
    return keys.published.back();
  }

  // The header is used as given (a mutator may have set a foreign alg or
  // kid): the signature is always the signer's.
  std::string sign_jws_locked(const std::optional<oidc::SigningKey>& signer, const nlohmann::json& header,
                              const nlohmann::json& claims) {
    using local_provider_detail::base64_encode;
    std::string out = base64_encode(header.dump(), true) + "." + base64_encode(claims.dump(), true);
    const std::string signature = signer ? signer->sign(out) : random_bytes_locked(64);
    return out + "." + base64_encode(signature, true);
  }

  static nlohmann::json jws_header(const std::optional<oidc::SigningKey>& signer, const char* typ) {
    nlohmann::json header;
    header["alg"] = signer ? std::string(oidc::to_string(signer->algorithm())) : std::string("RS256");
    header["typ"] = typ;
    if (signer && !signer->kid().empty()) header["kid"] = signer->kid();
    return header;
  }

  // OIDC Core §3.1.3.6 at_hash / §3.3.2.11 c_hash: base64url of the left
  // half of the alg's hash of the value.
  static std::string half_hash(const std::optional<oidc::SigningKey>& signer, const std::string& value) {
    std::string hash;
    if (signer) {
      hash = oidc::jws_hash(signer->algorithm(), value);
    } else {
      auto digest = local_provider_detail::sha256(value);
      hash.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
    }
    return local_provider_detail::base64_encode(hash.substr(0, hash.size() / 2), true);
  }

  std::string subject_id_locked(const std::string& realm, const std::string& username) const {
    if (realm_flavor_locked(realm) == Flavor::simpleidserver) return username;
    auto d = local_provider_detail::sha256("local-provider-subject\n" + realm + "\n" + username);
    d[6] = static_cast<std::uint8_t>((d[6] & 0x0F) | 0x40);
    d[8] = static_cast<std::uint8_t>((d[8] & 0x3F) | 0x80);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
      out += kHex[d[i] >> 4];
      out += kHex[d[i] & 15];
    }
    return out;
  }

  // sub plus the user's profile claims and, in Keycloak realms,
  // preferred_username (Keycloak's default "profile" and "email" client
  // scopes apply whatever the request's scope).
  nlohmann::json user_claims_locked(const std::string& realm, const std::string& username) const {
    nlohmann::json claims;
    claims["sub"] = subject_id_locked(realm, username);
    auto it = profiles_.find({realm, username});
    if (it != profiles_.end()) claims.update(it->second);
    if (realm_flavor_locked(realm) == Flavor::keycloak) claims["preferred_username"] = username;
    return claims;
  }

  // OIDC Core §2 and §3.1.3.6, Keycloak's claim set (SimpleIdServer's as seed
  // 002 shows it: aud an array, amr, acr, nbf, no profile claims).
  std::string id_token_locked(const ClientRegistration& client, const Grant& grant, TimePoint now,
                              const std::string& access_token) {
    if (id_token_override_) return *id_token_override_;
    const bool keycloak = client.flavor == Flavor::keycloak;
    const auto signer = signer_locked(client);
    const auto iat = epoch_seconds(now);
    nlohmann::json claims = keycloak ? user_claims_locked(client.realm, grant.subject) : nlohmann::json::object();
    claims["sub"] = subject_id_locked(client.realm, grant.subject);
    claims["iss"] = token_issuer(client);
    claims["aud"] = keycloak ? nlohmann::json(client.client_id) : nlohmann::json::array({client.client_id});
    claims["azp"] = client.client_id;
    claims["exp"] = iat + client.expires_in;
    claims["iat"] = iat;
    claims["auth_time"] = epoch_seconds(grant.auth_time.value_or(now));
    if (!grant.nonce.empty()) claims["nonce"] = grant.nonce;
    claims["at_hash"] = half_hash(signer, access_token);
    claims["sid"] = grant.session_state;
    if (keycloak) {
      claims["jti"] = "lp-" + std::to_string(++issued_) + "-" + uuid_locked();
      claims["typ"] = "ID";
      claims["session_state"] = grant.session_state;
      claims["acr"] = "1";
    } else {
      claims["amr"] = nlohmann::json::array({"pwd"});
      claims["acr"] = "sid-load-01";
      claims["nbf"] = iat;
    }
    auto header = jws_header(signer, "JWT");
    if (id_token_mutator_) id_token_mutator_(header, claims);
    return sign_jws_locked(signer, header, claims);
  }

  // Opaque (random signature) unless set_signed_access_tokens: then an RFC
  // 9068 at+jwt signed by the realm's current key, aud the resources or
  // Keycloak's "account".
  std::string mint_access_token_locked(const ClientRegistration& client, Json& claims) {
    auto& keys = realm_keys_locked(client.realm);
    if (!signed_access_tokens_ || keys.published.empty()) return mint_jwt_locked("RS256", claims, 64);
    if (!claims.contains("aud")) claims["aud"] = "account";
    const std::optional<oidc::SigningKey> signer = keys.published.back();
    return sign_jws_locked(signer, jws_header(signer, "at+jwt"), nlohmann::json::parse(claims.dump()));
  }

  static std::string access_key(const std::string& token) {
    auto digest = local_provider_detail::sha256(token);
    return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
  }

  void remember_access_token_locked(const std::string& token, const ClientRegistration& client, const Grant& grant,
                                    const Json& claims, TimePoint now) {
    // A benchmark issues hundreds of thousands: drop the expired ones now and then.
    if (++access_inserts_ % 4096 == 0) {
      for (auto it = access_grants_.begin(); it != access_grants_.end();) {
        it = now >= it->second.expires_at ? access_grants_.erase(it) : std::next(it);
      }
    }
    access_grants_[access_key(token)] = {client.realm,   client.client_id, grant.subject,
                                         grant.scope,    grant.session_state, claims["jti"].get<std::string>(),
                                         grant.resources, now, now + std::chrono::seconds(client.expires_in), false};
  }

  // A live (unexpired, unrevoked) access token of the realm, or null.
  const AccessGrant* live_access_locked(const std::string& realm, const std::string& token) const {
    auto it = access_grants_.find(access_key(token));
    if (it == access_grants_.end() || it->second.realm != realm || it->second.revoked ||
        now_locked() >= it->second.expires_at) {
      return nullptr;
    }
    return &it->second;
  }

  // Keycloak ends the client session: its refresh tokens and access tokens.
  void end_session_locked(const std::string& realm, const std::string& client_id, const std::string& session) {
    for (auto it = refresh_grants_.begin(); it != refresh_grants_.end();) {
      const auto& g = it->second;
      const bool match = g.realm == realm && g.session_state == session && (client_id.empty() || g.client_id == client_id);
      it = match ? refresh_grants_.erase(it) : std::next(it);
    }
    for (auto& entry : access_grants_) {
      auto& g = entry.second;
      if (g.realm == realm && g.session_state == session && (client_id.empty() || g.client_id == client_id)) {
        g.revoked = true;
      }
    }
  }

  // --- small helpers -------------------------------------------------------
  TimePoint now_locked() const { return clock_() + clock_offset_; }

  std::uint64_t random_locked() { return rng_(); }

  std::string random_bytes_locked(std::size_t n) {
    std::string out;
    while (out.size() < n) {
      auto v = rng_();
      for (int i = 0; i < 8 && out.size() < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
    }
    return out;
  }

  std::string uuid_locked() {
    auto bytes = random_bytes_locked(16);
    bytes[6] = static_cast<char>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
      auto b = static_cast<unsigned char>(bytes[i]);
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
    return out;
  }

  std::string keycloak_user_code_locked() {
    static constexpr char kLetters[] = "BCDFGHJKLMNPQRSTVWXZ";  // no vowels: no words
    std::string code;
    for (int i = 0; i < 8; ++i) {
      if (i == 4) code += '-';
      code += kLetters[random_locked() % (sizeof(kLetters) - 1)];
    }
    return code;
  }

  bool user_code_taken_locked(const std::string& user_code) const {
    return std::any_of(device_grants_.begin(), device_grants_.end(),
                       [&](const auto& entry) { return entry.second.user_code == user_code; });
  }

  DeviceGrant* pending_device_grant_locked(std::string_view user_code) {
    auto now = now_locked();
    for (auto& entry : device_grants_) {
      auto& device = entry.second;
      if (device.user_code == user_code && device.state == DeviceState::pending && now < device.expires_at) {
        return &device;
      }
    }
    return nullptr;
  }

  static RecordedRequest make_record(const httplib::Request& req, const Inbound& in) {
    RecordedRequest record{req.method, req.path, req.target, req.headers, req.body, in.form, req.remote_port};
    // httplib's server injects these pseudo-headers; the client never sent them.
    for (const char* pseudo : {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"}) {
      record.headers.erase(pseudo);
    }
    return record;
  }

  void record_rejection(const httplib::Request& req, const OAuthError& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    rejections_.push_back({req.method, req.path, e.status, e.error, e.description});
  }

  void serve_scripted(const Response& scripted, httplib::Response& res) {
    if (scripted.delay.count() > 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      stop_cv_.wait_for(lock, scripted.delay, [this] { return stopping_; });
    }
    res.status = scripted.status;
    for (const auto& header : scripted.headers) res.set_header(header.first, header.second);
    if (scripted.content_type.empty()) {
      res.body = scripted.body;
    } else {
      res.set_content(scripted.body, scripted.content_type);
    }
  }

  static void write_json(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Pragma", "no-cache");
    res.set_content(body.dump(), "application/json");
  }

  // RFC 6749 §5.2 error body.
  static void write_error(httplib::Response& res, const OAuthError& e, const std::string& realm) {
    Json body;
    body["error"] = e.error;
    body["error_description"] = e.description;
    if (e.status == 401) res.set_header("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
    if (e.status == 405) res.set_header("Allow", "POST");
    write_json(res, e.status, body);
  }

  void register_seed_defaults() {
    auto client = [](std::string_view realm, std::string_view id, std::string_view secret,
                     std::vector<std::string> grants, int expires_in, std::string scope, Flavor flavor) {
      ClientRegistration c;
      c.realm = std::string(realm);
      c.client_id = std::string(id);
      c.secret = std::string(secret);
      c.grant_types = std::move(grants);
      c.expires_in = expires_in;
      c.default_scope = std::move(scope);
      c.flavor = flavor;
      return c;
    };
    const std::string device_code(kGrantDeviceCode), refresh(kGrantRefreshToken),
        password(kGrantPassword), client_credentials(kGrantClientCredentials);

    auto device_client = client(kCoreRealm, kDeviceClientId, "", {device_code, refresh}, 86375, "",
                                Flavor::keycloak);
    device_client.first_refresh_expires_in = 1775;
    add_client(device_client);

    auto svc = client(kCoreRealm, kServiceClientId, kServiceClientSecret, {client_credentials}, 300,
                      "profile email", Flavor::keycloak);
    svc.issue_refresh_token = false;
    add_client(svc);

    auto vyopta = client(kVyoptaRealm, kVyoptaClientId, "", {password}, 300, "email profile",
                         Flavor::keycloak);
    vyopta.required_host = std::string(kVyoptaHost);
    vyopta.token_type = "bearer";
    vyopta.not_before_policy = 1533920635;
    add_client(vyopta);

    add_client(client(kMasterRealm, kSidDeviceClientId, kSidDeviceClientSecret,
                      {client_credentials, device_code, refresh}, 1800, "networks", Flavor::simpleidserver));
    add_client(client(kMasterRealm, kSidUserDeviceClientId, kSidUserDeviceClientSecret, {password, refresh},
                      1800, "openid profile", Flavor::simpleidserver));

    const std::string code(kGrantAuthorizationCode), implicit(kGrantImplicit);
    auto website = client(kMasterRealm, kSidWebsiteClientId, kSidWebsiteClientSecret, {code, implicit, refresh}, 1800,
                          "openid profile", Flavor::simpleidserver);
    website.redirect_uris = {std::string(kSidWebsiteRedirectUri)};
    add_client(website);

    const std::vector<std::string> loopback = {std::string(kLoopbackRedirectUri), "http://[::1]/callback"};
    auto web_app = client(kCoreRealm, kWebAppClientId, "", {code, refresh}, 300, "", Flavor::keycloak);
    web_app.redirect_uris = loopback;
    web_app.redirect_uris.emplace_back(kNativeRedirectUri);
    web_app.require_pkce = true;
    add_client(web_app);

    auto portal = client(kCoreRealm, kPortalClientId, kPortalClientSecret, {code, implicit, refresh}, 300, "",
                         Flavor::keycloak);
    portal.redirect_uris = loopback;
    portal.redirect_uris.emplace_back(kPortalRedirectUri);
    portal.post_logout_redirect_uris = {std::string(kPostLogoutRedirectUri)};
    add_client(portal);

    auto jwt_client = client(kCoreRealm, kJwtClientId, "", {client_credentials, password, code, refresh}, 300,
                             "openid profile email", Flavor::keycloak);
    jwt_client.redirect_uris = loopback;
    jwt_client.jwk = nlohmann::json::object();  // confidential; register_client_jwk sets the key
    add_client(jwt_client);
    add_client(client(kCoreRealm, kSecretJwtClientId, kSecretJwtClientSecret, {client_credentials, password, refresh},
                      300, "openid profile email", Flavor::keycloak));

    for (auto realm : {kCoreRealm, kVyoptaRealm, kMasterRealm}) {
      add_user(std::string(realm), std::string(kAliceUsername), std::string(kAlicePassword));
      set_user_claims(kAliceUsername,
                      {{"name", "Alice Liddell"},
                       {"given_name", "Alice"},
                       {"family_name", "Liddell"},
                       {"email", "alice@example.com"},
                       {"email_verified", true}},
                      realm);
    }
    add_user(std::string(kMasterRealm), std::string(kAdministratorUsername),
             std::string(kAdministratorPassword));
  }

  // Configured before the server thread starts; read-only afterwards.
  httplib::Server server_;
  int port_ = -1;
  socket_t listen_socket_ = INVALID_SOCKET;
  std::string base_url_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};

  // Everything below is guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::set<std::string> realms_;
  std::map<std::pair<std::string, std::string>, ClientRegistration> clients_;  // (realm, client_id)
  std::map<std::pair<std::string, std::string>, std::string> users_;  // (realm, username) -> password
  std::map<std::string, DeviceGrant> device_grants_;  // by device_code
  std::map<std::string, RefreshGrant> refresh_grants_;  // by refresh token
  std::map<std::string, std::deque<Response>> scripts_;  // by path
  std::vector<RecordedRequest> requests_;
  std::vector<Rejection> rejections_;
  bool recording_ = true;
  Clock clock_ = std::chrono::system_clock::now;
  std::chrono::seconds clock_offset_{0};
  std::optional<int> auto_approve_after_;
  bool enforce_slow_down_ = false;
  int device_expires_in_ = 600;
  int device_interval_ = 5;
  std::map<std::string, IssuedAuthorizationCode> codes_;  // by code
  std::map<std::string, PushedRequest> pushed_requests_;   // by request_uri
  std::string authorization_user_{kAliceUsername};
  bool authorization_denied_ = false;
  std::string denial_description_;
  std::optional<bool> send_iss_, advertise_iss_;
  std::optional<ScriptedAuthorization> next_authorization_;
  int code_lifetime_ = 60;
  int request_uri_lifetime_ = 60;
  std::uint64_t issued_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  // OpenID Connect.
  std::map<std::string, RealmKeys> keys_;  // by realm, made on first use
  std::uint64_t rotations_ = 0;
  std::size_t jwks_requests_ = 0;
  IdTokenMutator id_token_mutator_;
  std::optional<std::string> id_token_override_;
  std::map<std::string, nlohmann::json> discovery_patches_;  // by realm
  bool serve_openid_configuration_ = true;
  bool userinfo_signed_ = false;
  bool signed_access_tokens_ = false;
  std::optional<std::string> userinfo_subject_;
  std::string refused_hint_;
  std::map<std::pair<std::string, std::string>, nlohmann::json> profiles_;  // (realm, username)
  std::vector<RecordedLogout> logouts_;
  std::map<std::string, AccessGrant> access_grants_;  // by access_key(token)
  std::uint64_t access_inserts_ = 0;
  std::set<std::string> assertion_jtis_;  // realm, client_id, jti
};

using ScriptedResponse = LocalProvider::Response;

}  // namespace oidc_testing
