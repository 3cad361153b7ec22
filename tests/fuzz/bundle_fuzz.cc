// libFuzzer target for the files of a model bundle that Plinth reads itself:
// preprocess.json, the input schema of plinth-model.json and the XGBoost model
// (model.ubj, UBJSON or JSON) that the native tree evaluator reads, and an MLflow
// model directory's MLmodel (ml/mlflow_model.h; the same bytes as its data file).
// The first byte picks the file; any bytes give a value or an error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/file.h"
#include "core/json.h"
#include "ml/bundle.h"
#include "ml/mlflow_model.h"
#include "ml/preprocess.h"
#include "ml/tree_ensemble.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      if (auto j = plinth::core::ParseJson(bytes, "preprocess.json"); j.ok()) {
        (void)plinth::ml::Preprocessor::FromJson(*j, "preprocess.json");
      }
      break;
    case 1:
      if (auto j = plinth::core::ParseJson(bytes, "plinth-model.json"); j.ok()) {
        (void)plinth::ml::BundleMetaFromJson(*j, "plinth-model.json");
        (void)plinth::ml::SchemaFromJson(*j, "plinth-model.json: input_schema");
      }
      break;
    case 2:
      (void)plinth::ml::TreeEnsemble::FromXgboostModel(bytes, 4);
      break;
    default: {
      static const std::string dir = [] {
        char name[] = "/tmp/plinth-bundle-fuzz-XXXXXX";
        if (::mkdtemp(name) == nullptr) {
          std::abort();
        }
        return std::string(name);
      }();
      if (!plinth::core::AtomicWriteFile(dir + "/MLmodel", bytes).ok() ||
          !plinth::core::AtomicWriteFile(dir + "/model.ubj", bytes).ok()) {
        std::abort();
      }
      (void)plinth::ml::LoadMlflowModel(dir);
      break;
    }
  }
  return 0;
}
