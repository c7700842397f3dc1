#ifndef OIDC_TESTS_ERROR_OF_HPP
#define OIDC_TESTS_ERROR_OF_HPP

#include <gtest/gtest.h>

#include "oidc/error.hpp"

namespace oidc_testing {

// Runs f and returns the oidc::Error it throws; records a test failure when it throws none.
template <class F>
oidc::Error error_of(F&& f) {
  try {
    f();
  } catch (const oidc::Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an oidc::Error";
  return oidc::Error(oidc::errc::transport, "(no error was thrown)", "");
}

}  // namespace oidc_testing

#endif  // OIDC_TESTS_ERROR_OF_HPP
