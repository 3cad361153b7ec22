#include "ml/tree_ensemble.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <thread>
#include <tuple>

#include "core/json.h"
#include "core/thread_pool.h"

namespace plinth::ml {
namespace {

// Rows walked together through one tree: enough independent walks to hide
// the loads' latency, few enough that their values stay in the L1 cache.
constexpr int64_t kBlockRows = 64;
// Below this many rows per thread, starting a thread costs more than it saves.
constexpr int64_t kRowsPerThread = 4096;

// How an objective turns the summed margin into its prediction, and its base
// score into a margin (XGBoost's PredTransform and ProbToMargin).
struct Objective {
  const char* name;
  bool logit_base;  // base margin = -log(1 / base_score - 1)
  int transform;    // 0 identity, 1 sigmoid, 2 softmax
};
constexpr Objective kObjectives[] = {
    {"reg:squarederror", false, 0}, {"reg:squaredlogerror", false, 0},
    {"binary:logitraw", false, 0},  {"reg:logistic", true, 1},
    {"binary:logistic", true, 1},   {"multi:softprob", false, 2},
};

// XGBoost's common::Sigmoid, operation for operation.
inline float Sigmoid(float x) {
  constexpr float kEps = 1e-16f;
  x = std::min(-x, 88.7f);
  float denom = expf(x) + 1.0f + kEps;
  return 1.0f / denom;
}

// XGBoost's common::Softmax over one row, in place.
void Softmax(float* v, int64_t n) {
  float wmax = v[0];
  for (int64_t i = 1; i < n; ++i) {
    wmax = fmaxf(v[i], wmax);
  }
  double wsum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    v[i] = expf(v[i] - wmax);
    wsum += v[i];
  }
  for (int64_t i = 0; i < n; ++i) {
    v[i] /= static_cast<float>(wsum);
  }
}

Status Malformed(const std::string& where, const std::string& what) {
  return InvalidArgument("XGBoost model: " + where + ": expected " + what);
}

Result<const nlohmann::json*> Member(const nlohmann::json& obj, const char* key,
                                     const std::string& where) {
  if (!obj.is_object() || !obj.contains(key)) {
    return Malformed(where, std::string("a member \"") + key + "\"");
  }
  return &obj[key];
}

// A number XGBoost writes as a string ("5E-1", "14") or as a number.
Result<double> NumberField(const nlohmann::json& obj, const char* key, const std::string& where) {
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* v, Member(obj, key, where));
  if (v->is_number()) {
    return v->get<double>();
  }
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) {
      return d;
    }
  }
  return Malformed(where + "." + key, "a number");
}

template <typename T>
Result<std::vector<T>> NumberArray(const nlohmann::json& obj, const char* key,
                                   const std::string& where, size_t size) {
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* v, Member(obj, key, where));
  if (!v->is_array() || v->size() != size) {
    return Malformed(where + "." + key, "an array of " + std::to_string(size) + " numbers");
  }
  std::vector<T> out;
  out.reserve(size);
  for (const nlohmann::json& e : *v) {
    if (e.is_boolean()) {
      out.push_back(static_cast<T>(e.get<bool>()));
    } else if (e.is_number()) {
      out.push_back(e.get<T>());
    } else {
      return Malformed(where + "." + key, "numbers");
    }
  }
  return out;
}

}  // namespace

