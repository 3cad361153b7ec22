#include "monitor/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <future>
#include <map>

#include "core/clock.h"
#include "core/html.h"
#include "core/text_table.h"
#include "core/thread_pool.h"

namespace plinth::monitor {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr size_t kWindowsAtOnce = 2;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string Time(int64_t us) {
  std::string t = core::FormatIsoMicros(us);
  // Whole seconds read better: 2026-12-06T10:00:00Z.
  const size_t dot = t.find('.');
  return dot == std::string::npos ? t : t.substr(0, dot) + "Z";
}

std::string Fixed(std::optional<double> v, const char* format = "%.4f") {
  if (!v || !std::isfinite(*v)) {
    return "-";
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), format, *v);
  return buf;
}

std::string Percent(double v) { return Fixed(v * 100, "%.1f%%"); }

core::Json Optional(std::optional<double> v) {
  return v && std::isfinite(*v) ? core::Json(*v) : core::Json(nullptr);
}

// The accuracy to chart and print: realized where labels arrived, else estimated.
std::optional<double> Accuracy(const WindowReport& w, bool estimated) {
  if (!w.performance) {
    return std::nullopt;
  }
  const std::optional<Quality>& q = estimated ? w.performance->estimated : w.performance->realized;
  return q ? std::optional<double>(q->accuracy) : std::nullopt;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text, std::string_view flag) {
  auto bad = [&] {
    return InvalidArgument(std::string(flag) + ": expected a duration such as 1d, 6h, 30m, 90s " +
                           "or 1w (1s to 366d), got \"" + std::string(text) + "\"");
  };
  if (text.size() < 2 || text.size() > 12) {
    return bad();
  }
  int64_t n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    n = n * 10 + (text[i] - '0');
  }
  if (i == 0 || i + 1 != text.size()) {
    return bad();
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return bad();
  }
  if (n < 1 || n * unit > 366 * 86400) {
    return bad();
  }
  return n * unit * kSecond;
}

