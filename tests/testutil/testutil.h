// Test helpers: temporary directories, a fake clock, and where the data lives.
#pragma once

#include <atomic>
#include <string>

#include "core/clock.h"

namespace plinth::testutil {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // `path()/name`.
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to `path()/name` and returns that path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// A clock that moves only when told to. Thread-safe.
class FakeClock : public core::Clock {
 public:
  explicit FakeClock(int64_t start_micros = 0) : now_(start_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t MonotonicMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

// ../shared/datasets/`name` beside the source tree.
std::string DatasetPath(const std::string& name);
// tests/testdata/`name`.
std::string TestdataPath(const std::string& name);

}  // namespace plinth::testutil
