// Entities read from an MLflow server's answers: wrong-typed or out-of-range
// members are errors naming the entity and the key, never wrapped or thrown.
#include "tracking/mlflow_json.h"

#include <gtest/gtest.h>

#include <tuple>

namespace plinth::tracking {
namespace {

using core::Json;

TEST(MlflowJsonTest, Int64MembersOutOfRangeAreErrorsNotWrapped) {
  struct Case {
    Json value;
    std::string got;
  };
  for (const Case& c :
       std::vector<Case>{{Json(uint64_t{9223372036854775808u}), "9223372036854775808"},
                         {Json(1e30), "1e+30"},
                         {Json(1.5), "1.5"},
                         {Json("12abc"), "\"12abc\""},
                         {Json("99999999999999999999"), "\"99999999999999999999\""},
                         {Json::array(), "[]"}}) {
    auto info = RunInfoFromJson({{"run_id", "r"}, {"start_time", c.value}});
    ASSERT_FALSE(info.ok()) << c.got;
    EXPECT_EQ(info.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(info.status().message(),
              "the server's run info: key 'start_time': expected an integer from -2^63 to "
              "2^63-1, got " +
                  c.got);
  }
  auto metric = MetricFromJson({{"key", "m"}, {"value", 1}, {"timestamp", 1}, {"step", 1e19}});
  ASSERT_FALSE(metric.ok());
  EXPECT_NE(metric.status().message().find("metric: key 'step'"), std::string::npos);
  // In range, as a number, an integral double or a decimal string, as servers write them.
  auto ok = RunInfoFromJson({{"run_id", "r"},
                             {"start_time", int64_t{9223372036854775807}},
                             {"end_time", "-9223372036854775808"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->start_time, INT64_MAX);
  EXPECT_EQ(ok->end_time, INT64_MIN);
  EXPECT_EQ(MetricFromJson({{"key", "m"}, {"value", 1}, {"timestamp", 2.0}})->timestamp, 2);
}

TEST(MlflowJsonTest, WrongTypedContainersAreErrorsNotExceptions) {
  auto run = RunFromJson({{"info", {{"run_id", "r"}}}, {"data", 5}});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().message(), "the server's run: key 'data': expected an object, got 5");
  run = RunFromJson({{"info", {{"run_id", "r"}}}, {"data", {{"metrics", "m"}}}});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().message(),
            "the server's run's data: key 'metrics': expected an array, got \"m\"");
  run = RunFromJson(
      *core::ParseJson(R"({"info": {"run_id": "r"}, "inputs": {"dataset_inputs": [7]}})", "t"));
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().message(), "the server's dataset input is not a JSON object");
  run = RunFromJson(*core::ParseJson(
      R"({"info": {"run_id": "r"}, "inputs": {"dataset_inputs": [{"dataset": "d"}]}})", "t"));
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().message(),
            "the server's dataset input: key 'dataset': expected an object, got \"d\"");
  auto model = RegisteredModelFromJson({{"name", "m"}, {"aliases", {{"alias", "a"}}}});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("key 'aliases'"), std::string::npos);
  auto version = ModelVersionFromJson({{"name", "m"}, {"version", "x"}});
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.status().message().find("model version: key 'version'"), std::string::npos);
}

// MLflow 3's TraceInfoV3: RFC 3339 times and "0.012s" durations both ways; what a client
// may not send is refused naming the field.
TEST(MlflowJsonTest, TraceInfoV3) {
  Json j = {{"trace_id", "tr-1"},
            {"trace_location",
             {{"type", "MLFLOW_EXPERIMENT"}, {"mlflow_experiment", {{"experiment_id", "3"}}}}},
            {"request_time", "2025-01-02T03:04:05.123456Z"},
            {"execution_duration", "1.5s"},
            {"state", "OK"},
            {"trace_metadata", {{"m", "1"}}},
            {"tags", {{"t", "2"}}},
            {"request_preview", "{\"x\": 1}"}};
  auto t = TraceInfoFromV3Json(j);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->timestamp_ms, 1735787045123);  // python: datetime(2025,1,2,3,4,5,123000,utc)
  EXPECT_EQ(t->execution_time_ms, 1500);
  EXPECT_EQ(t->request_metadata, (std::vector<Tag>{{"m", "1"}}));
  Json back = TraceInfoV3Json(*t);
  EXPECT_EQ(back["request_time"], "2025-01-02T03:04:05.123000Z");
  EXPECT_EQ(back["execution_duration"], "1.500s");
  EXPECT_EQ(back["trace_location"]["mlflow_experiment"]["experiment_id"], "3");
  EXPECT_EQ(back["tags"]["t"], "2");
  EXPECT_EQ(*TraceInfoFromV3Json(back)->execution_time_ms, 1500);
  t->status = "TRACE_STATUS_UNSPECIFIED";
  EXPECT_EQ(TraceInfoV3Json(*t)["state"], "STATE_UNSPECIFIED");
  for (auto [key, value, field] :
       {std::tuple{"request_time", Json("2025-01-02 03:04:05Z"), "request_time"},
        std::tuple{"request_time", Json("2025-13-02T03:04:05Z"), "request_time"},
        std::tuple{"request_time", Json("2025-01-02T03:04:05+02:00"), "request_time"},
        std::tuple{"request_time", Json("2025-02-29T00:00:00Z"), "request_time"},
        std::tuple{"request_time", Json("2025-01-01T-1:-1:-1Z"), "request_time"},
        std::tuple{"request_time", Json("2025-01-01T00:00: 1Z"), "request_time"},
        std::tuple{"state", Json("DONE"), "state"},
        std::tuple{"execution_duration", Json("12ms"), "execution_duration"},
        std::tuple{"execution_duration", Json("-1s"), "execution_duration"},
        std::tuple{"trace_metadata", Json({{"k", 1}}), "trace_metadata.k"},
        std::tuple{"trace_location", Json::object(), "trace_location"}}) {
    Json bad = j;
    bad[key] = value;
    auto r = TraceInfoFromV3Json(bad);
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace plinth::tracking
