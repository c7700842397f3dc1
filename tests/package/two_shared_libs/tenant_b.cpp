#include "tenant.hpp"
#include "tenant_source.hpp"

std::shared_ptr<oidc::CachingTokenSource> tenant_b_source() {
  static const auto s = make_tenant_source("tenant-B");
  return s;
}

std::string tenant_b_header() { return tenant_b_source()->authorization_header(); }
