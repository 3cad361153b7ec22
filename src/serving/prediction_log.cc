#include "serving/prediction_log.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/clock.h"
#include "core/confined_dir.h"
#include "core/file.h"
#include "core/json.h"
#include "table/column.h"
#include "table/string_index.h"

namespace plinth::serving {
namespace {

using core::JsonWriter;

// Appends string column `col` as {"dictionary": [distinct values, in the
// order they first appear], "indices": [per row, its value's index, or null]}
// and returns true when that is shorter than the plain array (counted in bytes,
// as written unescaped); else appends nothing and returns false.
bool AppendDictionary(core::JsonAppender& a, const table::Column& col, size_t rows) {
  // Buffers the thread keeps: no allocation per request.
  thread_local table::StringIndex distinct;
  thread_local std::vector<int32_t> code;
  distinct.Clear();
  code.resize(rows);
  const bool has_nulls = col.null_count() > 0;
  size_t plain_bytes = 2;
  size_t dict_bytes = 30;  // the object's keys and brackets
  for (size_t i = 0; i < rows; ++i) {
    const auto r = static_cast<int64_t>(i);
    if (has_nulls && col.IsNull(r)) {
      code[i] = -1;
      plain_bytes += 5;
      dict_bytes += 5;
      continue;
    }
    const std::string_view v = col.GetString(r);
    const size_t len = v.size() + 3;  // quotes and a comma
    plain_bytes += len;
    bool added = false;
    const int32_t c = distinct.Add(v, &added);
    if (added) {
      dict_bytes += len;
    }
    code[i] = c;
    dict_bytes += c < 10 ? 2 : c < 100 ? 3 : c < 1000 ? 4 : 6;
  }
  if (dict_bytes >= plain_bytes) {
    return false;
  }
  a.Raw("{\"dictionary\":[");
  for (size_t d = 0; d < distinct.size(); ++d) {
    if (d > 0) {
      a.Char(',');
    }
    a.String(distinct.Get(static_cast<int32_t>(d)));
  }
  a.Raw("],\"indices\":[");
  constexpr size_t kMaxIndexChars = 11;  // ",2147483647"
  char* p = a.Claim(rows * kMaxIndexChars);
  for (size_t i = 0; i < rows; ++i) {
    if (i > 0) {
      *p++ = ',';
    }
    const int32_t c = code[i];
    if (c < 0) {
      std::memcpy(p, "null", 4);
      p += 4;
    } else if (c < 10) {
      *p++ = static_cast<char>('0' + c);
    } else {
      p = std::to_chars(p, p + kMaxIndexChars, c).ptr;
    }
  }
  a.Commit(p);
  a.Raw("]}");
  return true;
}

// Appends column `c` of `t` (or, when `c` is nullopt, a column the request did
// not send: all null), its `rows` values as a JSON array with null for missing
// values. Each type has a loop of its own; a string column whose bytes are all
// plain (the common case, checked once for the column) has its values copied
// without a check each, and goes as its distinct values and an index per row
// when that is shorter (docs/FORMATS.md): categorical columns, whose values
// repeat, then take a fraction of the bytes.
void AppendColumn(core::JsonAppender& a, const table::Table& t, std::optional<size_t> c,
                  size_t rows) {
  const table::Column* col = c ? &t.column(*c) : nullptr;
  // The array written through one pointer: `bound` is the most all the values
  // take, and write(p, i) writes row i's value at p, returning its end.
  auto each = [&](size_t bound, auto&& write) {
    char* p = a.Claim(bound + rows * 5 + 2);  // commas, nulls, brackets
    *p++ = '[';
    for (size_t i = 0; i < rows; ++i) {
      if (i > 0) {
        *p++ = ',';
      }
      if (col == nullptr || (col->null_count() > 0 && col->IsNull(static_cast<int64_t>(i)))) {
        std::memcpy(p, "null", 4);
        p += 4;
      } else {
        p = write(p, i);
      }
    }
    *p++ = ']';
    a.Commit(p);
  };
  auto quoted = [](char* p, std::string_view v) {
    *p++ = '"';
    std::memcpy(p, v.data(), v.size());  // v.data() is never null (a string's or the column's)
    p += v.size();
    *p++ = '"';
    return p;
  };
  if (col == nullptr) {
    return each(0, [](char* p, size_t) { return p; });
  }
  switch (col->type()) {
    case table::DataType::kInt64:
      return each(rows * 20,
                  [&](char* p, size_t i) { return std::to_chars(p, p + 20, col->ints()[i]).ptr; });
    case table::DataType::kFloat64:
      return each(rows * core::kMaxJsonDoubleChars,
                  [&](char* p, size_t i) { return core::WriteJsonDouble(p, col->doubles()[i]); });
    case table::DataType::kBool:
      return each(rows * 5, [&](char* p, size_t i) {
        const bool b = col->bools()[i] != 0;
        std::memcpy(p, b ? "true" : "false", b ? 4 : 5);
        return p + (b ? 4 : 5);
      });
    case table::DataType::kString: {
      if (rows >= 2 && AppendDictionary(a, *col, rows)) {
        return;
      }
      if (core::IsPlainJsonString(col->chars())) {
        return each(col->chars().size() + 2 * rows, [&](char* p, size_t i) {
          return quoted(p, col->GetString(static_cast<int64_t>(i)));
        });
      }
      // Bytes that need escaping: value by value through the appender.
      a.Char('[');
      for (size_t i = 0; i < rows; ++i) {
        if (i > 0) {
          a.Char(',');
        }
        if (col->null_count() > 0 && col->IsNull(static_cast<int64_t>(i))) {
          a.Raw("null");
        } else {
          a.String(col->GetString(static_cast<int64_t>(i)));
        }
      }
      a.Char(']');
      return;
    }
    case table::DataType::kTimestamp:
      return each(rows * 66, [&](char* p, size_t i) {  // FormatIsoMicros: at most 63 bytes
        return quoted(p, core::FormatIsoMicros(col->ints()[i]));
      });
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

Result<std::string> DefaultLogDir(std::string_view project_root, std::string_view model_name) {
  if (Status s = core::CheckPathComponent(model_name, "model name"); !s.ok()) {
    return InvalidArgument(s.message() +
                           " (it names the prediction log's directory under .plinth/monitoring; "
                           "pass --prediction-log DIR or off)");
  }
  std::string dir = project_root.empty() ? std::string() : std::string(project_root) + "/";
  return dir + ".plinth/monitoring/" + std::string(model_name);
}

Result<std::unique_ptr<PredictionLog>> PredictionLog::Open(PredictionLogOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec || !std::filesystem::is_directory(options.dir)) {
    return IoError("cannot create the prediction log directory " + options.dir +
                   (ec ? ": " + ec.message() : ""));
  }
  std::unique_ptr<PredictionLog> log(new PredictionLog(std::move(options)));
  log->writer_ = std::thread([raw = log.get()] { raw->Run(); });
  return log;
}

PredictionLog::~PredictionLog() {
  {
    core::MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  writer_.join();
}

std::shared_ptr<const PredictionLog::Rendered> PredictionLog::RenderedFor(
    const std::shared_ptr<const ml::Predictor>& p) {
  core::MutexLock lock(rendered_mu_);
  // The last two models (the served one and a shadow take turns), the latest first.
  if (rendered_[1] != nullptr && rendered_[1]->predictor == p) {
    std::swap(rendered_[0], rendered_[1]);
  }
  if (rendered_[0] == nullptr || rendered_[0]->predictor != p) {
    const ml::Predictor& predictor = *p;
    auto r = std::make_shared<Rendered>();
    r->predictor = p;
    for (const table::Field& f : predictor.input_schema().fields()) {
      std::string key = r->keys.empty() ? "" : ",";
      core::AppendJsonString(&key, f.name);
      r->keys.push_back(key + ":");
    }
    for (const std::string& label : predictor.class_labels()) {
      std::string q;
      core::AppendJsonString(&q, label);
      r->labels.push_back(std::move(q));
    }
    rendered_[1] = std::move(rendered_[0]);
    rendered_[0] = std::move(r);
  }
  return rendered_[0];
}

namespace {

// "predictions":[...] and, for a classifier, ,"probabilities":{...} of `p`, its class
// labels quoted in `labels`.
void AppendOutputs(core::JsonAppender& a, const ml::Prediction& p,
                   const std::vector<std::string>& labels) {
  const auto rows = static_cast<size_t>(p.rows);
  const auto k = static_cast<size_t>(p.num_classes);
  a.Raw("\"predictions\":[");
  for (size_t i = 0; i < rows; ++i) {
    if (i > 0) {
      a.Char(',');
    }
    if (p.task == ml::Task::kRegression) {
      a.Float(static_cast<float>(p.values[i]));
    } else {
      a.Raw(labels[static_cast<size_t>(p.classes[i])]);
    }
  }
  a.Char(']');
  if (p.task == ml::Task::kRegression) {
    return;
  }
  // A binary model's first class is 1 minus the second (Predictor::FromOutputs): the
  // second alone says it all, in half the bytes.
  a.Raw(",\"probabilities\":{");
  for (size_t c = p.task == ml::Task::kBinary ? 1 : 0; c < k; ++c) {
    if (c > 0 && p.task != ml::Task::kBinary) {
      a.Char(',');
    }
    a.Raw(labels[c]);
    a.Raw(":[");
    char* q = a.Claim(rows * (core::kMaxJsonDoubleChars + 1));
    for (size_t i = 0; i < rows; ++i) {
      if (i > 0) {
        *q++ = ',';
      }
      q = core::WriteJsonFloat(q, static_cast<float>(p.proba[i * k + c]));
    }
    a.Commit(q);
    a.Char(']');
  }
  a.Char('}');
}

}  // namespace

// One JSON line per request (docs/FORMATS.md), its rows in columns: the names
// are written once, then each column's values. Predicted values and
// probabilities are the model's float32 outputs, written as floats: half the
// digits of the same value written as a double.
bool PredictionLog::Append(const PredictionRecord& rec) {
  const ml::Prediction& p = *rec.prediction;
  std::shared_ptr<const Rendered> r = RenderedFor(rec.predictor);
  const std::vector<table::Field>& fields = rec.predictor->input_schema().fields();
  const auto rows = static_cast<size_t>(p.rows);
  const auto k = static_cast<size_t>(p.num_classes);
  std::string text = std::move(SpareBuffer());
  size_t size = 0;
  {
    core::JsonAppender a(&text, core::JsonAppender::Overwrite{});
    a.Reserve(256 + rows * (fields.size() * 12 + k * 24 + 16));
    const std::string time = core::FormatIsoMicros(rec.time_micros);
    const std::pair<std::string_view, std::string_view> texts[] = {
        {"{\"time\":", time},
        {",\"request_id\":", rec.request_id},
        {",\"model\":", rec.model_name},
        {",\"model_version\":", rec.model_version},
        {",\"route\":", rec.route}};
    for (const auto& [key, value] : texts) {
      a.Raw(key);
      a.String(value);
    }
    if (rec.canary) {
      a.Raw(",\"role\":\"canary\"");
    }
    a.Raw(",\"latency_ms\":");
    a.Double(rec.latency_ms);
    a.Raw(",\"rows\":");
    a.Int(p.rows);
    a.Raw(",\"features\":{");
    for (size_t c = 0; c < fields.size(); ++c) {
      a.Raw(r->keys[c]);
      AppendColumn(a, *rec.rows, rec.rows->schema().IndexOf(fields[c].name), rows);
    }
    a.Raw("},");
    AppendOutputs(a, p, r->labels);
    if (rec.shadow != nullptr) {
      a.Raw(",\"shadow\":{\"model_version\":");
      a.String(rec.shadow_version);
      a.Raw(",\"latency_ms\":");
      a.Double(rec.shadow_latency_ms);
      a.Char(',');
      AppendOutputs(a, *rec.shadow, RenderedFor(rec.shadow_predictor)->labels);
      a.Char('}');
    }
    a.Raw("}\n");
    size = a.Release();
  }
  return Enqueue(std::move(text), size, false, p.rows);
}

bool PredictionLog::Append(const FailureRecord& rec) {
  std::string text;
  JsonWriter w(&text);
  w.BeginObject()
      .Field("time", core::FormatIsoMicros(rec.time_micros))
      .Field("request_id", rec.request_id)
      .Field("model", rec.model_name)
      .Field("model_version", rec.model_version);
  if (rec.canary) {
    w.Field("role", "canary");
  }
  w.Field("route", rec.route)
      .Key("latency_ms")
      .Double(rec.latency_ms)
      .Key("status")
      .Int(rec.status)
      .Key("rows")
      .Int(0)
      .EndObject();
  text.push_back('\n');
  const size_t size = text.size();
  return Enqueue(std::move(text), size, false, 1);
}

bool PredictionLog::Append(const FeedbackRecord& rec) {
  std::string text;
  FormatFeedback(rec, &text);
  const size_t size = text.size();
  return Enqueue(std::move(text), size, true, 1);
}

// The calling thread's next line buffer: a string the writer has written out
// and handed back, so that formatting allocates nothing and no thread frees
// what another allocated (which costs glibc a lock on the allocating thread's
// arena, a lock that thread's own allocations then wait for).
std::string& PredictionLog::SpareBuffer() {
  thread_local std::string spare;
  return spare;
}

bool PredictionLog::Enqueue(std::string text, size_t size, bool feedback, int64_t rows) {
  {
    core::MutexLock lock(mu_);
    if (queued_rows_ + rows > options_.max_queued_rows) {
      dropped_.fetch_add(static_cast<uint64_t>(rows), std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(Item{std::move(text), size, feedback, rows});
    queued_rows_ += rows;
    ++enqueued_;
    if (!spare_.empty()) {
      spare_bytes_ -= spare_.back().capacity();
      SpareBuffer() = std::move(spare_.back());
      spare_.pop_back();
    }
    // The writer wakes on its own every flush interval; waking it for every
    // request would cost a context switch per request. Only a queue filling
    // up calls it early.
    if (queued_rows_ < options_.max_queued_rows / 4) {
      return true;
    }
  }
  cv_.NotifyOne();
  return true;
}

void PredictionLog::Flush() {
  core::MutexLock lock(mu_);
  const uint64_t target = enqueued_;
  flush_wanted_ = true;
  cv_.NotifyOne();
  while (done_ < target) {
    flushed_cv_.Wait(mu_);
  }
}

void PredictionLog::Run() {
  std::deque<Item> batch;
  std::vector<std::string_view> predictions;
  std::vector<std::string_view> feedback;
  while (true) {
    {
      core::MutexLock lock(mu_);
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.flush_interval_ms);
      while (!stopping_ && queued_rows_ < options_.max_queued_rows / 4 && !flush_wanted_ &&
             cv_.WaitUntil(mu_, deadline)) {
      }
      flush_wanted_ = false;
      batch.swap(queue_);
      queued_rows_ = 0;
    }
    predictions.clear();
    feedback.clear();
    int64_t rows = 0;
    for (const Item& item : batch) {
      if (item.feedback) {
        feedback.push_back(item.line());
      } else {
        predictions.push_back(item.line());
        rows += item.rows;
      }
    }
    // Each request's text goes to the kernel as it is (writev), not copied into one buffer.
    Write(predictions_, predictions);
    Write(feedback_, feedback);
    Settle(predictions_);
    Settle(feedback_);
    written_.fetch_add(static_cast<uint64_t>(rows), std::memory_order_relaxed);
    {
      core::MutexLock lock(mu_);
      done_ += batch.size();
      for (Item& item : batch) {
        const size_t capacity = item.text.capacity();
        if (capacity <= kSpareBufferBytes && spare_bytes_ + capacity <= kSpareBytes) {
          spare_bytes_ += capacity;
          spare_.push_back(std::move(item.text));
        }
      }
    }
    flushed_cv_.NotifyAll();
    batch.clear();
    core::MutexLock lock(mu_);
    if (stopping_ && queue_.empty()) {
      break;
    }
  }
  Close(predictions_);
  Close(feedback_);
}

namespace {

// Writes all of `iov[0..n)` to `fd`, going on after short writes and signals.
bool WriteFully(int fd, iovec* iov, int n) {
  while (n > 0) {
    const ssize_t w = ::writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    auto left = static_cast<size_t>(w);
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

}  // namespace

bool PredictionLog::OpenSegment(Segment& s) {
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
  s.fd = ::open((s.path + ".partial").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  s.bytes = 0;
  s.submitted = 0;
  s.dropped = 0;
  return s.fd >= 0;
}

void PredictionLog::Write(Segment& s, const std::vector<std::string_view>& texts) {
  constexpr int kMaxIov = 512;  // below every system's IOV_MAX
  iovec iov[kMaxIov];
  size_t next = 0;
  while (next < texts.size()) {
    if (s.fd < 0 && !OpenSegment(s)) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // As many texts as fit in the segment (at least one), then the segment is closed.
    int n = 0;
    int64_t bytes = 0;
    while (next < texts.size() && n < kMaxIov &&
           (n == 0 || s.bytes + bytes < options_.segment_bytes)) {
      const std::string_view t = texts[next++];
      iov[n++] = iovec{const_cast<char*>(t.data()), t.size()};
      bytes += static_cast<int64_t>(t.size());
    }
    if (!WriteFully(s.fd, iov, n)) {
      errors_.fetch_add(1, std::memory_order_relaxed);
    }
    s.bytes += bytes;
    if (s.bytes >= options_.segment_bytes) {
      Close(s);
    }
  }
}

// Left to itself the kernel keeps the log's pages dirty for up to 30 s, writes
// them out in bursts and keeps them cached after: at full load (100 MB/s of
// log) that grows the page cache by gigabytes and doubles the answers' p99
// (measured: 32 -> 21 ms for 100-row requests at 64 connections when the log's
// pages are settled every flush instead). What a flush wrote is submitted at
// once; what the flush before submitted has had a flush interval to reach the
// disk, is waited for (the writer, never a request, waits) and is dropped.
void PredictionLog::Settle(Segment& s) {
  if (s.fd < 0 || s.bytes == s.submitted) {
    return;
  }
  if (s.submitted > s.dropped) {
    if (::sync_file_range(s.fd, s.dropped, s.submitted - s.dropped,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                              SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
      errors_.fetch_add(1, std::memory_order_relaxed);
    }
    ::posix_fadvise(s.fd, s.dropped, s.submitted - s.dropped, POSIX_FADV_DONTNEED);
    s.dropped = s.submitted;
  }
  if (::sync_file_range(s.fd, s.submitted, s.bytes - s.submitted, SYNC_FILE_RANGE_WRITE) != 0) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  s.submitted = s.bytes;
}

void PredictionLog::Close(Segment& s) {
  if (s.fd < 0) {
    return;
  }
  const bool synced = ::fsync(s.fd) == 0;
  ::posix_fadvise(s.fd, 0, 0, POSIX_FADV_DONTNEED);  // on disk now: out of the page cache
  const bool closed = ::close(s.fd) == 0;
  s.fd = -1;
  if (!synced || !closed || std::rename((s.path + ".partial").c_str(), s.path.c_str()) != 0) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace plinth::serving
