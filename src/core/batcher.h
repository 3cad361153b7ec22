// Merges work submitted from many threads into batches for one worker thread.
//
// The tracking server's group commit uses it: concurrent logging requests are
// written in one transaction with merged statements, because a commit costs
// the same for one metric as for a hundred. The worker takes everything queued
// so far (up to `max_batch` items), hands the batch to the runner, and goes
// back for more; items queue up while a batch runs, so batches grow with load
// and a lone item waits for nothing. Items keep their submission order. Each
// item carries its own way to report its outcome; the runner must use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "core/mutex.h"

namespace plinth::core {

template <typename Item>
class Batcher {
 public:
  // Runs on the worker thread with 1 to max_batch items.
  using Runner = std::function<void(std::vector<Item>& batch)>;

  Batcher(Runner runner, size_t max_batch)
      : runner_(std::move(runner)), max_batch_(max_batch == 0 ? 1 : max_batch) {
    worker_ = std::thread([this] { Loop(); });
  }

  // Runs every item already submitted, then stops the worker.
  ~Batcher() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    ready_.NotifyOne();
    worker_.join();
  }

  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `item`. Thread-safe; never waits for a batch to run.
  void Submit(Item item) {
    {
      MutexLock lock(mu_);
      queue_.push_back(std::move(item));
    }
    ready_.NotifyOne();
  }

  // Items run so far, and the batches that carried them.
  uint64_t items_run() const {
    MutexLock lock(mu_);
    return items_run_;
  }
  uint64_t batches_run() const {
    MutexLock lock(mu_);
    return batches_run_;
  }

 private:
  void Loop() {
    std::vector<Item> batch;
    while (true) {
      {
        MutexLock lock(mu_);
        while (!stopping_ && queue_.empty()) {
          ready_.Wait(mu_);
        }
        if (queue_.empty()) {
          return;  // stopping, and nothing left to run
        }
        while (!queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      const size_t n = batch.size();
      runner_(batch);
      batch.clear();
      MutexLock lock(mu_);
      items_run_ += n;
      ++batches_run_;
    }
  }

  Runner runner_;
  size_t max_batch_;
  mutable Mutex mu_;
  CondVar ready_;
  std::deque<Item> queue_ PLINTH_GUARDED_BY(mu_);
  bool stopping_ PLINTH_GUARDED_BY(mu_) = false;
  uint64_t items_run_ PLINTH_GUARDED_BY(mu_) = 0;
  uint64_t batches_run_ PLINTH_GUARDED_BY(mu_) = 0;
  std::thread worker_;
};

}  // namespace plinth::core
