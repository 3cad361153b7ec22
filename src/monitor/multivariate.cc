#include "monitor/multivariate.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_map>

#include "table/string_index.h"

namespace plinth::monitor {
namespace {

constexpr double kExplainedVariance = 0.65;
constexpr int kBootstrapSamples = 200;
constexpr int64_t kMaxBootstrapRows = 10000;
constexpr int64_t kMinFitRows = 60;

bool IsText(table::DataType t) {
  return t == table::DataType::kString || t == table::DataType::kBool;
}

std::string_view Label(const table::Column& c, int64_t i) {
  return c.type() == table::DataType::kBool
             ? std::string_view(c.bools()[static_cast<size_t>(i)] ? "true" : "false")
             : c.GetString(i);
}

// splitmix64: the bootstrap's draws (fast, and the same sequence everywhere).
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// One input column's encoding: a number per value, then standardized.
struct Encoder {
  std::string name;
  bool numeric = true;
  double fill = 0;                // for a missing value
  table::StringIndex categories;  // the reference's, numbered
  std::vector<double> shares;     // by category number
  double mean = 0, scale = 1;

  double Raw(const table::Column& c, int64_t i) const {
    if (c.IsNull(i)) {
      return fill;
    }
    if (numeric) {
      const double v = c.GetDouble(i);
      return std::isfinite(v) ? v : fill;
    }
    const int32_t k = categories.Find(Label(c, i));
    return k < 0 ? 0.0 : shares[static_cast<size_t>(k)];
  }
};

}  // namespace

struct ReconstructionModel::Impl {
  std::vector<Encoder> encoders;
  Eigen::MatrixXd components;  // columns x kept components
  std::vector<double> held_errors;
  double explained = 0;
  uint64_t seed = 42;

  // The standardized rows `rows` of `t` (all of them when empty).
  Result<Eigen::MatrixXd> Encode(const table::Table& t, const std::vector<int64_t>& rows) const {
    const int64_t n = rows.empty() ? t.num_rows() : static_cast<int64_t>(rows.size());
    Eigen::MatrixXd x(n, static_cast<Eigen::Index>(encoders.size()));
    for (size_t j = 0; j < encoders.size(); ++j) {
      const Encoder& e = encoders[j];
      const table::Column* c = t.ColumnByName(e.name);
      if (c == nullptr) {
        return InvalidArgument("column '" + e.name + "' is missing from the current data");
      }
      if (IsText(c->type()) == e.numeric && c->null_count() != c->size()) {
        return InvalidArgument("column '" + e.name + "' holds " +
                               (e.numeric ? "labels" : "numbers") + " in the current data but " +
                               (e.numeric ? "numbers" : "labels") + " in the reference data");
      }
      for (int64_t r = 0; r < n; ++r) {
        const int64_t i = rows.empty() ? r : rows[static_cast<size_t>(r)];
        x(r, static_cast<Eigen::Index>(j)) = (e.Raw(*c, i) - e.mean) / e.scale;
      }
    }
    return x;
  }

  std::vector<double> Errors(const Eigen::MatrixXd& x) const {
    const Eigen::MatrixXd residual = x - (x * components) * components.transpose();
    std::vector<double> out(static_cast<size_t>(x.rows()));
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      out[static_cast<size_t>(r)] = residual.row(r).norm();
    }
    return out;
  }
};

ReconstructionModel::ReconstructionModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReconstructionModel::~ReconstructionModel() = default;
ReconstructionModel::ReconstructionModel(ReconstructionModel&&) noexcept = default;
ReconstructionModel& ReconstructionModel::operator=(ReconstructionModel&&) noexcept = default;

