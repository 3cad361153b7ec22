// What `plinth serve` remembers for /feedback, and the live error it computes.
#include "serving/feedback.h"

#include <gtest/gtest.h>

#include "serving/model_server.h"
#include "serving/model_source.h"

namespace plinth::serving {
namespace {

ml::Prediction Values(std::vector<double> v) {
  ml::Prediction p;
  p.task = ml::Task::kRegression;
  p.rows = static_cast<int64_t>(v.size());
  p.values = std::move(v);
  return p;
}

FeedbackRecord Label(std::string id, int64_t row, double value) {
  return {std::move(id), row, std::to_string(value), 0};
}

TEST(FeedbackStore, MatchesRowsOfRememberedRequestsAndForgetsTheOldest) {
  FeedbackStore store(2);
  store.Remember("a", nullptr, Values({1.0, 2.0}));
  store.Remember("b", nullptr, Values({10.0}));
  std::vector<FeedbackRecord> records = {Label("a", 1, 2.5), Label("b", 0, 9.0), Label("b", 1, 0.0),
                                         Label("zz", 0, 1.0)};
  std::vector<const FeedbackRecord*> unknown;
  EXPECT_EQ(store.Match(records, {2.5, 9.0, 0.0, 1.0}, true, &unknown), 2);
  ASSERT_EQ(unknown.size(), 2u);  // a row past the request's rows, an id never seen
  EXPECT_EQ(unknown[0]->request_id, "b");
  EXPECT_EQ(unknown[1]->request_id, "zz");

  store.Remember("c", nullptr, Values({5.0}));  // full: "a", the oldest, goes
  unknown.clear();
  const std::vector<FeedbackRecord> later = {Label("a", 0, 1.0), Label("c", 0, 5.0)};
  EXPECT_EQ(store.Match(later, {1.0, 5.0}, true, &unknown), 1);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0]->request_id, "a");

  store.Remember("b", nullptr, Values({7.0}));  // a repeated id takes over its slot
  unknown.clear();
  const std::vector<FeedbackRecord> again = {Label("b", 0, 7.0), Label("c", 0, 5.0)};
  EXPECT_EQ(store.Match(again, {7.0, 5.0}, true, &unknown), 2);

  std::string text;
  http::PrometheusWriter w(text);
  store.RenderMetrics(w, true);
  // matched: a/1 (|2-2.5|), b/0 (|10-9|), c/0 (0), b/0 (0), c/0 (0): MAE 1.5 / 5.
  EXPECT_NE(text.find("plinth_serve_feedback_rows_total{result=\"matched\"} 5"), std::string::npos)
      << text;
  EXPECT_NE(text.find("plinth_serve_feedback_rows_total{result=\"unknown\"} 3"), std::string::npos);
  EXPECT_NE(text.find("plinth_serve_live_mae 0.3\n"), std::string::npos) << text;
}

// With a canary, each model's live error on its own traffic (a new canary version apart from
// the old one), and all of them together as before.
TEST(FeedbackStore, ScoresEachModelApart) {
  FeedbackStore store(10);
  store.Remember("served", nullptr, Values({1.0}), FeedbackStore::kServed, "1");
  store.Remember("canary", nullptr, Values({4.0, 6.0}), FeedbackStore::kCanary, "2");
  store.Remember("canary3", nullptr, Values({10.0}), FeedbackStore::kCanary, "3");
  std::vector<const FeedbackRecord*> unknown;
  EXPECT_EQ(store.Match({Label("served", 0, 2.0), Label("canary", 0, 4.0), Label("canary", 1, 3.0),
                         Label("canary3", 0, 0.0)},
                        {2.0, 4.0, 3.0, 0.0}, true, &unknown),
            4);
  std::string text;
  http::PrometheusWriter w(text);
  store.RenderMetrics(w, true);
  store.RenderRoleMetrics(w, true);
  EXPECT_NE(text.find("plinth_serve_live_mae 3.5\n"), std::string::npos) << text;
  for (const char* line :
       {"plinth_serve_model_feedback_rows_total{role=\"served\",version=\"1\"} 1\n",
        "plinth_serve_model_feedback_rows_total{role=\"canary\",version=\"2\"} 2\n",
        "plinth_serve_model_feedback_rows_total{role=\"canary\",version=\"3\"} 1\n",
        "plinth_serve_model_live_mae{role=\"served\",version=\"1\"} 1\n",
        "plinth_serve_model_live_mae{role=\"canary\",version=\"2\"} 1.5\n",
        "plinth_serve_model_live_mae{role=\"canary\",version=\"3\"} 10\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

// The canary's bucket is part of the protocol: replicas of different releases behind one
// balancer must send a client to the same model. These values must never change (they are
// the Python definition's in tests/e2e/serve_canary_test.py, an independent implementation).
TEST(CanaryBucket, IsStableAndEven) {
  const uint32_t pinned[] = {CanaryBucket("req-000"), CanaryBucket("user-1"), CanaryBucket("")};
  EXPECT_EQ(pinned[0], 2290u);
  EXPECT_EQ(pinned[1], 7624u);
  EXPECT_EQ(pinned[2], 6203u);
  int below = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const uint32_t b = CanaryBucket("id-" + std::to_string(i));
    ASSERT_LT(b, 10000u);
    below += b < 1000 ? 1 : 0;
  }
  // 10% of 200000: the binomial's standard deviation is 134; 5 of them either side.
  EXPECT_NEAR(below, n / 10, 670);
}

TEST(PredictionStats, CountsRowsAndValues) {
  PredictionStats stats;
  stats.Observe(Values({1.0, 3.0}), {});
  stats.Observe(Values({5.0}), {});
  std::string text;
  http::PrometheusWriter w(text);
  stats.RenderMetrics(w, true);
  EXPECT_NE(text.find("plinth_serve_predicted_rows_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plinth_serve_prediction_value_sum 9\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plinth_serve_prediction_value_count 3\n"), std::string::npos) << text;
}

TEST(ModelSource, PollIntervalDefaultsToThirtySecondsForAnAliasOnly) {
  EXPECT_EQ(PollSeconds("models:/churn@production", -1), 30);
  EXPECT_EQ(PollSeconds("models:/churn/3", -1), 0);
  EXPECT_EQ(PollSeconds("bundles/churn", -1), 0);
  EXPECT_EQ(PollSeconds("models:/churn@production", 0), 0);
  EXPECT_EQ(PollSeconds("bundles/churn", 5), 5);
}

TEST(ModelSource, ABundleWithoutMetadataHasNoVersion) {
  auto v = BundleVersion("/nonexistent-bundle");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("/nonexistent-bundle/plinth-model.json"), std::string::npos)
      << v.status().ToString();
}

}  // namespace
}  // namespace plinth::serving