std::optional<double> Percentile(std::vector<double>& values, double q) {
  if (values.empty()) {
    return std::nullopt;
  }
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  // numpy's linear interpolation (its _lerp).
  const double t = pos - static_cast<double>(lo);
  const double a = values[lo], b = values[hi];
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

std::vector<std::string> ComparedColumns(const table::Table& reference, const table::Table& rows,
                                         const ReportOptions& options) {
  std::vector<std::string> columns = options.features;
  if (!options.target.empty() && rows.ColumnByName(options.target) != nullptr &&
      reference.ColumnByName(options.target) != nullptr) {
    columns.push_back(options.target);
  }
  for (size_t i = 0; i < rows.num_columns(); ++i) {
    const std::string& name = rows.schema().field(i).name;
    if (RoleOf(name, {}) == Role::kPrediction && reference.ColumnByName(name) != nullptr) {
      columns.push_back(name);
    }
  }
  return columns;
}

Status FillWindow(const table::Table& reference, const table::Table& rows,
                  std::vector<double>& latencies, const std::vector<std::string>& columns,
                  const ReportOptions& options, const PerformanceReference& perf,
                  const ReconstructionModel* pca, WindowReport& win) {
  const double seconds = static_cast<double>(win.end_us - win.start_us) / kSecond;
  win.rows = rows.num_rows();
  win.rows_per_second = seconds > 0 ? static_cast<double>(win.rows) / seconds : 0;
  win.error_rate =
      win.requests + win.failed == 0
          ? 0.0
          : static_cast<double>(win.failed) / static_cast<double>(win.requests + win.failed);
  win.latency_p50 = Percentile(latencies, 0.50);
  win.latency_p90 = Percentile(latencies, 0.90);
  win.latency_p99 = Percentile(latencies, 0.99);
  if (rows.num_rows() == 0) {
    return Status::Ok();
  }
  if (const table::Column* labels =
          options.target.empty() ? nullptr : rows.ColumnByName(options.target)) {
    win.labelled = labels->size() - labels->null_count();
  }
  PLINTH_ASSIGN_OR_RETURN(DriftReport drift, CompareTables(reference, rows, options.rules, columns,
                                                           options.target, false));
  drift.current_source = Time(win.start_us);
  win.drift = std::move(drift);
  PLINTH_ASSIGN_OR_RETURN(PerformanceReport quality, ComparePerformance(perf, rows));
  win.performance = std::move(quality);
  if (pca != nullptr) {
    Result<MultivariateDrift> m = pca->Compare(rows, options.rules.min_values);
    win.multivariate =
        m.ok() ? MultivariateToJson(*m) : core::Json{{"skipped", m.status().message()}};
  }
  return Status::Ok();
}

Result<MonitorReport> BuildMonitorReport(const table::Table& reference, const LogRead& log,
                                         const ReportOptions& options,
                                         const ReconstructionModel* pca) {
  MonitorReport report;
  report.every_us = options.every_us;
  report.skipped_lines = log.skipped_lines;
  report.skipped = log.skipped;
  if (log.requests.empty() && !(options.since_us && options.until_us)) {
    return InvalidArgument("not enough data: the prediction log has no request in the window");
  }
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const LogRequest& r : log.requests) {
    first = std::min(first, r.time_us);
    last = std::max(last, r.time_us);
  }
  const int64_t every = options.every_us;
  const int64_t origin = options.since_us ? *options.since_us : FloorDiv(first, every) * every;
  const int64_t end = options.until_us ? *options.until_us : (FloorDiv(last, every) + 1) * every;
  if (end <= origin) {
    return InvalidArgument("--until is not after --since");
  }
  const int64_t count = (end - origin + every - 1) / every;
  if (count > options.max_windows) {
    // The period named: one request logged far from the others (a clock gone wrong) shows.
    return InvalidArgument("the period " + Time(origin) + " .. " + Time(end) + " holds " +
                           std::to_string(count) + " windows of --every, at most " +
                           std::to_string(options.max_windows) +
                           " are reported: take a longer --every or a shorter period "
                           "(--since, --until)");
  }
  // Each request's rows (and latency, and failure) to its window.
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(count));
  std::vector<std::vector<double>> latencies(static_cast<size_t>(count));
  report.windows.resize(static_cast<size_t>(count));
  for (int64_t w = 0; w < count; ++w) {
    WindowReport& win = report.windows[static_cast<size_t>(w)];
    win.start_us = origin + w * every;
    win.end_us = std::min(end, win.start_us + every);
  }
  int64_t offset = 0;
  for (const LogRequest& r : log.requests) {
    const int64_t w = FloorDiv(r.time_us - origin, every);
    if (w >= 0 && w < count) {
      WindowReport& win = report.windows[static_cast<size_t>(w)];
      if (r.status >= 400) {
        ++win.failed;
      } else {
        ++win.requests;
        if (std::isfinite(r.latency_ms)) {
          latencies[static_cast<size_t>(w)].push_back(r.latency_ms);
        }
        for (int64_t i = 0; i < r.rows; ++i) {
          rows[static_cast<size_t>(w)].push_back(offset + i);
        }
      }
    }
    offset += r.rows;
  }
  for (const std::string& name : options.features) {
    if (log.table.ColumnByName(name) == nullptr && log.table.num_rows() > 0) {
      return InvalidArgument("the prediction log has no feature '" + name +
                             "' of the model (is it another model's log?)");
    }
  }
  const std::vector<std::string> columns = ComparedColumns(reference, log.table, options);
  PLINTH_ASSIGN_OR_RETURN(const PerformanceReference perf,
                          PreparePerformance(reference, options.class_labels, options.target));
  // Two windows at a time: each one's columns are compared in parallel already, but its
  // copy of the rows, PCA errors and calibration run on one core (a third of a report's
  // time, measured); at most two windows' rows are held at once.
  std::vector<Status> done(rows.size());
  {
    core::ThreadPool pool(std::min<size_t>(kWindowsAtOnce, rows.size()));
    std::vector<std::future<void>> running;
    for (size_t w = 0; w < rows.size(); ++w) {
      running.push_back(pool.Submit([&, w] {
        const table::Table window =
            rows[w].empty() ? table::Table() : table::TakeRows(log.table, rows[w]);
        std::vector<int64_t>().swap(rows[w]);
        done[w] = FillWindow(reference, window, latencies[w], columns, options, perf, pca,
                             report.windows[w]);
      }));
    }
    for (auto& r : running) {
      r.get();
    }
  }
  for (const Status& s : done) {
    PLINTH_RETURN_IF_ERROR(s);
  }
  if (options.overall && log.table.num_rows() > 0) {
    PLINTH_ASSIGN_OR_RETURN(DriftReport overall, CompareTables(reference, log.table, options.rules,
                                                               columns, options.target));
    report.overall = std::move(overall);
  }
  return report;
}

