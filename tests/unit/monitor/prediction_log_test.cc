// The prediction log reader on hostile lines; whole logs are e2e.monitor_drift's and
// e2e.monitor_report's.
#include "monitor/prediction_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "monitor/performance.h"
#include "table/value_parse.h"
#include "testutil/testutil.h"

namespace plinth::monitor {
namespace {

TEST(PredictionLogTest, ARepeatedColumnSkipsTheLine) {
  // A repeated key (simdjson keeps both) or a feature named like an output would make the
  // line's columns of different lengths: the line is skipped, the table stays aligned.
  Result<LogRead> log = ParsePredictionLog(
      R"({"time":"2026-12-06T10:00:00Z","rows":1,"features":{"a":[1],"a":[2]}})"
      "\n"
      R"({"time":"2026-12-06T10:00:01Z","rows":1,"features":{"prediction":["x"]},"predictions":["y"]})"
      "\n"
      R"({"time":"2026-12-06T10:00:02Z","rows":2,"features":{"a":[3,4]},"predictions":["y","z"]})"
      "\n");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->skipped_lines, 2);
  ASSERT_EQ(log->skipped.size(), 2u);
  EXPECT_EQ(log->skipped[0], "<log>:1: column 'a' given twice");
  EXPECT_EQ(log->skipped[1], "<log>:2: column 'prediction' given twice");
  EXPECT_EQ(log->table.num_rows(), 2);
  for (size_t c = 0; c < log->table.num_columns(); ++c) {
    EXPECT_EQ(log->table.column(c).size(), 2) << log->table.schema().field(c).name;
  }
}

TEST(PredictionLogTest, ErrorAnswersAndLinesWithoutOutputs) {
  Result<LogRead> log = ParsePredictionLog(
      R"({"time":"2026-12-06T10:00:00Z","rows":0,"status":400,"latency_ms":0.5})"
      "\n"
      R"({"time":"2026-12-06T10:00:01Z","rows":1,"features":{"a":[1]}})"
      "\n"
      R"({"time":"2026-12-06T10:00:02Z","rows":1,"features":{"a":[2]},"predictions":["yes"],)"
      R"("probabilities":{"yes":[0.9]}})"
      "\n");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->failed, 1);
  EXPECT_EQ(log->lines, 2);
  ASSERT_EQ(log->requests.size(), 3u);
  EXPECT_EQ(log->requests[0].status, 400);
  // The line without outputs is left out of the quality, not an error.
  Result<ClassOutputs> out = ReadClassOutputs(log->table, {"no", "yes"}, "", "log");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->predicted[0], -1);
  EXPECT_EQ(out->predicted[1], 1);
}

TEST(PredictionLogTest, AShadowsOutputsAreOutputsNullWhereAbsent) {
  Result<LogRead> log = ParsePredictionLog(
      R"({"time":"2026-12-06T10:00:00Z","request_id":"a","model_version":"1","rows":2,)"
      R"("features":{"x":[1,2]},"predictions":["no","yes"],"probabilities":{"yes":[0.2,0.7]},)"
      R"("shadow":{"model_version":"2","latency_ms":0.1,"predictions":["yes","yes"],)"
      R"("probabilities":{"yes":[0.6,0.8]}}})"
      "\n"
      R"({"time":"2026-12-06T10:00:01Z","rows":1,"features":{"x":[3]},"predictions":["no"]})"
      "\n"
      // A shadow whose arrays are not the line's length: the whole line is skipped.
      R"({"time":"2026-12-06T10:00:02Z","rows":1,"features":{"x":[4]},"predictions":["no"],)"
      R"("shadow":{"predictions":["no","yes"]}})"
      "\n");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->skipped_lines, 1);
  ASSERT_EQ(log->skipped.size(), 1u);
  EXPECT_NE(log->skipped[0].find("<log>:3: shadow predictions: "), std::string::npos)
      << log->skipped[0];
  EXPECT_EQ(log->features, std::vector<std::string>{"x"});
  ASSERT_EQ(log->requests.size(), 2u);
  EXPECT_EQ(log->requests[0].shadow_version, "2");
  EXPECT_EQ(log->requests[1].shadow_version, "");
  const table::Column* shadow = log->table.ColumnByName("shadow_prediction");
  const table::Column* proba = log->table.ColumnByName("shadow_probability_yes");
  ASSERT_NE(shadow, nullptr);
  ASSERT_NE(proba, nullptr);
  ASSERT_EQ(shadow->size(), 3);
  EXPECT_EQ(shadow->GetString(0), "yes");
  EXPECT_TRUE(shadow->IsNull(2));
  EXPECT_DOUBLE_EQ(proba->GetDouble(1), 0.8);
}

