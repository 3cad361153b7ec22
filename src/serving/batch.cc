#include "serving/batch.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>

#include "core/clock.h"
#include "core/file.h"
#include "core/progress.h"
#include "core/stale.h"
#include "table/column.h"
#include "table/csv_reader.h"
#include "table/csv_writer.h"
#include "table/parquet.h"
#include "table/reader.h"

namespace plinth::serving {
namespace {

// Scores each chunk as it arrives and appends its rows to the output.
class ScoringConsumer : public table::ChunkConsumer {
 public:
  ScoringConsumer(const ml::Predictor& predictor, const BatchOptions& options,
                  core::Progress& progress)
      : predictor_(predictor), options_(options), progress_(progress) {}

  Status Begin(const table::Schema& schema, int64_t /*expected_rows*/) override {
    // Called again if the reader restarts (stray quotes): start the output over.
    writer_.reset();
    parquet_.reset();
    rows_ = 0;
    keep_.clear();
    if (table::HasParquetName(options_.output)) {
      return BeginParquet(schema);
    }
    PLINTH_ASSIGN_OR_RETURN(core::AtomicFileWriter w,
                            core::AtomicFileWriter::Open(options_.output));
    writer_.emplace(std::move(w));
    std::string header;
    for (const std::string& name : options_.keep_columns) {
      std::optional<size_t> at = schema.IndexOf(name);
      if (!at) {
        return InvalidArgument("--keep-columns: no column \"" + name + "\" in " + options_.input);
      }
      keep_.push_back(*at);
      table::AppendCsvField(header, name, csv_);
      header += ',';
    }
    header += "prediction";
    if (predictor_.task() != ml::Task::kRegression) {
      for (const std::string& label : predictor_.class_labels()) {
        header += ',';
        table::AppendCsvField(header, "probability_" + label, csv_);
      }
    }
    header += '\n';
    labels_.clear();
    for (const std::string& label : predictor_.class_labels()) {
      std::string field;
      table::AppendCsvField(field, label, csv_);
      labels_.push_back(std::move(field));
    }
    return writer_->Append(header);
  }

  Status Consume(table::Table chunk) override {
    const int64_t n = chunk.num_rows();
    const int64_t step = options_.batch_size > 0 ? options_.batch_size : std::max<int64_t>(n, 1);
    std::vector<int64_t> rows;
    for (int64_t begin = 0; begin < n; begin += step) {
      const int64_t end = std::min(n, begin + step);
      ml::Prediction pred;
      if (begin == 0 && end == n) {
        PLINTH_ASSIGN_OR_RETURN(pred, predictor_.Predict(chunk));
      } else {
        rows.resize(static_cast<size_t>(end - begin));
        std::iota(rows.begin(), rows.end(), begin);
        PLINTH_ASSIGN_OR_RETURN(ml::Matrix x, predictor_.preprocessor().TransformRows(chunk, rows));
        PLINTH_ASSIGN_OR_RETURN(pred, predictor_.PredictFeatures(x));
      }
      if (parquet_) {
        PLINTH_RETURN_IF_ERROR(parquet_->Append(Rows(chunk, begin, pred)));
      } else {
        Write(chunk, begin, pred);
        PLINTH_RETURN_IF_ERROR(writer_->Append(out_));
      }
    }
    rows_ += n;
    progress_.SetItems(rows_);
    return Status::Ok();
  }

  // After a successful scan, which always calls Begin (a header and no rows too).
  Status Commit() { return parquet_ ? parquet_->Commit() : writer_->Commit(); }

  int64_t rows() const { return rows_; }

 private:
  // Parquet out: the kept columns as read, `prediction` (the label, or the value) and the
  // classes' probabilities.
  Status BeginParquet(const table::Schema& schema) {
    std::vector<table::Field> fields;
    for (const std::string& name : options_.keep_columns) {
      std::optional<size_t> at = schema.IndexOf(name);
      if (!at) {
        return InvalidArgument("--keep-columns: no column \"" + name + "\" in " + options_.input);
      }
      keep_.push_back(*at);
      fields.push_back(schema.field(*at));
    }
    const bool regression = predictor_.task() == ml::Task::kRegression;
    fields.push_back(
        {"prediction", regression ? table::DataType::kFloat64 : table::DataType::kString});
    if (!regression) {
      for (const std::string& label : predictor_.class_labels()) {
        fields.push_back({"probability_" + label, table::DataType::kFloat64});
      }
    }
    out_schema_ = table::Schema(std::move(fields));
    PLINTH_ASSIGN_OR_RETURN(table::ParquetWriter w,
                            table::ParquetWriter::Open(options_.output, out_schema_));
    parquet_.emplace(std::move(w));
    return Status::Ok();
  }

  // The output rows for the rows of `chunk` from `first` that `pred` predicts.
  table::Table Rows(const table::Table& chunk, int64_t first, const ml::Prediction& pred) {
    std::vector<table::Column> cols;
    for (size_t c : keep_) {
      cols.emplace_back(chunk.column(c).type());
      cols.back().AppendRange(chunk.column(c), first, pred.rows);
    }
    const auto k = static_cast<size_t>(pred.num_classes);
    const std::vector<std::string>& labels = predictor_.class_labels();
    if (pred.task == ml::Task::kRegression) {
      cols.emplace_back(table::DataType::kFloat64);
      for (int64_t i = 0; i < pred.rows; ++i) {
        cols.back().AppendDouble(pred.values[static_cast<size_t>(i)]);
      }
    } else {
      cols.emplace_back(table::DataType::kString);
      for (int64_t i = 0; i < pred.rows; ++i) {
        cols.back().AppendString(labels[static_cast<size_t>(pred.classes[static_cast<size_t>(i)])]);
      }
      for (size_t c = 0; c < k; ++c) {
        cols.emplace_back(table::DataType::kFloat64);
        for (int64_t i = 0; i < pred.rows; ++i) {
          cols.back().AppendDouble(pred.proba[static_cast<size_t>(i) * k + c]);
        }
      }
    }
    return table::Table(out_schema_, std::move(cols));
  }

