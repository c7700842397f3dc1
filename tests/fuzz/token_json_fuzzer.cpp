// oidc::token_from_json on arbitrary JSON, and token_to_json -> token_from_json on a fuzzed Token.
// Invariants: only oidc::Error escapes, nothing is undefined behaviour; the round trip keeps every
// member (times at whole seconds, as they are stored) of a Token a parser could have produced, and
// refuses (errc::parse) exactly the Tokens the validation layer would refuse.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "oidc/error.hpp"
#include "oidc/token_json.hpp"

namespace {

// Unix seconds a saved token may hold: [0, detail::max_unix_seconds].
oidc::Token::time_point some_time(FuzzedDataProvider& in) {
  return oidc::Token::time_point{
      std::chrono::seconds{in.ConsumeIntegralInRange<std::int64_t>(0, oidc::detail::max_unix_seconds)}};
}

std::string utf8(FuzzedDataProvider& in, std::size_t max) {
  // nlohmann refuses to serialise invalid UTF-8, and a Token from a parsed response never holds it.
  const auto raw = in.ConsumeRandomLengthString(max);
  const auto quoted = nlohmann::json(raw).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    const auto j = nlohmann::json::parse(in.ConsumeRemainingBytesAsString(), nullptr, false);
    try {
      (void)oidc::token_from_json(j);
    } catch (const oidc::Error&) {
    }
    return 0;
  }
  oidc::Token t;
  t.access_token = utf8(in, 128);
  if (t.access_token.empty()) t.access_token = "a";
  t.token_type = utf8(in, 16);
  t.scope = utf8(in, 64);
  t.refresh_token = utf8(in, 128);
  t.id_token = utf8(in, 128);
  if (in.ConsumeBool()) t.expiry = some_time(in);
  if (in.ConsumeBool()) t.refresh_expiry = some_time(in);
  t.received_at = some_time(in);
  t.extra = nlohmann::json::parse(utf8(in, 256), nullptr, false);
  if (!t.extra.is_object()) t.extra = nlohmann::json::object();

  if (oidc::detail::token_problem(t)) {
    try {
      (void)oidc::token_from_json(oidc::token_to_json(t));
      oidc_fuzz::fail("a Token the validation layer refuses is refused when restored", oidc::token_to_json(t).dump());
    } catch (const oidc::Error& e) {
      oidc_fuzz::check(e.code() == oidc::errc::parse, "a refused saved token is errc::parse");
    }
    return 0;
  }
  const auto back = oidc::token_from_json(oidc::token_to_json(t));
  const bool same = back.access_token.expose() == t.access_token.expose() && back.token_type == t.token_type &&
                    back.scope == t.scope && back.refresh_token.expose() == t.refresh_token.expose() &&
                    back.id_token.expose() == t.id_token.expose() && back.expiry == t.expiry &&
                    back.refresh_expiry == t.refresh_expiry && back.received_at == t.received_at &&
                    back.extra == t.extra;
  oidc_fuzz::check(same, "token_from_json(token_to_json(t)) keeps every member", oidc::token_to_json(t).dump());
  return 0;
}
