#include "tenant.hpp"
#include "tenant_source.hpp"

std::shared_ptr<oidc::CachingTokenSource> tenant_a_source() {
  static const auto s = make_tenant_source("tenant-A");
  return s;
}

std::string tenant_a_header() { return tenant_a_source()->authorization_header(); }
