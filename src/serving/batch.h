// Batch inference (`plinth predict`): a CSV file (plain or gzip) or Parquet (a file or a
// folder of them) scored by a bundle into a CSV file, streamed chunk by chunk so that memory
// does not grow with the input, or into a Parquet file (`.parquet`: the rows are kept by
// DuckDB, spilling to a temporary folder, until the file is written at the end). The reader parses
// chunks on its thread pool while the scanning thread scores the chunk before and writes it; rows
// come out in input order. The output is written to a temporary file renamed over OUT at the end,
// so OUT is the whole answer or untouched.
//
// Output columns: the kept input columns (their text as read), `prediction`
// (the class label, or the value for regressors) and, for classifiers, one
// `probability_<label>` per class.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/bundle.h"

namespace plinth::serving {

// What to do with a row that cannot be read: a value the model's column type
// cannot take, or a line with the wrong number of fields.
enum class BadRows {
  kError,  // stop, naming the line and column; no output
  kSkip,   // leave the row out
  kNull,   // read a bad value as missing (imputed as in training); lines of
           // the wrong width cannot be read and are skipped
};
Result<BadRows> ParseBadRows(std::string_view text);

struct BatchOptions {
  std::string input;
  std::string output;
  int64_t batch_size = 0;   // rows per prediction; 0: each chunk the reader delivers
  size_t threads = 0;       // parser threads; 0: one per core
  int64_t shard_index = 0;  // score the shard_index-th of shard_count byte ranges
  int64_t shard_count = 1;
  std::vector<std::string> keep_columns;
  BadRows on_bad_rows = BadRows::kError;
  std::vector<std::string> null_values;  // the training CSV reader's missing markers
  bool progress = false;
};

struct BatchSummary {
  int64_t rows = 0;                   // rows scored and written
  int64_t skipped_rows = 0;           // left out (bad values with kSkip, bad lines)
  int64_t missing_values = 0;         // bad values read as missing (kNull)
  std::vector<std::string> examples;  // the first few, "file:line: what"
  int64_t bytes = 0;                  // input bytes read (uncompressed)
  double seconds = 0;
};

Result<BatchSummary> ScoreCsvFile(const ml::Predictor& predictor, const BatchOptions& options);

}  // namespace plinth::serving
