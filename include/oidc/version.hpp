#ifndef OIDC_VERSION_HPP
#define OIDC_VERSION_HPP

/// \file
/// The library version, following Semantic Versioning 2.0.0. Single source of truth for the
/// version: CMakeLists.txt, the Conan recipe and the scripts parse the OIDC_VERSION line, so it
/// carries no trailing comment.

/// "MAJOR.MINOR.PATCH" of the headers being compiled.
#define OIDC_VERSION "0.1.0"
/// Incremented for an incompatible API change.
#define OIDC_VERSION_MAJOR 0
/// Incremented for a compatible addition.
#define OIDC_VERSION_MINOR 1
/// Incremented for a compatible fix.
#define OIDC_VERSION_PATCH 0

#endif  // OIDC_VERSION_HPP
