// libFuzzer target for the files of a model bundle that Plinth reads itself:
// preprocess.json, the input schema of plinth-model.json and the XGBoost model
// (model.ubj, UBJSON or JSON) that the native tree evaluator reads. The first
// byte picks the file; any bytes give a value or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "ml/bundle.h"
#include "ml/preprocess.h"
#include "ml/tree_ensemble.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
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
    default:
      (void)plinth::ml::TreeEnsemble::FromXgboostModel(bytes, 4);
      break;
  }
  return 0;
}
