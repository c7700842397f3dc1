# Overlay port for oidc (docs/packaging.md). The project's CMake needs no patches: its options are
# namespaced (OIDC_*), -Werror is opt-in (OIDC_WERROR, OFF), nothing is downloaded at configure
# time, and tests/examples are switched off here explicitly.

# Static or shared as the triplet's VCPKG_LIBRARY_LINKAGE says: vcpkg_cmake_configure passes it
# as BUILD_SHARED_LIBS, which the project follows (docs/packaging.md, "Static or shared").

if(DEFINED ENV{VCPKG_OIDC_SOURCE})
  # Building this checkout: `VCPKG_OIDC_SOURCE=1 vcpkg install oidc --overlay-ports=packaging/vcpkg/ports`
  # (a path instead of 1 names another checkout).
  if(IS_DIRECTORY "$ENV{VCPKG_OIDC_SOURCE}")
    set(SOURCE_PATH "$ENV{VCPKG_OIDC_SOURCE}")
  else()
    get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
  endif()
else()
  # A release tag: set REF to the tag and SHA512 to the archive's hash
  # (`vcpkg install` prints the right one on the first, failing run).
  vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO oidc-cpp/oidc
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
  )
endif()

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    curl     OIDC_WITH_CURL
    openssl  OIDC_WITH_OPENSSL
    loopback OIDC_WITH_LOOPBACK
    redis    OIDC_WITH_REDIS
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DOIDC_BUILD_TESTS=OFF
    -DOIDC_BUILD_EXAMPLES=OFF
    -DOIDC_BUILD_TOOLS=OFF
    -DOIDC_BUILD_BENCHMARKS=OFF
    -DOIDC_BUILD_FUZZERS=OFF
    -DOIDC_INSTALL=ON
    -DOIDC_WERROR=OFF
)

vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/oidc)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include" "${CURRENT_PACKAGES_DIR}/debug/share")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
