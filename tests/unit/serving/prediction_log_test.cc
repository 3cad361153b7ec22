#include "serving/prediction_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/clock.h"
#include "core/json.h"
#include "ml/model.h"
#include "ml/preprocess.h"
#include "testutil/testutil.h"

namespace plinth::serving {
namespace {

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Segments are closed (renamed from .partial) when full and at the end, and
// together hold every record in order.
TEST(PredictionLog, RotatesAndClosesSegments) {
  testutil::TempDir tmp;
  const std::string dir = tmp.File("log");
  {
    auto log = PredictionLog::Open({.dir = dir, .segment_bytes = 300, .flush_interval_ms = 10});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE((*log)->Append(FeedbackRecord{"req-" + std::to_string(i), i, "yes", 0}));
      if (i % 10 == 9) {
        (*log)->Flush();
      }
    }
    (*log)->Flush();
    EXPECT_EQ((*log)->write_errors(), 0u);
  }
  std::vector<std::string> files = Files(dir);
  ASSERT_GE(files.size(), 2u);
  int next = 0;
  for (const std::string& f : files) {
    EXPECT_TRUE(f.starts_with("feedback-") && f.ends_with(".jsonl")) << f;
    std::ifstream in(dir + "/" + f);
    for (std::string line; std::getline(in, line);) {
      EXPECT_NE(line.find("\"request_id\":\"req-" + std::to_string(next) + "\""), std::string::npos)
          << line;
      ++next;
    }
  }
  EXPECT_EQ(next, 40);
}

// A model of `schema` whose Predict is never called: what a line needs of it is
// its input schema, task and class labels.
std::shared_ptr<const ml::Predictor> Model(const table::Table& data, ml::Task task,
                                           std::vector<std::string> labels) {
  std::vector<std::string> names;
  for (const table::Field& f : data.schema().fields()) {
    names.push_back(f.name);
  }
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < data.num_rows(); ++r) {
    rows.push_back(r);
  }
  ml::PreprocessOptions options;
  options.outliers = ml::OutlierMethod::kNone;
  auto pre = ml::Preprocessor::Fit(data, rows, names, options);
  EXPECT_TRUE(pre.ok()) << pre.status().ToString();
  ml::BundleMeta meta;
  meta.task = task;
  meta.input_schema = data.schema();
  meta.class_labels = std::move(labels);
  auto p = ml::Predictor::Create(std::move(meta), *std::move(pre), *ml::CreateGbdt());
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::shared_ptr<const ml::Predictor>(*std::move(p));
}

