// An injectable clock: production code asks a Clock for the time so tests can
// substitute a fake one (tests/testutil/fake_clock.h). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace plinth::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;
  // Monotonic microseconds, for durations.
  virtual int64_t MonotonicMicros() const = 0;
};

// The process-wide real clock; lives for the whole program.
const Clock& SystemClock();

// ISO-8601 UTC with microseconds, e.g. "2026-11-26T07:56:56.123456Z".
std::string FormatIsoMicros(int64_t micros_since_epoch);

}  // namespace plinth::core
