#include "ml/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ml/bundle.h"
#include "testutil/testutil.h"

namespace plinth::ml {
namespace {

// y = 1 when x0 + noise > 0: learnable, with noise so validation loss turns.
struct Data {
  Matrix x;
  std::vector<float> y;
};

Data Make(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  Data d{Matrix(n, 4), {}};
  for (int64_t i = 0; i < n; ++i) {
    for (int c = 0; c < 4; ++c) {
      d.x.at(i, c) = g(rng);
    }
    d.y.push_back(d.x.at(i, 0) + 0.8f * g(rng) > 0 ? 1.0f : 0.0f);
  }
  return d;
}

class ModelKindTest : public ::testing::TestWithParam<std::string> {};

// The validation outputs a fit reports are exactly what the kept model predicts.
TEST_P(ModelKindTest, ReportedValidationOutputsAreTheKeptModels) {
  Data train = Make(2000, 1), valid = Make(500, 2);
  for (int patience : {0, 2}) {
    auto kind = FindModelKind(GetParam());
    ASSERT_TRUE(kind.ok());
    auto model = (*kind)->create();
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    FitOptions o;
    o.epochs = 60;
    o.learning_rate = GetParam() == "mlp" ? 0.05 : 0.5;  // overfit soon: early stopping fires
    o.early_stopping_patience = patience;
    auto r = (*model)->Fit({&train.x, train.y, {}}, {&valid.x, valid.y, {}}, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto again = (*model)->Predict(valid.x);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(r->validation_output.values, again->values) << GetParam() << " " << patience;
    EXPECT_EQ(r->validation_output.rows, 500);
  }
}

#ifdef PLINTH_WITH_TORCH
// The mlp's layer widths, dropout and weight decay are checked before
// libtorch sees them, each with its key named.
TEST(MlpParamsTest, UnusableValuesNameTheKey) {
  auto kind = FindModelKind("mlp");
  ASSERT_TRUE(kind.ok());
  Data train = Make(100, 1), valid = Make(50, 2);
  for (auto [params, key] : {std::pair{core::Json{{"hidden_layers", {0, -5}}}, "hidden_layers"},
                             std::pair{core::Json{{"hidden_layers", {100000}}}, "hidden_layers"},
                             std::pair{core::Json{{"dropout", 5}}, "dropout"},
                             std::pair{core::Json{{"dropout", -0.1}}, "dropout"},
                             std::pair{core::Json{{"weight_decay", -1}}, "weight_decay"}}) {
    auto model = (*kind)->create();
    ASSERT_TRUE(model.ok());
    FitOptions o;
    o.epochs = 2;
    o.params = params;
    auto r = (*model)->Fit({&train.x, train.y, {}}, {&valid.x, valid.y, {}}, o);
    ASSERT_FALSE(r.ok()) << core::DumpJson(params, false);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("model.params.") + key), std::string::npos)
        << r.status().message();
  }
}
#endif

std::vector<std::string> KindNames() {
  std::vector<std::string> names;
  for (const ModelKind& k : ModelKinds()) {
    names.emplace_back(k.name);
  }
  return names;
}

INSTANTIATE_TEST_SUITE_P(Kinds, ModelKindTest, ::testing::ValuesIn(KindNames()));

TEST(ImportModelTest, WrongTypedSchemaMembersNameTheKey) {
  testutil::TempDir dir;
  const core::Json inputs = core::Json::array({{{"name", "x"}, {"type", "float64"}}});
  struct Case {
    const char* key;
    core::Json value;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"task", 1, "schema.json: key 'task': expected a string, got 1"},
           {"name", core::Json::array(), "schema.json: key 'name': expected a string, got []"},
           {"target", false, "schema.json: key 'target': expected a string, got false"},
           {"threshold", "high",
            "schema.json: key 'threshold': expected a number, got \"high\""}}) {
    core::Json schema = {{"task", "regression"}, {"inputs", inputs}};
    schema[c.key] = c.value;
    auto p = ImportModel("xgboost", "", schema, "schema.json", dir.File("bundle"));
    ASSERT_FALSE(p.ok()) << c.key;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.key;
    EXPECT_EQ(p.status().message(), c.message);
  }
}

}  // namespace
}  // namespace plinth::ml
