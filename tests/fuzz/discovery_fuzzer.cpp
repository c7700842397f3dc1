// oidc::parse_provider_metadata on arbitrary bytes as the body of a 200 application/json
// discovery response, with the fixed expected issuer below; each input is also parsed with the
// templated issuer policy and with allow_insecure_http. Invariants besides "only oidc::Error":
// an accepted document has the expected issuer (or, templated, a template that matches it), every
// endpoint passes detail::check_server_uri and has no fragment, every list entry is printable
// text; an error's what() has no control byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/discovery.hpp"
#include "oidc/error.hpp"

namespace {

constexpr std::string_view kIssuer = "https://sso.example.com/realms/core";

void check_metadata(const oidc::ProviderMetadata& m, const oidc::DiscoveryOptions& o) {
  using oidc_fuzz::check;
  check(o.issuer_policy.matches(m.issuer, kIssuer), "accepted issuer matches the configured one", m.issuer);
  if (!o.issuer_policy.is_templated()) check(m.issuer == kIssuer, "exact policy: issuer is the configured one", m.issuer);
  for (const auto& field : oidc::detail::MetadataFields::urls) {
    const std::string& url = m.*field.second;
    if (url.empty()) continue;
    check(!oidc::detail::check_server_uri(url, o.allow_insecure_http), "endpoint passes check_server_uri", url);
    check(url.find('#') == std::string::npos, "endpoint has no fragment", url);
  }
  for (const auto& field : oidc::detail::MetadataFields::lists)
    for (const auto& s : m.*field.second)
      check(oidc::detail::is_printable_text(s, oidc::detail::metadata_entry_max_bytes), "list entry printable", s);
  for (const auto& field : oidc::detail::MetadataFields::extra_lists)
    for (const auto& s : m.*field.second)
      check(oidc::detail::is_printable_text(s, oidc::detail::metadata_entry_max_bytes), "list entry printable", s);
}

void run(const oidc::HttpResponse& r, const oidc::DiscoveryOptions& o) {
  try {
    check_metadata(oidc::parse_provider_metadata(r, kIssuer, o), o);
  } catch (const oidc::Error& e) {
    oidc_fuzz::check_clean(e);  // discovery sends no secret
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  oidc::HttpResponse r;
  r.status = 200;
  r.headers.set("Content-Type", "application/json");
  r.body.assign(reinterpret_cast<const char*>(data), size);
  oidc::DiscoveryOptions exact;
  run(r, exact);
  oidc::DiscoveryOptions templated;
  templated.issuer_policy = oidc::IssuerPolicy::templated("{tenantid}");
  templated.allow_insecure_http = true;
  templated.require_openid_metadata = false;
  run(r, templated);
  return 0;
}
