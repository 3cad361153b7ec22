#include "monitor/dataset_drift.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <limits>
#include <set>
#include <thread>

#include "core/file.h"
#include "core/html.h"
#include "core/text_table.h"
#include "core/thread_pool.h"
#include "core/yaml.h"
#include "monitor/stats.h"

namespace plinth::monitor {
namespace {

constexpr size_t kMaxShownCategories = 20;
constexpr int64_t kMaxShownBins = 40;

// The sample of a table column: numbers (int64, float64) or labels (strings, booleans).
std::optional<Sample> SampleOf(const table::Column& c) {
  Sample s;
  const int64_t n = c.size();
  switch (c.type()) {
    case table::DataType::kInt64:
    case table::DataType::kFloat64:
      s.numbers.reserve(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        s.numbers.push_back(c.IsNull(i) ? std::nan("") : c.GetDouble(i));
      }
      return s;
    case table::DataType::kString:
    case table::DataType::kBool:
      s.numeric = false;
      s.labels.reserve(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        s.labels.push_back(
            c.IsNull(i) ? std::string_view()
            : c.type() == table::DataType::kBool
                ? std::string_view(c.bools()[static_cast<size_t>(i)] ? "true" : "false")
                : c.GetString(i));
      }
      return s;
    case table::DataType::kTimestamp:
      return std::nullopt;
  }
  return std::nullopt;
}

int64_t Present(const Sample& s) {
  if (s.numeric) {
    return std::count_if(s.numbers.begin(), s.numbers.end(),
                         [](double v) { return std::isfinite(v); });
  }
  return std::count_if(s.labels.begin(), s.labels.end(),
                       [](std::string_view v) { return !v.empty(); });
}

// The distributions shown in the report: Sturges bins over both samples (at most 40),
// or the most frequent categories of both (at most 20, the rest as "other").
void Distributions(const Sample& ref, const Sample& cur, ColumnReport& out) {
  if (ref.numeric) {
    // The range and count of the finite values, then a pass to bin them: no copy, no sort.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    size_t na = 0, nb = 0;
    for (const auto& [sample, n] : {std::pair{&ref, &na}, std::pair{&cur, &nb}}) {
      for (double v : sample->numbers) {
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
          ++*n;
        }
      }
    }
    std::vector<double> edges =
        na + nb == 0 ? std::vector<double>{0.0, 1.0} : SturgesEdges(lo, hi, na + nb);
    if (static_cast<int64_t>(edges.size()) - 1 > kMaxShownBins) {
      const double first = edges.front(), last = edges.back();
      edges.resize(kMaxShownBins + 1);
      for (int64_t i = 0; i <= kMaxShownBins; ++i) {
        edges[i] = first + static_cast<double>(i) * (last - first) / kMaxShownBins;
      }
      edges.back() = last;
    }
    out.reference_shares = HistogramCountsUnsorted(ref.numbers, edges);
    out.current_shares = HistogramCountsUnsorted(cur.numbers, edges);
    for (double& x : out.reference_shares) {
      x /= std::max<double>(1, static_cast<double>(na));
    }
    for (double& x : out.current_shares) {
      x /= std::max<double>(1, static_cast<double>(nb));
    }
    for (size_t i = 0; i + 1 < edges.size(); ++i) {
      out.bins.push_back(core::FormatNumber(edges[i]) + " .. " + core::FormatNumber(edges[i + 1]));
    }
    return;
  }
  const LabelCounts counts = CountLabels(ref.labels, cur.labels);
  const double nr = counts.reference_total, nc = counts.current_total;
  std::vector<std::pair<std::string, std::pair<double, double>>> order;
  for (size_t k = 0; k < counts.reference.size(); ++k) {
    order.push_back({std::string(counts.labels.Get(static_cast<int32_t>(k))),
                     {counts.reference[k], counts.current[k]}});
  }
  std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
    const double a = x.second.first + x.second.second, b = y.second.first + y.second.second;
    return a != b ? a > b : x.first < y.first;  // ties by name
  });
  double other_r = 0, other_c = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i < kMaxShownCategories) {
      out.bins.push_back(order[i].first);
      out.reference_shares.push_back(order[i].second.first / std::max(1.0, nr));
      out.current_shares.push_back(order[i].second.second / std::max(1.0, nc));
    } else {
      other_r += order[i].second.first;
      other_c += order[i].second.second;
    }
  }
  if (order.size() > kMaxShownCategories) {
    out.bins.push_back("(other " + std::to_string(order.size() - kMaxShownCategories) + ")");
    out.reference_shares.push_back(other_r / std::max(1.0, nr));
    out.current_shares.push_back(other_c / std::max(1.0, nc));
  }
}

