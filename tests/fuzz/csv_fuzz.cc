// libFuzzer target for the CSV reader (table/csv_reader.h): the first byte
// picks the options (delimiter detection or a fixed one, header, bad-line
// policy), the rest is the file. A table read has columns of equal length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "table/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  plinth::table::CsvOptions opt;
  const uint8_t knobs = data[0];
  opt.header = (knobs & 1) == 0;
  opt.on_bad_lines =
      (knobs & 2) != 0 ? plinth::table::BadLines::kSkip : plinth::table::BadLines::kError;
  if ((knobs & 4) != 0) {
    opt.delimiter = ';';
  }
  opt.threads = 1 + ((knobs >> 3) & 1);
  opt.progress = false;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto r = plinth::table::ReadCsvText(text, opt, "fuzz.csv");
  if (r.ok()) {
    for (size_t c = 0; c < r->table.num_columns(); ++c) {
      if (r->table.column(c).size() != r->table.num_rows()) {
        std::abort();
      }
    }
  }
  return 0;
}
