// Header and request validation: fuzzed names and values go through oidc::Headers (which refuses
// invalid fields), detail::validate_request (which every transport calls before sending), and a
// Client's extra_headers, whose request is recorded by a transport. Invariants: the validators and
// Headers agree; nothing accepted, and nothing that reaches a transport, contains CR, LF or NUL.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"
#include "oidc/transport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using oidc_fuzz::check;
  using oidc_fuzz::has_crlf_nul;
  FuzzedDataProvider in(data, size);
  oidc::ClientConfig cfg;
  cfg.client_id = "fuzz-client";
  cfg.client_secret = std::string(oidc_fuzz::kSecret);
  cfg.token_endpoint = "https://auth.example.com/token";
  oidc::HttpRequest request;
  request.method = in.ConsumeRandomLengthString(16);
  request.url = in.ConsumeRandomLengthString(128);
  while (in.remaining_bytes() > 0 && cfg.extra_headers.size() < 8) {
    const auto name = in.ConsumeRandomLengthString(64);
    const auto value = in.ConsumeRandomLengthString(256);
    const bool valid = oidc::detail::is_valid_header_name(name) && oidc::detail::is_valid_header_value(value);
    bool added = true;
    try {
      cfg.extra_headers.add(name, value);
      request.headers.add(name, value);
    } catch (const oidc::Error& e) {
      check(e.code() == oidc::errc::invalid_request, "Headers refuses with errc::invalid_request");
      added = false;
    }
    check(added == valid, "Headers accepts exactly what the validators accept", name + ": " + value);
    if (added) {
      check(!has_crlf_nul(name), "an accepted header name has no CR, LF or NUL", name);
      check(!has_crlf_nul(value), "an accepted header value has no CR, LF or NUL", value);
    }
  }
  try {
    oidc::detail::validate_request(request);
    check(!has_crlf_nul(request.method) && !has_crlf_nul(request.url), "an accepted method and URL have no CR, LF or NUL",
          request.method + " " + request.url);
  } catch (const oidc::Error& e) {
    check(e.code() == oidc::errc::invalid_request, "validate_request refuses with errc::invalid_request");
  }
  oidc::Headers sent;
  cfg.transport = oidc::make_transport([&](const oidc::HttpRequest& r) {
    sent = r.headers;
    oidc::HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "application/json");
    response.body = R"({"access_token":"at","token_type":"Bearer","expires_in":300})";
    return response;
  });
  try {
    const oidc::Client client(cfg);
    (void)client.client_credentials();
  } catch (const oidc::Error&) {
    return 0;
  }
  for (const auto& [name, value] : sent) {
    check(!has_crlf_nul(name), "a sent header name has no CR, LF or NUL", name);
    check(!has_crlf_nul(value), "a sent header value has no CR, LF or NUL", value);
  }
  return 0;
}
