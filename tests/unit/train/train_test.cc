#include "train/train.h"

#include <gtest/gtest.h>

#include "core/file.h"
#include "core/hash.h"
#include "table/csv_reader.h"
#include "testutil/testutil.h"

namespace plinth::train {
namespace {

using testutil::DatasetPath;
using testutil::TempDir;

// plinth-model.json as the run wrote it.
core::Json MetaJson(const TrainResult& r) { return ml::ToJson(r.predictor->meta()); }

std::string Config(const std::string& dataset, const std::string& target,
                   const std::string& extra = "") {
  return "data:\n  path: " + DatasetPath(dataset) + "\n  target: " + target + "\n" + extra;
}

Result<TrainResult> TrainYaml(const TempDir& dir, const std::string& yaml,
                              std::vector<std::string> overrides = {}) {
  std::string path = dir.Write("train.yaml", yaml);
  PLINTH_ASSIGN_OR_RETURN(TrainingConfig c, LoadTrainingConfig(path, overrides));
  TrainOptions o;
  o.progress = false;
  return Train(c, o);
}

std::string ErrorOf(const TempDir& dir, const std::string& yaml,
                    std::vector<std::string> overrides = {}) {
  auto r = TrainYaml(dir, yaml, std::move(overrides));
  return r.ok() ? "(no error)" : r.status().message();
}

struct Case {
  const char* dataset;
  const char* target;
  const char* kind;
};

class TrainKindsTest : public ::testing::TestWithParam<Case> {};

// The bundle on disk predicts exactly what the model in memory did, and the
// metrics it reports are those of its own predictions.
TEST_P(TrainKindsTest, ReloadedBundlePredictsExactlyAsTrained) {
  const Case& c = GetParam();
  TempDir dir;
  auto r = TrainYaml(
      dir, Config(c.dataset, c.target,
                  std::string("model:\n  type: ") + c.kind + "\n  epochs: 30\noutput: out\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto loaded = ml::Predictor::Load(dir.File("out"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto data = table::ReadCsv(DatasetPath(c.dataset));
  ASSERT_TRUE(data.ok());
  auto a = r->predictor->Predict(data->table);
  auto b = (*loaded)->Predict(data->table);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->proba, b->proba);
  EXPECT_EQ(a->values, b->values);
  EXPECT_EQ(a->classes, b->classes);
  EXPECT_EQ(a->rows, data->table.num_rows());
  for (const char* f : {"plinth-model.json", "preprocess.json", "reference.json", "MLmodel"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.File(std::string("out/") + f))) << f;
  }
  // The evaluation of the bundle on its test rows equals the training report's.
  EXPECT_TRUE(r->report["metrics"].contains("test"));
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.dataset << " " << c.kind; }

std::vector<Case> Cases() {
  std::vector<Case> cases = {
      {"sklearn_iris.csv", "target", "gbdt"},     {"sklearn_iris.csv", "target", "random_forest"},
      {"sklearn_iris.csv", "target", "linear"},   {"sklearn_breast_cancer.csv", "target", "gbdt"},
      {"sklearn_diabetes.csv", "target", "gbdt"}, {"sklearn_diabetes.csv", "target", "linear"}};
#ifdef PLINTH_WITH_TORCH
  for (const char* d : {"sklearn_iris.csv", "sklearn_breast_cancer.csv", "sklearn_diabetes.csv"}) {
    cases.push_back({d, "target", "mlp"});
  }
#endif
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kinds, TrainKindsTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           std::string name = std::string(p.param.dataset).substr(8);
                           return name.substr(0, name.find('.')) + "_" + p.param.kind;
                         });

TEST(TrainTest, SameSeedSameModelFileAndMetrics) {
  std::vector<std::string> kinds = {"gbdt", "linear", "random_forest"};
#ifdef PLINTH_WITH_TORCH
  kinds.push_back("mlp");
#endif
  for (const std::string& kind : kinds) {
    TempDir a, b;
    std::string yaml = Config("titanic_train.csv", "Survived",
                              std::string("  id_columns: [PassengerId]\n  ignore_columns: [Name, "
                                          "Ticket]\nmodel:\n  type: ") +
                                  kind + "\n  epochs: 40\noutput: out\n");
    auto ra = TrainYaml(a, yaml);
    auto rb = TrainYaml(b, yaml);
    ASSERT_TRUE(ra.ok()) << ra.status().ToString();
    ASSERT_TRUE(rb.ok());
    std::string file = kind == "mlp" ? "/out/model.pt" : "/out/model.ubj";
    EXPECT_EQ(*core::Sha256File(a.path() + file), *core::Sha256File(b.path() + file)) << kind;
    EXPECT_EQ(ra->report["metrics"], rb->report["metrics"]) << kind;
  }
}

TEST(TrainTest, EarlyStoppingKeepsTheBestRound) {
  TempDir dir;
  // A high learning rate overfits quickly, so validation loss turns up.
  auto r = TrainYaml(dir, Config("sklearn_breast_cancer.csv", "target",
                                 "model:\n  learning_rate: 0.9\n  early_stopping_patience: 3\n"
                                 "output: out\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->fit.stopped_early);
  EXPECT_EQ(r->fit.rounds, r->fit.best_round + 1 + 3);
  // The kept model's validation log loss is the best round's (XGBoost's own
  // logloss against Plinth's, so to float precision).
  double best = r->fit.best_validation;
  double kept = r->report["metrics"]["validation"]["log_loss"].get<double>();
  EXPECT_NEAR(kept, best, 1e-5);
  for (const ml::RoundLog& l : r->fit.history) {
    EXPECT_GE(l.validation, best - 1e-12);
  }
}

TEST(TrainTest, AdultGbdtDefaultsReachPublishedAccuracy) {
  TempDir dir;
  auto r = TrainYaml(dir, "data:\n  path: " + DatasetPath("adult_train.csv") + "\n  test: " +
                              DatasetPath("adult_test.csv") + "\n  target: income\noutput: out\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const core::Json& test = r->report["metrics"]["test"];
  EXPECT_EQ(test["n"].get<int64_t>(), 16281);
  EXPECT_GE(test["accuracy"].get<double>(), 0.865);
  EXPECT_GE(test["roc_auc"].get<double>(), 0.92);
}

TEST(TrainTest, BalancedClassWeightsRaiseMinorityRecall) {
  // Bank marketing: 11% positives. Weighting classes by n / (k * n_c) trades
  // precision for recall of the rare class.
  TempDir dir;
  std::string yaml = Config("bank-additional-full.csv", "y",
                            "  ignore_columns: [duration]\nmodel:\n  epochs: 60\noutput: out\n");
  auto plain = TrainYaml(dir, yaml);
  auto balanced = TrainYaml(dir, yaml, {"model.class_weight=balanced"});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(balanced.ok()) << balanced.status().ToString();
  double r0 = plain->report["metrics"]["test"]["recall"].get<double>();
  double r1 = balanced->report["metrics"]["test"]["recall"].get<double>();
  EXPECT_GT(r1, r0 + 0.2) << "recall " << r0 << " -> " << r1;
}

TEST(TrainTest, PositiveClassChoosesClassOne) {
  TempDir dir;
  std::string yaml = Config("titanic_train.csv", "Survived",
                            "  id_columns: [PassengerId]\nmodel:\n  epochs: 50\noutput: out\n");
  auto normal = TrainYaml(dir, yaml);
  auto flipped = TrainYaml(dir, yaml, {"data.positive_class=0"});
  ASSERT_TRUE(normal.ok()) << normal.status().ToString();
  ASSERT_TRUE(flipped.ok()) << flipped.status().ToString();
  EXPECT_EQ(MetaJson(*normal)["class_labels"], core::Json({"0", "1"}));
  EXPECT_EQ(MetaJson(*flipped)["class_labels"], core::Json({"1", "0"}));
  EXPECT_EQ(MetaJson(*flipped)["positive_class"], "0");
  // Class sizes are the same, so the split sizes are; the confusion matrix
  // is labelled in the new order.
  const core::Json& a = normal->report["metrics"]["test"];
  const core::Json& b = flipped->report["metrics"]["test"];
  EXPECT_EQ(a["n"], b["n"]);
  EXPECT_EQ(b["confusion_matrix"]["labels"], core::Json({"1", "0"}));
  EXPECT_NE(ErrorOf(dir, yaml, {"data.positive_class=2"}).find("\"2\" is not a label"),
            std::string::npos);
}

TEST(TrainTest, OverridesAndCrossValidation) {
  TempDir dir;
  auto r = TrainYaml(dir, Config("sklearn_wine.csv", "target", "output: out\n"),
                     {"model.learning_rate=0.3", "split.cv_folds=3", "model.epochs=20"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const core::Json& cv = r->report["metrics"]["cv"];
  EXPECT_EQ(cv["folds"].get<int>(), 3);
  EXPECT_GT(cv["mean"]["accuracy"].get<double>(), 0.8);
  auto meta = core::ReadJsonFile(dir.File("out/plinth-model.json"));
  EXPECT_EQ((*meta)["params"]["model"]["learning_rate"].get<double>(), 0.3);
  EXPECT_EQ((*meta)["task"], "multiclass");
  EXPECT_EQ((*meta)["class_labels"], core::Json({"0", "1", "2"}));
  // The typed meta reads the file back to what was written, key for key.
  auto typed = ml::BundleMetaFromJson(*meta, "plinth-model.json");
  ASSERT_TRUE(typed.ok()) << typed.status().ToString();
  EXPECT_EQ(ml::ToJson(*typed), *meta);
  ASSERT_TRUE(typed->trained.has_value());
  EXPECT_EQ(typed->trained->fit.rounds, r->fit.rounds);
  EXPECT_EQ(typed->trained->data.rows, 178);
}

TEST(TrainTest, ConfigDefaultsAndOverrides) {
  TempDir dir;
  std::string path = dir.Write("t.yaml", "data:\n  path: d.csv\n  target: y\n");
  auto c = LoadTrainingConfig(path, {"model.type=mlp", "model.params.hidden_layers=[16, 8]"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->preprocess.date_parts.size(), 4u);
  EXPECT_EQ(c->split.train, 0.7);
  EXPECT_EQ(c->split.test, 0.15);
  EXPECT_EQ(c->model_type, "mlp");
  EXPECT_EQ(c->learning_rate, 0.001);  // the mlp row of the model-kind table
  EXPECT_EQ(c->epochs, 100);
  EXPECT_EQ(c->params["hidden_layers"], core::Json({16, 8}));
  EXPECT_EQ(c->data_path, dir.File("d.csv"));
  EXPECT_EQ(c->output, dir.File("models/d"));
  // A test file replaces the test split.
  path = dir.Write("u.yaml", "data:\n  path: d.csv\n  test: e.csv\n  target: y\n");
  c = LoadTrainingConfig(path, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->split.test, 0.0);
  EXPECT_EQ(c->split.train, 0.85);
}

// A random forest is fitted in one round: its default split trains on the rows
// other kinds hold out for early stopping, and early stopping is off. What a
// config gives is kept.
TEST(TrainTest, RandomForestTrainsOnTheValidationShareByDefault) {
  TempDir dir;
  std::string path = dir.Write("t.yaml", "data:\n  path: d.csv\n  target: y\n");
  auto c = LoadTrainingConfig(path, {"model.type=random_forest"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->split.validation, 0.0);
  EXPECT_DOUBLE_EQ(c->split.train, 0.85);
  EXPECT_EQ(c->split.test, 0.15);
  EXPECT_EQ(c->early_stopping_patience, 0);
  auto g = LoadTrainingConfig(path, {"model.type=gbdt"});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->split.validation, 0.15);
  EXPECT_EQ(g->early_stopping_patience, 5);
  c = LoadTrainingConfig(path, {"model.type=random_forest", "split.validation=0.2",
                                "model.early_stopping_patience=3"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->split.validation, 0.2);
  EXPECT_DOUBLE_EQ(c->split.train, 0.65);
  EXPECT_EQ(c->early_stopping_patience, 3);
  c = LoadTrainingConfig(path, {"model.type=random_forest", "split={train: 0.6, test: 0.25}"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->split.validation, 0.15);  // the remainder of what was given
}

// Values given but unusable are errors naming the key: 0 epochs used to train
// the kind's default 1000 rounds, .inf reached XGBoost.
TEST(TrainTest, GivenValuesAreCheckedNotReplaced) {
  TempDir dir;
  std::string path = dir.Write("t.yaml", "data:\n  path: d.csv\n  target: y\n");
  for (auto [set, key] : {std::pair{"model.epochs=0", "'model.epochs'"},
                          std::pair{"model.learning_rate=0", "'model.learning_rate'"},
                          std::pair{"model.learning_rate=.inf", "'model.learning_rate'"},
                          std::pair{"model.learning_rate=-1", "'model.learning_rate'"},
                          std::pair{"model.threads=100000", "'model.threads'"}}) {
    auto c = LoadTrainingConfig(path, {set});
    ASSERT_FALSE(c.ok()) << set;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << set;
    EXPECT_NE(c.status().message().find(key), std::string::npos) << c.status().message();
  }
  auto c = LoadTrainingConfig(path, {"model.epochs=7"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->epochs, 7);
}

// model.params keys are checked against the kind's allow-list (the model-kind
// table): a misspelt key used to be passed to XGBoost, which ignored it.
TEST(TrainTest, UnknownModelParamsAreErrors) {
  TempDir dir;
  std::string path = dir.Write("t.yaml",
                               "data:\n  path: d.csv\n  target: y\nmodel:\n  params:\n"
                               "    max_dpeth: 3\n");
  auto c = LoadTrainingConfig(path, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind(path + ":6: key 'model.params.max_dpeth': not a parameter "
                                              "of gbdt (known: alpha, ",
                                       0),
            0u)
      << c.status().message();
  EXPECT_NE(c.status().message().find("max_depth"), std::string::npos);
  for (auto [set, want] :
       {std::pair{"model.params.eta=0.3", "not a parameter of gbdt; set 'model.learning_rate'"},
        std::pair{"model.params.seed=1", "set 'seed' instead"},
        std::pair{"model.params.num_parallel_tree=3", "(no error)"},
        std::pair{"model.params.subsample=0.5", "(no error)"}}) {
    auto d = LoadTrainingConfig(dir.Write("u.yaml", "data:\n  path: d.csv\n  target: y\n"), {set});
    std::string got = d.ok() ? "(no error)" : d.status().message();
    EXPECT_NE(got.find(want), std::string::npos) << set << ": " << got;
  }
  // Each kind has its own list: a tree parameter is not one of gblinear's.
  auto l = LoadTrainingConfig(path, {"model.type=linear", "model.params={max_depth: 3}"});
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("'model.params.max_depth': not a parameter of linear "
                                      "(known: alpha, base_score, feature_selector"),
            std::string::npos)
      << l.status().message();
  EXPECT_TRUE(LoadTrainingConfig(path, {"model.params={lambda: 2, alpha: 0.1}"}).ok());
}

// A split without validation rows used to report the training loss as the
// validation loss (and "early stopping" watched it). Early stopping then needs
// patience 0 said outright, and nothing is labelled validation.
TEST(TrainTest, NoValidationSplitReportsNoValidationNumbers) {
  TempDir dir;
  const std::string iris =
      Config("sklearn_iris.csv", "target", "split: {train: 1, validation: 0, test: 0}\n");
  const std::string error = ErrorOf(dir, iris + "model: {epochs: 7}\n");
  EXPECT_NE(error.find("key 'split.validation': 0 leaves early stopping no rows to watch "
                       "('model.early_stopping_patience' is 5)"),
            std::string::npos)
      << error;
  for (const char* kind : {"gbdt", "linear"}) {
    auto r = TrainYaml(dir, iris + "model: {epochs: 7, early_stopping_patience: 0}\noutput: out\n",
                       {std::string("model.type=") + kind});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const core::Json t = MetaJson(*r)["training"];
    EXPECT_EQ(t["rounds"], 7) << kind;
    EXPECT_EQ(t["best_round"], 6) << kind;
    EXPECT_TRUE(t["best_validation"].is_null()) << t.dump();
    ASSERT_EQ(t["history_train_validation"].size(), 7u);
    for (const core::Json& point : t["history_train_validation"]) {
      EXPECT_TRUE(point[0].is_number()) << point;
      EXPECT_TRUE(point[1].is_null()) << point;
    }
    EXPECT_FALSE(MetaJson(*r)["metrics"].contains("validation")) << MetaJson(*r)["metrics"].dump();
    EXPECT_EQ(r->report["data"]["validation_rows"], 0);
    EXPECT_EQ(r->report["training"]["best_validation"], nullptr);
  }
}

TEST(TrainTest, NameMustBeAFileName) {
  TempDir dir;
  std::string path = dir.Write("t.yaml", "data:\n  path: d.csv\n  target: y\n");
  for (const char* bad : {"name=../evil", "name=a/b", "name=..", "name=\"a\\tb\""}) {
    auto c = LoadTrainingConfig(path, {bad});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("key 'name'"), std::string::npos) << c.status().message();
  }
  auto c = LoadTrainingConfig(path, {"name=churn v2.1"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->output, dir.File("models/churn v2.1"));
}

// By default no labelled row is dropped: duplicates are kept, outliers are
// clipped for linear and mlp and left alone for tree kinds.
TEST(TrainTest, CleaningDefaultsPerKind) {
  TempDir dir;
  std::string path = dir.Write("t.yaml", "data:\n  path: d.csv\n  target: y\n");
  ASSERT_FALSE(ml::ModelKinds().empty());
  for (const ml::ModelKind& kind : ml::ModelKinds()) {
    auto c = LoadTrainingConfig(path, {"model.type=" + std::string(kind.name)});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_FALSE(c->drop_duplicates) << kind.name;
    EXPECT_EQ(c->preprocess.outlier_action, ml::OutlierAction::kClip) << kind.name;
    EXPECT_EQ(c->preprocess.outliers,
              kind.trees ? ml::OutlierMethod::kNone : ml::OutlierMethod::kIqr)
        << kind.name;
    bool tree_kind = kind.name == "gbdt" || kind.name == "random_forest";
    bool other_kind = kind.name == "linear" || kind.name == "mlp";
    EXPECT_TRUE(tree_kind || other_kind)
        << "a new kind " << kind.name << ": say whether it is trees";
    EXPECT_EQ(kind.trees, tree_kind) << kind.name;
  }
  // The default kind is gbdt.
  auto c = LoadTrainingConfig(path, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->preprocess.outliers, ml::OutlierMethod::kNone);
  // The old cleaning is one line away; an action alone brings the iqr bounds.
  c = LoadTrainingConfig(path, {"clean.drop_duplicates=true", "clean.outliers.action=remove"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->drop_duplicates);
  EXPECT_EQ(c->preprocess.outliers, ml::OutlierMethod::kIqr);
  EXPECT_EQ(c->preprocess.outlier_action, ml::OutlierAction::kRemove);
  // An explicit method wins over the kind's default.
  c = LoadTrainingConfig(path, {"model.type=linear", "clean.outliers.method=none"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->preprocess.outliers, ml::OutlierMethod::kNone);
  c = LoadTrainingConfig(path, {"clean.outliers.method=zscore"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->preprocess.outliers, ml::OutlierMethod::kZScore);
  EXPECT_EQ(c->preprocess.outlier_action, ml::OutlierAction::kClip);
}

// A regression file with `unlabelled` rows without a target, 100 exact
// duplicates of earlier rows and 40 rows far outside the range of x.
std::string CleaningCsv(const TempDir& dir, int unlabelled) {
  std::string csv = "x,z,y\n";
  for (int i = 0; i < 200; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i * 7 % 13) + "," + std::to_string(i) + ".5\n";
  }
  for (int i = 0; i < 100; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i * 7 % 13) + "," + std::to_string(i) + ".5\n";
  }
  for (int j = 0; j < 40; ++j) {
    csv += std::to_string(100000 + j) + "," + std::to_string(j % 13) + "," + std::to_string(j) +
           ".25\n";
  }
  for (int j = 0; j < unlabelled; ++j) {
    csv += std::to_string(j) + ",1,\n";
  }
  return dir.Write("clean.csv", csv);
}

const core::Json& Step(const core::Json& report, const std::string& name) {
  for (const core::Json& s : report["data"]["cleaning"]) {
    if (s["step"] == name) {
      return s;
    }
  }
  static const core::Json kNone = nullptr;
  ADD_FAILURE() << "no cleaning step " << name;
  return kNone;
}

TEST(TrainTest, ReportCountsTheRowsEachCleaningStepRemoved) {
  TempDir dir;
  std::string data = CleaningCsv(dir, 10);
  std::string yaml = "data:\n  path: " + data + "\n  target: y\nmodel:\n  epochs: 5\noutput: out\n";
  // Defaults: only the rows without a label go.
  auto r = TrainYaml(dir, yaml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const core::Json& d = r->report["data"];
  ASSERT_EQ(d["cleaning"].size(), 3u);
  EXPECT_EQ(Step(r->report, "missing_label")["rows_in"], 350);
  EXPECT_EQ(Step(r->report, "missing_label")["rows_removed"], 10);
  EXPECT_EQ(Step(r->report, "duplicates")["rows_in"], 340);
  EXPECT_EQ(Step(r->report, "duplicates")["rows_removed"], 0);
  EXPECT_EQ(Step(r->report, "outliers")["rows_removed"], 0);
  EXPECT_EQ(Step(r->report, "outliers")["setting"], "none");
  EXPECT_EQ(Step(r->report, "outliers")["rows_in"], d["train_rows"]);
  EXPECT_EQ(r->report["warnings"], core::Json::array());  // 10 of 350 is under 5%
  EXPECT_EQ(MetaJson(*r)["data"]["cleaning"], d["cleaning"]);

  // Linear: outliers clipped, none removed.
  r = TrainYaml(dir, yaml, {"model.type=linear"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Step(r->report, "outliers")["setting"], "iqr, clip");
  EXPECT_EQ(Step(r->report, "outliers")["rows_removed"], 0);
  EXPECT_EQ(r->report["warnings"], core::Json::array());

  // The old cleaning: 100 of 340 labelled rows are duplicates; the outliers
  // of the training split go, and both steps warn.
  r = TrainYaml(dir, yaml, {"clean.drop_duplicates=true", "clean.outliers.action=remove"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const core::Json& dup = Step(r->report, "duplicates");
  EXPECT_EQ(dup["rows_in"], 340);
  EXPECT_EQ(dup["rows_removed"], 100);
  EXPECT_DOUBLE_EQ(dup["fraction_removed"].get<double>(), 100.0 / 340.0);
  EXPECT_EQ(r->report["data"]["duplicate_rows_dropped"], 100);
  const core::Json& out = Step(r->report, "outliers");
  EXPECT_EQ(out["setting"], "iqr, remove");
  int64_t removed = out["rows_removed"].get<int64_t>();
  EXPECT_GT(removed, 0);
  EXPECT_LE(removed, 40);
  EXPECT_EQ(out["rows_in"].get<int64_t>() - removed, r->report["data"]["train_rows"]);
  EXPECT_EQ(r->report["data"]["outlier_rows_dropped"], removed);
  const core::Json& w = r->report["warnings"];
  ASSERT_EQ(w.size(), 2u) << w.dump();
  EXPECT_EQ(w[0].get<std::string>().rfind("clean.drop_duplicates removed 29.4% of the labelled "
                                          "rows (100 of 340)",
                                          0),
            0u)
      << w[0];
  EXPECT_NE(w[0].get<std::string>().find("set clean.drop_duplicates: false"), std::string::npos);
  EXPECT_EQ(w[1].get<std::string>().rfind("clean.outliers (iqr, remove) removed ", 0), 0u) << w[1];
  EXPECT_NE(w[1].get<std::string>().find("set clean.outliers.action: clip"), std::string::npos);
  for (const core::Json& line : w) {
    EXPECT_EQ(line.get<std::string>().find('\n'), std::string::npos);
  }
  EXPECT_EQ(MetaJson(*r)["warnings"], w);
  // The HTML report shows the steps and the warnings.
  std::string html = RenderTrainingHtml(r->predictor->meta());
  EXPECT_NE(html.find("<h2>Cleaning</h2>"), std::string::npos);
  EXPECT_NE(html.find("class=\"warn\">warning: clean.drop_duplicates removed 29.4%"),
            std::string::npos);
  EXPECT_NE(html.find("<td>duplicates</td><td>drop_duplicates: true</td><td class=\"num\">340</td>"
                      "<td class=\"num\">100</td>"),
            std::string::npos);
}

TEST(TrainTest, WarnsWhenManyRowsHaveNoLabel) {
  TempDir dir;
  std::string data = CleaningCsv(dir, 40);  // 40 of 380 rows: 10.5%
  auto r = TrainYaml(
      dir, "data:\n  path: " + data + "\n  target: y\nmodel:\n  epochs: 5\noutput: out\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->report["warnings"],
            core::Json({"10.5% of the rows (40 of 380) have no value in the target column \"y\" "
                        "and were dropped"}));
}

TEST(TrainTest, BadConfigsFailBeforeTraining) {
  TempDir dir;
  const std::string iris = Config("sklearn_iris.csv", "target");
  EXPECT_NE(ErrorOf(dir, iris + "model:\n  type: svm\n")
                .find("key 'model.type': unknown model kind \"svm\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(dir, Config("sklearn_iris.csv", "species"))
                .find("key 'data.target': column \"species\" is not in"),
            std::string::npos);
  EXPECT_NE(ErrorOf(dir, iris + "split:\n  train: 0.8\n  validation: 0.3\n  test: 0.1\n")
                .find("must sum to 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf(dir, iris + "modle:\n  type: gbdt\n").find("unknown key 'modle'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(dir, iris + "model:\n  epochs: ten\n").find("key 'model.epochs'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(dir, iris, {"model.monitor=auc"}).find("model.monitor"), std::string::npos);
  // A target with one class.
  std::string one = dir.Write("one.csv", "x,y\n1,a\n2,a\n3,a\n4,a\n");
  EXPECT_NE(ErrorOf(dir, "data:\n  path: " + one + "\n  target: y\n").find("single class \"a\""),
            std::string::npos);
  // A non-numeric regression target.
  std::string text = dir.Write("text.csv", "x,y\n1,a\n2,b\n3,c\n4,d\n");
  EXPECT_NE(ErrorOf(dir, "data:\n  path: " + text + "\n  target: y\n  task: regression\n")
                .find("a regression target must be numeric"),
            std::string::npos);
  // Too few rows for a validation split.
  std::string tiny = dir.Write("tiny.csv", "x,y\n1,a\n2,b\n");
  EXPECT_NE(ErrorOf(dir, "data:\n  path: " + tiny + "\n  target: y\n").find("split is empty"),
            std::string::npos);
  EXPECT_NE(ErrorOf(dir, iris, {"model.learning_rate"}).find("expected KEY.PATH=VALUE"),
            std::string::npos);
  // A test file without the model's inputs is refused before training.
  EXPECT_NE(
      ErrorOf(dir, iris,
              {"data.test=" + DatasetPath("sklearn_wine.csv"), "split.test=0", "split.train=0.85"})
          .find("sklearn_wine.csv: column \"sepal length (cm)\" (an input column"),
      std::string::npos);
}

TEST(TrainTest, EvaluateFileMatchesTrainingReport) {
  TempDir dir;
  auto r = TrainYaml(dir, "data:\n  path: " + DatasetPath("adult_train.csv") +
                              "\n  test: " + DatasetPath("adult_test.csv") +
                              "\n  target: income\nmodel:\n  epochs: 20\noutput: out\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto p = ml::Predictor::Load(dir.File("out"));
  ASSERT_TRUE(p.ok());
  auto m = EvaluateFile(**p, DatasetPath("adult_test.csv"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, r->report["metrics"]["test"]);
  // Unknown labels are named.
  std::string bad = dir.Write("bad.csv", "age,income\n30,maybe\n");
  auto e = EvaluateFile(**p, bad);
  ASSERT_FALSE(e.ok());
}

}  // namespace
}  // namespace plinth::train
