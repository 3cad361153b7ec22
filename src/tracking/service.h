// The control plane's tracking service: what every front end of `plinth server`
// (MLflow's REST API today; the UI and the promotion gates next) calls to reach
// the metadata store from many threads at once.
//
// It owns
// - a pool of store connections: a request leases one connection's tracking
//   and registry stores and gives them back when done, so concurrent readers
//   never share a connection and a connection is opened only when every other
//   one is in use;
// - one writer connection and its group commit: logging writes (metrics,
//   params, tags) from every thread are queued, and the writer thread takes
//   everything queued so far and writes it in one transaction with merged
//   statements (TrackingStore::LogBatches), then reports each write's outcome;
// - for SQLite, the checkpointer that moves the write-ahead log into the
//   database file off the writer (store/checkpointer.h).
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "tracking/auth_store.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"
#include "tracking/webhook_store.h"

namespace plinth::tracking {

struct ServiceOptions {
  std::string store_uri;  // sqlite:///... or postgresql://...
  // The artifact location root of new experiments (mlflow-artifacts:/<id>).
  std::string artifact_root = "mlflow-artifacts:";
  // Logging writes merged into one transaction, at most.
  size_t max_writes_per_commit = 256;
  // How often the SQLite log is moved into the database file, off the writer.
  int checkpoint_interval_ms = 50;
  // Whether leases carry the users and grants of `plinth server --auth`.
  bool auth = false;
};

class Service {
 public:
  // Opens the store (running its migrations), checks that it answers, and
  // starts the writer thread. Errors: the database's (unreachable, not a
  // database, a newer schema).
  static Result<std::unique_ptr<Service>> Open(const ServiceOptions& options);
  // Writes every queued logging write (reporting each outcome), then closes
  // the connections. No other call may run meanwhile.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // One connection's stores, leased from the pool and given back when the
  // lease goes. A lease is used by one thread at a time.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    TrackingStore& tracking() { return *tracking_; }
    RegistryStore& registry() { return *registry_; }
    // Only when the service was opened with `auth`.
    AuthStore& auth() { return *auth_; }
    // The registry's webhooks: a connection opened the first time a lease asks, then
    // pooled with the others.
    Result<WebhookStore*> webhooks();

   private:
    friend class Service;
    Lease(Service* owner, std::unique_ptr<TrackingStore> tracking,
          std::unique_ptr<RegistryStore> registry, std::unique_ptr<AuthStore> auth,
          std::unique_ptr<WebhookStore> webhooks);
    Service* owner_;
    std::unique_ptr<TrackingStore> tracking_;
    std::unique_ptr<RegistryStore> registry_;
    std::unique_ptr<AuthStore> auth_;
    std::unique_ptr<WebhookStore> webhooks_;
  };

  // A free connection, or a new one when every connection is in use. Never
  // waits for another lease. Errors: opening a connection failed.
  Result<Lease> Acquire();

  // Queues `write` for the group commit and returns at once; `done` is called
  // exactly once, from the writer thread, with the write's own outcome (as
  // TrackingStore::LogBatch would have returned it) after its transaction has
  // committed. `done` must not block: the next transaction waits for it.
  void Log(LogRequest write, std::function<void(Status)> done);

  // Logging writes committed so far, and the transactions that carried them
  // (a write is counted before its `done` is called).
  uint64_t writes_committed() const;
  uint64_t commits() const;

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  void Release(std::unique_ptr<TrackingStore> tracking, std::unique_ptr<RegistryStore> registry,
               std::unique_ptr<AuthStore> auth, std::unique_ptr<WebhookStore> webhooks);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::tracking
