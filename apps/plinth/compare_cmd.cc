// plinth models compare-live NAME [--log DIR] [--since T | --window D] [--until T] [--json OUT]
// The served model beside its challenger, from the prediction log: each model on the requests
// it answered (a canary's share, plinth serve --canary: requests, failures, latency, and on
// rows whose ground truth reached /feedback, accuracy or MAE and RMSE), and a shadow (plinth
// serve --shadow) beside the served model on the same rows: how often they agree, how each did.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include "commands.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/text_table.h"
#include "data/project.h"
#include "monitor/prediction_log.h"
#include "monitor/report.h"
#include "serving/prediction_log.h"

namespace plinth::cli {
namespace {

using core::Json;

struct CompareFlags {
  std::string name;
  std::string log;
  std::string since;
  std::string until;
  std::string window;
  std::string json_out;
};

// What ground truth says of one model's predictions: rows with a label, and the sum of
// right answers (classification) or of absolute and squared errors (regression).
struct Scores {
  int64_t labelled = 0;
  double sum = 0;
  double sum_sq = 0;
  void Add(double v, double sq) {
    ++labelled;
    sum += v;
    sum_sq += sq;
  }
};

// One model version in one role (served, canary) and the requests it answered.
struct Model {
  int64_t requests = 0;  // scored
  int64_t failed = 0;    // answered with an error
  int64_t rows = 0;
  std::vector<double> latencies;  // ms, of the scored requests
  Scores scores;
};

// One pair of versions (served, shadow) on the rows both scored.
struct Pair {
  int64_t requests = 0;
  int64_t rows = 0;
  int64_t agreed = 0;
  Scores served;
  Scores shadow;
};

// The q-quantile of sorted `v` (nearest rank), NaN when empty.
double Quantile(const std::vector<double>& v, double q) {
  if (v.empty()) {
    return NAN;
  }
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

bool Numeric(const table::Column& c) {
  return c.type() == table::DataType::kInt64 || c.type() == table::DataType::kFloat64;
}

Result<monitor::LogWindow> WindowOf(const CompareFlags& f) {
  monitor::LogWindow window;
  if (!f.since.empty()) {
    PLINTH_ASSIGN_OR_RETURN(window.since_us, monitor::ParseLogTime(f.since, "--since"));
  }
  if (!f.until.empty()) {
    PLINTH_ASSIGN_OR_RETURN(window.until_us, monitor::ParseLogTime(f.until, "--until"));
  }
  if (!f.window.empty()) {
    PLINTH_ASSIGN_OR_RETURN(int64_t span, monitor::ParseDuration(f.window, "--window"));
    window.since_us = core::SystemClock().NowMicros() - span;
  }
  return window;
}

int RunCompareLive(const CompareFlags& f) {
  std::string dir = f.log;
  if (dir.empty()) {
    Result<data::Project> project = data::Project::Find(".");
    Result<std::string> at = serving::DefaultLogDir(project.ok() ? project->root() : "", f.name);
    if (!at.ok()) {
      return ReportError(at.status().WithPrefix("NAME"));
    }
    dir = *at;
  }
  Result<monitor::LogWindow> window = WindowOf(f);
  if (!window.ok()) {
    return ReportError(window.status());
  }
  Result<monitor::LogRead> log = monitor::ReadPredictionLog(dir, *window);
  if (!log.ok()) {
    return ReportError(log.status().WithPrefix("--log " + dir));
  }
  Result<monitor::Feedback> feedback = monitor::ReadFeedback(dir);
  if (!feedback.ok()) {
    return ReportError(feedback.status().WithPrefix("--log " + dir));
  }
  const table::Column* served = log->table.ColumnByName("prediction");
  const table::Column* shadow = log->table.ColumnByName("shadow_prediction");
  const bool canary = std::any_of(log->requests.begin(), log->requests.end(),
                                  [](const monitor::LogRequest& r) { return r.canary; });
  if (served == nullptr || (shadow == nullptr && !canary)) {
    return ReportError(FailedPrecondition(
        "--log " + dir + ": no request in " +
        (f.since.empty() && f.window.empty() ? std::string("it") : std::string("the window")) +
        " was scored by a shadow or answered by a canary (plinth serve --shadow, --canary)"));
  }
  const bool regression = Numeric(*served) && (shadow == nullptr || Numeric(*shadow));
  // Each row's label from /feedback: a number for a regressor (else none), text otherwise.
  auto label = [&](const monitor::LogRequest& r, int64_t row) -> std::optional<std::string> {
    auto it = feedback->labels.find(monitor::FeedbackKey(r.request_id, row));
    if (it == feedback->labels.end()) {
      return std::nullopt;
    }
    return it->second;
  };
  // Adds prediction `i` of `col` against `truth` to a model's scores.
  auto score = [&](const table::Column& col, int64_t i, const std::string& truth, Scores& s) {
    if (!regression) {
      s.Add(col.FormatValue(i) == truth ? 1 : 0, 0);
      return;
    }
    char* end = nullptr;
    const double y = std::strtod(truth.c_str(), &end);
    if (end != truth.c_str() && *end == '\0' && std::isfinite(y)) {
      const double e = col.GetDouble(i) - y;
      s.Add(std::abs(e), e * e);
    }
  };
  std::map<std::pair<bool, std::string>, Model> models;  // (canary, version): served first
  std::map<std::pair<std::string, std::string>, Pair> pairs;
  int64_t offset = 0;
  int64_t scored_requests = 0;
  for (const monitor::LogRequest& r : log->requests) {
    const int64_t first = offset;
    offset += r.rows;
    Model& m = models[{r.canary, r.model_version}];
    if (r.status >= 400) {
      ++m.failed;
      continue;
    }
    ++m.requests;
    ++scored_requests;
    m.rows += r.rows;
    if (std::isfinite(r.latency_ms)) {
      m.latencies.push_back(r.latency_ms);
    }
    if (!r.shadow_version.empty() && shadow != nullptr) {
      ++pairs[{r.model_version, r.shadow_version}].requests;
    }
    for (int64_t i = first; i < first + r.rows; ++i) {
      if (served->IsNull(i)) {
        continue;
      }
      const std::optional<std::string> truth = label(r, i - first);
      if (truth) {
        score(*served, i, *truth, m.scores);
      }
      if (r.shadow_version.empty() || shadow == nullptr || shadow->IsNull(i)) {
        continue;
      }
      Pair& p = pairs[{r.model_version, r.shadow_version}];
      ++p.rows;
      p.agreed += regression ? static_cast<float>(served->GetDouble(i)) ==
                                   static_cast<float>(shadow->GetDouble(i))
                             : served->FormatValue(i) == shadow->FormatValue(i);
      if (truth) {
        score(*served, i, *truth, p.served);
        score(*shadow, i, *truth, p.shadow);
      }
    }
  }
  Json json = {{"format", "plinth.compare-live/v1"},
               {"log", dir},
               {"task", regression ? "regression" : "classification"},
               {"models", Json::array()},
               {"pairs", Json::array()}};
  auto fixed = [](double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
    return std::string(buf);
  };
  // A model's quality columns: accuracy, or MAE and RMSE ("-" and null without labels).
  auto quality = [&](const Scores& s, const std::string& prefix, Json& j,
                     std::vector<std::string>& row) {
    const double n = static_cast<double>(s.labelled);
    const std::vector<std::pair<std::string, double>> stats =
        regression ? std::vector<std::pair<std::string, double>>{{prefix + "mae", s.sum / n},
                                                                 {prefix + "rmse",
                                                                  std::sqrt(s.sum_sq / n)}}
                   : std::vector<std::pair<std::string, double>>{{prefix + "accuracy", s.sum / n}};
    for (const auto& [key, v] : stats) {
      j[key] = s.labelled > 0 ? Json(v) : Json(nullptr);
      row.push_back(s.labelled > 0 ? fixed(v, 4) : "-");
    }
  };
  std::vector<std::string> head = {"role", "version", "requests", "share",   "failed",
                                   "rows", "p50 ms",  "p99 ms",   "labelled"};
  for (const char* h : regression ? std::vector<const char*>{"MAE", "RMSE"}
                                  : std::vector<const char*>{"accuracy"}) {
    head.push_back(h);
  }
  core::TextTable by_model(head, std::vector<bool>(head.size(), true));
  for (auto& [key, m] : models) {
    const std::string role = key.first ? "canary" : "served";
    std::sort(m.latencies.begin(), m.latencies.end());
    const double share =
        scored_requests > 0 ? static_cast<double>(m.requests) / static_cast<double>(scored_requests)
                            : NAN;
    const double p50 = Quantile(m.latencies, 0.5);
    const double p99 = Quantile(m.latencies, 0.99);
    Json j = {{"role", role},
              {"version", key.second},
              {"requests", m.requests},
              {"share", share},
              {"failed", m.failed},
              {"rows", m.rows},
              {"labelled_rows", m.scores.labelled}};
    j["latency_p50_ms"] = std::isnan(p50) ? Json(nullptr) : Json(p50);
    j["latency_p99_ms"] = std::isnan(p99) ? Json(nullptr) : Json(p99);
    std::vector<std::string> row = {role,
                                    key.second,
                                    std::to_string(m.requests),
                                    fixed(share, 4),
                                    std::to_string(m.failed),
                                    std::to_string(m.rows),
                                    std::isnan(p50) ? "-" : fixed(p50, 3),
                                    std::isnan(p99) ? "-" : fixed(p99, 3),
                                    std::to_string(m.scores.labelled)};
    quality(m.scores, "", j, row);
    json["models"].push_back(std::move(j));
    by_model.AddRow(std::move(row));
  }
  core::TextTable t(
      regression ? std::vector<std::string>{"served", "shadow", "requests", "rows", "agreement",
                                            "labelled", "served MAE", "served RMSE", "shadow MAE",
                                            "shadow RMSE"}
                 : std::vector<std::string>{"served", "shadow", "requests", "rows", "agreement",
                                            "labelled", "served accuracy", "shadow accuracy"},
      std::vector<bool>(regression ? 10 : 8, true));
  for (const auto& [versions, p] : pairs) {
    const double agreement = p.rows > 0 ? static_cast<double>(p.agreed) / p.rows : NAN;
    Json j = {{"served_version", versions.first},
              {"shadow_version", versions.second},
              {"requests", p.requests},
              {"rows", p.rows},
              {"agreed_rows", p.agreed},
              {"agreement", agreement},
              {"labelled_rows", p.served.labelled}};
    std::vector<std::string> row = {
        versions.first,         versions.second,     std::to_string(p.requests),
        std::to_string(p.rows), fixed(agreement, 4), std::to_string(p.served.labelled)};
    quality(p.served, "served_", j, row);
    quality(p.shadow, "shadow_", j, row);
    json["pairs"].push_back(std::move(j));
    t.AddRow(std::move(row));
  }
  if (!f.json_out.empty()) {
    if (Status s = WriteOutput(f.json_out, core::DumpJson(json) + "\n"); !s.ok()) {
      return ReportError(s.WithPrefix("--json"));
    }
  }
  std::printf("Each model on the requests it answered:\n%s", by_model.Render().c_str());
  if (!pairs.empty()) {
    std::printf("\nThe served model and its shadow on the same rows:\n%s", t.Render().c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterCompareLive(CLI::App& models, Runner& run) {
  auto f = std::make_shared<CompareFlags>();
  CLI::App* cmd = models.add_subcommand(
      "compare-live",
      "The served model beside its challenger, from the prediction log: each model on the "
      "requests it answered (a canary's share: latency, failures, and on rows with ground truth "
      "from /feedback accuracy or MAE, RMSE), and a shadow's agreement with the served model");
  cmd->add_option("NAME", f->name, "the served model's name (its log: .plinth/monitoring/NAME)")
      ->required();
  cmd->add_option("--log", f->log, "the prediction log directory instead");
  auto* since = cmd->add_option("--since", f->since, "requests from this time (UTC, ISO 8601)");
  cmd->add_option("--until", f->until, "requests before this time");
  cmd->add_option("--window", f->window, "the last 1h, 30m, 1d, ...")->excludes(since);
  cmd->add_option("--json", f->json_out, "write the comparison as JSON");
  cmd->callback([f, &run] { run = [f] { return RunCompareLive(*f); }; });
}

}  // namespace plinth::cli
