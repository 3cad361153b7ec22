// The native tree evaluator against XGBoost's own predict, on real data.
#include "ml/tree_ensemble.h"

#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <random>

#include "ml/model.h"
#include "table/csv_reader.h"
#include "testutil/testutil.h"

namespace plinth::ml {
namespace {

struct Data {
  Matrix x;
  std::vector<float> y;
};

// The numeric columns of a dataset as features and `label` as the target
// (class labels mapped to 0..k-1 in order of appearance for classifiers),
// with `missing` of the feature values replaced by NaN.
Data Load(const std::string& file, const std::string& label, bool classes, double missing) {
  auto csv = table::ReadCsv(testutil::DatasetPath(file));
  EXPECT_TRUE(csv.ok()) << csv.status().ToString();
  const table::Table& t = csv->table;
  std::vector<size_t> features;
  size_t target = 0;
  for (size_t c = 0; c < t.num_columns(); ++c) {
    const table::Field& f = t.schema().field(c);
    if (f.name == label) {
      target = c;
    } else if (f.type == table::DataType::kInt64 || f.type == table::DataType::kFloat64) {
      features.push_back(c);
    }
  }
  Data d{Matrix(t.num_rows(), static_cast<int64_t>(features.size())), {}};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u;
  std::map<double, float> codes;
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    for (size_t j = 0; j < features.size(); ++j) {
      const table::Column& col = t.column(features[j]);
      const bool drop = col.IsNull(r) || u(rng) < missing;
      d.x.at(r, static_cast<int64_t>(j)) = drop ? NAN : static_cast<float>(col.GetDouble(r));
    }
    double y = t.column(target).GetDouble(r);
    if (classes) {
      y = codes.emplace(y, static_cast<float>(codes.size())).first->second;
    }
    d.y.push_back(static_cast<float>(y));
  }
  return d;
}

// XGBoost's prediction for `x` from the model bytes, through its C API.
std::vector<float> XgboostPredict(const std::string& ubj, const Matrix& x) {
  BoosterHandle h = nullptr;
  EXPECT_EQ(XGBoosterCreate(nullptr, 0, &h), 0);
  EXPECT_EQ(XGBoosterLoadModelFromBuffer(h, ubj.data(), ubj.size()), 0);
  DMatrixHandle dm = nullptr;
  EXPECT_EQ(XGDMatrixCreateFromMat(x.values.data(), static_cast<bst_ulong>(x.rows),
                                   static_cast<bst_ulong>(x.cols), NAN, &dm),
            0);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  EXPECT_EQ(
      XGBoosterPredictFromDMatrix(
          h, dm,
          R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})",
          &shape, &dim, &out),
      0)
      << XGBGetLastError();
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) {
    n *= shape[i];
  }
  std::vector<float> v(out, out + n);
  XGDMatrixFree(dm);
  XGBoosterFree(h);
  return v;
}

struct Case {
  std::string file, label, kind;
  Task task;
  int classes;
  double missing;
  nlohmann::json params;
  bool deep = false;  // trees deeper than kCompleteDepth: some are stored compact
};

class TreeEnsembleTest : public ::testing::TestWithParam<Case> {};

