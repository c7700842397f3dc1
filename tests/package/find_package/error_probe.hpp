// A library built as plug-ins and vendored SDKs are, with hidden visibility (CMakeLists.txt): its
// copies of oidc's inline functions are its own, so an error code it makes shares the executable's
// category only if oidc::error_category() is one object in the process (src/error.cpp).
#ifndef OIDC_PACKAGE_ERROR_PROBE_HPP
#define OIDC_PACKAGE_ERROR_PROBE_HPP

#include <string>
#include <system_error>

#if defined(__GNUC__) || defined(__clang__)
#define ERROR_PROBE_API __attribute__((visibility("default")))
#else
#define ERROR_PROBE_API
#endif

namespace error_probe {
// The error_code of the oidc::Error that oidc::FileTokenStore throws for `directory`; {} if none.
ERROR_PROBE_API std::error_code store_refusal(const std::string& directory);
}  // namespace error_probe

#endif  // OIDC_PACKAGE_ERROR_PROBE_HPP
