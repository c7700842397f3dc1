# The embedded Keycloak-shaped provider (tests/support), shared by the tests, the demo and the
# benchmarks. cpp-httplib is needed only here; it never appears in oidc's package config.
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
add_library(oidc_test_support INTERFACE)
target_include_directories(oidc_test_support INTERFACE ${PROJECT_SOURCE_DIR}/tests/support)
target_link_libraries(oidc_test_support INTERFACE PkgConfig::HTTPLIB nlohmann_json::nlohmann_json Threads::Threads)
