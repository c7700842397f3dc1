#ifndef OIDC_TESTS_INTEROP_SUPPORT_HPP
#define OIDC_TESTS_INTEROP_SUPPORT_HPP

// What every interop test needs: where the running oidc-provider is (CTest's fixture started it
// and put its state directory in OIDC_INTEROP_STATE), its discovery document, the clients
// provider.mjs registers, and a ClientConfig for one of them over the real libcurl transport that
// trusts only the test's own CA. Nothing here talks to the provider through the library except
// what a test asks for; discovery and the provider's counters are read with plain libcurl.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"

namespace oidc_interop {

// The clients of provider.mjs. Secrets are fixtures, not credentials.
struct ClientSpec {
  const char* id;
  const char* secret;  // empty: public client
  oidc::ClientAuthMethod method;
};
inline constexpr ClientSpec kCcBasic{"cc-basic", "cc-basic-secret", oidc::ClientAuthMethod::client_secret_basic};
inline constexpr ClientSpec kCcPost{"cc-post", "cc-post-secret", oidc::ClientAuthMethod::client_secret_post};
// Every character RFC 6749 Appendix B encoding changes in a Basic credential.
inline constexpr ClientSpec kCcSpecial{"cc-special", "p@ss:w+rd/%20&=? ~", oidc::ClientAuthMethod::client_secret_basic};
// Access tokens live kShortTtl seconds (two clients, so that tests counting requests never share one).
inline constexpr ClientSpec kCcShort{"cc-short", "cc-short-secret", oidc::ClientAuthMethod::client_secret_basic};
inline constexpr ClientSpec kCcShortB{"cc-short-b", "cc-short-b-secret", oidc::ClientAuthMethod::client_secret_basic};
// The custom password grant; scope "openid offline_access api:read"; rotating refresh tokens.
inline constexpr ClientSpec kRopc{"ropc", "ropc-secret", oidc::ClientAuthMethod::client_secret_basic};
// The same as kRopc, for the userinfo / authorized-transport tests alone (their request counts).
inline constexpr ClientSpec kRopcUserinfo{"ropc-userinfo", "ropc-userinfo-secret",
                                          oidc::ClientAuthMethod::client_secret_basic};
// Public device clients; device-short's device codes expire after kShortTtl seconds.
inline constexpr ClientSpec kDevice{"device", "", oidc::ClientAuthMethod::none};
inline constexpr ClientSpec kDeviceShort{"device-short", "", oidc::ClientAuthMethod::none};
// Authorization code clients (PKCE S256 required), redirect URI kRedirectUri.
inline constexpr ClientSpec kWeb{"web", "web-secret", oidc::ClientAuthMethod::client_secret_basic};
inline constexpr ClientSpec kNative{"native", "", oidc::ClientAuthMethod::none};
// For introspection and revocation checks made by the tests themselves.
inline constexpr ClientSpec kResourceServer{"resource-server", "resource-server-secret",
                                            oidc::ClientAuthMethod::client_secret_basic};

inline constexpr int kShortTtl = 4;                    // seconds (provider.mjs SHORT_TTL)
inline constexpr int kDeviceInterval = 5;              // seconds; RFC 8628 default, enforced with slow_down
inline constexpr std::string_view kApiResource = "https://api.interop.test";  // RFC 8707
inline constexpr std::string_view kRedirectUri = "http://127.0.0.1/callback";
// Accounts of the password grant; the dev login pages accept any login and password.
inline constexpr std::string_view kAlice = "alice";
inline constexpr std::string_view kAlicePassword = "wonderland-7";

// The running provider. Constructing it fails the test (never skips it) when the fixture's state
// is missing: under CTest the fixture guarantees it, and a silently skipped suite proves nothing.
class Provider {
 public:
  static const Provider& get();

