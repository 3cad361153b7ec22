#include "serving/protocols.h"

#include <gtest/gtest.h>

namespace plinth::serving {
namespace {

using table::DataType;

const table::Schema& Schema() {
  static const table::Schema s(
      {{"age", DataType::kInt64}, {"score", DataType::kFloat64}, {"city", DataType::kString}});
  return s;
}

InputLimits Limits() { return InputLimits{100, {"", "NA", "?"}}; }

table::Table Expected() {
  Result<table::Table> t =
      ReadPredictBody(R"({"data": [[39, 1.5, "Paris"], [null, 2, "Rome"]]})", Schema(), Limits());
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(*t);
}

Result<table::Table> Invoke(std::string_view body, std::string_view type = "application/json") {
  return ReadInvocationsBody(body, type, Schema(), Limits());
}

void ExpectError(const Status& s, StatusCode code, std::string_view part) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message() << " lacks " << part;
}

TEST(InvocationsTest, EveryBodyShapeReadsTheSameRows) {
  const table::Table want = Expected();
  for (const char* body : {
           R"({"dataframe_split": {"columns": ["city", "age", "score"],
                                   "data": [["Paris", 39, 1.5], ["Rome", "NA", 2]]}})",
           R"({"dataframe_records": [{"age": 39, "score": 1.5, "city": "Paris"},
                                     {"age": null, "score": 2, "city": "Rome"}]})",
           R"({"instances": [[39, 1.5, "Paris"], [null, 2.0, "Rome"]], "params": {}})",
           R"({"inputs": {"score": [1.5, 2], "city": ["Paris", "Rome"], "age": [39, null]}})",
           R"({"inputs": [[39, 1.5, "Paris"], ["?", 2, "Rome"]]})"}) {
    Result<table::Table> got = Invoke(body);
    ASSERT_TRUE(got.ok()) << body << ": " << got.status().ToString();
    EXPECT_EQ(*got, want) << body;
  }
  Result<table::Table> csv =
      Invoke("city,age,score,extra\nParis,39,1.5,x\nRome,,2,y\n", "text/csv; charset=UTF-8");
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  for (const table::Field& f : Schema().fields()) {
    EXPECT_EQ(*csv->ColumnByName(f.name), *want.ColumnByName(f.name)) << f.name;
  }
}

TEST(InvocationsTest, BadBodiesAreNamed) {
  ExpectError(Invoke("{}").status(), StatusCode::kInvalidArgument, "exactly one of");
  ExpectError(Invoke("[1]").status(), StatusCode::kInvalidArgument, "exactly one of");
  ExpectError(Invoke(R"({"instances": [], "inputs": []})").status(), StatusCode::kInvalidArgument,
              R"(both "instances" and "inputs")");
  ExpectError(Invoke(R"({"dataframe_split": {"columns": [1], "data": []}})").status(),
              StatusCode::kInvalidArgument, "dataframe_split.columns: expected column names");
  ExpectError(Invoke(R"({"dataframe_split": {"columns": ["age"], "data": [[1]]}})").status(),
              StatusCode::kInvalidArgument, "missing column 'score'");
  ExpectError(Invoke(R"({"inputs": {"age": [1], "score": [1, 2], "city": ["a"]}})").status(),
              StatusCode::kInvalidArgument, "inputs.score: 2 values, the columns before have 1");
  ExpectError(Invoke("x", "text/plain").status(), StatusCode::kUnimplemented,
              "Content-Type 'text/plain'");
  ExpectError(Invoke("{}", "application/json; charset=latin-1").status(),
              StatusCode::kUnimplemented, "charset=latin-1");
  ExpectError(Invoke("age,score\n1,2\n", "text/csv").status(), StatusCode::kInvalidArgument,
              "text/csv body: missing column 'city'");
  ExpectError(Invoke("age,score,city\nx,2,a\n", "text/csv").status(), StatusCode::kInvalidArgument,
              "text/csv body:2: column \"age\"");
  ExpectError(Invoke("", "text/csv").status(), StatusCode::kInvalidArgument, "text/csv body");
  std::string many = "age,score,city\n";
  for (int i = 0; i < 101; ++i) {
    many += "1,2,a\n";
  }
  ExpectError(Invoke(many, "text/csv").status(), StatusCode::kResourceExhausted,
              "101 rows, more than the limit of 100");
}

TEST(InferTest, ColumnTensorsAndRowTensorReadTheSameRows) {
  const table::Table want = Expected();
  Result<InferRequest> columns = ReadInferBody(R"({"id": "a", "inputs": [
      {"name": "city", "datatype": "BYTES", "shape": [2, 1], "data": [["Paris"], ["Rome"]]},
      {"name": "age", "datatype": "INT32", "shape": [2], "data": [39, null]},
      {"name": "score", "datatype": "FP32", "shape": [2], "data": [1.5, 2]}]})",
                                               Schema(), Limits());
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  EXPECT_EQ(columns->rows, want);
  EXPECT_EQ(columns->id, "a");
  EXPECT_TRUE(columns->want_predictions && columns->want_probabilities);
  Result<InferRequest> rows = ReadInferBody(R"({"inputs": [{"name": "x", "datatype": "BYTES",
      "shape": [2, 3], "data": ["39", "1.5", "Paris", "NA", "2", "Rome"]}],
      "outputs": [{"name": "probabilities"}]})",
                                            Schema(), Limits());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows, want);
  EXPECT_FALSE(rows->want_predictions);
  EXPECT_TRUE(rows->want_probabilities);
}

