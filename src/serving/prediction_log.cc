#include "serving/prediction_log.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "table/column.h"

namespace plinth::serving {
namespace {

using core::JsonWriter;

// Appends `v` as JSON: the shortest text that reads back the same; null for
// NaN and infinities.
void AppendNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

// Appends `s` as a JSON string: as it is when nothing in it needs escaping
// (the common case), else through JsonWriter (escapes, invalid UTF-8 replaced).
void AppendString(std::string* out, std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') {
      JsonWriter(out).String(s);
      return;
    }
  }
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

void AppendValue(std::string* out, const table::Column& col, int64_t r) {
  if (col.IsNull(r)) {
    out->append("null");
    return;
  }
  const auto i = static_cast<size_t>(r);
  switch (col.type()) {
    case table::DataType::kInt64:
      AppendInt(out, col.ints()[i]);
      return;
    case table::DataType::kFloat64:
      AppendNumber(out, col.doubles()[i]);
      return;
    case table::DataType::kBool:
      out->append(col.bools()[i] != 0 ? "true" : "false");
      return;
    case table::DataType::kString:
      AppendString(out, col.GetString(r));
      return;
    case table::DataType::kTimestamp:
      AppendString(out, core::FormatIsoMicros(col.ints()[i]));
      return;
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
    return IoError("cannot create the prediction log directory " + options.dir +
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

std::shared_ptr<const PredictionLog::Rendered> PredictionLog::RenderedFor(
    const std::shared_ptr<const ml::Predictor>& p) {
  std::lock_guard<std::mutex> lock(rendered_mu_);
  if (rendered_ == nullptr || rendered_->predictor != p) {
    const ml::Predictor& predictor = *p;
    auto r = std::make_shared<Rendered>();
    r->predictor = p;
    for (const table::Field& f : predictor.input_schema().fields()) {
      std::string key = r->keys.empty() ? "" : ",";
      AppendString(&key, f.name);
      r->keys.push_back(key + ":");
    }
    for (const std::string& label : predictor.class_labels()) {
      std::string q;
      AppendString(&q, label);
      r->labels.push_back(std::move(q));
    }
    rendered_ = std::move(r);
  }
  return rendered_;
}

// One JSON line per row (docs/FORMATS.md): the metadata every row of the
// request shares is rendered once, then each row's number, values and prediction.
bool PredictionLog::Append(const PredictionRecord& rec) {
  const ml::Prediction& p = *rec.prediction;
  std::shared_ptr<const Rendered> r = RenderedFor(rec.predictor);
  std::string head = "{\"time\":";
  AppendString(&head, core::FormatIsoMicros(rec.time_micros));
  head += ",\"request_id\":";
  AppendString(&head, rec.request_id);
  head += ",\"row\":";
  std::string meta = ",\"model\":";
  AppendString(&meta, rec.model_name);
  meta += ",\"model_version\":";
  AppendString(&meta, rec.model_version);
  meta += ",\"route\":";
  AppendString(&meta, rec.route);
  meta += ",\"latency_ms\":";
  AppendNumber(&meta, rec.latency_ms);
  meta += ",\"features\":{";
  std::vector<const table::Column*> columns;
  for (const table::Field& f : rec.predictor->input_schema().fields()) {
    columns.push_back(rec.rows->ColumnByName(f.name));
  }
  const auto k = static_cast<size_t>(p.num_classes);
  std::string text;
  text.reserve(static_cast<size_t>(p.rows) * (head.size() + meta.size() + 32 * columns.size()));
  for (int64_t row = 0; row < p.rows; ++row) {
    const auto i = static_cast<size_t>(row);
    text += head;
    AppendInt(&text, row);
    text += meta;
    for (size_t c = 0; c < columns.size(); ++c) {
      text += r->keys[c];
      if (columns[c] == nullptr) {
        text += "null";
      } else {
        AppendValue(&text, *columns[c], row);
      }
    }
    text += "},\"prediction\":";
    if (p.task == ml::Task::kRegression) {
      AppendNumber(&text, p.values[i]);
    } else {
      text += r->labels[static_cast<size_t>(p.classes[i])];
      text += ",\"probabilities\":{";
      for (size_t c = 0; c < k; ++c) {
        if (c > 0) {
          text += ',';
        }
        text += r->labels[c];
        text += ':';
        AppendNumber(&text, p.proba[i * k + c]);
      }
      text += '}';
    }
    text += "}\n";
  }
  return Enqueue(std::move(text), false, p.rows);
}

bool PredictionLog::Append(const FeedbackRecord& rec) {
  std::string text;
  FormatFeedback(rec, &text);
  return Enqueue(std::move(text), true, 1);
}

bool PredictionLog::Enqueue(std::string text, bool feedback, int64_t rows) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_rows_ + rows > options_.max_queued_rows) {
      dropped_.fetch_add(static_cast<uint64_t>(rows), std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(Item{std::move(text), feedback, rows});
    queued_rows_ += rows;
    ++enqueued_;
    // The writer wakes on its own every flush interval; waking it for every
    // request would cost a context switch per request. Only a queue filling
    // up calls it early.
    if (queued_rows_ < options_.max_queued_rows / 4) {
      return true;
    }
  }
  cv_.notify_one();
  return true;
}

void PredictionLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = enqueued_;
  flush_wanted_ = true;
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
                   [&] { return queued_rows_ >= options_.max_queued_rows / 4 || flush_wanted_; });
      flush_wanted_ = false;
      batch.swap(queue_);
      queued_rows_ = 0;
    }
    std::string feedback;
    text.clear();
    int64_t rows = 0;
    for (const Item& item : batch) {
      if (item.feedback) {
        feedback += item.text;
      } else {
        text += item.text;
        rows += item.rows;
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
    s.path = options_.dir + "/" + s.prefix + "-" + compact + "Z-" + std::to_string(getpid()) + "-" +
             seq + ".jsonl";
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
