// Google Benchmark micro benchmarks of what `plinth serve` does for one
// /predict request, stage by stage, on a GBDT bundle trained on the adult data
// (13 columns, 8 of them strings) with bodies of 1 and 100 rows: reading the
// body into columns, scoring (preprocessing and trees), writing the answer and
// formatting the prediction log's line. The HTTP layer around them is measured
// end to end by serve_bench.py.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "serving/answers.h"
#include "serving/live_monitor.h"
#include "serving/prediction_log.h"
#include "serving/protocols.h"
#include "table/csv_reader.h"
#include "train/config.h"
#include "train/train.h"

namespace {

using plinth::core::Json;

struct Adult {
  std::unique_ptr<plinth::ml::Predictor> predictor;
  std::string dir;
  Json rows;  // the first 100 test rows as JSON arrays, nulls for missing values
};

const Adult& TrainedAdult() {
  // Never destroyed: freeing an XGBoost booster from an exit handler, after
  // libxgboost's own statics are gone, crashes.
  static const Adult& a =
      *std::make_unique<Adult>([] {
         Adult out;
         out.dir = (std::filesystem::temp_directory_path() / "plinth-serve-micro-bench").string();
         std::filesystem::create_directories(out.dir);
         const std::string config = out.dir + "/train.yaml";
         std::ofstream(config) << "name: adult-income\nseed: 1\n"
                               << "data: {path: " PLINTH_DATASETS_DIR
                                  "/adult_train.csv, target: income, "
                               << "ignore_columns: [fnlwgt]}\nmodel: {type: gbdt, epochs: 60}\n"
                               << "output: " << out.dir << "/model\n";
         auto c = plinth::train::LoadTrainingConfig(config, {});
         plinth::train::TrainOptions o;
         o.progress = false;
         auto trained = plinth::train::Train(*c, o);
         if (!trained.ok()) {
           std::fprintf(stderr, "training failed: %s\n", trained.status().ToString().c_str());
           std::exit(1);
         }
         out.predictor = std::move(trained->predictor);
         (void)out.predictor->SetPredictThreads(1);
         auto test = plinth::table::ReadCsv(PLINTH_DATASETS_DIR "/adult_test.csv");
         const plinth::table::Table& t = test->table;
         out.rows = Json::array();
         for (int64_t r = 0; r < 100; ++r) {
           Json row = Json::array();
           for (const plinth::table::Field& f : out.predictor->input_schema().fields()) {
             const plinth::table::Column& col = *t.ColumnByName(f.name);
             if (col.IsNull(r)) {
               row.push_back(nullptr);
             } else if (col.type() == plinth::table::DataType::kString) {
               row.push_back(std::string(col.GetString(r)));
             } else {
               row.push_back(col.GetDouble(r));
             }
           }
           out.rows.push_back(row);
         }
         return out;
       }())
           .release();
  return a;
}

std::string Body(int64_t rows) {
  const Adult& a = TrainedAdult();
  Json data = Json::array();
  for (int64_t r = 0; r < rows; ++r) {
    data.push_back(a.rows[static_cast<size_t>(r)]);
  }
  return plinth::core::DumpJson(Json{{"data", data}}, false);
}

const plinth::serving::InputLimits& Limits() {
  static plinth::serving::InputLimits limits{10000, plinth::table::CsvOptions().null_values};
  return limits;
}

// The first `rows` test rows as the server reads them, and their prediction.
struct Scored {
  plinth::table::Table rows;
  plinth::ml::Prediction prediction;
};
Scored ScoredRows(int64_t rows) {
  const Adult& a = TrainedAdult();
  auto t = plinth::serving::ReadPredictBody(Body(rows), a.predictor->input_schema(), Limits());
  auto p = a.predictor->Predict(*t);
  return {*std::move(t), *std::move(p)};
}

void BM_ServeReadBody(benchmark::State& state) {
  const Adult& a = TrainedAdult();
  const std::string body = Body(state.range(0));
  for (auto _ : state) {
    auto rows = plinth::serving::ReadPredictBody(body, a.predictor->input_schema(), Limits());
    benchmark::DoNotOptimize(rows->num_rows());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ServeReadBody)->Arg(1)->Arg(100);

void BM_ServePredict(benchmark::State& state) {
  const Adult& a = TrainedAdult();
  const Scored s = ScoredRows(state.range(0));
  for (auto _ : state) {
    auto p = a.predictor->Predict(s.rows);
    benchmark::DoNotOptimize(p->proba.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ServePredict)->Arg(1)->Arg(100);

void BM_ServeWriteAnswer(benchmark::State& state) {
  const Adult& a = TrainedAdult();
  const Scored s = ScoredRows(state.range(0));
  for (auto _ : state) {
    std::string out;
    plinth::serving::WritePredictAnswer(&out, *a.predictor, s.prediction, "3",
                                        "2026-12-03T12:00:00.000000Z", "0123456789abcdef");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ServeWriteAnswer)->Arg(1)->Arg(100);

// What a request pays for the prediction log: its line formatted and queued
// (the writer thread writes it out apart from the request).
void BM_ServeLogAppend(benchmark::State& state) {
  const Adult& a = TrainedAdult();
  const Scored s = ScoredRows(state.range(0));
  std::shared_ptr<const plinth::ml::Predictor> shared(a.predictor.get(),
                                                      [](const plinth::ml::Predictor*) {});
  auto log = plinth::serving::PredictionLog::Open({.dir = a.dir + "/log"});
  int64_t n = 0;
  for (auto _ : state) {
    plinth::serving::PredictionRecord rec;
    rec.request_id = "0123456789abcdef";
    rec.time_micros = 1764763200000000;
    rec.latency_ms = 0.25;
    rec.route = "/predict";
    rec.predictor = shared;
    rec.model_name = "adult-income";
    rec.model_version = "3";
    rec.rows = &s.rows;
    rec.prediction = &s.prediction;
    benchmark::DoNotOptimize((*log)->Append(rec));
    if (++n % 1000 == 0) {
      state.PauseTiming();
      (*log)->Flush();
      state.ResumeTiming();
    }
  }
  (*log)->Flush();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.counters["dropped"] = static_cast<double>((*log)->dropped_rows());
  log->reset();
  std::filesystem::remove_all(a.dir + "/log");
}
BENCHMARK(BM_ServeLogAppend)->Arg(1)->Arg(100);

// What a request pays for plinth serve --monitor: its rows and predictions appended to the
// window (the statistics are computed on another thread, every interval).
void BM_ServeMonitorObserve(benchmark::State& state) {
  const Adult& a = TrainedAdult();
  const Scored s = ScoredRows(state.range(0));
  plinth::serving::LiveMonitor::Setup setup;
  setup.model = std::shared_ptr<const plinth::ml::Predictor>(a.predictor.get(),
                                                             [](const plinth::ml::Predictor*) {});
  setup.config.window_rows = 100000;
  setup.config.interval_us = int64_t{3600} * 1000000;
  setup.reference = s.rows;
  auto monitor = plinth::serving::LiveMonitor::Start(std::move(setup));
  if (!monitor.ok()) {
    state.SkipWithError(monitor.status().ToString().c_str());
    return;
  }
  int64_t t = 1764763200000000;
  for (auto _ : state) {
    (*monitor)->Observe("0123456789abcdef", ++t, 0.25, s.rows, s.prediction);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ServeMonitorObserve)->Arg(1)->Arg(100);

}  // namespace

BENCHMARK_MAIN();
