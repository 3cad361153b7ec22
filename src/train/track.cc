#include "train/track.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "core/clock.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/stale.h"
#include "tracking/spans.h"

namespace plinth::train {
namespace {

namespace fs = std::filesystem;

void Flatten(const core::Json& j, const std::string& prefix, std::vector<tracking::Param>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      Flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    }
    return;
  }
  std::string value = j.is_string() ? j.get<std::string>() : j.is_null() ? "" : j.dump();
  out->push_back({prefix, value.substr(0, 6000)});
}

// Numeric entries of a metrics JSON as "<prefix>_<name>".
void AddFinalMetrics(const core::Json& m, const std::string& prefix, int64_t now,
                     std::vector<tracking::Metric>* out) {
  if (!m.is_object()) {
    return;
  }
  for (const auto& [k, v] : m.items()) {
    if (v.is_number() && k != "rows" && k != "n") {
      out->push_back({prefix + "_" + k, v.get<double>(), now, 0});
    }
  }
}

template <typename T>
Status InChunks(const std::vector<T>& items, size_t size,
                const std::function<Status(const std::vector<T>&)>& log) {
  for (size_t i = 0; i < items.size(); i += size) {
    std::vector<T> chunk(items.begin() + static_cast<ptrdiff_t>(i),
                         items.begin() + static_cast<ptrdiff_t>(std::min(items.size(), i + size)));
    PLINTH_RETURN_IF_ERROR(log(chunk));
  }
  return Status::Ok();
}

