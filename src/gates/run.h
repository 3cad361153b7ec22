// Runs a gates suite (gates/suite.h) on a candidate model: each gate passed or failed,
// with what was observed and what was expected; a gate that cannot run (no evaluation
// data for a metric per slice, a column the data lacks) is an error before any verdict.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "gates/suite.h"
#include "ml/bundle.h"
#include "table/table.h"

namespace plinth::gates {

struct Inputs {
  std::shared_ptr<const ml::Predictor> candidate;
  std::string candidate_name;  // "models:/adult-income/3", or the bundle's path
  // The baselines the suite names, by alias, and what each is ("adult-income version 2").
  std::map<std::string, std::shared_ptr<const ml::Predictor>> baselines;
  std::map<std::string, std::string> baseline_names;
  // Labelled evaluation rows (typed as the model's inputs), or null: metric gates then
  // judge the metrics recorded on the test split at training.
  const table::Table* data = nullptr;
  std::string data_source;
  // The model's reference set: what drift is judged against, and the rows latency, output
  // and expectation gates use when there is no evaluation data. May be null.
  const table::Table* reference = nullptr;
  std::string base_dir;  // the gates file's folder: quality suites are relative to it
  std::string url;       // latency through this running endpoint instead of one started here
  int serve_threads = 2;
  std::function<void(const std::string&)> progress;  // "latency, 1 row: 400/1000"
};

struct GateResult {
  std::string name;
  std::string kind;  // metric, latency, output, quality, drift, invariance, directional
  std::string where;
  bool passed = false;
  std::string observed;  // "0.8712"
  std::string expected;  // ">= 0.9"
  std::string detail;    // one line: why it failed, or what was judged
  core::Json values;     // the figures, for the JSON report
};

struct Report {
  std::string suite;
  std::string suite_source;
  std::string suite_digest;
  std::string model;
  std::string data_source;  // or "the test metrics recorded at training"
  int64_t started_us = 0;
  double seconds = 0;
  std::vector<GateResult> results;
  bool passed() const;
  int failed() const;
};

Result<Report> RunGates(const Suite& suite, const Inputs& in);

// The report as JSON ("plinth.gates/v1", docs/DEPLOYMENT.md), text and HTML.
core::Json ReportToJson(const Report& r);
std::string FormatReportText(const Report& r);
std::string RenderReportHtml(const Report& r);

}  // namespace plinth::gates
