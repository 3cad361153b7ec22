// plinth monitor drift [MODEL] [--reference FILE] (--current FILE | --log DIR [--since T]
//                      [--until T]) [--rules drift.yaml] [--json OUT] [--html OUT]
//                      [--columns A,B]
#include <malloc.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <tuple>

#include "commands.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "core/text_table.h"
#include "data/project.h"
#include "ml/bundle.h"
#include "monitor/dataset_drift.h"
#include "monitor/multivariate.h"
#include "monitor/performance.h"
#include "monitor/prediction_log.h"
#include "monitor/report.h"
#include "monitor_reference.h"
#include "serving/prediction_log.h"
#include "table/reader.h"
#include "tracking/model_uri.h"
#include "tracking_context.h"

namespace plinth::cli {
namespace {

struct DriftFlags {
  std::string model;
  TrackingFlags tracking;
  std::string reference;
  std::string current;
  std::string log;
  bool use_log = false;  // --log given, with or without DIR
  std::string since;
  std::string until;
  std::string window;  // --window 1h: the last hour
  std::string traffic = "served";
  std::string rules;
  std::string json_out;
  std::string html_out;
  std::vector<std::string> columns;
  CsvFlags csv;
};

// The prediction log directory: `flag`, else where plinth serve writes `model`'s.
Result<std::string> LogDirFor(const std::string& flag, const std::string& model) {
  if (!flag.empty()) {
    return flag;
  }
  if (model.empty()) {
    return InvalidArgument("--log without DIR needs MODEL (its log is .plinth/monitoring/NAME)");
  }
  Result<data::Project> project = data::Project::Find(".");
  return serving::DefaultLogDir(project.ok() ? project->root() : "", model);
}

// The columns compared by default: with a model, its input columns, its label and its
// outputs that both samples have; without one, every column of the reference (with
// --log: the logged features and outputs).
std::vector<std::string> DefaultColumns(const Reference& ref, const table::Table& current,
                                        const std::vector<std::string>& logged_features) {
  std::vector<std::string> columns;
  auto both = [&](const std::string& name) {
    return ref.table.ColumnByName(name) != nullptr && current.ColumnByName(name) != nullptr;
  };
  if (ref.model) {
    for (const table::Field& field : ref.model->input_schema().fields()) {
      columns.push_back(field.name);  // a missing one is an error, named
    }
    const std::string& target = ref.model->meta().target_name;
    if (!target.empty() && both(target)) {
      columns.push_back(target);
    }
  } else if (!logged_features.empty()) {
    columns = logged_features;
  } else {
    return {};  // all of the reference's
  }
  for (size_t i = 0; i < current.num_columns(); ++i) {
    const std::string& name = current.schema().field(i).name;
    if (monitor::RoleOf(name, {}) == monitor::Role::kPrediction && both(name)) {
      columns.push_back(name);
    }
  }
  return columns;
}

// The multivariate drift of `current`'s `columns` as JSON, or {"skipped": why}.
core::Json MultivariateJson(const table::Table& reference, const table::Table& current,
                            const std::vector<std::string>& columns, int64_t min_rows) {
  Result<monitor::ReconstructionModel> pca = monitor::ReconstructionModel::Fit(reference, columns);
  if (!pca.ok()) {
    return {{"skipped", pca.status().message()}};
  }
  Result<monitor::MultivariateDrift> d = pca->Compare(current, min_rows);
  if (!d.ok()) {
    return {{"skipped", d.status().message()}};
  }
  return monitor::MultivariateToJson(*d);
}

// The flags both commands take: the rules file, and the log window (--since, --until,
// --traffic).
Status ReadRulesAndWindow(const std::string& rules_path, const std::string& since,
                          const std::string& until, const std::string& traffic,
                          monitor::DriftRules& rules, monitor::LogWindow& window) {
  if (!rules_path.empty()) {
    PLINTH_ASSIGN_OR_RETURN(rules, monitor::ReadDriftRules(rules_path));
  }
  using Traffic = monitor::LogWindow::Traffic;
  if (traffic == "served") {
    window.traffic = Traffic::kServed;
  } else if (traffic == "canary") {
    window.traffic = Traffic::kCanary;
  } else if (traffic == "all") {
    window.traffic = Traffic::kAll;
  } else {
    return InvalidArgument("--traffic " + traffic + ": expected served, canary or all");
  }
  for (const auto& [text, flag, slot] : {std::tuple{since, "--since", &window.since_us},
                                         std::tuple{until, "--until", &window.until_us}}) {
    if (!text.empty()) {
      PLINTH_ASSIGN_OR_RETURN(*slot, monitor::ParseLogTime(text, flag));
    }
  }
  return Status::Ok();
}

// Says how many requests --traffic left out (a canary's, or the served model's).
void NoteOtherTraffic(const monitor::LogRead& log, const std::string& traffic) {
  if (log.other_traffic > 0) {
    std::fprintf(stderr,
                 "plinth: note: %lld requests answered by %s left out (--traffic %s; all "
                 "reads every request)\n",
                 static_cast<long long>(log.other_traffic),
                 traffic == "served" ? "a canary" : "the served model", traffic.c_str());
  }
}

int RunDrift(const DriftFlags& f) {
  auto csv = ToCsvOptions(f.csv);
  if (!csv.ok()) {
    return ReportError(csv.status());
  }
  monitor::DriftRules rules;
  monitor::LogWindow window;
  if (Status s = ReadRulesAndWindow(f.rules, f.since, f.until, f.traffic, rules, window); !s.ok()) {
    return ReportError(s);
  }
  if (!f.window.empty()) {  // the last DURATION
    Result<int64_t> span = monitor::ParseDuration(f.window, "--window");
    if (!span.ok()) {
      return ReportError(span.status());
    }
    window.since_us = core::SystemClock().NowMicros() - *span;
  }
  Result<Reference> ref = LoadReference(f.model, f.reference, f.tracking, *csv);
  if (!ref.ok()) {
    return ReportError(ref.status());
  }
  std::string log_dir;
  if (f.use_log) {
    Result<std::string> dir = LogDirFor(f.log, ref->model ? ref->model->meta().name : "");
    if (!dir.ok()) {
      return ReportError(dir.status());
    }
    log_dir = *dir;
  }
  const std::string target = ref->model ? ref->model->meta().target_name : std::string();
  table::Table current;
  std::vector<std::string> logged_features;
  std::string current_source = f.current;
  if (f.use_log) {
    // A window of the prediction log: its features are what is compared.
    Result<monitor::LogRead> log = monitor::ReadPredictionLog(log_dir, window);
    if (!log.ok()) {
      return ReportError(log.status());
    }
    if (log->skipped_lines > 0) {
      std::fprintf(stderr, "plinth: warning: %lld malformed log lines skipped, first: %s\n",
                   static_cast<long long>(log->skipped_lines), log->skipped.front().c_str());
    }
    NoteOtherTraffic(*log, f.traffic);
    std::string labelled;
    if (!target.empty()) {
      // Ground truth from /feedback, joined by request id and row: target drift.
      Result<monitor::Feedback> feedback = monitor::ReadFeedback(log_dir);
      if (!feedback.ok()) {
        return ReportError(feedback.status());
      }
      const int64_t found = monitor::JoinFeedback(*log, *feedback, target,
                                                  ref->model->task() == ml::Task::kRegression);
      labelled = ", " + std::to_string(found) + " labelled";
    }
    if (log->rows == 0) {  // never "no drift", nor a confusing missing column
      return ReportError(InvalidArgument("not enough data: the prediction log " + log_dir +
                                         " has no scored request" +
                                         (f.since.empty() ? "" : " since " + f.since) +
                                         (f.window.empty() ? "" : " in the last " + f.window) +
                                         (f.until.empty() ? "" : " before " + f.until)));
    }
    logged_features = log->features;
    current = std::move(log->table);
    current_source = log_dir + " (" + std::to_string(log->lines) + " requests" + labelled +
                     (f.since.empty() ? "" : " since " + f.since) +
                     (f.until.empty() ? "" : " until " + f.until) +
                     (f.window.empty() ? "" : " in the last " + f.window) + ")";
  } else {
    auto read = table::ReadTable(f.current, *csv);
    if (!read.ok()) {
      return ReportError(read.status());
    }
    ReportSkippedLines(read->info, *csv);
    current = std::move(read->table);
  }
  if (ref->model) {
    for (Status s : {ConformTypes(current, *ref->model, current_source),
                     AddOutputs(current, *ref->model, current_source)}) {
      if (!s.ok()) {
        return ReportError(s);
      }
    }
  }
  const std::vector<std::string> columns =
      f.columns.empty() ? DefaultColumns(*ref, current, logged_features) : f.columns;
  auto report = monitor::CompareTables(ref->table, current, rules, columns, target);
  if (!report.ok()) {
    return ReportError(report.status());
  }
  report->reference_source = ref->source;
  report->current_source = current_source;
  // The model's quality: realized where labels are, estimated (CBPE) where not.
  std::optional<monitor::PerformanceReport> performance;
  if (ref->model) {
    const bool regression = ref->model->task() == ml::Task::kRegression;
    Result<monitor::PerformanceReport> p = monitor::ComparePerformance(
        ref->table, current, regression ? std::vector<std::string>() : ref->model->class_labels(),
        target);
    if (!p.ok()) {
      return ReportError(p.status());
    }
    performance = std::move(*p);
  }
  // Multivariate drift of the model's inputs (a PCA fitted on the reference).
  core::Json multivariate = nullptr;
  if (ref->model) {
    multivariate = MultivariateJson(ref->table, current, InputNames(*ref->model), rules.min_values);
  }
  if (!f.json_out.empty()) {
    core::Json json = monitor::DriftReportToJson(*report);
    if (ref->model) {
      json["model"] = {{"name", ref->model->meta().name}, {"source", ref->model_name}};
      json["performance"] = monitor::PerformanceToJson(*performance);
      json["multivariate_drift"] = multivariate;
    }
    Status s = WriteOutput(f.json_out, core::DumpJson(json) + "\n");
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.html_out.empty()) {
    Status s = WriteOutput(f.html_out, monitor::RenderDriftHtml(*report));
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.csv.quiet) {
    std::fputs(monitor::FormatDriftText(*report).c_str(), stdout);
    if (performance) {
      std::fputs(monitor::FormatPerformanceText(*performance).c_str(), stdout);
    }
    if (multivariate.contains("drifted")) {
      std::printf("multivariate drift %s (PCA reconstruction error %.4f, threshold %.4f)\n",
                  multivariate["drifted"].get<bool>() ? "DETECTED" : "not detected",
                  multivariate["error"].get<double>(), multivariate["threshold"].get<double>());
    } else if (multivariate.contains("skipped")) {
      std::printf("multivariate drift not judged: %s\n",
                  multivariate["skipped"].get<std::string>().c_str());
    }
  }
  if (report->compared == 0) {  // never reported as "no drift"
    return ReportError(
        InvalidArgument("not enough data: no feature has " + std::to_string(rules.min_values) +
                        " values in both samples (min_values), so drift could not be judged"));
  }
  return report->dataset_drift ? kExitCheckFailed : kExitOk;
}

struct ReportFlags {
  std::string model;
  TrackingFlags tracking;
  std::string reference;
  std::string log;
  std::string every = "1d";
  std::string since;
  std::string until;
  std::string traffic = "served";
  std::string rules;
  std::string json_out;
  std::string html_out;
  bool no_record = false;
  CsvFlags csv;
};

// A metric key MLflow accepts: letters, digits, _ - . / and space; others become _.
std::string MetricKey(std::string key) {
  for (char& c : key) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                    c == '.' || c == '/' || c == ' ';
    c = ok ? c : '_';
  }
  return key;
}

// Records the report as a run of the experiment "monitoring/<model>": one metric step
// per window (its time the window's start), the JSON and HTML as artifacts, and a
// lineage edge from the model version it watched. Returns the run id.
Result<std::string> RecordReport(const monitor::MonitorReport& report, const core::Json& json,
                                 const std::string& html, const tracking::ModelVersion& version,
                                 const TrackingFlags& flags) {
  PLINTH_ASSIGN_OR_RETURN(TrackingContext ctx, OpenTracking(flags, false));
  if (!ctx.ok()) {
    return std::string();
  }
  tracking::TrackingStore& store = *ctx.tracking;
  PLINTH_ASSIGN_OR_RETURN(
      tracking::Run run,
      CreateRecordRun(
          store, "monitoring/" + report.model,
          "report " + (report.windows.empty()
                           ? std::string()
                           : json["windows"].front()["start"].get<std::string>() + " .. " +
                                 json["windows"].back()["end"].get<std::string>()),
          {{"plinth.monitor.model", report.model},
           {"plinth.monitor.model_version", report.model_version},
           {"plinth.monitor.log", report.log_source},
           {"plinth.monitor.every_seconds", std::to_string(report.every_us / 1000000)}}));
  const std::string& run_id = run.info.run_id;
  std::vector<tracking::Metric> metrics;
  int64_t step = 0;
  for (const core::Json& w : json["windows"]) {
    const int64_t at =
        static_cast<int64_t>(report.windows[static_cast<size_t>(step)].start_us / 1000);
    auto add = [&](const std::string& key, const core::Json& v) {
      if (v.is_number()) {
        metrics.push_back({MetricKey(key), v.get<double>(), at, step});
      } else if (v.is_boolean()) {
        metrics.push_back({MetricKey(key), v.get<bool>() ? 1.0 : 0.0, at, step});
      }
    };
    for (const char* key : {"requests", "rows", "rows_per_second", "error_rate", "drifted_share",
                            "dataset_drift", "prediction_drift", "prediction_drift_score"}) {
      add(key, w.value(key, core::Json()));
    }
    for (const char* q : {"p50", "p90", "p99"}) {
      add(std::string("latency_") + q + "_ms", w["latency_ms"][q]);
    }
    const core::Json perf = w.value("performance", core::Json());
    for (const char* kind : {"realized", "estimated"}) {
      if (perf.is_object() && perf[kind].is_object()) {
        for (const char* m : {"accuracy", "precision", "recall", "f1", "mae", "rmse"}) {
          add(std::string(kind) + "_" + m, perf[kind].value(m, core::Json()));
        }
      }
    }
    const core::Json mv = w.value("multivariate_drift", core::Json());
    if (mv.is_object()) {
      add("multivariate_error", mv.value("error", core::Json()));
      add("multivariate_threshold", mv.value("threshold", core::Json()));
    }
    const core::Json columns = w.value("columns", core::Json::object());
    for (const auto& [name, c] : columns.items()) {
      add("drift_score." + name, c.value("score", core::Json()));
      add("missing_share." + name, c.value("missing_share", core::Json()));
    }
    ++step;
  }
  for (size_t i = 0; i < metrics.size(); i += 1000) {
    std::vector<tracking::Metric> chunk(
        metrics.begin() + static_cast<ptrdiff_t>(i),
        metrics.begin() + static_cast<ptrdiff_t>(std::min(metrics.size(), i + 1000)));
    PLINTH_RETURN_IF_ERROR(store.LogBatch(run_id, chunk, {}, {}));
  }
  PLINTH_RETURN_IF_ERROR(tracking::PutRunArtifact(run.info.artifact_uri, "monitor_report.json",
                                                  core::DumpJson(json), *ctx.artifacts));
  PLINTH_RETURN_IF_ERROR(
      tracking::PutRunArtifact(run.info.artifact_uri, "monitor_report.html", html, *ctx.artifacts));
  if (version.version > 0) {
    PLINTH_RETURN_IF_ERROR(
        store.AddLineage({"model_version", version.name + "/" + std::to_string(version.version),
                          "run", run_id, "monitored", 0}));
  }
  const int64_t end = core::SystemClock().NowMicros() / 1000;
  PLINTH_RETURN_IF_ERROR(store.UpdateRun(run_id, tracking::RunStatus::kFinished, end, "").status());
  return run_id;
}

int RunReport(const ReportFlags& f) {
  // Each window's table is made and freed in turn: glibc keeps the freed memory for the
  // next one instead of unmapping it (whose pages the next window would fault in again).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  auto csv = ToCsvOptions(f.csv);
  if (!csv.ok()) {
    return ReportError(csv.status());
  }
  monitor::ReportOptions options;
  monitor::LogWindow window;
  if (Status s = ReadRulesAndWindow(f.rules, f.since, f.until, f.traffic, options.rules, window);
      !s.ok()) {
    return ReportError(s);
  }
  Result<int64_t> every = monitor::ParseDuration(f.every, "--every");
  if (!every.ok()) {
    return ReportError(every.status());
  }
  options.every_us = *every;
  options.since_us = window.since_us;
  options.until_us = window.until_us;
  tracking::ModelVersion version;
  Result<Reference> ref = LoadReference(f.model, f.reference, f.tracking, *csv, &version);
  if (!ref.ok()) {
    return ReportError(ref.status());
  }
  const ml::Predictor& model = *ref->model;
  Result<std::string> dir = LogDirFor(f.log, model.meta().name);
  if (!dir.ok()) {
    return ReportError(dir.status());
  }
  const std::string log_dir = *dir;
  Result<monitor::LogRead> log = monitor::ReadPredictionLog(log_dir, window);
  if (!log.ok()) {
    return ReportError(log.status());
  }
  NoteOtherTraffic(*log, f.traffic);
  options.target = model.meta().target_name;
  options.features = InputNames(model);
  const bool regression = model.task() == ml::Task::kRegression;
  if (!regression) {
    options.class_labels = model.class_labels();
  }
  Result<monitor::Feedback> feedback = monitor::ReadFeedback(log_dir);
  if (!feedback.ok()) {
    return ReportError(feedback.status());
  }
  monitor::JoinFeedback(*log, *feedback, options.target, regression);
  Status conformed = ConformTypes(log->table, model, log_dir);
  if (!conformed.ok()) {
    return ReportError(conformed);
  }
  // The whole period's distributions are drawn in the HTML only.
  options.overall = !f.html_out.empty();
  Result<monitor::ReconstructionModel> pca =
      monitor::ReconstructionModel::Fit(ref->table, options.features);
  Result<monitor::MonitorReport> report =
      monitor::BuildMonitorReport(ref->table, *log, options, pca.ok() ? &*pca : nullptr);
  if (!report.ok()) {
    return ReportError(report.status());
  }
  report->model = model.meta().name;
  report->model_version = version.version > 0 ? std::to_string(version.version) : "";
  report->reference_source = ref->source;
  report->log_source = log_dir;
  core::Json json = monitor::MonitorReportToJson(*report);
  const std::string html = monitor::RenderMonitorHtml(*report);
  for (const auto& [path, text] :
       {std::pair{f.json_out, core::DumpJson(json) + "\n"}, std::pair{f.html_out, html}}) {
    if (!path.empty()) {
      if (Status s = WriteOutput(path, text); !s.ok()) {
        return ReportError(s);
      }
    }
  }
  if (!f.csv.quiet) {
    std::fputs(monitor::FormatMonitorText(*report).c_str(), stdout);
  }
  if (!f.no_record) {
    Result<std::string> run_id = RecordReport(*report, json, html, version, f.tracking);
    if (!run_id.ok()) {
      return ReportError(run_id.status().WithPrefix("recording the report"));
    }
    if (!run_id->empty() && !f.csv.quiet) {
      std::printf("recorded as run %s (experiment monitoring/%s)\n", run_id->c_str(),
                  report->model.c_str());
    }
  }
  return kExitOk;
}

struct AlertsFlags {
  std::string model;
  std::string log;
  bool json = false;
};

// The alert history plinth serve --monitor appends (alerts.jsonl in the log directory).
int RunAlerts(const AlertsFlags& f) {
  Result<std::string> found = LogDirFor(f.log, f.model);
  if (!found.ok()) {
    return ReportError(found.status().message().starts_with("--log without DIR")
                           ? InvalidArgument("--log DIR or a model NAME is required")
                           : found.status());
  }
  const std::string dir = *found;
  const std::string path = dir + "/alerts.jsonl";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (!std::filesystem::is_directory(dir, ec)) {
      return ReportError(NotFound(dir + ": no such log directory"));
    }
    std::fputs(f.json ? "[]\n" : "no alert has fired\n", stdout);
    return kExitOk;
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    return ReportError(InvalidArgument(path + ": not a regular file"));
  }
  Result<std::string> text = core::ReadFile(path);
  if (!text.ok()) {
    return ReportError(text.status());
  }
  core::Json events = core::Json::array();
  core::TextTable t({"time", "alert", "status", "severity", "rule", "value", "model"},
                    {false, false, false, false, false, true, false});
  int64_t line_no = 0, skipped = 0;
  for (size_t start = 0; start < text->size();) {
    size_t end = text->find('\n', start);
    end = end == std::string::npos ? text->size() : end;
    ++line_no;
    Result<core::Json> j =
        core::ParseJson(std::string_view(*text).substr(start, end - start), "alert", 4);
    start = end + 1;
    if (!j.ok() || !j->is_object() || !j->value("alert", core::Json()).is_string()) {
      ++skipped;
      continue;
    }
    auto text_of = [&](const char* key) {  // any type: a tampered line is shown as it is
      const core::Json v = j->value(key, core::Json());
      return v.is_string() ? v.get<std::string>() : v.is_null() ? std::string() : v.dump();
    };
    if (!f.model.empty() && text_of("model") != f.model) {
      continue;
    }
    t.AddRow({text_of("time"), text_of("alert"), text_of("status"), text_of("severity"),
              text_of("rule"), text_of("value"),
              text_of("model") + " " + text_of("model_version")});
    events.push_back(std::move(*j));
  }
  if (skipped > 0) {
    std::fprintf(stderr, "plinth: warning: %s: %lld unreadable lines skipped\n", path.c_str(),
                 static_cast<long long>(skipped));
  }
  std::fputs(f.json ? (core::DumpJson(events) + "\n").c_str() : t.Render().c_str(), stdout);
  return kExitOk;
}

}  // namespace

