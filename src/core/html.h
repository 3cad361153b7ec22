// Building blocks for the HTML reports users read (profiles, validation,
// drift): escaping, one page shell with the house stylesheet, and inline SVG
// charts, so every report is one self-contained file that works offline.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::core {

// `text` with & < > " ' escaped.
std::string EscapeHtml(std::string_view text);

// A complete HTML document with `title` and `body` (already HTML).
std::string HtmlPage(std::string_view title, std::string_view body);

// An inline SVG bar chart of `counts` (`width` x `height` pixels). `labels`,
// when given (one per bar), become hover titles.
std::string SvgBars(const std::vector<int64_t>& counts, const std::vector<std::string>& labels,
                    int width = 160, int height = 40);

// Two distributions of the same bins overlaid as translucent bars (the first blue, behind;
// the second orange, in front), scaled to the larger peak; each bar's hover title names
// its bin (`labels`), its series (`names`) and its value as a percentage.
std::string SvgOverlaidBars(const std::vector<double>& first, const std::vector<double>& second,
                            const std::vector<std::string>& labels,
                            const std::array<std::string, 2>& names, int width = 480,
                            int height = 120);

// An inline SVG line chart: one polyline per series in `series` (all of the
// same length, x = index), named by `names` in a legend, with a vertical
// marker at index `marker` (none when negative) and the y range printed.
std::string SvgLines(const std::vector<std::vector<double>>& series,
                     const std::vector<std::string>& names, int marker = -1, int width = 640,
                     int height = 240);

// A number for people: integers without a fraction, others to 6 significant digits.
std::string FormatNumber(double v);

}  // namespace plinth::core