// With a canary, its lines say "role": "canary": read apart or together, as asked.
TEST(PredictionLogTest, ACanarysLinesAreReadApartWhenAsked) {
  const std::string text =
      R"({"time":"2026-12-06T10:00:00Z","request_id":"a","model_version":"1","rows":1,)"
      R"("features":{"x":[1]},"predictions":["no"]})"
      "\n"
      R"({"time":"2026-12-06T10:00:01Z","request_id":"b","model_version":"2","role":"canary",)"
      R"("rows":2,"features":{"x":[2,3]},"predictions":["yes","no"]})"
      "\n"
      R"({"time":"2026-12-06T10:00:02Z","request_id":"c","model_version":"2","role":"canary",)"
      R"("route":"/predict","latency_ms":0.1,"status":400,"rows":0})"
      "\n"
      // Another role is no canary's.
      R"({"time":"2026-12-06T10:00:03Z","request_id":"d","model_version":"1","role":"x",)"
      R"("rows":1,"features":{"x":[4]},"predictions":["no"]})"
      "\n"
      // A malformed canary line: skipped, never counted as traffic left out.
      R"({"time":"2026-12-06T10:00:04Z","request_id":"e","role":"canary","rows":1})"
      "\n";
  using Traffic = LogWindow::Traffic;
  Result<LogRead> all = ParsePredictionLog(text);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows, 4);
  EXPECT_EQ(all->other_traffic, 0);
  ASSERT_EQ(all->requests.size(), 4u);
  EXPECT_FALSE(all->requests[0].canary);
  EXPECT_TRUE(all->requests[1].canary);
  EXPECT_TRUE(all->requests[2].canary);
  EXPECT_FALSE(all->requests[3].canary);

  Result<LogRead> served = ParsePredictionLog(
      text, {.since_us = std::nullopt, .until_us = std::nullopt, .traffic = Traffic::kServed});
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served->rows, 2);
  EXPECT_EQ(served->failed, 0);
  EXPECT_EQ(served->other_traffic, 2);
  EXPECT_EQ(served->table.ColumnByName("x")->GetDouble(1), 4);

  EXPECT_EQ(served->skipped_lines, 1);

  Result<LogRead> canary = ParsePredictionLog(
      text, {.since_us = std::nullopt, .until_us = std::nullopt, .traffic = Traffic::kCanary});
  ASSERT_TRUE(canary.ok());
  EXPECT_EQ(canary->rows, 2);
  EXPECT_EQ(canary->failed, 1);
  EXPECT_EQ(canary->other_traffic, 2);
  EXPECT_EQ(canary->skipped_lines, 1);
  EXPECT_EQ(canary->table.ColumnByName("x")->GetDouble(0), 2);

  // With a time window: lines outside it are neither read nor counted as left out.
  int64_t since = 0;
  ASSERT_TRUE(table::ParseTimestamp("2026-12-06T10:00:01.5Z", since));
  Result<LogRead> later = ParsePredictionLog(
      text, {.since_us = since, .until_us = std::nullopt, .traffic = Traffic::kServed});
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->rows, 1);
  EXPECT_EQ(later->other_traffic, 1);  // c, the canary's failure
}

