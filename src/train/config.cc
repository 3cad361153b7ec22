#include "train/config.h"

#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "core/confined_dir.h"
#include "core/yaml.h"

namespace plinth::train {
namespace {

namespace fs = std::filesystem;

// Reads the keys of one mapping of the config, remembering which it knows so
// that a misspelt key is an error rather than silently ignored.
class Section {
 public:
  Section(const YAML::Node& node, std::string prefix, const std::string& source)
      : node_(node), prefix_(std::move(prefix)), source_(source) {}

  Status CheckMap() const {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      return InvalidArgument(core::YamlWhere(node_, source_) + ": key '" + Trimmed() +
                             "': expected a mapping");
    }
    return Status::Ok();
  }

  YAML::Node Get(std::string_view key) {
    known_.insert(std::string(key));
    if (!node_ || !node_.IsMap()) {
      return YAML::Node(YAML::NodeType::Undefined);
    }
    return node_[std::string(key)];
  }

  // Whether `key` is given with a value (not absent, not null).
  bool Has(std::string_view key) {
    YAML::Node n = Get(key);
    return n.IsDefined() && !n.IsNull();
  }

  template <typename T>
  Status Read(std::string_view key, T& out, std::string_view expected) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) {
      return Status::Ok();
    }
    PLINTH_ASSIGN_OR_RETURN(out,
                            core::YamlAs<T>(n, core::YamlWhere(n, source_), Path(key), expected));
    return Status::Ok();
  }

  Status ReadList(std::string_view key, std::vector<std::string>& out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) {
      return Status::Ok();
    }
    if (n.IsScalar()) {
      out = {n.Scalar()};
      return Status::Ok();
    }
    if (!n.IsSequence()) {
      return Error(n, key, "a list of names");
    }
    out.clear();
    for (const YAML::Node& item : n) {
      if (!item.IsScalar()) {
        return Error(item, key, "a list of names");
      }
      out.push_back(item.Scalar());
    }
    return Status::Ok();
  }

  // An enum: `parse` turns the text into the value or an error message.
  template <typename T, typename Parse>
  Status ReadEnum(std::string_view key, T& out, Parse parse) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) {
      return Status::Ok();
    }
    if (!n.IsScalar()) {
      return Error(n, key, "a name");
    }
    Result<T> v = parse(n.Scalar());
    if (!v.ok()) {
      return InvalidArgument(core::YamlWhere(n, source_) + ": key '" + Path(key) +
                             "': " + v.status().message());
    }
    out = *v;
    return Status::Ok();
  }

  Status Error(const YAML::Node& n, std::string_view key, std::string_view expected) const {
    std::string got = n.IsScalar()     ? "\"" + n.Scalar() + "\""
                      : n.IsSequence() ? "a list"
                      : n.IsMap()      ? "a mapping"
                                       : "nothing";
    return InvalidArgument(core::YamlWhere(n, source_) + ": key '" + Path(key) + "': expected " +
                           std::string(expected) + ", got " + got);
  }

  // Fails on the first key that was never asked for.
  Status Done() const {
    if (!node_ || !node_.IsMap()) {
      return Status::Ok();
    }
    for (const auto& kv : node_) {
      std::string key = kv.first.Scalar();
      if (!known_.count(key)) {
        std::string list;
        for (const std::string& k : known_) {
          list += (list.empty() ? "" : ", ") + k;
        }
        return InvalidArgument(core::YamlWhere(kv.first, source_) + ": unknown key '" + Path(key) +
                               "'; expected one of " + list);
      }
    }
    return Status::Ok();
  }

  std::string Path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }
  Section Sub(std::string_view key) { return Section(Get(key), Path(key), source_); }

 private:
  std::string Trimmed() const { return prefix_.empty() ? "(top level)" : prefix_; }
  YAML::Node node_;
  std::string prefix_;
  const std::string& source_;
  std::set<std::string> known_;
};

