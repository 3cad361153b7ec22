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

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

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
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_one();
    worker_.join();
  }

  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `item`. Thread-safe; never waits for a batch to run.
  void Submit(Item item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(item));
    }
    ready_.notify_one();
  }

  // Items run so far, and the batches that carried them.
  uint64_t items_run() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_run_;
  }
  uint64_t batches_run() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_run_;
  }

 private:
  void Loop() {
    std::vector<Item> batch;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
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
      std::lock_guard<std::mutex> lock(mu_);
      items_run_ += n;
      ++batches_run_;
    }
  }

  Runner runner_;
  size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  uint64_t items_run_ = 0;
  uint64_t batches_run_ = 0;
  std::thread worker_;
};

}  // namespace plinth::core
