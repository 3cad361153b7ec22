// `features historical` on CSV entities held in memory and on ones too large to hold, written
// as Parquet first: the same answer.
#include "features/historical.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>

#include "core/file.h"
#include "table/parquet.h"
#include "table/value_parse.h"
#include "testutil/testutil.h"

namespace plinth::features {
namespace {

using table::Column;
using table::DataType;
using table::Schema;
using table::Table;

// Feature rows for drivers 0..9, one per hour of 2024-01-01, value driver * 100 + hour.
std::string StatsFile(const testutil::TempDir& dir) {
  std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kTimestamp),
                              Column(DataType::kFloat64)};
  int64_t midnight = 0;
  EXPECT_TRUE(table::ParseTimestamp("2024-01-01T00:00:00Z", midnight));
  for (int64_t driver = 0; driver < 10; ++driver) {
    for (int64_t hour = 0; hour < 24; ++hour) {
      cols[0].AppendInt(driver);
      cols[1].AppendInt(midnight + hour * 3600 * 1000000);
      cols[2].AppendDouble(static_cast<double>(driver * 100 + hour));
    }
  }
  const std::string path = dir.File("stats.parquet");
  EXPECT_TRUE(table::WriteParquet(Table(Schema({{"driver", DataType::kInt64},
                                                {"event", DataType::kTimestamp},
                                                {"value", DataType::kFloat64}}),
                                        std::move(cols)),
                                  path)
                  .ok());
  return path;
}

// The entities joined with StatsFile's values (ttl 2 h) into `out`: rows held while they take
// at most `hold` bytes, else written as Parquet files of about 512 KB; the source read through a
// query when `query` (the database then confined to the files it may read).
Result<HistoricalResult> Historical(const testutil::TempDir& dir, const std::string& entities,
                                    const std::string& out, int64_t hold, bool query = false) {
  FeatureGroup g;
  g.name = "stats";
  g.version = 1;
  g.join_keys = {{"driver", DataType::kInt64}};
  if (query) {
    g.source.query = "SELECT * FROM stats";
    g.source.tables = {{"stats", StatsFile(dir)}};
  } else {
    g.source.path = StatsFile(dir);
  }
  g.event_timestamp = "event";
  g.ttl_us = int64_t{2} * 3600 * 1000000;
  g.features = {{"value", DataType::kFloat64}};
  HistoricalOptions options;
  options.entities = entities;
  options.out = out;
  options.hold_csv_bytes = hold;
  options.spool_file_bytes = 512 << 10;
  return HistoricalFeatures(
      Definitions(), {FeatureRef{"stats", 0, "value"}},
      [&](const FeatureRef&) -> Result<FeatureGroup> { return g; }, options, nullptr);
}

// The files in `dir` and below.
int Files(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    n += e.is_regular_file() ? 1 : 0;
  }
  return n;
}

TEST(HistoricalFeatures, LargeCsvEntitiesAreJoinedThroughParquetAsHeldOnesAre) {
  testutil::TempDir dir;
  // More than one chunk of the CSV reader (4 MB) and a column read as int64 until a float
  // near the end (the reader starts again, widened), nulls and a key without features.
  std::string text = "id,driver,at,note,x\n";
  const int rows = 200000;
  for (int i = 0; i < rows; ++i) {
    const int hour = i % 26;  // hours 24 and 25: beyond the ttl of the last row (23:00)
    text +=
        std::to_string(i) + "," + (i % 97 == 0 ? "" : std::to_string(i % 12)) + "," +
        (i % 89 == 0 ? std::string()
                     : "2024-01-0" + std::to_string(1 + hour / 24) + "T" +
                           (hour % 24 < 10 ? "0" : "") + std::to_string(hour % 24) + ":30:00Z") +
        ",note " + std::to_string(i % 7) + "," +
        (i == rows - 5 ? std::string("1.5") : std::to_string(i)) + "\n";
  }
  const std::string entities = dir.Write("entities.csv", text);
  ASSERT_GT(text.size(), size_t{4} << 20);
  Result<HistoricalResult> held = Historical(dir, entities, dir.File("held.csv"), int64_t{1} << 30);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  Result<std::string> a = core::ReadFile(dir.File("held.csv"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(held->rows, rows);
  // Written as Parquet from the first row (hold 0) or after the first chunk of rows (hold
  // 1 MB), in files of 512 KB (about 18: their names' order is the rows' order), the second
  // reader chunk's float restarting the reader after files were written; also beside a source
  // query, which confines DuckDB. The same answer, byte for byte, and the scratch folder
  // (under TMPDIR) gone after.
  const std::string tmp = dir.File("tmp");
  ASSERT_TRUE(std::filesystem::create_directories(tmp));
  const char* was = std::getenv("TMPDIR");
  const std::string saved = was == nullptr ? "" : was;
  ASSERT_EQ(::setenv("TMPDIR", tmp.c_str(), 1), 0);
  for (const auto& [hold, query] :
       {std::pair<int64_t, bool>{0, false}, std::pair<int64_t, bool>{1 << 20, false},
        std::pair<int64_t, bool>{0, true}}) {
    SCOPED_TRACE(std::to_string(hold) + (query ? " query" : ""));
    Result<HistoricalResult> spooled =
        Historical(dir, entities, dir.File("spooled.csv"), hold, query);
    ASSERT_TRUE(spooled.ok()) << spooled.status().ToString();
    EXPECT_EQ(spooled->rows, rows);
    EXPECT_EQ(spooled->columns, held->columns);
    Result<std::string> b = core::ReadFile(dir.File("spooled.csv"));
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(*a == *b);
    EXPECT_EQ(Files(tmp), 0);
  }
  was == nullptr ? ::unsetenv("TMPDIR") : ::setenv("TMPDIR", saved.c_str(), 1);
  // Spot checks of the answer itself: row 1 (driver 1 at 01:30) takes 01:00's value, 101; row
  // 24 (driver 0 on 2024-01-02 at 00:30) takes 23:00's, 23; row 25 (01:30 the next day) is
  // beyond the 2 h ttl; row 0 has neither key nor time; the int column widened to float.
  EXPECT_NE(a->find("\n1,1,2024-01-01 01:30:00,note 1,1.0,101.0\n"), std::string::npos);
  EXPECT_NE(a->find("\n24,0,2024-01-02 00:30:00,note 3,24.0,23.0\n"), std::string::npos);
  EXPECT_NE(a->find("\n25,1,2024-01-02 01:30:00,note 4,25.0,\n"), std::string::npos);
  EXPECT_NE(a->find(",1.5,"), std::string::npos);
  EXPECT_NE(a->find("\n0,,,note 0,0.0,\n"), std::string::npos);
  // Columns only case tells apart cannot go through Parquet: one line naming the file.
  const std::string cased = dir.Write("cased.csv", "driver,Driver,at\n1,2,2024-01-01T01:30:00Z\n");
  Result<HistoricalResult> r = Historical(dir, cased, dir.File("cased_out.csv"), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            cased +
                ": two columns named 'Driver' but for case; an entity file this large is "
                "joined through Parquet, which does not tell them apart");
  // An entity file without rows is refused as a held one is.
  const std::string empty = dir.Write("empty.csv", "driver,at\n");
  r = Historical(dir, empty, dir.File("empty_out.csv"), int64_t{1} << 30);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with(empty + ": ")) << r.status().message();
  Result<HistoricalResult> r2 = Historical(dir, empty, dir.File("empty_out.csv"), 0);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().message(), r.status().message());
  EXPECT_FALSE(std::filesystem::exists(dir.File("empty_out.csv")));
}

}  // namespace
}  // namespace plinth::features
