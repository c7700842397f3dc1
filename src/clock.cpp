#include "oidc/clock.hpp"

#include <time.h>

namespace oidc::detail {

std::chrono::system_clock::time_point coarse_system_now() noexcept {
#if defined(CLOCK_REALTIME_COARSE)
  timespec ts{};
  if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) == 0) {
    // The same epoch as system_clock, which reads CLOCK_REALTIME.
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
#endif
  return std::chrono::system_clock::now();
}

}  // namespace oidc::detail
