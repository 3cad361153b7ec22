// The point-in-time join's rules on small tables, and its refusals (the full comparison with
// pandas' merge_asof is e2e.pit_vs_pandas).
#include "features/point_in_time.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <tuple>

#include "features/source.h"
#include "table/csv_writer.h"
#include "table/parquet.h"
#include "table/value_parse.h"
#include "testutil/testutil.h"

namespace plinth::features {
namespace {

using table::Column;
using table::DataType;
using table::Schema;
using table::Table;

int64_t At(const char* iso) {
  int64_t us = 0;
  EXPECT_TRUE(table::ParseTimestamp(iso, us)) << iso;
  return us;
}

// driver, event, created, value: driver 1 has two rows at 10:00 (the later created wins), one
// at 12:00; driver 2 one at 08:00; driver 4 three at 09:00: two created at 09:01 (the one read
// last wins) and one read after them with no created time (a created time beats none);
// driver 5 one without an event time (never joined).
std::string FeatureFile(const testutil::TempDir& dir) {
  std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kTimestamp),
                              Column(DataType::kTimestamp), Column(DataType::kFloat64)};
  const struct {
    int64_t driver;
    const char* event;
    const char* created;
    double value;
  } rows[] = {{1, "2024-01-01T10:00:00Z", "2024-01-01T10:05:00Z", 1.0},
              {1, "2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z", 2.0},
              {1, "2024-01-01T12:00:00Z", "2024-01-01T12:00:00Z", 3.0},
              {2, "2024-01-01T08:00:00Z", "2024-01-01T08:00:00Z", 4.0},
              {4, "2024-01-01T09:00:00Z", "2024-01-01T09:01:00Z", 6.0},
              {4, "2024-01-01T09:00:00Z", "2024-01-01T09:01:00Z", 7.0},
              {4, "2024-01-01T09:00:00Z", nullptr, 5.0},
              {5, nullptr, "2024-01-01T09:01:00Z", 8.0}};
  for (const auto& r : rows) {
    cols[0].AppendInt(r.driver);
    r.event == nullptr ? cols[1].AppendNull() : cols[1].AppendInt(At(r.event));
    r.created == nullptr ? cols[2].AppendNull() : cols[2].AppendInt(At(r.created));
    cols[3].AppendDouble(r.value);
  }
  const std::string path = dir.File("stats.parquet");
  EXPECT_TRUE(table::WriteParquet(Table(Schema({{"driver", DataType::kInt64},
                                                {"event", DataType::kTimestamp},
                                                {"created", DataType::kTimestamp},
                                                {"value", DataType::kFloat64}}),
                                        std::move(cols)),
                                  path)
                  .ok());
  return path;
}

Table Entities(const std::vector<std::pair<int64_t, const char*>>& rows) {
  std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kTimestamp)};
  for (const auto& [driver, at] : rows) {
    driver < 0 ? cols[0].AppendNull() : cols[0].AppendInt(driver);
    at == nullptr ? cols[1].AppendNull() : cols[1].AppendInt(At(at));
  }
  return Table(Schema({{"driver", DataType::kInt64}, {"at", DataType::kTimestamp}}),
               std::move(cols));
}

// The join of entities' `at` with FeatureFile's values as `v`, ties to the created time, ttl 3h.
JoinSpec StatsSpec(const testutil::TempDir& dir) {
  return {"at",
          {{"stats",
            FeatureFile(dir),
            {"driver"},
            "event",
            "created",
            int64_t{3} * 3600 * 1000000,
            {{"value", "v"}}}}};
}

