// Parquet through DuckDB: files other implementations wrote (apache/parquet-testing, written
// by parquet-mr, Impala, Spark and Arrow C++), Plinth's own files read back, and bad input.
#include "table/parquet.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/file.h"
#include "table/duckdb.h"
#include "testutil/tables.h"
#include "testutil/testutil.h"

namespace plinth::table {
namespace {

std::string Parquet(const std::string& name) { return testutil::DatasetPath("parquet/" + name); }

// The row counts the datasets' README states for the flat files (as DuckDB 1.4.4 reads them).
TEST(Parquet, ReadsFilesOtherWritersWrote) {
  const std::pair<const char*, int64_t> files[] = {{"alltypes_plain.parquet", 8},
                                                   {"alltypes_plain.snappy.parquet", 2},
                                                   {"alltypes_dictionary.parquet", 2},
                                                   {"int32_with_null_pages.parquet", 1000},
                                                   {"byte_stream_split.zstd.parquet", 300},
                                                   {"concatenated_gzip_members.parquet", 513},
                                                   {"delta_length_byte_array.parquet", 1000},
                                                   {"lz4_raw_compressed.parquet", 4},
                                                   {"single_nan.parquet", 1}};
  for (const auto& [name, rows] : files) {
    Result<Table> t = ReadParquet(Parquet(name));
    ASSERT_TRUE(t.ok()) << name << ": " << t.status().ToString();
    EXPECT_EQ(t->num_rows(), rows) << name;
  }
}

// alltypes_plain's values, as parquet-testing's README describes the file.
TEST(Parquet, MapsEveryPrimitiveType) {
  Result<Table> t = ReadParquet(Parquet("alltypes_plain.parquet"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const Schema want({{"id", DataType::kInt64},
                     {"bool_col", DataType::kBool},
                     {"tinyint_col", DataType::kInt64},
                     {"smallint_col", DataType::kInt64},
                     {"int_col", DataType::kInt64},
                     {"bigint_col", DataType::kInt64},
                     {"float_col", DataType::kFloat64},
                     {"double_col", DataType::kFloat64},
                     {"date_string_col", DataType::kString},
                     {"string_col", DataType::kString},
                     {"timestamp_col", DataType::kTimestamp}});
  EXPECT_EQ(t->schema(), want);
  EXPECT_EQ(t->ColumnByName("id")->ints(), (std::vector<int64_t>{4, 5, 6, 7, 2, 3, 0, 1}));
  EXPECT_EQ(t->ColumnByName("bool_col")->bools(), (std::vector<uint8_t>{1, 0, 1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(t->ColumnByName("bigint_col")->ints()[1], 10);
  // A FLOAT widened exactly: 1.1f, not 1.1.
  EXPECT_EQ(t->ColumnByName("float_col")->doubles()[1], static_cast<double>(1.1f));
  EXPECT_EQ(t->ColumnByName("double_col")->doubles()[1], 10.1);
  EXPECT_EQ(t->ColumnByName("date_string_col")->GetString(0), "03/01/09");
  EXPECT_EQ(t->ColumnByName("string_col")->GetString(1), "1");
  // INT96 timestamps: 2009-03-01 00:00:00 UTC, then a minute later.
  EXPECT_EQ(t->ColumnByName("timestamp_col")->ints()[0], 1235865600000000);
  EXPECT_EQ(t->ColumnByName("timestamp_col")->ints()[1], 1235865660000000);
}

// Spark's INT96 of the year 290000 (int96_from_spark.md in parquet-testing) comes back from
// DuckDB wrapped around to 226414 BC: refused rather than passed on as a wrong instant.
TEST(Parquet, RefusesTimestampsBeyondTheYear9999) {
  Result<Table> t = ReadParquet(Parquet("int96_from_spark.parquet"));
  ASSERT_FALSE(t.ok());
  const std::string m = t.status().message();
  EXPECT_EQ(m.find(Parquet("int96_from_spark.parquet") +
                   ": column 'a' holds a timestamp outside the years 1 to 9999: "),
            0u)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST(Parquet, ReadsNullsNaNAndChosenColumns) {
  Result<Table> pages = ReadParquet(Parquet("int32_with_null_pages.parquet"));
  ASSERT_TRUE(pages.ok());
  EXPECT_GT(pages->column(0).null_count(), 0);
  EXPECT_LT(pages->column(0).null_count(), 1000);
  Result<Table> nan = ReadParquet(Parquet("single_nan.parquet"));
  ASSERT_TRUE(nan.ok());
  ASSERT_EQ(nan->num_rows(), 1);
  EXPECT_TRUE(nan->column(0).IsNull(0) || std::isnan(nan->column(0).doubles()[0]))
      << nan->column(0).FormatValue(0);
  // A file with a nested column reads when only its flat columns are asked for.
  Result<Table> flat = ReadParquet(Parquet("datapage_v2.snappy.parquet"), {"d", "a"});
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(flat->num_rows(), 5);
  EXPECT_EQ(flat->schema(), Schema({{"d", DataType::kBool}, {"a", DataType::kString}}));
}

TEST(Parquet, RefusesNestedColumnsNamingThem) {
  for (const auto& [name, column] : {std::pair{"nested_lists.snappy.parquet", "a"},
                                     std::pair{"nulls.snappy.parquet", "b_struct"},
                                     std::pair{"nullable.impala.parquet", "int_array"},
                                     std::pair{"datapage_v2.snappy.parquet", "e"}}) {
    Result<Table> t = ReadParquet(Parquet(name));
    ASSERT_FALSE(t.ok()) << name;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    const std::string m = t.status().message();
    EXPECT_NE(m.find("column '" + std::string(column) + "' is "), std::string::npos) << m;
    EXPECT_NE(m.find("(nested)"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  Result<Table> missing = ReadParquet(Parquet("single_nan.parquet"), {"nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no column 'nope'"), std::string::npos);
}

// NaN is not equal to itself: the round trip is compared without one.
Table EveryType() { return testutil::EveryType("x \"quoted\"", /*with_nan=*/false); }

TEST(Parquet, WhatItWritesReadsBackTheSame) {
  testutil::TempDir dir;
  const Table t = EveryType();
  Status written = WriteParquet(t, dir.File("every.parquet"));
  ASSERT_TRUE(written.ok()) << written.ToString();
  Result<Table> back = ReadParquet(dir.File("every.parquet"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, t);
  Result<Schema> schema = ReadParquetSchema(dir.File("every.parquet"));
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(*schema, t.schema());
  // No temporary left beside it.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(Parquet, ReadsAFolderOfFilesInNameOrder) {
  testutil::TempDir dir;
  const Table t = EveryType();
  ::mkdir(dir.File("parts").c_str(), 0755);
  ASSERT_TRUE(WriteParquet(t, dir.File("parts/b.parquet")).ok());
  ASSERT_TRUE(WriteParquet(t, dir.File("parts/a.parquet")).ok());
  dir.Write("parts/notes.txt", "not parquet");
  Result<Table> both = ReadParquet(dir.File("parts"));
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->num_rows(), 2 * t.num_rows());
  EXPECT_TRUE(IsParquetPath(dir.File("parts")));
  EXPECT_TRUE(IsParquetPath("x.PARQUET"));
  EXPECT_FALSE(IsParquetPath("x.csv"));
  std::vector<std::string> chunks;
  int64_t rows = 0;
  ASSERT_TRUE(ReadParquetChunks(dir.File("parts"), {"s"}, [&](Table&& piece) {
                rows += piece.num_rows();
                EXPECT_EQ(piece.num_columns(), 1u);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(rows, 2 * t.num_rows());

  ::mkdir(dir.File("empty").c_str(), 0755);
  Result<Table> none = ReadParquet(dir.File("empty"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("a directory without .parquet files"), std::string::npos);
  ::mkdir(dir.File("glob").c_str(), 0755);
  ASSERT_TRUE(WriteParquet(t, dir.File("glob/a*.parquet")).ok());
  Result<Table> glob = ReadParquet(dir.File("glob"));
  ASSERT_FALSE(glob.ok());
  EXPECT_NE(glob.status().message().find("which DuckDB would read as a pattern"),
            std::string::npos);
}

// Writes `select` (DuckDB SQL) to `path` as Parquet with DuckDB itself: types Plinth does not
// write (DECIMAL, DATE, millisecond and nanosecond timestamps, unsigned, binary, ENUM).
void WriteWithDuckDb(const std::string& select, const std::string& path) {
  Result<DuckDb> db = DuckDb::Open();
  ASSERT_TRUE(db.ok());
  Status s = db->Exec("COPY (" + select + ") TO " + SqlString(path) + " (FORMAT parquet)", path);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// The type table of docs/FORMATS.md, value by value, in a time zone far from UTC (the reader
// works in UTC whatever the machine's).
TEST(Parquet, MapsWhatOtherWritersUse) {
  testutil::TempDir dir;
  const std::string path = dir.File("types.parquet");
  WriteWithDuckDb(
      "SELECT 1.25::DECIMAL(10,2) AS dec, DATE '2024-03-01' AS day, "
      "TIMESTAMP_MS '2024-03-01 10:00:00.123' AS ms, "
      "TIMESTAMP_NS '2024-03-01 10:00:00.123456789' AS ns, "
      "TIMESTAMPTZ '2024-03-01 12:00:00+02' AS tz, 200::UTINYINT AS small, "
      "18446744073709551615::UBIGINT - 18446744073709551000::UBIGINT AS unsigned, "
      "'\\xC3\\xA9t\\xC3\\xA9'::BLOB AS bytes, 'b'::ENUM('a', 'b') AS choice",
      path);
  const char* before = std::getenv("TZ");
  ::setenv("TZ", "Asia/Tokyo", 1);
  Result<Table> t = ReadParquet(path);
  before != nullptr ? ::setenv("TZ", before, 1) : ::unsetenv("TZ");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->schema(), Schema({{"dec", DataType::kFloat64},
                                 {"day", DataType::kTimestamp},
                                 {"ms", DataType::kTimestamp},
                                 {"ns", DataType::kTimestamp},
                                 {"tz", DataType::kTimestamp},
                                 {"small", DataType::kInt64},
                                 {"unsigned", DataType::kInt64},
                                 {"bytes", DataType::kString},
                                 {"choice", DataType::kString}}));
  EXPECT_EQ(t->ColumnByName("dec")->doubles()[0], 1.25);
  EXPECT_EQ(t->ColumnByName("day")->ints()[0], 1709251200000000);  // 2024-03-01T00:00Z
  EXPECT_EQ(t->ColumnByName("ms")->ints()[0], 1709287200123000);   // 10:00:00.123Z
  EXPECT_EQ(t->ColumnByName("ns")->ints()[0], 1709287200123456);   // ns truncated
  EXPECT_EQ(t->ColumnByName("tz")->ints()[0], 1709287200000000);   // 12:00+02 = 10:00Z
  EXPECT_EQ(t->ColumnByName("small")->ints()[0], 200);
  EXPECT_EQ(t->ColumnByName("unsigned")->ints()[0], 615);
  EXPECT_EQ(t->ColumnByName("bytes")->GetString(0), "\xC3\xA9t\xC3\xA9");  // "été", not escaped
  EXPECT_EQ(t->ColumnByName("choice")->GetString(0), "b");
}

TEST(Parquet, ValuesPlinthCannotHoldAreErrorsNamingTheColumn) {
  testutil::TempDir dir;
  const std::pair<std::string, std::string> cases[] = {
      {"SELECT 18446744073709551615::UBIGINT AS big",
       "column 'big' holds a value beyond int64: 18446744073709551615"},
      {"SELECT '\\xff\\xfe'::BLOB AS raw",
       "column 'raw' holds binary values that are not UTF-8 text"},
      {"SELECT TIMESTAMP '0044-03-15 00:00:00' - INTERVAL 100 YEARS AS old",
       "column 'old' holds a timestamp outside the years 1 to 9999"},
      {"SELECT TIME '10:00:00' AS t", "column 't' is TIME: Plinth reads flat columns"}};
  int i = 0;
  for (const auto& [select, says] : cases) {
    const std::string path = dir.File("bad" + std::to_string(i++) + ".parquet");
    WriteWithDuckDb(select, path);
    Result<Table> t = ReadParquet(path);
    ASSERT_FALSE(t.ok()) << select;
    const std::string m = t.status().message();
    EXPECT_EQ(m.find(path + ": " + says), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(Parquet, AFolderIsOneTableOfFilesWithTheSameColumns) {
  testutil::TempDir dir;
  ::mkdir(dir.File("f").c_str(), 0755);
  WriteWithDuckDb("SELECT 2 AS id, 'b' AS s", dir.File("f/b.parquet"));
  WriteWithDuckDb("SELECT 1 AS id, 'a' AS s", dir.File("f/a.parquet"));
  Result<Table> t = ReadParquet(dir.File("f"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->ColumnByName("id")->ints(), (std::vector<int64_t>{1, 2}));  // name order
  // A file whose column has another type: refused naming it, not cast into the first's.
  WriteWithDuckDb("SELECT 3.5::DOUBLE AS id, 'c' AS s", dir.File("f/c.parquet"));
  t = ReadParquet(dir.File("f"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().find(dir.File("f/c.parquet") + ": column 1 is 'id' DOUBLE, in " +
                                      dir.File("f/a.parquet") + " 'id' INTEGER"),
            0u)
      << t.status().message();
  // A folder named like a hive partition adds no column.
  ::mkdir(dir.File("dt=2024-01-01").c_str(), 0755);
  WriteWithDuckDb("SELECT 1 AS x", dir.File("dt=2024-01-01/p.parquet"));
  Result<Table> hive = ReadParquet(dir.File("dt=2024-01-01/p.parquet"));
  ASSERT_TRUE(hive.ok());
  EXPECT_EQ(hive->schema(), Schema({{"x", DataType::kInt64}}));
}

TEST(Parquet, RefusesColumnNamesThatDifferOnlyInCase) {
  testutil::TempDir dir;
  Table t(Schema({{"Yes", DataType::kInt64}, {"yes", DataType::kInt64}}),
          {Column(DataType::kInt64), Column(DataType::kInt64)});
  Status s = WriteParquet(t, dir.File("case.parquet"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("two columns named 'yes' but for case"), std::string::npos)
      << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(dir.File("case.parquet")));
}

TEST(Parquet, BadFilesAreOneLineErrors) {
  testutil::TempDir dir;
  for (const auto& [name, content] :
       {std::pair{"garbage.parquet", std::string("this is not a parquet file at all")},
        std::pair{"empty.parquet", std::string()},
        std::pair{"cut.parquet", std::string("PAR1\x15\x04\x15\x10", 8)}}) {
    Result<Table> t = ReadParquet(dir.Write(name, content));
    ASSERT_FALSE(t.ok()) << name;
    const std::string m = t.status().message();
    EXPECT_NE(m.find(dir.File(name)), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  Result<Table> missing = ReadParquet(dir.File("missing.parquet"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(Parquet, WritesThroughSymlinksAndDevicesNeverOverThem) {
  testutil::TempDir dir;
  const Table t = EveryType();
  ASSERT_TRUE(WriteParquet(t, dir.File("real.parquet")).ok());
  ASSERT_EQ(::symlink(dir.File("real.parquet").c_str(), dir.File("link.parquet").c_str()), 0);
  Table small(Schema({{"i", DataType::kInt64}}), {Column(DataType::kInt64)});
  ASSERT_TRUE(WriteParquet(small, dir.File("link.parquet")).ok());
  struct stat st {};
  ASSERT_EQ(::lstat(dir.File("link.parquet").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link stays a link";
  Result<Schema> replaced = ReadParquetSchema(dir.File("real.parquet"));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->size(), 1u);
  // A device is written in place, not replaced.
  EXPECT_TRUE(WriteParquet(t, "/dev/null").ok());
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // A directory is refused; an unwritable place is an error naming it.
  ::mkdir(dir.File("d.parquet").c_str(), 0755);
  Status s = WriteParquet(t, dir.File("d.parquet"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is a directory"), std::string::npos) << s.ToString();
  s = WriteParquet(t, dir.File("no/such/dir/x.parquet"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.File("no/such/dir/x.parquet")), std::string::npos);
}

// A table read where it is through DuckDb::Scan: every type and null, in order across
// chunks, numbered, with only the columns a query asks for; a large one by several threads.
TEST(DuckDbScan, ReadsATableWhereItIsInOrderNumbered) {
  std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kFloat64),
                              Column(DataType::kBool), Column(DataType::kString),
                              Column(DataType::kTimestamp)};
  for (int64_t i = 0; i < 5000; ++i) {
    i % 7 == 0 ? cols[0].AppendNull() : cols[0].AppendInt(i * 3);
    cols[1].AppendDouble(i / 4.0);
    i % 5 == 0 ? cols[2].AppendNull() : cols[2].AppendBool(i % 2 == 0);
    i % 11 == 0 ? cols[3].AppendNull() : cols[3].AppendString("row " + std::to_string(i));
    cols[4].AppendInt(i * 1000000);
  }
  const Table t(Schema({{"i", DataType::kInt64},
                        {"d", DataType::kFloat64},
                        {"b", DataType::kBool},
                        {"s", DataType::kString},
                        {"ts", DataType::kTimestamp}}),
                std::move(cols));
  Result<DuckDb> db = DuckDb::Open();
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->Scan("held", std::make_shared<const Table>(t), "n", "held").ok());
  Result<Table> all = db->QueryTable("SELECT * FROM held()", {}, "scan");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->num_rows(), 5000);
  ASSERT_EQ(all->num_columns(), 6u);
  for (size_t c = 0; c < 5; ++c) {
    EXPECT_EQ(all->column(c), t.column(c)) << c;
  }
  for (int64_t i = 0; i < 5000; ++i) {
    ASSERT_EQ(all->column(5).ints()[static_cast<size_t>(i)], i);
  }
  Result<Table> some =
      db->QueryTable("SELECT s, n FROM held() WHERE n % 1000 = 1 ORDER BY n", {}, "scan");
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ(some->num_rows(), 5);
  EXPECT_EQ(some->column(0).GetString(4), "row 4001");
  EXPECT_EQ(some->column(1).ints()[4], 4001);
  // A larger table is read by several threads: every row once, numbered by its place.
  Column big(DataType::kInt64);
  for (int64_t i = 0; i < 450000; ++i) {
    big.AppendInt(i * 7);
  }
  ASSERT_TRUE(db->Scan("big",
                       std::make_shared<const Table>(Schema({{"v", DataType::kInt64}}),
                                                     std::vector<Column>{big}),
                       "n", "big")
                  .ok());
  Result<Table> sorted = db->QueryTable("SELECT v, n FROM big() ORDER BY n", {}, "scan");
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  ASSERT_EQ(sorted->num_rows(), 450000);
  for (int64_t i = 0; i < 450000; ++i) {
    ASSERT_EQ(sorted->column(1).ints()[static_cast<size_t>(i)], i);
    ASSERT_EQ(sorted->column(0).ints()[static_cast<size_t>(i)], i * 7);
  }
  // A second table under the same name is refused; the first stays.
  EXPECT_FALSE(db->Scan("held", std::make_shared<const Table>(), "", "again").ok());
  Result<Table> count = db->QueryTable("SELECT count(*) AS n FROM held()", {}, "scan");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->column(0).ints()[0], 5000);
}

}  // namespace
}  // namespace plinth::table
