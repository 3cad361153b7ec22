#include "serving/prediction_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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
