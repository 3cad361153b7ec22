// The tracking store, registry and artifacts over HTTP: the same interfaces as
// the embedded store, spoken to any server of MLflow's REST API (plinth server
// or MLflow's own), so commands take --tracking-uri http://HOST:PORT.
// Plinth's additions (lineage, alias history) use plinth server's
// /api/plinth/v1 routes. Each object holds one connection; not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "tracking/artifacts.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"

namespace plinth::tracking {

// `user` is sent as X-Plinth-User (the "who" of alias and stage moves).
std::unique_ptr<TrackingStore> OpenRestTrackingStore(const std::string& base_url);
std::unique_ptr<RegistryStore> OpenRestRegistryStore(const std::string& base_url,
                                                     const std::string& user);
// Uploads through /api/2.0/mlflow-artifacts; Fetch downloads a directory into
// `cache_dir`/PATH and returns that directory.
std::unique_ptr<ArtifactSink> OpenRestArtifacts(const std::string& base_url,
                                                const std::string& cache_dir);

}  // namespace plinth::tracking