Result<TreeEnsemble> TreeEnsemble::FromXgboostJson(const nlohmann::json& model,
                                                   int64_t num_features) {
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* learner, Member(model, "learner", "model"));
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* booster,
                          Member(*learner, "gradient_booster", "learner"));
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* booster_name,
                          Member(*booster, "name", "gradient_booster"));
  if (*booster_name != "gbtree") {
    return Unimplemented("the " + booster_name->dump() + " booster is evaluated by XGBoost");
  }
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* objective,
                          Member(*learner, "objective", "learner"));
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* objective_name,
                          Member(*objective, "name", "objective"));
  const Objective* obj = nullptr;
  for (const Objective& o : kObjectives) {
    if (*objective_name == o.name) {
      obj = &o;
    }
  }
  if (obj == nullptr) {
    return Unimplemented("the objective " + objective_name->dump() + " is evaluated by XGBoost");
  }
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* params,
                          Member(*learner, "learner_model_param", "learner"));
  PLINTH_ASSIGN_OR_RETURN(double base_score,
                          NumberField(*params, "base_score", "learner_model_param"));
  PLINTH_ASSIGN_OR_RETURN(double num_class,
                          NumberField(*params, "num_class", "learner_model_param"));
  PLINTH_ASSIGN_OR_RETURN(double num_feature,
                          NumberField(*params, "num_feature", "learner_model_param"));
  if (static_cast<int64_t>(num_feature) != num_features) {
    return InvalidArgument("the XGBoost model has " +
                           std::to_string(static_cast<int64_t>(num_feature)) +
                           " features; expected " + std::to_string(num_features));
  }

  TreeEnsemble e;
  int64_t bytes = 0;
  e.objective_ = objective_name->get<std::string>();
  e.num_features_ = num_features;
  e.groups_ = obj->transform == 2 ? std::max<int64_t>(static_cast<int64_t>(num_class), 1) : 1;
  const float base = static_cast<float>(base_score);
  if (obj->logit_base && !(base > 0.0f && base < 1.0f)) {
    return Malformed("learner_model_param.base_score", "a value in (0, 1) for " + e.objective_);
  }
  e.base_margin_ = obj->logit_base ? -logf(1.0f / base - 1.0f) : base;
  e.transform_ = static_cast<Transform>(obj->transform);

  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* gbtree,
                          Member(*booster, "model", "gradient_booster"));
  PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* trees, Member(*gbtree, "trees", "model"));
  if (!trees->is_array()) {
    return Malformed("model.trees", "an array");
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<int32_t> tree_info,
                          NumberArray<int32_t>(*gbtree, "tree_info", "model", trees->size()));
  for (size_t t = 0; t < trees->size(); ++t) {
    const nlohmann::json& tree = (*trees)[t];
    const std::string where = "trees[" + std::to_string(t) + "]";
    PLINTH_ASSIGN_OR_RETURN(const nlohmann::json* tree_param, Member(tree, "tree_param", where));
    PLINTH_ASSIGN_OR_RETURN(double num_nodes_d, NumberField(*tree_param, "num_nodes", where));
    PLINTH_ASSIGN_OR_RETURN(double leaf_vector,
                            NumberField(*tree_param, "size_leaf_vector", where));
    if (leaf_vector > 1) {
      return Unimplemented("trees with vector leaves are evaluated by XGBoost");
    }
    const auto n = static_cast<size_t>(num_nodes_d);
    if (num_nodes_d < 1 || num_nodes_d > 1e8) {
      return Malformed(where + ".tree_param.num_nodes", "1 to 10^8");
    }
    PLINTH_ASSIGN_OR_RETURN(auto left, NumberArray<int64_t>(tree, "left_children", where, n));
    PLINTH_ASSIGN_OR_RETURN(auto right, NumberArray<int64_t>(tree, "right_children", where, n));
    PLINTH_ASSIGN_OR_RETURN(auto feature, NumberArray<int64_t>(tree, "split_indices", where, n));
    PLINTH_ASSIGN_OR_RETURN(auto cond, NumberArray<double>(tree, "split_conditions", where, n));
    PLINTH_ASSIGN_OR_RETURN(auto dleft, NumberArray<int>(tree, "default_left", where, n));
    if (tree.contains("split_type")) {
      PLINTH_ASSIGN_OR_RETURN(auto split_type, NumberArray<int>(tree, "split_type", where, n));
      if (std::any_of(split_type.begin(), split_type.end(), [](int s) { return s != 0; })) {
        return Unimplemented("categorical splits are evaluated by XGBoost");
      }
    }
    if (tree_info[t] < 0 || tree_info[t] >= e.groups_) {
      return Malformed("model.tree_info[" + std::to_string(t) + "]",
                       "an output group below " + std::to_string(e.groups_));
    }

    // Measure the depth, checking every reachable node on the way.
    std::vector<std::pair<int64_t, int32_t>> stack{{0, 0}};  // node, depth
    int32_t depth = 0;
    size_t seen = 0;
    while (!stack.empty()) {
      const auto [node, d] = stack.back();
      stack.pop_back();
      const auto s = static_cast<size_t>(node);
      if (++seen > n) {
        return Malformed(where, "a tree (a node is reached twice)");
      }
      if (left[s] < 0) {
        continue;  // a leaf
      }
      if (left[s] >= static_cast<int64_t>(n) || right[s] < 0 ||
          right[s] >= static_cast<int64_t>(n)) {
        return Malformed(where + " node " + std::to_string(node),
                         "children among the tree's " + std::to_string(n) + " nodes");
      }
      if (feature[s] < 0 || feature[s] >= num_features) {
        return Malformed(where + ".split_indices[" + std::to_string(node) + "]",
                         "a feature below " + std::to_string(num_features));
      }
      depth = std::max(depth, d + 1);
      stack.emplace_back(left[s], d + 1);
      stack.emplace_back(right[s], d + 1);
    }
    const bool compact = depth > kCompleteDepth;
    const int64_t width = compact ? 0 : int64_t{1} << depth;
    bytes += compact ? static_cast<int64_t>(seen * (sizeof(Node) + sizeof(float)))
                     : (width - 1) * static_cast<int64_t>(sizeof(Split)) + width * 4;
    if (bytes > kMaxBytes) {
      return Unimplemented("ensembles above " + std::to_string(kMaxBytes >> 20) +
                           " MiB of trees are evaluated by XGBoost");
    }
    if (compact) {
      // Each split's two children side by side: one index reaches both.
      Tree out{static_cast<int64_t>(e.nodes_.size()), 0, -depth, tree_info[t]};
      const size_t first = e.nodes_.size();
      e.nodes_.push_back({});
      e.leaf_values_.push_back(0.0f);
      std::vector<std::pair<int64_t, uint32_t>> place{{0, 0}};  // node, index in the tree
      while (!place.empty()) {
        const auto [node, pos] = place.back();
        place.pop_back();
        const auto s = static_cast<size_t>(node);
        if (left[s] < 0) {
          // Every walk stays: NaN is above no value and the default side is right.
          e.nodes_[first + pos] = {std::numeric_limits<float>::quiet_NaN(), 0, pos - 1, 0};
          e.leaf_values_[first + pos] = static_cast<float>(cond[s]);
          continue;
        }
        const auto children = static_cast<uint32_t>(e.nodes_.size() - first);
        e.nodes_.resize(e.nodes_.size() + 2);
        e.leaf_values_.resize(e.nodes_.size(), 0.0f);
        e.nodes_[first + pos] = {static_cast<float>(cond[s]), static_cast<uint32_t>(feature[s]),
                                 children, dleft[s] != 0 ? 1u : 0u};
        place.emplace_back(left[s], children);
        place.emplace_back(right[s], children + 1);
      }
      e.trees_.push_back(out);
      continue;
    }
    Tree out{static_cast<int64_t>(e.splits_.size()), static_cast<int64_t>(e.leaves_.size()), depth,
             tree_info[t]};
    // Place each node at its position in the complete tree; a leaf above the
    // last level fills every last-level leaf under it, and the splits under
    // it keep the zero split, which leads to one of those copies either way.
    e.splits_.resize(e.splits_.size() + static_cast<size_t>(width - 1), Split{0.0f, 0});
    e.default_left_.resize(e.splits_.size(), 0);
    e.leaves_.resize(e.leaves_.size() + static_cast<size_t>(width), 0.0f);
    std::vector<std::tuple<int64_t, int64_t, int32_t>> place{{0, 0, 0}};  // node, position, depth
    while (!place.empty()) {
      const auto [node, pos, d] = place.back();
      place.pop_back();
      const auto s = static_cast<size_t>(node);
      if (left[s] < 0) {
        const int64_t first = ((pos + 1) << (depth - d)) - 1 - (width - 1);
        std::fill_n(e.leaves_.begin() + out.leaves + first, int64_t{1} << (depth - d),
                    static_cast<float>(cond[s]));
        continue;
      }
      e.splits_[static_cast<size_t>(out.splits + pos)] = {static_cast<float>(cond[s]),
                                                          static_cast<uint32_t>(feature[s])};
      e.default_left_[static_cast<size_t>(out.splits + pos)] = dleft[s] != 0 ? 1 : 0;
      place.emplace_back(left[s], 2 * pos + 1, d + 1);
      place.emplace_back(right[s], 2 * pos + 2, d + 1);
    }
    e.trees_.push_back(out);
  }
  return e;
}

