// Logging through spdlog to stderr. InitLogging() is called once by the binary;
// library code logs with spdlog's free functions (spdlog::info, ...).
#pragma once

#include <string_view>

#include "core/status.h"

namespace plinth::core {

// Sets the level from `level` ("trace", "debug", "info", "warn", "error", "off").
// Returns kInvalidArgument naming the accepted levels otherwise.
Status InitLogging(std::string_view level);

}  // namespace plinth::core
