// The feature registry on every store engine: versions, metadata in place, services pinning
// group versions.
#include "features/registry.h"

#include <gtest/gtest.h>

#include "testutil/test_databases.h"
#include "testutil/testutil.h"

namespace plinth::features {
namespace {

using table::DataType;

class RegistryTest : public ::testing::TestWithParam<std::string> {};

Definitions Defs(std::optional<int64_t> ttl, const std::string& owner) {
  Definitions d;
  d.online_store = "sqlite:///tmp/x.db";
  d.entities.push_back({"driver", {{"driver_id", DataType::kInt64}}, ""});
  FeatureGroup g;
  g.name = "stats";
  g.entities = {"driver"};
  g.join_keys = {{"driver_id", DataType::kInt64}};
  g.source.path = "/data/stats.parquet";
  g.event_timestamp = "event";
  g.ttl_us = ttl;
  g.features = {{"rate", DataType::kFloat64}};
  g.owner = owner;
  d.groups.push_back(g);
  d.services.push_back({"model_a", 0, {{"stats", 0, "rate"}}, ""});
  return d;
}

TEST_P(RegistryTest, VersionsWhatChangesValuesAndUpdatesMetadataInPlace) {
  testutil::TempDir dir;
  Result<std::unique_ptr<store::Database>> db =
      store::OpenDatabase(testutil::FreshDatabaseUri(GetParam(), dir.path()));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Result<Registry> r = Registry::Open(**db);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Latest().status().code(), StatusCode::kNotFound);

  Definitions first = Defs(3600000000, "ops");
  Result<std::vector<Change>> c = r->Apply(first, false, 1000);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[1].what, "created");
  EXPECT_EQ(first.groups[0].version, 1);

  Definitions same = Defs(3600000000, "ops");
  c = r->Apply(same, false, 2000);
  ASSERT_TRUE(c.ok());
  for (const Change& x : *c) {
    EXPECT_EQ(x.what, "unchanged") << x.name;
  }
  Definitions owner = Defs(3600000000, "data-team");
  c = r->Apply(owner, false, 3000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[1].what, "metadata updated");
  EXPECT_EQ((*c)[1].version, 1);

  // A dry run says, records nothing.
  Definitions ttl = Defs(7200000000, "data-team");
  c = r->Apply(ttl, true, 4000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[1].what, "new version");
  EXPECT_EQ(r->Group("stats", 0)->version, 1);

  c = r->Apply(ttl, false, 4000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[1].what, "new version");
  EXPECT_EQ((*c)[1].version, 2);
  EXPECT_EQ((*c)[1].previous, 1);
  EXPECT_EQ((*c)[2].what, "new version");  // the service names stats@2 now

  Result<FeatureGroup> v1 = r->Group("stats", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1->ttl_us, 3600000000);
  EXPECT_EQ(v1->owner, "data-team");
  Result<FeatureGroup> v2 = r->Group("stats", 0);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(*v2->ttl_us, 7200000000);
  Result<FeatureService> s1 = r->Service("model_a", 1);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->features[0].Text(), "stats@1:rate");
  Result<Definitions> latest = r->Latest();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->services[0].features[0].Text(), "stats@2:rate");
  EXPECT_EQ(latest->online_store, "sqlite:///tmp/x.db");

  // Left out of the file: retired (still readable), then back as it was: restored.
  Definitions fewer = Defs(7200000000, "data-team");
  fewer.services.clear();
  c = r->Apply(fewer, false, 5000);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[2].what, "retired");
  EXPECT_EQ((*c)[2].name, "model_a");
  EXPECT_TRUE(r->Latest()->services.empty());
  EXPECT_TRUE(r->Service("model_a", 2).ok());
  c = r->Apply(ttl, false, 6000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[2].what, "restored");
  EXPECT_EQ(r->Latest()->services.size(), 1u);

  // Paths are recorded relative to the file's folder: a project moved elsewhere resolves them
  // there and keeps its versions.
  Definitions moved = Defs(7200000000, "data-team");
  moved.root = "/data";
  moved.groups[0].source.path = "/data/stats.parquet";
  c = r->Apply(moved, false, 7000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[1].what, "new version");  // "/data/stats.parquet" was recorded absolute
  Definitions elsewhere = moved;
  elsewhere.root = "/srv/project";
  elsewhere.groups[0].source.path = "/srv/project/stats.parquet";
  c = r->Apply(elsewhere, false, 8000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[1].what, "unchanged");
  EXPECT_EQ(r->Latest()->groups[0].source.path, "/srv/project/stats.parquet");

  Result<FeatureGroup> missing = r->Group("stats", 4);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("versions 1 to 3"), std::string::npos);
  EXPECT_EQ(r->Group("nope", 0).status().code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Engines, RegistryTest, ::testing::ValuesIn(testutil::TestEngines()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(DiffDefinitions, SaysWhatChanged) {
  const core::Json a = {{"ttl", 1}, {"features", {{"a", "int64"}, {"b", "string"}}}};
  const core::Json b = {{"ttl", 2}, {"features", {{"a", "int64"}, {"c", "bool"}}}};
  EXPECT_EQ(
      DiffDefinitions(a, b),
      std::vector<std::string>({"~ ttl: 1 -> 2", "- features.b: string", "+ features.c: bool"}));
  EXPECT_TRUE(DiffDefinitions(a, a).empty());
}

}  // namespace
}  // namespace plinth::features
