#include "serving/rows.h"

#include <gtest/gtest.h>

#include <cmath>

namespace plinth::serving {
namespace {

using core::Json;
using table::DataType;

const std::vector<std::string> kNulls = {"", "NA", "NaN", "?"};

const table::Schema& Schema() {
  static const table::Schema s({{"age", DataType::kInt64},
                                {"score", DataType::kFloat64},
                                {"city", DataType::kString},
                                {"member", DataType::kBool},
                                {"seen", DataType::kTimestamp}});
  return s;
}

TEST(RowsFromJsonTest, ArraysObjectsAndColumnOrderGiveTheSameTable) {
  Json arrays = Json::parse(R"([[39, 1.5, "Paris", true, "2026-01-02T03:04:05Z"],
                                [null, "NaN", 7, 0, null]])");
  Json objects = Json::parse(R"([{"city": "Paris", "age": 39, "score": 1.5, "member": true,
                                  "seen": "2026-01-02T03:04:05Z", "unused": 1},
                                 {"city": 7, "age": "?", "score": "", "member": "false",
                                  "seen": null}])");
  std::vector<std::string> order = {"seen", "member", "city", "score", "age", "extra"};
  Json split = Json::parse(R"([["2026-01-02T03:04:05Z", true, "Paris", 1.5, 39, "x"],
                               [null, 0, "7", null, null, "y"]])");
  auto a = RowsFromJson(arrays, Schema(), nullptr, "data", 100, kNulls);
  auto o = RowsFromJson(objects, Schema(), nullptr, "data", 100, kNulls);
  auto s = RowsFromJson(split, Schema(), &order, "data", 100, kNulls);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*a, *o);
  EXPECT_EQ(*a, *s);
  ASSERT_EQ(a->num_rows(), 2);
  EXPECT_EQ(a->column(0).ints()[0], 39);
  EXPECT_TRUE(a->column(0).IsNull(1));
  EXPECT_TRUE(a->column(1).IsNull(1));  // NaN is missing, as in training's CSV
  EXPECT_EQ(a->column(2).GetString(1), "7");
  EXPECT_EQ(a->column(3).bools()[1], 0);
  EXPECT_EQ(a->column(4).ints()[0], 1767323045000000);
}

TEST(RowsFromJsonTest, ErrorsNameTheRowAndColumn) {
  auto error = [](const std::string& text, const std::vector<std::string>* columns = nullptr) {
    auto r = RowsFromJson(Json::parse(text), Schema(), columns, "data", 2, kNulls);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(error(R"({"age": 1})"), R"(data: expected an array of rows, got {"age":1})");
  EXPECT_EQ(error("[[1, 2]]"), "data[0]: expected 5 values (the model's columns), got 2");
  EXPECT_EQ(error(R"([[1, 1, "a", true, null], 5])"),
            "data[1]: expected an array of values or an object, got 5");
  EXPECT_EQ(error(R"([{"age": 1}])"), "data[0]: missing column 'score'");
  EXPECT_EQ(error(R"([[1.5, 1, "a", true, null]])"),
            "data[0].age: expected an integer (column type int64), got 1.5");
  EXPECT_EQ(error(R"([[1, "abc", "a", true, null]])"),
            R"(data[0].score: expected a number (column type float64), got "abc")");
  EXPECT_EQ(error(R"([[1, 1, ["a"], true, null]])"),
            R"(data[0].city: expected a string (column type string), got ["a"])");
  EXPECT_EQ(error(R"([[1, 1, "a", 2, null]])"),
            "data[0].member: expected true or false (column type bool), got 2");
  EXPECT_EQ(
      error(R"([[1, 1, "a", true, "yesterday"]])"),
      R"(data[0].seen: expected an ISO-8601 timestamp (column type timestamp), got "yesterday")");
  std::vector<std::string> order = {"age"};
  EXPECT_EQ(error("[[1]]", &order), "data: missing column 'score' (the model's columns: 5)");
  auto big = RowsFromJson(Json::parse("[[], [], []]"), Schema(), nullptr, "data", 2, kNulls);
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(big.status().message(), "data: 3 rows, more than the limit of 2");
}

}  // namespace
}  // namespace plinth::serving
