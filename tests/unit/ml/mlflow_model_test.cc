// MLflow model directories (ml/mlflow_model.h): an xgboost-flavor model an MLflow
// client logged scores as the booster does; what Plinth cannot score, or an MLmodel
// that points outside its directory, is refused with the file and key named.
#include "ml/mlflow_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "core/file.h"
#include "testutil/testutil.h"

namespace plinth::ml {
namespace {

constexpr const char* kColumns =
    R"('[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b"},)"
    R"( {"type": "long", "name": "c"}, {"type": "double", "name": "d"}]')";

class MlflowModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(3);
    std::normal_distribution<float> g;
    x_ = Matrix(300, 4);
    std::vector<float> y;
    for (int64_t i = 0; i < 300; ++i) {
      for (int c = 0; c < 4; ++c) {
        x_.at(i, c) = g(rng);
      }
      y.push_back(x_.at(i, 0) + 0.5f * g(rng) > 0 ? 1.0f : 0.0f);
    }
    auto kind = FindModelKind("gbdt");
    ASSERT_TRUE(kind.ok());
    auto model = (*kind)->create();
    ASSERT_TRUE(model.ok());
    FitOptions o;
    o.epochs = 10;
    ASSERT_TRUE((*model)->Fit({&x_, y, {}}, {&x_, y, {}}, o).ok());
    auto bytes = (*model)->Serialize();
    ASSERT_TRUE(bytes.ok());
    auto out = (*model)->Predict(x_);
    ASSERT_TRUE(out.ok());
    want_ = out->values;
    ASSERT_TRUE(core::AtomicWriteFile(dir_.path() + "/model.ubj", *bytes).ok());
  }
  void WriteMlmodel(const std::string& text) {
    ASSERT_TRUE(core::AtomicWriteFile(dir_.path() + "/MLmodel", text).ok());
  }
  static std::string Mlmodel(const std::string& data, const std::string& signature) {
    return "artifact_path: model\nflavors:\n  python_function:\n    loader_module: "
           "mlflow.xgboost\n  xgboost:\n    data: " +
           data + "\n    model_class: xgboost.core.Booster\n    model_format: ubj\n" + signature;
  }
  testutil::TempDir dir_;
  Matrix x_;
  std::vector<float> want_;
};

TEST_F(MlflowModelTest, XgboostFlavorScoresAsTheBooster) {
  WriteMlmodel(Mlmodel("model.ubj", std::string("signature:\n  inputs: ") + kColumns + "\n"));
  ASSERT_TRUE(IsMlflowModelDir(dir_.path()));
  auto p = Predictor::Load(dir_.path());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->task(), Task::kBinary);
  EXPECT_EQ((*p)->class_labels(), (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ((*p)->input_schema().size(), 4u);
  EXPECT_EQ((*p)->input_schema().field(2).name, "c");
  auto got = (*p)->PredictFeatures(x_);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->proba.size(), want_.size() * 2);
  for (size_t i = 0; i < want_.size(); ++i) {
    EXPECT_NEAR(got->proba[2 * i + 1], want_[i], 1e-6) << i;
  }
}

TEST_F(MlflowModelTest, WithoutASignatureTheColumnsAreXgboostsNames) {
  WriteMlmodel(Mlmodel("model.ubj", ""));
  auto p = Predictor::Load(dir_.path());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->input_schema().field(0).name, "f0");
  EXPECT_EQ((*p)->input_schema().field(3).name, "f3");
}

TEST_F(MlflowModelTest, RefusesWhatItCannotScoreOrReach) {
  struct Case {
    std::string mlmodel;
    StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {Mlmodel("../model.ubj", ""), StatusCode::kInvalidArgument, "flavors.xgboost.data"},
      {Mlmodel("/etc/passwd", ""), StatusCode::kInvalidArgument, "flavors.xgboost.data"},
      {Mlmodel("missing.ubj", ""), StatusCode::kNotFound, "missing.ubj"},
      {Mlmodel("out/model.ubj", ""), StatusCode::kInvalidArgument, "out/model.ubj"},
      {Mlmodel("MLmodel", ""), StatusCode::kInvalidArgument, "MLmodel"},
      {"flavors:\n  python_function: {}\n  sklearn:\n    pickled_model: model.pkl\n",
       StatusCode::kFailedPrecondition, "flavors python_function, sklearn"},
      {"flavors: [1, 2]\n", StatusCode::kInvalidArgument, "flavors"},
      {"flavors:\n  xgboost: {data: [x]}\n", StatusCode::kInvalidArgument, "flavors.xgboost.data"},
      {Mlmodel("model.ubj", "signature:\n  inputs: '[{\"type\": \"string\", \"name\": \"s\"}]'\n"),
       StatusCode::kFailedPrecondition, "column 's' is string"},
      {Mlmodel("model.ubj", "signature:\n  inputs: '[{\"type\": \"double\", \"name\": \"a\"}]'\n"),
       StatusCode::kInvalidArgument, "1 columns, but the model has 4 features"},
      {Mlmodel("model.ubj", "signature:\n  inputs: '[{'\n"), StatusCode::kInvalidArgument,
       "signature.inputs"},
  };
  // out -> a directory outside the model's, holding a good model file.
  testutil::TempDir outside;
  ASSERT_TRUE(core::AtomicWriteFile(outside.path() + "/model.ubj",
                                    *core::ReadFile(dir_.path() + "/model.ubj"))
                  .ok());
  ASSERT_EQ(::symlink(outside.path().c_str(), (dir_.path() + "/out").c_str()), 0);
  for (const Case& c : cases) {
    WriteMlmodel(c.mlmodel);
    auto p = Predictor::Load(dir_.path());
    ASSERT_FALSE(p.ok()) << c.mlmodel;
    EXPECT_EQ(p.status().code(), c.code) << c.mlmodel << "\n" << p.status().ToString();
    EXPECT_NE(p.status().message().find(c.message), std::string::npos) << c.mlmodel << "\n"
                                                                       << p.status().message();
  }
}

}  // namespace
}  // namespace plinth::ml
