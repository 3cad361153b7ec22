// Google Benchmark micro benchmarks of the hot inner loops.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

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

}  // namespace

BENCHMARK_MAIN();
