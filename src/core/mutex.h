// A mutex Clang's thread-safety analysis understands, and the annotations it
// checks (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html).
//
// libstdc++'s std::mutex carries no annotations, so members guarded by one
// cannot be checked. core::Mutex is a std::mutex that can: a member declared
// `int n PLINTH_GUARDED_BY(mu_);` read or written without `mu_` held, or a
// function marked `PLINTH_REQUIRES(mu_)` called without it, fails the Clang
// build (-Wthread-safety, an error in CI). With GCC the macros expand to
// nothing and Mutex is exactly a std::mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define PLINTH_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PLINTH_THREAD_ANNOTATION(x)
#endif

#define PLINTH_CAPABILITY(x) PLINTH_THREAD_ANNOTATION(capability(x))
#define PLINTH_SCOPED_CAPABILITY PLINTH_THREAD_ANNOTATION(scoped_lockable)
#define PLINTH_GUARDED_BY(x) PLINTH_THREAD_ANNOTATION(guarded_by(x))
#define PLINTH_PT_GUARDED_BY(x) PLINTH_THREAD_ANNOTATION(pt_guarded_by(x))
#define PLINTH_REQUIRES(...) PLINTH_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define PLINTH_EXCLUDES(...) PLINTH_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define PLINTH_ACQUIRE(...) PLINTH_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define PLINTH_RELEASE(...) PLINTH_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define PLINTH_NO_THREAD_SAFETY_ANALYSIS PLINTH_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace plinth::core {

class PLINTH_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() PLINTH_ACQUIRE() { mu_.lock(); }
  void Unlock() PLINTH_RELEASE() { mu_.unlock(); }

  // The std::mutex underneath, for std::condition_variable (see CondVar).
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Holds `mu` for the scope.
class PLINTH_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) PLINTH_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() PLINTH_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable waited on with a Mutex held (through a MutexLock).
// Waits take no predicate: callers loop (`while (!ready_) cv_.Wait(mu_);`), so
// the analysis sees the guarded reads under the lock.
class CondVar {
 public:
  // Releases `mu` while waiting; holds it again on return (maybe spuriously).
  void Wait(Mutex& mu) PLINTH_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // the caller's MutexLock still owns it
  }
  // As Wait, giving up at `deadline`; false when it passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex& mu, const std::chrono::time_point<Clock, Duration>& deadline)
      PLINTH_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    bool woken = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace plinth::core
