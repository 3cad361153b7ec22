// features.yaml: what it reads, and every refusal naming the file and line.
#include "features/definitions.h"

#include <gtest/gtest.h>

#include "table/parquet.h"
#include "table/value_parse.h"
#include "testutil/testutil.h"

namespace plinth::features {
namespace {

using table::Column;
using table::DataType;
using table::Schema;
using table::Table;

constexpr const char* kGood = R"(online_store: sqlite:store/online.db
entities:
  driver: {join_keys: {driver_id: int64}, description: A driver}
feature_groups:
  stats:
    entity: driver
    source: data/stats.parquet
    event_timestamp: event
    created_timestamp: created
    ttl: 1d12h
    features: {rate: float64, trips: int64}
    owner: ops
    tags: {team: ops}
  recent:
    entity: driver
    source:
      query: SELECT driver_id, event, rate * 2 AS doubled FROM s
      tables: {s: data/stats.parquet}
    event_timestamp: event
    features: {doubled: float64}
on_demand_features:
  rate_pct:
    expression: rate * 100 + bonus
    type: float64
    request: {bonus: float64}
feature_services:
  model_a:
    features: [stats:rate, recent:doubled, rate_pct]
)";

// driver_id, event, created, rate (int64 in the file: it may feed a float64 feature), trips.
void WriteStats(const testutil::TempDir& dir) {
  std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kTimestamp),
                              Column(DataType::kTimestamp), Column(DataType::kInt64),
                              Column(DataType::kInt64)};
  for (int i = 0; i < 3; ++i) {
    cols[0].AppendInt(i);
    cols[1].AppendInt(i * 1000000);
    cols[2].AppendInt(i * 1000000);
    cols[3].AppendInt(i * 10);
    cols[4].AppendInt(i);
  }
  std::filesystem::create_directories(dir.File("data"));
  ASSERT_TRUE(table::WriteParquet(Table(Schema({{"driver_id", DataType::kInt64},
                                                {"event", DataType::kTimestamp},
                                                {"created", DataType::kTimestamp},
                                                {"rate", DataType::kInt64},
                                                {"trips", DataType::kInt64}}),
                                        std::move(cols)),
                                  dir.File("data/stats.parquet"))
                  .ok());
}

TEST(Definitions, ReadsEveryPart) {
  testutil::TempDir dir;
  WriteStats(dir);
  Result<Definitions> d = ParseDefinitions(kGood, "features.yaml", dir.path());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->online_store, "sqlite://" + std::filesystem::weakly_canonical(dir.path()).string() +
                                 "/store/online.db");
  ASSERT_EQ(d->groups.size(), 2u);
  const FeatureGroup& g = d->groups[0];
  EXPECT_EQ(g.join_keys, std::vector<table::Field>({{"driver_id", DataType::kInt64}}));
  EXPECT_EQ(*g.ttl_us, int64_t{36} * 3600 * 1000000);
  EXPECT_EQ(g.features.size(), 2u);
  EXPECT_EQ(g.tags.at("team"), "ops");
  EXPECT_EQ(d->groups[1].source.tables.size(), 1u);
  ASSERT_EQ(d->services.size(), 1u);
  EXPECT_EQ(d->services[0].features[2].Text(), "rate_pct");
  EXPECT_TRUE(CheckSources(*d).ok()) << CheckSources(*d).ToString();
  // Recorded and read back, a group is the same; its paths are kept relative to the folder.
  const core::Json j = GroupToJson(g, d->root);
  EXPECT_EQ(j["source"]["path"], "data/stats.parquet");
  Result<FeatureGroup> back = GroupFromJson(j, d->root);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->source.path, g.source.path);
  EXPECT_EQ(GroupToJson(*back, d->root), j);
  // Moved elsewhere, the same record resolves there.
  EXPECT_EQ(GroupFromJson(j, "/elsewhere")->source.path, "/elsewhere/data/stats.parquet");
}

