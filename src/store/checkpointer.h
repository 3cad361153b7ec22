// A SQLite write-ahead log moved into the database file on a thread of its own.
//
// SQLite checkpoints on the connection whose commit crossed the threshold
// (1000 pages): the writer copies the log into the database and waits for
// fsync, and everything queued behind it waits too. Under a steady stream of
// small commits (the tracking server's group commit appends ~150 MB/s of log)
// that put stalls of 100-500 ms into the writer. With a Checkpointer the
// writer's connection does not checkpoint on its own (DisableAutoCheckpoint); a
// background connection runs passive checkpoints, which never block writers.
// Those alone never let the log restart from its beginning (the writer always
// appends a little more before the next one), so when the log has grown past a
// threshold the writer is asked to run one passive checkpoint itself between
// two transactions: by then nearly everything is copied, it finishes, and the
// next transaction starts the log over.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "core/status.h"
#include "store/database.h"

namespace plinth::store {

class Checkpointer {
 public:
  // Starts checkpointing the SQLite database at `uri` every `interval_ms`.
  // For other engines it returns null: they need none.
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& uri, int interval_ms);
  // Runs a last checkpoint, then stops.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Turns off automatic checkpoints on `db` (a connection to the same file),
  // leaving them to the Checkpointer. A no-op for other engines.
  static Status DisableAutoCheckpoint(Database& db);

  // Whether the log has grown past the threshold since the writer's last
  // checkpoint; then the writer calls CheckpointWriter between transactions.
  bool WriterShouldCheckpoint() const { return writer_should_.load(std::memory_order_relaxed); }
  // Runs a passive checkpoint on the writer's connection `db` (outside any
  // transaction), so that its next transaction restarts the log. Until one
  // has copied the whole log, WriterShouldCheckpoint stays true.
  Status CheckpointWriter(Database& db);

  // Log frames (pages) past which the writer is asked to checkpoint: 64 MiB.
  static constexpr int64_t kRestartFrames = 16384;

 private:
  Checkpointer(std::unique_ptr<Database> db, int interval_ms);
  void Loop();

  std::unique_ptr<Database> db_;
  int interval_ms_;
  core::Mutex mu_;
  core::CondVar wake_;
  bool stopping_ PLINTH_GUARDED_BY(mu_) = false;
  std::atomic<bool> writer_should_{false};
  std::thread thread_;
};

}  // namespace plinth::store
