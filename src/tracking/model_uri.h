// Model URIs as MLflow writes them, resolved to the local bundle directory:
// models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/STAGE (the newest
// version in that stage), models:/NAME/latest, models:/<model_id> (an MLflow 3
// logged model, m-<hex>), runs:/RUN_ID/PATH.
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

// Writes artifact `name` (a relative path) of the run whose artifact location is
// `artifact_uri`: through `artifacts` for a proxied mlflow-artifacts:/ location, into
// the local directory otherwise.
Status PutRunArtifact(std::string_view artifact_uri, std::string_view name, std::string_view bytes,
                      const ArtifactSink& artifacts);

// MLflow's check of a new model version's source (its server's _validate_source): a
// local path or file:// URI is accepted only with `run_id` and only inside that run's
// local artifact directory; any other URI must be an absolute path without relative
// references (checked after repeated percent-decoding). kInvalidArgument with MLflow's
// texts; `runs` answers the run (kNotFound when it does not exist).
Status ValidateModelVersionSource(const std::string& source, const std::string& run_id,
                                  TrackingStore& runs);
// The second half alone: a source that is not local.
Status ValidateNonLocalSource(const std::string& source);
// MLflow 3's check of a prompt version's source (a version tagged mlflow.prompt.is_prompt,
// whose source is a placeholder such as "dummy-source"): no file:// URI or absolute path;
// a URI checked as ValidateNonLocalSource; and, stricter than MLflow, no '..' part in a
// placeholder either.
Status ValidatePromptSource(const std::string& source);
// Whether a new model version is one of MLflow 3's prompt versions (tagged
// mlflow.prompt.is_prompt).
bool IsPromptVersion(const std::vector<Tag>& tags);

// The local directory `uri` names. Errors name the URI and what was not found.
// For a models:/ URI, `version` (when not null) gets the registry's version.
Result<std::string> ResolveModelUri(std::string_view uri, TrackingStore& tracking,
                                    RegistryStore& registry, const ArtifactSink& artifacts,
                                    ModelVersion* version = nullptr);

// True when `rest` (a models:/ URI without the scheme) is a logged model's id.
bool IsLoggedModelId(std::string_view rest);

// MLflow 3's record of a version registered from a logged model: {"name", "version"}
// appended to the model's mlflow.modelVersions tag (a JSON list), and the lineage edge
// logged_model -> model_version.
Status RecordRegistration(TrackingStore& tracking, const std::string& model_id,
                          const ModelVersion& version);

}  // namespace plinth::tracking
