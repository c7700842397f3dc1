// oidc::parse_stored_token on arbitrary bytes (a file in the token store's directory is as hostile
// as a server's answer). Invariants: only oidc::Error escapes, and only errc::store_mismatch; a
// read gives a token or a warning, never both nor neither; messages have no control byte and never
// quote the record (the corpus records hold the secret as their access token); a record that
// restores writes back (serialize_stored_token) to one that restores to the same token.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "oidc/error.hpp"
#include "oidc/token_store.hpp"

namespace {

const oidc::TokenKey& key() {
  static const oidc::TokenKey k{"https://sso.example.com/realms/core", "https://sso.example.com/realms/core/token",
                                "cli", "password", "openid profile", "", "alice"};
  return k;
}

bool same(const oidc::Token& a, const oidc::Token& b) {
  return a.access_token.expose() == b.access_token.expose() && a.token_type == b.token_type && a.scope == b.scope &&
         a.refresh_token.expose() == b.refresh_token.expose() && a.id_token.expose() == b.id_token.expose() &&
         a.expiry == b.expiry && a.refresh_expiry == b.refresh_expiry && a.received_at == b.received_at &&
         a.extra == b.extra;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  oidc::StoredTokenRead read;
  try {
    read = oidc::parse_stored_token(text, key());
  } catch (const oidc::Error& e) {
    oidc_fuzz::check(e.code() == oidc::errc::store_mismatch, "parse_stored_token throws only store_mismatch", e.what());
    oidc_fuzz::check_error(e);
    return 0;
  }
  oidc_fuzz::check(read.token.has_value() != read.warning.has_value(), "a read is a token or a warning");
  if (read.warning) {
    oidc_fuzz::check_error(*read.warning);
    return 0;
  }
  const std::string again = oidc::serialize_stored_token(key(), *read.token);
  const oidc::StoredTokenRead back = oidc::parse_stored_token(again, key());
  oidc_fuzz::check(back.token && same(*back.token, *read.token), "a restored record writes back to the same token",
                   again);
  return 0;
}