// Values go straight into the columns: a line found bad after some of its columns were
// added is undone, whatever it added (values, a column's type, a new column, a count of
// mismatched values), and the lines around it read as if it were not there.
TEST(PredictionLogTest, ALineBadHalfwayIsUndone) {
  Result<LogRead> log = ParsePredictionLog(
      R"({"time":"2026-12-06T10:00:00Z","rows":2,"features":{"a":[1,null],"b":{"dictionary":["x"],"indices":[0,null]}}})"
      "\n"
      // Good a (with a mismatched string), a new column c, then b too short.
      R"({"time":"2026-12-06T10:00:01Z","rows":2,"features":{"a":[5,"s"],"c":[7,8],"b":["x"]}})"
      "\n"
      // b's index out of range, after a was added.
      R"({"time":"2026-12-06T10:00:02Z","rows":1,"features":{"a":[6],"b":{"dictionary":["y"],"indices":[3]}}})"
      "\n"
      // The outputs bad after the features.
      R"({"time":"2026-12-06T10:00:03Z","rows":1,"features":{"a":[9],"b":["z"]},"predictions":[1,2]})"
      "\n"
      R"({"time":"2026-12-06T10:00:04Z","rows":1,"features":{"a":[3],"b":["w"]},"predictions":["p"]})"
      "\n");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->skipped_lines, 3);
  ASSERT_EQ(log->skipped.size(), 3u);
  EXPECT_EQ(log->skipped[0], "<log>:2: feature 'b': a column without one value per row");
  EXPECT_EQ(log->skipped[1], "<log>:3: feature 'b': a dictionary index out of range");
  EXPECT_EQ(log->skipped[2], "<log>:4: predictions: a column without one value per row");
  EXPECT_EQ(log->mismatched_values, 0);
  EXPECT_EQ(log->lines, 2);
  EXPECT_EQ(log->features, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(log->table.num_columns(), 3u);
  ASSERT_EQ(log->table.num_rows(), 3);
  const table::Column& a = *log->table.ColumnByName("a");
  EXPECT_EQ(a.type(), table::DataType::kFloat64);
  EXPECT_EQ(a.null_count(), 1);
  EXPECT_EQ(a.GetDouble(0), 1);
  EXPECT_TRUE(a.IsNull(1));
  EXPECT_EQ(a.GetDouble(2), 3);
  const table::Column& b = *log->table.ColumnByName("b");
  EXPECT_EQ(b.GetString(0), "x");
  EXPECT_TRUE(b.IsNull(1));
  EXPECT_EQ(b.GetString(2), "w");
  const table::Column& p = *log->table.ColumnByName("prediction");
  EXPECT_EQ(p.type(), table::DataType::kString);  // not the undone line's numbers
  EXPECT_EQ(p.null_count(), 2);
  EXPECT_EQ(p.GetString(2), "p");
}

// A column that held only nulls takes its type from its first value: a bad line's value
// gives it none.
TEST(PredictionLogTest, AnUndoneLineLeavesAColumnUntyped) {
  Result<LogRead> log = ParsePredictionLog(
      R"({"time":"2026-12-06T10:00:00Z","rows":1,"features":{"a":[null],"b":[1]}})"
      "\n"
      R"({"time":"2026-12-06T10:00:01Z","rows":1,"features":{"a":["s"],"b":[1,2]}})"
      "\n"
      R"({"time":"2026-12-06T10:00:02Z","rows":1,"features":{"a":[4],"b":[2]}})"
      "\n");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->skipped_lines, 1);
  const table::Column& a = *log->table.ColumnByName("a");
  EXPECT_EQ(a.type(), table::DataType::kFloat64);  // not the undone line's string
  ASSERT_EQ(a.size(), 2);
  EXPECT_TRUE(a.IsNull(0));
  EXPECT_EQ(a.GetDouble(1), 4);
  EXPECT_EQ(log->mismatched_values, 0);
}

TEST(PredictionLogTest, AFirstLineUndoneLeavesNoColumn) {
  Result<LogRead> log = ParsePredictionLog(
      R"({"time":"2026-12-06T10:00:00Z","rows":1,"features":{"a":["s"],"b":[1,2]}})"
      "\n"
      R"({"time":"2026-12-06T10:00:01Z","rows":1,"features":{"a":[4]}})"
      "\n");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->skipped_lines, 1);
  ASSERT_EQ(log->table.num_columns(), 1u);
  EXPECT_EQ(log->table.column(0).type(), table::DataType::kFloat64);  // not the undone "s"
  EXPECT_EQ(log->table.column(0).GetDouble(0), 4);
}