std::string Score(const ColumnDrift& d) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.4g", d.score);
  return buf;
}

std::string Share(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * s);
  return buf;
}

}  // namespace

Result<DriftRules> ParseDriftRules(std::string_view yaml, std::string_view source) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node root, core::ParseYaml(yaml, source));
  return DriftRulesFromYaml(root, source);
}

Result<DriftRules> DriftRulesFromYaml(const YAML::Node& root, std::string_view source) {
  DriftRules rules;
  if (!root.IsDefined() || root.IsNull()) {
    return rules;
  }
  if (!root.IsMap()) {
    return InvalidArgument(core::YamlWhere(root, source) + ": expected a mapping of drift rules");
  }
  std::set<std::string> keys;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const std::string where = core::YamlWhere(kv.second, source);
    if (!keys.insert(key).second) {
      return InvalidArgument(where + ": key '" + key + "' given twice");
    }
    if (key == "drift_share") {
      PLINTH_ASSIGN_OR_RETURN(rules.drift_share,
                              core::YamlAs<double>(kv.second, where, key, "a share from 0 to 1"));
      if (!(rules.drift_share > 0 && rules.drift_share <= 1)) {
        return InvalidArgument(where + ": key 'drift_share': expected a share above 0, at most 1");
      }
    } else if (key == "min_values") {
      PLINTH_ASSIGN_OR_RETURN(rules.min_values,
                              core::YamlAs<int64_t>(kv.second, where, key, "a whole number"));
      if (rules.min_values < 1) {
        return InvalidArgument(where + ": key 'min_values': expected at least 1");
      }
    } else if (key == "columns") {
      if (!kv.second.IsMap()) {
        return InvalidArgument(where + ": key 'columns': expected a mapping of column -> rule");
      }
      for (const auto& col : kv.second) {
        const std::string name = col.first.Scalar();
        const std::string at = core::YamlWhere(col.second, source);
        if (rules.columns.count(name) != 0) {
          return InvalidArgument(at + ": column '" + name + "' given twice");
        }
        if (!col.second.IsMap()) {
          return InvalidArgument(at + ": column '" + name +
                                 "': expected a mapping (method, threshold, ignore)");
        }
        ColumnRule rule;
        for (const auto& field : col.second) {
          const std::string f = field.first.Scalar();
          const std::string fat = core::YamlWhere(field.second, source);
          if (f == "method") {
            PLINTH_ASSIGN_OR_RETURN(std::string m,
                                    core::YamlAs<std::string>(field.second, fat, f, "a method"));
            Result<Method> method = ParseMethod(m);
            if (!method.ok()) {
              return InvalidArgument(fat + ": column '" + name + "': " + method.status().message());
            }
            rule.method = *method;
          } else if (f == "threshold") {
            PLINTH_ASSIGN_OR_RETURN(double t,
                                    core::YamlAs<double>(field.second, fat, f, "a number"));
            if (!(t > 0) || !std::isfinite(t)) {
              return InvalidArgument(fat + ": column '" + name +
                                     "': key 'threshold': expected a number above 0");
            }
            rule.threshold = t;
          } else if (f == "ignore") {
            PLINTH_ASSIGN_OR_RETURN(rule.ignore,
                                    core::YamlAs<bool>(field.second, fat, f, "true or false"));
          } else {
            return InvalidArgument(fat + ": column '" + name + "': unknown key '" + f +
                                   "' (expected method, threshold, ignore)");
          }
        }
        // A p-value is at most 1: a threshold of 1 or more would flag every column.
        if (rule.threshold && *rule.threshold >= 1 && (!rule.method || IsPValue(*rule.method))) {
          return InvalidArgument(
              at + ": column '" + name + "': a threshold of 1 or more applies " +
              "to a distance; name its method (wasserstein, jensenshannon or psi)");
        }
        rules.columns[name] = rule;
      }
    } else {
      return InvalidArgument(where + ": unknown key '" + key +
                             "' (expected drift_share, min_values, columns)");
    }
  }
  return rules;
}

