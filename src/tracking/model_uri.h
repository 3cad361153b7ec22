// Model URIs as MLflow writes them, resolved to the local bundle directory:
// models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/STAGE (the newest
// version in that stage), models:/NAME/latest, runs:/RUN_ID/PATH.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "tracking/artifacts.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"

namespace plinth::tracking {

// True for models:/ and runs:/ URIs.
bool IsModelUri(std::string_view uri);

// The local directory an artifact location names: a proxied mlflow-artifacts:/ URI
// fetched through `artifacts` (a local root, or downloaded from a server), a
// file:// URI or an absolute path as it is. Unimplemented for other stores.
Result<std::string> LocalArtifactPath(std::string_view location, const ArtifactSink& artifacts);

// The local directory `uri` names. Errors name the URI and what was not found.
// For a models:/ URI, `version` (when not null) gets the registry's version.
Result<std::string> ResolveModelUri(std::string_view uri, TrackingStore& tracking,
                                    RegistryStore& registry, const ArtifactSink& artifacts,
                                    ModelVersion* version = nullptr);

}  // namespace plinth::tracking