// Segments are parsed on a second thread in batches of lines: many batches, a segment
// without lines, a line too long for the batches (parsed by the reading thread), bad lines
// in the middle: the same table, requests and messages as reading the text in one go.
TEST(PredictionLogTest, SegmentsReadOnTwoThreadsAsInOneGo) {
  testutil::TempDir dir;
  auto line = [](int i, int rows) {
    std::string a, b;
    for (int r = 0; r < rows; ++r) {
      a += (r > 0 ? "," : "") + std::to_string(i * 10 + r);
      b += std::string(r > 0 ? "," : "") + (r % 3 == 0 ? "null" : std::to_string(r % 2));
    }
    return R"({"time":"2026-12-06T10:00:00Z","request_id":"r)" + std::to_string(i) +
           R"(","rows":)" + std::to_string(rows) + R"(,"features":{"a":[)" + a +
           R"(],"b":{"dictionary":["x","y"],"indices":[)" + b + R"(]}},"predictions":[)" + a +
           "]}\n";
  };
  std::string first, third, all;
  for (int i = 0; i < 100; ++i) {  // four batches and some
    first += line(i, 1 + i % 4);
  }
  third += line(100, 2) + "not json\n" + line(101, 3);
  third += line(102, 40000);  // about 500 KB: parsed by the reader
  third += R"({"time":"2026-12-06T10:00:01Z","rows":5,"features":{"a":[1]}})"
           "\n";
  third += line(103, 1);
  dir.Write("predictions-1.jsonl", first);
  dir.Write("predictions-2.jsonl", "");
  dir.Write("predictions-3.jsonl", third);
  Result<LogRead> log = ReadPredictionLog(dir.path(), {});
  Result<LogRead> once = ParsePredictionLog(first + third);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(log->files, 3);
  EXPECT_EQ(log->lines, 104);
  EXPECT_EQ(log->lines, once->lines);
  EXPECT_EQ(log->rows, once->rows);
  EXPECT_EQ(log->skipped_lines, 2);
  ASSERT_EQ(log->skipped.size(), 2u);
  EXPECT_EQ(log->skipped[0], dir.File("predictions-3.jsonl") + ":2: not a JSON object");
  EXPECT_EQ(log->skipped[1], dir.File("predictions-3.jsonl") +
                                 ":5: feature 'a': a column without one value per row");
  ASSERT_EQ(log->requests.size(), once->requests.size());
  for (size_t r = 0; r < log->requests.size(); ++r) {
    EXPECT_EQ(log->requests[r].request_id, once->requests[r].request_id);
    EXPECT_EQ(log->requests[r].rows, once->requests[r].rows);
  }
  ASSERT_EQ(log->table.num_columns(), once->table.num_columns());
  ASSERT_EQ(log->table.num_rows(), once->table.num_rows());
  for (size_t c = 0; c < log->table.num_columns(); ++c) {
    const table::Column& x = log->table.column(c);
    const table::Column& y = once->table.column(c);
    EXPECT_EQ(x.null_count(), y.null_count());
    for (int64_t r = 0; r < x.size(); ++r) {
      ASSERT_EQ(x.FormatValue(r), y.FormatValue(r)) << c << " " << r;
    }
  }
}

TEST(PredictionLogTest, ADirectoryNamedLikeASegmentIsLeftOut) {
  testutil::TempDir dir;
  dir.Write("predictions-1.jsonl",
            R"({"time":"2026-12-06T10:00:00Z","rows":1,"features":{"a":[1]}})"
            "\n");
  ASSERT_EQ(::mkdir(dir.File("predictions-2.jsonl").c_str(), 0755), 0);  // not a file: left out
  Result<LogRead> log = ReadPredictionLog(dir.path(), {});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->files, 1);
}

}  // namespace
}  // namespace plinth::monitor
