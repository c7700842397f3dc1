// run: local-provider allow-rejections
// docs/guides/errors.md: catching oidc::Error and deciding what to do from its fields. Run against
// the embedded provider (argv[1] is its base URL): a wrong client secret must be classified as a
// configuration bug with the server's invalid_client and HTTP 401, a token without a refresh token
// as "log in again", and a refused connection as "retry later".
#include <oidc/oidc.hpp>

#include "check.hpp"

#include <iostream>
#include <string>
#include <system_error>

// [classify]
enum class Action { retry_later, log_in_again, fix_configuration, reject_response, stop };

// What the application does next, from the error's code and, for an OAuth error response, the
// RFC 6749 §5.2 code the server sent.
Action classify(const oidc::Error& e) {
  using oidc::errc;
  switch (e.code()) {
    case errc::transport: case errc::dns: case errc::connect: case errc::timeout:
      return Action::retry_later;
    case errc::http_status:  // no OAuth error body: the status says whether waiting helps
      return e.http_status() >= 500 || e.http_status() == 429 ? Action::retry_later : Action::fix_configuration;
    case errc::oauth_error: {
      const std::string& code = e.oauth_code();
      if (code == "temporarily_unavailable" || code == "server_error") return Action::retry_later;
      if (code == "invalid_grant" || code == "access_denied" || code == "expired_token") return Action::log_in_again;
      return Action::fix_configuration;  // invalid_client, unauthorized_client, invalid_scope, ...
    }
    case errc::interaction_required: case errc::auth_time_too_old:
      return Action::log_in_again;
    case errc::config: case errc::insecure_url: case errc::invalid_request: case errc::tls:
    case errc::unsupported_token_type: case errc::audience_mismatch: case errc::store: case errc::store_mismatch:
      return Action::fix_configuration;
    case errc::cancelled:
      return Action::stop;
    default:  // a response that failed validation: never use it, and do not retry it blindly
      return Action::reject_response;
  }
}
// [classify]

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  bool ok = true;
  const oidc::Client client(snippet::svc_config(base_url, "not-the-secret"));

  // [catch]
  try {
    oidc::Token t = client.client_credentials();
    std::cout << "expires in " << (t.expiry ? "a known time" : "an unknown time") << "\n";
  } catch (const oidc::Error& e) {
    // what() is safe to log: it never holds a secret or a token, and server text is sanitised.
    std::cerr << e.what() << "\n";
    // The same facts as fields, for code: the operation, the HTTP status (0: no response), the
    // server's RFC 6749 triple when it sent one.
    std::cerr << "operation: " << e.operation() << ", status: " << e.http_status() << "\n";
    if (const auto& oauth = e.oauth()) std::cerr << "server said: " << oauth->error << "\n";
    // For code that speaks std::error_code: category "oidc", comparable with the errc values.
    const std::error_code ec = e.error_code();
    if (ec == oidc::errc::timeout) std::cerr << "timed out\n";
    switch (classify(e)) {
      case Action::retry_later: /* back off and try again */ break;
      case Action::log_in_again: /* start the interactive login */ break;
      case Action::fix_configuration: /* page a human: this will not heal */ break;
      case Action::reject_response: case Action::stop: break;
    }
  }
  // [catch]

  try {
    (void)client.client_credentials();
    ok = snippet::expect(false, "a wrong secret was accepted") && ok;
  } catch (const oidc::Error& e) {
    ok = snippet::expect(e.code() == oidc::errc::oauth_error, "wrong secret: errc::oauth_error") && ok;
    ok = snippet::expect(e.oauth_code() == "invalid_client", "wrong secret: invalid_client") && ok;
    ok = snippet::expect(e.http_status() == 401, "wrong secret: HTTP 401") && ok;
    ok = snippet::expect(classify(e) == Action::fix_configuration, "wrong secret: fix_configuration") && ok;
    ok = snippet::expect(std::string(e.what()).find("not-the-secret") == std::string::npos, "the secret stays out of what()") && ok;
  }

  try {
    oidc::Token no_refresh;
    no_refresh.access_token = oidc::Secret("opaque");
    (void)client.refresh(no_refresh);
    ok = snippet::expect(false, "a refresh without refresh token succeeded") && ok;
  } catch (const oidc::Error& e) {
    ok = snippet::expect(e.code() == oidc::errc::interaction_required, "no refresh token: interaction_required") && ok;
    ok = snippet::expect(classify(e) == Action::log_in_again, "no refresh token: log_in_again") && ok;
  }

  try {
    // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    (void)oidc::Client(snippet::svc_config("http://127.0.0.1:1", "svc-secret")).client_credentials();
    ok = snippet::expect(false, "a request to a closed port succeeded") && ok;
  } catch (const oidc::Error& e) {
    ok = snippet::expect(e.code() == oidc::errc::connect, "closed port: errc::connect") && ok;
    ok = snippet::expect(e.http_status() == 0, "closed port: no HTTP status") && ok;
    ok = snippet::expect(classify(e) == Action::retry_later, "closed port: retry_later") && ok;
  }

  const oidc::Token good = oidc::Client(snippet::svc_config(base_url, "svc-secret")).client_credentials();
  ok = snippet::expect(!good.access_token.empty(), "the right secret gets a token") && ok;
  return ok ? 0 : 1;
}
