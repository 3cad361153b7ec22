#include "ml/mlflow_model.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/confined_dir.h"
#include "core/file.h"
#include "core/json.h"
#include "core/yaml.h"
#include "ml/tree_ensemble.h"

namespace plinth::ml {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxMlmodelBytes = 1 << 20;  // an MLmodel is a few KB; its signature more
constexpr int64_t kMaxModelBytes = int64_t{1} << 31;

// The regular file `rel` inside `dir` (no symbolic link out of it, no special file), at
// most `limit` bytes. `where` names it in errors.
Result<std::string> ReadInside(const std::string& dir, const std::string& rel, int64_t limit,
                               const std::string& where) {
  PLINTH_ASSIGN_OR_RETURN(core::UniqueFd fd, core::ConfinedDir(dir).OpenFile(rel));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return IoError(where + ": cannot stat it");
  }
  if (st.st_size > limit) {
    return InvalidArgument(where + ": " + std::to_string(st.st_size) + " bytes; at most " +
                           std::to_string(limit));
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      return IoError(where + ": read failed or the file shrank");
    }
    done += static_cast<size_t>(n);
  }
  return bytes;
}

// The objective's task and class labels.
Status TaskOf(const nlohmann::json& model, const std::string& where, core::Json* schema) {
  const nlohmann::json* learner =
      model.is_object() && model.contains("learner") ? &model["learner"] : nullptr;
  std::string objective;
  int64_t num_class = 0;
  if (learner != nullptr && learner->is_object()) {
    auto obj = learner->find("objective");
    if (obj != learner->end() && obj->is_object() && obj->contains("name") &&
        (*obj)["name"].is_string()) {
      objective = (*obj)["name"].get<std::string>();
    }
    auto params = learner->find("learner_model_param");
    if (params != learner->end() && params->is_object() && params->contains("num_class")) {
      const nlohmann::json& k = (*params)["num_class"];
      if (k.is_string()) {
        num_class = std::strtoll(k.get<std::string>().c_str(), nullptr, 10);
      } else if (k.is_number_integer()) {
        num_class = k.get<int64_t>();
      }
    }
  }
  if (objective == "binary:logistic") {
    (*schema)["task"] = "binary";
    (*schema)["class_labels"] = {"0", "1"};
  } else if (objective == "multi:softprob" || objective == "multi:softmax") {
    if (num_class < 2 || num_class > 100000) {
      return InvalidArgument(where + ": learner_model_param.num_class: expected 2 or more, got " +
                             std::to_string(num_class));
    }
    (*schema)["task"] = "multiclass";
    core::Json labels = core::Json::array();
    for (int64_t i = 0; i < num_class; ++i) {
      labels.push_back(std::to_string(i));
    }
    (*schema)["class_labels"] = labels;
  } else if (objective.starts_with("reg:")) {
    (*schema)["task"] = "regression";
  } else {
    return FailedPrecondition(where + ": objective '" + objective +
                              "': Plinth scores binary:logistic, multi:softprob, multi:softmax "
                              "and reg:* XGBoost models");
  }
  return Status::Ok();
}

// The input columns: from a column signature, else f0..f(n-1).
Result<core::Json> InputsOf(const YAML::Node& mlmodel, const std::string& where,
                            int64_t num_features) {
  core::Json inputs = core::Json::array();
  const YAML::Node signature = mlmodel["signature"];
  if (signature.IsDefined() && signature.IsMap() && signature["inputs"].IsDefined() &&
      signature["inputs"].IsScalar()) {
    PLINTH_ASSIGN_OR_RETURN(core::Json spec, core::ParseJson(signature["inputs"].Scalar(),
                                                             where + ": signature.inputs"));
    if (!spec.is_array()) {
      return InvalidArgument(where + ": signature.inputs: expected a JSON list");
    }
    const bool columns = !spec.empty() && spec[0].is_object() && spec[0].contains("name");
    if (columns) {
      for (const core::Json& c : spec) {
        if (!c.is_object() || !c.contains("name") || !c["name"].is_string() ||
            !c.contains("type") || !c["type"].is_string()) {
          return InvalidArgument(where + ": signature.inputs: expected {name, type} columns");
        }
        const std::string type = c["type"].get<std::string>();
        if (type != "double" && type != "float" && type != "long" && type != "integer" &&
            type != "boolean") {
          return FailedPrecondition(where + ": signature.inputs: column '" +
                                    c["name"].get<std::string>() + "' is " + type +
                                    ": an XGBoost model scores numeric columns only");
        }
        inputs.push_back({{"name", c["name"]}, {"type", type == "boolean" ? "bool" : "float64"}});
      }
    }
  }
  if (inputs.empty()) {
    for (int64_t i = 0; i < num_features; ++i) {
      inputs.push_back({{"name", "f" + std::to_string(i)}, {"type", "float64"}});
    }
  }
  if (static_cast<int64_t>(inputs.size()) != num_features) {
    return InvalidArgument(where + ": signature.inputs: " + std::to_string(inputs.size()) +
                           " columns, but the model has " + std::to_string(num_features) +
                           " features");
  }
  return inputs;
}

}  // namespace