core::Json WindowToJson(const WindowReport& w) {
  core::Json j = {{"start", Time(w.start_us)},
                  {"end", Time(w.end_us)},
                  {"requests", w.requests},
                  {"failed_requests", w.failed},
                  {"rows", w.rows},
                  {"labelled_rows", w.labelled},
                  {"rows_per_second", w.rows_per_second},
                  {"error_rate", w.error_rate},
                  {"latency_ms",
                   {{"p50", Optional(w.latency_p50)},
                    {"p90", Optional(w.latency_p90)},
                    {"p99", Optional(w.latency_p99)}}}};
  if (!w.drift) {
    j["verdict"] = "no requests";
    return j;
  }
  const DriftReport& d = *w.drift;
  core::Json features = core::Json::object();
  for (const ColumnReport& c : d.columns) {
    core::Json f = {{"role", RoleName(c.role)}};
    if (!c.skipped.empty()) {
      f["skipped"] = c.skipped;
    } else {
      f["method"] = MethodName(c.drift.method);
      f["score"] = c.drift.score;
      f["threshold"] = c.drift.threshold;
      f["drifted"] = c.drift.drifted;
      f["missing_share"] = static_cast<double>(c.drift.current_missing) /
                           static_cast<double>(std::max<int64_t>(
                               1, c.drift.current_values + c.drift.current_missing));
      f["new_categories"] = c.drift.new_categories;
    }
    features[c.name] = std::move(f);
  }
  j["verdict"] = d.compared == 0 ? "not enough data" : d.dataset_drift ? "drift" : "no drift";
  j["features_compared"] = d.compared;
  j["features_drifted"] = d.drifted;
  j["drifted_share"] = d.share;
  j["dataset_drift"] = d.dataset_drift;
  j["prediction_drift"] = d.prediction_drift ? core::Json(*d.prediction_drift) : nullptr;
  j["prediction_drift_score"] = Optional(d.prediction_score);
  j["target_drift"] = d.target_drift ? core::Json(*d.target_drift) : nullptr;
  j["columns"] = std::move(features);
  j["multivariate_drift"] = w.multivariate;
  j["performance"] = w.performance ? PerformanceToJson(*w.performance) : core::Json(nullptr);
  return j;
}

core::Json MonitorReportToJson(const MonitorReport& r) {
  core::Json windows = core::Json::array();
  for (const WindowReport& w : r.windows) {
    windows.push_back(WindowToJson(w));
  }
  return {{"format", "plinth.monitor_report/v1"},
          {"model", {{"name", r.model}, {"version", r.model_version}}},
          {"reference", r.reference_source},
          {"log", r.log_source},
          {"every_seconds", r.every_us / kSecond},
          {"skipped_log_lines", r.skipped_lines},
          {"windows", std::move(windows)},
          {"overall", r.overall ? DriftReportToJson(*r.overall) : core::Json(nullptr)}};
}

std::string FormatMonitorText(const MonitorReport& r) {
  core::TextTable t({"window", "requests", "rows", "errors", "p50 ms", "p99 ms", "drifted",
                     "pred drift", "multivar", "accuracy", "est. acc"},
                    {false, true, true, true, true, true, true, false, false, true, true});
  for (const WindowReport& w : r.windows) {
    std::string drifted = "-", pred = "-", multi = "-";
    if (w.drift) {
      const DriftReport& d = *w.drift;
      drifted = d.compared == 0 ? "n/a"
                                : std::to_string(d.drifted) + "/" + std::to_string(d.compared) +
                                      (d.dataset_drift ? " DRIFT" : "");
      pred = d.prediction_drift ? (*d.prediction_drift ? "DRIFT" : "ok") : "-";
      multi = w.multivariate.contains("drifted")
                  ? (w.multivariate["drifted"].get<bool>() ? "DRIFT" : "ok")
                  : "n/a";
    }
    t.AddRow({Time(w.start_us), std::to_string(w.requests), std::to_string(w.rows),
              Percent(w.error_rate), Fixed(w.latency_p50, "%.2f"), Fixed(w.latency_p99, "%.2f"),
              drifted, pred, multi, Fixed(Accuracy(w, false)), Fixed(Accuracy(w, true))});
  }
  std::string out = r.model + " (version " + (r.model_version.empty() ? "?" : r.model_version) +
                    "): " + r.log_source + " against " + r.reference_source + "\n\n" + t.Render();
  if (r.skipped_lines > 0) {
    out += std::to_string(r.skipped_lines) +
           " malformed log lines skipped, first: " + r.skipped.front() + "\n";
  }
  return out;
}

