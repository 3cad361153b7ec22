#include "table/csv_writer.h"

#include <gtest/gtest.h>

#include "table/csv_reader.h"
#include "testutil/testutil.h"

namespace plinth::table {
namespace {

CsvOptions WithSchema(const Schema& schema) {
  CsvOptions opt;
  for (const auto& f : schema.fields()) {
    opt.types[f.name] = f.type;
  }
  return opt;
}

TEST(CsvWriterTest, QuotesOnlyWhatMust) {
  auto r = ReadCsvText("a,b\n\"x,y\",\"\"\n\"say \"\"hi\"\"\",\"NA\"\n plain,\n", {}, "t");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatCsv(r->table), "a,b\n\"x,y\",\"\"\n\"say \"\"hi\"\"\",\"NA\"\n\" plain\",\n");
}

TEST(CsvWriterTest, RoundTripIsExactOnEdgeCases) {
  std::string text =
      "i,f,b,s,ts\n"
      "1,0.1,true,\"multi\nline\",2013-01-01 05:00:00.5\n"
      ",1e300,,\"\",\n"
      "-9223372036854775808,-0.0,false,caf\xC3\xA9,1969-12-31\n"
      "3,2.2250738585072014e-308,true,\"a \"\"q\"\"\",2000-02-29 00:00:01\n";
  auto first = ReadCsvText(text, {}, "t");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::string written = FormatCsv(first->table);
  auto second = ReadCsvText(written, WithSchema(first->table.schema()), "t");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(first->table == second->table) << written;
}

TEST(CsvWriterTest, RoundTripIsExactOnRealData) {
  testutil::TempDir dir;
  for (const char* name : {"titanic_train.csv", "adult_train.csv", "bank-additional-full.csv",
                           "california_housing.csv", "bike_sharing_hour.csv"}) {
    auto first = ReadCsv(testutil::DatasetPath(name));
    ASSERT_TRUE(first.ok()) << name;
    std::string out = dir.File("out.csv");
    ASSERT_TRUE(WriteCsv(first->table, out).ok());
    auto second = ReadCsv(out, WithSchema(first->table.schema()));
    ASSERT_TRUE(second.ok()) << name << ": " << second.status().ToString();
    EXPECT_TRUE(first->table == second->table) << name;
    // Inferred again without the schema, the types come back the same too.
    auto third = ReadCsv(out);
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(third->table.schema(), first->table.schema()) << name;
  }
}

}  // namespace
}  // namespace plinth::table
