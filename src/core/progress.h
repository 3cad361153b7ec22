// Progress for long work. On a terminal, a live bar on stderr redrawn at most
// ten times a second; otherwise a plain line every `interval` seconds, so CI
// logs stay readable. Silent when disabled. Update() is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/mutex.h"

namespace plinth::core {

class Progress {
 public:
  // `label` prefixes every line; `total` is the amount of work (bytes, rows),
  // 0 if unknown. `enabled` false makes every call a no-op.
  Progress(std::string label, int64_t total, bool enabled, const Clock& clock = SystemClock());
  ~Progress();

  // Records that `done` units of `total` are finished (absolute, not a delta).
  void Update(int64_t done);
  // The same, with a count of items (rows, say) shown with their rate; with a
  // total, the line also shows the time left at the current rate.
  void Update(int64_t done, int64_t items);
  // Records the item count only; the next Update(done) shows it.
  void SetItems(int64_t items);
  // Names the items of Update(done, items): "rows".
  void set_items_name(std::string name) { items_name_ = std::move(name); }
  // Prints the final line (once).
  void Finish();

 private:
  void Print(int64_t done, bool final) PLINTH_REQUIRES(mu_);

  std::string label_;
  int64_t total_;
  bool enabled_;
  bool tty_;
  const Clock& clock_;
  int64_t start_us_;
  Mutex mu_;
  int64_t last_print_us_ PLINTH_GUARDED_BY(mu_);
  std::string items_name_;
  int64_t items_ PLINTH_GUARDED_BY(mu_) = -1;  // -1: not counted
  bool finished_ PLINTH_GUARDED_BY(mu_) = false;
};

}  // namespace plinth::core
