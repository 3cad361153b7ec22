// Renderings of a validation report: JSON, terminal text and HTML.
#include <cstdio>

#include "core/html.h"
#include "core/text_table.h"
#include "quality/validate.h"

namespace plinth::quality {
namespace {

std::string Status3(const CheckResult& r) {
  if (r.success) {
    return "ok";
  }
  return r.severity == Severity::kError ? "FAIL" : "warn";
}

std::string ObservedText(const core::Json& j) {
  if (j.is_null()) {
    return "";
  }
  if (j.is_number_float()) {
    return core::FormatNumber(j.get<double>());
  }
  if (j.is_string()) {
    return j.get<std::string>();
  }
  if (j.is_array()) {
    return std::to_string(j.size()) + " items";
  }
  if (j.is_object()) {
    std::string out;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out += (out.empty() ? "" : ", ") + it.key() + "=" + ObservedText(it.value());
    }
    return out;
  }
  return j.dump();
}

std::string UnexpectedText(const CheckResult& r) {
  if (!r.per_value) {
    return "";
  }
  if (r.unexpected == 0) {
    return "0";
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lld (%.3g%%)", static_cast<long long>(r.unexpected),
                r.unexpected_percent);
  return buf;
}

std::string FailingText(const CheckResult& r, size_t max) {
  std::string out;
  for (size_t i = 0; i < r.failing.size() && i < max; ++i) {
    out += (i ? ", " : "") + std::string("row ") + std::to_string(r.failing[i].row) + " (" +
           r.failing[i].value + ")";
  }
  if (r.unexpected > static_cast<int64_t>(std::min(max, r.failing.size()))) {
    out += ", ...";
  }
  return out;
}

}  // namespace

core::Json ReportToJson(const ValidationReport& report) {
  core::Json results = core::Json::array();
  for (const auto& r : report.results) {
    core::Json failing = core::Json::array();
    for (const auto& f : r.failing) {
      failing.push_back({{"row", f.row}, {"value", f.value}});
    }
    core::Json j = {{"check", r.label},
                    {"type", r.name},
                    {"where", r.where},
                    {"severity", std::string(SeverityName(r.severity))},
                    {"columns", r.columns},
                    {"success", r.success},
                    {"expected", r.expected},
                    {"observed", r.observed},
                    {"element_count", r.element_count},
                    {"per_value", r.per_value},
                    {"evaluated_count", r.evaluated},
                    {"unexpected_count", r.unexpected},
                    {"unexpected_percent", r.unexpected_percent},
                    {"failing_rows", failing}};
    if (!r.error.empty()) {
      j["error"] = r.error;
    }
    results.push_back(std::move(j));
  }
  int total = static_cast<int>(report.results.size());
  return {{"format", "plinth.validation/v1"},
          {"success", report.success()},
          {"suite", {{"name", report.suite_name}, {"source", report.suite_source}}},
          {"data",
           {{"source", report.data_source}, {"rows", report.rows}, {"columns", report.columns}}},
          {"statistics",
           {{"evaluated_checks", total},
            {"successful_checks", report.passed()},
            {"failed_errors", report.failed_errors()},
            {"failed_warnings", report.failed_warnings()},
            {"success_percent", total > 0 ? 100.0 * report.passed() / total : 100.0}}},
          {"results", results}};
}

std::string FormatReportText(const ValidationReport& report) {
  std::string out = "validate " + report.data_source + " (" + std::to_string(report.rows) +
                    " rows) against " + report.suite_source +
                    (report.suite_name.empty() ? "" : " (" + report.suite_name + ")") + "\n\n";
  core::TextTable t({"status", "check", "observed", "unexpected", "expected"},
                    {false, false, true, true, false});
  for (const auto& r : report.results) {
    t.AddRow({Status3(r), r.label, ObservedText(r.observed), UnexpectedText(r), r.expected});
  }
  out += t.Render(48);
  bool details = false;
  for (const auto& r : report.results) {
    if (r.success) {
      continue;
    }
    if (!details) {
      out += "\n";
      details = true;
    }
    out += Status3(r) + " " + r.label + " (" + r.where + ")";
    if (!r.error.empty()) {
      out += ": " + r.error;
    }
    if (!r.failing.empty()) {
      out += (r.error.empty() ? ": " : "; ") + FailingText(r, 5);
    }
    out += "\n";
  }
  out += "\n" + std::to_string(report.results.size()) +
         " checks: " + std::to_string(report.passed()) + " passed, " +
         std::to_string(report.failed_errors()) + " failed, " +
         std::to_string(report.failed_warnings()) + " warnings\n";
  return out;
}

std::string RenderReportHtml(const ValidationReport& report) {
  std::string body = "<h1>Data validation: " +
                     std::string(report.success() ? "<span class=\"pass\">passed</span>"
                                                  : "<span class=\"fail\">failed</span>") +
                     "</h1>\n<div class=\"meta\">" + core::EscapeHtml(report.data_source) + " (" +
                     std::to_string(report.rows) + " rows, " + std::to_string(report.columns) +
                     " columns) against " + core::EscapeHtml(report.suite_source) + "</div>\n";
  body += "<div class=\"summary\"><div><b>" + std::to_string(report.results.size()) +
          "</b>checks</div><div><b class=\"pass\">" + std::to_string(report.passed()) +
          "</b>passed</div><div><b class=\"fail\">" + std::to_string(report.failed_errors()) +
          "</b>failed</div><div><b class=\"warn\">" + std::to_string(report.failed_warnings()) +
          "</b>warnings</div></div>\n";
  body +=
      "<table><thead><tr><th class=\"l\">status</th><th class=\"l\">check</th><th>observed</th>"
      "<th>unexpected</th><th class=\"l\">expected</th><th class=\"l\">details</th></tr></thead>"
      "<tbody>\n";
  for (const auto& r : report.results) {
    std::string cls = r.success ? "pass" : (r.severity == Severity::kError ? "fail" : "warn");
    std::string details = r.error;
    if (!r.success && !r.failing.empty()) {
      details += (details.empty() ? "" : "; ") + FailingText(r, 10);
    }
    body += "<tr><td class=\"l " + cls + "\">" + Status3(r) + "</td><td class=\"l\"><code>" +
            core::EscapeHtml(r.label) + "</code><br><small>" + core::EscapeHtml(r.where) +
            "</small></td><td>" + core::EscapeHtml(ObservedText(r.observed)) + "</td><td>" +
            core::EscapeHtml(UnexpectedText(r)) + "</td><td class=\"l\">" +
            core::EscapeHtml(r.expected) + "</td><td class=\"l\">" + core::EscapeHtml(details) +
            "</td></tr>\n";
  }
  body += "</tbody></table>\n";
  return core::HtmlPage("Validation: " + report.data_source, body);
}

}  // namespace plinth::quality