TEST(Definitions, RefusesNamingTheFileAndLine) {
  testutil::TempDir dir;
  WriteStats(dir);
  const std::pair<std::string, std::string> cases[] = {
      {"entities: {driver: {join_keys: {id: int64}}}\nfeature_groups:\n  g: {entity: car, "
       "source: data/stats.parquet, features: {rate: float64}}\n",
       "features.yaml:3: feature group g: unknown entity 'car'"},
      {"colour: red\n", "features.yaml:1: features file: unknown key 'colour'"},
      {"entities: {driver: {join_keys: {id: money}}}\n",
       "features.yaml:1: entity driver: "
       "column 'id'"},
      {"entities: {'9lives': {join_keys: {id: int64}}}\n", "entity '9lives': expected a name"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n    "
       "source: ../outside.parquet\n    features: {x: int64}\n",
       "features.yaml:5: feature group g: source: ../outside.parquet leads outside"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n    "
       "source: data/stats.parquet\n    event_timestamp: event\n    ttl: 3 hours\n    "
       "features: {x: int64}\n",
       "features.yaml:7: feature group g: ttl: expected a duration"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n    "
       "source: data/stats.parquet\n    ttl: 3h\n    features: {x: int64}\n",
       "feature group g: a ttl needs an event_timestamp"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n    "
       "source: data/stats.parquet\n    features: {id: int64}\n",
       "feature 'id' is also a join key"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g: {entity: d, source: "
       "data/stats.parquet, features: {x: int64}}\nfeature_services:\n  s: {features: [g:y]}\n",
       "features.yaml:5: feature service s: feature group g has no feature 'y'"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g: {entity: d, source: "
       "data/stats.parquet, features: {x: int64}}\nfeature_services:\n  s: {features: [g:x, "
       "g:x]}\n",
       "feature name 'x' appears twice"},
      {"on_demand_features:\n  f: {expression: 'nope +', type: float64}\n",
       "features.yaml:2: on-demand feature f: at character"},

      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g: {entity: d, source: "
       "data/stats.parquet, features: {x: int64}}\non_demand_features:\n  f: {expression: "
       "'x + 1', type: bool}\nfeature_services:\n  s: {features: [g:x, f]}\n",
       "features.yaml:5: on-demand feature f: the expression yields a value, the type is bool"},
      {"online_store: memcached://x\n", "online_store: expected sqlite"},
      {"entities: [a, b]\n", "key 'entities': expected a mapping"},
      {"entities: {d: {join_keys: {id: int64}}, d: {join_keys: {id: int64}}}\n",
       "entity 'd' defined twice"},
      // A service's on-demand feature must find the stored features it reads in the service.
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g: {entity: d, source: "
       "data/stats.parquet, features: {x: int64, y: int64}}\non_demand_features:\n  f: "
       "{expression: x * 2, type: float64}\nfeature_services:\n  s: {features: [g:y, f]}\n",
       "features.yaml:5: on-demand feature f in feature service s: at character 1: unknown column"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n    "
       "source: {query: SELECT 1, tables: {a: x.csv, A: y.csv}}\n    features: {x: int64}\n",
       "table 'A' given twice"},
      {"entities: {d: {join_keys: {id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n    "
       "source: data/stats.parquet\n    features: {x: int64}\n    tags: {a: 1, a: 2}\n",
       "given twice"},
      // Aliases count where they are used: a small file cannot expand into millions of fields.
      {"x: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", "unknown key 'x'"},
      // A name quoted in the message is escaped (found by the fuzz target).
      {"entities: {\"a\\nb\": {join_keys: {id: int64}}}\n", "entity 'a\\x0ab': expected a name"},
  };
  for (const auto& [text, says] : cases) {
    Result<Definitions> d = ParseDefinitions(text, "features.yaml", dir.path());
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_NE(d.status().message().find(says), std::string::npos)
        << "wanted: " << says << "\ngot: " << d.status().message();
    EXPECT_EQ(d.status().message().find('\n'), std::string::npos);
  }
}

TEST(Definitions, ChecksTheSourcesColumnsAndTypes) {
  testutil::TempDir dir;
  WriteStats(dir);
  const std::pair<std::string, std::string> cases[] = {
      {"features: {trips: string}", "feature group g: column 'trips' is int64 in " +
                                        dir.File("data/stats.parquet") + ", defined as string"},
      {"features: {speed: float64}", "has no column 'speed'"},
  };
  // An int64 column feeds a float64 feature, but not a float64 key (keys are looked up by
  // their encoded values).
  {
    const std::string text =
        "entities: {d: {join_keys: {driver_id: float64}}}\nfeature_groups:\n  g:\n    entity: "
        "d\n    source: data/stats.parquet\n    features: {rate: float64}\n";
    Result<Definitions> d = ParseDefinitions(text, "features.yaml", dir.path());
    ASSERT_TRUE(d.ok());
    Status s = CheckSources(*d);
    EXPECT_NE(s.message().find("column 'driver_id' is int64"), std::string::npos) << s.message();
  }
  for (const auto& [features, says] : cases) {
    const std::string text =
        "entities: {d: {join_keys: {driver_id: int64}}}\nfeature_groups:\n"
        "  g:\n    entity: d\n    source: data/stats.parquet\n    " +
        features + "\n";
    Result<Definitions> d = ParseDefinitions(text, "features.yaml", dir.path());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    Status s = CheckSources(*d);
    ASSERT_FALSE(s.ok()) << features;
    EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
  }
}

// A source query runs confined to the files its tables name: it cannot read another file,
// write one, or be more than one SELECT.
TEST(Definitions, ASourceQueryReadsOnlyItsTables) {
  testutil::TempDir dir;
  WriteStats(dir);
  dir.Write("secret.csv", "a\n1\n");
  const std::pair<std::string, std::string> cases[] = {
      {"SELECT driver_id, event, a AS rate FROM s, read_csv('" + dir.File("secret.csv") + "')",
       "Permission Error"},
      {"COPY (SELECT 1) TO '" + dir.File("out.csv") + "'", "expected a SELECT statement"},
      {"SELECT * FROM s; SELECT 1", "expected one SELECT statement, found 2"},
      {"SELECT driver_id, event FROM s", "no column 'rate'"},
  };
  for (const auto& [query, says] : cases) {
    const std::string text =
        "entities: {d: {join_keys: {driver_id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n"
        "    source: {query: \"" +
        query +
        "\", tables: {s: data/stats.parquet}}\n    event_timestamp: event\n    "
        "features: {rate: float64}\n";
    Result<Definitions> d = ParseDefinitions(text, "features.yaml", dir.path());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    Status s = CheckSources(*d);
    ASSERT_FALSE(s.ok()) << query;
    EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("out.csv")));
  // A CSV table (loaded, then named in the query) and a Parquet one, with a name that is not a
  // plain SQL identifier, and a comment first.
  dir.Write("names.csv", "driver_id,name\n0,ann\n1,bob\n");
  const std::string text =
      "entities: {d: {join_keys: {driver_id: int64}}}\nfeature_groups:\n  g:\n    entity: d\n"
      "    source:\n      query: \"-- names\\nSELECT s.driver_id, event, name FROM "
      "\\\"my-stats\\\" s "
      "JOIN n USING (driver_id)\"\n      tables: {my-stats: data/stats.parquet, n: names.csv}\n"
      "    event_timestamp: event\n    features: {name: string}\n";
  Result<Definitions> d = ParseDefinitions(text, "features.yaml", dir.path());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  Status s = CheckSources(*d);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(Definitions, RefusesFilesThatExpandBeyondTheLimit) {
  // Ten levels of ten aliases each: 10^10 values once expanded, a few hundred bytes of text.
  std::string text = "a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  for (int i = 1; i < 10; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      text += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    }
    text += "]\n";
  }
  Result<Definitions> d = ParseDefinitions(text, "features.yaml", "/tmp");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("more than 100000 YAML values"), std::string::npos)
      << d.status().message();
}

