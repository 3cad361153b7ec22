// The prediction log reader on hostile lines; whole logs are e2e.monitor_drift's and
// e2e.monitor_report's.
#include "monitor/prediction_log.h"

#include <gtest/gtest.h>

#include "monitor/performance.h"

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

}  // namespace
}  // namespace plinth::monitor
