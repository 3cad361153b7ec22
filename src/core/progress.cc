#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace plinth::core {
namespace {

std::string HumanBytes(double v) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
  return buf;
}

// 1234567 -> "1.23M": counts of rows at a glance.
std::string CountText(double v) {
  const char* units[] = {"", "k", "M", "G"};
  int u = 0;
  while (v >= 1000 && u < 3) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.2f%s", v, units[u]);
  return buf;
}

}  // namespace

Progress::Progress(std::string label, int64_t total, bool enabled, const Clock& clock)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) == 1),
      clock_(clock),
      start_us_(clock.MonotonicMicros()),
      last_print_us_(start_us_) {}

Progress::~Progress() { Finish(); }

void Progress::Update(int64_t done) { Update(done, -1); }

void Progress::SetItems(int64_t items) {
  MutexLock lock(mu_);
  items_ = items;
}

void Progress::Update(int64_t done, int64_t items) {
  if (!enabled_) {
    return;
  }
  MutexLock lock(mu_);
  if (items >= 0) {
    items_ = items;
  }
  int64_t now = clock_.MonotonicMicros();
  int64_t interval = tty_ ? 100000 : 5000000;
  if (finished_ || now - last_print_us_ < interval) {
    return;
  }
  last_print_us_ = now;
  Print(done, false);
}

void Progress::Finish() {
  if (!enabled_) {
    return;
  }
  MutexLock lock(mu_);
  if (finished_) {
    return;
  }
  finished_ = true;
  // Only a terminal gets a closing line: the bar has to end with a newline.
  if (tty_ && last_print_us_ != start_us_) {
    Print(total_, true);
  }
}

void Progress::Print(int64_t done, bool final) {
  double secs = static_cast<double>(clock_.MonotonicMicros() - start_us_) / 1e6;
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string text;
  if (total_ > 0) {
    double frac = static_cast<double>(done) / static_cast<double>(total_);
    frac = frac < 0 ? 0 : (frac > 1 ? 1 : frac);
    if (tty_) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(frac * kWidth);
      text.assign("[");
      text.append(static_cast<size_t>(filled), '#');
      text.append(static_cast<size_t>(kWidth - filled), '.');
      text.append("] ");
    }
    char pct[16];
    std::snprintf(pct, sizeof(pct), "%5.1f%% ", frac * 100);
    text += pct;
    text += HumanBytes(static_cast<double>(done)) + " / " + HumanBytes(static_cast<double>(total_));
  } else {
    text = HumanBytes(static_cast<double>(done));
  }
  text += "  " + HumanBytes(rate) + "/s";
  if (items_ >= 0) {
    text += "  " + CountText(static_cast<double>(items_)) + " " + items_name_ + " (" +
            CountText(secs > 0 ? static_cast<double>(items_) / secs : 0) + "/s)";
  }
  if (total_ > 0 && !final && rate > 0 && done < total_) {
    const auto left = static_cast<int64_t>(static_cast<double>(total_ - done) / rate);
    char eta[32];
    std::snprintf(eta, sizeof(eta), "  ETA %lld:%02lld", static_cast<long long>(left / 60),
                  static_cast<long long>(left % 60));
    text += eta;
  }
  if (tty_) {
    std::fprintf(stderr, "\r%s %s\033[K%s", label_.c_str(), text.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s %s\n", label_.c_str(), text.c_str());
  }
  std::fflush(stderr);
}

}  // namespace plinth::core
