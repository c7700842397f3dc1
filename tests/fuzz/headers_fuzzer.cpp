// Header validation: today the only check is Client's on ClientConfig::extra_headers (in its
// constructor). Fuzzed names and values go into extra_headers, and, when the Client accepts them,
// one request is sent through a recording transport. Invariant: no header name or value that
// reaches the transport contains CR, LF or NUL. (When detail::validate_request /
// detail::is_valid_header_value exist, call them here too.)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"
#include "oidc/transport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  oidc::ClientConfig cfg;
  cfg.client_id = "fuzz-client";
  cfg.client_secret = std::string(oidc_fuzz::kSecret);
  cfg.token_endpoint = "https://auth.example.com/token";
  while (in.remaining_bytes() > 0 && cfg.extra_headers.size() < 8) {
    auto name = in.ConsumeRandomLengthString(64);
    auto value = in.ConsumeRandomLengthString(256);
    cfg.extra_headers.add(std::move(name), std::move(value));
  }
  oidc::Headers sent;
  cfg.transport = oidc::make_transport([&](const oidc::HttpRequest& request) {
    sent = request.headers;
    oidc::HttpResponse r;
    r.status = 200;
    r.headers.set("Content-Type", "application/json");
    r.body = R"({"access_token":"at","token_type":"Bearer","expires_in":300})";
    return r;
  });
  try {
    const oidc::Client client(cfg);
    (void)client.client_credentials();
  } catch (const oidc::Error&) {
    return 0;
  }
  for (const auto& [name, value] : sent) {
    oidc_fuzz::check(!oidc_fuzz::has_crlf_nul(name), "a sent header name has no CR, LF or NUL", name);
    oidc_fuzz::check(!oidc_fuzz::has_crlf_nul(value), "a sent header value has no CR, LF or NUL", value);
  }
  return 0;
}
