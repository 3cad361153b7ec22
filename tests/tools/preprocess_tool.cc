// Test helper: Plinth's preprocessing fitted on the rows of one CSV file and
// applied to another, for the comparison with scikit-learn
// (tests/e2e/preprocess_vs_sklearn.py).
//   preprocess_tool TRAIN.csv APPLY.csv OUT SCALING IMPUTE COLUMNS
// SCALING is standard|minmax|none, IMPUTE median|mean, COLUMNS the input
// columns (comma-separated). No outlier handling and no category limit: the
// plain imputation, scaling and one-hot encoding scikit-learn does. Writes
// OUT.json (preprocess.json: the fitted statistics, doubles printed so they
// round-trip) and OUT.csv (the features of APPLY's rows, named in the header;
// floats printed with 9 significant digits, which round-trips float32).
#include <cstdio>
#include <string>

#include "core/file.h"
#include "ml/preprocess.h"
#include "table/csv_reader.h"

using namespace plinth;

namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "preprocess_tool: %s\n", s.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: preprocess_tool TRAIN.csv APPLY.csv OUT standard|minmax|none "
                 "median|mean COLUMNS\n");
    return 2;
  }
  ml::PreprocessOptions options;
  options.outliers = ml::OutlierMethod::kNone;
  options.outlier_action = ml::OutlierAction::kKeep;
  options.clip_at_predict = false;
  options.max_categories = 1 << 20;
  auto scaling = ml::ParseScaling(argv[4]);
  auto impute = ml::ParseNumericImpute(argv[5]);
  if (!scaling.ok() || !impute.ok()) {
    return Fail(scaling.ok() ? impute.status() : scaling.status());
  }
  options.scaling = *scaling;
  options.numeric_impute = *impute;
  std::vector<std::string> inputs;
  for (std::string rest = argv[6]; !rest.empty();) {
    size_t comma = rest.find(',');
    inputs.push_back(rest.substr(0, comma));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }

  auto train = table::ReadCsv(argv[1]);
  if (!train.ok()) {
    return Fail(train.status());
  }
  std::vector<int64_t> rows(static_cast<size_t>(train->table.num_rows()));
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i] = static_cast<int64_t>(i);
  }
  auto pre = ml::Preprocessor::Fit(train->table, rows, inputs, options);
  if (!pre.ok()) {
    return Fail(pre.status());
  }
  table::CsvOptions csv;
  for (const table::Field& f : train->table.schema().fields()) {
    csv.types[f.name] = f.type;
  }
  auto apply = table::ReadCsv(argv[2], csv);
  if (!apply.ok()) {
    return Fail(apply.status());
  }
  auto x = pre->Transform(apply->table);
  if (!x.ok()) {
    return Fail(x.status());
  }

  std::string text;
  for (const auto& name : pre->feature_names()) {
    text += (text.empty() ? "\"" : ",\"") + name + "\"";
  }
  text += "\n";
  char buf[32];
  for (int64_t r = 0; r < x->rows; ++r) {
    for (int64_t c = 0; c < x->cols; ++c) {
      std::snprintf(buf, sizeof(buf), c ? ",%.9g" : "%.9g", static_cast<double>(x->at(r, c)));
      text += buf;
    }
    text += "\n";
  }
  const std::string out = argv[3];
  Status s = core::AtomicWriteFile(out + ".csv", text);
  if (s.ok()) {
    s = core::AtomicWriteFile(out + ".json", pre->ToJson().dump(1) + "\n");
  }
  return s.ok() ? 0 : Fail(s);
}
