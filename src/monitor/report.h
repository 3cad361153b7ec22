// The monitoring report over time (`plinth monitor report`): a prediction log cut into
// consecutive windows (by the requests' times), and per window what happened to the
// model: requests, rows, throughput, error rate, latency quantiles, drift of every
// feature against the reference (score, verdict, missing share), dataset, prediction
// and multivariate drift, realized quality where labels arrived and the estimate (CBPE)
// everywhere. Rendered as a terminal table, JSON and an HTML page with line charts over
// the windows and each feature's distributions over the whole period.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "monitor/dataset_drift.h"
#include "monitor/multivariate.h"
#include "monitor/performance.h"
#include "monitor/prediction_log.h"
#include "table/table.h"

namespace plinth::monitor {

struct ReportOptions {
  int64_t every_us = int64_t{86400} * 1000000;
  std::optional<int64_t> since_us, until_us;  // default: the log's first and last window
  DriftRules rules;
  std::string target;                     // the label column ("" when unknown)
  std::vector<std::string> class_labels;  // empty: a regressor
  std::vector<std::string> features;      // the model's input columns
  int64_t max_windows = 10000;
  // Compare the whole period at once too (MonitorReport::overall, the HTML's distributions).
  bool overall = true;
};

struct WindowReport {
  int64_t start_us = 0, end_us = 0;
  int64_t requests = 0, failed = 0, rows = 0, labelled = 0;
  double rows_per_second = 0;
  double error_rate = 0;                                        // failed / (requests + failed)
  std::optional<double> latency_p50, latency_p90, latency_p99;  // ms, of scored requests
  std::optional<DriftReport> drift;                             // nullopt: no rows
  std::optional<PerformanceReport> performance;
  core::Json multivariate = nullptr;  // MultivariateToJson, or {"skipped": why}
};

struct MonitorReport {
  std::string model, model_version, reference_source, log_source;
  int64_t every_us = 0;
  std::vector<WindowReport> windows;
  std::optional<DriftReport> overall;  // every window's rows together (ReportOptions::overall)
  int64_t skipped_lines = 0;
  std::vector<std::string> skipped;
};

// "1d", "6h", "30m", "90s", "1w": kInvalidArgument naming `flag` otherwise (1s to 366d).
Result<int64_t> ParseDuration(std::string_view text, std::string_view flag);

// numpy.percentile's default (linear) of `values` (sorted in place); nullopt when empty.
std::optional<double> Percentile(std::vector<double>& values, double q);

// The report of `log` against `reference`. `pca`, when given, judges multivariate drift
// per window. Errors: too many windows, a feature the log lacks.
Result<MonitorReport> BuildMonitorReport(const table::Table& reference, const LogRead& log,
                                         const ReportOptions& options,
                                         const ReconstructionModel* pca);

// The columns a window compares: the features, the label where both sides have it, the
// model's outputs the reference has.
std::vector<std::string> ComparedColumns(const table::Table& reference, const table::Table& rows,
                                         const ReportOptions& options);
// Fills `win` (whose start, end, requests and failed are set) from its rows and its
// scored requests' latencies (sorted in place): everything else a window reports. `perf`
// is PreparePerformance of `reference`, made once for all windows.
Status FillWindow(const table::Table& reference, const table::Table& rows,
                  std::vector<double>& latencies, const std::vector<std::string>& columns,
                  const ReportOptions& options, const PerformanceReference& perf,
                  const ReconstructionModel* pca, WindowReport& win);
core::Json WindowToJson(const WindowReport& w);

core::Json MonitorReportToJson(const MonitorReport& r);
std::string FormatMonitorText(const MonitorReport& r);
std::string RenderMonitorHtml(const MonitorReport& r);

}  // namespace plinth::monitor
