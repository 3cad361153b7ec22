#include "features/feature_server.h"

#include "core/json.h"
#include "features/online.h"
#include "features/registry.h"

namespace plinth::features {

// What the registry held at one moment, with the online store it names.
struct Snapshot {
  Definitions defs;
  std::shared_ptr<OnlineStore> online;
  int64_t read_us = 0;
};

struct OnlineFeatureServer::State {
  const core::Clock* clock = nullptr;
  int64_t refresh_us = 0;
  std::mutex registry_mu;  // the connection below is not thread-safe
  std::unique_ptr<store::Database> db;
  std::optional<Registry> registry;
  std::mutex snapshot_mu;
  std::shared_ptr<const Snapshot> snapshot;

  // The current snapshot, read again from the registry when it is older than the refresh
  // period (by one request; the others answer from the old one meanwhile).
  Result<std::shared_ptr<const Snapshot>> Current() {
    std::shared_ptr<const Snapshot> now;
    {
      std::lock_guard<std::mutex> lock(snapshot_mu);
      now = snapshot;
    }
    const int64_t t = clock->NowMicros();
    if (now && t - now->read_us < refresh_us) {
      return now;
    }
    std::unique_lock<std::mutex> reading(registry_mu, std::try_to_lock);
    if (!reading.owns_lock()) {
      if (now) {
        return now;
      }
      reading.lock();
    }
    auto next = std::make_shared<Snapshot>();
    PLINTH_ASSIGN_OR_RETURN(next->defs, registry->Latest());
    if (now && now->defs.online_store == next->defs.online_store) {
      next->online = now->online;
    } else {
      PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<OnlineStore> store,
                              OpenOnlineStore(next->defs.online_store));
      next->online = std::move(store);
    }
    next->read_us = t;
    std::lock_guard<std::mutex> lock(snapshot_mu);
    snapshot = next;
    return std::shared_ptr<const Snapshot>(next);
  }

  // A group at an older version than the snapshot's (a ref naming group@N).
  Result<FeatureGroup> Group(const Snapshot& snap, const FeatureRef& r) {
    const FeatureGroup* g = snap.defs.FindGroup(r.group);
    if (g != nullptr && (r.version == 0 || r.version == g->version)) {
      return *g;
    }
    std::lock_guard<std::mutex> lock(registry_mu);
    return registry->Group(r.group, r.version);
  }
};

OnlineFeatureServer::OnlineFeatureServer(std::unique_ptr<State> s) : s_(std::move(s)) {}
OnlineFeatureServer::~OnlineFeatureServer() = default;

Result<std::unique_ptr<OnlineFeatureServer>> OnlineFeatureServer::Open(const std::string& store_uri,
                                                                       int64_t refresh_seconds,
                                                                       const core::Clock& clock) {
  auto s = std::make_unique<State>();
  s->clock = &clock;
  s->refresh_us = refresh_seconds * 1000000;
  PLINTH_ASSIGN_OR_RETURN(s->db, store::OpenDatabase(store_uri));
  PLINTH_ASSIGN_OR_RETURN(Registry r, Registry::Open(*s->db));
  s->registry.emplace(r);
  return std::unique_ptr<OnlineFeatureServer>(new OnlineFeatureServer(std::move(s)));
}

namespace {

// Feast's error detail: the JSON text of {"module", "class", "message"}, itself sent as a JSON
// string (FeastError.to_error_detail() through FastAPI's JSONResponse).
FeatureAnswer FeastError(int status, const std::string& cls, const std::string& message) {
  const core::Json detail = {{"module", "feast.errors"}, {"class", cls}, {"message", message}};
  return {status, core::DumpJson(core::Json(core::DumpJson(detail, false)), false)};
}

}  // namespace

FeatureAnswer OnlineFeatureServer::GetOnlineFeatures(std::string_view body) {
  Result<std::shared_ptr<const Snapshot>> snap = s_->Current();
  if (!snap.ok()) {
    if (snap.status().code() == StatusCode::kNotFound) {
      return FeastError(404, "FeastObjectNotFoundException", snap.status().message());
    }
    return FeastError(500, "FeastError", snap.status().message());
  }
  const Snapshot& now = **snap;
  Result<FeastRequest> req = ParseFeastRequest(body, now.defs);
  if (!req.ok()) {
    if (req.status().code() == StatusCode::kNotFound) {
      // Feast's exception classes, as its clients name them.
      const std::string& m = req.status().message();
      std::string cls = "FeastObjectNotFoundException";
      if (m.starts_with("no feature service")) {
        cls = "FeatureServiceNotFoundException";
      } else if (m.starts_with("no feature group")) {
        cls = "FeatureViewNotFoundException";
      }
      return FeastError(404, cls, m);
    }
    return {422, core::DumpJson(core::Json{{"detail", req.status().message()}}, false)};
  }
  Result<OnlineAnswer> a = LookupOnline(
      now.defs, [&](const FeatureRef& r) { return s_->Group(now, r); }, *now.online, req->query,
      s_->clock->NowMicros());
  if (!a.ok()) {
    const StatusCode c = a.status().code();
    if (c == StatusCode::kInvalidArgument) {
      return {422, core::DumpJson(core::Json{{"detail", a.status().message()}}, false)};
    }
    return FeastError(c == StatusCode::kNotFound ? 404 : 500,
                      c == StatusCode::kNotFound ? "FeastObjectNotFoundException" : "FeastError",
                      a.status().message());
  }
  return {200, FeastResponseJson(*a)};
}

}  // namespace plinth::features
