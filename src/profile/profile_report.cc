// Human-readable renderings of a profile: the terminal table and the HTML report.
#include <cmath>
#include <cstdio>

#include "core/html.h"
#include "core/text_table.h"
#include "profile/profile.h"
#include "table/value_parse.h"

namespace plinth::profile {
namespace {

using core::FormatNumber;

// Numbers of a timestamp column are seconds since the epoch; show them as times.
std::string Show(const ColumnProfile& c, double v) {
  if (c.type == table::DataType::kTimestamp && std::isfinite(v)) {
    auto micros = static_cast<int64_t>(std::llround(v * 1e6));
    return table::FormatTimestamp(micros, micros % 86400000000 == 0);
  }
  return FormatNumber(v);
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole == 0) {
    return "0%";
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

double Median(const NumericStats& s) {
  for (const auto& [q, v] : s.quantiles) {
    if (q == 0.5) {
      return v;
    }
  }
  return std::nan("");
}

std::string TopValue(const CategoryStats& s) {
  if (s.counts.empty()) {
    return "";
  }
  return s.counts[0].first + " (" + std::to_string(s.counts[0].second) + ")";
}

}  // namespace

std::string FormatProfileText(const DatasetProfile& p) {
  std::string out = p.source + ": " + std::to_string(p.rows) + " rows, " +
                    std::to_string(p.columns.size()) + " columns, " +
                    std::to_string(p.duplicate_rows) + " duplicate rows" +
                    (p.duplicate_rows_exact ? "" : " (estimated)") + "\n\n";
  core::TextTable t(
      {"column", "type", "count", "nulls", "distinct", "mean", "std", "min", "p50", "max", "top"},
      {false, false, true, true, true, true, true, true, true, true, false});
  for (const auto& c : p.columns) {
    std::vector<std::string> row = {c.name, std::string(table::TypeName(c.type)),
                                    std::to_string(c.count), Percent(c.nulls, c.count + c.nulls),
                                    (c.distinct_exact ? "" : "~") + std::to_string(c.distinct)};
    if (c.numeric && c.count > 0) {
      const auto& s = *c.numeric;
      bool ts = c.type == table::DataType::kTimestamp;
      row.insert(row.end(), {ts ? "" : FormatNumber(s.mean), ts ? "" : FormatNumber(s.std),
                             Show(c, s.min), Show(c, Median(s)), Show(c, s.max), ""});
    } else if (c.categories) {
      row.insert(row.end(), {"", "", "", "", "", TopValue(*c.categories)});
    }
    t.AddRow(std::move(row));
  }
  return out + t.Render();
}

std::string RenderProfileHtml(const DatasetProfile& p) {
  std::string body = "<h1>Data profile</h1>\n<div class=\"meta\">" + core::EscapeHtml(p.source) +
                     " &middot; created " + core::EscapeHtml(p.created) + "</div>\n";
  body += "<div class=\"summary\"><div><b>" + std::to_string(p.rows) + "</b>rows</div><div><b>" +
          std::to_string(p.columns.size()) + "</b>columns</div><div><b>" +
          std::to_string(p.duplicate_rows) + "</b>duplicate rows" +
          (p.duplicate_rows_exact ? "" : " (estimated)") + "</div></div>\n";
  body +=
      "<table><thead><tr><th class=\"l\">column</th><th class=\"l\">type</th><th>count</th>"
      "<th>nulls</th><th>distinct</th><th>mean</th><th>std</th><th>min</th><th>p5</th>"
      "<th>p50</th><th>p95</th><th>max</th><th class=\"l\">distribution</th></tr></thead><tbody>\n";
  for (const auto& c : p.columns) {
    body += "<tr><td class=\"l\"><b>" + core::EscapeHtml(c.name) + "</b></td><td class=\"l\">" +
            std::string(table::TypeName(c.type)) + "</td><td>" + std::to_string(c.count) +
            "</td><td>" + Percent(c.nulls, c.count + c.nulls) + "</td><td>" +
            (c.distinct_exact ? "" : "~") + std::to_string(c.distinct) + "</td>";
    if (c.numeric && c.count > 0) {
      const auto& s = *c.numeric;
      auto q = [&](double prob) {
        for (const auto& [pq, v] : s.quantiles) {
          if (pq == prob) {
            return core::EscapeHtml(Show(c, v));
          }
        }
        return std::string();
      };
      bool ts = c.type == table::DataType::kTimestamp;
      std::vector<std::string> labels;
      for (size_t i = 0; i + 1 < s.bin_edges.size(); ++i) {
        labels.push_back(Show(c, s.bin_edges[i]) + " to " + Show(c, s.bin_edges[i + 1]));
      }
      body += "<td>" + (ts ? "" : FormatNumber(s.mean)) + "</td><td>" +
              (ts ? "" : FormatNumber(s.std)) + "</td><td>" + core::EscapeHtml(Show(c, s.min)) +
              "</td><td>" + q(0.05) + "</td><td>" + q(0.5) + "</td><td>" + q(0.95) + "</td><td>" +
              core::EscapeHtml(Show(c, s.max)) + "</td><td class=\"l\">" +
              core::SvgBars(s.bin_counts, labels) + "</td>";
    } else if (c.categories) {
      const auto& s = *c.categories;
      std::vector<int64_t> counts;
      std::vector<std::string> labels;
      for (size_t i = 0; i < s.counts.size() && i < 12; ++i) {
        counts.push_back(s.counts[i].second);
        labels.push_back(s.counts[i].first);
      }
      std::string top;
      for (size_t i = 0; i < s.counts.size() && i < 3; ++i) {
        top += (i ? ", " : "") + core::EscapeHtml(s.counts[i].first) + " (" +
               std::to_string(s.counts[i].second) + ")";
      }
      body += "<td colspan=\"7\" class=\"l\">" + top + "</td><td class=\"l\">" +
              core::SvgBars(counts, labels) + "</td>";
    } else {
      body += "<td colspan=\"8\"></td>";
    }
    body += "</tr>\n";
  }
  body += "</tbody></table>\n";
  return core::HtmlPage("Profile: " + p.source, body);
}

}  // namespace plinth::profile