TEST(Definitions, ParsesDurations) {
  EXPECT_EQ(*ParseDuration("45s", "ttl"), 45000000);
  EXPECT_EQ(*ParseDuration("90m", "ttl"), int64_t{5400} * 1000000);
  EXPECT_EQ(*ParseDuration("1d12h", "ttl"), int64_t{129600} * 1000000);
  EXPECT_EQ(*ParseDuration("3600", "ttl"), int64_t{3600} * 1000000);
  EXPECT_EQ(FormatDuration(int64_t{129600} * 1000000), "1d12h");
  for (const char* bad :
       {"", "3 h", "h", "1h30", "-5s", "99999999999999d", "1w", "1h1h", "30m1h"}) {
    Result<int64_t> r = ParseDuration(bad, "ttl");
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(Definitions, ParsesFeatureRefs) {
  EXPECT_EQ(ParseFeatureRef("stats:rate")->Text(), "stats:rate");
  EXPECT_EQ(ParseFeatureRef("stats@3:rate")->version, 3);
  EXPECT_EQ(ParseFeatureRef("rate_pct")->group, "");
  for (const char* bad : {"stats@0:rate", "stats@x:rate", ":rate", "a b", "stats@:r"}) {
    EXPECT_FALSE(ParseFeatureRef(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace plinth::features
