#include "table/column.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace plinth::table {
namespace {

// A column of `n` rows of `type`, every third-ish row null (by a seeded draw), values from
// the row number.
Column Sample(DataType type, int64_t n, uint32_t seed, bool nulls = true) {
  std::mt19937 rng(seed);
  Column c(type);
  for (int64_t i = 0; i < n; ++i) {
    if (nulls && rng() % 3 == 0) {
      c.AppendNull();
      continue;
    }
    switch (type) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        c.AppendInt(i * 7 - 3);
        break;
      case DataType::kFloat64:
        c.AppendDouble(0.5 * static_cast<double>(i) - 1);
        break;
      case DataType::kBool:
        c.AppendBool(i % 2 == 0);
        break;
      case DataType::kString:
        c.AppendString(std::string(static_cast<size_t>(i % 5), static_cast<char>('a' + i % 26)));
        break;
    }
  }
  return c;
}

// Row by row: the same nulls and values, and the same null count.
void ExpectSame(const Column& want, const Column& got) {
  ASSERT_EQ(want.size(), got.size());
  EXPECT_EQ(want.null_count(), got.null_count());
  for (int64_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want.IsNull(i), got.IsNull(i)) << "row " << i;
    if (!want.IsNull(i)) {
      EXPECT_EQ(want.FormatValue(i), got.FormatValue(i)) << "row " << i;
    }
  }
}

const DataType kTypes[] = {DataType::kInt64, DataType::kFloat64, DataType::kBool, DataType::kString,
                           DataType::kTimestamp};

// Many small columns encoded end to end and read back into one, at every alignment of the
// validity words (the live monitor's window): the same as appending them.
TEST(ColumnTest, EncodedColumnsReadBackAsAppended) {
  for (DataType type : kTypes) {
    std::string buffer;
    std::vector<int64_t> sizes;
    Column want(type);
    uint32_t seed = 1;
    for (int64_t n : {1, 3, 64, 1, 100, 0, 63, 65, 1, 200}) {
      ++seed;
      const Column part = Sample(type, n, seed, /*nulls=*/seed % 4 != 0);
      part.EncodeTo(buffer);
      want.AppendColumn(part);
      sizes.push_back(n);
    }
    Column::EncodeNulls(buffer);  // a missing column of 5 rows
    sizes.push_back(5);
    for (int i = 0; i < 5; ++i) {
      want.AppendNull();
    }
    Column got(type);
    const char* p = buffer.data();
    const char* end = buffer.data() + buffer.size();
    for (int64_t n : sizes) {
      p = got.AppendEncoded(p, end, n);
      ASSERT_NE(p, nullptr);
    }
    EXPECT_EQ(p, end);
    ExpectSame(want, got);
  }
}

TEST(ColumnTest, EncodedColumnCutShortIsRefused) {
  for (DataType type : kTypes) {
    std::string buffer;
    Sample(type, 50, 9).EncodeTo(buffer);
    for (size_t cut : {size_t{0}, size_t{1}, buffer.size() / 2, buffer.size() - 1}) {
      Column got(type);
      EXPECT_EQ(got.AppendEncoded(buffer.data(), buffer.data() + cut, 50), nullptr)
          << "cut at " << cut << " of " << buffer.size();
      EXPECT_EQ(got.size(), 0);  // nothing appended
    }
    // More rows than any buffer holds: refused, not an overflowing size.
    Column got(type);
    EXPECT_EQ(got.AppendEncoded(buffer.data(), buffer.data() + buffer.size(), int64_t{1} << 61),
              nullptr);
    // A flag that is none of the three.
    std::string bad = buffer;
    bad[0] = 7;
    EXPECT_EQ(got.AppendEncoded(bad.data(), bad.data() + bad.size(), 50), nullptr);
    EXPECT_EQ(got.size(), 0);
  }
  // String ends that fall, or pass the bytes after them.
  for (const std::vector<uint64_t>& ends :
       {std::vector<uint64_t>{2, 1, 3}, std::vector<uint64_t>{1, 2, 9}}) {
    std::string buffer(1, '\0');
    buffer.append(reinterpret_cast<const char*>(ends.data()), ends.size() * sizeof(uint64_t));
    buffer += "abc";
    Column got(DataType::kString);
    EXPECT_EQ(got.AppendEncoded(buffer.data(), buffer.data() + buffer.size(), 3), nullptr);
    EXPECT_EQ(got.size(), 0);
  }
}

// Ranges at every alignment, with and without nulls: the same rows and null count as
// appending them one by one.
TEST(ColumnTest, AppendRangeKeepsNullsAtEveryAlignment) {
  for (DataType type : kTypes) {
    for (bool nulls : {true, false}) {
      const Column from = Sample(type, 300, 3, nulls);
      for (int64_t start : {0, 1, 63, 64, 65}) {
        for (int64_t begin : {0, 5, 64, 128}) {
          for (int64_t count : {0, 1, 63, 64, 100}) {
            Column got = Sample(type, start, 4);
            Column want = got;
            got.AppendRange(from, begin, count);
            for (int64_t i = begin; i < begin + count; ++i) {
              want.AppendFrom(from, i);
            }
            ExpectSame(want, got);
          }
        }
      }
    }
  }
}

TEST(ColumnTest, TruncateCountsTheNullsLeft) {
  for (DataType type : kTypes) {
    for (int64_t n : {0, 1, 63, 64, 65, 130, 200, 299, 300}) {  // and few rows removed
      Column c = Sample(type, 300, 5);
      c.Truncate(n);
      const Column want = Sample(type, n, 5);
      ExpectSame(want, c);
      c.AppendNull();  // the bits past the end were cleared
      EXPECT_TRUE(c.IsNull(n));
    }
  }
}

}  // namespace
}  // namespace plinth::table