TEST(InferTest, BadTensorsAreNamed) {
  auto err = [](std::string_view body) { return ReadInferBody(body, Schema(), Limits()).status(); };
  ExpectError(err(R"({"inputs": []})"), StatusCode::kInvalidArgument, "inputs: expected");
  ExpectError(err(R"({"inputs": [{"name": "x"}]})"), StatusCode::kInvalidArgument,
              R"(inputs[0]: missing "datatype")");
  ExpectError(err(R"({"inputs": [{"name": "x", "datatype": "FP8", "shape": [1], "data": [1]}]})"),
              StatusCode::kInvalidArgument, "inputs[0] ('x').datatype: expected one of");
  ExpectError(
      err(R"({"inputs": [{"name": "x", "datatype": "UINT8", "shape": [1, 3], "data": [1, -2, 3]}]})"),
      StatusCode::kInvalidArgument, "inputs[0] ('x').data[1]: expected a UINT8 value, got -2");
  ExpectError(err(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1099511627776,
                  1099511627776], "data": [1]}]})"),
              StatusCode::kInvalidArgument, "data has 1");
  ExpectError(err(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [-1], "data": []}]})"),
              StatusCode::kInvalidArgument, "expected sizes of 0 or more");
  std::string deep = R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": )";
  deep += std::string(40, '[') + "1" + std::string(40, ']') + "}]}";
  ExpectError(err(deep), StatusCode::kInvalidArgument, "nested more than 32 deep");
  ExpectError(err(R"({"inputs": [{"name": "age", "datatype": "INT64", "shape": [1], "data": [1]}],
                      "outputs": [{"name": "logits"}]})"),
              StatusCode::kInvalidArgument, "outputs[0].name: no output 'logits'");
  ExpectError(err(R"({"id": 3, "inputs": []})"), StatusCode::kInvalidArgument,
              "id: expected a string");
  std::string zeros = "0";
  for (int i = 1; i < 303; ++i) {
    zeros += ",0";
  }
  ExpectError(err(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [101, 3], "data": [)" +
                  zeros + "]}]}"),
              StatusCode::kResourceExhausted, "101 rows, more than the limit of 100");
}

TEST(TensorTypeTest, ColumnTypesMapToV2Datatypes) {
  EXPECT_EQ(TensorType(DataType::kFloat64), "FP64");
  EXPECT_EQ(TensorType(DataType::kInt64), "INT64");
  EXPECT_EQ(TensorType(DataType::kBool), "BOOL");
  EXPECT_EQ(TensorType(DataType::kString), "BYTES");
  EXPECT_EQ(TensorType(DataType::kTimestamp), "BYTES");
}

}  // namespace
}  // namespace plinth::serving

namespace plinth::serving {
namespace {

// /predict's simdjson path gives the general reader's rows, or leaves the
// body to it (then the same error), on bodies chosen to differ if either slipped.
TEST(PredictBodyTest, FastPathAgreesWithTheGeneralReader) {
  for (const char* body : {
           R"({"data": [[39, 1.5, "Paris"], [null, 2, "Rome"]]})",
           R"({"data": [{"age": 39, "score": 1.5, "city": "Paris", "extra": [1]}]})",
           R"({"data": [[1.0, -0, "a"], [1e2, 2E-3, "\u00e9\n"], ["7", "2.5", "NA"]]})",
           R"({"data": [["?", "", "?"], [" 3", "x", "b"]]})",
           R"({"data": [[9223372036854775807, 1, "a"], [9223372036854775808, 1, "a"]]})",
           R"({"data": [[1, 1, 5]]})",
           R"({"data": [[1.5, 1, "a"]]})",
           R"({"data": [{"age": 1, "age": 2, "score": 1, "city": "a"}]})",
           R"({"data": [[1, 1, "a"]], "data": [[2, 2, "b"]]})",
           R"({"rows": [[1, 1, "a"]], "data": [[3, 3, "c"]]})",
           R"({"data": [[1, 1, "a"]]} trailing)",
           R"({"data": [[1, 1]]})",
           R"({"data": [{"age": 1, "score": 2}]})",
           R"({"data": []})",
           R"([1, 2])",
       }) {
    Result<table::Table> fast = ReadPredictBody(body, Schema(), Limits());
    Result<table::Table> general = ReadPredictBody(body, Schema(), Limits(), /*fast=*/false);
    ASSERT_EQ(fast.ok(), general.ok()) << body;
    if (fast.ok()) {
      EXPECT_TRUE(*fast == *general) << body;
    } else {
      EXPECT_EQ(fast.status().message(), general.status().message()) << body;
    }
  }
}

}  // namespace
}  // namespace plinth::serving
