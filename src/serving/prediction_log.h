// The prediction log of `plinth serve`: every scored request, with its request
// id, the model version, the latency, its rows' features and predictions (in
// columns), and every piece of ground truth sent to POST /feedback, appended to
// JSON Lines segment files (docs/FORMATS.md, "Prediction log") that the
// monitoring work reads.
//
// Requests never wait for the disk: Append formats the request into one line on
// the calling thread (moving the rows themselves to another thread would cost
// more, in allocations freed across threads), queues it and returns; one writer
// thread hands the queue to the kernel every flush interval, each line as it is
// (writev). When the queue is full the record is dropped and counted, and the
// request is answered all the same. A segment is written as NAME.jsonl.partial
// and renamed to NAME.jsonl when it is closed (full, or at shutdown), so a file
// without the suffix is complete and never changes.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "ml/bundle.h"
#include "table/table.h"

namespace plinth::serving {

struct PredictionLogOptions {
  std::string dir;                            // created if missing
  int64_t max_queued_rows = 1 << 20;          // rows waiting for the writer
  int64_t segment_bytes = int64_t{64} << 20;  // a segment is closed past this size
  // The writer writes and flushes this often. Its work comes in bursts (at
  // full load mostly copying the lines into the page cache, 2% of a core),
  // which take a core from the answers while they last: at 25 ms they are
  // short. 1-row p99 at 64 connections, 10 rounds of A/B: 4.2 ms mean against
  // 4.6 ms at 200 ms (docs/BENCHMARKS.md).
  int64_t flush_interval_ms = 25;
};

// One request's rows as the model scored them (everything borrowed for the
// duration of Append).
struct PredictionRecord {
  std::string_view request_id;
  int64_t time_micros = 0;  // when the answer was ready (since the epoch)
  double latency_ms = 0;
  std::string_view route;
  std::shared_ptr<const ml::Predictor> predictor;  // labels and column types
  std::string_view model_name;
  std::string_view model_version;
  const table::Table* rows = nullptr;
  const ml::Prediction* prediction = nullptr;
  bool canary = false;  // answered by a canary (plinth serve --canary): "role": "canary"
  // The shadow model's outputs on the same rows (plinth serve --shadow), or null.
  const ml::Prediction* shadow = nullptr;
  std::shared_ptr<const ml::Predictor> shadow_predictor;
  std::string_view shadow_version;
  double shadow_latency_ms = 0;
};

// A request to a scoring route answered with an error (status >= 400): logged so that
// monitoring can count the error rate (docs/FORMATS.md).
struct FailureRecord {
  std::string_view request_id;
  int64_t time_micros = 0;
  double latency_ms = 0;
  std::string_view route;
  std::string_view model_name;
  std::string_view model_version;
  bool canary = false;  // routed to a canary
  int status = 500;
};

// Ground truth for one row of an earlier request.
struct FeedbackRecord {
  std::string request_id;
  int64_t row = 0;
  std::string label;  // the true class label, or the value as text (regression)
  int64_t time_micros = 0;
};

// The default directory of `model_name`'s prediction log:
// PROJECT/.plinth/monitoring/NAME, or .plinth/monitoring/NAME when
// `project_root` is empty. kInvalidArgument when the name cannot be one
// directory name (core::CheckPathComponent: no '/', no "..", ...), so that a
// name a store accepted before that rule cannot place the log elsewhere.
Result<std::string> DefaultLogDir(std::string_view project_root, std::string_view model_name);

class PredictionLog {
 public:
  // Creates `options.dir` and starts the writer. Fails naming the directory.
  static Result<std::unique_ptr<PredictionLog>> Open(PredictionLogOptions options);
  // Writes what is queued, closes the segments and stops the writer.
  ~PredictionLog();
  PredictionLog(const PredictionLog&) = delete;
  PredictionLog& operator=(const PredictionLog&) = delete;

  // Formats and queues the record; false (and counted as dropped) when the
  // queue is full. Never blocks on the disk.
  bool Append(const PredictionRecord& record);
  bool Append(const FeedbackRecord& record);
  bool Append(const FailureRecord& record);

