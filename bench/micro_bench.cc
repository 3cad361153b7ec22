// Google Benchmark micro benchmarks of the hot inner loops.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "ml/model.h"
#include "profile/profile.h"
#include "table/csv_reader.h"
#include "table/value_parse.h"

namespace {

std::string MakeCsv(int rows) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> d(100, 15);
  std::string text = "a,b,c,d,s\n";
  for (int i = 0; i < rows; ++i) {
    text += std::to_string(i) + "," + std::to_string(d(rng)) + "," + std::to_string(d(rng)) + "," +
            std::to_string(static_cast<int>(d(rng))) + ",name" + std::to_string(i % 97) + "\n";
  }
  return text;
}

void BM_ParseFloat64(benchmark::State& state) {
  const std::string s = "12345.678901";
  double v;
  for (auto _ : state) {
    benchmark::DoNotOptimize(plinth::table::ParseFloat64(s, v));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_ParseFloat64);

void BM_ParseInt64(benchmark::State& state) {
  const std::string s = "-1234567";
  int64_t v;
  for (auto _ : state) {
    benchmark::DoNotOptimize(plinth::table::ParseInt64(s, v));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_ParseInt64);

void BM_ReadCsvOneThread(benchmark::State& state) {
  std::string text = MakeCsv(100000);
  plinth::table::CsvOptions opt;
  opt.threads = 1;
  for (auto _ : state) {
    auto r = plinth::table::ReadCsvText(text, opt);
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ReadCsvOneThread)->Unit(benchmark::kMillisecond);

void BM_ProfileTable(benchmark::State& state) {
  auto r = plinth::table::ReadCsvText(MakeCsv(100000));
  plinth::profile::ProfileOptions opt;
  opt.threads = 1;
  for (auto _ : state) {
    auto p = plinth::profile::ProfileTable(r->table, opt);
    benchmark::DoNotOptimize(p.rows);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 100000));
}
BENCHMARK(BM_ProfileTable)->Unit(benchmark::kMillisecond);

// A gbdt of 100 trees of depth 6 on California housing's 8 numeric columns
// (missing values in 5% of the cells), trained once; `engine` picks the
// evaluator (PLINTH_TREE_ENGINE is read when a model is loaded).
struct Trees {
  plinth::ml::Matrix x;
  std::unique_ptr<plinth::ml::Model> model;
};

std::unique_ptr<plinth::ml::Model> TrainedTrees(const plinth::ml::Matrix& x, const char* engine) {
  static std::string bytes;
  if (bytes.empty()) {
    std::vector<float> y;
    for (int64_t r = 0; r < x.rows; ++r) {
      y.push_back(x.at(r, 7) > 3.5f ? 1.0f : 0.0f);  // median income above 3.5
    }
    plinth::ml::Matrix features = x;
    for (int64_t r = 0; r < x.rows; ++r) {
      features.at(r, 7) = NAN;  // the target's own column stays out
    }
    auto m = plinth::ml::CreateGbdt();
    plinth::ml::FitOptions o;
    o.epochs = 100;
    (void)(*m)->Fit({&features, y, {}}, {}, o);
    bytes = *(*m)->Serialize();
  }
  setenv("PLINTH_TREE_ENGINE", engine, 1);
  auto m = plinth::ml::CreateGbdt();
  (void)(*m)->Deserialize(bytes, plinth::ml::Task::kBinary, 2, x.cols);
  (void)(*m)->SetPredictThreads(1);
  unsetenv("PLINTH_TREE_ENGINE");
  return *std::move(m);
}

const plinth::ml::Matrix& HousingRows() {
  static plinth::ml::Matrix x = [] {
    auto csv = plinth::table::ReadCsv(PLINTH_DATASETS_DIR "/california_housing.csv");
    const auto& t = csv->table;
    plinth::ml::Matrix m(t.num_rows(), 8);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u;
    for (int64_t r = 0; r < t.num_rows(); ++r) {
      for (int64_t c = 0; c < 8; ++c) {
        const auto& col = t.column(static_cast<size_t>(c));
        m.at(r, c) = col.IsNull(r) || u(rng) < 0.05 ? NAN : static_cast<float>(col.GetDouble(r));
      }
    }
    return m;
  }();
  return x;
}

// Rows per second of one thread predicting `rows` rows per call.
void BM_Trees(benchmark::State& state, const char* engine) {
  const plinth::ml::Matrix& all = HousingRows();
  auto model = TrainedTrees(all, engine);
  std::vector<int64_t> take(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < take.size(); ++i) {
    take[i] = static_cast<int64_t>(i) % all.rows;
  }
  plinth::ml::Matrix x = plinth::ml::TakeRows(all, take);
  for (auto _ : state) {
    auto out = model->Predict(x);
    benchmark::DoNotOptimize(out->values.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * x.rows);
  state.SetLabel(model->PredictEngine());
}
BENCHMARK_CAPTURE(BM_Trees, native, "native")->Arg(1)->Arg(100)->Arg(20000);
BENCHMARK_CAPTURE(BM_Trees, xgboost, "xgboost")->Arg(1)->Arg(100)->Arg(20000);

}  // namespace

BENCHMARK_MAIN();
