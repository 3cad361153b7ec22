// A fixed-size thread pool. Submit() is thread-safe; tasks run in FIFO order on
// the pool's threads. The destructor finishes queued tasks, then joins.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <future>
#include <queue>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"

namespace plinth::core {

class ThreadPool {
 public:
  // Starts `threads` workers (0 = one per hardware thread).
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  // Queues `fn`; the future yields its result (or rethrows what it threw).
  template <typename F>
  auto Submit(F fn) -> std::future<decltype(fn())> {
    using R = decltype(fn());
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    std::future<R> result = task->get_future();
    {
      MutexLock lock(mu_);
      queue_.push([task] { (*task)(); });
    }
    cv_.NotifyOne();
    return result;
  }

 private:
  void Work();

  Mutex mu_;
  CondVar cv_;
  std::queue<std::function<void()>> queue_ PLINTH_GUARDED_BY(mu_);
  bool stopping_ PLINTH_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// Number of hardware threads (at least 1).
size_t HardwareThreads();

// Runs `fn(i)` for every i in [0, `n`) on `pool` and waits. After the first
// error no new index starts; that error is returned. `fn` returns Status.
template <typename F>
Status ParallelFor(ThreadPool& pool, size_t n, F fn) {
  if (n == 0) {
    return Status::Ok();
  }
  std::atomic<size_t> next{0};
  std::vector<std::future<Status>> done;
  for (size_t w = 0; w < std::min(pool.size(), n); ++w) {
    done.push_back(pool.Submit([&]() -> Status {
      for (size_t i = next++; i < n; i = next++) {
        Status s = fn(i);
        if (!s.ok()) {
          next = n;  // stop the others early
          return s;
        }
      }
      return Status::Ok();
    }));
  }
  Status first;
  for (auto& f : done) {
    Status s = f.get();
    if (first.ok() && !s.ok()) {
      first = s;
    }
  }
  return first;
}

}  // namespace plinth::core