std::string RenderMonitorHtml(const MonitorReport& r) {
  const size_t n = r.windows.size();
  auto series = [&](auto value) {
    std::vector<double> s(n, std::nan(""));
    for (size_t i = 0; i < n; ++i) {
      std::optional<double> v = value(r.windows[i]);
      s[i] = v ? *v : std::nan("");
    }
    return s;
  };
  auto chart = [](const std::string& title, const std::vector<std::vector<double>>& lines,
                  const std::vector<std::string>& names) {
    return "<div class=\"chart\"><h3>" + core::EscapeHtml(title) + "</h3>" +
           core::SvgLines(lines, names, -1, 480, 200) + "</div>";
  };
  std::string body = "<h1>Monitoring: " + core::EscapeHtml(r.model) + "</h1><p>Model version " +
                     core::EscapeHtml(r.model_version.empty() ? "?" : r.model_version) + "; " +
                     core::EscapeHtml(r.log_source) + " against " +
                     core::EscapeHtml(r.reference_source) + "; " + std::to_string(n) +
                     " windows of " + std::to_string(r.every_us / kSecond) + " s, from " +
                     (n ? Time(r.windows.front().start_us) : "") + " to " +
                     (n ? Time(r.windows.back().end_us) : "") +
                     ".</p>"
                     "<style>.chart{display:inline-block;margin:4px;vertical-align:top}"
                     ".chart h3{font-size:14px;margin:2px}</style>";
  body += "<h2>Over time</h2>";
  body += chart("Share of features drifting",
                {series([](const WindowReport& w) {
                   return w.drift && w.drift->compared > 0 ? std::optional<double>(w.drift->share)
                                                           : std::nullopt;
                 }),
                 series([](const WindowReport& w) {
                   return w.drift ? std::optional<double>(w.drift->drift_share) : std::nullopt;
                 })},
                {"drifted share", "dataset drift at"});
  body += chart("Prediction drift score", {series([](const WindowReport& w) {
                  return w.drift ? w.drift->prediction_score : std::nullopt;
                })},
                {"prediction"});
  body += chart("Accuracy",
                {series([](const WindowReport& w) { return Accuracy(w, false); }),
                 series([](const WindowReport& w) { return Accuracy(w, true); })},
                {"realized", "estimated (CBPE)"});
  body += chart("Multivariate drift (PCA reconstruction error)",
                {series([](const WindowReport& w) {
                   return w.multivariate.contains("error")
                              ? std::optional<double>(w.multivariate["error"].get<double>())
                              : std::nullopt;
                 }),
                 series([](const WindowReport& w) {
                   return w.multivariate.contains("threshold")
                              ? std::optional<double>(w.multivariate["threshold"].get<double>())
                              : std::nullopt;
                 })},
                {"error", "threshold"});
  body += chart("Latency (ms)",
                {series([](const WindowReport& w) { return w.latency_p50; }),
                 series([](const WindowReport& w) { return w.latency_p90; }),
                 series([](const WindowReport& w) { return w.latency_p99; })},
                {"p50", "p90", "p99"});
  body += chart(
      "Throughput (rows/s)",
      {series([](const WindowReport& w) { return std::optional<double>(w.rows_per_second); })},
      {"rows/s"});
  body += chart("Error rate",
                {series([](const WindowReport& w) { return std::optional<double>(w.error_rate); })},
                {"errors / requests"});
  // Per column: its score against its threshold, and its missing share.
  std::vector<std::string> names;
  for (const WindowReport& w : r.windows) {
    if (w.drift) {
      for (const ColumnReport& c : w.drift->columns) {
        if (std::find(names.begin(), names.end(), c.name) == names.end()) {
          names.push_back(c.name);
        }
      }
    }
  }
  body += "<h2>Per column</h2>";
  for (const std::string& name : names) {
    auto column = [&](const WindowReport& w) -> const ColumnReport* {
      if (!w.drift) {
        return nullptr;
      }
      for (const ColumnReport& c : w.drift->columns) {
        if (c.name == name && c.skipped.empty()) {
          return &c;
        }
      }
      return nullptr;
    };
    body += chart(name,
                  {series([&](const WindowReport& w) {
                     const ColumnReport* c = column(w);
                     return c ? std::optional<double>(c->drift.score) : std::nullopt;
                   }),
                   series([&](const WindowReport& w) {
                     const ColumnReport* c = column(w);
                     return c ? std::optional<double>(c->drift.threshold) : std::nullopt;
                   }),
                   series([&](const WindowReport& w) {
                     const ColumnReport* c = column(w);
                     return c ? std::optional<double>(
                                    static_cast<double>(c->drift.current_missing) /
                                    static_cast<double>(std::max<int64_t>(
                                        1, c->drift.current_values + c->drift.current_missing)))
                              : std::nullopt;
                   })},
                  {"score", "threshold", "missing share"});
  }
  if (r.overall) {
    body += "<h2>The whole period against the reference</h2>" + DriftSummaryHtml(*r.overall) +
            DriftTableHtml(*r.overall);
  }
  body += "<h2>Windows</h2><pre>" + core::EscapeHtml(FormatMonitorText(r)) + "</pre>";
  return core::HtmlPage("Monitoring: " + r.model, body);
}

}  // namespace plinth::monitor
