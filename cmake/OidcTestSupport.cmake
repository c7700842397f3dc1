# The embedded Keycloak-shaped provider (tests/support), shared by the tests, the demo and the
# benchmarks. cpp-httplib is needed only here; it never appears in oidc's package config.
include_guard(GLOBAL)

# Finds a dependency of the tests, examples or benchmarks: its CMake package first (upstream
# installs, vcpkg, Conan; CMake's own Find module for GTest), then pkg-config (each TARGETS entry's
# module in PKG_CONFIG, same order), which defines the same target names. When neither has it, the
# configure stops with how to build without what needs it, not with an error from deep inside.
#   oidc_find_test_dependency(<package> TARGETS <t>... PKG_CONFIG <module>... DEBIAN <package>
#                             NEEDED_BY <the OIDC_BUILD_* options that need it>...)
function(oidc_find_test_dependency package)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "DEBIAN" "TARGETS;PKG_CONFIG;NEEDED_BY")
  find_package(${package} CONFIG QUIET)
  set(missing "")
  foreach(target IN LISTS arg_TARGETS)
    if(NOT TARGET ${target})
      list(APPEND missing ${target})
    endif()
  endforeach()
  if(missing AND EXISTS "${CMAKE_ROOT}/Modules/Find${package}.cmake")
    find_package(${package} MODULE QUIET)
  endif()
  find_package(PkgConfig QUIET)
  list(LENGTH arg_TARGETS count)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    list(GET arg_TARGETS ${i} target)
    list(GET arg_PKG_CONFIG ${i} module)
    if(TARGET ${target})
      continue()
    endif()
    string(MAKE_C_IDENTIFIER "OIDC_DEP_${module}" var)
    if(PKG_CONFIG_FOUND)
      pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${module})
    endif()
    if(NOT TARGET PkgConfig::${var})
      set(off "")
      foreach(option IN LISTS arg_NEEDED_BY)
        if(${option})
          string(APPEND off " -D${option}=OFF")
        endif()
      endforeach()
      message(FATAL_ERROR "oidc: ${target} not found: neither find_package(${package}) nor pkg-config "
              "${module} has it. Install ${package} (Debian: ${arg_DEBIAN}) and point CMAKE_PREFIX_PATH or "
              "PKG_CONFIG_PATH at it, or configure without what needs it:${off}")
    endif()
    add_library(${target} INTERFACE IMPORTED GLOBAL)
    target_link_libraries(${target} INTERFACE PkgConfig::${var})
  endforeach()
endfunction()

oidc_find_test_dependency(httplib TARGETS httplib::httplib PKG_CONFIG cpp-httplib DEBIAN libcpp-httplib-dev
                          NEEDED_BY OIDC_BUILD_TESTS OIDC_BUILD_EXAMPLES OIDC_BUILD_BENCHMARKS)
add_library(oidc_test_support INTERFACE)
target_include_directories(oidc_test_support INTERFACE ${PROJECT_SOURCE_DIR}/tests/support)
target_link_libraries(oidc_test_support INTERFACE httplib::httplib nlohmann_json::nlohmann_json Threads::Threads)