// One request's line: every column type, missing values, a string that needs
// escaping, a model column the request did not send, and the model's outputs
// at float32 precision; it reads back with a JSON parser as the rows were.
TEST(PredictionLog, WritesARequestAsOneLineOfColumns) {
  using table::DataType;
  std::vector<table::Column> cols;
  cols.emplace_back(DataType::kInt64);
  cols.emplace_back(DataType::kFloat64);
  cols.emplace_back(DataType::kBool);
  cols.emplace_back(DataType::kString);
  cols.emplace_back(DataType::kTimestamp);
  cols.emplace_back(DataType::kFloat64);
  const std::string tricky = "q\"uote\\ \n\x01";
  cols[0].AppendInt(1), cols[0].AppendNull(), cols[0].AppendInt(-5);
  cols[1].AppendDouble(0.1), cols[1].AppendDouble(1e300), cols[1].AppendNull();
  cols[2].AppendBool(true), cols[2].AppendBool(false), cols[2].AppendNull();
  cols[3].AppendString("plain"), cols[3].AppendString(tricky), cols[3].AppendNull();
  cols[4].AppendInt(0), cols[4].AppendInt(1'700'000'000'123'456), cols[4].AppendNull();
  cols[5].AppendDouble(1), cols[5].AppendDouble(2), cols[5].AppendDouble(3);
  const table::Table fit(table::Schema({{"n", DataType::kInt64},
                                        {"x", DataType::kFloat64},
                                        {"flag", DataType::kBool},
                                        {"s", DataType::kString},
                                        {"t", DataType::kTimestamp},
                                        {"unsent", DataType::kFloat64}}),
                         cols);
  cols.pop_back();  // the request has no "unsent" column
  std::vector<table::Field> sent(fit.schema().fields().begin(), fit.schema().fields().end() - 1);
  const table::Table request(table::Schema(sent), cols);

  ml::Prediction binary;
  binary.task = ml::Task::kBinary;
  binary.rows = 3;
  binary.num_classes = 2;
  const float p1[] = {0.123456789f, 0.9f, 1e-7f};
  for (float v : p1) {
    binary.proba.push_back(1.0 - v);
    binary.proba.push_back(v);
    binary.classes.push_back(v > 0.5f ? 1 : 0);
  }
  ml::Prediction regression;
  regression.task = ml::Task::kRegression;
  regression.rows = 3;
  regression.values = {static_cast<float>(2.5), static_cast<float>(-1.0 / 3), 1e20f};

  testutil::TempDir tmp;
  const std::string dir = tmp.File("log");
  {
    auto log = PredictionLog::Open({.dir = dir});
    ASSERT_TRUE(log.ok());
    PredictionRecord rec;
    rec.request_id = "req-1";
    rec.time_micros = 1'700'000'000'000'000;
    rec.latency_ms = 0.25;
    rec.route = "/predict";
    rec.model_name = "m\"odel";
    rec.model_version = "3";
    rec.rows = &request;
    rec.predictor = Model(fit, ml::Task::kBinary, {"no", "yes"});
    rec.prediction = &binary;
    ASSERT_TRUE((*log)->Append(rec));
    rec.request_id = "req-2";
    rec.predictor = Model(fit, ml::Task::kRegression, {});
    rec.prediction = &regression;
    ASSERT_TRUE((*log)->Append(rec));
  }
  std::vector<std::string> files = Files(dir);
  ASSERT_EQ(files.size(), 1u);
  std::ifstream in(dir + "/" + files[0]);
  std::vector<core::Json> lines;
  for (std::string line; std::getline(in, line);) {
    auto j = core::ParseJson(line, "line");
    ASSERT_TRUE(j.ok()) << j.status().ToString() << "\n" << line;
    lines.push_back(*j);
  }
  ASSERT_EQ(lines.size(), 2u);
  const core::Json& b = lines[0];
  EXPECT_EQ(b["request_id"], "req-1");
  EXPECT_EQ(b["model"], "m\"odel");
  EXPECT_EQ(b["time"], core::FormatIsoMicros(1'700'000'000'000'000));
  EXPECT_EQ(b["rows"], 3);
  const core::Json& f = b["features"];
  std::vector<std::string> keys;
  for (const auto& [k, v] : f.items()) {
    keys.push_back(k);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"n", "x", "flag", "s", "t", "unsent"}));
  EXPECT_EQ(f["n"], core::Json::parse("[1, null, -5]"));
  EXPECT_EQ(f["x"], core::Json::parse("[0.1, 1e300, null]"));
  EXPECT_EQ(f["flag"], core::Json::parse("[true, false, null]"));
  EXPECT_EQ(f["s"], core::Json::array({"plain", tricky, nullptr}));
  EXPECT_EQ(f["t"], core::Json::array({core::FormatIsoMicros(0),
                                       core::FormatIsoMicros(1'700'000'000'123'456), nullptr}));
  EXPECT_EQ(f["unsent"], core::Json::parse("[null, null, null]"));
  EXPECT_EQ(b["predictions"], core::Json::parse(R"(["no", "yes", "no"])"));
  // The positive class alone, each value the model's float32 exactly.
  ASSERT_EQ(b["probabilities"].size(), 1u);
  ASSERT_EQ(b["probabilities"]["yes"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(static_cast<float>(b["probabilities"]["yes"][i].get<double>()), p1[i]);
  }
  const core::Json& r = lines[1];
  EXPECT_FALSE(r.contains("probabilities"));
  ASSERT_EQ(r["predictions"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(static_cast<float>(r["predictions"][i].get<double>()),
              static_cast<float>(regression.values[i]));
  }
}

// A string column whose values repeat goes as its distinct values and an index
// per row, which reads back to the same values; one whose values do not stays
// an array.
TEST(PredictionLog, WritesRepeatingStringsAsADictionary) {
  using table::DataType;
  std::vector<table::Column> cols(3, table::Column(DataType::kString));
  const std::vector<std::string> city = {"Lisbon", "Porto",        "Lisbon", "",      "Porto",
                                         "Lisbon", "Faro \"sul\"", "Lisbon", "Porto", "Lisbon"};
  for (size_t i = 0; i < city.size(); ++i) {
    if (city[i].empty()) {
      cols[0].AppendNull();
    } else {
      cols[0].AppendString(city[i]);
    }
    cols[1].AppendString("id-" + std::to_string(i));
    cols[2].AppendString(i == 4 ? "" : std::string(i, 'x'));  // rows 0 and 4 empty
  }
  const table::Table rows(
      table::Schema(
          {{"city", DataType::kString}, {"id", DataType::kString}, {"note", DataType::kString}}),
      cols);
  ml::Prediction p;
  p.task = ml::Task::kRegression;
  p.rows = 10;
  p.values.assign(10, 1.0);
  testutil::TempDir tmp;
  {
    auto log = PredictionLog::Open({.dir = tmp.File("log")});
    ASSERT_TRUE(log.ok());
    PredictionRecord rec;
    rec.request_id = "r";
    rec.route = "/predict";
    rec.rows = &rows;
    rec.predictor = Model(rows, ml::Task::kRegression, {});
    rec.prediction = &p;
    ASSERT_TRUE((*log)->Append(rec));
  }
  std::vector<std::string> files = Files(tmp.File("log"));
  ASSERT_EQ(files.size(), 1u);
  std::ifstream in(tmp.File("log") + "/" + files[0]);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = core::ParseJson(line, "line");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  const core::Json& f = (*j)["features"];
  EXPECT_EQ(f["city"]["dictionary"], core::Json::array({"Lisbon", "Porto", "Faro \"sul\""}));
  EXPECT_EQ(f["city"]["indices"], core::Json::parse("[0, 1, 0, null, 1, 0, 2, 0, 1, 0]"));
  for (size_t i = 0; i < city.size(); ++i) {
    const core::Json& index = f["city"]["indices"][i];
    EXPECT_EQ(
        index.is_null() ? "" : f["city"]["dictionary"][index.get<size_t>()].get<std::string>(),
        city[i]);
  }
  ASSERT_TRUE(f["id"].is_array());
  EXPECT_EQ(f["id"][9], "id-9");
  ASSERT_TRUE(f["note"].is_array());
  EXPECT_EQ(f["note"][0], "");
  EXPECT_EQ(f["note"][4], "");
  EXPECT_EQ(f["note"][9], "xxxxxxxxx");
}

// A full queue drops the record and counts it; Append never waits.
TEST(PredictionLog, CountsWhatAFullQueueDrops) {
  testutil::TempDir tmp;
  auto log = PredictionLog::Open({.dir = tmp.File("log"), .max_queued_rows = 0});
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE((*log)->Append(FeedbackRecord{"a", 0, "x", 0}));
  EXPECT_FALSE((*log)->Append(FeedbackRecord{"b", 0, "x", 0}));
  EXPECT_EQ((*log)->dropped_rows(), 2u);
}

// A directory that cannot be made is an error naming it.
TEST(PredictionLog, NamesADirectoryItCannotCreate) {
  testutil::TempDir tmp;
  const std::string file = tmp.Write("file", "x");
  auto log = PredictionLog::Open({.dir = file + "/log"});
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find(file + "/log"), std::string::npos);
}

}  // namespace
}  // namespace plinth::serving
