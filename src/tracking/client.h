// One way in to tracking, whatever the store: the embedded database
// (sqlite:///PATH, postgresql://...) or a tracking server (http://HOST:PORT,
// plinth server or MLflow's). Public through include/plinth/tracking.h.
#pragma once

#include <functional>
#include <memory>
#include <optional>
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
  bool ok() const { return tracking != nullptr; }
};

// Where a command's tracking store is, and the rule that named it.
struct StoreLocation {
  std::string uri;
  std::string artifacts;  // the artifact root, or a server's download cache
  std::string user;       // recorded as who moved an alias or stage ($USER)
  std::string source;     // "--tracking-uri", "$PLINTH_TRACKING_URI", ... (for messages)
};

// Reads one environment variable (null when unset); std::getenv by default.
using Getenv = std::function<const char*(const char*)>;

// The rules every command follows to find the tracking store:
// - the store: `flag_uri` (--tracking-uri), else $PLINTH_TRACKING_URI, else
//   $MLFLOW_TRACKING_URI, else the project's <project_root>/.plinth/plinth.db;
// - its artifact root: $PLINTH_ARTIFACTS_ROOT, else <project_root>/.plinth/artifacts;
//   for a tracking server, the user's download cache ($XDG_CACHE_HOME/plinth/artifacts,
//   else $HOME/.cache/plinth/artifacts).
// `project_root` is "" outside a project. Nothing named: none, or with
// `required` an error saying how to name one; a database without an artifact
// root is an error naming where the URI came from.
Result<std::optional<StoreLocation>> LocateTrackingStore(const std::string& flag_uri,
                                                         const std::string& project_root,
                                                         bool required,
                                                         const Getenv& getenv = nullptr);

// `artifacts` is the local directory behind mlflow-artifacts:/ for a database
// URI, or the download cache for a server. `user` is recorded as who moved an
// alias or stage (over HTTP it is sent as X-Plinth-User).
Result<TrackingClient> OpenTrackingClient(const std::string& uri, const std::string& artifacts,
                                          const std::string& user = "");

}  // namespace plinth::tracking
