#include "table/value_parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace plinth::table {
namespace {

TEST(ValueParseTest, Int64) {
  struct Case {
    const char* text;
    bool ok;
    int64_t value;
  };
  const Case cases[] = {
      {"0", true, 0},
      {"-17", true, -17},
      {"+5", true, 5},
      {" 42 ", true, 42},
      {"007", true, 7},
      {"", false, 0},
      {"-", false, 0},
      {"1.0", false, 0},
      {"1e3", false, 0},
      {"12a", false, 0},
      {"9223372036854775807", true, INT64_MAX},
      {"-9223372036854775808", true, INT64_MIN},
      {"9223372036854775808", false, 0},
  };
  for (const auto& c : cases) {
    int64_t v = 0;
    EXPECT_EQ(ParseInt64(c.text, v), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(v, c.value) << c.text;
    }
  }
}

TEST(ValueParseTest, Float64) {
  struct Case {
    const char* text;
    bool ok;
    double value;
  };
  const Case cases[] = {
      {"1.5", true, 1.5}, {"-0.25", true, -0.25}, {"+3", true, 3},     {"1e-3", true, 1e-3},
      {".5", true, 0.5},  {"5.", true, 5.0},      {" 2.5", true, 2.5}, {"inf", true, INFINITY},
      {"1,5", false, 0},  {"abc", false, 0},      {"", false, 0},      {"+-1", false, 0},
  };
  for (const auto& c : cases) {
    double v = 0;
    EXPECT_EQ(ParseFloat64(c.text, v), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(v, c.value) << c.text;
    }
  }
  double v;
  EXPECT_TRUE(ParseFloat64("nan", v));
  EXPECT_TRUE(std::isnan(v));
}

TEST(ValueParseTest, Bool) {
  bool b;
  EXPECT_TRUE(ParseBool("True", b) && b);
  EXPECT_TRUE(ParseBool("false", b) && !b);
  EXPECT_TRUE(ParseBool("TRUE", b) && b);
  EXPECT_FALSE(ParseBool("yes", b));
  EXPECT_FALSE(ParseBool("1", b));
}

TEST(ValueParseTest, Timestamp) {
  struct Case {
    const char* text;
    bool ok;
    int64_t micros;
  };
  const Case cases[] = {
      {"1970-01-01", true, 0},
      {"2011-01-01", true, 1293840000LL * 1000000},
      {"2013-01-01 05:00:00", true, (1356998400LL + 5 * 3600) * 1000000},
      {"2013-01-01T05:00:00Z", true, (1356998400LL + 5 * 3600) * 1000000},
      {"2013-01-01T05:00:00+01:00", true, (1356998400LL + 4 * 3600) * 1000000},
      {"2013-01-01T05:00:00.25", true, (1356998400LL + 5 * 3600) * 1000000 + 250000},
      {"2013-01-01 05:00", true, (1356998400LL + 5 * 3600) * 1000000},
      {"1969-12-31", true, -86400LL * 1000000},
      {"2012-02-29", true, 1330473600LL * 1000000},
      {"2013-02-29", false, 0},
      {"2013-13-01", false, 0},
      {"2013-1-01", false, 0},
      {"2013-01-01 25:00:00", false, 0},
      {"2013-01-01x", false, 0},
      {"20130101", false, 0},
  };
  for (const auto& c : cases) {
    int64_t v = 0;
    EXPECT_EQ(ParseTimestamp(c.text, v), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(v, c.micros) << c.text;
    }
  }
}

TEST(ValueParseTest, TimestampFormatsBack) {
  for (const char* text :
       {"2013-01-01 05:00:00", "1969-07-20 20:17:40", "2000-02-29 23:59:59.000001"}) {
    int64_t v;
    ASSERT_TRUE(ParseTimestamp(text, v));
    EXPECT_EQ(FormatTimestamp(v, false), text);
  }
  EXPECT_EQ(FormatTimestamp(0, true), "1970-01-01");
  int64_t first;
  ASSERT_TRUE(ParseTimestamp("0001-01-01 00:00:00.5", first));
  EXPECT_EQ(FormatTimestamp(first, false), "0001-01-01 00:00:00.500000");
  std::string out = "x";
  AppendTimestamp(out, first, true);
  EXPECT_EQ(out, "x0001-01-01");
}

// The digits written by hand agree with gmtime and strftime across the years 1 to 9999.
TEST(ValueParseTest, TimestampFormatsAsGmtimeDoes) {
  std::mt19937_64 rng(7);
  int64_t lo;
  int64_t hi;
  ASSERT_TRUE(ParseTimestamp("0001-01-01", lo));
  ASSERT_TRUE(ParseTimestamp("9999-12-31 23:59:59.999999", hi));
  std::uniform_int_distribution<int64_t> any(lo, hi);
  for (int i = 0; i < 20000; ++i) {
    const int64_t us = i == 0 ? lo : i == 1 ? hi : any(rng);
    const int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
    const time_t t = secs;
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    std::string want(buf, n);
    if (tm.tm_year + 1900 < 1000) {
      want = std::string(4 - std::to_string(tm.tm_year + 1900).size(), '0') + want;
    }
    if (const int64_t frac = us - secs * 1000000; frac != 0) {
      std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
      want += buf;
    }
    ASSERT_EQ(FormatTimestamp(us, false), want) << us;
  }
}

TEST(ValueParseTest, Utf8) {
  size_t bad = 0;
  EXPECT_TRUE(IsValidUtf8("plain ascii text that is long", bad));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", bad));
  EXPECT_FALSE(IsValidUtf8("ab\xC3", bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF", bad));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80", bad));  // surrogate
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xFF", bad));
  EXPECT_EQ(bad, 8u);
}

}  // namespace
}  // namespace plinth::table
