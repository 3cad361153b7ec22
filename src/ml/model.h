// Models behind one interface, and the explicit table of model kinds.
//
// A Model is created empty by its kind, then either fitted (Fit) or loaded
// from its file (Load); afterwards Predict is const and safe to call from many
// threads. Outputs: one column of P(class 1) for binary tasks, one column per
// class (probabilities) for multiclass, one column of values for regression.
//
// Kinds: gbdt, random_forest and linear are XGBoost boosters (model.ubj);
// mlp is a libtorch network saved as TorchScript (model.pt), present when
// Plinth is built with PLINTH_WITH_TORCH, in a plugin loaded on first use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "ml/matrix.h"

namespace plinth::ml {

enum class Task { kBinary, kMulticlass, kRegression };
std::string_view Name(Task task);
Result<Task> ParseTask(std::string_view s);

// Training data: features, labels (class index or value) and optional weights.
struct Dataset {
  const Matrix* x = nullptr;
  std::vector<float> y;
  std::vector<float> weights;  // empty: all 1
};

// One round (boosting round or epoch) of training.
struct RoundLog {
  int round = 0;          // 0-based
  double train = 0;       // the monitored metric on the training data
  double validation = 0;  // on the validation data; NaN when there are no validation rows
};

struct FitOptions {
  Task task = Task::kBinary;
  int num_classes = 2;
  double learning_rate = 0.1;
  int batch_size = 256;             // mlp mini-batches
  int epochs = 100;                 // boosting rounds or epochs, the upper bound
  int early_stopping_patience = 5;  // 0: no early stopping
  std::string monitor = "loss";     // loss, auc, error, rmse, mae
  uint64_t seed = 42;
  int threads = 0;                           // 0: every hardware thread
  core::Json params = core::Json::object();  // kind-specific (max_depth, hidden_layers, ...)
  // The input columns the features come from, before one-hot encoding and
  // date parts expand them; 0: one per feature.
  int64_t input_columns = 0;
  std::function<void(const RoundLog&, const RoundLog& best)> on_round;  // progress
};

struct FitReport {
  std::string metric;  // the monitored metric's name, e.g. "logloss"
  bool maximize = false;
  int rounds = 0;      // rounds run
  int best_round = 0;  // 0-based round whose model was kept (the last without validation rows)
  double best_validation = 0;  // NaN without validation rows
  bool stopped_early = false;
  std::vector<RoundLog> history;
  // The kept model's outputs on the validation rows (as Predict returns them),
  // known from training, so evaluation need not predict them again.
  Matrix validation_output;
  core::Json params = core::Json::object();  // the library parameters actually used
};

// Contracts, for every kind (XGBoost's gbdt, random_forest and linear; the mlp
// plugin's):
// - Thread safety: Fit, Deserialize and SetPredictThreads need the model to
//   themselves; Predict, Serialize, kind and PredictEngine are const and may run
//   on many threads at once once the model is shared (the server does).
// - Blocking: Fit and Predict run on the calling thread and may use the
//   library's own thread team (SetPredictThreads(1) keeps Predict on it).
// - Errors: kInvalidArgument for options or inputs the kind refuses (naming the
//   model.params key), kFailedPrecondition for Predict before Fit or
//   Deserialize; library failures as kInternal with the library's message.
class Model {
 public:
  virtual ~Model() = default;

  // The kind's name ("gbdt", ...).
  virtual std::string_view kind() const = 0;
  // Trains on `train`, monitoring `validation` (which may have no rows: then
  // no early stopping). Keeps the model of the best validation round.
  virtual Result<FitReport> Fit(const Dataset& train, const Dataset& validation,
                                const FitOptions& options) = 0;
  // Predicts every row of `x` (x.cols must be the number of features fitted).
  virtual Result<Matrix> Predict(const Matrix& x) const = 0;
  // The model in its library's own format (the bytes of model.ubj / model.pt).
  virtual Result<std::string> Serialize() const = 0;
  // Replaces this model by the one in `bytes`; `task`, `num_classes` and
  // `num_features` say what it must predict. Returns kInvalidArgument if the
  // bytes are not such a model.
  virtual Status Deserialize(std::string_view bytes, Task task, int num_classes,
                             int64_t num_features) = 0;
  // The threads one Predict call uses (0: the library's default, every core).
  // A server scoring small requests concurrently wants 1: waking a thread team
  // for a row costs more than the row. Call before sharing the model.
  virtual Status SetPredictThreads(int /*threads*/) { return Status::Ok(); }
  // What evaluates Predict, for logs ("native trees", "xgboost 1.7.4"; by
  // default the kind's name).
  virtual std::string PredictEngine() const { return std::string(kind()); }
};

// The checks every Predict makes first: the model is `ready` (fitted or
// loaded) and `x` has `num_features` columns. kFailedPrecondition or
// kInvalidArgument otherwise.
Status CheckPredictInput(bool ready, int64_t num_features, const Matrix& x);

// Output columns of a model for `task`: one, or one per class.
inline int64_t OutputColumns(Task task, int num_classes) {
  return task == Task::kMulticlass ? num_classes : 1;
}

struct ModelKind {
  std::string_view name;
  std::string_view description;
  std::string_view file_name;  // in a bundle
  std::string_view library;    // "xgboost" or "torch"
  Result<std::unique_ptr<Model>> (*create)();
  // An ensemble of decision trees: splits depend only on the order of each
  // feature's values, so outliers need no cleaning (training defaults to
  // clean.outliers.method none for these kinds, iqr with clipping otherwise).
  bool trees = false;
  // The keys `model.params` may hold: the library parameters this kind passes
  // on (a misspelt or foreign key is a config error, not silently ignored).
  std::span<const std::string_view> params;
  // Trains round after round and keeps the best on a validation split. False for
  // a kind fitted in one round (a random forest): there is nothing to stop, so
  // its default split holds no validation rows out (they would be taken from
  // training for a score only) and early stopping is off.
  bool stops_early = true;
  // The training defaults of `model.learning_rate` and `model.epochs` (rounds).
  double learning_rate = 0.1;
  int epochs = 1000;
};

// The text after "known: " in an unknown-parameter error: `kind`'s params, comma-separated.
std::string KnownParams(const ModelKind& kind);

// Every kind this build has, in a fixed order.
std::span<const ModelKind> ModelKinds();
// The kind named `name`; kInvalidArgument listing the kinds otherwise.
Result<const ModelKind*> FindModelKind(std::string_view name);

// XGBoost's version; libtorch's when the torch plugin is loaded, else "".
std::string XgboostVersion();
std::string TorchVersion();

// Kind implementations (model table entries).
Result<std::unique_ptr<Model>> CreateGbdt();
Result<std::unique_ptr<Model>> CreateRandomForest();
Result<std::unique_ptr<Model>> CreateLinear();
// The mlp kind lives in a plugin (libplinth_torch.so) that is loaded on first
// use, so commands that never touch a network do not pay for loading libtorch
// (about 0.5 s and 160 MB). Looked for at $PLINTH_TORCH_PLUGIN if set, else
// beside the executable, in ../lib/plinth/ from it, then in the build tree.
// kUnavailable when it cannot be loaded.
Result<std::unique_ptr<Model>> CreateMlp();

}  // namespace plinth::ml