Result<DriftRules> ReadDriftRules(const std::string& path) {
  // A rules file is a few lines: a device or a huge file is refused before it is read.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && !std::filesystem::is_regular_file(status)) {
    return InvalidArgument(path + ": the drift rules must be a regular file");
  }
  constexpr uintmax_t kMaxRulesBytes = 1 << 20;
  if (!ec && std::filesystem::file_size(path, ec) > kMaxRulesBytes) {
    return InvalidArgument(path + ": a drift rules file of more than 1 MiB");
  }
  PLINTH_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  return ParseDriftRules(text, path);
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFeature:
      return "feature";
    case Role::kPrediction:
      return "prediction";
    case Role::kTarget:
      return "target";
  }
  return "feature";
}

Role RoleOf(std::string_view column, std::string_view target) {
  if (column == "prediction" || column.starts_with("probability_")) {
    return Role::kPrediction;
  }
  return !target.empty() && column == target ? Role::kTarget : Role::kFeature;
}

Result<DriftReport> CompareTables(const table::Table& reference, const table::Table& current,
                                  const DriftRules& rules, const std::vector<std::string>& only,
                                  std::string_view target, bool distributions) {
  DriftReport report;
  report.reference_rows = reference.num_rows();
  report.current_rows = current.num_rows();
  report.drift_share = rules.drift_share;
  for (const std::string& name : only) {
    if (reference.ColumnByName(name) == nullptr) {
      return InvalidArgument("column '" + name + "' is not in the reference data");
    }
  }
  for (const auto& [name, rule] : rules.columns) {
    (void)rule;
    if (reference.ColumnByName(name) == nullptr) {
      return InvalidArgument("the drift rules name column '" + name +
                             "', which the reference data does not have");
    }
  }
  const std::set<std::string> wanted(only.begin(), only.end());
  // Checked first, in order (the first bad column is the one named); then compared in
  // parallel, each task copying only its own column.
  struct Job {
    size_t ref_index;
    const table::Column* current;
  };
  std::vector<Job> jobs;
  std::vector<std::pair<size_t, ColumnReport>> ignored;  // (place among the jobs, report)
  for (size_t i = 0; i < reference.num_columns(); ++i) {
    const std::string& name = reference.schema().field(i).name;
    if (!wanted.empty() && wanted.count(name) == 0) {
      continue;
    }
    const auto rule = rules.columns.find(name);
    if (rule != rules.columns.end() && rule->second.ignore) {
      ColumnReport skipped;
      skipped.name = name;
      skipped.role = RoleOf(name, target);
      skipped.numeric = reference.column(i).type() != table::DataType::kString &&
                        reference.column(i).type() != table::DataType::kBool;
      skipped.skipped = "ignored by the rules";
      ignored.emplace_back(jobs.size(), std::move(skipped));
      continue;
    }
    const table::Column* cur_col = current.ColumnByName(name);
    if (cur_col == nullptr) {
      return InvalidArgument("column '" + name +
                             "' of the reference data is missing from the current data");
    }
    auto kind = [](table::DataType t) {
      return t == table::DataType::kInt64 || t == table::DataType::kFloat64 ? 0
             : t == table::DataType::kTimestamp                             ? 2
                                                                            : 1;
    };
    const int a = kind(reference.column(i).type()), b = kind(cur_col->type());
    // A column without a value has no type to compare (the CSV reader calls it text): it
    // is reported as not enough data.
    auto empty = [](const table::Column& c) { return c.null_count() == c.size(); };
    if (a != b && a != 2 && b != 2 && !empty(reference.column(i)) && !empty(*cur_col)) {
      return InvalidArgument("column '" + name + "' holds " + (a == 0 ? "numbers" : "labels") +
                             " in the reference data but " + (b == 0 ? "numbers" : "labels") +
                             " in the current data");
    }
    jobs.push_back({i, cur_col});
  }
  std::vector<ColumnReport> columns(jobs.size());
  std::vector<Status> errors(jobs.size());
  {
    core::ThreadPool pool(std::min<size_t>(jobs.size(), std::thread::hardware_concurrency()));
    std::vector<std::future<void>> done;
    for (size_t j = 0; j < jobs.size(); ++j) {
      done.push_back(pool.Submit([&, j] {
        const std::string& name = reference.schema().field(jobs[j].ref_index).name;
        ColumnReport& c = columns[j];
        c.name = name;
        c.role = RoleOf(name, target);
        std::optional<Sample> ref = SampleOf(reference.column(jobs[j].ref_index)),
                              cur = SampleOf(*jobs[j].current);
        if (!ref || !cur) {
          c.skipped = "timestamps are not compared";
          return;
        }
        c.numeric = ref->numeric;
        const auto rule_it = rules.columns.find(name);
        const ColumnRule rule = rule_it == rules.columns.end() ? ColumnRule{} : rule_it->second;
        const int64_t present_ref = Present(*ref), present_cur = Present(*cur);
        if (distributions) {  // first: the comparison then takes the samples over
          Distributions(*ref, *cur, c);
        }
        if (rule.ignore) {
          c.skipped = "ignored by the rules";
        } else if (present_ref < rules.min_values || present_cur < rules.min_values) {
          const bool short_ref = present_ref < rules.min_values;
          c.skipped = "not enough data: " + std::to_string(short_ref ? present_ref : present_cur) +
                      " values in the " + (short_ref ? "reference" : "current") + " sample, " +
                      std::to_string(rules.min_values) + " needed";
        } else {
          DriftOptions options;
          options.method = rule.method;
          options.threshold = rule.threshold;
          Result<ColumnDrift> d = CompareColumn(std::move(*ref), std::move(*cur), options);
          if (!d.ok()) {
            errors[j] = InvalidArgument("column '" + name + "': " + d.status().message());
            return;
          }
          c.drift = *d;
        }
      }));
    }
    for (auto& d : done) {
      d.get();
    }
  }
  for (size_t j = 0; j < jobs.size(); ++j) {
    PLINTH_RETURN_IF_ERROR(errors[j]);
    const ColumnReport& c = columns[j];
    if (!c.skipped.empty()) {
      continue;
    }
    switch (c.role) {
      case Role::kFeature:
        ++report.compared;
        report.drifted += c.drift.drifted ? 1 : 0;
        break;
      case Role::kPrediction:
        report.prediction_drift = report.prediction_drift.value_or(false) || c.drift.drifted;
        if (c.name == "prediction") {
          report.prediction_score = c.drift.score;
        }
        break;
      case Role::kTarget:
        report.target_drift = c.drift.drifted;
        break;
    }
  }
  // The ignored columns back in their places.
  for (auto it = ignored.rbegin(); it != ignored.rend(); ++it) {
    columns.insert(columns.begin() + static_cast<ptrdiff_t>(it->first), std::move(it->second));
  }
  report.columns = std::move(columns);
  report.share = report.compared == 0
                     ? 0.0
                     : static_cast<double>(report.drifted) / static_cast<double>(report.compared);
  report.dataset_drift = report.compared > 0 && report.share >= rules.drift_share;
  return report;
}