bool IsMlflowModelDir(const std::string& dir) {
  struct stat st {};
  return ::stat((dir + "/" + std::string(kBundleMetaFile)).c_str(), &st) != 0 &&
         ::stat((dir + "/MLmodel").c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

namespace {

Result<std::unique_ptr<Predictor>> Load(const std::string& dir, const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text, ReadInside(dir, "MLmodel", kMaxMlmodelBytes, path));
  PLINTH_ASSIGN_OR_RETURN(YAML::Node mlmodel, core::ParseYaml(text, path));
  const YAML::Node flavors = mlmodel.IsMap() ? mlmodel["flavors"] : YAML::Node();
  if (!flavors.IsDefined() || !flavors.IsMap()) {
    return InvalidArgument(path + ": key 'flavors': expected a mapping of flavors");
  }
  const YAML::Node xgb = flavors["xgboost"];
  if (!xgb.IsDefined() || !xgb.IsMap()) {
    std::string names;
    for (const auto& f : flavors) {
      names += (names.empty() ? "" : ", ") + f.first.as<std::string>("?");
    }
    return FailedPrecondition(path + ": flavors " + names +
                              ": Plinth serves MLflow models of the xgboost flavor (a pickled "
                              "scikit-learn or Python model needs Python to load)");
  }
  PLINTH_ASSIGN_OR_RETURN(
      std::string data,
      core::YamlAs<std::string>(xgb["data"], path, "flavors.xgboost.data", "a file name"));
  // The data file is named by the (untrusted) MLmodel: a plain relative path inside `dir`.
  const fs::path rel = fs::path(data).lexically_normal();
  if (data.empty() || rel.is_absolute() || rel.begin() == rel.end() || *rel.begin() == "..") {
    return InvalidArgument(path +
                           ": flavors.xgboost.data: expected a file inside the model "
                           "directory, got '" +
                           data + "'");
  }
  const std::string model_path = dir + "/" + rel.string();
  Result<std::string> bytes_or = ReadInside(dir, rel.string(), kMaxModelBytes, model_path);
  if (!bytes_or.ok()) {
    return Status(bytes_or.status().code(),
                  model_path + " (flavors.xgboost.data): " + bytes_or.status().message());
  }
  const std::string& bytes = *bytes_or;
  Result<nlohmann::json> parsed = TreeEnsemble::ReadXgboostModel(bytes);
  if (!parsed.ok()) {
    return InvalidArgument(model_path + ": " + parsed.status().message());
  }
  core::Json schema = {{"name", fs::path(dir).lexically_normal().filename().string()}};
  PLINTH_RETURN_IF_ERROR(TaskOf(*parsed, model_path, &schema));
  int64_t num_features = 0;
  const auto& params = (*parsed)["learner"]["learner_model_param"];
  if (params.is_object() && params.contains("num_feature") && params["num_feature"].is_string()) {
    num_features = std::strtoll(params["num_feature"].get<std::string>().c_str(), nullptr, 10);
  }
  if (num_features <= 0 || num_features > 1'000'000) {
    return InvalidArgument(model_path + ": learner_model_param.num_feature: expected 1 to 10^6");
  }
  PLINTH_ASSIGN_OR_RETURN(schema["inputs"], InputsOf(mlmodel, path, num_features));
  return BuildImportedModel("xgboost", bytes, schema, path);
}

}  // namespace

Result<std::unique_ptr<Predictor>> LoadMlflowModel(const std::string& dir) {
  const std::string path = dir + "/MLmodel";
  try {
    return Load(dir, path);
  } catch (const YAML::Exception& e) {  // a node of an unexpected kind, read past the checks
    return InvalidArgument(path + ": not an MLmodel file as MLflow writes it: " + e.msg);
  }
}

}  // namespace plinth::ml
