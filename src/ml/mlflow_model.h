// MLflow model directories (an MLmodel file and its flavors' files), as MLflow's
// clients log them: the ones Plinth can score load as a Predictor, so `plinth
// serve`, `predict` and `evaluate` take a model an MLflow client logged.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "ml/bundle.h"

namespace plinth::ml {

// True when `dir` holds an MLmodel file and no Plinth bundle metadata.
bool IsMlflowModelDir(const std::string& dir);

// Loads the MLflow model at `dir`. The xgboost flavor is scored natively: its task
// and class count from the booster's objective (binary:logistic -> binary with
// labels 0 and 1, multi:softprob/softmax -> multiclass 0..k-1, reg:* -> regression),
// its input columns from the MLmodel signature (a column signature names them; a
// tensor signature or none gives XGBoost's f0, f1, ...). Other flavors (a pickled
// scikit-learn model needs Python) are kFailedPrecondition naming the flavors.
// Errors name the file and the key.
Result<std::unique_ptr<Predictor>> LoadMlflowModel(const std::string& dir);

}  // namespace plinth::ml
