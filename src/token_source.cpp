#include "oidc/token_source.hpp"

namespace oidc::detail {

std::atomic<ThreadStarter>& token_source_thread_starter() noexcept {
  static std::atomic<ThreadStarter> starter{nullptr};
  return starter;
}

}  // namespace oidc::detail
