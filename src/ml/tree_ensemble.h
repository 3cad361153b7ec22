// A tree ensemble evaluated natively: the prediction path of gbdt and
// random_forest bundles.
//
// XGBoost's own predict parses a JSON configuration and reads the cgroup CPU
// quota on every call, and copies each row into a sparse feature vector before
// walking the trees; on a one-row request that overhead is most of the
// latency, and on a file it is half the time. This evaluator stores each tree
// as a complete binary tree of its depth, in breadth-first arrays: the
// children of split i are 2i+1 and 2i+2, so a walk is `i = 2i + 1 + right`,
// `depth` times, with no pointer to load and no branch on the data. A leaf
// above the last level is pushed down by copying its value to every last-level
// leaf beneath it. Rows are walked eight at a time, so their independent walks
// overlap, and a block of rows without a missing value takes a path that does
// not test for one.
//
// It computes exactly what XGBoost's CPU predictor computes: float32 values
// compared as `value < threshold`, a missing value (NaN) sent to the node's
// default side, leaves summed in float in tree order onto the base margin,
// then the objective's transform written as XGBoost writes it. Models it does
// not cover (dart, gblinear, categorical splits, vector leaves, other
// objectives) are refused with kUnimplemented, and the caller keeps XGBoost.
//
// A tree deeper than kCompleteDepth (a forest's, or a lossguide tree's) would
// take 2^depth leaves laid out complete; it is stored compact instead, as its
// nodes with the two children of a split side by side, and walked eight rows
// at a time for as many steps as it is deep (a leaf sends a walk to itself).
// The values are the same, summed in the same order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "ml/matrix.h"

namespace plinth::ml {

class TreeEnsemble {
 public:
  // Builds from an XGBoost model's bytes (UBJSON, as model.ubj, or JSON), which
  // must have `num_features` features. kUnimplemented names what is not
  // covered; kInvalidArgument names the field that is not as XGBoost writes it.
  static Result<TreeEnsemble> FromXgboostModel(std::string_view bytes, int64_t num_features);
  // Parses an XGBoost model's bytes (UBJSON or JSON) with core's nesting limit:
  // kInvalidArgument "XGBoost UBJSON: invalid UBJSON: ..." for bytes that are not one.
  static Result<nlohmann::json> ReadXgboostModel(std::string_view bytes);
  // The same from the parsed model.
  static Result<TreeEnsemble> FromXgboostJson(const nlohmann::json& model, int64_t num_features);

  // Output values per row: the number of classes for multi:softprob, else 1.
  int64_t output_columns() const { return groups_; }
  int64_t num_trees() const { return static_cast<int64_t>(trees_.size()); }
  // The trees stored compact (deeper than kCompleteDepth).
  int64_t compact_trees() const {
    return std::count_if(trees_.begin(), trees_.end(), [](const Tree& t) { return t.depth < 0; });
  }
  const std::string& objective() const { return objective_; }

  // Predicts the `rows` rows of `x` (row-major, num_features values each)
  // into `out` (rows x output_columns()). Thread-safe.
  void Predict(const float* x, int64_t rows, float* out) const;

  // Predicts every row of `x` on up to `threads` threads (0: every hardware
  // thread); small inputs stay on the calling thread. x.cols must be the
  // number of features.
  Matrix Predict(const Matrix& x, int threads) const;

  // The deepest tree laid out complete: 2^12 leaves of 4 bytes and 2^12 - 1
  // splits of 8 bytes, 48 KiB. Deeper trees are stored compact (Node); an
  // ensemble above kMaxBytes either way stays with XGBoost.
  static constexpr int kCompleteDepth = 12;
  static constexpr int64_t kMaxBytes = int64_t{512} << 20;

  struct Split {
    float threshold;
    uint32_t feature;
  };
  // A node of a compact tree: a split on `feature` at `threshold` whose left
  // child is `children` and right child `children` + 1 (indices within the
  // tree). A leaf sends every row to itself (threshold NaN: no value is below
  // it, so every walk goes "right", to `children` + 1 = itself), so a walk can
  // take as many steps as the tree is deep, eight rows side by side, with no
  // test for having arrived; its value is in leaf_values_.
  struct Node {
    float threshold;
    uint32_t feature;
    uint32_t children;
    uint32_t default_left;
  };

 private:
  struct Tree {
    int64_t splits;  // index of its root in splits_ (2^depth - 1 entries), or in nodes_ if compact
    int64_t leaves;  // index of its first leaf in leaves_ (2^depth entries)
    int32_t depth;   // complete: splits on every root-to-leaf path; compact: minus the deepest
    int32_t group;   // the output column it adds to
  };
  enum class Transform { kIdentity, kSigmoid, kSoftmax };

  void PredictBlock(const float* x, int64_t rows, float* out) const;

  std::vector<Split> splits_;
  std::vector<Node> nodes_;            // the compact trees'
  std::vector<float> leaf_values_;     // per node of nodes_: its value if a leaf
  std::vector<uint8_t> default_left_;  // per split: missing values go left
  std::vector<float> leaves_;
  std::vector<Tree> trees_;
  int64_t num_features_ = 0;
  int64_t groups_ = 1;
  float base_margin_ = 0;
  Transform transform_ = Transform::kIdentity;
  std::string objective_;
};

}  // namespace plinth::ml