Status LogEverything(const TrainingConfig& c, const TrainResult& result, const TrackingTarget& t,
                     const std::string& run_id, const std::string& artifact_uri,
                     TrackedRun* tracked) {
  tracking::TrackingStore& store = *t.tracking;
  const int64_t now = core::SystemClock().NowMicros() / 1000;
  // Params: the config, flattened.
  PLINTH_RETURN_IF_ERROR(InChunks<tracking::Param>(
      ConfigParams(c.ToJson()), 100,
      [&](const std::vector<tracking::Param>& p) { return store.LogBatch(run_id, {}, p, {}); }));
  // Metrics: the monitored metric per round, then the final metrics.
  std::vector<tracking::Metric> metrics;
  const std::string monitor = result.fit.metric;
  for (const ml::RoundLog& r : result.fit.history) {
    metrics.push_back({"train_" + monitor, r.train, now, r.round});
    if (!std::isnan(r.validation)) {  // NaN: no validation split
      metrics.push_back({"validation_" + monitor, r.validation, now, r.round});
    }
  }
  const ml::TrainingRecord& record = *result.predictor->meta().trained;
  const core::Json& m = record.metrics;
  AddFinalMetrics(m.value("validation", core::Json()), "validation", now, &metrics);
  AddFinalMetrics(m.value("test", core::Json()), "test", now, &metrics);
  if (m.contains("cv")) {
    AddFinalMetrics(m["cv"].value("mean", core::Json()), "cv", now, &metrics);
  }
  metrics.push_back({"best_round", static_cast<double>(result.fit.best_round), now, 0});
  PLINTH_RETURN_IF_ERROR(InChunks<tracking::Metric>(
      metrics, 1000,
      [&](const std::vector<tracking::Metric>& b) { return store.LogBatch(run_id, b, {}, {}); }));

  // The training data as a dataset input: the data version's digest links it in lineage.
  const ml::DataSummary& data = record.data;
  const std::string& sha = data.sha256;
  tracking::Dataset d;
  d.name = fs::path(c.data_path).filename().string();
  d.digest = sha.substr(0, 32);
  d.source_type = "local";
  d.source = c.data_path;
  d.profile = core::DumpJson(
      {{"num_rows", data.rows}, {"sha256", sha}, {"train_rows", data.train_rows}}, false);
  PLINTH_RETURN_IF_ERROR(
      store.LogInputs(run_id, {{{{"mlflow.data.context", "training"}}, std::move(d)}}));

  // Artifacts: the bundle under model/, the report and the confusion matrix.
  auto put = [&](const std::string& name, std::string_view bytes) {
    return tracking::PutRunArtifact(artifact_uri, name, bytes, *t.artifacts);
  };
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(result.bundle_dir, ec)) {
    if (!entry.is_regular_file(ec)) {
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(entry.path().string()));
    PLINTH_RETURN_IF_ERROR(put("model/" + entry.path().filename().string(), bytes));
  }
  if (ec) {
    return IoError(result.bundle_dir + ": " + ec.message());
  }
  PLINTH_RETURN_IF_ERROR(put("training_report.json", core::DumpJson(result.report)));
  const core::Json test = m.value("test", core::Json());
  if (test.is_object() && test.contains("confusion_matrix")) {
    PLINTH_RETURN_IF_ERROR(put("confusion_matrix.json", core::DumpJson(test["confusion_matrix"])));
  }
  PLINTH_RETURN_IF_ERROR(store.SetTag(run_id, {"plinth.bundle", result.bundle_dir}));
  PLINTH_RETURN_IF_ERROR(store.SetTag(run_id, {"plinth.data_sha256", sha}));

  const ml::BundleMeta& bundle = result.predictor->meta();
  if (bundle.trained && bundle.trained->feature_service) {
    const ml::FeatureServiceRecord* fs = &*bundle.trained->feature_service;
    // feature group versions -> feature service version -> run: what the training set read.
    const std::string service = fs->service + "@" + std::to_string(fs->version);
    PLINTH_RETURN_IF_ERROR(store.SetTag(run_id, {"plinth.feature_service", service}));
    PLINTH_RETURN_IF_ERROR(
        store.AddLineage({"feature_service", service, "run", run_id, "trained", 0}));
    std::set<std::string> groups;
    for (const std::string& f : fs->features) {
      const size_t colon = f.find(':');
      if (colon != std::string::npos && groups.insert(f.substr(0, colon)).second) {
        PLINTH_RETURN_IF_ERROR(store.AddLineage(
            {"feature_group", f.substr(0, colon), "feature_service", service, "served", 0}));
      }
    }
  }
  if (!t.pipeline_run.empty()) {
    // data version -> pipeline run -> run, as `plinth lineage` walks it.
    PLINTH_RETURN_IF_ERROR(store.SetTag(run_id, {"plinth.pipeline_run", t.pipeline_run}));
    PLINTH_RETURN_IF_ERROR(
        store.AddLineage({"data", sha.substr(0, 32), "pipeline_run", t.pipeline_run, "input", 0}));
    PLINTH_RETURN_IF_ERROR(
        store.AddLineage({"pipeline_run", t.pipeline_run, "run", run_id, "ran", 0}));
  }
  tracked->model_uri = "runs:/" + run_id + "/model";
  if (!c.register_model || t.registry == nullptr) {
    return Status::Ok();
  }
  Result<tracking::RegisteredModel> rm = t.registry->CreateRegisteredModel(c.name, {}, "");
  if (!rm.ok() && rm.status().code() != StatusCode::kAlreadyExists) {
    return rm.status();
  }
  tracking::NewModelVersion v;
  v.name = c.name;
  v.source = artifact_uri + "/model";
  v.run_id = run_id;
  v.user_id = t.user;
  v.tags = {{"plinth.kind", c.model_type}, {"plinth.data_sha256", sha}};
  PLINTH_ASSIGN_OR_RETURN(tracking::ModelVersion mv, t.registry->CreateModelVersion(v));
  tracked->model_version = mv.version;
  tracked->model_uri = "models:/" + c.name + "/" + std::to_string(mv.version);
  return Status::Ok();
}

}  // namespace

std::vector<tracking::Param> ConfigParams(const core::Json& config) {
  std::vector<tracking::Param> out;
  Flatten(config, "", &out);
  return out;
}

