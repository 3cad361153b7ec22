// libFuzzer target for Parquet files as Plinth reads them (table/parquet.h, through DuckDB):
// the input is the file. DuckDB is not instrumented, so what this finds is what a user sees:
// a crash or hang on a hostile file, or a table whose columns disagree with its schema. A
// refusal (an error Status) is the expected answer to most inputs; it must be one line.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "table/parquet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The file lives in memory (nothing left on disk), read by DuckDB through its /proc path.
  static const int fd = ::memfd_create("parquet-fuzz", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    std::abort();
  }
  plinth::Result<plinth::table::Table> t = plinth::table::ReadParquet(path);
  if (!t.ok()) {
    if (t.status().message().find('\n') != std::string::npos) {
      std::abort();
    }
    return 0;
  }
  for (size_t c = 0; c < t->num_columns(); ++c) {
    if (t->column(c).size() != t->num_rows() || t->column(c).type() != t->schema().field(c).type) {
      std::abort();
    }
  }
  return 0;
}
