// oidc::open_token_record on arbitrary bytes (a value in a shared Redis is as hostile as a
// server's answer). The first byte's low bit says whether the store seals (a fixed 32-byte key) or
// not; the rest is the value. Invariants: only oidc::Error escapes, and only errc::store_mismatch; a
// read gives a token or a warning, never both nor neither; messages have no control byte and quote
// neither the record (the corpus records hold the secret as their access token) nor the key; a
// sealing store opens only sealed records and a plaintext one never opens a sealed record; an opened
// token sealed again (seal_token_record) opens to the same token.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "oidc/error.hpp"
#include "oidc/redis_token_store.hpp"
#include "oidc/token_store.hpp"

namespace {

const oidc::TokenKey& key() {
  static const oidc::TokenKey k{"https://sso.example.com/realms/core", "https://sso.example.com/realms/core/token",
                                "cli", "password", "openid profile", "", "alice"};
  return k;
}

constexpr std::string_view kAesKey = "fuzz-key-0123456789abcdef-fuzz!!";  // 32 bytes
constexpr std::string_view kSealedPrefix = "oidc-sealed/1.";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const std::optional<oidc::Secret> sealing{oidc::Secret(std::string(kAesKey))};
  static const std::optional<oidc::Secret> plaintext{};
  const std::optional<oidc::Secret>& aes_key = (data[0] & 1) != 0 ? sealing : plaintext;
  const std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool sealed = value.substr(0, kSealedPrefix.size()) == kSealedPrefix;

  oidc::StoredTokenRead read;
  try {
    read = oidc::open_token_record(value, key(), aes_key);
  } catch (const oidc::Error& e) {
    oidc_fuzz::check(e.code() == oidc::errc::store_mismatch, "open_token_record throws only store_mismatch",
                     e.what());
    oidc_fuzz::check_error(e);
    // Unconditional since no message quotes a record's member name any more, not even a plaintext
    // one's (regressions/sealed_record/plaintext-member-name-equal-to-the-key).
    oidc_fuzz::check(std::string_view(e.what()).find(kAesKey) == std::string_view::npos,
                     "Error::what() does not contain the encryption key", e.what());
    return 0;
  }
  oidc_fuzz::check(read.token.has_value() != read.warning.has_value(), "a read is a token or a warning");
  if (read.warning) {
    oidc_fuzz::check_error(*read.warning);
    oidc_fuzz::check(std::string_view(read.warning->what()).find(kAesKey) == std::string_view::npos,
                     "a warning does not contain the encryption key", read.warning->what());
    return 0;
  }
  oidc_fuzz::check(sealed == aes_key.has_value(), "a sealing store opens only sealed records, a plaintext one none");
  // Sealed again (under a fresh nonce), it opens to the same token: compared as the record both write.
  const std::string again = oidc::seal_token_record(key(), *read.token, aes_key);
  const oidc::StoredTokenRead back = oidc::open_token_record(again, key(), aes_key);
  oidc_fuzz::check(back.token && oidc::serialize_stored_token(key(), *back.token) ==
                                     oidc::serialize_stored_token(key(), *read.token),
                   "an opened record seals again to the same token");
  return 0;
}
