#include "error_probe.hpp"

#include <oidc/file_token_store.hpp>

namespace error_probe {

std::error_code store_refusal(const std::string& directory) {
  oidc::FileTokenStoreOptions options;
  options.directory = directory;
  try {
    const oidc::FileTokenStore store(std::move(options));
  } catch (const oidc::Error& e) {
    return e.error_code();
  }
  return {};
}

}  // namespace error_probe
