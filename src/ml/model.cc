#include "ml/model.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>

namespace plinth::ml {
namespace {

// XGBoost's tree booster parameters (gbtree with tree_method hist) that
// `model.params` may set. Left out: what Plinth's own keys set (eta: model.learning_rate,
// seed, nthread: model.threads, objective: data.task, eval_metric: model.monitor) and what
// Plinth fixes (booster, tree_method: the training matrix is a hist QuantileDMatrix).
constexpr std::string_view kTreeParams[] = {
    "alpha",
    "base_score",
    "colsample_bylevel",
    "colsample_bynode",
    "colsample_bytree",
    "gamma",
    "grow_policy",
    "interaction_constraints",
    "lambda",
    "max_bin",
    "max_delta_step",
    "max_depth",
    "max_leaves",
    "min_child_weight",
    "min_split_loss",
    "monotone_constraints",
    "num_parallel_tree",
    "reg_alpha",
    "reg_lambda",
    "sampling_method",
    "scale_pos_weight",
    "subsample",
};
// gblinear's.
constexpr std::string_view kLinearParams[] = {
    "alpha",      "base_score", "feature_selector", "lambda", "reg_alpha",
    "reg_lambda", "top_k",      "updater",
};
// What the torch plugin reads (torch_model.cc).
[[maybe_unused]] constexpr std::string_view kMlpParams[] = {"dropout", "hidden_layers",
                                                            "weight_decay"};

// The explicit table of model kinds (no static-initialisation registry).
constexpr ModelKind kKinds[] = {
    {.name = "gbdt",
     .description = "gradient-boosted trees (XGBoost gbtree, hist)",
     .file_name = "model.ubj",
     .library = "xgboost",
     .create = CreateGbdt,
     .trees = true,
     .params = kTreeParams,
     .learning_rate = 0.1,
     .epochs = 1000},
    // One round of many trees: no shrinkage, nothing to stop early.
    {.name = "random_forest",
     .description = "random forest (XGBoost, num_parallel_tree trees per round)",
     .file_name = "model.ubj",
     .library = "xgboost",
     .create = CreateRandomForest,
     .trees = true,
     .params = kTreeParams,
     .stops_early = false,
     .learning_rate = 1.0,
     .epochs = 1},
    {.name = "linear",
     .description = "linear model (XGBoost gblinear: squared error, logistic, softmax)",
     .file_name = "model.ubj",
     .library = "xgboost",
     .create = CreateLinear,
     .trees = false,
     .params = kLinearParams,
     .learning_rate = 0.5,
     .epochs = 1000},
#ifdef PLINTH_WITH_TORCH
    // Adam's usual step; epochs are passes over the training rows.
    {.name = "mlp",
     .description = "multilayer perceptron (libtorch: ReLU, dropout, Adam), saved as TorchScript",
     .file_name = "model.pt",
     .library = "torch",
     .create = CreateMlp,
     .trees = false,
     .params = kMlpParams,
     .learning_rate = 0.001,
     .epochs = 100},
#endif
};

}  // namespace

std::span<const ModelKind> ModelKinds() { return kKinds; }

std::string KnownParams(const ModelKind& kind) {
  std::string out;
  for (std::string_view p : kind.params) {
    out += (out.empty() ? "" : ", ") + std::string(p);
  }
  return out;
}

Result<const ModelKind*> FindModelKind(std::string_view name) {
  std::string names;
  for (const ModelKind& k : kKinds) {
    if (k.name == name) {
      return &k;
    }
    names += (names.empty() ? "" : ", ") + std::string(k.name);
  }
#ifndef PLINTH_WITH_TORCH
  if (name == "mlp") {
    return InvalidArgument(
        "model kind \"mlp\" needs libtorch, and this plinth was built without it "
        "(PLINTH_WITH_TORCH=OFF)");
  }
#endif
  return InvalidArgument("unknown model kind \"" + std::string(name) + "\"; expected one of " +
                         names);
}

}  // namespace plinth::ml

namespace plinth::ml {
namespace {

// The torch plugin, loaded once on first use and never unloaded (models it
// made may live until exit).
struct TorchPlugin {
  Model* (*create)() = nullptr;
  const char* (*version)() = nullptr;
  std::string error;
};

std::atomic<const TorchPlugin*> loaded_plugin{nullptr};

const TorchPlugin& LoadTorchPlugin() {
  static std::once_flag once;
  static TorchPlugin plugin;
  std::call_once(once, [] {
#ifndef PLINTH_WITH_TORCH
    plugin.error = "this plinth was built without libtorch (PLINTH_WITH_TORCH=OFF)";
#else
    namespace fs = std::filesystem;
    std::vector<std::string> candidates;
    std::error_code ec;
    if (const char* env = std::getenv("PLINTH_TORCH_PLUGIN"); env != nullptr && *env) {
      candidates.push_back(env);  // when set, the only place looked at
    } else {
      fs::path exe = fs::read_symlink("/proc/self/exe", ec);
      if (!ec) {
        candidates.push_back((exe.parent_path() / "libplinth_torch.so").string());
        candidates.push_back((exe.parent_path() / "../lib/plinth/libplinth_torch.so").string());
      }
      candidates.push_back(PLINTH_TORCH_PLUGIN_BUILD_PATH);
    }
    std::string tried;
    for (const std::string& path : candidates) {
      if (!fs::exists(path, ec)) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        plugin.error = dlerror();
        return;
      }
      plugin.create = reinterpret_cast<Model* (*)()>(dlsym(handle, "PlinthTorchCreateMlp"));
      plugin.version = reinterpret_cast<const char* (*)()>(dlsym(handle, "PlinthTorchVersion"));
      if (plugin.create == nullptr || plugin.version == nullptr) {
        plugin.error = path + ": not a Plinth torch plugin";
        plugin.create = nullptr;
        return;
      }
      loaded_plugin.store(&plugin);
      return;
    }
    plugin.error = "libplinth_torch.so not found (looked at " + tried +
                   "; set PLINTH_TORCH_PLUGIN to its path)";
#endif
  });
  return plugin;
}

}  // namespace

Result<std::unique_ptr<Model>> CreateMlp() {
  const TorchPlugin& plugin = LoadTorchPlugin();
  if (plugin.create == nullptr) {
    return Unavailable("model kind \"mlp\" needs the libtorch plugin: " + plugin.error);
  }
  return std::unique_ptr<Model>(plugin.create());
}

std::string TorchVersion() {
  const TorchPlugin* plugin = loaded_plugin.load();
  return plugin != nullptr ? plugin->version() : "";
}

}  // namespace plinth::ml
