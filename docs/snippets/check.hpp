// What every runnable snippet needs besides its regions: the provider URL it is pointed at, and a
// check that makes the test fail when what the guide shows is not so.
#pragma once

#include <iostream>
#include <string>

namespace snippet {

// argv[1] (run_with_provider.py passes the embedded provider's http://127.0.0.1:PORT), else the
// real provider's URL as the guide gives it.
inline std::string provider_url(int argc, char** argv, const char* real) { return argc > 1 ? argv[1] : real; }

// false, and says so on stderr, when `ok` is false.
inline bool expect(bool ok, const char* what) {
  if (!ok) std::cerr << "snippet check failed: " << what << "\n";
  return ok;
}

}  // namespace snippet
