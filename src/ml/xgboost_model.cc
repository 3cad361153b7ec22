// The XGBoost kinds (gbdt, random_forest, linear) over XGBoost's C API, with
// RAII handles and one translation of its errors (XgbLastError).
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "ml/model.h"
#include "ml/monitor.h"
#include "ml/tree_ensemble.h"

namespace plinth::ml {
namespace {

// XGBoost's last error, first line only (the rest is a stack trace).
std::string LastErrorLine() {
  std::string msg = XGBGetLastError();
  msg = msg.substr(0, msg.find('\n'));
  // "[12:07:29] ./src/file.cc:81: message" -> "message"
  if (!msg.empty() && msg[0] == '[') {
    size_t pos = msg.find(": ", msg.find(']'));
    if (pos != std::string::npos) {
      msg = msg.substr(pos + 2);
    }
  }
  return msg;
}

Status XgbLastError(std::string_view what) {
  return Internal("xgboost: " + std::string(what) + ": " + LastErrorLine());
}

#define PLINTH_XGB(call, what)   \
  do {                           \
    if ((call) != 0) {           \
      return XgbLastError(what); \
    }                            \
  } while (false)

struct DMatrixFree {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterFree {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixFree>;
using BoosterPtr = std::unique_ptr<void, BoosterFree>;

Result<DMatrixPtr> MakeDMatrix(const Matrix& x) {
  DMatrixHandle h = nullptr;
  PLINTH_XGB(XGDMatrixCreateFromMat(x.values.data(), static_cast<bst_ulong>(x.rows),
                                    static_cast<bst_ulong>(x.cols), std::nanf(""), &h),
             "creating a DMatrix");
  return DMatrixPtr(h);
}

Result<DMatrixPtr> MakeDMatrix(const Dataset& d) {
  PLINTH_ASSIGN_OR_RETURN(DMatrixPtr m, MakeDMatrix(*d.x));
  PLINTH_XGB(XGDMatrixSetFloatInfo(m.get(), "label", d.y.data(), d.y.size()), "setting labels");
  if (!d.weights.empty()) {
    PLINTH_XGB(XGDMatrixSetFloatInfo(m.get(), "weight", d.weights.data(), d.weights.size()),
               "setting weights");
  }
  return m;
}

std::string DenseInterface(const Matrix& x) {
  char iface[160];
  std::snprintf(iface, sizeof(iface),
                R"({"data": [%llu, true], "shape": [%lld, %lld], "typestr": "<f4", "version": 3})",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(x.values.data())),
                static_cast<long long>(x.rows), static_cast<long long>(x.cols));
  return iface;
}

// A one-batch data iterator for XGBoost's QuantileDMatrix.
struct OneBatch {
  const Dataset* data;
  DMatrixHandle proxy;
  bool done = false;
  int error = 0;
};

int NextBatch(DataIterHandle handle) {
  auto* it = static_cast<OneBatch*>(handle);
  if (it->done) {
    return 0;
  }
  it->done = true;
  const Dataset& d = *it->data;
  std::string iface = DenseInterface(*d.x);
  if (XGProxyDMatrixSetDataDense(it->proxy, iface.c_str()) != 0 ||
      XGDMatrixSetFloatInfo(it->proxy, "label", d.y.data(), d.y.size()) != 0 ||
      (!d.weights.empty() &&
       XGDMatrixSetFloatInfo(it->proxy, "weight", d.weights.data(), d.weights.size()) != 0)) {
    it->error = -1;
    return 0;
  }
  return 1;
}

void ResetBatches(DataIterHandle handle) { static_cast<OneBatch*>(handle)->done = false; }

// The histogram-index DMatrix `hist` trees train on, built straight from the
// dense rows: one byte per value instead of a CSR copy of the matrix (8 bytes
// per value), which is what keeps training memory below the Python stack's.
// `ref` (the training matrix) gives a validation matrix the same bins.
Result<DMatrixPtr> MakeQuantileDMatrix(const Dataset& d, DMatrixHandle ref, int threads) {
  DMatrixHandle proxy_handle = nullptr;
  PLINTH_XGB(XGProxyDMatrixCreate(&proxy_handle), "creating a proxy DMatrix");
  DMatrixPtr proxy(proxy_handle);
  OneBatch it{&d, proxy.get()};
  std::string config = R"({"missing": NaN, "nthread": )" + std::to_string(threads) + "}";
  DMatrixHandle out = nullptr;
  int rc = XGQuantileDMatrixCreateFromCallback(&it, proxy.get(), ref, ResetBatches, NextBatch,
                                               config.c_str(), &out);
  if (rc != 0 || it.error != 0) {
    return XgbLastError("creating a QuantileDMatrix");
  }
  return DMatrixPtr(out);
}

std::string ParamText(const core::Json& v) {
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? "1" : "0";
  }
  return v.dump();
}

// Parses one "[3]\ttrain-logloss:0.12\tvalid-logloss:0.2" line from EvalOneIter.
std::map<std::string, double> ParseEval(std::string_view text) {
  std::map<std::string, double> out;
  std::istringstream in{std::string(text)};
  std::string token;
  while (in >> token) {
    size_t colon = token.rfind(':');
    if (token.front() == '[' || colon == std::string::npos) {
      continue;
    }
    out[token.substr(0, colon)] = std::strtod(token.c_str() + colon + 1, nullptr);
  }
  return out;
}

enum class Flavor { kGbdt, kRandomForest, kLinear };

class XgboostModel : public Model {
 public:
  explicit XgboostModel(Flavor flavor) : flavor_(flavor) {}

