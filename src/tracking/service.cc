#include "tracking/service.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <utility>
#include <vector>

#include "core/batcher.h"
#include "core/mutex.h"
#include "store/checkpointer.h"
#include "tracking/sql_stores.h"

namespace plinth::tracking {
namespace {

// A logging write waiting for the group commit, and how to report it.
struct PendingWrite {
  LogRequest request;
  std::function<void(Status)> done;
};

}  // namespace

struct Service::Impl {
  ServiceOptions options;

  core::Mutex mu;
  struct Connection {
    std::unique_ptr<TrackingStore> tracking;
    std::unique_ptr<RegistryStore> registry;
    std::unique_ptr<AuthStore> auth;         // with ServiceOptions::auth
    std::unique_ptr<WebhookStore> webhooks;  // once a lease has asked for it
  };
  std::vector<Connection> free PLINTH_GUARDED_BY(mu);

  // The writer's connection and the SQLite checkpointer (null for PostgreSQL);
  // used only by the group commit's thread.
  std::unique_ptr<store::Checkpointer> checkpointer;
  store::Database* writer_db = nullptr;  // owned by `writer`
  std::unique_ptr<TrackingStore> writer;
  std::atomic<uint64_t> writes_committed{0};
  std::atomic<uint64_t> commits{0};
  // Declared last: it drains its queue before the writer goes.
  std::unique_ptr<core::Batcher<PendingWrite>> commit;

  Result<Connection> Open() const {
    Connection c;
    PLINTH_ASSIGN_OR_RETURN(c.tracking,
                            OpenTrackingStore(options.store_uri, options.artifact_root));
    PLINTH_ASSIGN_OR_RETURN(c.registry, OpenRegistryStore(options.store_uri));
    if (options.auth) {
      PLINTH_ASSIGN_OR_RETURN(c.auth, OpenAuthStore(options.store_uri));
    }
    return c;
  }

  // One transaction's worth of queued writes, on the writer thread.
  void Commit(std::vector<PendingWrite>& batch) {
    std::vector<LogRequest> requests;
    requests.reserve(batch.size());
    for (PendingWrite& p : batch) {
      requests.push_back(std::move(p.request));
    }
    std::vector<Status> outcomes = writer->LogBatches(requests);
    // Counted before anyone hears of the outcome, so a caller that has sees it counted.
    writes_committed.fetch_add(batch.size(), std::memory_order_relaxed);
    commits.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].done(outcomes[i]);
    }
    if (checkpointer && checkpointer->WriterShouldCheckpoint()) {
      if (Status s = checkpointer->CheckpointWriter(*writer_db); !s.ok()) {
        spdlog::warn("checkpoint: {}", s.ToString());
      }
    }
  }
};

Result<std::unique_ptr<Service>> Service::Open(const ServiceOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  PLINTH_ASSIGN_OR_RETURN(Impl::Connection first, impl->Open());
  {
    core::MutexLock lock(impl->mu);
    impl->free.push_back(std::move(first));
  }
  PLINTH_ASSIGN_OR_RETURN(auto writer_db, store::OpenDatabase(options.store_uri));
  PLINTH_ASSIGN_OR_RETURN(
      impl->checkpointer,
      store::Checkpointer::Start(options.store_uri, options.checkpoint_interval_ms));
  if (impl->checkpointer) {
    PLINTH_RETURN_IF_ERROR(store::Checkpointer::DisableAutoCheckpoint(*writer_db));
  }
  impl->writer_db = writer_db.get();
  PLINTH_ASSIGN_OR_RETURN(impl->writer,
                          OpenTrackingStore(std::move(writer_db), options.artifact_root));
  Impl* raw = impl.get();
  impl->commit = std::make_unique<core::Batcher<PendingWrite>>(
      [raw](std::vector<PendingWrite>& batch) { raw->Commit(batch); },
      options.max_writes_per_commit);
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() = default;

Result<Service::Lease> Service::Acquire() {
  {
    core::MutexLock lock(impl_->mu);
    if (!impl_->free.empty()) {
      Impl::Connection c = std::move(impl_->free.back());
      impl_->free.pop_back();
      return Lease(this, std::move(c.tracking), std::move(c.registry), std::move(c.auth),
                   std::move(c.webhooks));
    }
  }
  PLINTH_ASSIGN_OR_RETURN(Impl::Connection c, impl_->Open());
  return Lease(this, std::move(c.tracking), std::move(c.registry), std::move(c.auth),
               std::move(c.webhooks));
}

void Service::Release(std::unique_ptr<TrackingStore> tracking,
                      std::unique_ptr<RegistryStore> registry, std::unique_ptr<AuthStore> auth,
                      std::unique_ptr<WebhookStore> webhooks) {
  core::MutexLock lock(impl_->mu);
  impl_->free.push_back(
      {std::move(tracking), std::move(registry), std::move(auth), std::move(webhooks)});
}

Result<WebhookStore*> Service::Lease::webhooks() {
  if (webhooks_ == nullptr) {
    PLINTH_ASSIGN_OR_RETURN(webhooks_, OpenWebhookStore(owner_->impl_->options.store_uri));
  }
  return webhooks_.get();
}

void Service::Log(LogRequest write, std::function<void(Status)> done) {
  impl_->commit->Submit({std::move(write), std::move(done)});
}

uint64_t Service::writes_committed() const {
  return impl_->writes_committed.load(std::memory_order_relaxed);
}
uint64_t Service::commits() const { return impl_->commits.load(std::memory_order_relaxed); }

Service::Lease::Lease(Service* owner, std::unique_ptr<TrackingStore> tracking,
                      std::unique_ptr<RegistryStore> registry, std::unique_ptr<AuthStore> auth,
                      std::unique_ptr<WebhookStore> webhooks)
    : owner_(owner),
      tracking_(std::move(tracking)),
      registry_(std::move(registry)),
      auth_(std::move(auth)),
      webhooks_(std::move(webhooks)) {}

Service::Lease::Lease(Lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      tracking_(std::move(other.tracking_)),
      registry_(std::move(other.registry_)),
      auth_(std::move(other.auth_)),
      webhooks_(std::move(other.webhooks_)) {}

Service::Lease& Service::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr && tracking_ != nullptr) {
      owner_->Release(std::move(tracking_), std::move(registry_), std::move(auth_),
                      std::move(webhooks_));
    }
    owner_ = std::exchange(other.owner_, nullptr);
    tracking_ = std::move(other.tracking_);
    registry_ = std::move(other.registry_);
    auth_ = std::move(other.auth_);
    webhooks_ = std::move(other.webhooks_);
  }
  return *this;
}

Service::Lease::~Lease() {
  if (owner_ != nullptr && tracking_ != nullptr) {
    owner_->Release(std::move(tracking_), std::move(registry_), std::move(auth_),
                    std::move(webhooks_));
  }
}

}  // namespace plinth::tracking
