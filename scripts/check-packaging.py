#!/usr/bin/env python3
"""Checks the vcpkg port and the Conan recipe without vcpkg or Conan (neither is installable here).

  scripts/check-packaging.py          from anywhere; exits 1 listing every problem found

- packaging/vcpkg/ports/oidc/vcpkg.json parses, has the fields the vcpkg maintainer guide wants, and
  its version is the project's (include/oidc/version.hpp, which CMakeLists.txt's project() reads);
- every OIDC_* option the portfile and the conanfile set is an option() in CMakeLists.txt, and the
  features / options mapped to them are the same three, with the same defaults in both;
- packaging/conan/conanfile.py parses (ast); its options and default_options agree with each other
  and with the CMake options it sets; set_version reads the same version;
- both build static or shared: the port has no vcpkg_check_linkage(), the recipe takes shared=True
  (fPIC removed, OIDC_SHARED defined for consumers);
- the port's `usage` snippet names oidc::oidc and equals the copy in tests/package/vcpkg_usage,
  which scripts/test.sh builds against an installed prefix.
"""
import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = ROOT / "packaging" / "vcpkg" / "ports" / "oidc"
CONAN = ROOT / "packaging" / "conan" / "conanfile.py"
USAGE_COPY = ROOT / "tests" / "package" / "vcpkg_usage" / "CMakeLists.txt"

problems = []


def problem(text):
    problems.append(text)


def project_version():
    text = (ROOT / "include" / "oidc" / "version.hpp").read_text()
    match = re.search(r'#define OIDC_VERSION "(\d+\.\d+\.\d+)"', text)
    if not match:
        sys.exit("check-packaging: no OIDC_VERSION in include/oidc/version.hpp")
    return match.group(1)


def cmake_options():
    """option(NAME "doc" default) in the top CMakeLists.txt -> {NAME: default text}."""
    text = (ROOT / "CMakeLists.txt").read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r'^\s*option\(\s*(\w+)\s+"[^"]*"\s+([^)\s]+)\s*\)', text, re.M)}


def check_vcpkg(version, options):
    """Returns {feature: (CMake option, default?)}."""
    try:
        manifest = json.loads((PORT / "vcpkg.json").read_text())
    except (OSError, ValueError) as e:
        problem(f"vcpkg.json: {e}")
        return {}
    for field in ("name", "description", "homepage", "license"):
        if not manifest.get(field):
            problem(f"vcpkg.json: no {field}")
    if manifest.get("name") != "oidc":
        problem(f"vcpkg.json: name is {manifest.get('name')!r}, not 'oidc'")
    port_version = next((manifest[k] for k in ("version", "version-semver", "version-string") if k in manifest), None)
    if port_version != version:
        problem(f"vcpkg.json: version {port_version!r}, the project is {version}")
    deps = {d if isinstance(d, str) else d.get("name") for d in manifest.get("dependencies", [])}
    for dep in ("nlohmann-json", "vcpkg-cmake", "vcpkg-cmake-config"):
        if dep not in deps:
            problem(f"vcpkg.json: no dependency on {dep}")
    for host in ("vcpkg-cmake", "vcpkg-cmake-config"):
        if not any(isinstance(d, dict) and d.get("name") == host and d.get("host") for d in manifest.get("dependencies", [])):
            problem(f"vcpkg.json: {host} must be a host dependency")
    features = manifest.get("features", {})
    defaults = {d if isinstance(d, str) else d.get("name") for d in manifest.get("default-features", [])}
    for d in defaults - set(features):
        problem(f"vcpkg.json: default feature {d!r} is not a feature")

    portfile = (PORT / "portfile.cmake").read_text()
    for call in ("vcpkg_check_features", "vcpkg_cmake_configure", "vcpkg_cmake_install", "vcpkg_fixup_pkgconfig",
                 "vcpkg_install_copyright"):
        if call + "(" not in portfile:
            problem(f"portfile.cmake: no {call}()")
    if not re.search(r"vcpkg_cmake_config_fixup\(\s*CONFIG_PATH\s+lib/cmake/oidc\s*\)", portfile):
        problem("portfile.cmake: no vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/oidc)")
    for name in sorted(set(re.findall(r"-D(OIDC_\w+)=", portfile))):
        if name not in options:
            problem(f"portfile.cmake: {name} is not an option() in CMakeLists.txt")
    # Shared or static follows the triplet (BUILD_SHARED_LIBS, from vcpkg_cmake_configure).
    if re.search(r"^\s*vcpkg_check_linkage\(", portfile, re.M):
        problem("portfile.cmake: vcpkg_check_linkage() restricts the linkage; the project builds both")
    for flag in ("OIDC_BUILD_TESTS", "OIDC_BUILD_EXAMPLES", "OIDC_BUILD_TOOLS"):
        if f"-D{flag}=OFF" not in portfile:
            problem(f"portfile.cmake: does not pass -D{flag}=OFF")

    block = re.search(r"vcpkg_check_features\((.*?)\)", portfile, re.S)
    mapping = {}
    if block:
        words = re.sub(r"#[^\n]*", "", block.group(1)).split()
        if "FEATURES" in words:
            pairs = words[words.index("FEATURES") + 1:]
            mapping = dict(zip(pairs[0::2], pairs[1::2]))
    for feature, option in mapping.items():
        if feature not in features:
            problem(f"portfile.cmake: maps feature {feature!r}, which vcpkg.json does not declare")
        if option not in options:
            problem(f"portfile.cmake: feature {feature!r} sets {option}, not an option() in CMakeLists.txt")
    for feature in features:
        if feature not in mapping:
            problem(f"vcpkg.json: feature {feature!r} is not mapped to a CMake option in portfile.cmake")
    return {f: (o, f in defaults) for f, o in mapping.items()}


def literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def check_conan(version, options, vcpkg_features):
    try:
        tree = ast.parse(CONAN.read_text(), str(CONAN))
    except (OSError, SyntaxError) as e:
        problem(f"conanfile.py: {e}")
        return
    module = {t.id: literal(n.value) for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
              if isinstance(t, ast.Name)}
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    if len(classes) != 1:
        problem(f"conanfile.py: expected one class, found {len(classes)}")
        return
    body = {t.id: literal(n.value) for n in classes[0].body if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}
    methods = {n.name for n in classes[0].body if isinstance(n, ast.FunctionDef)}
    if body.get("name") != "oidc":
        problem(f"conanfile.py: name is {body.get('name')!r}")
    for m in ("set_version", "export_sources", "layout", "requirements", "generate", "build", "package",
              "package_info"):
        if m not in methods:
            problem(f"conanfile.py: no {m}()")
    conan_options = body.get("options") or {}
    conan_defaults = body.get("default_options") or {}
    for name in ("shared", "fPIC", "with_curl", "with_openssl", "with_loopback"):
        if name not in conan_options:
            problem(f"conanfile.py: no option {name}")
    if set(conan_options) != set(conan_defaults):
        problem(f"conanfile.py: options {sorted(conan_options)} and default_options {sorted(conan_defaults)} differ")
    for name, default in conan_defaults.items():
        if name in conan_options and default not in conan_options[name]:
            problem(f"conanfile.py: default {name}={default!r} is not one of {conan_options[name]}")

    mapping = module.get("CMAKE_OPTIONS") or {}
    if not mapping:
        problem("conanfile.py: no CMAKE_OPTIONS mapping of recipe options to CMake options")
    for option, variable in mapping.items():
        if option not in conan_options:
            problem(f"conanfile.py: CMAKE_OPTIONS names {option!r}, not a recipe option")
        if variable not in options:
            problem(f"conanfile.py: {variable} is not an option() in CMakeLists.txt")
    for name in conan_options:
        if name.startswith("with_") and name not in mapping:
            problem(f"conanfile.py: option {name} sets no CMake option")
    source = CONAN.read_text()
    for variable in sorted(set(re.findall(r'cache_variables\["(OIDC_\w+)"\]', source))):
        if variable not in options:
            problem(f"conanfile.py: {variable} is not an option() in CMakeLists.txt")
    for flag in ("OIDC_BUILD_TESTS", "OIDC_BUILD_EXAMPLES", "OIDC_BUILD_TOOLS"):
        if not re.search(rf'cache_variables\["{flag}"\]\s*=\s*False', source):
            problem(f"conanfile.py: does not set {flag} to False")
    for prop, value in (("cmake_file_name", "oidc"), ("cmake_target_name", "oidc::oidc"), ("pkg_config_name", "oidc")):
        if not re.search(rf'set_property\(\s*"{prop}"\s*,\s*"{re.escape(value)}"\s*\)', source):
            problem(f'conanfile.py: package_info does not set {prop} to "{value}"')
    # shared=True works: nothing rejects it, fPIC goes as in other recipes, and consumers get the
    # OIDC_SHARED the CMake target exports (Conan's generators replace oidcConfig.cmake).
    if re.search(r"if self\.options\.shared:\s*\n\s*(#[^\n]*\n\s*)*raise", source):
        problem("conanfile.py: rejects shared=True")
    if not re.search(r"if self\.options\.shared:\s*\n\s*self\.options\.rm_safe\(\"fPIC\"\)", source):
        problem("conanfile.py: configure() does not remove fPIC when shared")
    if not re.search(r"self\.cpp_info\.defines\s*=\s*\[\"OIDC_SHARED\"\]", source):
        problem("conanfile.py: package_info does not define OIDC_SHARED for a shared package")
    if '"pthread"' not in source:
        problem("conanfile.py: system_libs has no pthread")

    # The recipe's set_version reads version.hpp with this pattern; it must find the same version.
    pattern = re.search(r"re\.search\(\s*r'([^']+)'", source)
    text = (ROOT / "include" / "oidc" / "version.hpp").read_text()
    found = re.search(pattern.group(1), text) if pattern else None
    if not found or found.group(1) != version:
        problem(f"conanfile.py: set_version does not find version {version} in include/oidc/version.hpp")

    # Both packages build the same library by default.
    by_cmake = {v: k for k, v in mapping.items()}
    for feature, (variable, default) in vcpkg_features.items():
        option = by_cmake.get(variable)
        if option is None:
            problem(f"{variable}: a vcpkg feature ({feature}) but no Conan option")
        elif bool(conan_defaults.get(option)) != default:
            problem(f"{variable}: vcpkg feature {feature} default {default}, Conan {option} default "
                    f"{conan_defaults.get(option)}")


def snippet(text):
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line.startswith(("find_package(", "target_link_libraries("))]


def check_usage():
    usage = (PORT / "usage").read_text()
    if "oidc::oidc" not in usage:
        problem("usage: does not name oidc::oidc")
    copy = USAGE_COPY.read_text()
    block = re.search(r"# usage snippet begin\n(.*?)# usage snippet end", copy, re.S)
    if not block:
        problem(f"{USAGE_COPY.relative_to(ROOT)}: no '# usage snippet begin/end' block")
        return
    if snippet(usage) != snippet(block.group(1)) or not snippet(usage):
        problem(f"usage snippet {snippet(usage)} differs from the one {USAGE_COPY.relative_to(ROOT)} builds "
                f"{snippet(block.group(1))}")


def main():
    version = project_version()
    options = cmake_options()
    if "OIDC_WERROR" in options and options["OIDC_WERROR"] != "OFF":
        problem("CMakeLists.txt: OIDC_WERROR must default to OFF (packagers build with their own flags)")
    features = check_vcpkg(version, options)
    check_conan(version, options, features)
    check_usage()
    for p in problems:
        print(f"check-packaging: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-packaging: vcpkg port, Conan recipe and usage snippet agree with CMakeLists.txt (oidc {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
