// Test helper: computes Plinth's metrics for predictions made elsewhere, so a
// Python test can compare them with sklearn.metrics on the very same numbers.
//   metrics_tool classify K THRESHOLD FILE.csv   (columns: y, p0 .. p{K-1})
//   metrics_tool regress FILE.csv                (columns: y, pred)
// Prints the metrics as JSON (full precision).
#include <cstdio>
#include <string>
#include <vector>

#include "ml/metrics.h"
#include "table/csv_reader.h"

using namespace plinth;

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "classify" && argc == 5) || (mode == "regress" && argc == 3))) {
    std::fprintf(stderr, "usage: metrics_tool classify K THRESHOLD FILE | regress FILE\n");
    return 2;
  }
  auto csv = table::ReadCsv(argv[argc - 1]);
  if (!csv.ok()) {
    std::fprintf(stderr, "%s\n", csv.status().ToString().c_str());
    return 2;
  }
  const table::Table& t = csv->table;
  auto col = [&](size_t c) {
    std::vector<double> v(static_cast<size_t>(t.num_rows()));
    for (int64_t i = 0; i < t.num_rows(); ++i) {
      v[static_cast<size_t>(i)] = t.column(c).GetDouble(i);
    }
    return v;
  };
  core::Json out;
  if (mode == "classify") {
    int k = std::stoi(argv[2]);
    double threshold = std::stod(argv[3]);
    std::vector<double> y = col(0);
    std::vector<int> labels(y.begin(), y.end());
    std::vector<double> proba(y.size() * static_cast<size_t>(k));
    for (int c = 0; c < k; ++c) {
      std::vector<double> p = col(static_cast<size_t>(c) + 1);
      for (size_t i = 0; i < p.size(); ++i) {
        proba[i * static_cast<size_t>(k) + static_cast<size_t>(c)] = p[i];
      }
    }
    auto m = ml::EvaluateClassifier(labels, proba, k, threshold);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      return 2;
    }
    std::vector<std::string> names;
    for (int c = 0; c < k; ++c) {
      names.push_back(std::to_string(c));
    }
    out = ml::ToJson(*m, names);
  } else {
    auto m = ml::EvaluateRegressor(col(0), col(1));
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      return 2;
    }
    out = ml::ToJson(*m);
  }
  std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}
