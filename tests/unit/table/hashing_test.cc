#include "table/hashing.h"

#include <gtest/gtest.h>

#include "table/csv_reader.h"

namespace plinth::table {
namespace {

TEST(HashingTest, FirstOccurrenceGroupsEqualRowsExactly) {
  auto r = ReadCsvText("a,b\n1,x\n2,y\n1,x\n,z\n,z\n1,y\n0.0,q\n", {}, "t");
  ASSERT_TRUE(r.ok());
  std::vector<size_t> both = {0, 1};
  EXPECT_EQ(FirstOccurrence(r->table, both), (std::vector<int64_t>{0, 1, 0, 3, 3, 5, 6}));
  std::vector<size_t> a = {0};
  EXPECT_EQ(FirstOccurrence(r->table, a), (std::vector<int64_t>{0, 1, 0, 3, 3, 0, 6}));
}

TEST(HashingTest, NegativeZeroHashesAsZero) {
  Column c(DataType::kFloat64);
  c.AppendDouble(0.0);
  c.AppendDouble(-0.0);
  c.AppendNull();
  auto h = HashColumn(c);
  EXPECT_EQ(h[0], h[1]);
  EXPECT_EQ(h[2], kNullHash);
}

}  // namespace
}  // namespace plinth::table
