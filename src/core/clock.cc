#include "core/clock.h"

#include <chrono>
#include <cstdio>

namespace plinth::core {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

const Clock& SystemClock() {
  static const RealClock kClock;
  return kClock;
}

std::string FormatIsoMicros(int64_t micros) {
  using std::chrono::days;
  const std::chrono::sys_time<std::chrono::microseconds> t{std::chrono::microseconds(micros)};
  const std::chrono::sys_days day = std::chrono::floor<days>(t);
  const std::chrono::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  int64_t in_day = (t - day).count();  // microseconds since midnight, >= 0
  if (year < 0 || year > 9999) {
    char buf[64];
    std::snprintf(
        buf, sizeof(buf), "%d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", year,
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<long long>(in_day / 3600000000), static_cast<long long>(in_day / 60000000 % 60),
        static_cast<long long>(in_day / 1000000 % 60), static_cast<long long>(in_day % 1000000));
    return buf;
  }
  // Digits written in place: this runs twice for every request plinth serve answers.
  std::string out = "0000-00-00T00:00:00.000000Z";
  auto put = [&out](size_t at, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, year, 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, in_day / 3600000000, 2);
  put(14, in_day / 60000000 % 60, 2);
  put(17, in_day / 1000000 % 60, 2);
  put(20, in_day % 1000000, 6);
  return out;
}

}  // namespace plinth::core
