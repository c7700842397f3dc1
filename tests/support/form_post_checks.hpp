#ifndef OIDC_TESTS_FORM_POST_CHECKS_HPP
#define OIDC_TESTS_FORM_POST_CHECKS_HPP

#include <gtest/gtest.h>

#include "local_provider.hpp"

namespace oidc_testing {

// What every form POST of the library carries, whatever the endpoint: one Content-Type of
// application/x-www-form-urlencoded (RFC 6749 Appendix B) and a request for JSON back.
inline void expect_library_form_post(const RecordedRequest& r) {
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.headers.count("Content-Type"), 1u);
  EXPECT_EQ(r.header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.headers.count("Accept"), 1u);
  EXPECT_EQ(r.header("Accept"), "application/json");
}

}  // namespace oidc_testing

#endif  // OIDC_TESTS_FORM_POST_CHECKS_HPP
