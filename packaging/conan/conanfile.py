"""Conan 2 recipe for oidc, kept in the project's repository (docs/packaging.md).

    conan create packaging/conan --build=missing
    conan create packaging/conan --build=missing -o "oidc/*:with_loopback=True"

The sources are the checkout this file lives in (export_sources copies them), and the version is
the one in include/oidc/version.hpp, the project's single version source.
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rmdir

required_conan_version = ">=2.0"

# The recipe's option -> the project's CMake option (each must be an option() in CMakeLists.txt;
# scripts/check-packaging.py checks that, and that the defaults below match the vcpkg port's).
CMAKE_OPTIONS = {
    "with_curl": "OIDC_WITH_CURL",
    "with_openssl": "OIDC_WITH_OPENSSL",
    "with_loopback": "OIDC_WITH_LOOPBACK",
    "with_redis": "OIDC_WITH_REDIS",
}


class OidcConan(ConanFile):
    name = "oidc"
    description = "OAuth 2.0 / OpenID Connect client library for C++17"
    license = "MIT"
    homepage = "https://github.com/oidc-cpp/oidc"
    url = "https://github.com/oidc-cpp/oidc"
    topics = ("oauth2", "openid-connect", "oidc", "jwt", "authentication")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "shared": [True, False],
        "fPIC": [True, False],
        "with_curl": [True, False],
        "with_openssl": [True, False],
        "with_loopback": [True, False],
        "with_redis": [True, False],
    }
    default_options = {
        "shared": False,
        "fPIC": True,
        "with_curl": True,
        "with_openssl": True,
        # Off by default, as in the vcpkg port: it brings cpp-httplib (and its OpenSSL/zlib/brotli).
        "with_loopback": False,
        # Off by default, as in the vcpkg port: the Redis token store brings hiredis.
        "with_redis": False,
    }

    def _project_root(self):
        return os.path.join(self.recipe_folder, "..", "..")

    def set_version(self):
        text = load(self, os.path.join(self._project_root(), "include", "oidc", "version.hpp"))
        match = re.search(r'#define OIDC_VERSION "(\d+\.\d+\.\d+)"', text)
        if not match:
            raise ConanInvalidConfiguration("no OIDC_VERSION in include/oidc/version.hpp")
        self.version = match.group(1)

    def export_sources(self):
        root = self._project_root()
        for pattern in ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "src/*"):
            copy(self, pattern, root, self.export_sources_folder)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self, src_folder=".")

    def requirements(self):
        # Public: Token::extra is nlohmann::json.
        self.requires("nlohmann_json/[>=3.10 <4]", transitive_headers=True)
        if self.options.with_curl:
            self.requires("libcurl/[>=7.78 <9]")
        if self.options.with_openssl:
            self.requires("openssl/[>=3 <4]")
        if self.options.with_loopback:
            self.requires("cpp-httplib/[>=0.11 <1]")
        if self.options.with_redis:
            self.requires("hiredis/[>=0.14 <2]")

    def validate(self):
        check_min_cppstd(self, 17)
        if self.options.with_redis and not self.options.with_openssl:
            raise ConanInvalidConfiguration("with_redis needs with_openssl (records are sealed with AES-256-GCM)")

    def generate(self):
        tc = CMakeToolchain(self)  # sets BUILD_SHARED_LIBS from the shared option
        for option, variable in CMAKE_OPTIONS.items():
            tc.cache_variables[variable] = bool(self.options.get_safe(option))
        tc.cache_variables["OIDC_BUILD_TESTS"] = False
        tc.cache_variables["OIDC_BUILD_EXAMPLES"] = False
        tc.cache_variables["OIDC_BUILD_TOOLS"] = False
        tc.cache_variables["OIDC_BUILD_BENCHMARKS"] = False
        tc.cache_variables["OIDC_BUILD_FUZZERS"] = False
        tc.cache_variables["OIDC_INSTALL"] = True
        tc.cache_variables["OIDC_WERROR"] = False
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        CMake(self).install()
        # Conan's generators write these from package_info().
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "oidc")
        self.cpp_info.set_property("cmake_target_name", "oidc::oidc")
        self.cpp_info.set_property("pkg_config_name", "oidc")
        self.cpp_info.libs = ["oidc"]
        if self.options.shared:
            # What the CMake target's INTERFACE_COMPILE_DEFINITIONS carries (include/oidc/export.hpp);
            # Conan's generators replace the installed oidcConfig.cmake, so it is said again here.
            self.cpp_info.defines = ["OIDC_SHARED"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
