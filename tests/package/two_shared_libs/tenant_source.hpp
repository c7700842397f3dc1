// Included by both tenant libraries: a source renewing to a fixed token, made once per library.
#ifndef OIDC_TWO_SHARED_LIBS_TENANT_SOURCE_HPP
#define OIDC_TWO_SHARED_LIBS_TENANT_SOURCE_HPP

#include <oidc/token_source.hpp>

#include <chrono>
#include <memory>
#include <string>

inline std::shared_ptr<oidc::CachingTokenSource> make_tenant_source(const std::string& access_token) {
  return std::make_shared<oidc::CachingTokenSource>(
      [access_token](const std::shared_ptr<const oidc::Token>&, const oidc::CancelToken&) {
        oidc::Token t;
        t.access_token = access_token;
        t.token_type = "Bearer";
        t.received_at = std::chrono::system_clock::now();
        t.expiry = t.received_at + std::chrono::hours(1);
        return t;
      },
      oidc::system_clock());
}

#endif  // OIDC_TWO_SHARED_LIBS_TENANT_SOURCE_HPP
