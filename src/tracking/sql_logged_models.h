// Internal to the tracking module (its SQL layer).
// MLflow 3's logged models on the metadata store (tables logged_models,
// logged_model_params, logged_model_tags, logged_model_metrics, run_models): what
// the SQL tracking store calls once it has checked the experiment or run a call
// names. Same contracts as TrackingStore's logged-model calls.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/database.h"
#include "tracking/entities.h"

namespace plinth::tracking {

class LoggedModelTables {
 public:
  LoggedModelTables(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  // The schema (the tracking store's migration 3).
  static const char* Schema();

  // `experiment` is the model's, checked to exist and be active.
  Result<LoggedModel> Create(const NewLoggedModel& model, const Experiment& experiment);
  Result<LoggedModel> Get(const std::string& model_id, bool allow_deleted);
  Result<LoggedModel> Finalize(const std::string& model_id, LoggedModelStatus status);
  Status Delete(const std::string& model_id);
  Status SetTags(const std::string& model_id, const std::vector<Tag>& tags);
  Status DeleteTag(const std::string& model_id, const std::string& key);
  Status LogParams(const std::string& model_id, const std::vector<Param>& params);
  Result<Page<LoggedModel>> Search(const LoggedModelQuery& query);

  // A run's model inputs and outputs (the run checked to be active).
  Status LinkInputs(const std::string& run_id, const std::vector<std::string>& model_ids);
  Status LinkOutputs(const std::string& run_id, const std::vector<ModelOutput>& models);
  // Fills model_inputs and model_outputs of the runs `ids` names, found in `by_id`.
  Status LoadRunModels(std::span<const store::Value> ids,
                       const std::map<std::string, Run*, std::less<>>& by_id);

  // The metric values of `run_id` that name a model, as the model's too (inside the
  // caller's transaction; a value logged again is kept once).
  Status InsertModelMetrics(const std::string& run_id, std::span<const Metric* const> metrics);

 private:
  int64_t NowMs() const { return clock_.NowMicros() / 1000; }
  // The model row (deleted ones too), or kNotFound.
  Result<store::Row> FindRow(const std::string& model_id);
  Result<std::vector<LoggedModel>> Load(const std::vector<store::Row>& rows);
  // Sets `tags` on the model (inside the caller's transaction).
  Status UpsertTags(const std::string& model_id, const std::vector<Tag>& tags);

  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace plinth::tracking