TEST(PointInTimeJoin, TakesTheLatestValueAtOrBeforeWithinTheTtl) {
  testutil::TempDir dir;
  const JoinSpec spec = StatsSpec(dir);
  const Table entities = Entities({{1, "2024-01-01T09:59:59Z"},         // before any: null
                                   {1, "2024-01-01T10:00:00Z"},         // equal time: 2 (created)
                                   {1, "2024-01-01T11:59:59Z"},         // 2
                                   {1, "2024-01-01T12:00:00Z"},         // 3
                                   {2, "2024-01-01T11:00:00Z"},         // 4, 3 h old: inclusive
                                   {2, "2024-01-01T11:00:00.000001Z"},  // beyond the ttl: null
                                   {3, "2024-01-01T12:00:00Z"},         // unknown key: null
                                   {-1, "2024-01-01T12:00:00Z"},        // null key: null
                                   {1, nullptr},                        // null time: null
                                   {4, "2024-01-01T09:30:00Z"},         // 7
                                   {5, "2024-01-01T12:00:00Z"}});       // no event time: null
  Result<table::DuckDb> db = table::DuckDb::Open();
  ASSERT_TRUE(db.ok());
  Result<Table> t = PointInTimeJoin(*db, entities, spec);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->num_rows(), 11);
  EXPECT_EQ(t->schema(), Schema({{"driver", DataType::kInt64},
                                 {"at", DataType::kTimestamp},
                                 {"v", DataType::kFloat64}}));
  const Column& v = *t->ColumnByName("v");
  const std::vector<std::optional<double>> want = {
      std::nullopt, 2.0,          2.0,          3.0, 4.0,         std::nullopt,
      std::nullopt, std::nullopt, std::nullopt, 7.0, std::nullopt};
  for (size_t i = 0; i < want.size(); ++i) {
    const auto r = static_cast<int64_t>(i);
    if (want[i]) {
      ASSERT_FALSE(v.IsNull(r)) << "row " << i;
      EXPECT_EQ(v.doubles()[i], *want[i]) << "row " << i;
    } else {
      EXPECT_TRUE(v.IsNull(r)) << "row " << i;
    }
  }
}

// `n` rows of driver 9 at 09:00 with values first, first + 1, ...
Table Ties(int n, double first) {
  std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kTimestamp),
                              Column(DataType::kFloat64)};
  for (int i = 0; i < n; ++i) {
    cols[0].AppendInt(9);
    cols[1].AppendInt(At("2024-01-01T09:00:00Z"));
    cols[2].AppendDouble(first + i);
  }
  return Table(Schema({{"driver", DataType::kInt64},
                       {"event", DataType::kTimestamp},
                       {"value", DataType::kFloat64}}),
               std::move(cols));
}

// Of rows of one key and event time without created times, the one read last wins: in a
// folder of Parquet files the last file's last row (the places come from the files' indexes
// and row numbers, not a window), in a CSV file its last row; also for a dimension.
TEST(PointInTimeJoin, TiesGoToTheRowReadLastAcrossFilesAndInCsv) {
  testutil::TempDir dir;
  ASSERT_TRUE(std::filesystem::create_directories(dir.File("stats")));
  ASSERT_TRUE(table::WriteParquet(Ties(3000, 0), dir.File("stats/a.parquet")).ok());
  ASSERT_TRUE(table::WriteParquet(Ties(2, 3000), dir.File("stats/b.parquet")).ok());
  ASSERT_TRUE(table::WriteCsv(Ties(3000, 0), dir.File("stats.csv")).ok());
  // A file column named as DuckDB's file_index (names ignore case) is not taken for it.
  ASSERT_TRUE(std::filesystem::create_directories(dir.File("named")));
  for (const auto& [file, n, first] :
       {std::tuple{"named/a.parquet", 3000, 0.0}, std::tuple{"named/b.parquet", 2, 3000.0}}) {
    Table t = Ties(n, first);
    Column index(DataType::kInt64);
    for (int i = 0; i < n; ++i) {
      index.AppendInt(first == 0 ? 5 : 0);
    }
    t.SetColumn({"File_Index", DataType::kInt64}, std::move(index));
    ASSERT_TRUE(table::WriteParquet(t, dir.File(file)).ok());
  }
  const Table entities = Entities({{9, "2024-01-01T10:00:00Z"}});
  const std::pair<std::string, std::string> cases[] = {{dir.File("named"), "event"},
                                                       {dir.File("stats"), "event"},
                                                       {dir.File("stats.csv"), "event"},
                                                       {dir.File("stats"), ""},
                                                       {dir.File("stats.csv"), ""}};
  for (const auto& [path, event] : cases) {
    Result<table::DuckDb> db = table::DuckDb::Open();
    ASSERT_TRUE(db.ok());
    Result<Table> t = PointInTimeJoin(
        *db, entities,
        {"at", {{"stats", path, {"driver"}, event, "", std::nullopt, {{"value", "v"}}}}});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    const bool folder = path == dir.File("stats") || path == dir.File("named");
    EXPECT_EQ(t->ColumnByName("v")->doubles()[0], folder ? 3001 : 2999) << path << " " << event;
  }
}

