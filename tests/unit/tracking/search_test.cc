#include "tracking/search.h"

#include <gtest/gtest.h>

namespace plinth::tracking {
namespace {

TEST(SearchFilterTest, ParsesMlflowSyntax) {
  auto c = ParseFilter(
      "metrics.acc > 0.9 and params.model = 'gbdt' AND tags.\"team name\" LIKE 'ml-%' and "
      "attributes.status = 'FINISHED' and run_name ILIKE \"%x%\" and metric.`val loss` <= -1e-3 "
      "and attr.run_id NOT IN ('a', 'b') and tags.t IS NOT NULL and datasets.digest = 'd' and "
      "params.x != 'it''s'",
      RunSearch());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 10u);
  EXPECT_EQ((*c)[0].kind, EntityKind::kMetric);
  EXPECT_EQ((*c)[0].key, "acc");
  EXPECT_EQ((*c)[0].op, ">");
  EXPECT_EQ((*c)[0].number, 0.9);
  EXPECT_EQ((*c)[1].kind, EntityKind::kParam);
  EXPECT_EQ((*c)[1].strings, std::vector<std::string>{"gbdt"});
  EXPECT_EQ((*c)[2].key, "team name");
  EXPECT_EQ((*c)[2].op, "LIKE");
  EXPECT_EQ((*c)[3].kind, EntityKind::kAttribute);
  EXPECT_EQ((*c)[4].op, "ILIKE");
  EXPECT_EQ((*c)[4].strings[0], "%x%");
  EXPECT_EQ((*c)[5].key, "val loss");
  EXPECT_EQ((*c)[5].number, -1e-3);
  EXPECT_EQ((*c)[6].op, "NOT IN");
  EXPECT_EQ((*c)[6].strings, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*c)[7].op, "IS NOT NULL");
  EXPECT_EQ((*c)[8].kind, EntityKind::kDataset);
  EXPECT_EQ((*c)[9].strings[0], "it's");
  EXPECT_TRUE(ParseFilter("", RunSearch())->empty());
  EXPECT_TRUE(ParseFilter("   ", RunSearch())->empty());
  EXPECT_EQ(ParseFilter("metrics.a.b.c = 1", RunSearch())->at(0).key, "a.b.c");
}

TEST(SearchFilterTest, RejectsWhatMlflowRejects) {
  for (const char* bad :
       {"metrics.acc > 0.9 or metrics.acc < 0.1", "metrics.acc LIKE '1'", "params.model > 'a'",
        "params.depth = 3", "metrics.acc = 'x'", "foo.bar = 'x'", "nosuch = 'x'", "metrics.acc >",
        "params.x = 'open", "metrics.acc = 1 and", "tags.x IS 'y'", "status IS NULL",
        "metrics.acc ! 1", "metrics. = 1", "params.x IN 'a'",
        // Traces' own entities and RLIKE are theirs only, as in MLflow.
        "params.x RLIKE 'a'", "span.name = 'x'", "feedback.x = 'y'", "trace.status = 'x'"}) {
    auto c = ParseFilter(bad, RunSearch());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find("invalid filter"), std::string::npos) << bad;
  }
  EXPECT_FALSE(ParseFilter("params.x = 'a'", ExperimentSearch()).ok());
  EXPECT_TRUE(ParseFilter("name = 'a' and creation_time > 5", ExperimentSearch()).ok());
}

// A filter of 5,000 clauses got SQLite's own text and the database path; now
// Plinth's limit, with the filter quoted by its start only.
TEST(SearchFilterTest, ClauseCountIsBounded) {
  auto filter = [](int n) {
    std::string f = "metrics.m0 > 0";
    for (int i = 1; i < n; ++i) {
      f += " and metrics.m" + std::to_string(i) + " > " + std::to_string(i);
    }
    return f;
  };
  ASSERT_TRUE(ParseFilter(filter(500), RunSearch()).ok());
  EXPECT_EQ(ParseFilter(filter(500), RunSearch())->size(), 500u);
  for (int n : {501, 5000}) {
    auto c = ParseFilter(filter(n), RunSearch());
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("more than 500 clauses"), std::string::npos);
    EXPECT_LT(c.status().message().size(), 200u) << c.status().message();
  }
}

TEST(SearchFilterTest, OrderByAndPageTokens) {
  auto k = ParseOrderBy("metrics.`val loss` DESC", RunSearch());
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->key, "val loss");
  EXPECT_FALSE(k->ascending);
  EXPECT_TRUE(ParseOrderBy("start_time", RunSearch())->ascending);
  EXPECT_FALSE(ParseOrderBy("start_time sideways", RunSearch()).ok());
  EXPECT_FALSE(ParseOrderBy("datasets.name", RunSearch()).ok());
  // MLflow's token for offset 25 is base64('{"offset": 25}'); Plinth writes it compactly.
  EXPECT_EQ(*DecodePageToken("eyJvZmZzZXQiOiAyNX0="), 25);
  EXPECT_EQ(*DecodePageToken(EncodePageToken(1000)), 1000);
  EXPECT_FALSE(DecodePageToken("e30=").ok());  // {}
  EXPECT_FALSE(DecodePageToken("!!").ok());
}

TEST(SearchFilterTest, CompilesToBoundSql) {
  auto c =
      ParseFilter("params.model = 'x''; DROP TABLE runs; --' and metrics.acc > 1", RunSearch());
  ASSERT_TRUE(c.ok());
  SqlNames names = {"r", "run_uuid", "tags", "run_uuid",
                    [](std::string_view a) { return std::string(a); }};
  SqlFragment f = CompileFilter(*c, names);
  EXPECT_EQ(f.sql.find("DROP"), std::string::npos);
  ASSERT_EQ(f.params.size(), 4u);
  EXPECT_EQ(std::get<std::string>(f.params[1]), "x'; DROP TABLE runs; --");
  EXPECT_EQ(std::get<double>(f.params[3]), 1.0);
}

}  // namespace
}  // namespace plinth::tracking