namespace {

constexpr int64_t kLanes = 8;  // rows walked together

// Walks `lanes` rows (row i at row0 + i * stride) down one complete tree of
// `depth` levels; returns each walk's position (2^depth - 1 and up: a leaf).
template <bool kMissing, int64_t kCount>
inline void Walk(const TreeEnsemble::Split* splits, const uint8_t* default_left, int32_t depth,
                 const float* row0, int64_t stride, uint32_t* at) {
  for (int64_t k = 0; k < kCount; ++k) {
    at[k] = 0;
  }
  for (int32_t d = 0; d < depth; ++d) {
    for (int64_t k = 0; k < kCount; ++k) {
      const TreeEnsemble::Split s = splits[at[k]];
      const float v = row0[k * stride + s.feature];
      uint32_t right = static_cast<uint32_t>(!(v < s.threshold));
      if constexpr (kMissing) {
        // NaN compares false, so it went right; the split may send it left.
        right ^= static_cast<uint32_t>(std::isnan(v)) & default_left[at[k]];
      }
      at[k] = 2 * at[k] + 1 + right;
    }
  }
}

// Walks `kCount` rows down one compact tree for `steps` steps (its depth):
// a walk that reaches a leaf stays there. Returns each walk's node.
template <int64_t kCount>
inline void WalkCompact(const TreeEnsemble::Node* nodes, int32_t steps, const float* row0,
                        int64_t stride, uint32_t* at) {
  for (int64_t k = 0; k < kCount; ++k) {
    at[k] = 0;
  }
  for (int32_t d = 0; d < steps; ++d) {
    for (int64_t k = 0; k < kCount; ++k) {
      const TreeEnsemble::Node node = nodes[at[k]];
      const float v = row0[k * stride + node.feature];
      uint32_t right = static_cast<uint32_t>(!(v < node.threshold));
      right ^= static_cast<uint32_t>(std::isnan(v)) & node.default_left;
      at[k] = node.children + right;
    }
  }
}

}  // namespace

