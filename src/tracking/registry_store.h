// The model registry: MLflow's registered models, versions, stages, tags and
// aliases on the metadata store, plus what MLflow lacks: the history of every
// alias and stage move (who, when, from, to). Errors follow the tracking
// store's conventions (tracking_store.h). One connection; not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "tracking/entities.h"

namespace plinth::tracking {

// Contracts, for every implementation (SQL and REST):
// - Thread safety: none; one connection, one thread at a time (as TrackingStore).
// - Blocking: one or a few round trips; writes may wait for the database's
//   write lock (then kUnavailable) or, over HTTP, for the server.
// - Not found: kNotFound (RESOURCE_DOES_NOT_EXIST) with MLflow's message for an
//   unknown registered model ("Registered Model with name=NAME not found"),
//   version or alias; never an empty entity.
// - Errors otherwise: kAlreadyExists for a taken model name; kInvalidArgument
//   for what MLflow refuses (empty or reserved names, a version that is not an
//   integer, an unknown stage, a source outside the artifact stores). A failed
//   call writes nothing. Every alias and stage move is recorded in History.
class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  virtual Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                        const std::vector<Tag>& tags,
                                                        const std::string& description) = 0;
  virtual Result<RegisteredModel> GetRegisteredModel(const std::string& name) = 0;
  virtual Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                        const std::string& new_name) = 0;
  virtual Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                        const std::string& description) = 0;
  virtual Status DeleteRegisteredModel(const std::string& name) = 0;
  virtual Result<Page<RegisteredModel>> SearchRegisteredModels(const ModelQuery& query) = 0;
  // The newest version in each of `stages` (every stage when empty).
  virtual Result<std::vector<ModelVersion>> GetLatestVersions(
      const std::string& name, const std::vector<std::string>& stages) = 0;
  virtual Status SetRegisteredModelTag(const std::string& name, const Tag& tag) = 0;
  virtual Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) = 0;

  virtual Result<ModelVersion> CreateModelVersion(const NewModelVersion& v) = 0;
  virtual Result<ModelVersion> GetModelVersion(const std::string& name,
                                               const std::string& version) = 0;
  virtual Result<ModelVersion> UpdateModelVersion(const std::string& name,
                                                  const std::string& version,
                                                  const std::string& description) = 0;
  virtual Result<ModelVersion> TransitionStage(const std::string& name, const std::string& version,
                                               const std::string& stage, bool archive_existing,
                                               const std::string& user_id) = 0;
  virtual Status DeleteModelVersion(const std::string& name, const std::string& version) = 0;
  virtual Result<Page<ModelVersion>> SearchModelVersions(const ModelQuery& query) = 0;
  virtual Status SetModelVersionTag(const std::string& name, const std::string& version,
                                    const Tag& tag) = 0;
  virtual Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                                       const std::string& key) = 0;

  // Points `alias` at `version` (moving it if set), recording who moved it.
  // kNotFound for an unknown model or version.
  virtual Status SetAlias(const std::string& name, const std::string& alias,
                          const std::string& version, const std::string& user_id) = 0;
  virtual Status DeleteAlias(const std::string& name, const std::string& alias,
                             const std::string& user_id) = 0;
  // kNotFound when the model has no such alias.
  virtual Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                                      const std::string& alias) = 0;
  // Every alias and stage move of `name`, oldest first (also those of deleted
  // versions). kNotFound for a model not registered.
  virtual Result<std::vector<RegistryEvent>> History(const std::string& name) = 0;

  // Protected aliases (docs/DEPLOYMENT.md). SetAlias, and TransitionStage to Staging or
  // Production, answer kFailedPrecondition naming what is missing (a passed gate run of the
  // protection's suite, approvals) when the alias (or the stage's name in lower case) is
  // protected; DeleteAlias refuses a protected alias. The store itself (SQLite, PostgreSQL)
  // enforces them, so every client obeys; over REST these calls are kUnimplemented.
  virtual Status ProtectAlias(const AliasProtection& p);
  virtual Status UnprotectAlias(const std::string& name, const std::string& alias,
                                const std::string& user_id);
  virtual Result<std::vector<AliasProtection>> Protections(const std::string& name);
  virtual Status RecordGateRun(const GateRun& run);
  // The last gate run of each suite for the version, newest first.
  virtual Result<std::vector<GateRun>> GateRuns(const std::string& name,
                                                const std::string& version);
  // Records `user_id`'s approval of the version (once per user).
  virtual Status Approve(const std::string& name, const std::string& version,
                         const std::string& user_id);
  virtual Result<std::vector<Approval>> Approvals(const std::string& name,
                                                  const std::string& version);
  // Deployments (docs/DEPLOYMENT.md). Deploy answers kFailedPrecondition "conflict: ..."
  // when the alias no longer names `expected_previous` (someone moved it meanwhile), or what
  // a protection misses; the alias move, its history event and the deployment commit
  // together or not at all.
  virtual Result<Deployment> Deploy(const NewDeployment& d);
  // Sets a deployment's status and endpoints as last checked.
  virtual Status FinishDeployment(const std::string& name, int64_t id, const std::string& status,
                                  const std::string& endpoints_json);
  // The model's deployments, newest first.
  virtual Result<std::vector<Deployment>> Deployments(const std::string& name);
  // Adds or renews (heartbeat now) the endpoint: a process (e.host, e.pid) reachable at e.url
  // (replicas behind one URL are one row each); registrations without a heartbeat for a day
  // are forgotten. RemoveEndpoint forgets the process's registration.
  virtual Status RegisterEndpoint(const ServingEndpoint& e);
  virtual Status RemoveEndpoint(const ServingEndpoint& e);
  // The endpoints registered for the model, by environment and URL.
  virtual Result<std::vector<ServingEndpoint>> Endpoints(const std::string& name);
  // SetAlias despite a protection; the reason goes to the history.
  virtual Status ForceAlias(const std::string& name, const std::string& alias,
                            const std::string& version, const std::string& user_id,
                            const std::string& reason);
};

// MLflow's rules for an alias name (alphanumerics, _ and -; not "latest", not v<N>):
// kInvalidArgument saying which is broken.
Status ValidateAliasName(const std::string& alias);

}  // namespace plinth::tracking
