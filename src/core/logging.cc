#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

#include "core/clock.h"

namespace plinth::core {

Status InitLogging(std::string_view level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidArgument(
        "--log-level: expected one of trace, debug, info, warn, error, off, "
        "got \"" +
        std::string(level) + "\"");
  }
  auto logger = spdlog::stderr_color_mt("plinth");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

PhaseTimer::PhaseTimer(std::string what)
    : what_(std::move(what)), start_us_(SystemClock().MonotonicMicros()), lap_us_(start_us_) {}

double PhaseTimer::Lap(std::string_view phase) {
  int64_t now = SystemClock().MonotonicMicros();
  double ms = static_cast<double>(now - lap_us_) / 1000.0;
  spdlog::debug("{}: {}: {:.1f} ms", what_, phase, ms);
  lap_us_ = now;
  return ms;
}

PhaseTimer::~PhaseTimer() {
  spdlog::debug("{}: {:.1f} ms", what_,
                static_cast<double>(SystemClock().MonotonicMicros() - start_us_) / 1000.0);
}

}  // namespace plinth::core