// Entities in a folder of Parquet files, read by DuckDB as the join runs, come out as the
// same rows held in memory do: in order across the files, with every column.
TEST(PointInTimeJoin, ParquetEntitiesJoinAsHeldOnes) {
  testutil::TempDir dir;
  const JoinSpec spec = StatsSpec(dir);
  std::vector<std::pair<int64_t, const char*>> rows;
  for (int i = 0; i < 3000; ++i) {
    rows.emplace_back(i % 6 - 1, i % 13 == 0  ? nullptr
                                 : i % 2 == 0 ? "2024-01-01T10:00:00Z"
                                              : "2024-01-01T12:30:00Z");
  }
  const Table all = Entities(rows);
  ASSERT_TRUE(std::filesystem::create_directories(dir.File("entities")));
  const std::vector<int64_t> first = [] {
    std::vector<int64_t> v(2500);
    std::iota(v.begin(), v.end(), 0);
    return v;
  }();
  std::vector<int64_t> second(500);
  std::iota(second.begin(), second.end(), 2500);
  ASSERT_TRUE(
      table::WriteParquet(table::TakeRows(all, first), dir.File("entities/a.parquet")).ok());
  ASSERT_TRUE(
      table::WriteParquet(table::TakeRows(all, second), dir.File("entities/b.parquet")).ok());
  Result<table::DuckDb> db = table::DuckDb::Open();
  ASSERT_TRUE(db.ok());
  Result<Table> held = PointInTimeJoin(*db, all, spec);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  Table streamed;
  Status s = PointInTimeJoin(*db, dir.File("entities"), all.schema(), spec,
                             [&](Table&& t) { return streamed.Append(t); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(streamed, *held);
  EXPECT_EQ(held->num_rows(), 3000);
  // Beside a source query (which confines the database to the files it may read): the
  // entities' files are among them.
  JoinSpec query = spec;
  query.sources[0].query = "SELECT * FROM stats";
  query.sources[0].tables = {{"stats", query.sources[0].path}};
  query.sources[0].path = "stats (source query)";
  Result<table::DuckDb> confined = table::DuckDb::Open();
  ASSERT_TRUE(confined.ok());
  Table again;
  s = PointInTimeJoin(*confined, dir.File("entities"), all.schema(), query,
                      [&](Table&& t) { return again.Append(t); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(again, *held);
  // A value Plinth cannot hold, met as the join reads it: one line naming the file and column.
  const std::string far = dir.File("far.parquet");
  ASSERT_TRUE(db->Exec("COPY (SELECT 1::BIGINT AS driver, TIMESTAMP '9999-12-31' + INTERVAL 2 "
                       "YEAR AS at) TO " +
                           table::SqlString(far),
                       "far")
                  .ok());
  s = PointInTimeJoin(*db, far, all.schema(), spec, [](Table&&) { return Status::Ok(); });
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.message().starts_with(far + ": column 'at' holds a timestamp outside the years 1 "
                                            "to 9999"))
      << s.message();
  EXPECT_EQ(s.message().find("Error"), std::string::npos) << s.message();
  // Plinth's own column names are refused in the entities.
  const Table reserved(Schema({{"__Plinth_row", DataType::kInt64}, {"at", DataType::kTimestamp}}),
                       {Column(DataType::kInt64), Column(DataType::kTimestamp)});
  Result<Table> r = PointInTimeJoin(*db, reserved, spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'__Plinth_row' is reserved"), std::string::npos)
      << r.status().message();
}

// A CSV source's columns are moved out of what its reader read, in the order asked for.
TEST(PlanSource, TakesTheCsvColumnsAskedForInTheirOrder) {
  testutil::TempDir dir;
  const std::string csv = dir.Write("s.csv", "a,b,c\n1,x,2.5\n3,y,\n");
  Result<table::DuckDb> db = table::DuckDb::Open();
  ASSERT_TRUE(db.ok());
  Result<PlannedSource> p = PlanSource(*db, Source{csv, "", {}}, "s", {"c", "a"}, "0");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->schema, Schema({{"c", DataType::kFloat64}, {"a", DataType::kInt64}}));
  Result<Table> t = db->QueryTable("SELECT * FROM (" + p->sql + ")", {}, "s");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->num_rows(), 2);
  ASSERT_EQ(t->num_columns(), size_t{3});  // and the order column
  EXPECT_EQ(t->column(0).doubles()[0], 2.5);
  EXPECT_TRUE(t->column(0).IsNull(1));
  EXPECT_EQ(t->column(1).ints()[1], 3);
  EXPECT_EQ(t->column(2).ints()[1], 1);
  // A column missing, or asked for twice (never moved twice): one line each.
  Result<PlannedSource> r = PlanSource(*db, Source{csv, "", {}}, "s", {"a", "d"}, "1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), csv + ": no column 'd' (feature group s)");
  r = PlanSource(*db, Source{csv, "", {}}, "s", {"a", "a"}, "2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), csv + ": column 'a' asked for twice (feature group s)");
}

TEST(PointInTimeJoin, RefusesWhatCannotBeJoinedNamingIt) {
  testutil::TempDir dir;
  const std::string stats = FeatureFile(dir);
  const Table entities = Entities({{1, "2024-01-01T10:00:00Z"}});
  Result<table::DuckDb> db = table::DuckDb::Open();
  ASSERT_TRUE(db.ok());
  const std::pair<JoinSpec, std::string> cases[] = {
      {{"when", {}}, "entities: expected a timestamp column 'when', there is none"},
      {{"driver", {}}, "entities: expected a timestamp column 'driver', it is int64"},
      {{"at", {{"stats", stats, {"car"}, "event", "", std::nullopt, {{"value", "v"}}}}},
       "no column 'car'"},
      {{"at", {{"stats", stats, {"driver"}, "value", "", std::nullopt, {{"value", "v"}}}}},
       "source stats: 'value' in " + stats + " is not a timestamp column"},
      {{"at", {{"stats", stats, {"driver"}, "event", "", std::nullopt, {{"value", "at"}}}}},
       "source stats: the output column 'at' is already taken"},
      {{"at",
        {{"stats",
          dir.File("none.parquet"),
          {"driver"},
          "event",
          "",
          std::nullopt,
          {{"value", "v"}}}}},
       "none.parquet"}};
  for (const auto& [spec, says] : cases) {
    Result<Table> t = PointInTimeJoin(*db, entities, spec);
    ASSERT_FALSE(t.ok()) << says;
    EXPECT_NE(t.status().message().find(says), std::string::npos) << t.status().message();
    EXPECT_EQ(t.status().message().find('\n'), std::string::npos);
  }
  // A key of another type than the entities'.
  Table text_keys(Schema({{"driver", DataType::kString}, {"at", DataType::kTimestamp}}),
                  {Column(DataType::kString), Column(DataType::kTimestamp)});
  Result<Table> t = PointInTimeJoin(
      *db, text_keys,
      {"at", {{"stats", stats, {"driver"}, "event", "", std::nullopt, {{"value", "v"}}}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(
      t.status().message().find("key 'driver' is int64 in " + stats + ", the entities' is string"),
      std::string::npos)
      << t.status().message();
}

}  // namespace
}  // namespace plinth::features