  std::string_view kind() const override {
    switch (flavor_) {
      case Flavor::kGbdt:
        return "gbdt";
      case Flavor::kRandomForest:
        return "random_forest";
      case Flavor::kLinear:
        return "linear";
    }
    return "?";
  }

  Result<FitReport> Fit(const Dataset& train, const Dataset& validation,
                        const FitOptions& options) override {
    PLINTH_ASSIGN_OR_RETURN(const bool native, NativeWanted());
    PLINTH_ASSIGN_OR_RETURN(Monitor monitor, ResolveMonitor(options.monitor, options.task));
    const bool has_valid = validation.x != nullptr && validation.x->rows > 0;
    DMatrixPtr dtrain, dvalid;
    if (flavor_ == Flavor::kLinear) {  // gblinear needs the values, not histogram bins
      PLINTH_ASSIGN_OR_RETURN(dtrain, MakeDMatrix(train));
      if (has_valid) {
        PLINTH_ASSIGN_OR_RETURN(dvalid, MakeDMatrix(validation));
      }
    } else {
      PLINTH_ASSIGN_OR_RETURN(dtrain, MakeQuantileDMatrix(train, nullptr, options.threads));
      if (has_valid) {
        // A plain DMatrix: XGBoost 1.7 keeps no prediction cache for a
        // QuantileDMatrix it does not train on, so evaluating one each round
        // would predict every tree again (1000 rounds on 150k rows: 2.4x the fit).
        PLINTH_ASSIGN_OR_RETURN(dvalid, MakeDMatrix(validation));
      }
    }
    DMatrixHandle dmats[2] = {dtrain.get(), dvalid.get()};
    const char* names[2] = {"train", "valid"};
    const bst_ulong n_eval = has_valid ? 2 : 1;
    BoosterHandle bh = nullptr;
    PLINTH_XGB(XGBoosterCreate(dmats, n_eval, &bh), "creating a booster");
    BoosterPtr booster(bh);

    FitReport report;
    report.metric = monitor.name;
    report.maximize = monitor.maximize;
    report.params = BaseParams(options, train);
    report.params["eval_metric"] = monitor.name;
    for (const auto& [key, value] : options.params.items()) {
      report.params[key] = ParamText(value);
    }
    for (const auto& [key, value] : report.params.items()) {
      std::string v = ParamText(value);
      PLINTH_XGB(XGBoosterSetParam(booster.get(), key.c_str(), v.c_str()),
                 "parameter \"" + key + "\"");
    }

    const int rounds = std::max(options.epochs, 1);
    RoundLog best{-1, 0, 0};
    std::string best_snapshot;  // gblinear cannot be sliced: keep the best model's bytes
    int since_best = 0;
    for (int i = 0; i < rounds; ++i) {
      PLINTH_XGB(XGBoosterUpdateOneIter(booster.get(), i, dtrain.get()), "training a round");
      const char* eval = nullptr;
      PLINTH_XGB(XGBoosterEvalOneIter(booster.get(), i, dmats, names, n_eval, &eval),
                 "evaluating a round");
      std::map<std::string, double> values = ParseEval(eval);
      // Without validation rows there is no validation number: NaN, never the training one.
      RoundLog log{i, values["train-" + monitor.name],
                   has_valid ? values["valid-" + monitor.name] : std::nan("")};
      report.history.push_back(log);
      report.rounds = i + 1;
      if (best.round < 0 || !has_valid || Improves(monitor, log.validation, best.validation)) {
        best = log;
        since_best = 0;
        if (flavor_ == Flavor::kLinear && has_valid) {
          PLINTH_ASSIGN_OR_RETURN(best_snapshot, SaveUbj(booster.get()));
        }
      } else {
        ++since_best;
      }
      if (options.on_round) {
        options.on_round(log, best);
      }
      if (has_valid && options.early_stopping_patience > 0 &&
          since_best >= options.early_stopping_patience) {
        report.stopped_early = true;
        break;
      }
    }
    report.best_round = best.round;
    report.best_validation = best.validation;
    if (best.round + 1 < report.rounds) {
      if (flavor_ == Flavor::kLinear) {
        PLINTH_RETURN_IF_ERROR(LoadUbj(booster.get(), best_snapshot));
      } else {
        BoosterHandle sliced = nullptr;
        PLINTH_XGB(XGBoosterSlice(booster.get(), 0, best.round + 1, 1, &sliced),
                   "keeping the best rounds");
        booster.reset(sliced);
      }
    }
    booster_ = std::move(booster);
    num_features_ = train.x->cols;
    task_ = options.task;
    num_classes_ = options.num_classes;
    native_.reset();
    if (native) {
      PLINTH_ASSIGN_OR_RETURN(std::string ubj, SaveUbj(booster_.get()));
      PLINTH_ASSIGN_OR_RETURN(nlohmann::json parsed, TreeEnsemble::ReadXgboostModel(ubj));
      BuildNative(parsed);
    }
    if (has_valid && flavor_ != Flavor::kLinear && best.round + 1 == report.rounds) {
      // Served from the booster's prediction cache for the DMatrix it
      // evaluated each round.
      PLINTH_ASSIGN_OR_RETURN(report.validation_output,
                              PredictDMatrix(dvalid.get(), validation.x->rows));
    } else if (has_valid) {
      PLINTH_ASSIGN_OR_RETURN(report.validation_output, Predict(*validation.x));
    }
    return report;
  }

