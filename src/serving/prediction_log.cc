#include "serving/prediction_log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "table/column.h"

namespace plinth::serving {
namespace {

using core::JsonWriter;

void WriteValue(JsonWriter& w, const table::Column& col, int64_t r) {
  if (col.IsNull(r)) {
    w.Null();
    return;
  }
  switch (col.type()) {
    case table::DataType::kInt64:
      w.Int(col.ints()[static_cast<size_t>(r)]);
      return;
    case table::DataType::kFloat64:
      w.Double(col.doubles()[static_cast<size_t>(r)]);
      return;
    case table::DataType::kBool:
      w.Bool(col.bools()[static_cast<size_t>(r)] != 0);
      return;
    case table::DataType::kString:
      w.String(col.GetString(r));
      return;
    case table::DataType::kTimestamp:
      w.String(core::FormatIsoMicros(col.ints()[static_cast<size_t>(r)]));
      return;
  }
}

// One JSON line per row of `rec` (docs/FORMATS.md).
void FormatPrediction(const PredictionRecord& rec, std::string* out) {
  const std::string time = core::FormatIsoMicros(rec.time_micros);
  const ml::Prediction& p = rec.prediction;
  const std::vector<std::string>& labels = rec.predictor->class_labels();
  const table::Schema& schema = rec.predictor->input_schema();
  std::vector<const table::Column*> columns;
  for (const table::Field& f : schema.fields()) {
    columns.push_back(rec.rows.ColumnByName(f.name));
  }
  for (int64_t r = 0; r < p.rows; ++r) {
    JsonWriter w(out);
    w.BeginObject()
        .Field("time", time)
        .Field("request_id", rec.request_id)
        .Key("row")
        .Int(r)
        .Field("model", rec.model_name)
        .Field("model_version", rec.model_version)
        .Field("route", rec.route)
        .Key("latency_ms")
        .Double(rec.latency_ms)
        .Key("features")
        .BeginObject();
    for (size_t c = 0; c < columns.size(); ++c) {
      w.Key(schema.fields()[c].name);
      if (columns[c] == nullptr) {
        w.Null();
      } else {
        WriteValue(w, *columns[c], r);
      }
    }
    w.EndObject().Key("prediction");
    const auto row = static_cast<size_t>(r);
    if (p.task == ml::Task::kRegression) {
      w.Double(p.values[row]);
    } else {
      w.String(labels[static_cast<size_t>(p.classes[row])]);
      w.Key("probabilities").BeginObject();
      const auto k = static_cast<size_t>(p.num_classes);
      for (size_t c = 0; c < k; ++c) {
        w.Key(labels[c]).Double(p.proba[row * k + c]);
      }
      w.EndObject();
    }
    w.EndObject();
    out->push_back('\n');
  }
}

void FormatFeedback(const FeedbackRecord& rec, std::string* out) {
  JsonWriter w(out);
  w.BeginObject()
      .Field("time", core::FormatIsoMicros(rec.time_micros))
      .Field("request_id", rec.request_id)
      .Key("row")
      .Int(rec.row)
      .Field("label", rec.label)
      .EndObject();
  out->push_back('\n');
}

}  // namespace

Result<std::unique_ptr<PredictionLog>> PredictionLog::Open(PredictionLogOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec || !std::filesystem::is_directory(options.dir)) {
    return IoError("prediction log: cannot create the directory " + options.dir +
                   (ec ? ": " + ec.message() : ""));
  }
  std::unique_ptr<PredictionLog> log(new PredictionLog(std::move(options)));
  log->writer_ = std::jthread([raw = log.get()](const std::stop_token& stop) { raw->Run(stop); });
  return log;
}

PredictionLog::~PredictionLog() {
  writer_.request_stop();
  cv_.notify_all();
  if (writer_.joinable()) {
    writer_.join();
  }
}

bool PredictionLog::Enqueue(PredictionRecord* prediction, FeedbackRecord* feedback,
                            int64_t rows) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_rows_ + rows > options_.max_queued_rows) {
      dropped_.fetch_add(static_cast<uint64_t>(rows), std::memory_order_relaxed);
      return false;
    }
    Item item;
    if (prediction != nullptr) {
      item.prediction = std::make_unique<PredictionRecord>(std::move(*prediction));
    } else {
      item.feedback = std::make_unique<FeedbackRecord>(std::move(*feedback));
    }
    item.rows = rows;
    queue_.push_back(std::move(item));
    queued_rows_ += rows;
    ++enqueued_;
  }
  cv_.notify_one();
  return true;
}

bool PredictionLog::Append(PredictionRecord record) {
  const int64_t rows = record.prediction.rows;
  return Enqueue(&record, nullptr, rows);
}

bool PredictionLog::Append(FeedbackRecord record) { return Enqueue(nullptr, &record, 1); }

void PredictionLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = enqueued_;
  cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return done_ >= target; });
}

void PredictionLog::Run(const std::stop_token& stop) {
  std::string text;
  std::deque<Item> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, stop, std::chrono::milliseconds(options_.flush_interval_ms),
                   [&] { return !queue_.empty(); });
      batch.swap(queue_);
      queued_rows_ = 0;
    }
    std::string feedback;
    text.clear();
    int64_t rows = 0;
    for (const Item& item : batch) {
      if (item.prediction) {
        FormatPrediction(*item.prediction, &text);
        rows += item.rows;
      } else {
        FormatFeedback(*item.feedback, &feedback);
      }
    }
    if (!text.empty()) {
      Write(predictions_, text);
    }
    if (!feedback.empty()) {
      Write(feedback_, feedback);
    }
    for (Segment* s : {&predictions_, &feedback_}) {
      if (s->file != nullptr && std::fflush(s->file) != 0) {
        errors_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    written_.fetch_add(static_cast<uint64_t>(rows), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ += batch.size();
    }
    flushed_cv_.notify_all();
    batch.clear();
    if (stop.stop_requested()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) {
        break;
      }
    }
  }
  Close(predictions_);
  Close(feedback_);
}

void PredictionLog::Write(Segment& s, const std::string& text) {
  if (s.file == nullptr) {
    // predictions-20261126T221503Z-4711-000000.jsonl: sortable, unique per process.
    std::string stamp = core::FormatIsoMicros(core::SystemClock().NowMicros());
    std::string compact;
    for (char c : stamp.substr(0, 19)) {
      if (c != '-' && c != ':') {
        compact.push_back(c);
      }
    }
    char seq[16];
    std::snprintf(seq, sizeof(seq), "%06d", s.sequence++);
    s.path = options_.dir + "/" + s.prefix + "-" + compact + "Z-" + std::to_string(getpid()) +
             "-" + seq + ".jsonl";
    s.file = std::fopen((s.path + ".partial").c_str(), "ab");
    s.bytes = 0;
    if (s.file == nullptr) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  if (std::fwrite(text.data(), 1, text.size(), s.file) != text.size()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  s.bytes += static_cast<int64_t>(text.size());
  if (s.bytes >= options_.segment_bytes) {
    Close(s);
  }
}

void PredictionLog::Close(Segment& s) {
  if (s.file == nullptr) {
    return;
  }
  const bool ok = std::fflush(s.file) == 0 && fsync(fileno(s.file)) == 0;
  std::fclose(s.file);
  s.file = nullptr;
  if (!ok || std::rename((s.path + ".partial").c_str(), s.path.c_str()) != 0) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace plinth::serving