// A `model.params` key must be one the kind passes to its library; a key that
// one of Plinth's own keys sets is pointed there.
Status CheckParamKey(const ml::ModelKind& kind, const YAML::Node& key_node,
                     const std::string& source) {
  const std::string key = key_node.Scalar();
  for (std::string_view known : kind.params) {
    if (known == key) {
      return Status::Ok();
    }
  }
  static constexpr std::pair<std::string_view, std::string_view> kPlinthKeys[] = {
      {"eta", "model.learning_rate"},
      {"learning_rate", "model.learning_rate"},
      {"nthread", "model.threads"},
      {"n_jobs", "model.threads"},
      {"seed", "seed"},
      {"random_state", "seed"},
      {"objective", "data.task"},
      {"num_class", "data.task"},
      {"eval_metric", "model.monitor"},
      {"n_estimators", "model.epochs"},
      {"num_boost_round", "model.epochs"},
      {"epochs", "model.epochs"},
      {"batch_size", "model.batch_size"},
      {"early_stopping_rounds", "model.early_stopping_patience"},
  };
  std::string hint;
  for (const auto& [library_key, plinth_key] : kPlinthKeys) {
    if (library_key == key) {
      hint = "; set '" + std::string(plinth_key) + "' instead";
    }
  }
  return InvalidArgument(core::YamlWhere(key_node, source) + ": key 'model.params." + key +
                         "': not a parameter of " + std::string(kind.name) + hint +
                         " (known: " + ml::KnownParams(kind) + ")");
}

Status ApplyOverride(YAML::Node& root, const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument("--set " + assignment + ": expected KEY.PATH=VALUE");
  }
  std::string key = assignment.substr(0, eq);
  PLINTH_ASSIGN_OR_RETURN(YAML::Node value,
                          core::ParseYaml(assignment.substr(eq + 1), "--set " + key));
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  // yaml-cpp nodes are handles: walk by reassigning copies of child handles.
  std::vector<YAML::Node> path = {root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].empty()) {
      return InvalidArgument("--set " + assignment + ": empty key in \"" + key + "\"");
    }
    YAML::Node child = path.back()[parts[i]];
    if (child && !child.IsNull() && !child.IsMap()) {
      return InvalidArgument("--set " + assignment + ": '" + parts[i] + "' is not a mapping");
    }
    path.push_back(child);
  }
  path.back()[parts.back()] = value;
  return Status::Ok();
}

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) {
    return p;
  }
  return (fs::path(base_dir) / p).lexically_normal().string();
}

Status CheckFraction(const Section& s, double v, std::string_view key) {
  if (!(v >= 0 && v <= 1)) {
    return InvalidArgument(s.Path(key) + ": expected a fraction between 0 and 1, got " +
                           std::to_string(v));
  }
  return Status::Ok();
}

}  // namespace

ml::OutlierMethod DefaultOutlierMethod(const ml::ModelKind& kind) {
  return kind.trees ? ml::OutlierMethod::kNone : ml::OutlierMethod::kIqr;
}

