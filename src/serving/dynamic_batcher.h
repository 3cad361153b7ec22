// Dynamic batching for `plinth serve`, as Triton does it: the rows of
// concurrent requests are scored in one model call, up to `max_batch_rows`
// rows, waiting at most `max_delay_us` after the first request of a batch for
// others to join. A request larger than the limit is scored alone. Each caller
// gets the prediction of its own rows, in its order.
//
// Callers do not wait: Submit queues the rows and returns, and the worker
// thread reports each request's prediction through its callback once the
// batch is scored. So an I/O thread goes on reading other connections, and
// the requests that can be merged are not bounded by the I/O threads (the
// server answers through http::Responder, as the control plane's group commit
// does). Requests for different predictors (before and after a hot reload)
// never share a batch.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "core/status.h"
#include "http/metrics.h"
#include "ml/bundle.h"
#include "table/table.h"

namespace plinth::serving {

class DynamicBatcher {
 public:
  DynamicBatcher(int64_t max_batch_rows, int64_t max_delay_us);
  // Scores what is queued, then stops the worker.
  ~DynamicBatcher();
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // What a request hears once its batch is scored: its own rows' prediction,
  // or the error. Called on the worker thread; must not block.
  using Done = std::function<void(Result<ml::Prediction>)>;

  // Queues `rows` (which must live until `done` is called) to be scored by
  // `predictor` together with concurrent requests, and returns at once.
  // Thread-safe. `done` is called exactly once, also for what is queued when
  // the batcher is destroyed.
  void Submit(std::shared_ptr<const ml::Predictor> predictor, const table::Table& rows, Done done);

  // Prometheus text: rows and requests per model call.
  void RenderMetrics(std::string& out) const;

 private:
  struct Pending {
    std::shared_ptr<const ml::Predictor> predictor;
    const table::Table* rows;
    int64_t enqueued_us;
    Done done;
  };
  void Run();
  void Score(std::deque<std::unique_ptr<Pending>>& batch, int64_t rows);

  const int64_t max_batch_rows_;
  const int64_t max_delay_us_;
  core::Mutex mu_;
  core::CondVar cv_;
  std::deque<std::unique_ptr<Pending>> queue_ PLINTH_GUARDED_BY(mu_);
  int64_t queued_rows_ PLINTH_GUARDED_BY(mu_) = 0;
  bool stopping_ PLINTH_GUARDED_BY(mu_) = false;
  mutable core::Mutex metrics_mu_;
  http::Histogram batch_rows_ PLINTH_GUARDED_BY(metrics_mu_);
  http::Histogram batch_requests_ PLINTH_GUARDED_BY(metrics_mu_);
  std::thread worker_;  // last: stopped and joined first
};

// The rows [begin, begin + count) of `p`.
ml::Prediction SlicePrediction(const ml::Prediction& p, int64_t begin, int64_t count);

}  // namespace plinth::serving
