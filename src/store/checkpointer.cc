#include "store/checkpointer.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace plinth::store {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& uri, int interval_ms) {
  PLINTH_ASSIGN_OR_RETURN(auto db, OpenDatabase(uri));
  if (db->engine() != Engine::kSqlite) {
    return std::unique_ptr<Checkpointer>();
  }
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(db), interval_ms));
}

Status Checkpointer::DisableAutoCheckpoint(Database& db) {
  if (db.engine() != Engine::kSqlite) {
    return Status::Ok();
  }
  return db.ExecScript("PRAGMA wal_autocheckpoint=0");
}

Status Checkpointer::CheckpointWriter(Database& db) {
  // The answer: (busy, frames in the log, frames copied). Unless every frame
  // was copied (the background checkpoint held the lock, or was behind when
  // the machine was loaded), the writer tries again after its next transaction.
  PLINTH_ASSIGN_OR_RETURN(std::vector<Row> r, db.Query("PRAGMA wal_checkpoint(PASSIVE)"));
  const bool caught_up =
      !r.empty() && r[0].size() >= 3 && r[0].Int(0) == 0 && r[0].Int(2) >= r[0].Int(1);
  writer_should_.store(!caught_up, std::memory_order_relaxed);
  return Status::Ok();
}

Checkpointer::Checkpointer(std::unique_ptr<Database> db, int interval_ms)
    : db_(std::move(db)), interval_ms_(interval_ms < 1 ? 1 : interval_ms) {
  thread_ = std::thread([this] { Loop(); });
}

Checkpointer::~Checkpointer() {
  {
    core::MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.NotifyOne();
  thread_.join();
}

void Checkpointer::Loop() {
  while (true) {
    bool last = false;
    {
      core::MutexLock lock(mu_);
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms_);
      while (!stopping_ && wake_.WaitUntil(mu_, deadline)) {
      }
      last = stopping_;
    }
    // PASSIVE copies what no reader still needs and never waits for a lock;
    // the log restarts from its beginning once a checkpoint has caught up.
    // The answer: (busy, frames in the log, frames copied).
    Result<std::vector<Row>> r = db_->Query("PRAGMA wal_checkpoint(PASSIVE)");
    if (!r.ok()) {
      spdlog::warn("checkpoint: {}", r.status().ToString());
    } else if (!r->empty() && (*r)[0].size() >= 2 && (*r)[0].Int(1) > kRestartFrames) {
      writer_should_.store(true, std::memory_order_relaxed);
    }
    if (last) {
      return;
    }
  }
}

}  // namespace plinth::store