Result<ReconstructionModel> ReconstructionModel::Fit(const table::Table& reference,
                                                     const std::vector<std::string>& columns,
                                                     uint64_t seed) {
  auto impl = std::make_unique<Impl>();
  impl->seed = seed;
  const int64_t n = reference.num_rows();
  if (n < kMinFitRows) {
    return InvalidArgument("multivariate drift needs at least " + std::to_string(kMinFitRows) +
                           " reference rows, the reference has " + std::to_string(n));
  }
  // Half the rows fit the PCA, the other half sets the threshold.
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (size_t i = order.size() - 1; i > 0; --i) {
    std::swap(order[i], order[static_cast<size_t>(rng() % (i + 1))]);
  }
  const std::vector<int64_t> fit(order.begin(), order.begin() + n / 2);
  const std::vector<int64_t> held(order.begin() + n / 2, order.end());

  for (const std::string& name : columns) {
    const table::Column* c = reference.ColumnByName(name);
    if (c == nullptr) {
      return InvalidArgument("column '" + name + "' is not in the reference data");
    }
    if (c->type() == table::DataType::kTimestamp) {
      continue;
    }
    Encoder e;
    e.name = name;
    e.numeric = !IsText(c->type());
    double sum = 0;
    int64_t present = 0;
    std::unordered_map<std::string_view, int64_t> counts;
    for (int64_t i : fit) {
      if (c->IsNull(i)) {
        continue;
      }
      if (e.numeric) {
        const double v = c->GetDouble(i);
        if (std::isfinite(v)) {
          sum += v;
          ++present;
        }
      } else {
        ++counts[Label(*c, i)];
        ++present;
      }
    }
    if (present == 0) {
      continue;
    }
    if (e.numeric) {
      e.fill = sum / static_cast<double>(present);
    } else {
      for (const auto& [label, count] : counts) {
        const double share = static_cast<double>(count) / static_cast<double>(present);
        e.categories.Add(label);
        e.shares.push_back(share);
        e.fill = std::max(e.fill, share);
      }
    }
    // Standardization over the fit half (ddof 0, as scikit-learn's StandardScaler).
    double mean = 0, sq = 0;
    for (int64_t i : fit) {
      mean += e.Raw(*c, i);
    }
    mean /= static_cast<double>(fit.size());
    for (int64_t i : fit) {
      const double d = e.Raw(*c, i) - mean;
      sq += d * d;
    }
    const double scale = std::sqrt(sq / static_cast<double>(fit.size()));
    if (!(scale > 1e-12) || !std::isfinite(scale)) {
      continue;  // constant: nothing to reconstruct
    }
    e.mean = mean;
    e.scale = scale;
    impl->encoders.push_back(std::move(e));
  }
  if (impl->encoders.size() < 2) {
    return InvalidArgument(
        "multivariate drift needs at least 2 varying columns, the reference has " +
        std::to_string(impl->encoders.size()));
  }
  PLINTH_ASSIGN_OR_RETURN(Eigen::MatrixXd x, impl->Encode(reference, fit));
  const Eigen::RowVectorXd center = x.colwise().mean();
  const Eigen::MatrixXd centered = x.rowwise() - center;
  const Eigen::MatrixXd cov = (centered.transpose() * centered) /
                              static_cast<double>(std::max<Eigen::Index>(1, x.rows() - 1));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov);
  if (solver.info() != Eigen::Success) {
    return InvalidArgument("multivariate drift: the PCA did not converge");
  }
  // Eigen sorts eigenvalues ascending: the components are taken from the end.
  const Eigen::VectorXd values = solver.eigenvalues();
  const double total = std::max(0.0, values.sum());
  const Eigen::Index d = values.size();
  Eigen::Index k = 0;
  double kept = 0;
  while (k < d && (total <= 0 || kept / total < kExplainedVariance)) {
    kept += std::max(0.0, values(d - 1 - k));
    ++k;
  }
  impl->components = solver.eigenvectors().rightCols(k).rowwise().reverse();
  impl->explained = total > 0 ? kept / total : 0;
  PLINTH_ASSIGN_OR_RETURN(Eigen::MatrixXd h, impl->Encode(reference, held));
  impl->held_errors = impl->Errors(h);
  return ReconstructionModel(std::move(impl));
}

Result<std::vector<double>> ReconstructionModel::RowErrors(const table::Table& t) const {
  // In blocks of rows, so the encoded matrix stays small (in cache) whatever the rows.
  constexpr int64_t kBlock = 8192;
  std::vector<double> out;
  out.reserve(static_cast<size_t>(t.num_rows()));
  std::vector<int64_t> rows;
  for (int64_t start = 0; start < t.num_rows(); start += kBlock) {
    rows.resize(static_cast<size_t>(std::min(kBlock, t.num_rows() - start)));
    std::iota(rows.begin(), rows.end(), start);
    PLINTH_ASSIGN_OR_RETURN(Eigen::MatrixXd x, impl_->Encode(t, rows));
    const std::vector<double> block = impl_->Errors(x);
    out.insert(out.end(), block.begin(), block.end());
  }
  if (t.num_rows() == 0) {  // still checks the columns
    PLINTH_RETURN_IF_ERROR(impl_->Encode(t, {}).status());
  }
  return out;
}

Result<MultivariateDrift> ReconstructionModel::Compare(const table::Table& current,
                                                       int64_t min_rows) const {
  MultivariateDrift d;
  d.rows = current.num_rows();
  d.components = static_cast<int>(impl_->components.cols());
  d.columns = static_cast<int>(impl_->encoders.size());
  d.explained_variance = impl_->explained;
  if (d.rows < min_rows) {
    return InvalidArgument("not enough data: " + std::to_string(d.rows) + " rows, " +
                           std::to_string(min_rows) + " needed");
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<double> errors, RowErrors(current));
  d.error = std::accumulate(errors.begin(), errors.end(), 0.0) / static_cast<double>(d.rows);
  // The bootstrap: the spread of the mean error of m held-out rows.
  const std::vector<double>& pool = impl_->held_errors;
  const int64_t m = std::min<int64_t>(d.rows, kMaxBootstrapRows);
  uint64_t state = impl_->seed + static_cast<uint64_t>(d.rows);
  std::vector<double> means(kBootstrapSamples);
  for (double& mean : means) {
    double sum = 0;
    for (int64_t i = 0; i < m; ++i) {
      // An index in [0, size) by multiply-shift (Lemire's, on 32 bits: the pool is half
      // the reference, at most 5 million rows), not a division per draw.
      const auto index = static_cast<size_t>(((SplitMix(state) >> 32) * pool.size()) >> 32);
      sum += pool[index];
    }
    mean = sum / static_cast<double>(m);
  }
  const double mu = std::accumulate(means.begin(), means.end(), 0.0) / kBootstrapSamples;
  double sq = 0;
  for (double v : means) {
    sq += (v - mu) * (v - mu);
  }
  const double sd = std::sqrt(sq / (kBootstrapSamples - 1)) *
                    std::sqrt(static_cast<double>(m) / static_cast<double>(d.rows));
  d.reference = mu;
  d.threshold = mu + 3 * sd;
  d.drifted = d.error > d.threshold;
  return d;
}

core::Json MultivariateToJson(const MultivariateDrift& d) {
  return {{"method", "pca_reconstruction"},
          {"rows", d.rows},
          {"error", d.error},
          {"reference_error", d.reference},
          {"threshold", d.threshold},
          {"drifted", d.drifted},
          {"components", d.components},
          {"columns", d.columns},
          {"explained_variance", d.explained_variance}};
}

}  // namespace plinth::monitor