core::Json DriftReportToJson(const DriftReport& r) {
  core::Json cols = core::Json::array();
  for (const ColumnReport& c : r.columns) {
    core::Json j = {{"column", c.name},
                    {"role", RoleName(c.role)},
                    {"type", c.numeric ? "numeric" : "categorical"}};
    if (!c.skipped.empty()) {
      j["skipped"] = c.skipped;
    } else {
      const ColumnDrift& d = c.drift;
      j["method"] = MethodName(d.method);
      j["score"] = d.score;
      j["score_is_pvalue"] = IsPValue(d.method);
      j["threshold"] = d.threshold;
      j["drifted"] = d.drifted;
      j["reference_values"] = d.reference_values;
      j["current_values"] = d.current_values;
      j["reference_missing_share"] =
          static_cast<double>(d.reference_missing) /
          static_cast<double>(std::max<int64_t>(1, d.reference_values + d.reference_missing));
      j["current_missing_share"] =
          static_cast<double>(d.current_missing) /
          static_cast<double>(std::max<int64_t>(1, d.current_values + d.current_missing));
      j["new_categories"] = d.new_categories;
    }
    j["distribution"] = {
        {"bins", c.bins}, {"reference", c.reference_shares}, {"current", c.current_shares}};
    cols.push_back(std::move(j));
  }
  return {
      {"reference", {{"source", r.reference_source}, {"rows", r.reference_rows}}},
      {"current", {{"source", r.current_source}, {"rows", r.current_rows}}},
      {"columns_compared", r.compared},
      {"columns_drifted", r.drifted},
      {"drifted_share", r.share},
      {"drift_share", r.drift_share},
      {"dataset_drift", r.dataset_drift},
      {"prediction_drift", r.prediction_drift ? core::Json(*r.prediction_drift) : nullptr},
      {"prediction_drift_score", r.prediction_score ? core::Json(*r.prediction_score) : nullptr},
      {"target_drift", r.target_drift ? core::Json(*r.target_drift) : nullptr},
      {"verdict", r.compared == 0   ? "not enough data"
                  : r.dataset_drift ? "drift"
                                    : "no drift"},
      {"columns", std::move(cols)}};
}