void RegisterMonitor(CLI::App& app, Runner& run) {
  CLI::App* monitor = app.add_subcommand("monitor", "Drift of data and models against a reference");
  monitor->require_subcommand(1);
  auto flags = std::make_shared<DriftFlags>();
  CLI::App* cmd = monitor->add_subcommand(
      "drift",
      "Data, prediction and target drift of current data (a CSV or Parquet file or a window of the "
      "prediction log) against a model's reference set, per column with Evidently's tests; "
      "exit 1 when the dataset drifts");
  AddModelArgument(*cmd, flags->model, false);
  AddTrackingUriFlag(*cmd, flags->tracking);
  cmd->add_option("--reference", flags->reference,
                  "the reference data (CSV, .csv.gz, Parquet); default: the model's reference set");
  auto* current =
      cmd->add_option("--current", flags->current, "the current data (CSV, .csv.gz, Parquet)");
  auto* log = cmd->add_option("--log", flags->log,
                              "the current data from plinth serve's prediction log directory (its "
                              "features and outputs, and with MODEL the labels sent to /feedback); "
                              "without DIR, where plinth serve writes MODEL's")
                  ->expected(0, 1);
  current->excludes(log);
  auto* since = cmd->add_option("--since", flags->since,
                                "with --log: requests from this time (UTC, ISO 8601)")
                    ->needs(log);
  cmd->add_option("--window", flags->window, "with --log: the last 1h, 30m, 1d, ...")
      ->needs(log)
      ->excludes(since);
  cmd->add_option("--until", flags->until, "with --log: requests before this time")->needs(log);
  cmd->add_option("--traffic", flags->traffic,
                  "with --log: whose requests, when plinth serve --canary split them: served, "
                  "canary or all")
      ->needs(log)
      ->capture_default_str();
  cmd->add_option("--rules", flags->rules,
                  "YAML: drift_share, min_values, and per column method, threshold, ignore "
                  "(docs/MONITORING.md)");
  cmd->add_option("--columns", flags->columns, "compare only these columns")->delimiter(',');
  cmd->add_option("--json", flags->json_out, "write the report as JSON");
  cmd->add_option("--html", flags->html_out,
                  "write an HTML report with each column's distributions overlaid");
  AddCsvFlags(*cmd, flags->csv);
  auto report = std::make_shared<ReportFlags>();
  CLI::App* rep = monitor->add_subcommand(
      "report",
      "The prediction log over consecutive windows against the model's reference set: drift, "
      "latency, throughput, errors, realized and estimated quality; recorded in the tracking "
      "store");
  AddModelArgument(*rep, report->model);
  AddTrackingUriFlag(*rep, report->tracking);
  rep->add_option("--log", report->log,
                  "plinth serve's prediction log directory (default: where plinth serve writes "
                  "this model's, .plinth/monitoring/NAME)");
  rep->add_option("--every", report->every, "the window length: 1d, 6h, 30m, 90s, 1w (default 1d)");
  rep->add_option("--since", report->since, "the first window starts here (UTC, ISO 8601)");
  rep->add_option("--until", report->until, "the last window ends here");
  rep->add_option("--traffic", report->traffic,
                  "whose requests, when plinth serve --canary split them: served, canary or all")
      ->capture_default_str();
  rep->add_option("--reference", report->reference,
                  "the reference data (CSV or Parquet); default: the model's reference set");
  rep->add_option("--rules", report->rules, "drift rules (docs/MONITORING.md)");
  rep->add_option("--json", report->json_out, "write the report as JSON");
  rep->add_option("--html", report->html_out, "write the report as HTML with charts");
  rep->add_flag("--no-record", report->no_record,
                "do not record the report as a run in the tracking store");
  AddCsvFlags(*rep, report->csv);
  auto alerts = std::make_shared<AlertsFlags>();
  CLI::App* al = monitor->add_subcommand(
      "alerts", "The alerts plinth serve --monitor fired and resolved, oldest first");
  al->add_option("NAME", alerts->model, "the model's name (its log directory, and a filter)");
  al->add_option("--log", alerts->log,
                 "the log directory (default: .plinth/monitoring/NAME in the project)");
  al->add_flag("--json", alerts->json, "print JSON");
  al->callback([alerts, &run] { run = [alerts] { return RunAlerts(*alerts); }; });
  rep->callback([report, &run] { run = [report] { return RunReport(*report); }; });
  cmd->callback([flags, log, &run] {
    flags->use_log = log->count() > 0;
    if (flags->current.empty() && !flags->use_log) {
      throw CLI::ValidationError("--current or --log", "one of them is required");
    }
    if (flags->model.empty() && flags->reference.empty()) {
      throw CLI::ValidationError("MODEL or --reference", "one of them is required");
    }
    run = [flags] { return RunDrift(*flags); };
  });
}

}  // namespace plinth::cli
