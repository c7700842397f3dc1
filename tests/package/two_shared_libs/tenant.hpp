// The interface each tenant library exports (everything else in the libraries is hidden): its
// source, and its source's header as read from inside the library.
#ifndef OIDC_TWO_SHARED_LIBS_TENANT_HPP
#define OIDC_TWO_SHARED_LIBS_TENANT_HPP

#include <oidc/token_source.hpp>

#include <memory>
#include <string>

#if defined(_WIN32)
#define TENANT_API __declspec(dllexport)
#else
#define TENANT_API __attribute__((visibility("default")))
#endif

TENANT_API std::shared_ptr<oidc::CachingTokenSource> tenant_a_source();
TENANT_API std::string tenant_a_header();
TENANT_API std::shared_ptr<oidc::CachingTokenSource> tenant_b_source();
TENANT_API std::string tenant_b_header();

#endif  // OIDC_TWO_SHARED_LIBS_TENANT_HPP
