// The Redis token store (include/oidc/redis_token_store.hpp). Placeholder until the implementation lands.
#include "oidc/redis_token_store.hpp"

namespace oidc {
struct RedisTokenStore::Impl {};
RedisTokenStore::RedisTokenStore(RedisTokenStoreOptions) {
  throw Error(errc::config, "redis token store", "not implemented yet");
}
RedisTokenStore::~RedisTokenStore() = default;
bool RedisTokenStore::available() noexcept { return false; }
Secret RedisTokenStore::decode_key(std::string_view) { throw Error(errc::config, "redis token store", "not implemented yet"); }
std::string RedisTokenStore::generate_key() { return {}; }
std::string RedisTokenStore::record_key(const std::string& prefix, const TokenKey&) { return prefix; }
std::optional<Token> RedisTokenStore::load(const TokenKey&) { return std::nullopt; }
void RedisTokenStore::save(const TokenKey&, const Token&) {}
void RedisTokenStore::save_locked(const TokenKey&, const Token&, const TokenStoreLock&) {}
void RedisTokenStore::remove(const TokenKey&) {}
std::unique_ptr<TokenStoreLock> RedisTokenStore::lock(const TokenKey&, std::chrono::milliseconds, const CancelToken&) {
  return nullptr;
}
bool RedisTokenStore::attached() const { return false; }
namespace detail {
std::string seal_token_record(const TokenKey& key, const Token& token, const std::optional<Secret>&) {
  return serialize_stored_token(key, token);
}
StoredTokenRead open_token_record(std::string_view value, const TokenKey& key, const std::optional<Secret>&) {
  return parse_stored_token(value, key);
}
}  // namespace detail
}  // namespace oidc