  // The CSV text of the rows of `chunk` from `first` that `pred` predicts.
  void Write(const table::Table& chunk, int64_t first, const ml::Prediction& pred) {
    out_.clear();
    const auto k = static_cast<size_t>(pred.num_classes);
    for (int64_t i = 0; i < pred.rows; ++i) {
      const int64_t r = first + i;
      for (size_t c : keep_) {
        const table::Column& col = chunk.column(c);
        if (col.IsNull(r)) {
          // empty: missing
        } else if (col.type() == table::DataType::kString) {
          table::AppendCsvField(out_, col.GetString(r), csv_);
        } else {
          out_ += col.FormatValue(r);  // a model input, as its type reads it
        }
        out_ += ',';
      }
      const auto row = static_cast<size_t>(i);
      if (pred.task == ml::Task::kRegression) {
        table::AppendDouble(out_, pred.values[row]);
      } else {
        out_ += labels_[static_cast<size_t>(pred.classes[row])];
        for (size_t c = 0; c < k; ++c) {
          out_ += ',';
          table::AppendDouble(out_, pred.proba[row * k + c]);
        }
      }
      out_ += '\n';
    }
  }

  const ml::Predictor& predictor_;
  const BatchOptions& options_;
  core::Progress& progress_;
  table::CsvWriteOptions csv_;
  std::optional<core::AtomicFileWriter> writer_;
  std::optional<table::ParquetWriter> parquet_;  // instead, for a .parquet output
  table::Schema out_schema_;
  std::vector<size_t> keep_;
  std::vector<std::string> labels_;  // as CSV fields
  std::string out_;
  int64_t rows_ = 0;
};

}  // namespace

Result<BadRows> ParseBadRows(std::string_view text) {
  if (text == "error") {
    return BadRows::kError;
  }
  if (text == "skip") {
    return BadRows::kSkip;
  }
  if (text == "null") {
    return BadRows::kNull;
  }
  return InvalidArgument("--on-bad-rows: expected error, skip or null, got \"" + std::string(text) +
                         "\"");
}

Result<BatchSummary> ScoreCsvFile(const ml::Predictor& predictor, const BatchOptions& options) {
  const int64_t start = core::SystemClock().MonotonicMicros();
  table::CsvOptions csv;
  csv.threads = options.threads;
  csv.null_values = options.null_values;
  csv.types_source = "the model's input schema";
  for (const table::Field& field : predictor.input_schema().fields()) {
    csv.types[field.name] = field.type;
  }
  csv.other_columns_type = table::DataType::kString;  // kept as read; never re-typed
  switch (options.on_bad_rows) {
    case BadRows::kError:
      csv.on_bad_lines = table::BadLines::kError;
      csv.on_bad_values = table::BadValues::kError;
      break;
    case BadRows::kSkip:
      csv.on_bad_lines = table::BadLines::kSkip;
      csv.on_bad_values = table::BadValues::kSkip;
      break;
    case BadRows::kNull:
      csv.on_bad_lines = table::BadLines::kSkip;
      csv.on_bad_values = table::BadValues::kNull;
      break;
  }
  if (options.shard_count > 1 && table::IsParquetPath(options.input)) {
    return InvalidArgument("--shard: " + options.input +
                           " is Parquet; shards are byte ranges of a CSV file");
  }
  // Partial outputs of earlier runs that were killed (a running one's stays locked).
  PLINTH_RETURN_IF_ERROR(core::RemoveStaleAtomicWrites(options.output).status());
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(options.input, ec));
  if (options.shard_count > 1 && !ec) {
    csv.range_begin = size * options.shard_index / options.shard_count;
    csv.range_end = size * (options.shard_index + 1) / options.shard_count;
  }
  // The bar counts bytes of the file as stored (compressed for gzip), which is
  // what the reader reports; the range's for a shard.
  core::Progress progress(
      "scoring " + options.input,
      ec ? 0 : (options.shard_count > 1 ? csv.range_end - csv.range_begin : size),
      options.progress);
  progress.set_items_name("rows");
  csv.progress_bar = &progress;
  ScoringConsumer consumer(predictor, options, progress);
  PLINTH_ASSIGN_OR_RETURN(table::CsvInfo info, table::ScanTable(options.input, csv, consumer));
  PLINTH_RETURN_IF_ERROR(consumer.Commit());
  progress.Finish();
  BatchSummary summary;
  summary.rows = consumer.rows();
  summary.skipped_rows = info.skipped_lines;
  summary.missing_values = info.null_values;
  summary.examples = std::move(info.skipped_messages);
  summary.bytes = info.bytes;
  summary.seconds = static_cast<double>(core::SystemClock().MonotonicMicros() - start) / 1e6;
  return summary;
}

}  // namespace plinth::serving
