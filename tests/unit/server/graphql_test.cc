// MLflow's /graphql on plinth server: the parser's syntax and limits, and the
// executor over a real SQLite store (MLflow's own tests in e2e.mlflow_upstream
// cover the answers its UI relies on; these cover the edges they leave).
#include "server/graphql.h"

#include <gtest/gtest.h>

#include <string>

#include "core/json.h"
#include "server/mlflow_api.h"
#include "testutil/testutil.h"

namespace plinth::server {
namespace {

using core::Json;

TEST(GraphqlParseTest, ReadsOperationsFragmentsVariablesAndStrings) {
  auto doc = graphql::Parse(R"(
    # a comment
    query Q($id: String = "7", $n: [Int!]!) @component(name: "X") {
      a: mlflowGetRun(input: {runId: $id, list: [1, -2.5e3, true, null, ENUM]}) {
        ...F @include(if: true)
        ... on MlflowGetRunResponse { run { info { runId } } }
      }
    }
    fragment F on MlflowGetRunResponse { apiError { code } }
    mutation { test(inputString: "a\"\u00e9\uD83D\uDE00") { output } }
    { b: test(inputString: """
        block
          indented
    """) { output } }
  )");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->operations.size(), 3u);
  ASSERT_EQ(doc->fragments.size(), 1u);
  const graphql::Operation& q = doc->operations[0];
  EXPECT_EQ(q.type, "query");
  EXPECT_EQ(q.name, "Q");
  ASSERT_EQ(q.variables.size(), 2u);
  EXPECT_EQ(q.variables[0].default_value->text, "7");
  const graphql::Selection& a = q.selections.at(0);
  EXPECT_EQ(a.alias, "a");
  EXPECT_EQ(a.name, "mlflowGetRun");
  const graphql::Value& list = a.args.at(0).second.items.at(1);
  ASSERT_EQ(list.items.size(), 5u);
  EXPECT_EQ(list.items[1].kind, graphql::Value::Kind::kFloat);
  EXPECT_EQ(list.items[4].kind, graphql::Value::Kind::kEnum);
  EXPECT_EQ(a.selections.at(0).kind, graphql::Selection::Kind::kSpread);
  EXPECT_EQ(a.selections.at(1).type_condition, "MlflowGetRunResponse");
  EXPECT_EQ(doc->operations[1].selections[0].args[0].second.text, "a\"\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(doc->operations[2].selections[0].args[0].second.text, "block\n  indented");
}

TEST(GraphqlParseTest, RefusesBadSyntaxWithItsPlace) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"", "Unexpected <EOF>."},
           Case{"{ a ", "Expected Name, found <EOF>. (line 1, column 5)"},
           Case{"{}", "Expected Name, found \"}\"."},
           Case{"query {\n a(x: \"unterminated) }", "Unterminated string. (line 2"},
           Case{"{ a(x: 12ab) }", "Invalid number"},
           Case{"{ a(x: \"\\q\") }", "Invalid character escape sequence"},
           Case{"{ a(x: \"\\uD800\") }", "Invalid Unicode escape sequence"},
           Case{"fragment on on T { a }", "Unexpected Name \"on\"."},
           Case{"schema { query: Q }", "Unexpected Name \"schema\"."},
           Case{"{ a(x: $v) }\n\x01", "a byte that is not a GraphQL token"},
       }) {
    auto doc = graphql::Parse(c.text);
    ASSERT_FALSE(doc.ok()) << c.text;
    EXPECT_NE(doc.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << doc.status().message();
    EXPECT_TRUE(doc.status().message().starts_with("Syntax Error: ")) << doc.status().message();
  }
}

TEST(GraphqlParseTest, LimitsDepthAndSizeBeforeRecursing) {
  std::string deep = "{ a(x: " + std::string(100000, '[') + "1" + std::string(100000, ']') + ") }";
  auto d = graphql::Parse(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("deeper than 32"), std::string::npos);
  std::string nested;
  for (int i = 0; i < 40; ++i) {
    nested += "{ a ";
  }
  auto n = graphql::Parse(nested + std::string(40, '}'));
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("deeper than 32"), std::string::npos);
  auto big = graphql::Parse("{ a }" + std::string(graphql::kMaxDocumentBytes, ' '));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("at most 262144"), std::string::npos);
}

class GraphqlApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = MlflowApi::Create({"sqlite:///" + dir_.File("m.db"), dir_.File("art"), "test"});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    api_ = std::move(*created);
  }

  http::Response Call(const std::string& method, const std::string& path, const std::string& body) {
    http::Request r;
    r.method = method;
    r.path = r.target = path;
    r.headers.emplace_back("content-type", "application/json");
    r.body = body;
    return api_->HandleForTesting(std::move(r));
  }

  // The answer to a query (with its variables) as JSON.
  Json Query(const std::string& query, const Json& variables = nullptr,
             const std::string& operation = "") {
    Json body = {{"query", query}, {"variables", variables}};
    if (!operation.empty()) {
      body["operationName"] = operation;
    }
    http::Response r = Call("POST", "/graphql", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Json::parse(r.body);
  }

  testutil::TempDir dir_;
  std::unique_ptr<MlflowApi> api_;
};

TEST_F(GraphqlApiTest, AnswersFromTheRestRoutesWithProtoDefaults) {
  ASSERT_EQ(Call("POST", "/api/2.0/mlflow/experiments/create", R"({"name": "e"})").status, 200);
  http::Response run =
      Call("POST", "/api/2.0/mlflow/runs/create", R"({"experiment_id": "1", "start_time": 5})");
  ASSERT_EQ(run.status, 200) << run.body;
  std::string run_id = Json::parse(run.body)["run"]["info"]["run_id"];
  Json out = Query(R"(
    query Q($r: String!) {
      mlflowGetRun(input: {runId: $r}) {
        run { info { runId startTime endTime status }
              data { metrics { key } }
              inputs { datasetInputs { dataset { name } } }
              experiment { name __typename }
              modelVersions { name } }
      }
    })",
                   Json{{"r", run_id}});
  EXPECT_TRUE(out["errors"].is_null()) << out.dump();
  const Json& r = out["data"]["mlflowGetRun"]["run"];
  EXPECT_EQ(r["info"]["runId"], run_id);
  EXPECT_EQ(r["info"]["startTime"], "5");  // LongString
  EXPECT_EQ(r["info"]["endTime"], "0");    // unset: proto2's default
  EXPECT_EQ(r["info"]["status"], "RUNNING");
  EXPECT_EQ(r["data"]["metrics"], Json::array());
  EXPECT_EQ(r["inputs"]["datasetInputs"], Json::array());
  EXPECT_EQ(r["experiment"]["name"], "e");
  EXPECT_EQ(r["experiment"]["__typename"], "MlflowExperiment");
  EXPECT_EQ(r["modelVersions"], Json::array());

  // A failing route: its field is null, its message in errors, the others answered.
  Json partial =
      Query(R"({ a: mlflowGetExperiment(input: {experimentId: "404"}) { experiment { name } }
                            b: test(inputString: "x") { output } })");
  EXPECT_TRUE(partial["data"]["a"].is_null());
  EXPECT_EQ(partial["data"]["b"]["output"], "x");
  EXPECT_EQ(partial["errors"], Json::array({"No Experiment with id=404 exists"}));
}