Result<TrainingConfig> LoadTrainingConfig(const std::string& path,
                                          const std::vector<std::string>& overrides) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node root, core::ReadYamlFile(path));
  if (!root || root.IsNull()) {
    root = YAML::Node(YAML::NodeType::Map);
  }
  if (!root.IsMap()) {
    return InvalidArgument(path + ": expected a mapping of sections (data, model, ...)");
  }
  for (const std::string& o : overrides) {
    PLINTH_RETURN_IF_ERROR(ApplyOverride(root, o));
  }
  TrainingConfig c;
  c.source = path;
  const std::string base = fs::path(path).parent_path().string();
  Section top(root, "", path);
  PLINTH_RETURN_IF_ERROR(top.Read("name", c.name, "a name"));
  PLINTH_RETURN_IF_ERROR(top.Read("seed", c.seed, "a non-negative integer"));
  PLINTH_RETURN_IF_ERROR(top.Read("output", c.output, "a directory"));

  Section data = top.Sub("data");
  PLINTH_RETURN_IF_ERROR(data.CheckMap());
  PLINTH_RETURN_IF_ERROR(data.Read("path", c.data_path, "a CSV file"));
  PLINTH_RETURN_IF_ERROR(data.Read("test", c.test_path, "a CSV file"));
  PLINTH_RETURN_IF_ERROR(data.Read("target", c.target, "a column name"));
  ml::Task task = ml::Task::kBinary;
  bool has_task = data.Has("task");
  PLINTH_RETURN_IF_ERROR(data.ReadEnum("task", task, ml::ParseTask));
  if (has_task) {
    c.task = task;
  }
  PLINTH_RETURN_IF_ERROR(data.Read("positive_class", c.positive_class, "a class label"));
  PLINTH_RETURN_IF_ERROR(data.ReadList("id_columns", c.id_columns));
  PLINTH_RETURN_IF_ERROR(data.ReadList("ignore_columns", c.ignore_columns));
  PLINTH_RETURN_IF_ERROR(data.Read("delimiter", c.delimiter, "one character"));
  PLINTH_RETURN_IF_ERROR(data.ReadList("null_values", c.null_values));
  if (data.Has("features")) {
    Section features = data.Sub("features");
    PLINTH_RETURN_IF_ERROR(features.CheckMap());
    TrainingConfig::FeatureInput in;
    PLINTH_RETURN_IF_ERROR(features.Read("entities", in.entities, "a CSV or Parquet file"));
    PLINTH_RETURN_IF_ERROR(features.Read("service", in.service, "a feature service's name"));
    PLINTH_RETURN_IF_ERROR(features.Read("timestamp_column", in.timestamp_column, "a column name"));
    PLINTH_RETURN_IF_ERROR(features.Done());
    if (in.entities.empty() || in.service.empty()) {
      return InvalidArgument(path +
                             ": key 'data.features': expected entities and service (the "
                             "entity rows and the feature service to join them with)");
    }
    if (!c.data_path.empty()) {
      return InvalidArgument(path +
                             ": keys 'data.path' and 'data.features': give one (the "
                             "training set is built from the feature store, or read)");
    }
    c.features = std::move(in);
  }
  PLINTH_RETURN_IF_ERROR(data.Done());
  if (c.data_path.empty() && !c.features) {
    return InvalidArgument(path +
                           ": key 'data.path': missing (the training CSV file, or "
                           "data.features)");
  }
  if (c.target.empty()) {
    return InvalidArgument(path + ": key 'data.target': missing (the column to predict)");
  }
  if (c.delimiter.size() > 1) {
    return InvalidArgument(path + ": key 'data.delimiter': expected one character");
  }

  ml::PreprocessOptions& p = c.preprocess;
  Section clean = top.Sub("clean");
  PLINTH_RETURN_IF_ERROR(clean.CheckMap());
  PLINTH_RETURN_IF_ERROR(clean.Read("drop_duplicates", c.drop_duplicates, "true or false"));
  Section impute = clean.Sub("impute");
  PLINTH_RETURN_IF_ERROR(impute.CheckMap());
  PLINTH_RETURN_IF_ERROR(impute.ReadEnum("numeric", p.numeric_impute, ml::ParseNumericImpute));
  PLINTH_RETURN_IF_ERROR(impute.Read("constant", p.impute_constant, "a number"));
  PLINTH_RETURN_IF_ERROR(
      impute.ReadEnum("categorical", p.categorical_impute, ml::ParseCategoricalImpute));
  PLINTH_RETURN_IF_ERROR(impute.Done());
  Section outliers = clean.Sub("outliers");
  PLINTH_RETURN_IF_ERROR(outliers.CheckMap());
  // The default method depends on the model kind, which is read further down.
  const bool has_outlier_method = outliers.Has("method");
  const bool has_outlier_action = outliers.Has("action");
  PLINTH_RETURN_IF_ERROR(outliers.ReadEnum("method", p.outliers, ml::ParseOutlierMethod));
  PLINTH_RETURN_IF_ERROR(outliers.Read("iqr_factor", p.iqr_factor, "a positive number"));
  PLINTH_RETURN_IF_ERROR(outliers.Read("z_threshold", p.z_threshold, "a positive number"));
  PLINTH_RETURN_IF_ERROR(outliers.ReadEnum("action", p.outlier_action, ml::ParseOutlierAction));
  PLINTH_RETURN_IF_ERROR(outliers.Read("clip_at_predict", p.clip_at_predict, "true or false"));
  PLINTH_RETURN_IF_ERROR(outliers.Done());
  PLINTH_RETURN_IF_ERROR(clean.Done());
  if (!(p.iqr_factor > 0) || !(p.z_threshold > 0)) {
    return InvalidArgument(path +
                           ": keys 'clean.outliers.iqr_factor' and "
                           "'clean.outliers.z_threshold' must be positive");
  }

  Section features = top.Sub("features");
  PLINTH_RETURN_IF_ERROR(features.CheckMap());
  PLINTH_RETURN_IF_ERROR(features.ReadEnum("scale", p.scaling, ml::ParseScaling));
  PLINTH_RETURN_IF_ERROR(features.Read("max_categories", p.max_categories, "an integer >= 1"));
  PLINTH_RETURN_IF_ERROR(
      features.Read("min_category_fraction", p.min_category_fraction, "a fraction"));
  std::vector<std::string> parts;
  bool has_parts = features.Has("date_parts");
  PLINTH_RETURN_IF_ERROR(features.ReadList("date_parts", parts));
  if (has_parts) {
    p.date_parts.clear();
    for (const std::string& part : parts) {
      Result<ml::DatePart> dp = ml::ParseDatePart(part);
      if (!dp.ok()) {
        return InvalidArgument(path + ": key 'features.date_parts': " + dp.status().message());
      }
      p.date_parts.push_back(*dp);
    }
  }
  PLINTH_RETURN_IF_ERROR(features.ReadList("log", p.log_columns));
  PLINTH_RETURN_IF_ERROR(features.Done());
  if (p.max_categories < 1) {
    return InvalidArgument(path + ": key 'features.max_categories': expected an integer >= 1");
  }
  PLINTH_RETURN_IF_ERROR(CheckFraction(features, p.min_category_fraction, "min_category_fraction"));

  Section split = top.Sub("split");
  PLINTH_RETURN_IF_ERROR(split.CheckMap());
  bool test_set = split.Has("test");
  bool train_set = split.Has("train");
  if (!c.test_path.empty() && !test_set) {
    // A separate test file replaces the test split.
    c.split = {0.85, 0.15, 0.0};
  }
  PLINTH_RETURN_IF_ERROR(split.Read("train", c.split.train, "a fraction"));
  PLINTH_RETURN_IF_ERROR(split.Read("validation", c.split.validation, "a fraction"));
  PLINTH_RETURN_IF_ERROR(split.Read("test", c.split.test, "a fraction"));
  PLINTH_RETURN_IF_ERROR(split.Read("stratify", c.stratify, "true or false"));
  PLINTH_RETURN_IF_ERROR(split.Read("cv_folds", c.cv_folds, "an integer"));
  PLINTH_RETURN_IF_ERROR(split.Done());
  if (!train_set && (test_set || split.Has("validation"))) {
    // Only validation/test given: train takes the rest.
    c.split.train = 1.0 - c.split.validation - c.split.test;
  }
  PLINTH_RETURN_IF_ERROR(CheckFraction(split, c.split.train, "train"));
  PLINTH_RETURN_IF_ERROR(CheckFraction(split, c.split.validation, "validation"));
  PLINTH_RETURN_IF_ERROR(CheckFraction(split, c.split.test, "test"));
  double sum = c.split.train + c.split.validation + c.split.test;
  if (std::abs(sum - 1.0) > 1e-9) {
    return InvalidArgument(path +
                           ": keys 'split.train' + 'split.validation' + 'split.test' must "
                           "sum to 1, got " +
                           std::to_string(sum));
  }
  if (c.split.train <= 0) {
    return InvalidArgument(path + ": key 'split.train': must be more than 0");
  }
  if (c.split.test > 0 && !c.test_path.empty()) {
    return InvalidArgument(path +
                           ": key 'split.test': must be 0 when 'data.test' names a test "
                           "file");
  }
  if (c.cv_folds == 1 || c.cv_folds < 0 || c.cv_folds > 100) {
    return InvalidArgument(path + ": key 'split.cv_folds': expected 0 (off) or 2..100");
  }

  Section model = top.Sub("model");
  PLINTH_RETURN_IF_ERROR(model.CheckMap());
  PLINTH_RETURN_IF_ERROR(model.Read("type", c.model_type, "a model kind"));
  PLINTH_RETURN_IF_ERROR(model.Read("model_type", c.model_type, "a model kind"));
  // Given or not: 0 given is an error, not the kind's default.
  const bool has_learning_rate = model.Has("learning_rate");
  const bool has_epochs = model.Has("epochs");
  PLINTH_RETURN_IF_ERROR(model.Read("learning_rate", c.learning_rate, "a positive number"));
  PLINTH_RETURN_IF_ERROR(model.Read("batch_size", c.batch_size, "a positive integer"));
  PLINTH_RETURN_IF_ERROR(model.Read("epochs", c.epochs, "a positive integer"));
  PLINTH_RETURN_IF_ERROR(
      model.Read("early_stopping_patience", c.early_stopping_patience, "an integer >= 0"));
  PLINTH_RETURN_IF_ERROR(model.Read("monitor", c.monitor, "a metric name"));
  PLINTH_RETURN_IF_ERROR(model.Read("class_weight", c.class_weight, "none or balanced"));
  PLINTH_RETURN_IF_ERROR(model.Read("threshold", c.threshold, "a probability"));
  PLINTH_RETURN_IF_ERROR(model.Read("threads", c.threads, "an integer >= 0"));
  YAML::Node params = model.Get("params");
  PLINTH_RETURN_IF_ERROR(model.Done());
  Result<const ml::ModelKind*> kind = ml::FindModelKind(c.model_type);
  if (!kind.ok()) {
    return InvalidArgument(path + ": key 'model.type': " + kind.status().message());
  }
  if (!has_outlier_method) {
    // An action alone asks for outlier handling, so it gets the iqr bounds.
    p.outliers = has_outlier_action ? ml::OutlierMethod::kIqr : DefaultOutlierMethod(**kind);
  }
  if (!(*kind)->stops_early) {
    // One round: the default validation rows go to training (random_forest on
    // bench/train_matrix.py: titanic +0.011 accuracy, california +0.005 R2),
    // and early stopping is off unless asked for.
    if (!split.Has("validation") && !split.Has("train")) {
      c.split.train += c.split.validation;
      c.split.validation = 0;
    }
    if (!model.Has("early_stopping_patience")) {
      c.early_stopping_patience = 0;
    }
  }
  if (!has_learning_rate) {
    c.learning_rate = (*kind)->learning_rate;
  }
  if (!has_epochs) {
    c.epochs = (*kind)->epochs;
  }
  if (!(c.learning_rate > 0) || !std::isfinite(c.learning_rate)) {
    return InvalidArgument(path + ": key 'model.learning_rate': expected a positive number, got " +
                           std::to_string(c.learning_rate));
  }
  if (c.epochs < 1 || c.batch_size < 1 || c.early_stopping_patience < 0 || c.threads < 0) {
    return InvalidArgument(path +
                           ": keys 'model.epochs' and 'model.batch_size' must be >= 1, "
                           "'model.early_stopping_patience' and 'model.threads' >= 0");
  }
  if (c.split.validation == 0 && c.early_stopping_patience > 0) {
    // Early stopping would watch nothing; training every round instead must be asked for.
    return InvalidArgument(path +
                           ": key 'split.validation': 0 leaves early stopping no rows to "
                           "watch ('model.early_stopping_patience' is " +
                           std::to_string(c.early_stopping_patience) +
                           "); give a validation fraction, or set "
                           "model.early_stopping_patience: 0 to train every round without one");
  }
  if (c.threads > 1024) {
    return InvalidArgument(path + ": key 'model.threads': expected 0 (one per core) to 1024, got " +
                           std::to_string(c.threads));
  }
  if (c.class_weight != "none" && c.class_weight != "balanced") {
    return InvalidArgument(path + ": key 'model.class_weight': expected none or balanced, got \"" +
                           c.class_weight + "\"");
  }
  if (!(c.threshold > 0 && c.threshold < 1)) {
    return InvalidArgument(path + ": key 'model.threshold': expected a probability in (0, 1)");
  }
  if (params && !params.IsNull()) {
    if (!params.IsMap()) {
      return InvalidArgument(core::YamlWhere(params, path) +
                             ": key 'model.params': expected a mapping of library parameters");
    }
    // YAML -> JSON, keeping numbers and booleans typed.
    for (const auto& kv : params) {
      PLINTH_RETURN_IF_ERROR(CheckParamKey(**kind, kv.first, path));
      const YAML::Node& v = kv.second;
      core::Json j;
      if (v.IsSequence()) {
        j = core::Json::array();
        for (const YAML::Node& item : v) {
          try {
            j.push_back(item.as<int64_t>());
          } catch (const YAML::Exception&) {
            return InvalidArgument(core::YamlWhere(item, path) + ": key 'model.params." +
                                   kv.first.Scalar() + "': expected a list of integers");
          }
        }
      } else if (v.IsScalar()) {
        const std::string& s = v.Scalar();
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size()) {
          j = d;
          if (d == static_cast<double>(static_cast<int64_t>(d)) &&
              s.find_first_of(".eE") == std::string::npos) {
            j = static_cast<int64_t>(d);
          }
        } else if (s == "true" || s == "false") {
          j = s == "true";
        } else {
          j = s;
        }
      } else {
        return InvalidArgument(core::YamlWhere(v, path) + ": key 'model.params." +
                               kv.first.Scalar() + "': expected a value or a list");
      }
      c.params[kv.first.Scalar()] = j;
    }
  }
  Section monitoring = top.Sub("monitoring");
  PLINTH_RETURN_IF_ERROR(
      monitoring.Read("reference_rows", c.reference_rows, "an integer from 0 to 10000000"));
  PLINTH_RETURN_IF_ERROR(monitoring.Done());
  if (c.reference_rows < 0 || c.reference_rows > 10'000'000) {
    return InvalidArgument(path +
                           ": key 'monitoring.reference_rows': expected an integer from 0 "
                           "to 10000000, got " +
                           std::to_string(c.reference_rows));
  }
  Section tracking = top.Sub("tracking");
  PLINTH_RETURN_IF_ERROR(tracking.Read("experiment", c.experiment, "an experiment name"));
  PLINTH_RETURN_IF_ERROR(tracking.Read("register", c.register_model, "true or false"));
  PLINTH_RETURN_IF_ERROR(tracking.Done());
  PLINTH_RETURN_IF_ERROR(top.Done());

  c.data_path = Resolve(base, c.data_path);
  c.test_path = Resolve(base, c.test_path);
  if (c.output.empty()) {
    c.output = "models/" + (!c.name.empty() ? c.name
                            : c.features    ? c.features->service
                                            : fs::path(c.data_path).stem().string());
  }
  c.output = Resolve(base, c.output);
  if (c.features) {
    c.features->entities = Resolve(base, c.features->entities);
    c.data_path = c.output + ".training-set.parquet";
  }
  const bool named = !c.name.empty();
  if (!named) {
    c.name = fs::path(c.output).filename().string();
  }
  // The name becomes file names (the bundle under models/, the prediction log
  // under .plinth/monitoring/) and the registered model's name.
  if (Status s = core::CheckPathComponent(c.name, "name"); !s.ok()) {
    return InvalidArgument(path + ": key 'name': " + s.message() +
                           (named ? "" : " (taken from 'output'; set 'name')"));
  }
  if (c.experiment.empty()) {
    c.experiment = c.name;
  }
  return c;
}

