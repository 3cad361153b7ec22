// Dynamic batching: concurrent requests share model calls, each hears its own rows'
// prediction exactly as scoring it alone gives, from the batcher's thread (the submitting
// thread never waits). Under `make test-tsan` this also checks the hand-over for races.
#include "serving/dynamic_batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "ml/model.h"
#include "testutil/testutil.h"

namespace plinth::serving {
namespace {

// A small XGBoost classifier on 4 numeric columns, imported as a bundle would be.
std::shared_ptr<const ml::Predictor> TrainPredictor(const std::string& dir) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> g;
  ml::Matrix x(400, 4);
  std::vector<float> y;
  for (int64_t i = 0; i < 400; ++i) {
    for (int c = 0; c < 4; ++c) {
      x.at(i, c) = g(rng);
    }
    y.push_back(x.at(i, 0) + 0.5f * x.at(i, 1) > 0 ? 1.0f : 0.0f);
  }
  auto kind = ml::FindModelKind("gbdt");
  EXPECT_TRUE(kind.ok());
  auto model = (*kind)->create();
  EXPECT_TRUE(model.ok());
  ml::FitOptions o;
  o.epochs = 10;
  o.early_stopping_patience = 0;
  EXPECT_TRUE((*model)->Fit({&x, y, {}}, {&x, y, {}}, o).ok());
  auto bytes = (*model)->Serialize();
  EXPECT_TRUE(bytes.ok());
  core::Json inputs = core::Json::array();
  for (const char* name : {"a", "b", "c", "d"}) {
    inputs.push_back({{"name", name}, {"type", "float64"}});
  }
  const core::Json schema = {
      {"task", "binary"}, {"class_labels", {"no", "yes"}}, {"inputs", inputs}};
  auto predictor = ml::ImportModel("xgboost", *bytes, schema, "schema", dir);
  EXPECT_TRUE(predictor.ok()) << predictor.status().ToString();
  return std::shared_ptr<const ml::Predictor>(*std::move(predictor));
}

table::Table Rows(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  std::vector<table::Column> columns(4, table::Column(table::DataType::kFloat64));
  for (int64_t i = 0; i < n; ++i) {
    for (auto& c : columns) {
      c.AppendDouble(g(rng));
    }
  }
  return table::Table(table::Schema({{"a", table::DataType::kFloat64},
                                     {"b", table::DataType::kFloat64},
                                     {"c", table::DataType::kFloat64},
                                     {"d", table::DataType::kFloat64}}),
                      std::move(columns));
}

TEST(DynamicBatcher, ConcurrentRequestsShareCallsAndHearTheirOwnRows) {
  testutil::TempDir dir;
  std::shared_ptr<const ml::Predictor> predictor = TrainPredictor(dir.File("bundle"));
  ASSERT_NE(predictor, nullptr);
  constexpr int kThreads = 6;
  constexpr int kEach = 30;
  std::vector<table::Table> tables;
  std::vector<ml::Prediction> alone;
  for (int i = 0; i < kThreads * kEach; ++i) {
    tables.push_back(Rows(1 + i % 5, static_cast<uint64_t>(i)));
    auto p = predictor->Predict(tables.back());
    ASSERT_TRUE(p.ok());
    alone.push_back(*p);
  }
  std::atomic<int> right{0};
  {
    DynamicBatcher batcher(64, 5000);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < kEach; ++k) {
          const int i = t * kEach + k;
          std::promise<Result<ml::Prediction>> heard;
          const auto caller = std::this_thread::get_id();
          std::atomic<bool> on_caller{false};
          batcher.Submit(predictor, tables[static_cast<size_t>(i)], [&](Result<ml::Prediction> p) {
            on_caller = std::this_thread::get_id() == caller;
            heard.set_value(std::move(p));
          });
          Result<ml::Prediction> p = heard.get_future().get();
          if (p.ok() && !on_caller && p->rows == alone[static_cast<size_t>(i)].rows &&
              p->classes == alone[static_cast<size_t>(i)].classes &&
              p->proba == alone[static_cast<size_t>(i)].proba) {
            ++right;
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    std::string metrics;
    batcher.RenderMetrics(metrics);
    EXPECT_NE(metrics.find("plinth_serve_batch_requests_count"), std::string::npos) << metrics;
  }
  EXPECT_EQ(right.load(), kThreads * kEach);
}

TEST(DynamicBatcher, WhatIsQueuedAtDestructionIsStillAnswered) {
  testutil::TempDir dir;
  std::shared_ptr<const ml::Predictor> predictor = TrainPredictor(dir.File("bundle"));
  ASSERT_NE(predictor, nullptr);
  std::vector<table::Table> tables;
  for (int i = 0; i < 20; ++i) {
    tables.push_back(Rows(3, static_cast<uint64_t>(i)));
  }
  std::atomic<int> answered{0};
  {
    DynamicBatcher batcher(1000, 1'000'000);  // would wait a second for company
    for (const table::Table& t : tables) {
      batcher.Submit(predictor, t, [&](Result<ml::Prediction> p) {
        if (p.ok() && p->rows == 3) {
          ++answered;
        }
      });
    }
  }
  EXPECT_EQ(answered.load(), 20);
}

}  // namespace
}  // namespace plinth::serving
