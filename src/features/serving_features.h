// Features looked up in-process for a model at serving time (plinth serve --features): the
// model was trained on a feature service (its bundle records every feature with its group
// version), so a request carries only the entity keys and request values, and each row is
// completed from the online store before the model sees it: one answer, one hop.
//
// A feature the store does not hold for a key, or holds older than its group's ttl, is null,
// and the model's own preprocessing handles it as it handled missing values in training
// (imputation); each outcome is counted per feature for /metrics. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "features/definitions.h"
#include "features/online.h"
#include "features/online_store.h"
#include "table/table.h"

namespace plinth::features {

class ServingFeatures {
 public:
  // `features`: the bundle's record ("weather@2:temp", "temp_c"); `model_inputs`: the columns
  // the model reads. `groups` resolves each group version (the registry's). Refuses a feature
  // the registry does not hold, and a model input that is a feature of another type.
  static Result<std::shared_ptr<const ServingFeatures>> Create(
      const Definitions& latest,
      const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
      std::shared_ptr<OnlineStore> store, const std::vector<std::string>& features,
      const table::Schema& model_inputs, const core::Clock& clock = core::SystemClock());

  // What a request carries: the model's inputs that are not looked up, then the join keys
  // and the on-demand features' request values the model's inputs do not already hold.
  const table::Schema& request_schema() const { return request_schema_; }

  // `request` (of request_schema()) completed to the model's inputs, in their order.
  Result<table::Table> Complete(const table::Table& request) const;

  // Values looked up so far, per feature (in the bundle's order) and status.
  struct Count {
    std::string feature;                 // "weather@2:temp"
    std::array<int64_t, 4> by_status{};  // indexed by FeatureStatus
  };
  std::vector<Count> Counts() const;

 private:
  ServingFeatures() = default;

  Definitions defs_;                  // the on-demand features (and entities) it reads
  std::vector<FeatureGroup> groups_;  // at the versions the bundle records
  std::vector<FeatureRef> refs_;
  std::shared_ptr<OnlineStore> store_;
  const core::Clock* clock_ = nullptr;
  table::Schema model_inputs_;
  table::Schema request_schema_;
  std::unique_ptr<std::atomic<int64_t>[]> counts_;  // refs_.size() x 4
};

}  // namespace plinth::features
