// Logging through spdlog to stderr. InitLogging() is called once by the binary;
// library code logs with spdlog's free functions (spdlog::info, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace plinth::core {

// Sets the level from `level` ("trace", "debug", "info", "warn", "error", "off").
// Returns kInvalidArgument naming the accepted levels otherwise.
Status InitLogging(std::string_view level);

// Logs at debug level how long the scope took ("<what>: 12.3 ms") when it ends:
// `--log-level debug` shows where a command spends its time.
class PhaseTimer {
 public:
  explicit PhaseTimer(std::string what);
  ~PhaseTimer();
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

  // Logs the time since construction or the previous Lap as "<what>: <phase>"
  // and returns it in milliseconds.
  double Lap(std::string_view phase);

 private:
  std::string what_;
  int64_t start_us_;
  int64_t lap_us_;
};

}  // namespace plinth::core
