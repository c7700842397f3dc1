// Placeholder: the discovery document parser's harness lands with discovery (issue 14).
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
