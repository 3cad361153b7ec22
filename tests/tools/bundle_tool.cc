// Test helper: what a bundle makes of a CSV file, for the Python tests that
// compare with python3-xgboost and torch on the same model file.
//   bundle_tool features BUNDLE DATA.csv OUT.csv   the transformed feature matrix
//   bundle_tool predict BUNDLE DATA.csv OUT.csv    the model outputs (p1 | p0..pk-1 | value)
// Floats are printed with 9 significant digits, which round-trips float32.
#include <cstdio>
#include <string>

#include "core/file.h"
#include "ml/bundle.h"
#include "table/csv_reader.h"

using namespace plinth;

int main(int argc, char** argv) {
  std::string mode = argc == 5 ? argv[1] : "";
  if (mode != "features" && mode != "predict") {
    std::fprintf(stderr, "usage: bundle_tool features|predict BUNDLE DATA.csv OUT.csv\n");
    return 2;
  }
  auto p = ml::Predictor::Load(argv[2]);
  if (!p.ok()) {
    std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
    return 2;
  }
  table::CsvOptions csv;
  for (const table::Field& f : (*p)->input_schema().fields()) {
    csv.types[f.name] = f.type;
  }
  auto data = table::ReadCsv(argv[3], csv);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 2;
  }
  auto x = (*p)->preprocessor().Transform(data->table);
  if (!x.ok()) {
    std::fprintf(stderr, "%s\n", x.status().ToString().c_str());
    return 2;
  }
  ml::Matrix out = *x;
  if (mode == "predict") {
    auto y = (*p)->model().Predict(*x);
    if (!y.ok()) {
      std::fprintf(stderr, "%s\n", y.status().ToString().c_str());
      return 2;
    }
    out = *y;
  }
  std::string text;
  for (int64_t c = 0; c < out.cols; ++c) {
    text += (c ? ",f" : "f") + std::to_string(c);
  }
  text += "\n";
  char buf[32];
  for (int64_t r = 0; r < out.rows; ++r) {
    for (int64_t c = 0; c < out.cols; ++c) {
      std::snprintf(buf, sizeof(buf), c ? ",%.9g" : "%.9g", static_cast<double>(out.at(r, c)));
      text += buf;
    }
    text += "\n";
  }
  Status s = core::AtomicWriteFile(argv[4], text);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  return 0;
}
