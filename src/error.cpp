#include "oidc/error.hpp"

namespace oidc {

// Out of line so that a shared liboidc and its users share this one object (see error.hpp).
const std::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

}  // namespace oidc