Result<TrackedRun> StartTrainingRun(const TrainingConfig& c, const TrackingTarget& t) {
  tracking::TrackingStore& store = *t.tracking;
  TrackedRun tracked;
  Result<tracking::Experiment> e = store.GetExperimentByName(c.experiment);
  if (e.ok()) {
    tracked.experiment_id = e->experiment_id;
  } else if (e.status().code() == StatusCode::kNotFound) {
    PLINTH_ASSIGN_OR_RETURN(tracked.experiment_id, store.CreateExperiment(c.experiment, "", {}));
  } else {
    return e.status();
  }
  tracking::NewRun nr;
  nr.experiment_id = tracked.experiment_id;
  nr.user_id = t.user;
  nr.run_name = c.name;
  nr.tags = {{"mlflow.user", t.user},
             {"mlflow.source.name", c.source},
             {"mlflow.source.type", "LOCAL"},
             {"plinth.kind", c.model_type},
             {kProcessTag, core::ProcessToken()}};
  PLINTH_ASSIGN_OR_RETURN(tracking::Run run, store.CreateRun(nr));
  tracked.run_id = run.info.run_id;
  tracked.artifact_uri = run.info.artifact_uri;
  return tracked;
}

Result<TrackedRun> RecordTraining(const TrainingConfig& c, const TrainResult& result,
                                  const TrackingTarget& t, TrackedRun tracked) {
  tracking::TrackingStore& store = *t.tracking;
  Status s = LogEverything(c, result, t, tracked.run_id, tracked.artifact_uri, &tracked);
  const int64_t end = core::SystemClock().NowMicros() / 1000;
  Result<tracking::RunInfo> done = store.UpdateRun(
      tracked.run_id, s.ok() ? tracking::RunStatus::kFinished : tracking::RunStatus::kFailed, end,
      "");
  PLINTH_RETURN_IF_ERROR(s.WithPrefix("recording run " + tracked.run_id));
  PLINTH_RETURN_IF_ERROR(done.status());
  return tracked;
}

Status FailTrainingRun(const TrackingTarget& t, const TrackedRun& run, const Status& why) {
  // Tag values are capped (MLflow: 8,000 characters); a long message is cut.
  PLINTH_RETURN_IF_ERROR(
      t.tracking->SetTag(run.run_id, {kFailureTag, why.message().substr(0, 5000)}));
  const int64_t end = core::SystemClock().NowMicros() / 1000;
  return t.tracking->UpdateRun(run.run_id, tracking::RunStatus::kFailed, end, "").status();
}

Result<std::vector<std::string>> FailRunsOfGoneProcesses(tracking::TrackingStore& store) {
  tracking::ExperimentQuery eq;
  // Active only: a deleted run (or one in a deleted experiment) cannot be updated.
  eq.view_type = tracking::ViewType::kActiveOnly;
  std::vector<std::string> experiments;
  do {
    PLINTH_ASSIGN_OR_RETURN(auto page, store.SearchExperiments(eq));
    for (const tracking::Experiment& e : page.items) {
      experiments.push_back(e.experiment_id);
    }
    eq.page_token = page.next_page_token;
  } while (!eq.page_token.empty());
  std::vector<std::string> failed;
  if (experiments.empty()) {
    return failed;
  }
  tracking::RunQuery rq;
  rq.experiment_ids = std::move(experiments);
  rq.filter = "attributes.status = 'RUNNING'";
  rq.view_type = tracking::ViewType::kActiveOnly;
  std::vector<tracking::Run> gone;
  do {
    PLINTH_ASSIGN_OR_RETURN(auto page, store.SearchRuns(rq));
    for (tracking::Run& run : page.items) {
      for (const tracking::Tag& tag : run.tags) {
        if (tag.key == kProcessTag && core::ProcessLiveness(tag.value) == core::Liveness::kGone) {
          gone.push_back(std::move(run));
          break;
        }
      }
    }
    rq.page_token = page.next_page_token;
  } while (!rq.page_token.empty());
  // Marked after the search: its pages would shift under the updates.
  for (const tracking::Run& run : gone) {
    std::string owner;  // HOST:PID:START:BOOT
    for (const tracking::Tag& tag : run.tags) {
      owner = tag.key == kProcessTag ? tag.value : owner;
    }
    const size_t host_end = owner.find(':');
    const std::string pid =
        owner.substr(host_end + 1, owner.find(':', host_end + 1) - host_end - 1);
    PLINTH_RETURN_IF_ERROR(store.SetTag(
        run.info.run_id,
        {kFailureTag, "its process (pid " + pid + ") ended without finishing the run (killed?)"}));
    const int64_t now = core::SystemClock().NowMicros() / 1000;
    PLINTH_RETURN_IF_ERROR(
        store.UpdateRun(run.info.run_id, tracking::RunStatus::kFailed, now, "").status());
    failed.push_back(run.info.run_id);
  }
  return failed;
}

