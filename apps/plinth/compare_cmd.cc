// plinth models compare-live NAME [--log DIR] [--since T | --window D] [--until T] [--json OUT]
// The served model beside its shadow (plinth serve --shadow), from the prediction log: how
// often they agree and, on the rows whose ground truth reached /feedback, how each did.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

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

// One pair of versions (served, shadow) and what the log says of them.
struct Pair {
  int64_t requests = 0;
  int64_t rows = 0;
  int64_t agreed = 0;
  int64_t labelled = 0;
  // Classification: rows each got right. Regression: sums of absolute and squared errors.
  double served = 0;
  double shadow = 0;
  double served_sq = 0;
  double shadow_sq = 0;
};

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
  if (served == nullptr || shadow == nullptr) {
    return ReportError(FailedPrecondition(
        "--log " + dir + ": no request in " +
        (f.since.empty() && f.window.empty() ? std::string("it") : std::string("the window")) +
        " was scored by a shadow model too (plinth serve --shadow)"));
  }
  const bool regression = Numeric(*served) && Numeric(*shadow);
  std::map<std::pair<std::string, std::string>, Pair> pairs;
  int64_t offset = 0;
  for (const monitor::LogRequest& r : log->requests) {
    const int64_t first = offset;
    offset += r.rows;
    if (r.shadow_version.empty() || r.rows == 0) {
      continue;
    }
    Pair& p = pairs[{r.model_version, r.shadow_version}];
    ++p.requests;
    for (int64_t i = first; i < first + r.rows; ++i) {
      if (served->IsNull(i) || shadow->IsNull(i)) {
        continue;
      }
      ++p.rows;
      auto it = feedback->labels.find(monitor::FeedbackKey(r.request_id, i - first));
      if (regression) {
        const double a = served->GetDouble(i);
        const double b = shadow->GetDouble(i);
        p.agreed += static_cast<float>(a) == static_cast<float>(b) ? 1 : 0;
        if (it != feedback->labels.end()) {
          char* end = nullptr;
          const double y = std::strtod(it->second.c_str(), &end);
          if (end != it->second.c_str() && *end == '\0' && std::isfinite(y)) {
            ++p.labelled;
            p.served += std::abs(a - y);
            p.shadow += std::abs(b - y);
            p.served_sq += (a - y) * (a - y);
            p.shadow_sq += (b - y) * (b - y);
          }
        }
        continue;
      }
      const std::string a = served->FormatValue(i);
      const std::string b = shadow->FormatValue(i);
      p.agreed += a == b ? 1 : 0;
      if (it != feedback->labels.end()) {
        ++p.labelled;
        p.served += a == it->second ? 1 : 0;
        p.shadow += b == it->second ? 1 : 0;
      }
    }
  }
  Json json = {{"format", "plinth.compare-live/v1"},
               {"log", dir},
               {"task", regression ? "regression" : "classification"},
               {"pairs", Json::array()}};
  core::TextTable t(
      regression ? std::vector<std::string>{"served", "shadow", "requests", "rows", "agreement",
                                            "labelled", "served MAE", "shadow MAE", "served RMSE",
                                            "shadow RMSE"}
                 : std::vector<std::string>{"served", "shadow", "requests", "rows", "agreement",
                                            "labelled", "served accuracy", "shadow accuracy"},
      std::vector<bool>(regression ? 10 : 8, true));
  auto fixed = [](double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
    return std::string(buf);
  };
  for (const auto& [versions, p] : pairs) {
    const double agreement = p.rows > 0 ? static_cast<double>(p.agreed) / p.rows : NAN;
    Json j = {{"served_version", versions.first}, {"shadow_version", versions.second},
              {"requests", p.requests},           {"rows", p.rows},
              {"agreed_rows", p.agreed},          {"agreement", agreement},
              {"labelled_rows", p.labelled}};
    std::vector<std::string> row = {
        versions.first,         versions.second,     std::to_string(p.requests),
        std::to_string(p.rows), fixed(agreement, 4), std::to_string(p.labelled)};
    const double n = static_cast<double>(p.labelled);
    if (regression) {
      const std::pair<const char*, double> stats[] = {{"served_mae", p.served / n},
                                                      {"shadow_mae", p.shadow / n},
                                                      {"served_rmse", std::sqrt(p.served_sq / n)},
                                                      {"shadow_rmse", std::sqrt(p.shadow_sq / n)}};
      for (const auto& [key, v] : stats) {
        j[key] = p.labelled > 0 ? Json(v) : Json(nullptr);
        row.push_back(p.labelled > 0 ? fixed(v, 4) : "-");
      }
    } else {
      for (const auto& [key, v] : {std::pair{"served_accuracy", p.served / n},
                                   std::pair{"shadow_accuracy", p.shadow / n}}) {
        j[key] = p.labelled > 0 ? Json(v) : Json(nullptr);
        row.push_back(p.labelled > 0 ? fixed(v, 4) : "-");
      }
    }
    json["pairs"].push_back(std::move(j));
    t.AddRow(std::move(row));
  }
  if (!f.json_out.empty()) {
    if (Status s = WriteOutput(f.json_out, core::DumpJson(json) + "\n"); !s.ok()) {
      return ReportError(s.WithPrefix("--json"));
    }
  }
  std::printf("%s", t.Render().c_str());
  return kExitOk;
}

}  // namespace

void RegisterCompareLive(CLI::App& models, Runner& run) {
  auto f = std::make_shared<CompareFlags>();
  CLI::App* cmd = models.add_subcommand(
      "compare-live",
      "The served model beside its shadow (plinth serve --shadow), from the prediction log: "
      "agreement, and on rows with ground truth (/feedback) each one's accuracy (or MAE, RMSE)");
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
