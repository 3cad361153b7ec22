// plinth train CONFIG.yaml [--set KEY=VALUE ...] [--json OUT]
// plinth evaluate MODEL DATA.csv [--json OUT]
// plinth models import-xgboost|import-torchscript FILE --schema SCHEMA.json --output DIR
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "features_context.h"
#include "ml/bundle.h"
#include "tracking_context.h"
#include "train/track.h"
#include "train/train.h"

namespace plinth::cli {
namespace {

struct TrainFlags {
  std::string config;
  std::vector<std::string> overrides;
  std::string json_out;
  std::string html_out;
  bool quiet = false;
  bool no_track = false;
  TrackingFlags tracking;
};

int RunTrain(const TrainFlags& f) {
  Result<train::TrainingConfig> config = train::LoadTrainingConfig(f.config, f.overrides);
  if (!config.ok()) {
    return ReportError(config.status());
  }
  if (config->features) {
    // data.features: the training set from the feature store, as of each entity row's time.
    if (Status s = BuildTrainingSet(*config, f.tracking, !f.quiet); !s.ok()) {
      return ReportError(s);
    }
  }
  // The tracking store is opened before training, so a bad URI costs no fit.
  TrackingContext tracking;
  if (!f.no_track) {
    Result<TrackingContext> t = OpenTracking(f.tracking, /*required=*/!f.tracking.uri.empty());
    if (!t.ok()) {
      return ReportError(t.status());
    }
    tracking = std::move(*t);
  }
  const char* user = std::getenv("USER");
  const char* pipeline_run = std::getenv("PLINTH_PIPELINE_RUN");
  train::TrackingTarget target{tracking.tracking.get(), tracking.registry.get(),
                               tracking.artifacts.get(), user ? user : "",
                               pipeline_run ? pipeline_run : ""};
  train::TrackedRun run;
  if (tracking.ok()) {
    // Runs that a killed `plinth train` left RUNNING; a failure here costs no training.
    Result<std::vector<std::string>> ended = train::FailRunsOfGoneProcesses(*tracking.tracking);
    if (!ended.ok()) {
      std::fprintf(stderr, "plinth: warning: cannot check for runs of killed trainings: %s\n",
                   ended.status().message().c_str());
    }
    for (const std::string& id : ended.ok() ? *ended : std::vector<std::string>()) {
      std::fprintf(stderr, "marked run %s FAILED: the plinth train writing it was killed\n",
                   id.c_str());
    }
    Result<train::TrackedRun> started = train::StartTrainingRun(*config, target);
    if (!started.ok()) {
      return ReportError(started.status());
    }
    run = *std::move(started);
  }
  train::TrainOptions options;
  options.progress = !f.quiet;
  const int64_t start_ns = core::SystemClock().NowMicros() * 1000;
  Result<train::TrainResult> result = train::Train(*config, options);
  // The training as one trace of the run (a failure to record it is only a warning).
  auto trace = [&](const train::TrainResult* done, const Status& failure) -> std::string {
    Result<std::string> id = train::RecordTrainingTrace(
        *config, done, failure, target, run, start_ns, core::SystemClock().NowMicros() * 1000);
    if (!id.ok()) {
      std::fprintf(stderr, "plinth: warning: cannot record the training's trace: %s\n",
                   id.status().message().c_str());
      return "";
    }
    return *id;
  };
  if (!result.ok()) {
    if (tracking.ok()) {
      if (Status s = train::FailTrainingRun(target, run, result.status()); !s.ok()) {
        std::fprintf(stderr, "plinth: warning: cannot mark run %s FAILED: %s\n", run.run_id.c_str(),
                     s.message().c_str());
      }
      trace(nullptr, result.status());
    }
    return ReportError(result.status());
  }
  if (!f.json_out.empty()) {
    Status s = WriteOutput(f.json_out, core::DumpJson(result->report) + "\n");
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.html_out.empty()) {
    Status s = WriteOutput(f.html_out, train::RenderTrainingHtml(result->predictor->meta()));
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  const ml::BundleMeta& meta = result->predictor->meta();
  const ml::DataSummary& d = meta.trained->data;
  const ml::FitSummary& t = meta.trained->fit;
  std::printf("trained %s (%s, %s) -> %s\n", config->name.c_str(), config->model_type.c_str(),
              std::string(ml::Name(meta.task)).c_str(), result->bundle_dir.c_str());
  std::printf("data: %lld rows; split %lld train / %lld validation / %lld test; %lld features\n",
              static_cast<long long>(d.rows), static_cast<long long>(d.train_rows),
              static_cast<long long>(d.validation_rows), static_cast<long long>(d.test_rows),
              static_cast<long long>(d.features));
  std::string steps;
  for (const ml::CleaningStep& s : d.cleaning) {
    char counts[96];
    std::snprintf(counts, sizeof(counts), " removed %lld of %lld (%.1f%%; ",
                  static_cast<long long>(s.rows_removed), static_cast<long long>(s.rows_in),
                  100.0 * s.fraction());
    steps += (steps.empty() ? "" : ", ") + s.step + counts + s.setting + ")";
  }
  std::printf("cleaning: %s\n", steps.c_str());
  for (const std::string& w : meta.trained->warnings) {
    std::printf("warning: %s\n", w.c_str());
  }
  if (!t.best_validation) {
    std::printf("fit: %d rounds (no validation split: no early stopping, no validation metrics)\n",
                t.rounds);
  } else {
    std::printf("fit: %d rounds, best round %d (validation %s %.5f)%s\n", t.rounds,
                t.best_round + 1, t.monitor.c_str(), *t.best_validation,
                t.stopped_early ? ", stopped early" : "");
  }
  if (tracking.ok()) {
    Result<train::TrackedRun> tracked = train::RecordTraining(*config, *result, target, run);
    if (!tracked.ok()) {
      return ReportError(tracked.status().WithPrefix("the bundle is written, but tracking failed"));
    }
    std::printf("tracked: run %s in experiment '%s'%s\n", tracked->run_id.c_str(),
                config->experiment.c_str(),
                tracked->model_version > 0 ? ("; registered " + tracked->model_uri).c_str() : "");
    if (const std::string id = trace(&*result, Status::Ok()); !id.empty()) {
      std::printf("traced: %s (mlflow.get_trace, or the run's traces)\n", id.c_str());
    }
  } else if (!f.no_track && !f.quiet) {
    std::fprintf(stderr, "not tracked: no Plinth project here and no --tracking-uri\n");
  }
  const core::Json& m = meta.trained->metrics;
  if (m.contains("cv")) {
    std::printf("\ncross-validation (%lld folds, mean)\n%s", m["cv"]["folds"].get<long long>(),
                train::FormatMetrics(m["cv"]["mean"]).c_str());
  }
  if (m.contains("test") && !m["test"].is_null()) {
    std::printf("\ntest metrics%s\n%s", d.test_file ? " (data.test)" : "",
                train::FormatMetrics(m["test"]).c_str());
  } else if (m.contains("validation") && !m["validation"].is_null()) {
    std::printf("\nvalidation metrics\n%s", train::FormatMetrics(m["validation"]).c_str());
  }
  return kExitOk;
}

struct EvaluateFlags {
  std::string model;
  std::string data;
  std::string json_out;
  std::string html_out;
  TrackingFlags tracking;
};

int RunEvaluate(const EvaluateFlags& f) {
  Result<std::string> dir = ResolveModel(f.model, f.tracking);
  if (!dir.ok()) {
    return ReportError(dir.status());
  }
  auto predictor = ml::Predictor::Load(*dir);
  if (!predictor.ok()) {
    return ReportError(predictor.status());
  }
  auto metrics = train::EvaluateFile(**predictor, f.data);
  if (!metrics.ok()) {
    return ReportError(metrics.status());
  }
  if (!f.json_out.empty()) {
    Status s = WriteOutput(f.json_out, core::DumpJson(*metrics) + "\n");
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.html_out.empty()) {
    Status s = WriteOutput(f.html_out, train::RenderMetricsHtml(*metrics, f.model, f.data));
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  std::printf("%s", train::FormatMetrics(*metrics).c_str());
  return kExitOk;
}

struct ImportFlags {
  std::string library;
  std::string file;
  std::string schema;
  std::string output;
};

int RunImport(const ImportFlags& f) {
  auto bytes = core::ReadFile(f.file);
  if (!bytes.ok()) {
    return ReportError(bytes.status());
  }
  auto schema = core::ReadJsonFile(f.schema);
  if (!schema.ok()) {
    return ReportError(schema.status());
  }
  auto p = ml::ImportModel(f.library, *bytes, *schema, f.schema, f.output);
  if (!p.ok()) {
    return ReportError(Status(p.status().code(), f.file + ": " + p.status().message()));
  }
  std::printf("imported %s as a %s bundle -> %s\n", f.file.c_str(),
              std::string(ml::Name((*p)->task())).c_str(), f.output.c_str());
  return kExitOk;
}

}  // namespace

void RegisterTrain(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Clean, engineer features, split, fit with early stopping, evaluate, write a bundle");
  cmd->add_option("CONFIG", flags->config, "training config (YAML, docs/TRAINING.md)")->required();
  cmd->add_option("--set", flags->overrides,
                  "override a config key, e.g. --set model.learning_rate=0.05 (repeatable)");
  cmd->add_option("--json", flags->json_out, "write the training report as JSON");
  cmd->add_option("--html", flags->html_out,
                  "write an HTML report: data, metrics, confusion matrix, learning curve");
  cmd->add_flag("-q,--quiet", flags->quiet, "no progress on stderr");
  AddTrackingUriFlag(*cmd, flags->tracking);
  cmd->add_flag("--no-track", flags->no_track,
                "do not record the run in the tracking store or register the bundle");
  cmd->callback([flags, &run] { run = [flags] { return RunTrain(*flags); }; });

  auto eval = std::make_shared<EvaluateFlags>();
  CLI::App* ecmd =
      app.add_subcommand("evaluate", "Evaluate a model bundle on a labelled CSV or Parquet file");
  AddModelArgument(*ecmd, eval->model);
  ecmd->add_option("DATA", eval->data,
                   "labelled CSV file (.csv or .csv.gz), a .parquet file or a folder of them")
      ->required();
  ecmd->add_option("--json", eval->json_out, "write the metrics as JSON");
  ecmd->add_option("--html", eval->html_out, "write the metrics as an HTML report");
  AddTrackingUriFlag(*ecmd, eval->tracking);
  ecmd->callback([eval, &run] { run = [eval] { return RunEvaluate(*eval); }; });
}

void RegisterModels(CLI::App& app, Runner& run) {
  CLI::App* models = app.add_subcommand("models", "Model bundles and the registry");
  models->require_subcommand(1);
  for (auto [name, library, help] :
       {std::tuple{"import-xgboost", "xgboost",
                   "Wrap an XGBoost model file (UBJSON, JSON or binary) into a bundle"},
        std::tuple{"import-torchscript", "torch",
                   "Wrap a TorchScript module (torch.jit.save) into a bundle"}}) {
    auto flags = std::make_shared<ImportFlags>();
    flags->library = library;
    CLI::App* cmd = models->add_subcommand(name, help);
    cmd->add_option("FILE", flags->file, "the model file")->required();
    cmd->add_option("--schema", flags->schema,
                    "JSON: task, class_labels, inputs [{name, type}] (docs/FORMATS.md)")
        ->required();
    cmd->add_option("-o,--output", flags->output, "bundle directory to write")->required();
    cmd->callback([flags, &run] { run = [flags] { return RunImport(*flags); }; });
  }
  RegisterRegistry(*models, run);
  RegisterModelTest(*models, run);
  RegisterCompareLive(*models, run);
}

}  // namespace plinth::cli
