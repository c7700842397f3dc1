// Each library's source must serve its own token, however the calls interleave on one thread, and
// whether the call is compiled here (CachingTokenSource is final: the executable's own inline
// copy runs, with the executable's thread-locals) or inside the library that made the source.
#include <iostream>
#include <string>

#include "tenant.hpp"

int main() {
  int failures = 0;
  const auto expect = [&](const std::string& got, const std::string& want, const char* what) {
    if (got != want) {
      std::cerr << "FAIL: " << what << ": got '" << got << "', want '" << want << "'\n";
      ++failures;
    }
  };
  const auto a = tenant_a_source();
  const auto b = tenant_b_source();
  for (int i = 0; i < 100 && failures < 5; ++i) {
    expect(a->authorization_header(), "Bearer tenant-A", "a: authorization_header() called here");
    expect(b->authorization_header(), "Bearer tenant-B", "b: authorization_header() called here");
    expect(b->token()->access_token.expose(), "tenant-B", "b: token() called here");
    expect(a->token()->access_token.expose(), "tenant-A", "a: token() called here");
    expect(tenant_b_header(), "Bearer tenant-B", "b: authorization_header() called in library b");
    expect(tenant_a_header(), "Bearer tenant-A", "a: authorization_header() called in library a");
  }
  if (failures != 0) return 1;
  std::cout << "two shared libraries: each source served its own token\n";
  return 0;
}
