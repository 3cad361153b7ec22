#include "serving/dynamic_batcher.h"

#include <algorithm>
#include <chrono>

#include "core/clock.h"

namespace plinth::serving {

ml::Prediction SlicePrediction(const ml::Prediction& p, int64_t begin, int64_t count) {
  ml::Prediction out;
  out.task = p.task;
  out.rows = count;
  out.num_classes = p.num_classes;
  const auto b = static_cast<size_t>(begin);
  const auto n = static_cast<size_t>(count);
  if (p.task == ml::Task::kRegression) {
    out.values.assign(p.values.begin() + static_cast<ptrdiff_t>(b),
                      p.values.begin() + static_cast<ptrdiff_t>(b + n));
  } else {
    const auto k = static_cast<size_t>(p.num_classes);
    out.classes.assign(p.classes.begin() + static_cast<ptrdiff_t>(b),
                       p.classes.begin() + static_cast<ptrdiff_t>(b + n));
    out.proba.assign(p.proba.begin() + static_cast<ptrdiff_t>(b * k),
                     p.proba.begin() + static_cast<ptrdiff_t>((b + n) * k));
  }
  return out;
}

DynamicBatcher::DynamicBatcher(int64_t max_batch_rows, int64_t max_delay_us)
    : max_batch_rows_(std::max<int64_t>(max_batch_rows, 1)),
      max_delay_us_(std::max<int64_t>(max_delay_us, 0)),
      batch_rows_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384}),
      batch_requests_({1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128}) {
  worker_ = std::thread([this] { Run(); });
}

DynamicBatcher::~DynamicBatcher() {
  {
    core::MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  worker_.join();
}

void DynamicBatcher::Submit(std::shared_ptr<const ml::Predictor> predictor,
                            const table::Table& rows, Done done) {
  auto pending = std::make_unique<Pending>(
      Pending{std::move(predictor), &rows, core::SystemClock().MonotonicMicros(), std::move(done)});
  {
    core::MutexLock lock(mu_);
    queued_rows_ += rows.num_rows();
    queue_.push_back(std::move(pending));
  }
  cv_.NotifyOne();
}

void DynamicBatcher::Run() {
  std::deque<std::unique_ptr<Pending>> batch;
  while (true) {
    int64_t rows = 0;
    {
      core::MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) {
        cv_.Wait(mu_);
      }
      if (queue_.empty()) {
        return;  // stopping, and nothing left
      }
      // Wait for company until the batch is full or the first request has
      // waited its delay (a stop cuts the wait short).
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::microseconds(std::max<int64_t>(
                                                 0, queue_.front()->enqueued_us + max_delay_us_ -
                                                        core::SystemClock().MonotonicMicros()));
      while (!stopping_ && queued_rows_ < max_batch_rows_ && cv_.WaitUntil(mu_, deadline)) {
      }
      // Merged: requests for the same predictor whose tables have the same
      // columns (CSV bodies may carry others), in arrival order.
      const Pending& first = *queue_.front();
      const std::shared_ptr<const ml::Predictor> predictor = first.predictor;
      const table::Schema& schema = first.rows->schema();  // the caller keeps the table
      while (!queue_.empty() && queue_.front()->predictor == predictor &&
             queue_.front()->rows->schema() == schema &&
             (batch.empty() || rows + queue_.front()->rows->num_rows() <= max_batch_rows_)) {
        rows += queue_.front()->rows->num_rows();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_rows_ -= rows;
    }
    Score(batch, rows);
    batch.clear();
  }
}

void DynamicBatcher::Score(std::deque<std::unique_ptr<Pending>>& batch, int64_t rows) {
  {
    core::MutexLock lock(metrics_mu_);
    batch_rows_.Observe(static_cast<double>(rows));
    batch_requests_.Observe(static_cast<double>(batch.size()));
  }
  const ml::Predictor& predictor = *batch.front()->predictor;
  if (batch.size() == 1) {
    batch.front()->done(predictor.Predict(*batch.front()->rows));
    return;
  }
  table::Table merged;
  for (const auto& p : batch) {
    if (Status s = merged.Append(*p->rows); !s.ok()) {
      for (const auto& q : batch) {
        q->done(s);
      }
      return;
    }
  }
  Result<ml::Prediction> pred = predictor.Predict(merged);
  int64_t begin = 0;
  for (const auto& p : batch) {
    const int64_t n = p->rows->num_rows();
    if (pred.ok()) {
      p->done(SlicePrediction(*pred, begin, n));
    } else {
      p->done(pred.status());
    }
    begin += n;
  }
}

void DynamicBatcher::RenderMetrics(std::string& out) const {
  core::MutexLock lock(metrics_mu_);
  http::PrometheusWriter(out)
      .Family("plinth_serve_batch_rows", "histogram", "Rows per model call (dynamic batching).")
      .Sample("plinth_serve_batch_rows", {}, batch_rows_)
      .Family("plinth_serve_batch_requests", "histogram", "Requests merged per model call.")
      .Sample("plinth_serve_batch_requests", {}, batch_requests_);
}

}  // namespace plinth::serving
