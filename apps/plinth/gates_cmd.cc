// plinth models test MODEL --gates gates.yaml [--data EVAL.csv] [--url URL] [--json OUT]
//                          [--html OUT] [--no-record] [-q]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "commands.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/json.h"
#include "gates/run.h"
#include "gates/suite.h"
#include "ml/bundle.h"
#include "monitor_reference.h"
#include "table/csv_reader.h"
#include "table/reader.h"
#include "tracking/model_uri.h"
#include "tracking_context.h"

namespace plinth::cli {
namespace {

struct TestFlags : ModelTestFlags {
  TrackingFlags tracking;
};

// The registered model name MODEL belongs to: the registry's, else the bundle's.
std::string RegisteredName(const tracking::ModelVersion& version, const ml::Predictor& p) {
  return !version.name.empty() ? version.name : p.meta().name;
}

// Records the report: a run of the experiment "gates/<model>" holding the JSON and HTML and a
// lineage edge from the version to it; then the gate run the store keeps for protected
// aliases (`effective`: gates::EffectiveDigest); then the version's tags plinth.gates.<suite>
// (passed or failed) and plinth.gates.<suite>.run, for people and MLflow clients. Returns the
// run id; `kept` says whether the store kept the gate run (a tracking server's store does not
// take it from a client).
Result<std::string> RecordGates(const gates::Report& report, const core::Json& json,
                                const std::string& html, const tracking::ModelVersion& version,
                                const std::string& data_sha256, const std::string& effective,
                                const TrackingFlags& flags, bool& kept) {
  PLINTH_ASSIGN_OR_RETURN(TrackingContext ctx, OpenTracking(flags, true));
  const std::string v = std::to_string(version.version);
  PLINTH_ASSIGN_OR_RETURN(
      tracking::Run run,
      CreateRecordRun(*ctx.tracking, "gates/" + version.name,
                      "gates " + report.suite + " on version " + v,
                      {{"plinth.gates.suite", report.suite},
                       {"plinth.gates.suite_sha256", report.suite_digest},
                       {"plinth.gates.effective_sha256", effective},
                       {"plinth.gates.model", version.name},
                       {"plinth.gates.model_version", v},
                       {"plinth.gates.result", report.passed() ? "passed" : "failed"},
                       {"plinth.data_sha256", data_sha256}}));
  const std::string& run_id = run.info.run_id;
  PLINTH_RETURN_IF_ERROR(tracking::PutRunArtifact(run.info.artifact_uri, "gates_report.json",
                                                  core::DumpJson(json), *ctx.artifacts));
  PLINTH_RETURN_IF_ERROR(
      tracking::PutRunArtifact(run.info.artifact_uri, "gates_report.html", html, *ctx.artifacts));
  PLINTH_RETURN_IF_ERROR(ctx.tracking->AddLineage(
      {"model_version", version.name + "/" + v, "run", run_id, "tested", 0}));
  const int64_t end = core::SystemClock().NowMicros() / 1000;
  PLINTH_RETURN_IF_ERROR(
      ctx.tracking->UpdateRun(run_id, tracking::RunStatus::kFinished, end, "").status());
  std::string failed;
  for (const gates::GateResult& g : report.results) {
    if (!g.passed) {
      failed += (failed.empty() ? "" : ", ") + g.name;
    }
  }
  Status stored =
      ctx.registry->RecordGateRun({version.name, version.version, report.suite, effective,
                                   report.passed(), failed, run_id, data_sha256, AccountName(), 0});
  if (!stored.ok() && stored.code() != StatusCode::kUnimplemented) {
    return stored;
  }
  kept = stored.ok();
  const std::string key = "plinth.gates." + report.suite;
  PLINTH_RETURN_IF_ERROR(ctx.registry->SetModelVersionTag(
      version.name, v, {key, report.passed() ? "passed" : "failed"}));
  PLINTH_RETURN_IF_ERROR(ctx.registry->SetModelVersionTag(version.name, v, {key + ".run", run_id}));
  return run_id;
}

// The version of `name` at `alias` to compare with: its bundle's folder, or "" when the model
// is registered and no version holds the alias yet (nothing to beat). Any other failure (the
// model not registered, a misspelt model, files missing) is an error.
Result<std::string> BaselineDir(const std::string& name, const std::string& alias,
                                const TrackingFlags& flags, tracking::ModelVersion& bv) {
  PLINTH_ASSIGN_OR_RETURN(TrackingContext ctx, OpenTracking(flags, true));
  PLINTH_RETURN_IF_ERROR(ctx.registry->GetRegisteredModel(name).status());
  Result<tracking::ModelVersion> at = ctx.registry->GetModelVersionByAlias(name, alias);
  if (!at.ok() && at.status().code() == StatusCode::kNotFound) {
    return std::string();
  }
  PLINTH_RETURN_IF_ERROR(at.status());
  return ResolveModel("models:/" + name + "/" + std::to_string(at->version), flags, &bv);
}

}  // namespace

int RunModelTest(const ModelTestFlags& f, const TrackingFlags& store_flags, std::string* run_id) {
  Result<gates::Suite> suite = gates::LoadSuite(f.gates);
  if (!suite.ok()) {
    return ReportError(suite.status().WithPrefix("--gates"));
  }
  tracking::ModelVersion version;
  Result<std::string> dir = ResolveModel(f.model, store_flags, &version);
  if (!dir.ok()) {
    return ReportError(dir.status().WithPrefix("MODEL"));
  }
  Result<std::unique_ptr<ml::Predictor>> loaded = ml::Predictor::Load(*dir);
  if (!loaded.ok()) {
    return ReportError(loaded.status().WithPrefix("MODEL"));
  }
  // One thread per prediction, as plinth serve scores requests.
  if (Status s = (*loaded)->SetPredictThreads(1); !s.ok()) {
    return ReportError(s);
  }
  gates::Inputs in;
  in.candidate = std::shared_ptr<const ml::Predictor>(std::move(*loaded));
  in.candidate_name = version.version > 0
                          ? "models:/" + version.name + "/" + std::to_string(version.version)
                          : f.model;
  in.base_dir = std::filesystem::path(f.gates).parent_path().string();
  in.url = f.url;
  in.serve_threads = f.threads;
  const bool terminal = ::isatty(::fileno(stderr)) != 0;
  if (!f.quiet && terminal) {
    in.progress = [](const std::string& what) {
      std::fprintf(stderr, "\rplinth models test: %-60.60s", what.c_str());
      std::fflush(stderr);
    };
  }
  // The baselines the metric gates name: models:/NAME@ALIAS of the candidate's model.
  const std::string name = RegisteredName(version, *in.candidate);
  for (const gates::Gate& g : suite->gates) {
    const std::string& alias = g.metric.baseline;
    if (g.kind != gates::Gate::Kind::kMetric || alias.empty() || in.baselines.count(alias)) {
      continue;
    }
    tracking::ModelVersion bv;
    Result<std::string> bdir = BaselineDir(name, alias, store_flags, bv);
    if (!bdir.ok()) {
      return ReportError(bdir.status().WithPrefix(g.where + ": baseline " + alias));
    }
    if (bdir->empty()) {
      in.baselines[alias] = nullptr;  // nothing to beat yet
      continue;
    }
    Result<std::unique_ptr<ml::Predictor>> b = ml::Predictor::Load(*bdir);
    if (!b.ok()) {
      return ReportError(b.status().WithPrefix(g.where + ": baseline " + alias));
    }
    in.baselines[alias] = std::move(*b);
    in.baseline_names[alias] = name + " version " + std::to_string(bv.version) + " (" + alias + ")";
  }
  // The evaluation data: --data, else the file's data: (relative to it).
  std::string data_path = f.data;
  if (data_path.empty() && !suite->data.empty()) {
    data_path = gates::PathNear(in.base_dir, suite->data);
  }
  table::Table data;
  std::string data_sha256;
  if (!data_path.empty()) {
    Result<table::CsvTable> read = table::ReadTable(data_path, table::CsvOptions());
    if (!read.ok()) {
      return ReportError(read.status().WithPrefix(f.data.empty() ? "data" : "--data"));
    }
    data = std::move(read->table);
    if (Status s = ConformTypes(data, *in.candidate, data_path); !s.ok()) {
      return ReportError(s);
    }
    Result<std::string> digest = table::DataDigest(data_path);
    if (!digest.ok()) {
      return ReportError(digest.status());
    }
    data_sha256 = *digest;
    in.data = &data;
    in.data_source = data_path;
  }
  // The reference set (read and scored: not free), when a gate uses it: drift, and without
  // evaluation data the rows of the output, latency and expectation gates.
  bool needs_reference = false;
  for (const gates::Gate& g : suite->gates) {
    needs_reference = needs_reference || g.kind == gates::Gate::Kind::kDrift ||
                      (in.data == nullptr && g.kind != gates::Gate::Kind::kMetric &&
                       g.kind != gates::Gate::Kind::kQuality);
  }
  Result<table::Table> reference = NotFound("not needed");
  if (needs_reference) {
    reference = ReadReferenceSet(*dir, f.model, *in.candidate, table::CsvOptions());
  }
  if (reference.ok()) {
    in.reference = &*reference;
  }
  Result<std::string> effective = gates::EffectiveDigest(*suite, in.base_dir, data_sha256, f.url);
  if (!effective.ok()) {
    return ReportError(effective.status().WithPrefix("--gates"));
  }
  Result<gates::Report> report = gates::RunGates(*suite, in);
  if (!f.quiet && terminal) {
    std::fprintf(stderr, "\r%-80s\r", "");
  }
  if (!report.ok()) {
    return ReportError(report.status());
  }
  const core::Json json = gates::ReportToJson(*report);
  const std::string html = f.html_out.empty() && (f.no_record || version.version == 0)
                               ? std::string()
                               : gates::RenderReportHtml(*report);
  if (!f.json_out.empty()) {
    if (Status s = WriteOutput(f.json_out, core::DumpJson(json) + "\n"); !s.ok()) {
      return ReportError(s.WithPrefix("--json"));
    }
  }
  if (!f.html_out.empty()) {
    if (Status s = WriteOutput(f.html_out, html); !s.ok()) {
      return ReportError(s.WithPrefix("--html"));
    }
  }
  if (!f.quiet) {
    std::fputs(gates::FormatReportText(*report).c_str(), stdout);
  }
  if (!f.no_record && version.version > 0) {
    bool kept = false;
    Result<std::string> run =
        RecordGates(*report, json, html, version, data_sha256, *effective, store_flags, kept);
    if (!run.ok()) {
      return ReportError(run.status().WithPrefix("recording the gates' result"));
    }
    if (run_id != nullptr) {
      *run_id = *run;
    }
    if (!f.quiet) {
      std::printf("recorded on %s version %lld: tag plinth.gates.%s = %s (run %s)\n",
                  version.name.c_str(), static_cast<long long>(version.version),
                  report->suite.c_str(), report->passed() ? "passed" : "failed", run->c_str());
    }
    if (!kept) {
      std::fprintf(stderr,
                   "plinth models test: note: the store is a tracking server, which keeps gate "
                   "runs for protected aliases only from plinth models test run where the store "
                   "is; this run does not count for them\n");
    }
  }
  return report->passed() ? kExitOk : kExitCheckFailed;
}

void RegisterModelTest(CLI::App& models, Runner& run) {
  auto f = std::make_shared<TestFlags>();
  CLI::App* cmd = models.add_subcommand(
      "test",
      "Run model tests (gates.yaml) on a model: exit 0 when every gate passes, 1 when "
      "one fails");
  AddModelArgument(*cmd, f->model);
  cmd->add_option("--gates", f->gates, "the gates file (docs/DEPLOYMENT.md)")->required();
  cmd->add_option(
      "--data", f->data,
      "labelled evaluation data (CSV or Parquet); default: the gates file's data:, else the "
      "test metrics recorded at training");
  cmd->add_option("--url", f->url,
                  "latency gates through this running endpoint (e.g. http://127.0.0.1:8080) "
                  "instead of plinth serve's request path started here");
  cmd->add_option("--threads", f->threads, "the in-process server's threads (as plinth serve)")
      ->check(ThreadCount(1));
  cmd->add_option("--json", f->json_out, "write the report as JSON");
  cmd->add_option("--html", f->html_out, "write the report as HTML");
  cmd->add_flag("--no-record", f->no_record,
                "do not record the result on the model version (tags and a run)");
  cmd->add_flag("-q,--quiet", f->quiet, "no table, no progress");
  AddTrackingUriFlag(*cmd, f->tracking);
  cmd->callback([f, &run] { run = [f] { return RunModelTest(*f, f->tracking); }; });
}

}  // namespace plinth::cli