namespace {

// data.features as the run's params record it (only when given).
void AddFeatures(const TrainingConfig& c, core::Json& out) {
  if (c.features) {
    out["data"]["features"] = {{"entities", c.features->entities},
                               {"service", c.features->service},
                               {"timestamp_column", c.features->timestamp_column}};
  }
}

}  // namespace

core::Json TrainingConfig::ToJson() const {
  const ml::PreprocessOptions& p = preprocess;
  core::Json parts = core::Json::array();
  for (ml::DatePart part : p.date_parts) {
    parts.push_back(ml::Name(part));
  }
  core::Json out{
      {"name", name},
      {"seed", seed},
      {"data",
       {{"path", data_path},
        {"features", features ? core::Json{{"entities", features->entities},
                                           {"service", features->service},
                                           {"timestamp_column", features->timestamp_column}}
                              : core::Json(nullptr)},
        {"test", test_path},
        {"target", target},
        {"task", task ? core::Json(ml::Name(*task)) : core::Json(nullptr)},
        {"positive_class", positive_class},
        {"id_columns", id_columns},
        {"ignore_columns", ignore_columns}}},
      {"clean",
       {{"drop_duplicates", drop_duplicates},
        {"impute",
         {{"numeric", ml::Name(p.numeric_impute)},
          {"constant", p.impute_constant},
          {"categorical", ml::Name(p.categorical_impute)}}},
        {"outliers",
         {{"method", ml::Name(p.outliers)},
          {"iqr_factor", p.iqr_factor},
          {"z_threshold", p.z_threshold},
          {"action", ml::Name(p.outlier_action)},
          {"clip_at_predict", p.clip_at_predict}}}}},
      {"features",
       {{"scale", ml::Name(p.scaling)},
        {"max_categories", p.max_categories},
        {"min_category_fraction", p.min_category_fraction},
        {"date_parts", parts},
        {"log", p.log_columns}}},
      {"split",
       {{"train", split.train},
        {"validation", split.validation},
        {"test", split.test},
        {"stratify", stratify},
        {"cv_folds", cv_folds}}},
      {"model",
       {{"type", model_type},
        {"learning_rate", learning_rate},
        {"batch_size", batch_size},
        {"epochs", epochs},
        {"early_stopping_patience", early_stopping_patience},
        {"monitor", monitor},
        {"class_weight", class_weight},
        {"threshold", threshold},
        {"params", params}}},
      {"output", output},
      {"monitoring", {{"reference_rows", reference_rows}}},
      {"tracking", {{"experiment", experiment}, {"register", register_model}}}};
  AddFeatures(*this, out);
  return out;
}

}  // namespace plinth::train