// Trained by XGBoost, predicted natively: every value is XGBoost's own, to
// the bit, including rows with missing values and every output transform.
TEST_P(TreeEnsembleTest, PredictsExactlyWhatXgboostPredicts) {
  const Case& c = GetParam();
  Data d = Load(c.file, c.label, c.task != Task::kRegression, c.missing);
  auto kind = FindModelKind(c.kind);
  ASSERT_TRUE(kind.ok());
  auto model = (*kind)->create();
  ASSERT_TRUE(model.ok());
  FitOptions o;
  o.task = c.task;
  o.num_classes = c.classes;
  o.epochs = c.kind == "random_forest" ? 3 : 40;  // 100 trees a round
  o.params = c.params;
  ASSERT_TRUE((*model)->Fit({&d.x, d.y, {}}, {}, o).ok());
  auto bytes = (*model)->Serialize();
  ASSERT_TRUE(bytes.ok());

  // A fresh model loaded from the bytes, as a bundle is served.
  auto loaded = (*kind)->create();
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE((*loaded)->Deserialize(*bytes, c.task, c.classes, d.x.cols).ok());
  // dart stays with XGBoost
  const bool native = !c.params.is_object() || c.params.value("booster", "") != "dart";
  EXPECT_EQ((*loaded)->PredictEngine(), native ? "native trees" : "xgboost " + XgboostVersion());
  if (native) {
    auto ensemble = TreeEnsemble::FromXgboostModel(*bytes, d.x.cols);
    ASSERT_TRUE(ensemble.ok()) << ensemble.status().ToString();
    EXPECT_EQ(ensemble->compact_trees() > 0, c.deep) << ensemble->compact_trees();
  }

  std::vector<float> want = XgboostPredict(*bytes, d.x);
  for (int threads : {1, 0}) {
    ASSERT_TRUE((*loaded)->SetPredictThreads(threads).ok());
    auto got = (*loaded)->Predict(d.x);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->values.size(), want.size());
    size_t differ = 0;
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      differ += std::memcmp(&got->values[i], &want[i], sizeof(float)) != 0;
      worst = std::max(worst, std::abs(double{got->values[i]} - want[i]) /
                                  std::max(1.0, std::abs(double{want[i]})));
    }
    if (native) {
      EXPECT_EQ(differ, 0u) << c.file << " " << c.kind << ": values that differ from XGBoost's";
    } else {
      // XGBoost's in-place predict and its DMatrix predict sum dart's
      // weighted trees in different orders: a few values differ in the last bit.
      EXPECT_LT(worst, 1e-6) << c.file << " " << c.kind;
    }
  }
  // One row at a time (a serving request) gives the same values (dart, predicted by
  // XGBoost in place, within the same last-bit tolerance as above).
  for (int64_t r = 0; r < std::min<int64_t>(d.x.rows, 50); ++r) {
    auto one = (*loaded)->Predict(TakeRows(d.x, {r}));
    ASSERT_TRUE(one.ok());
    for (int64_t k = 0; k < one->cols; ++k) {
      const float w = want[static_cast<size_t>(r * one->cols + k)];
      if (native) {
        EXPECT_EQ(one->at(0, k), w);
      } else {
        EXPECT_LT(std::abs(double{one->at(0, k)} - w) / std::max(1.0, std::abs(double{w})), 1e-6)
            << "row " << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    RealData, TreeEnsembleTest,
    ::testing::Values(
        Case{"california_housing.csv", "median_house_value", "gbdt", Task::kRegression, 2, 0.1, {}},
        Case{"bike_sharing_hour.csv", "cnt", "gbdt", Task::kRegression, 2, 0.0, {}},
        Case{"sklearn_breast_cancer.csv", "target", "gbdt", Task::kBinary, 2, 0.2, {}},
        // Fully grown (min_child_weight 0): past depth 12 on 569 rows.
        Case{"sklearn_breast_cancer.csv",
             "target",
             "random_forest",
             Task::kBinary,
             2,
             0.1,
             {},
             /*deep=*/true},
        Case{"sklearn_wine.csv", "target", "gbdt", Task::kMulticlass, 3, 0.1, {}},
        Case{"sklearn_digits.csv", "target", "gbdt", Task::kMulticlass, 10, 0.05, {}},
        Case{"sklearn_iris.csv", "target", "random_forest", Task::kMulticlass, 3, 0.0, {}},
        Case{"california_housing.csv", "median_house_value", "random_forest", Task::kRegression, 2,
             0.1, nlohmann::json{{"num_parallel_tree", 10}}, /*deep=*/true},
        Case{"bike_sharing_hour.csv", "cnt", "gbdt", Task::kRegression, 2, 0.05,
             nlohmann::json{{"grow_policy", "lossguide"}, {"max_depth", 0}, {"max_leaves", 255}},
             /*deep=*/true},
        Case{"sklearn_diabetes.csv", "target", "gbdt", Task::kRegression, 2, 0.1,
             nlohmann::json{{"booster", "dart"}, {"rate_drop", 0.1}}}),
    [](const ::testing::TestParamInfo<Case>& p) {
      return p.param.file.substr(0, p.param.file.find('.')) + "_" + p.param.kind + "_" +
             std::to_string(p.index);
    });

// What the evaluator does not cover, or cannot read, it refuses by name.
TEST(TreeEnsemble, RefusesWhatItDoesNotCover) {
  nlohmann::json model = {
      {"learner",
       {{"gradient_booster",
         {{"name", "gbtree"},
          {"model", {{"trees", nlohmann::json::array()}, {"tree_info", nlohmann::json::array()}}}}},
        {"objective", {{"name", "binary:logistic"}}},
        {"learner_model_param",
         {{"base_score", "5E-1"}, {"num_class", "0"}, {"num_feature", "2"}}}}}};
  auto ok = TreeEnsemble::FromXgboostJson(model, 2);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  float out[2];
  float x[4] = {1, 2, 3, 4};
  ok->Predict(x, 2, out);
  EXPECT_EQ(out[0], 0.5f);  // no trees: the base score

  auto with = [&](auto edit) {
    nlohmann::json m = model;
    edit(m["learner"]);
    return TreeEnsemble::FromXgboostJson(m, 2).status().ToString();
  };
  EXPECT_NE(with([](nlohmann::json& l) { l["gradient_booster"]["name"] = "dart"; }).find("dart"),
            std::string::npos);
  EXPECT_NE(with([](nlohmann::json& l) {
              l["objective"]["name"] = "count:poisson";
            }).find("count:poisson"),
            std::string::npos);
  EXPECT_NE(with([](nlohmann::json& l) {
              l["learner_model_param"]["base_score"] = "1.5";
            }).find("base_score"),
            std::string::npos);
  EXPECT_NE(TreeEnsemble::FromXgboostJson(model, 3).status().ToString().find("2 features"),
            std::string::npos);

  // One tree (the root splits into two leaves) with `edit` made to it.
  auto one_tree = [&](auto edit) {
    nlohmann::json t = {{"tree_param", {{"num_nodes", "3"}, {"size_leaf_vector", "0"}}},
                        {"left_children", {1, -1, -1}},
                        {"right_children", {2, -1, -1}},
                        {"split_indices", {0, 0, 0}},
                        {"split_conditions", {0.5, 0.0, 1.0}},
                        {"default_left", {0, 0, 0}},
                        {"split_type", {0, 0, 0}}};
    edit(t);
    return with([&](nlohmann::json& l) {
      l["gradient_booster"]["model"]["trees"] = {t};
      l["gradient_booster"]["model"]["tree_info"] = {0};
    });
  };
  EXPECT_EQ(one_tree([](nlohmann::json&) {}), "OK");
  // A child pointing back at the root is refused, not walked.
  std::string cyclic = one_tree([](nlohmann::json& t) {
    t["left_children"] = {1, 0, -1};
    t["right_children"] = {2, 0, -1};
  });
  EXPECT_NE(cyclic.find("reached twice"), std::string::npos) << cyclic;
  std::string categorical = one_tree([](nlohmann::json& t) { t["split_type"] = {1, 0, 0}; });
  EXPECT_NE(categorical.find("categorical"), std::string::npos) << categorical;
  std::string feature = one_tree([](nlohmann::json& t) { t["split_indices"] = {5, 0, 0}; });
  EXPECT_NE(feature.find("split_indices[0]"), std::string::npos) << feature;
}

}  // namespace
}  // namespace plinth::ml
