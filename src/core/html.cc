#include "core/html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace plinth::core {

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string HtmlPage(std::string_view title, std::string_view body) {
  std::string out = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>)";
  out += EscapeHtml(title);
  out += R"(</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1f2933;background:#fff}
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#52606d;font-size:.9rem;margin-bottom:1rem}
table{border-collapse:collapse;font-size:.85rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e4e7eb;text-align:right;vertical-align:middle}
th{background:#f5f7fa;position:sticky;top:0}
td.l,th.l{text-align:left}
.pass{color:#1b7f3b;font-weight:600}.fail{color:#c62828;font-weight:600}.warn{color:#b26a00;font-weight:600}
.bar{fill:#3e7cb1}.bar:hover{fill:#f0a202}
code{background:#f5f7fa;padding:0 .2rem;border-radius:3px}
.summary{display:flex;gap:2rem;margin:1rem 0}.summary div{background:#f5f7fa;padding:.6rem 1rem;border-radius:6px}
.summary b{display:block;font-size:1.3rem}
</style></head><body>
)";
  out += body;
  out += "\n</body></html>\n";
  return out;
}

std::string SvgBars(const std::vector<int64_t>& counts, const std::vector<std::string>& labels,
                    int width, int height) {
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) + "\" role=\"img\">";
  if (!counts.empty()) {
    int64_t peak = std::max<int64_t>(1, *std::max_element(counts.begin(), counts.end()));
    double bw = static_cast<double>(width) / static_cast<double>(counts.size());
    for (size_t i = 0; i < counts.size(); ++i) {
      double h =
          static_cast<double>(height) * static_cast<double>(counts[i]) / static_cast<double>(peak);
      if (counts[i] > 0 && h < 1) {
        h = 1;
      }
      char rect[200];
      std::snprintf(rect, sizeof(rect),
                    "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\">",
                    static_cast<double>(i) * bw, height - h, std::max(bw - 1, 0.5), h);
      out += rect;
      out += "<title>";
      if (i < labels.size()) {
        out += EscapeHtml(labels[i]) + ": ";
      }
      out += std::to_string(counts[i]) + "</title></rect>";
    }
  }
  out += "</svg>";
  return out;
}

std::string SvgOverlaidBars(const std::vector<double>& first, const std::vector<double>& second,
                            const std::vector<std::string>& labels,
                            const std::array<std::string, 2>& names, int width, int height) {
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height + 4) + "\" role=\"img\">";
  const size_t bins = std::min(first.size(), second.size());
  double peak = 0;
  for (size_t i = 0; i < bins; ++i) {
    peak = std::max({peak, first[i], second[i]});
  }
  if (peak <= 0) {
    return out + "</svg>";
  }
  const double bw = static_cast<double>(width) / static_cast<double>(bins);
  for (int series = 0; series < 2; ++series) {
    const std::vector<double>& v = series == 0 ? first : second;
    for (size_t i = 0; i < bins; ++i) {
      const double h = static_cast<double>(height) * v[i] / peak;
      char rect[256];
      std::snprintf(rect, sizeof(rect),
                    "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                    "fill-opacity=\"0.55\"><title>",
                    static_cast<double>(i) * bw, height - h + 2, std::max(bw - 1, 0.5), h,
                    series == 0 ? "#4c78a8" : "#f58518");
      char share[32];
      std::snprintf(share, sizeof(share), "%.1f%%", 100 * v[i]);
      out += rect;
      out += (i < labels.size() ? EscapeHtml(labels[i]) + ": " : std::string()) +
             EscapeHtml(names[static_cast<size_t>(series)]) + " " + share + "</title></rect>";
    }
  }
  return out + "</svg>";
}

std::string SvgLines(const std::vector<std::vector<double>>& series,
                     const std::vector<std::string>& names, int marker, int width, int height) {
  static constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
  constexpr double kPad = 24;  // room for the range labels and the legend
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  size_t n = 0;
  for (const auto& s : series) {
    n = std::max(n, s.size());
    for (double v : s) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) + "\" role=\"img\">";
  if (n == 0 || !std::isfinite(lo)) {
    return out + "</svg>";
  }
  if (hi == lo) {
    hi = lo + 1;
  }
  const double w = width - 2 * kPad, h = height - 2 * kPad;
  auto x_of = [&](size_t i) { return kPad + (n > 1 ? w * static_cast<double>(i) / (n - 1) : 0); };
  auto y_of = [&](double v) { return kPad + h * (hi - v) / (hi - lo); };
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                "stroke=\"#ccc\"/>",
                kPad, kPad, w, h);
  out += buf;
  if (marker >= 0 && static_cast<size_t>(marker) < n) {
    std::snprintf(buf, sizeof(buf),
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                  "stroke-dasharray=\"4 3\"/>",
                  x_of(static_cast<size_t>(marker)), x_of(static_cast<size_t>(marker)), kPad,
                  kPad + h);
    out += buf;
  }
  for (size_t s = 0; s < series.size(); ++s) {
    out += "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"" + std::string(kColors[s % 4]) +
           "\" points=\"";
    for (size_t i = 0; i < series[s].size(); ++i) {
      if (std::isfinite(series[s][i])) {
        std::snprintf(buf, sizeof(buf), "%.1f,%.1f ", x_of(i), y_of(series[s][i]));
        out += buf;
      }
    }
    out += "\"/>";
    std::snprintf(buf, sizeof(buf), "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">",
                  kPad + 120.0 * static_cast<double>(s), kPad - 8, kColors[s % 4]);
    out += buf + EscapeHtml(s < names.size() ? names[s] : "") + "</text>";
  }
  std::snprintf(buf, sizeof(buf),
                "<text x=\"2\" y=\"%.1f\" font-size=\"10\">%s</text>"
                "<text x=\"2\" y=\"%.1f\" font-size=\"10\">%s</text>",
                kPad + 4, FormatNumber(hi).c_str(), kPad + h, FormatNumber(lo).c_str());
  out += buf;
  return out + "</svg>";
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) {
    return "";
  }
  char buf[64];
  if (std::fabs(v) < 1e15 && v == std::floor(v)) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.6g", v);
  }
  return buf;
}

}  // namespace plinth::core
