#include "profile/profile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "profile/hyperloglog.h"
#include "table/csv_reader.h"
#include "table/hashing.h"
#include "testutil/testutil.h"

namespace plinth::profile {
namespace {

TEST(HyperLogLogTest, EstimatesWithinTwoPercent) {
  for (int n : {10, 1000, 100000, 1000000}) {
    HyperLogLog h;
    for (int i = 0; i < n; ++i) {
      h.Add(table::MixHash(static_cast<uint64_t>(i)));
      h.Add(table::MixHash(static_cast<uint64_t>(i)));  // repeats do not count
    }
    EXPECT_NEAR(h.Estimate(), n, 0.02 * n + 1) << n;
  }
}

std::string Numbers(int n) {
  std::string text = "x,s\n";
  std::mt19937_64 rng(7);
  std::normal_distribution<double> d(100, 15);
  for (int i = 0; i < n; ++i) {
    text += std::to_string(d(rng)) + ",k" + std::to_string(i % 50) + "\n";
  }
  return text;
}

TEST(ProfileTest, QuantilesOfValuesSpanningBothSigns) {
  // Huge magnitudes of both signs, -0.0 and 0.0: the sample sort must order
  // them exactly (and without overflow, which UBSan checks in the debug build).
  auto r = table::ReadCsvText("x,k\n1e300,a\n-1e300,a\n-0.0,a\n0.0,a\n-5.5,a\n7.25,a\n-1e-300,a\n",
                              {}, "t");
  ASSERT_TRUE(r.ok());
  DatasetProfile p = ProfileTable(r->table);
  const ColumnProfile* x = p.Find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->numeric->sketch.front(), -1e300);
  EXPECT_EQ(x->numeric->sketch.back(), 1e300);
  EXPECT_DOUBLE_EQ(x->numeric->quantiles[3].second, 0.0);  // the median of 7 values
  EXPECT_EQ(x->distinct, 6);                               // -0.0 == 0.0
}

TEST(ProfileTest, ExactWhenSmall) {
  auto r = table::ReadCsvText("x,s\n1,a\n2,b\n3,a\n4,\n,a\n", {}, "t");
  ASSERT_TRUE(r.ok());
  DatasetProfile p = ProfileTable(r->table);
  const ColumnProfile* x = p.Find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->count, 4);
  EXPECT_EQ(x->nulls, 1);
  EXPECT_EQ(x->distinct, 4);
  EXPECT_DOUBLE_EQ(x->numeric->mean, 2.5);
  EXPECT_DOUBLE_EQ(x->numeric->std, std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(x->numeric->quantiles[2].second, 1.75);  // p25, linear
  EXPECT_EQ(x->numeric->sketch.front(), 1);
  EXPECT_EQ(x->numeric->sketch.back(), 4);
  const ColumnProfile* s = p.Find("s");
  EXPECT_EQ(s->categories->counts[0], (std::pair<std::string, int64_t>{"a", 3}));
  EXPECT_EQ(p.duplicate_rows, 0);
}

TEST(ProfileTest, BoundedMemoryModesAreFlaggedAndClose) {
  std::string text = Numbers(50000);
  auto exact = table::ReadCsvText(text, {}, "t");
  ASSERT_TRUE(exact.ok());
  DatasetProfile full = ProfileTable(exact->table);
  ProfileOptions small;
  small.sample_limit = 5000;
  small.exact_duplicate_limit = 1000;
  small.max_categories = 10;
  Profiler profiler(small);
  // Fed in chunks, as a scan would.
  table::CsvOptions csv;
  csv.chunk_bytes = 64 * 1024;
  ASSERT_TRUE(table::ScanCsvText(text, "t", csv, profiler).ok());
  DatasetProfile approx = profiler.Finish();
  const auto& a = *approx.Find("x");
  const auto& f = *full.Find("x");
  EXPECT_TRUE(f.numeric->quantiles_exact);
  EXPECT_FALSE(a.numeric->quantiles_exact);
  EXPECT_FALSE(a.distinct_exact);
  EXPECT_FALSE(approx.duplicate_rows_exact);
  EXPECT_EQ(a.count, f.count);  // counts and moments stay exact
  EXPECT_NEAR(a.numeric->mean, f.numeric->mean, 1e-9 * std::fabs(f.numeric->mean));
  EXPECT_NEAR(a.numeric->std, f.numeric->std, 1e-9 * f.numeric->std);
  EXPECT_NEAR(a.numeric->quantiles[3].second, f.numeric->quantiles[3].second, 1.0);  // median
  EXPECT_NEAR(static_cast<double>(a.distinct), static_cast<double>(f.distinct), 0.02 * f.distinct);
  EXPECT_EQ(approx.Find("s")->categories->counts.size(), 10u);
  EXPECT_EQ(approx.Find("s")->categories->other_count, 40000);
}

TEST(ProfileTest, JsonRoundTrip) {
  auto r =
      table::ReadCsvText("t,x,b,s\n2020-01-01,1.5,true,a\n2020-01-02 10:00:00,,false,\n", {}, "t");
  ASSERT_TRUE(r.ok());
  DatasetProfile p = ProfileTable(r->table);
  p.source = "t.csv";
  core::Json j = ProfileToJson(p);
  auto back = ProfileFromJson(j, "p.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ProfileToJson(*back), j);
}

TEST(ProfileTest, JsonErrorsNameTheKey) {
  core::Json j = {
      {"format", "plinth.profile/v1"}, {"source", "x"}, {"created", "c"}, {"rows", "many"}};
  auto r = ProfileFromJson(j, "p.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "p.json: $.rows: expected an integer");
  EXPECT_EQ(ProfileFromJson({{"format", "other"}}, "p.json").status().message(),
            "p.json: $.format: expected \"plinth.profile/v1\", got \"other\"");
}

TEST(ProfileTest, JsonWrongTypesAreRefusedNotWrappedOrIgnored) {
  auto r = table::ReadCsvText("x,s\n1.5,a\n2.5,b\n", {}, "t");
  ASSERT_TRUE(r.ok());
  const core::Json good = ProfileToJson(ProfileTable(r->table));
  ASSERT_TRUE(ProfileFromJson(good, "p.json").ok());
  struct Case {
    std::function<void(core::Json&)> damage;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](core::Json& j) { j["rows"] = uint64_t{18446744073709551615u}; },
       "p.json: $.rows: expected an integer"},
      {[](core::Json& j) { j["duplicate_rows_exact"] = "yes"; },
       "p.json: $.duplicate_rows_exact: expected true or false"},
      {[](core::Json& j) { j["columns"][0]["numeric"]["histogram"]["counts"][0] = "x"; },
       "p.json: $.columns[0].numeric.histogram.counts[0]: expected an integer"},
      {[](core::Json& j) { j["columns"][0]["numeric"]["sketch"] = 5; },
       "p.json: $.columns[0].numeric.sketch: expected an array"},
      {[](core::Json& j) { j["columns"][1]["categories"]["values"][0] = 1; },
       "p.json: $.columns[1].categories.values[0]: expected a string"},
  };
  for (const Case& c : cases) {
    core::Json j = good;
    c.damage(j);
    auto back = ProfileFromJson(j, "p.json");
    ASSERT_FALSE(back.ok()) << c.message;
    EXPECT_EQ(back.status().message(), c.message);
  }
}

TEST(ProfileTest, RendersTextAndHtml) {
  auto r = table::ReadCsv(testutil::DatasetPath("titanic_train.csv"));
  ASSERT_TRUE(r.ok());
  DatasetProfile p = ProfileTable(r->table);
  p.source = "titanic";
  std::string text = FormatProfileText(p);
  EXPECT_NE(text.find("titanic: 891 rows, 12 columns, 0 duplicate rows"), std::string::npos);
  std::string html = RenderProfileHtml(p);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Embarked"), std::string::npos);
}

}  // namespace
}  // namespace plinth::profile
