// The model registry: MLflow's registered models, versions, stages, tags and
// aliases on the metadata store, plus what MLflow lacks: the history of every
// alias and stage move (who, when, from, to). Errors follow the tracking
// store's conventions (tracking_store.h). One connection; not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/database.h"
#include "tracking/entities.h"

namespace plinth::tracking {

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string current_stage;  // None | Staging | Production | Archived
  std::string description;
  std::string source;
  std::string run_id;
  std::string status;  // READY
  std::string status_message;
  std::vector<Tag> tags;
  std::string run_link;
  std::vector<std::string> aliases;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  std::vector<ModelVersion> latest_versions;  // the newest version in each stage
  std::vector<Tag> tags;
  std::vector<std::pair<std::string, int64_t>> aliases;  // alias -> version
};

// One alias or stage move.
struct RegistryEvent {
  std::string name;
  int64_t version = 0;  // the version the alias or stage now names (0: alias deleted)
  std::string kind;     // "alias" | "stage"
  std::string key;      // the alias, or "" for a stage
  std::string from;     // the previous version (alias) or stage; "" if none
  std::string to;       // the new one; "" when an alias is deleted
  std::string user_id;
  int64_t time = 0;  // ms since the epoch
};

struct NewModelVersion {
  std::string name;
  std::string source;
  std::string run_id;
  std::vector<Tag> tags;
  std::string run_link;
  std::string description;
  std::string user_id;
};

struct ModelQuery {
  std::string filter;
  int64_t max_results = 100;
  std::vector<std::string> order_by;
  std::string page_token;
};

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

  virtual Status SetAlias(const std::string& name, const std::string& alias,
                          const std::string& version, const std::string& user_id) = 0;
  virtual Status DeleteAlias(const std::string& name, const std::string& alias,
                             const std::string& user_id) = 0;
  virtual Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                                      const std::string& alias) = 0;
  // Every alias and stage move of `name`, oldest first.
  virtual Result<std::vector<RegistryEvent>> History(const std::string& name) = 0;
};

Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(
    std::unique_ptr<store::Database> db, const core::Clock& clock = core::SystemClock());
Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(
    const std::string& store_uri, const core::Clock& clock = core::SystemClock());

}  // namespace plinth::tracking