  Result<Matrix> Predict(const Matrix& x) const override {
    PLINTH_RETURN_IF_ERROR(CheckPredictInput(booster_ != nullptr, num_features_, x));
    if (x.rows == 0) {
      return Matrix(0, OutputColumns(task_, num_classes_));
    }
    if (native_ != nullptr) {
      return native_->Predict(x, predict_threads_);
    }
    if (flavor_ == Flavor::kLinear) {
      // gblinear has no in-place prediction; predicting from a DMatrix is thread-safe too.
      PLINTH_ASSIGN_OR_RETURN(DMatrixPtr dm, MakeDMatrix(x));
      return PredictDMatrix(dm.get(), x.rows);
    }
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    std::string iface = DenseInterface(x);
    PLINTH_XGB(XGBoosterPredictFromDense(booster_.get(), iface.c_str(), kPredictConfig, nullptr,
                                         &shape, &dim, &result),
               "predicting");
    return Outputs(shape, dim, result, x.rows);
  }

  Result<std::string> Serialize() const override {
    if (!booster_) {
      return FailedPrecondition("the model is neither fitted nor loaded");
    }
    return SaveUbj(booster_.get());
  }

  Status Deserialize(std::string_view bytes, Task task, int num_classes,
                     int64_t num_features) override {
    PLINTH_ASSIGN_OR_RETURN(const bool native, NativeWanted());
    // Read by Plinth first: XGBoost's own reader recurses once per nesting level
    // and allocates what a length field claims, so hostile bytes would crash it.
    Result<nlohmann::json> parsed = TreeEnsemble::ReadXgboostModel(bytes);
    if (!parsed.ok()) {
      return InvalidArgument("not an XGBoost model: " + parsed.status().message());
    }
    BoosterHandle bh = nullptr;
    PLINTH_XGB(XGBoosterCreate(nullptr, 0, &bh), "creating a booster");
    BoosterPtr booster(bh);
    if (XGBoosterLoadModelFromBuffer(booster.get(), bytes.data(), bytes.size()) != 0) {
      return InvalidArgument("not an XGBoost model: " + LastErrorLine());
    }
    bst_ulong n = 0;
    PLINTH_XGB(XGBoosterGetNumFeature(booster.get(), &n), "reading the feature count");
    if (static_cast<int64_t>(n) != num_features) {
      return InvalidArgument("the XGBoost model has " + std::to_string(n) +
                             " features; the schema gives " + std::to_string(num_features));
    }
    booster_ = std::move(booster);
    num_features_ = num_features;
    task_ = task;
    num_classes_ = num_classes;
    native_.reset();
    if (native) {
      BuildNative(*parsed);
    }
    return Status::Ok();
  }