  const std::string& issuer() const { return issuer_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string jwks_uri() const { return endpoint("jwks_uri"); }
  // The discovery document (/.well-known/openid-configuration), fetched once.
  const nlohmann::json& metadata() const { return metadata_; }
  std::string endpoint(const char* name) const { return metadata_.at(name).get<std::string>(); }

  // A transport that verifies TLS against the test CA only.
  std::shared_ptr<oidc::Transport> transport() const {
    oidc::CurlOptions o;
    o.ca_file = ca_file_;
    return oidc::make_curl_transport(o);
  }
  // The client's configuration with every endpoint from discovery, over transport().
  oidc::ClientConfig config(const ClientSpec& client) const {
    oidc::ClientConfig c;
    c.issuer = issuer_;
    c.token_endpoint = endpoint("token_endpoint");
    c.device_authorization_endpoint = endpoint("device_authorization_endpoint");
    c.authorization_endpoint = endpoint("authorization_endpoint");
    c.userinfo_endpoint = endpoint("userinfo_endpoint");
    c.revocation_endpoint = endpoint("revocation_endpoint");
    c.introspection_endpoint = endpoint("introspection_endpoint");
    c.jwks_uri = endpoint("jwks_uri");
    c.end_session_endpoint = endpoint("end_session_endpoint");
    // The ID token allow-list as discovery sets it (RS256, PS256, ES256, EdDSA at oidc-provider).
    c.id_token_signing_alg_values_supported =
        metadata_.value("id_token_signing_alg_values_supported", std::vector<std::string>{});
    // What discovery will set: oidc-provider declares RFC 9207 support, so iss is then required.
    // PAR is left to the tests that want it (pushed_authorization_request_endpoint).
    c.authorization_response_iss_parameter_supported =
        metadata_.value("authorization_response_iss_parameter_supported", false);
    c.client_id = client.id;
    c.client_secret = oidc::Secret(client.secret);
    c.auth_method = client.method;
    c.transport = transport();
    return c;
  }

  // GET /__test/stats: token endpoint requests so far, keyed "<client_id> <grant_type>".
  std::map<std::string, int> token_requests() const;
  int token_requests(const ClientSpec& client, std::string_view grant_type) const {
    const auto all = token_requests();
    const auto it = all.find(std::string(client.id) + " " + std::string(grant_type));
    return it == all.end() ? 0 : it->second;
  }

  // The provider's own view of a token (RFC 7662), asked as the resource server: {"active": ...}.
  nlohmann::json introspect(const std::string& token) const;
  // Revokes a token at the provider (RFC 7009) as `client`, outside the library.
  void revoke(const std::string& token, const ClientSpec& client) const;

 private:
  Provider();
  std::string state_dir_, issuer_, ca_file_;
  nlohmann::json metadata_;
};

// Every exchange a client made, copied as sent and as received (renewals run on a token source's
// own thread, hence the lock): proof of what the library sent, and that it sent nothing.
class RecordingTransport final : public oidc::Transport {
 public:
  struct Exchange {
    oidc::HttpRequest request;
    oidc::HttpResponse response;
  };
  explicit RecordingTransport(std::shared_ptr<oidc::Transport> inner) : inner_(std::move(inner)) {}
  oidc::HttpResponse send(const oidc::HttpRequest& request) override {
    oidc::HttpResponse response = inner_->send(request);
    std::lock_guard<std::mutex> lock(mutex_);
    exchanges_.push_back({request, response});
    return response;
  }
  std::vector<Exchange> exchanges() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return exchanges_;
  }

 private:
  std::shared_ptr<oidc::Transport> inner_;
  mutable std::mutex mutex_;
  std::vector<Exchange> exchanges_;
};

// The one way an interop test waits: for the provider's real clock (a token or device code to
// expire, a polling interval to pass). Unit and integration tests use injected time instead.
inline void wait_for_provider_clock(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

// A plain HTTPS exchange with the provider, outside the library: {status, body}.
struct RawResponse {
  long status = 0;
  std::string body;
};
RawResponse raw_request(const std::string& url, const std::string& ca_file, const std::string& form = {},
                        const std::string& basic_user = {}, const std::string& basic_password = {});

}  // namespace oidc_interop

#endif  // OIDC_TESTS_INTEROP_SUPPORT_HPP
