// Tables the tests write and read back: every Plinth type with its edge cases.
#pragma once

#include <limits>

#include "table/table.h"

namespace plinth::testutil {

// Five rows of int64 (both extremes, 2^53 + 1), float64 (NaN, an infinity, a denormal-scale
// value), bool, string (empty, quotes, backslash, Unicode, a line break) and timestamp (before
// 1970, the epoch, microseconds, 2100), then a row of nulls. `float_name` names the float
// column (a name with quotes tests quoting).
inline table::Table EveryType(const std::string& float_name = "x", bool with_nan = true) {
  using table::DataType;
  std::vector<table::Column> cols;
  for (DataType t : {DataType::kInt64, DataType::kFloat64, DataType::kBool, DataType::kString,
                     DataType::kTimestamp}) {
    cols.emplace_back(t);
  }
  const int64_t ints[] = {std::numeric_limits<int64_t>::min(), -1, 0, 9007199254740993,
                          std::numeric_limits<int64_t>::max()};
  const double doubles[] = {-0.5, 1e-300,
                            with_nan ? std::numeric_limits<double>::quiet_NaN() : 3.25, 0.1,
                            -std::numeric_limits<double>::infinity()};
  const char* strings[] = {"", "plain", "quote ' and \" and \\", "ünïcødé ✓ 日本", "a,b\nc"};
  const int64_t times[] = {-86400000001, 0, 1700000000123456, 4102444800000000, 1};
  for (size_t i = 0; i < 5; ++i) {
    cols[0].AppendInt(ints[i]);
    cols[1].AppendDouble(doubles[i]);
    cols[2].AppendBool(i % 2 == 0);
    cols[3].AppendString(strings[i]);
    cols[4].AppendInt(times[i]);
  }
  for (table::Column& c : cols) {
    c.AppendNull();
  }
  return table::Table(table::Schema({{"i", DataType::kInt64},
                                     {float_name, DataType::kFloat64},
                                     {"b", DataType::kBool},
                                     {"s", DataType::kString},
                                     {"t", DataType::kTimestamp}}),
                      std::move(cols));
}

}  // namespace plinth::testutil