  Status SetPredictThreads(int threads) override {
    if (!booster_) {
      return FailedPrecondition("the model is neither fitted nor loaded");
    }
    PLINTH_XGB(XGBoosterSetParam(booster_.get(), "nthread", std::to_string(threads).c_str()),
               "setting nthread");
    predict_threads_ = threads;
    return Status::Ok();
  }

  std::string PredictEngine() const override {
    return native_ != nullptr ? "native trees" : "xgboost " + XgboostVersion();
  }

 private:
  core::Json BaseParams(const FitOptions& o, const Dataset& train) const {
    const int64_t features = train.x->cols;
    core::Json p = core::Json::object();
    p["verbosity"] = "0";
    p["seed"] = std::to_string(o.seed);
    p["nthread"] = std::to_string(o.threads);
    switch (o.task) {
      case Task::kBinary:
        p["objective"] = "binary:logistic";
        break;
      case Task::kMulticlass:
        p["objective"] = "multi:softprob";
        p["num_class"] = std::to_string(o.num_classes);
        break;
      case Task::kRegression:
        p["objective"] = "reg:squarederror";
        break;
    }
    switch (flavor_) {
      case Flavor::kGbdt:
        p["booster"] = "gbtree";
        p["tree_method"] = "hist";
        p["eta"] = ParamText(o.learning_rate);
        p["max_depth"] = "6";
        // At least 5 rows per leaf for squared error, whose hessian is 1 per
        // row (scikit-learn's HistGradientBoosting asks 20). On small files the
        // default of 1 fits leaves to a handful of rows: diabetes (353 rows)
        // 0.299 -> 0.323 R2, bike day 0.869 -> 0.878, california and bike hour
        // within 0.002 (bench/train_matrix.py, 10 and 3 seeds). Classifiers
        // keep 1: there it counts p(1 - p) per row, and 5 cost breast cancer,
        // iris and digits 0.004-0.010 accuracy.
        if (o.task == Task::kRegression) {
          p["min_child_weight"] = "5";
        }
        // Each split sees 0.8 of the features, drawn per node (stochastic
        // boosting, as the forest's regressors): wine 0.958 -> 0.978 accuracy
        // (it missed HistGB by 0.022), diabetes 0.323 -> 0.342 R2, digits and
        // bike day +0.003-0.004; the other rows within 0.003, titanic the lowest
        // (0.827 -> 0.824; bench/train_matrix.py, 10 seeds on the small files).
        p["colsample_bynode"] = "0.8";
        break;
      case Flavor::kRandomForest:
        // XGBoost's random forest: one round of many parallel trees, each on
        // a row and column sample, with no shrinkage. lambda as XGBoost's own
        // XGBRF* models set it: the default L2 penalty (1) shrinks every
        // leaf of this single round toward the base score (a leaf is
        // sum(residual) / (rows + lambda)), which cost 0.02 R2 on california
        // housing. Forests want deep trees: depth 16 against 12 gained 0.014 R2
        // on california housing and 0.008 on bike sharing (hours), classifiers
        // within 0.002 (bench/train_matrix.py). The native evaluator stores
        // trees deeper than 12 compact (TreeEnsemble::kCompleteDepth).
        // Classifiers split on the features of sqrt(columns) input columns
        // per node, Breiman's and scikit-learn's default (counted before
        // one-hot encoding, as scikit-learn counts them: the 14 columns of
        // adult are 108 features), and min_child_weight is 0: it counts
        // hessian, p(1 - p) per row, so XGBoost's default of 1 stops a
        // 10-class leaf at about 11 rows and the trees are never grown out.
        // Together +0.034 accuracy on digits and +0.015 on breast cancer
        // (bench/train_matrix.py). Regressors keep 0.8 of the features: fewer
        // cost 0.02 R2 on california housing (scikit-learn's regressor uses
        // them all).
        p["booster"] = "gbtree";
        p["tree_method"] = "hist";
        p["eta"] = "1";
        p["num_parallel_tree"] = "100";
        p["subsample"] = "0.8";
        if (o.task == Task::kRegression || features < 1) {
          p["colsample_bynode"] = "0.8";
        } else {
          const double n = static_cast<double>(o.input_columns > 0 ? o.input_columns : features);
          p["colsample_bynode"] = ParamText(std::max(1.0, std::floor(std::sqrt(n))) / n);
          p["min_child_weight"] = "0";
        }
        p["max_depth"] = "16";
        p["lambda"] = "1e-05";
        break;
      case Flavor::kLinear:
        // coord_descent, unlike the default shotgun updater, is deterministic.
        p["booster"] = "gblinear";
        p["updater"] = "coord_descent";
        p["eta"] = ParamText(o.learning_rate);
        p["lambda"] = "0";
        break;
    }
    return p;
  }