TEST_F(GraphqlApiTest, RefusesWhatDoesNotFitTheSchema) {
  struct Case {
    const char* query;
    const char* error;
  };
  for (const Case& c : {
           Case{"{ nope { a } }", "Cannot query field 'nope' on type 'Query'."},
           Case{"{ __schema { types { name } } }", "answers no introspection"},
           Case{"{ mlflowSearchRuns(input: {}) { runs { info { runId } } } }",
                "Cannot query field 'mlflowSearchRuns' on type 'Query'."},
           Case{"{ mlflowGetRun(input: {runId: 1}) { run { info { runId } } } }",
                "String cannot represent a non string value: 1"},
           Case{"{ mlflowGetRun(input: {bad: \"1\"}) { run { info { runId } } } }",
                "Field 'bad' is not defined by type 'MlflowGetRunInput'."},
           Case{"{ mlflowGetRun(other: {}) { run { info { runId } } } }",
                "Unknown argument 'other' on field 'Query.mlflowGetRun'."},
           Case{"{ mlflowGetRun(input: {runId: \"1\"}) }", "must have a selection of subfields"},
           Case{"{ test(inputString: \"a\") { output { x } } }", "must not have a selection"},
           Case{"mutation { mlflowSearchRuns(input: {runViewType: SOME}) { runs { info { runId } } "
                "} }",
                "Value SOME does not exist in 'MlflowViewType' enum."},
           Case{"mutation { mlflowSearchRuns(input: {maxResults: 99999999999}) { nextPageToken } }",
                "Int cannot represent non 32-bit signed integer value"},
           Case{"{ test(inputString: \"a\") { ...F } }", "Unknown fragment 'F'."},
           Case{"{ test(inputString: \"a\") { ...F } } fragment F on Nope { output }",
                "Unknown type 'Nope'."},
           Case{"{ x: test(inputString: \"a\") { output } x: testMutation { output } }",
                "Fields 'x' conflict"},
           Case{"subscription { test { output } }", "subscription"},
           Case{"query A { test { output } } query B { test { output } }",
                "Must provide operation name"},
       }) {
    Json out = Query(c.query);
    EXPECT_TRUE(out["data"].is_null()) << c.query << " -> " << out.dump();
    ASSERT_TRUE(out["errors"].is_array()) << c.query << " -> " << out.dump();
    EXPECT_NE(out["errors"][0].get<std::string>().find(c.error), std::string::npos)
        << c.query << " -> " << out.dump();
  }
  // A fragment that spreads itself is refused; fragments that spread the next one twice,
  // 40 deep, are expanded once each (before, 2^40 expansions: the server stalled).
  Json cyclic = Query("{ test(inputString: \"a\") { ...F } } fragment F on Test { ...F output }");
  EXPECT_TRUE(cyclic["data"].is_null()) << cyclic.dump();
  EXPECT_NE(cyclic["errors"][0].get<std::string>().find("Cannot spread fragment 'F' within itself"),
            std::string::npos)
      << cyclic.dump();
  std::string doubling = "query { ...F0 }";
  for (int k = 0; k < 30; ++k) {
    doubling += " fragment F" + std::to_string(k) + " on Query { ...F" + std::to_string(k + 1) +
                " ...F" + std::to_string(k + 1) + " }";
  }
  doubling += " fragment F30 on Query { __typename }";
  Json flat = Query(doubling);
  EXPECT_EQ(flat["data"], Json::parse(R"({"__typename": "Query"})")) << flat.dump();
  // One response key asked with two different arguments is a conflict, not a silent merge.
  Json conflict =
      Query("{ test(inputString: \"a\") { output } test(inputString: \"b\") { output } }");
  EXPECT_TRUE(conflict["data"].is_null()) << conflict.dump();
  EXPECT_NE(conflict["errors"][0].get<std::string>().find("differing arguments"),
            std::string::npos);
  // Operation names, @skip, the echo fields and variables coerced like literals.
  Json picked = Query(
      "query A { test(inputString: \"a\") { output } } "
      "query B { test(inputString: \"b\") { output @skip(if: true) __typename } }",
      nullptr, "B");
  EXPECT_EQ(picked["data"], Json::parse(R"({"test": {"__typename": "Test"}})")) << picked.dump();
  Json var = Query("query($v: Int) { mlflowGetRun(input: {runId: $v}) { apiError { code } } }",
                   Json{{"v", 5}});
  EXPECT_NE(var["errors"][0].get<std::string>().find("String cannot represent"), std::string::npos)
      << var.dump();
  // The request itself: not JSON, no query, variables not an object.
  for (const char* body : {"[1]", "{\"query\": 5}", "{\"query\": \"{a}\", \"variables\": [1]}"}) {
    http::Response r = Call("POST", "/graphql", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_NE(r.body.find("INVALID_PARAMETER_VALUE"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Call("DELETE", "/graphql", "").status, 405);
  // GET takes the same through the query string.
  http::Request get;
  get.method = "GET";
  get.path = get.target = "/ajax-api/graphql";
  get.query = {{"query", "query($s: String) { test(inputString: $s) { output } }"},
               {"variables", R"({"s": "g"})"}};
  http::Response g = api_->HandleForTesting(std::move(get));
  EXPECT_EQ(Json::parse(g.body)["data"]["test"]["output"], "g") << g.body;
}

}  // namespace
}  // namespace plinth::server
