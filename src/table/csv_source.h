// Byte sources for the CSV reader: a plain file, a gzip file, or text in memory.
// Internal to the table module. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace plinth::table {

class Source {
 public:
  virtual ~Source() = default;
  // Reads up to `n` bytes into `buf`; returns 0 at the end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Starts again from the first byte.
  virtual Status Rewind() = 0;
  // How far into the underlying file (compressed bytes for gzip) reading is, and its size.
  virtual int64_t Position() const = 0;
  virtual int64_t TotalSize() const = 0;
  virtual bool gzip() const { return false; }
};

// Opens `path`, choosing plain or gzip by the file's first two bytes.
// Returns kNotFound or kIoError naming the path.
Result<std::unique_ptr<Source>> OpenSource(const std::string& path);

// The header line of the plain file at `path`, then the records that start in
// bytes [begin, end) of it (end < 0: to the end), cut at line starts.
Result<std::unique_ptr<Source>> OpenSourceRange(const std::string& path, int64_t begin,
                                                int64_t end);

// A source over `text`, which must outlive it.
std::unique_ptr<Source> TextSource(std::string_view text);

}  // namespace plinth::table
