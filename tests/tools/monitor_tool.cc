// Test helper: Plinth's drift statistics on numbers written by a Python test, so it
// can compare them with scipy on the very same values.
//   monitor_tool ks FILE_A FILE_B      scipy.stats.ks_2samp(a, b)
//   monitor_tool kstwo FILE            each line "n x": scipy.stats.kstwo.sf(x, n)
//   monitor_tool smirnov FILE          each line "n x": scipy.special.smirnov(n, x)
//   monitor_tool column num|cat FILE_A FILE_B
//                                      every drift method's score on one column (labels:
//                                      one per line, empty = missing), and the default
// Files hold one value (or pair) per line, as Python's repr writes them. Prints JSON
// with every double at full precision.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "monitor/drift.h"
#include "monitor/stats.h"

using namespace plinth;

namespace {

std::vector<std::vector<double>> ReadRows(const char* path) {
  std::ifstream in(path);
  std::vector<std::vector<double>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::vector<double> row;
    for (std::string field; s >> field;) {
      row.push_back(std::strtod(field.c_str(), nullptr));
    }
    if (!row.empty()) {
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::vector<std::string> Lines(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::vector<double> Column(const char* path) {
  std::vector<double> out;
  for (const auto& row : ReadRows(path)) {
    out.push_back(row[0]);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  core::Json out = core::Json::array();
  if (mode == "ks" && argc == 4) {
    monitor::KsTest t = monitor::KsTwoSample(Column(argv[2]), Column(argv[3]));
    out = {{"statistic", t.statistic}, {"pvalue", t.pvalue}, {"exact", t.exact}};
  } else if ((mode == "kstwo" || mode == "smirnov") && argc == 3) {
    for (const auto& row : ReadRows(argv[2])) {
      const auto n = static_cast<int64_t>(row.at(0));
      out.push_back(mode == "kstwo" ? monitor::KolmogorovSf(n, row.at(1))
                                    : monitor::SmirnovSf(n, row.at(1)));
    }
  } else if (mode == "column" && argc == 5) {
    monitor::Sample ref, cur;
    ref.numeric = cur.numeric = std::string(argv[2]) == "num";
    const std::vector<std::string> ref_lines =
        ref.numeric ? std::vector<std::string>() : Lines(argv[3]);
    const std::vector<std::string> cur_lines =
        ref.numeric ? std::vector<std::string>() : Lines(argv[4]);
    if (ref.numeric) {
      ref.numbers = Column(argv[3]);
      cur.numbers = Column(argv[4]);
    } else {
      ref.labels.assign(ref_lines.begin(), ref_lines.end());
      cur.labels.assign(cur_lines.begin(), cur_lines.end());
    }
    out = core::Json::object();
    for (const char* name :
         {"ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi", "chi2_contingency"}) {
      monitor::DriftOptions o;
      o.method = *monitor::ParseMethod(name);
      auto d = monitor::CompareColumn(ref, cur, o);
      out[name] = d.ok() ? core::Json(d->score) : core::Json(d.status().message());
    }
    auto d = monitor::CompareColumn(ref, cur);
    if (d.ok()) {
      out["default"] = monitor::MethodName(d->method);
      out["drifted"] = d->drifted;
      out["new_categories"] = d->new_categories;
      out["missing"] = {d->reference_missing, d->current_missing};
    }
  } else {
    std::fprintf(stderr, "usage: monitor_tool ks FILE_A FILE_B | kstwo FILE | smirnov FILE\n");
    return 2;
  }
  std::printf("%s\n", out.dump(-1, ' ', false, core::Json::error_handler_t::replace).c_str());
  return 0;
}