Result<std::string> RecordTrainingTrace(const TrainingConfig& config, const TrainResult* result,
                                        const Status& failure, const TrackingTarget& target,
                                        const TrackedRun& run, int64_t start_ns, int64_t end_ns) {
  const std::string trace_hex = core::NewUuidHex();
  const std::string root_hex = trace_hex.substr(0, 16);
  int span_counter = 0;
  auto span_hex = [&] {
    char text[17];
    std::snprintf(text, sizeof text, "%016x", ++span_counter);
    return std::string(text);
  };
  std::vector<tracking::Span> spans;
  tracking::SpanFields root;
  root.trace_hex = trace_hex;
  root.span_hex = root_hex;
  root.name = "plinth train " + config.name;
  root.start_ns = start_ns;
  root.end_ns = std::max(end_ns, start_ns + 1);
  root.status_code = result != nullptr ? "STATUS_CODE_OK" : "STATUS_CODE_ERROR";
  root.status_message = result != nullptr ? "" : failure.message();
  core::Json inputs = {
      {"config", config.source}, {"data", config.data_path}, {"model_type", config.model_type}};
  root.attributes = {{"mlflow.spanType", "CHAIN"}, {"mlflow.spanInputs", inputs}};
  if (result != nullptr) {
    core::Json outputs = {{"bundle", result->bundle_dir}, {"run_id", run.run_id}};
    if (result->report.contains("metrics")) {
      outputs["metrics"] = result->report["metrics"];
    }
    root.attributes["mlflow.spanOutputs"] = outputs;
    // One span per step, laid end to end from the start: the report times each step.
    int64_t at = start_ns;
    const core::Json& timings = result->report.value("timings_ms", core::Json::object());
    for (const char* step :
         {"load", "clean_split", "cross_validation", "preprocess", "fit", "evaluate", "bundle"}) {
      auto it = timings.find(step);
      if (it == timings.end() || !it->is_number()) {
        continue;
      }
      tracking::SpanFields f;
      f.trace_hex = trace_hex;
      f.span_hex = span_hex();
      f.parent_hex = root_hex;
      f.name = step;
      f.start_ns = at;
      f.end_ns = at + std::max<int64_t>(1, std::llround(it->get<double>() * 1e6));
      f.status_code = "STATUS_CODE_OK";
      f.attributes = {{"mlflow.spanType", "UNKNOWN"}, {"duration_ms", *it}};
      at = f.end_ns;
      spans.push_back(tracking::SpanOf(f));
    }
    root.end_ns = std::max(root.end_ns, at);
  }
  spans.insert(spans.begin(), tracking::SpanOf(root));
  PLINTH_RETURN_IF_ERROR(target.tracking->LogSpans(run.experiment_id, spans));
  tracking::TraceInfo info;
  info.request_id = "tr-" + trace_hex;
  info.experiment_id = run.experiment_id;
  info.timestamp_ms = start_ns / 1000000;
  info.execution_time_ms = root.end_ns / 1000000 - info.timestamp_ms;
  info.status = result != nullptr ? "OK" : "ERROR";
  info.request_metadata = {
      {"mlflow.sourceRun", run.run_id},
      {"mlflow.trace.sizeStats", "{\"num_spans\": " + std::to_string(spans.size()) + "}"},
      {"mlflow.traceInputs", core::DumpJson(inputs, false)}};
  info.tags = {{"mlflow.traceName", "plinth train"}, {"mlflow.user", target.user}};
  info.request_preview = core::DumpJson(inputs, false);
  PLINTH_RETURN_IF_ERROR(target.tracking->PutTrace(info).status());
  PLINTH_RETURN_IF_ERROR(target.tracking->LinkTracesToRun({info.request_id}, run.run_id));
  return info.request_id;
}

}  // namespace plinth::train