Result<nlohmann::json> TreeEnsemble::ReadXgboostModel(std::string_view bytes) {
  // Both open with '{'; in UBJSON a length marker follows, in JSON a key or space.
  const bool text = bytes.size() > 1 && bytes[0] == '{' &&
                    (bytes[1] == '"' || bytes[1] == '}' || std::isspace(bytes[1]) != 0);
  Result<core::Json> model =
      text ? core::ParseJson(bytes, "XGBoost JSON") : core::ParseUbjson(bytes, "XGBoost UBJSON");
  if (!model.ok()) {
    return model.status();
  }
  // The plain (unordered) tree: this is read once, by key.
  return nlohmann::json(*model);
}

Result<TreeEnsemble> TreeEnsemble::FromXgboostModel(std::string_view bytes, int64_t num_features) {
  PLINTH_ASSIGN_OR_RETURN(nlohmann::json model, ReadXgboostModel(bytes));
  return FromXgboostJson(model, num_features);
}

void TreeEnsemble::PredictBlock(const float* x, int64_t rows, float* out) const {
  std::fill(out, out + rows * groups_, base_margin_);
  // Which groups of kLanes rows hold a missing value: only those pay for the test.
  uint64_t missing = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * num_features_;
    const bool any = std::any_of(row, row + num_features_, [](float v) { return v != v; });
    missing |= static_cast<uint64_t>(any) << (r / kLanes);
  }
  const int64_t stride = num_features_;
  uint32_t at[kLanes];
  for (const Tree& tree : trees_) {
    if (tree.depth < 0) {  // compact: leaves send a walk to themselves
      const Node* nodes = nodes_.data() + tree.splits;
      const float* values = leaf_values_.data() + tree.splits;
      for (int64_t r = 0; r < rows; r += kLanes) {
        const float* row = x + r * stride;
        const int64_t n = std::min(kLanes, rows - r);
        if (n < kLanes) {
          for (int64_t k = 0; k < n; ++k) {
            WalkCompact<1>(nodes, -tree.depth, row + k * stride, stride, at + k);
          }
        } else {
          WalkCompact<kLanes>(nodes, -tree.depth, row, stride, at);
        }
        for (int64_t k = 0; k < n; ++k) {
          out[(r + k) * groups_ + tree.group] += values[at[k]];
        }
      }
      continue;
    }
    const Split* splits = splits_.data() + tree.splits;
    const uint8_t* left = default_left_.data() + tree.splits;
    const float* leaves = leaves_.data() + tree.leaves;
    const uint32_t first_leaf = (uint32_t{1} << tree.depth) - 1;
    for (int64_t r = 0; r < rows; r += kLanes) {
      const float* row = x + r * stride;
      const int64_t n = std::min(kLanes, rows - r);
      if (n < kLanes) {
        for (int64_t k = 0; k < n; ++k) {
          Walk<true, 1>(splits, left, tree.depth, row + k * stride, stride, at + k);
        }
      } else if ((missing >> (r / kLanes)) & 1) {
        Walk<true, kLanes>(splits, left, tree.depth, row, stride, at);
      } else {
        Walk<false, kLanes>(splits, left, tree.depth, row, stride, at);
      }
      for (int64_t k = 0; k < n; ++k) {
        out[(r + k) * groups_ + tree.group] += leaves[at[k] - first_leaf];
      }
    }
  }
  switch (transform_) {
    case Transform::kIdentity:
      break;
    case Transform::kSigmoid:
      for (int64_t i = 0; i < rows; ++i) {
        out[i] = Sigmoid(out[i]);
      }
      break;
    case Transform::kSoftmax:
      for (int64_t r = 0; r < rows; ++r) {
        Softmax(out + r * groups_, groups_);
      }
      break;
  }
}