  // Rows dropped because the queue was full; rows written; write errors.
  uint64_t dropped_rows() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written_rows() const { return written_.load(std::memory_order_relaxed); }
  uint64_t write_errors() const { return errors_.load(std::memory_order_relaxed); }
  const std::string& dir() const { return options_.dir; }

  // Waits until everything queued so far is written and flushed (for tests
  // and shutdown).
  void Flush();

 private:
  explicit PredictionLog(PredictionLogOptions options) : options_(std::move(options)) {}

  // An open segment file of one kind ("predictions" or "feedback").
  struct Segment {
    explicit Segment(std::string p) : prefix(std::move(p)) {}
    std::string prefix;
    std::string path;  // without .partial
    int fd = -1;
    int64_t bytes = 0;
    int64_t submitted = 0;  // bytes handed to the disk (writeback started)
    int64_t dropped = 0;    // bytes on disk and dropped from the page cache
    int sequence = 0;
  };
  // The quoted column names and class labels of a model, rendered once.
  struct Rendered {
    // Held, so that no later model can take its address while it is cached.
    std::shared_ptr<const ml::Predictor> predictor;
    std::vector<std::string> keys;    // ,"name":  (no comma for the first)
    std::vector<std::string> labels;  // "label"
  };
  std::shared_ptr<const Rendered> RenderedFor(const std::shared_ptr<const ml::Predictor>& p);
  bool Enqueue(std::string text, size_t size, bool feedback, int64_t rows);
  static std::string& SpareBuffer();
  void Run();
  // Opens the segment's next file (false when it cannot be created).
  bool OpenSegment(Segment& segment);
  // Appends `texts` in order, closing the segment whenever it is full.
  void Write(Segment& segment, const std::vector<std::string_view>& texts);
  // Starts the disk write of what was appended since the last call, and drops
  // from the page cache what the call before submitted, once it is on disk.
  void Settle(Segment& segment);
  void Close(Segment& segment);

  struct Item {
    std::string text;  // JSON lines in text[0, size); a reused buffer may hold more
    size_t size = 0;
    bool feedback = false;
    int64_t rows = 0;
    std::string_view line() const { return {text.data(), size}; }
  };

  PredictionLogOptions options_;
  core::Mutex rendered_mu_;
  // The last two models', the latest first.
  std::shared_ptr<const Rendered> rendered_[2] PLINTH_GUARDED_BY(rendered_mu_);
  core::Mutex mu_;
  core::CondVar cv_;
  core::CondVar flushed_cv_;
  std::deque<Item> queue_ PLINTH_GUARDED_BY(mu_);
  // Written lines' buffers, for Append to reuse: as many as a flush interval
  // brings at full load (a 1-row request's line is a few hundred bytes; each
  // buffer not kept is freed by the writer, in the allocating thread's arena),
  // up to kSpareBytes in all, each of at most kSpareBufferBytes.
  static constexpr size_t kSpareBytes = 32 << 20;
  static constexpr size_t kSpareBufferBytes = 256 << 10;
  std::vector<std::string> spare_ PLINTH_GUARDED_BY(mu_);
  size_t spare_bytes_ PLINTH_GUARDED_BY(mu_) = 0;  // the capacity of spare_'s buffers
  int64_t queued_rows_ PLINTH_GUARDED_BY(mu_) = 0;
  uint64_t enqueued_ PLINTH_GUARDED_BY(mu_) = 0;      // items ever queued
  uint64_t done_ PLINTH_GUARDED_BY(mu_) = 0;          // items written and flushed
  bool flush_wanted_ PLINTH_GUARDED_BY(mu_) = false;  // Flush is waiting
  bool stopping_ PLINTH_GUARDED_BY(mu_) = false;      // the destructor is waiting
  Segment predictions_{"predictions"};
  Segment feedback_{"feedback"};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> errors_{0};
  std::thread writer_;  // last: stopped and joined first
};

}  // namespace plinth::serving
