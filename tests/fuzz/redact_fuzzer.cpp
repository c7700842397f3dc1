// detail::redacted_snippet(body, secrets) with 1-3 fuzzed secrets (token characters, or any bytes)
// embedded in a fuzzed body, plain, form-encoded (detail::form_encode_component) and JSON-escaped
// (nlohmann dump()), in a JSON object or in free text. Invariant: no secret of 4 bytes or more
// survives in the excerpt, in any of those three forms.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/redact.hpp"

namespace {

constexpr std::string_view kTokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+";

// The excerpt rewrites some bytes itself (whitespace runs become one space, other controls '?',
// a cut ends in "...", masked runs read "[redacted]"); a secret made of those could "appear" with
// no leak at all, so such bytes are replaced rather than reported.
char usable(char c) {
  switch (c) {
    case ' ': case '\t': case '\r': case '\n': case '?': case '.': case '[': case ']': return 'x';
    default: return c;
  }
}

std::string make_secret(FuzzedDataProvider& in) {
  const bool token_ish = in.ConsumeBool();
  auto s = in.ConsumeRandomLengthString(48);
  while (s.size() < 4) s += 'Q';
  for (auto& c : s) c = token_ish ? kTokenChars[static_cast<unsigned char>(c) % kTokenChars.size()] : usable(c);
  // The mask itself must not count as the secret ("dact" is in "[redacted]").
  if (oidc::detail::redaction_mask.find(s) != std::string_view::npos) s += "Z9";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<std::string> secrets(in.ConsumeIntegralInRange<std::size_t>(1, 3));
  for (auto& s : secrets) s = make_secret(in);

  // Pieces of the body: fuzzed text alternating with secrets in some encoding.
  const bool as_json = in.ConsumeBool();
  std::vector<std::string> pieces;
  while (in.remaining_bytes() > 0 && pieces.size() < 12) {
    pieces.push_back(in.ConsumeRandomLengthString(128));
    const auto& secret = secrets[in.ConsumeIntegralInRange<std::size_t>(0, secrets.size() - 1)];
    switch (in.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: pieces.push_back(secret); break;
      case 1: pieces.push_back(oidc::detail::form_encode_component(secret)); break;
      default: pieces.push_back(oidc_fuzz::json_escaped(secret).value_or(secret));
    }
  }
  std::string body;
  if (as_json) {
    // {"k0":"<text><secret>", ...}: the member names are not credential names, so only the
    // masking of sent values and of long token runs protects them.
    body = "{";
    for (std::size_t i = 0; i + 1 < pieces.size(); i += 2) {
      if (i) body += ',';
      body += "\"k" + std::to_string(i) + "\":\"" + pieces[i] + pieces[i + 1] + "\"";
    }
    body += "}";
  } else {
    for (const auto& p : pieces) body += p;
  }

  const std::vector<std::string_view> views(secrets.begin(), secrets.end());
  auto out = oidc::detail::redacted_snippet(body, views);
  if (out.size() >= 3 && out.compare(out.size() - 3, 3, "...") == 0) out.resize(out.size() - 3);
  // The excerpt is escaped (detail::printable doubles backslashes), so the escaper's own output
  // could spell a secret made of backslashes and quotes; search what it stands for instead.
  const auto shown = oidc_fuzz::unprintable(out);
  for (const auto& secret : secrets)
    for (const auto& form : oidc_fuzz::encodings_of(secret))
      if (form.size() >= 4)
        oidc_fuzz::check(shown.find(form) == std::string::npos, "no secret survives in redacted_snippet()",
                         "secret: " + form + "\n  excerpt: " + out + "\n  body: " + body);
  return 0;
}