  static constexpr const char* kPredictConfig =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN, "cache_id": 0})";

  Result<Matrix> PredictDMatrix(DMatrixHandle dm, int64_t rows) const {
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    PLINTH_XGB(
        XGBoosterPredictFromDMatrix(booster_.get(), dm, kPredictConfig, &shape, &dim, &result),
        "predicting");
    return Outputs(shape, dim, result, rows);
  }

  // Copies XGBoost's prediction buffer, checking it has one row per input row.
  Result<Matrix> Outputs(const bst_ulong* shape, bst_ulong dim, const float* result,
                         int64_t rows) const {
    const int64_t out_cols = OutputColumns(task_, num_classes_);
    size_t total = 1;
    for (bst_ulong d = 0; d < dim; ++d) {
      total *= shape[d];
    }
    if (total != static_cast<size_t>(rows * out_cols)) {
      return InvalidArgument("the model returned " + std::to_string(total) + " values for " +
                             std::to_string(rows) + " rows; expected " + std::to_string(out_cols) +
                             " per row (is its objective the task's?)");
    }
    Matrix out(rows, out_cols);
    std::copy(result, result + total, out.values.begin());
    return out;
  }

  static Result<std::string> SaveUbj(BoosterHandle h) {
    bst_ulong len = 0;
    const char* buf = nullptr;
    PLINTH_XGB(XGBoosterSaveModelToBuffer(h, R"({"format": "ubj"})", &len, &buf),
               "saving the model");
    return std::string(buf, len);
  }

  static Status LoadUbj(BoosterHandle h, const std::string& bytes) {
    PLINTH_XGB(XGBoosterLoadModelFromBuffer(h, bytes.data(), bytes.size()), "restoring the model");
    return Status::Ok();
  }

  // Whether the native evaluator may predict: PLINTH_TREE_ENGINE is unset,
  // "native", or "xgboost" (XGBoost predicts, for comparisons); anything else
  // is an error naming the variable. gblinear has no trees.
  Result<bool> NativeWanted() const {
    const char* engine = std::getenv("PLINTH_TREE_ENGINE");
    const std::string e = engine != nullptr ? engine : "";
    if (e != "" && e != "native" && e != "xgboost") {
      return InvalidArgument("PLINTH_TREE_ENGINE=" + e + ": expected native or xgboost");
    }
    return flavor_ != Flavor::kLinear && e != "xgboost";
  }

  // Hands prediction to the native evaluator when it covers the model (see
  // tree_ensemble.h); otherwise XGBoost keeps predicting. `model` is the
  // booster's model, parsed (ReadXgboostModel).
  void BuildNative(const nlohmann::json& model) {
    Result<TreeEnsemble> trees = TreeEnsemble::FromXgboostJson(model, num_features_);
    if (trees.ok() && trees->output_columns() == OutputColumns(task_, num_classes_)) {
      native_ = std::make_unique<TreeEnsemble>(*std::move(trees));
    }
  }

  Flavor flavor_;
  BoosterPtr booster_;
  std::unique_ptr<TreeEnsemble> native_;
  int predict_threads_ = 0;
  int64_t num_features_ = 0;
  Task task_ = Task::kBinary;
  int num_classes_ = 2;
};

}  // namespace

Result<std::unique_ptr<Model>> CreateGbdt() {
  return std::unique_ptr<Model>(std::make_unique<XgboostModel>(Flavor::kGbdt));
}
Result<std::unique_ptr<Model>> CreateRandomForest() {
  return std::unique_ptr<Model>(std::make_unique<XgboostModel>(Flavor::kRandomForest));
}
Result<std::unique_ptr<Model>> CreateLinear() {
  return std::unique_ptr<Model>(std::make_unique<XgboostModel>(Flavor::kLinear));
}

std::string XgboostVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace plinth::ml