void TreeEnsemble::Predict(const float* x, int64_t rows, float* out) const {
  for (int64_t r = 0; r < rows; r += kBlockRows) {
    const int64_t n = std::min(kBlockRows, rows - r);
    PredictBlock(x + r * num_features_, n, out + r * groups_);
  }
}

Matrix TreeEnsemble::Predict(const Matrix& x, int threads) const {
  Matrix out(x.rows, groups_);
  int64_t workers = threads > 0 ? threads : static_cast<int64_t>(core::HardwareThreads());
  workers = std::clamp<int64_t>(x.rows / kRowsPerThread, 1, workers);
  if (workers == 1) {
    Predict(x.values.data(), x.rows, out.values.data());
    return out;
  }
  // Contiguous slices, whole blocks each; the calling thread takes the last.
  const int64_t blocks = (x.rows + kBlockRows - 1) / kBlockRows;
  auto slice = [&](int64_t w) {
    const int64_t begin = blocks * w / workers * kBlockRows;
    const int64_t end = std::min(x.rows, blocks * (w + 1) / workers * kBlockRows);
    Predict(x.values.data() + begin * num_features_, end - begin,
            out.values.data() + begin * groups_);
  };
  std::vector<std::jthread> pool;
  for (int64_t w = 0; w + 1 < workers; ++w) {
    pool.emplace_back(slice, w);
  }
  slice(workers - 1);
  return out;
}

}  // namespace plinth::ml
