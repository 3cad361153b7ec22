// The feature registry as the CLI opens it (plinth features ..., plinth train with
// data.features): in the tracking store's database.
#pragma once

#include <memory>
#include <optional>

#include "core/status.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "features/registry.h"
#include "store/database.h"
#include "tracking_context.h"
#include "train/config.h"

namespace plinth::cli {

struct RegistryHandle {
  std::string uri;  // the database's
  std::unique_ptr<store::Database> db;
  std::optional<features::Registry> registry;
  features::Definitions latest;                   // OpenLatest
  std::unique_ptr<features::OnlineStore> online;  // OpenLatest with an online store
};

// The registry in the database the tracking flags name (a tracking server has none Plinth can
// reach yet: refused, naming where the URI came from).
Result<RegistryHandle> OpenRegistry(const TrackingFlags& flags);

enum class Online { kNone, kRead, kWrite };

// The registry with its latest definitions, and the online store they name (to read: it must
// exist; to write: created when absent).
Result<RegistryHandle> OpenLatest(const TrackingFlags& flags, Online online);

// A ref's group at its version: the latest from `defs`, else from the registry.
std::function<Result<features::FeatureGroup>(const features::FeatureRef&)> GroupsOf(
    const features::Definitions& defs, features::Registry& registry);

// For a config with data.features: joins its entity rows with the service's features into
// config.data_path (atomically) and fills config.feature_service with what was read.
Status BuildTrainingSet(train::TrainingConfig& config, const TrackingFlags& flags, bool progress);

}  // namespace plinth::cli
