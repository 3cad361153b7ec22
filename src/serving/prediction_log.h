// The prediction log of `plinth serve`: every scored row, with its request id,
// the model version, the latency, its features and its prediction, and every
// piece of ground truth sent to POST /feedback, appended to JSON Lines segment
// files (docs/FORMATS.md, "Prediction log") that the monitoring work reads.
//
// Requests never wait for the disk: Append moves the request's rows and
// prediction onto a bounded queue and returns; one writer thread formats and
// writes them. When the queue is full the record is dropped and counted, and
// the request is answered all the same. A segment is written as
// NAME.jsonl.partial and renamed to NAME.jsonl when it is closed (full, or at
// shutdown), so a file without the suffix is complete and never changes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "ml/bundle.h"
#include "table/table.h"

namespace plinth::serving {

struct PredictionLogOptions {
  std::string dir;                             // created if missing
  int64_t max_queued_rows = 1 << 20;           // rows waiting for the writer
  int64_t segment_bytes = int64_t{64} << 20;   // a segment is closed past this size
  int64_t flush_interval_ms = 1000;            // the writer flushes at least this often
};

// One request's rows as the model scored them.
struct PredictionRecord {
  std::string request_id;
  int64_t time_micros = 0;  // when the answer was ready (since the epoch)
  double latency_ms = 0;
  std::string route;
  std::shared_ptr<const ml::Predictor> predictor;  // labels and column types
  std::string model_name;
  std::string model_version;
  table::Table rows;
  ml::Prediction prediction;
};

// Ground truth for one row of an earlier request.
struct FeedbackRecord {
  std::string request_id;
  int64_t row = 0;
  std::string label;  // the true class label, or the value as text (regression)
  int64_t time_micros = 0;
};

class PredictionLog {
 public:
  // Creates `options.dir` and starts the writer. Fails naming the directory.
  static Result<std::unique_ptr<PredictionLog>> Open(PredictionLogOptions options);
  // Writes what is queued, closes the segments and stops the writer.
  ~PredictionLog();
  PredictionLog(const PredictionLog&) = delete;
  PredictionLog& operator=(const PredictionLog&) = delete;

  // Queues the record; false (and counted as dropped) when the queue is full.
  // Never blocks on the disk.
  bool Append(PredictionRecord record);
  bool Append(FeedbackRecord record);

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
    FILE* file = nullptr;
    int64_t bytes = 0;
    int sequence = 0;
  };
  bool Enqueue(PredictionRecord* prediction, FeedbackRecord* feedback, int64_t rows);
  void Run(const std::stop_token& stop);
  void Write(Segment& segment, const std::string& text);
  void Close(Segment& segment);

  struct Item {
    std::unique_ptr<PredictionRecord> prediction;
    std::unique_ptr<FeedbackRecord> feedback;
    int64_t rows = 0;
  };

  PredictionLogOptions options_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::condition_variable flushed_cv_;
  std::deque<Item> queue_;     // guarded by mu_
  int64_t queued_rows_ = 0;    // guarded by mu_
  uint64_t enqueued_ = 0;      // guarded by mu_: items ever queued
  uint64_t done_ = 0;          // guarded by mu_: items written and flushed
  Segment predictions_{"predictions"};
  Segment feedback_{"feedback"};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> errors_{0};
  std::jthread writer_;  // last: stopped and joined first
};

}  // namespace plinth::serving
