#ifndef OIDC_VERSION_HPP
#define OIDC_VERSION_HPP

// Single source of truth for the version: CMakeLists.txt parses OIDC_VERSION.
#define OIDC_VERSION "0.1.0"
#define OIDC_VERSION_MAJOR 0
#define OIDC_VERSION_MINOR 1
#define OIDC_VERSION_PATCH 0

#endif  // OIDC_VERSION_HPP
