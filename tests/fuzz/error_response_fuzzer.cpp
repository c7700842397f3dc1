// detail::parse_oauth_response on error-shaped bodies (RFC 6749 §5.2) built from fuzzed members,
// optionally echoing the sent secret. Invariants: only oidc::Error escapes; what() and
// oauth()->error_description carry no control byte; the sent secret never appears in what(), in
// plain or form-encoded form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/error.hpp"

namespace {

// A member value: fuzzed text, sometimes with the secret spliced in.
std::string member(FuzzedDataProvider& in) {
  auto v = in.ConsumeRandomLengthString(256);
  if (in.ConsumeBool()) v.insert(in.ConsumeIntegralInRange<std::size_t>(0, v.size()), oidc_fuzz::kSecret);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  static constexpr int statuses[] = {400, 401, 200};
  oidc::HttpResponse r;
  r.status = in.PickValueInArray(statuses);
  const auto shape = in.ConsumeIntegralInRange<int>(0, 2);
  const auto error = member(in), description = member(in), uri = member(in);
  if (shape == 0) {
    // Well-formed JSON; bytes that are not UTF-8 become U+FFFD.
    nlohmann::json body = {{"error", error}, {"error_description", description}};
    if (!uri.empty()) body["error_uri"] = uri;
    r.headers.set("Content-Type", "application/json");
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (shape == 1) {
    // Form-encoded, as older servers answer.
    r.headers.set("Content-Type", in.ConsumeBool() ? "application/x-www-form-urlencoded" : "text/plain");
    r.body = oidc::detail::form_encode({{"error", error}, {"error_description", description}, {"error_uri", uri}});
  } else {
    // Raw bytes spliced into a JSON skeleton: escapes, broken strings, stray controls.
    r.headers.set("Content-Type", "application/json");
    r.body = R"({"error":")" + error + R"(","error_description":")" + description + R"(","error_uri":")" + uri + "\"}";
  }
  try {
    (void)oidc::detail::parse_oauth_response(r, "token request", {oidc_fuzz::kSecret});
  } catch (const oidc::Error& e) {
    oidc_fuzz::check_error(e);
    const std::string_view what = e.what();
    for (const auto& form : oidc_fuzz::encodings_of(oidc_fuzz::kSecret))
      oidc_fuzz::check(what.find(form) == std::string_view::npos, "Error::what() does not contain the sent secret",
                       what);
  }
  return 0;
}
