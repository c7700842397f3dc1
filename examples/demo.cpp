// The README demo: the library obtaining tokens from the embedded Keycloak-shaped provider over
// real HTTP on loopback, for every grant of the first release. No internet needed.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <oidc/oidc.hpp>

#include "local_provider.hpp"

namespace {

// Enough of the header to recognise it, never the whole credential.
std::string redacted(const std::string& header) {
  const auto space = header.find(' ');
  return header.substr(0, space + 1) + header.substr(space + 1, 8) + "...[redacted]";
}

void show(const std::string& grant, const oidc::Token& t) {
  const auto left = t.expiry ? std::chrono::duration_cast<std::chrono::seconds>(*t.expiry - t.received_at).count() : 0;
  std::cout << "  " << grant << "\n"
            << "    Authorization: " << redacted(t.authorization_header()) << "\n"
            << "    expires in " << left << " s (" << (t.expiry ? oidc::format_utc(*t.expiry) : "unknown")
            << "), scope \"" << t.scope << "\"" << (t.has_refresh_token() ? ", refresh token held" : "") << "\n";
}

}  // namespace

int main() try {
  using Provider = oidc_testing::LocalProvider;
  Provider provider;
  provider.set_device_poll_interval(1);  // keep the demo short; real servers say 5 s
  std::cout << "Embedded provider listening on " << provider.base_url() << "\n\n";
  // One libcurl transport shared by every client (pooled keep-alive connections). Declared after
  // the provider so its connections close before the provider shuts down.
  const auto transport = oidc::make_curl_transport();

  // Seed 001: a Keycloak service account, client credentials.
  oidc::ClientConfig service;
  service.token_endpoint = provider.token_endpoint();
  service.client_id = std::string(Provider::kServiceClientId);
  service.client_secret = std::string(Provider::kServiceClientSecret);
  service.transport = transport;
  oidc::Client svc(service);
  show("client_credentials (Keycloak, seed 001)", svc.client_credentials());

  // Seed 003: a public client, password grant, with the Host header the provider insists on.
  oidc::ClientConfig vyopta;
  vyopta.token_endpoint = provider.token_endpoint(Provider::kVyoptaRealm);
  vyopta.client_id = std::string(Provider::kVyoptaClientId);
  vyopta.extra_headers.set("Host", std::string(Provider::kVyoptaHost));
  vyopta.transport = transport;
  oidc::Client user(vyopta);
  show("password (Keycloak, seed 003: lowercase \"bearer\" normalised)",
       user.password(std::string(Provider::kAliceUsername), std::string(Provider::kAlicePassword)));

  // Seed 000: device authorization for a public client; "the user" approves in a browser, here
  // a GET of verification_uri_complete from another thread.
  oidc::ClientConfig device;
  device.device_authorization_endpoint = provider.device_endpoint();
  device.token_endpoint = provider.token_endpoint();
  device.client_id = std::string(Provider::kDeviceClientId);
  device.transport = transport;
  oidc::Client tv(device);
  const auto auth = tv.device_authorization({"openid"});
  std::cout << "  device_authorization: open " << auth.verification_uri << " and enter " << auth.user_code << "\n";
  std::thread browser;
  oidc::DevicePollOptions polling;
  polling.on_pending = [&](const oidc::DevicePollProgress& p) {
    std::cout << "    still waiting (poll " << p.polls << ", code valid " << p.remaining.count() << " s more)\n";
    if (!browser.joinable()) {
      browser = std::thread([&transport, url = auth.verification_uri_complete] {
        oidc::HttpRequest visit;
        visit.method = "GET";
        visit.url = url;
        (void)transport->send(visit);
      });
    }
  };
  const auto device_token = tv.poll_device_token(auth, polling);
  browser.join();
  show("device_code (Keycloak, seed 000)", device_token);

  // The token cache: one grant, any number of callers, always a valid header.
  auto source = svc.token_source(oidc::grants::ClientCredentials{});
  std::string header;
  for (int i = 0; i < 1000; ++i) header = source->authorization_header();
  std::cout << "  token_source: 1000 authorization_header() calls, " << source->renewals()
            << " token request; header " << redacted(header) << "\n";

  // Refresh, as the device app would do when its access token runs out.
  show("refresh_token (Keycloak, seed 000)", tv.refresh(device_token));
  return 0;
} catch (const oidc::Error& e) {
  std::cerr << "demo failed: " << e.what() << "\n";
  return 1;
}
