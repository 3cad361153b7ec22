// plinth serve --monitor (docs/MONITORING.md): the window of recent requests kept in
// memory from what the server already has (the rows it read, the predictions it made,
// the labels sent to /feedback), never by re-reading the log; recomputed every interval
// on a background thread against the model's reference set (drift, missing shares,
// prediction and multivariate drift, latency quantiles, error rate, live and estimated
// accuracy); shown as Prometheus gauges and as JSON on GET /monitor; alert rules
// evaluated on each result, their firing and resolved states appended to alerts.jsonl in
// the log directory (read back at start, so a restart does not fire an alert twice) and
// delivered to a webhook in Alertmanager's payload by another thread, with retries.
//
// The request path only appends to the window under a lock (the request's rows encoded end
// to end, and its predictions); everything else runs off it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/mutex.h"
#include "core/status.h"
#include "http/metrics.h"
#include "ml/bundle.h"
#include "monitor/alerts.h"
#include "monitor/multivariate.h"
#include "monitor/report.h"
#include "serving/prediction_log.h"
#include "table/table.h"

namespace plinth::serving {

class LiveMonitor {
 public:
  struct Setup {
    monitor::MonitoringConfig config;
    std::shared_ptr<const ml::Predictor> model;
    table::Table reference;   // the reference set, read as the model's types
    std::string alerts_path;  // the alert history (JSON Lines), "" for none
    monitor::AlertSubject subject;
    std::function<void(const std::string&)> log;  // one line per alert or failure
  };
  static Result<std::unique_ptr<LiveMonitor>> Start(Setup setup);
  ~LiveMonitor();
  LiveMonitor(const LiveMonitor&) = delete;
  LiveMonitor& operator=(const LiveMonitor&) = delete;

  // The request path: a scored request (its rows as read, its predictions) and an error
  // answer.
  void Observe(std::string_view request_id, int64_t time_us, double latency_ms,
               const table::Table& rows, const ml::Prediction& prediction);
  void ObserveFailure(int64_t time_us, double latency_ms);
  void Feedback(const std::vector<FeedbackRecord>& records);

  // Whether `p` is the model being monitored (after a hot reload to another version, the
  // new version's requests are not: the window keeps the reference's model).
  bool Watches(const ml::Predictor* p) const { return p == setup_.model.get(); }

  // Recomputes the window now (the background thread calls it every interval).
  void Recompute();

  void RenderMetrics(http::PrometheusWriter& w) const;
  core::Json StatusJson() const;  // GET /monitor

 private:
  // The window is a queue of blocks of up to kBlockRows rows, filled by the request path
  // (no allocation per request once a block is reserved) and sealed when full or when the
  // window is recomputed; sealed blocks are shared with the computing thread, never copied.
  struct Request {
    int64_t time_us = 0;
    double latency_ms = 0;
    int64_t first_row = 0;  // in the block
    int64_t rows = 0;       // 0 for an error answer
    size_t data = 0;        // where its rows start in Block::data
    uint32_t id_offset = 0, id_size = 0;
    bool failed = false;
  };
  struct Block {
    // Each request's rows, one after the other: the model's inputs in input_schema order,
    // each as table::Column::EncodeTo writes it. One contiguous write per request: copying
    // into a column per input touched a cache line per column and cost 5% of a 1-row
    // request; the columns are made from it off the request path.
    std::string data;
    std::vector<int32_t> classes;  // classifiers: per row
    std::vector<double> proba;     // classifiers: rows x classes
    std::vector<double> values;    // regressors: per row
    std::vector<Request> requests;
    std::string ids;  // the requests' ids, end to end
    int64_t rows = 0;
    int64_t bytes = 0;  // about: 8 per value, and the text of string columns
    std::string_view Id(const Request& r) const { return {ids.data() + r.id_offset, r.id_size}; }
  };
  struct Snapshot {
    int64_t at_us = 0;
    double duration_s = 0;  // the recomputation's wall time
    monitor::WindowReport window;
    core::Json json;
    std::map<std::string, double> values;  // the alert metrics
  };
  struct Notification {
    std::string body;
    std::string what;  // for the log: "LatencyHigh firing"
  };

  explicit LiveMonitor(Setup setup);
  void Run();
  void Notify();
  // A block with room for kBlockRows rows of the model's inputs (a spare one, emptied).
  std::shared_ptr<Block> NewBlock() PLINTH_REQUIRES(mu_);
  size_t BlockBytes() const;  // what a block reserves for its rows
  void Seal() PLINTH_REQUIRES(mu_);
  // The window's rows from `blocks`, starting at request `first` of the first block: the
  // inputs, the outputs as plinth predict names them, and the labels from /feedback. In the
  // last window's columns (spare_columns_), emptied.
  table::Table WindowTable(const std::vector<std::shared_ptr<const Block>>& blocks, size_t first)
      PLINTH_REQUIRES(run_mu_);
  void LoadAlertStates();
  void Record(const std::vector<monitor::AlertEvent>& events);

  Setup setup_;
  monitor::ReportOptions options_;
  monitor::PerformanceReference perf_;
  std::optional<monitor::ReconstructionModel> pca_;
  std::vector<std::string> columns_;
  std::optional<double> test_accuracy_;
  int64_t started_us_ = 0;

  mutable core::Mutex mu_;  // the window
  std::deque<std::shared_ptr<const Block>> sealed_ PLINTH_GUARDED_BY(mu_);
  std::shared_ptr<Block> current_ PLINTH_GUARDED_BY(mu_);
  int64_t window_rows_ PLINTH_GUARDED_BY(mu_) = 0;      // rows in sealed_ and current_
  int64_t window_requests_ PLINTH_GUARDED_BY(mu_) = 0;  // requests in sealed_ and current_
  int64_t window_bytes_ PLINTH_GUARDED_BY(mu_) = 0;     // Block::bytes in sealed_ and current_
  bool trimmed_ PLINTH_GUARDED_BY(mu_) = false;         // older rows went for the caps
  // Blocks the window dropped and nobody else holds, kept for reuse: at a million rows a
  // second a block fills every few milliseconds, and allocating and freeing its columns
  // each time cost the request path more than filling them.
  std::vector<std::shared_ptr<Block>> spare_ PLINTH_GUARDED_BY(mu_);
  // Drops the oldest sealed block.
  void DropOldest() PLINTH_REQUIRES(mu_);
  mutable core::Mutex labels_mu_;  // the labels that came on /feedback
  std::unordered_map<std::string, std::string> labels_ PLINTH_GUARDED_BY(labels_mu_);
  std::deque<std::string> label_order_ PLINTH_GUARDED_BY(labels_mu_);

  mutable core::Mutex snap_mu_;  // the last result and the alert states
  std::shared_ptr<const Snapshot> snapshot_ PLINTH_GUARDED_BY(snap_mu_);
  std::map<std::string, monitor::AlertState> states_ PLINTH_GUARDED_BY(snap_mu_);

  core::Mutex run_mu_;  // one Recompute at a time
  // The last window's columns, kept for the next one: filling fresh memory (page faults) was
  // most of what building the window cost. A window's rows, as long as the server runs.
  std::vector<table::Column> spare_columns_ PLINTH_GUARDED_BY(run_mu_);
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;

  std::mutex notify_mu_;
  std::condition_variable notify_wake_;
  std::deque<Notification> outbox_;
  bool notify_stopping_ = false;
  std::thread notifier_;
  std::atomic<uint64_t> sent_{0}, failed_{0};
};

}  // namespace plinth::serving