// A column's name, with its role when it is not a feature: "income (target)".
std::string Named(const ColumnReport& c) {
  return c.role == Role::kFeature ? c.name : c.name + " (" + std::string(RoleName(c.role)) + ")";
}

// The prediction and target drift verdicts, when they were judged.
std::string OutputsLine(const DriftReport& r) {
  std::string out;
  if (r.prediction_drift) {
    out += std::string("prediction drift ") + (*r.prediction_drift ? "DETECTED" : "not detected");
  }
  if (r.target_drift) {
    out += std::string(out.empty() ? "" : "; ") + "target drift " +
           (*r.target_drift ? "DETECTED" : "not detected");
  }
  return out.empty() ? out : out + "\n";
}

std::string FormatDriftText(const DriftReport& r) {
  core::TextTable t({"column", "type", "method", "score", "threshold", "drift", "missing (cur)",
                     "new categories"},
                    {false, false, false, true, true, false, true, true});
  for (const ColumnReport& c : r.columns) {
    if (!c.skipped.empty()) {
      t.AddRow({Named(c), c.numeric ? "num" : "cat", "-", "-", "-", c.skipped, "-", "-"});
      continue;
    }
    const ColumnDrift& d = c.drift;
    const double missing =
        static_cast<double>(d.current_missing) /
        static_cast<double>(std::max<int64_t>(1, d.current_values + d.current_missing));
    t.AddRow({Named(c), c.numeric ? "num" : "cat", std::string(MethodName(d.method)), Score(d),
              core::FormatNumber(d.threshold), d.drifted ? "DRIFT" : "ok", Share(missing),
              c.numeric ? "" : std::to_string(d.new_categories)});
  }
  return r.reference_source + " (" + std::to_string(r.reference_rows) + " rows) -> " +
         r.current_source + " (" + std::to_string(r.current_rows) + " rows)\n\n" + t.Render(72) +
         "\n" +
         (r.compared == 0
              ? std::string("no feature compared: dataset drift unknown (not enough data)\n")
              : std::to_string(r.drifted) + " of " + std::to_string(r.compared) +
                    " features drifted (" + Share(r.share) + "); dataset drift " +
                    (r.dataset_drift ? "DETECTED" : "not detected") + " (at " +
                    Share(r.drift_share) + " or more)\n") +
         OutputsLine(r);
}

std::string DriftSummaryHtml(const DriftReport& r) {
  return "<p>" + core::EscapeHtml(r.reference_source) + " (" + std::to_string(r.reference_rows) +
         " rows, reference) vs " + core::EscapeHtml(r.current_source) + " (" +
         std::to_string(r.current_rows) + " rows, current)</p><p><b>" + std::to_string(r.drifted) +
         " of " + std::to_string(r.compared) + " features drifted (" + Share(r.share) +
         "): dataset drift " + (r.dataset_drift ? "DETECTED" : "not detected") +
         "</b> (threshold " + Share(r.drift_share) + "). " + core::EscapeHtml(OutputsLine(r)) +
         "</p>";
}

std::string DriftTableHtml(const DriftReport& r) {
  std::string body =
      "<p><span style=\"color:#4c78a8\">&#9632; reference</span> "
      "<span style=\"color:#f58518\">&#9632; current</span></p>"
      "<table><tr><th>column</th><th>test</th><th>score</th><th>threshold</th>"
      "<th>drift</th><th>distributions</th></tr>";
  for (const ColumnReport& c : r.columns) {
    body += "<tr><td>" + core::EscapeHtml(Named(c)) + "</td>";
    if (!c.skipped.empty()) {
      body += "<td colspan=\"4\">" + core::EscapeHtml(c.skipped) + "</td>";
    } else {
      const ColumnDrift& d = c.drift;
      body += "<td>" + std::string(MethodName(d.method)) + "</td><td>" + Score(d) + "</td><td>" +
              core::FormatNumber(d.threshold) + "</td><td>" + (d.drifted ? "<b>DRIFT</b>" : "ok") +
              "</td>";
    }
    body += "<td>" +
            core::SvgOverlaidBars(c.reference_shares, c.current_shares, c.bins,
                                  {"reference", "current"}) +
            "</td></tr>";
  }
  return body + "</table>";
}

std::string RenderDriftHtml(const DriftReport& r) {
  return core::HtmlPage("Data drift",
                        "<h1>Data drift</h1>" + DriftSummaryHtml(r) + DriftTableHtml(r));
}

}  // namespace plinth::monitor
