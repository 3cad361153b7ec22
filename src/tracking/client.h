// One way in to tracking, whatever the store: the embedded database
// (sqlite:///PATH, postgresql://...) or a tracking server (http://HOST:PORT,
// plinth server or MLflow's). Public through include/plinth/tracking.h.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "tracking/artifacts.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"

namespace plinth::tracking {

struct TrackingClient {
  std::string uri;
  std::unique_ptr<TrackingStore> tracking;
  std::unique_ptr<RegistryStore> registry;
  std::unique_ptr<ArtifactSink> artifacts;
};

// `artifacts` is the local directory behind mlflow-artifacts:/ for a database
// URI, or the download cache for a server. `user` is recorded as who moved an
// alias or stage (over HTTP it is sent as X-Plinth-User).
Result<TrackingClient> OpenTrackingClient(const std::string& uri, const std::string& artifacts,
                                          const std::string& user = "");

}  // namespace plinth::tracking
