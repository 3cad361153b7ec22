#include "ml/preprocess.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include "core/thread_pool.h"

namespace plinth::ml {
namespace {

using table::DataType;

template <typename E, size_t N>
Result<E> ParseEnum(std::string_view s, const std::pair<E, std::string_view> (&names)[N],
                    std::string_view what) {
  std::string list;
  for (const auto& [value, name] : names) {
    if (s == name) {
      return value;
    }
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  return InvalidArgument(std::string(what) + ": expected one of " + list + ", got \"" +
                         std::string(s) + "\"");
}

template <typename E, size_t N>
std::string_view EnumName(E v, const std::pair<E, std::string_view> (&names)[N]) {
  for (const auto& [value, name] : names) {
    if (value == v) {
      return name;
    }
  }
  return "?";
}

constexpr std::pair<NumericImpute, std::string_view> kNumericImputeNames[] = {
    {NumericImpute::kMedian, "median"},
    {NumericImpute::kMean, "mean"},
    {NumericImpute::kConstant, "constant"}};
constexpr std::pair<CategoricalImpute, std::string_view> kCategoricalImputeNames[] = {
    {CategoricalImpute::kMostFrequent, "most_frequent"},
    {CategoricalImpute::kMissingCategory, "missing"}};
constexpr std::pair<OutlierMethod, std::string_view> kOutlierMethodNames[] = {
    {OutlierMethod::kNone, "none"},
    {OutlierMethod::kIqr, "iqr"},
    {OutlierMethod::kZScore, "zscore"}};
constexpr std::pair<OutlierAction, std::string_view> kOutlierActionNames[] = {
    {OutlierAction::kRemove, "remove"},
    {OutlierAction::kClip, "clip"},
    {OutlierAction::kKeep, "keep"}};
constexpr std::pair<Scaling, std::string_view> kScalingNames[] = {
    {Scaling::kNone, "none"}, {Scaling::kStandard, "standard"}, {Scaling::kMinMax, "minmax"}};
constexpr std::pair<DatePart, std::string_view> kDatePartNames[] = {
    {DatePart::kYear, "year"},
    {DatePart::kMonth, "month"},
    {DatePart::kDay, "day"},
    {DatePart::kDayOfWeek, "day_of_week"},
    {DatePart::kHour, "hour"}};

// Linear-interpolated quantile of `v` (numpy's default), by selection rather
// than a full sort; reorders `v`.
double Quantile(std::vector<double>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  double pos = p * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  std::nth_element(v.begin(), v.begin() + static_cast<int64_t>(lo), v.end());
  double low = v[lo];
  if (lo + 1 >= v.size()) {
    return low;
  }
  double high = *std::min_element(v.begin() + static_cast<int64_t>(lo) + 1, v.end());
  return low + (high - low) * (pos - static_cast<double>(lo));
}

double SignedLog1p(double v) { return v < 0 ? -std::log1p(-v) : std::log1p(v); }

double DatePartOf(int64_t micros, DatePart part) {
  using namespace std::chrono;
  sys_time<microseconds> t{microseconds(micros)};
  sys_days day = floor<days>(t);
  year_month_day ymd{day};
  switch (part) {
    case DatePart::kYear:
      return static_cast<int>(ymd.year());
    case DatePart::kMonth:
      return static_cast<unsigned>(ymd.month());
    case DatePart::kDay:
      return static_cast<unsigned>(ymd.day());
    case DatePart::kDayOfWeek:  // Monday = 0, as pandas' dayofweek
      return (weekday{day}.c_encoding() + 6) % 7;
    case DatePart::kHour:
      return static_cast<double>(duration_cast<hours>(t - day).count());
  }
  return 0;
}

bool IsNumericType(DataType t) { return table::IsNumeric(t) || t == DataType::kBool; }

double NumericValue(const table::Column& c, int64_t i) {
  return c.type() == DataType::kBool ? c.bools()[i] : c.GetDouble(i);
}

// Fits fill, center and scale of values `v` (nulls absent) given the options.
NumericTransform FitNumeric(std::vector<double> v, int64_t nulls, const PreprocessOptions& o,
                            double lower, double upper, bool log) {
  NumericTransform t;
  t.lower = lower;
  t.upper = upper;
  t.clip = o.clip_at_predict || o.outlier_action == OutlierAction::kClip;
  t.log = log;
  if (o.numeric_impute == NumericImpute::kConstant) {
    t.fill = o.impute_constant;
  } else if (!v.empty()) {
    if (o.numeric_impute == NumericImpute::kMedian) {
      t.fill = Quantile(v, 0.5);
    } else {
      double sum = 0;
      for (double x : v) {
        sum += x;
      }
      t.fill = sum / static_cast<double>(v.size());
    }
  }
  // Scaling statistics over the values as the transform produces them.
  std::vector<double> x;
  x.reserve(v.size() + static_cast<size_t>(nulls));
  for (double raw : v) {
    x.push_back(raw);
  }
  x.insert(x.end(), static_cast<size_t>(nulls), t.fill);
  for (double& y : x) {
    if (t.clip) {
      y = std::clamp(y, t.lower, t.upper);
    }
    if (t.log) {
      y = SignedLog1p(y);
    }
  }
  if (x.empty() || o.scaling == Scaling::kNone) {
    return t;
  }
  if (o.scaling == Scaling::kStandard) {
    double mean = 0;
    for (double y : x) {
      mean += y;
    }
    mean /= static_cast<double>(x.size());
    double var = 0;
    for (double y : x) {
      var += (y - mean) * (y - mean);
    }
    double sd = std::sqrt(var / static_cast<double>(x.size()));
    t.center = mean;
    t.scale = sd > 0 ? sd : 1;
  } else {
    auto [mn, mx] = std::minmax_element(x.begin(), x.end());
    t.center = *mn;
    t.scale = *mx > *mn ? *mx - *mn : 1;
  }
  return t;
}

// Infinite bounds and a NaN fill (an imported model's "leave missing") are null.
core::Json BoundToJson(double v) { return std::isfinite(v) ? core::Json(v) : core::Json(nullptr); }

core::Json NumericToJson(const NumericTransform& t) {
  return core::Json{{"fill", BoundToJson(t.fill)},
                    {"lower", BoundToJson(t.lower)},
                    {"upper", BoundToJson(t.upper)},
                    {"clip", t.clip},
                    {"log", t.log},
                    {"center", t.center},
                    {"scale", t.scale}};
}

// Reads key `key` of object `j` as T; errors name `where` and the key.
template <typename T>
Result<T> Get(const core::Json& j, std::string_view key, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end()) {
    return InvalidArgument(std::string(where) + ": missing key \"" + std::string(key) + "\"");
  }
  try {
    return it->get<T>();
  } catch (const std::exception&) {
    return InvalidArgument(std::string(where) + ": key \"" + std::string(key) +
                           "\" has the wrong type");
  }
}

Result<double> GetBound(const core::Json& j, std::string_view key, double inf,
                        std::string_view where) {
  auto it = j.find(key);
  if (it != j.end() && it->is_null()) {
    return inf;
  }
  return Get<double>(j, key, where);
}

Result<NumericTransform> NumericFromJson(const core::Json& j, std::string_view where) {
  NumericTransform t;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  PLINTH_ASSIGN_OR_RETURN(t.fill, GetBound(j, "fill", std::nan(""), where));
  PLINTH_ASSIGN_OR_RETURN(t.lower, GetBound(j, "lower", -kInf, where));
  PLINTH_ASSIGN_OR_RETURN(t.upper, GetBound(j, "upper", kInf, where));
  PLINTH_ASSIGN_OR_RETURN(t.clip, Get<bool>(j, "clip", where));
  PLINTH_ASSIGN_OR_RETURN(t.log, Get<bool>(j, "log", where));
  PLINTH_ASSIGN_OR_RETURN(t.center, Get<double>(j, "center", where));
  PLINTH_ASSIGN_OR_RETURN(t.scale, Get<double>(j, "scale", where));
  if (t.scale == 0) {
    return InvalidArgument(std::string(where) + ": \"scale\" must not be 0");
  }
  return t;
}

std::string ColumnWhere(std::string_view name) { return "column \"" + std::string(name) + "\""; }

}  // namespace

Result<NumericImpute> ParseNumericImpute(std::string_view s) {
  return ParseEnum(s, kNumericImputeNames, "numeric imputation");
}
Result<CategoricalImpute> ParseCategoricalImpute(std::string_view s) {
  return ParseEnum(s, kCategoricalImputeNames, "categorical imputation");
}
Result<OutlierMethod> ParseOutlierMethod(std::string_view s) {
  return ParseEnum(s, kOutlierMethodNames, "outlier method");
}
Result<OutlierAction> ParseOutlierAction(std::string_view s) {
  return ParseEnum(s, kOutlierActionNames, "outlier action");
}
Result<Scaling> ParseScaling(std::string_view s) { return ParseEnum(s, kScalingNames, "scaling"); }
Result<DatePart> ParseDatePart(std::string_view s) {
  return ParseEnum(s, kDatePartNames, "date part");
}
std::string_view Name(NumericImpute v) { return EnumName(v, kNumericImputeNames); }
std::string_view Name(CategoricalImpute v) { return EnumName(v, kCategoricalImputeNames); }
std::string_view Name(OutlierMethod v) { return EnumName(v, kOutlierMethodNames); }
std::string_view Name(OutlierAction v) { return EnumName(v, kOutlierActionNames); }
std::string_view Name(Scaling v) { return EnumName(v, kScalingNames); }
std::string_view Name(DatePart v) { return EnumName(v, kDatePartNames); }

float NumericTransform::Apply(double v, bool valid) const {
  double x = valid && !std::isnan(v) ? v : fill;
  if (clip) {
    x = std::clamp(x, lower, upper);
  }
  if (log) {
    x = SignedLog1p(x);
  }
  return static_cast<float>((x - center) / scale);
}

int ColumnTransform::num_features() const {
  switch (kind) {
    case Kind::kNumeric:
      return 1;
    case Kind::kCategorical:
      return static_cast<int>(categories.size()) + (has_other ? 1 : 0);
    case Kind::kDatetime:
      return static_cast<int>(parts.size());
  }
  return 0;
}

Result<Preprocessor> Preprocessor::Fit(const table::Table& data, const std::vector<int64_t>& rows,
                                       const std::vector<std::string>& inputs,
                                       const PreprocessOptions& options) {
  Preprocessor p;
  p.options_ = options;
  std::vector<const table::Column*> cols;
  for (const std::string& name : inputs) {
    const table::Column* c = data.ColumnByName(name);
    if (c == nullptr) {
      return InvalidArgument(ColumnWhere(name) + ": not in the data");
    }
    cols.push_back(c);
  }
  for (const std::string& name : options.log_columns) {
    if (std::find(inputs.begin(), inputs.end(), name) == inputs.end()) {
      return InvalidArgument("features.log: " + ColumnWhere(name) + " is not an input column");
    }
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();

  // Outlier bounds from the training rows, then the rows training keeps.
  std::vector<std::pair<double, double>> bounds(cols.size(), {-kInf, kInf});
  // Columns are independent: both passes run one column per task.
  core::ThreadPool pool(0);
  PLINTH_RETURN_IF_ERROR(core::ParallelFor(pool, cols.size(), [&](size_t c) -> Status {
    const table::Column& col = *cols[c];
    if (!table::IsNumeric(col.type()) || options.outliers == OutlierMethod::kNone) {
      return Status::Ok();
    }
    std::vector<double> v;
    v.reserve(rows.size());
    for (int64_t r : rows) {
      if (col.IsValid(r) && !std::isnan(col.GetDouble(r))) {
        v.push_back(col.GetDouble(r));
      }
    }
    if (v.size() < 2) {
      return Status::Ok();
    }
    if (options.outliers == OutlierMethod::kIqr) {
      double q1 = Quantile(v, 0.25), q3 = Quantile(v, 0.75);
      // A column that is constant over its middle half (a spike at one value,
      // such as capital gains at 0) has no IQR outliers: every other value
      // would be one.
      if (q3 > q1) {
        bounds[c] = {q1 - options.iqr_factor * (q3 - q1), q3 + options.iqr_factor * (q3 - q1)};
      }
    } else {
      double mean = 0, var = 0;
      for (double x : v) {
        mean += x;
      }
      mean /= static_cast<double>(v.size());
      for (double x : v) {
        var += (x - mean) * (x - mean);
      }
      double sd = std::sqrt(var / static_cast<double>(v.size() - 1));
      if (sd > 0) {
        bounds[c] = {mean - options.z_threshold * sd, mean + options.z_threshold * sd};
      }
    }
    return Status::Ok();
  }));
  if (options.outlier_action == OutlierAction::kRemove) {
    for (int64_t r : rows) {
      bool keep = true;
      for (size_t c = 0; c < cols.size() && keep; ++c) {
        if (cols[c]->IsValid(r) && table::IsNumeric(cols[c]->type())) {
          double x = cols[c]->GetDouble(r);
          keep = !(x < bounds[c].first || x > bounds[c].second);
        }
      }
      if (keep) {
        p.kept_rows_.push_back(r);
      }
    }
  } else {
    p.kept_rows_ = rows;
  }
  std::sort(p.kept_rows_.begin(), p.kept_rows_.end());
  const std::vector<int64_t>& kept = p.kept_rows_;

  p.columns_.resize(cols.size());
  PLINTH_RETURN_IF_ERROR(core::ParallelFor(pool, cols.size(), [&](size_t c) -> Status {
    const table::Column& col = *cols[c];
    ColumnTransform& t = p.columns_[c];
    t.name = inputs[c];
    t.type = col.type();
    if (IsNumericType(col.type())) {
      t.kind = ColumnTransform::Kind::kNumeric;
      std::vector<double> v;
      int64_t nulls = 0;
      for (int64_t r : kept) {
        double x = col.IsValid(r) ? NumericValue(col, r) : std::nan("");
        if (std::isnan(x)) {
          ++nulls;
        } else {
          v.push_back(x);
        }
      }
      bool log = std::find(options.log_columns.begin(), options.log_columns.end(), t.name) !=
                 options.log_columns.end();
      t.numeric = FitNumeric(std::move(v), nulls, options, bounds[c].first, bounds[c].second, log);
    } else if (col.type() == DataType::kTimestamp) {
      t.kind = ColumnTransform::Kind::kDatetime;
      for (DatePart part : options.date_parts) {
        std::vector<double> v;
        int64_t nulls = 0;
        for (int64_t r : kept) {
          if (col.IsValid(r)) {
            v.push_back(DatePartOf(col.ints()[r], part));
          } else {
            ++nulls;
          }
        }
        PreprocessOptions part_options = options;
        part_options.clip_at_predict = false;
        part_options.outlier_action = OutlierAction::kKeep;
        t.parts.emplace_back(part,
                             FitNumeric(std::move(v), nulls, part_options, -kInf, kInf, false));
      }
    } else {
      t.kind = ColumnTransform::Kind::kCategorical;
      // Count each distinct value (no string per row), then order by name.
      table::StringIndex seen;
      std::vector<int64_t> seen_counts;
      int64_t nulls = 0;
      for (int64_t r : kept) {
        if (col.IsValid(r)) {
          bool added = false;
          const int32_t code = seen.Add(col.GetString(r), &added);
          if (added) {
            seen_counts.push_back(0);
          }
          ++seen_counts[static_cast<size_t>(code)];
        } else {
          ++nulls;
        }
      }
      std::map<std::string, int64_t, std::less<>> counts;
      for (size_t code = 0; code < seen.size(); ++code) {
        counts.emplace(std::string(seen.Get(static_cast<int32_t>(code))), seen_counts[code]);
      }
      if (options.categorical_impute == CategoricalImpute::kMissingCategory || counts.empty()) {
        t.fill = std::string(kMissingCategory);
      } else {
        t.fill = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
                   return a.second < b.second;  // first of the most frequent in name order
                 })->first;
      }
      if (nulls > 0) {
        counts[t.fill] += nulls;
      }
      std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      double min_count = options.min_category_fraction * static_cast<double>(kept.size());
      size_t limit = std::max(options.max_categories, 1);
      bool overflow = sorted.size() > limit;
      for (size_t i = 0; i < sorted.size(); ++i) {
        bool frequent =
            static_cast<double>(sorted[i].second) >= min_count && (!overflow || i + 1 < limit);
        (frequent ? t.categories : t.rare).push_back(sorted[i].first);
      }
      t.has_other = !t.rare.empty();
    }
    return Status::Ok();
  }));
  p.Index();
  return p;
}

Result<Preprocessor> Preprocessor::Identity(const table::Schema& schema) {
  Preprocessor p;
  p.options_.outliers = OutlierMethod::kNone;
  p.options_.scaling = Scaling::kNone;
  p.options_.clip_at_predict = false;
  for (const table::Field& f : schema.fields()) {
    if (!IsNumericType(f.type)) {
      return InvalidArgument(ColumnWhere(f.name) +
                             ": an imported model takes numeric features; got " +
                             std::string(table::TypeName(f.type)));
    }
    ColumnTransform t;
    t.name = f.name;
    t.type = f.type;
    t.numeric.fill = std::nan("");
    p.columns_.push_back(std::move(t));
  }
  p.Index();
  return p;
}

void Preprocessor::Index() {
  feature_names_.clear();
  category_index_.assign(columns_.size(), {});
  for (size_t c = 0; c < columns_.size(); ++c) {
    const ColumnTransform& t = columns_[c];
    switch (t.kind) {
      case ColumnTransform::Kind::kNumeric:
        feature_names_.push_back(t.name);
        break;
      case ColumnTransform::Kind::kDatetime:
        for (const auto& [part, unused] : t.parts) {
          feature_names_.push_back(t.name + "." + std::string(Name(part)));
        }
        break;
      case ColumnTransform::Kind::kCategorical: {
        CategoryIndex& index = category_index_[c];
        auto add = [&](const std::string& category, size_t offset) {
          bool added = false;
          index.codes.Add(category, &added);
          if (added) {  // the first offset of a category wins
            index.offsets.push_back(static_cast<int>(offset));
          }
        };
        for (size_t i = 0; i < t.categories.size(); ++i) {
          add(t.categories[i], i);
          feature_names_.push_back(t.name + "=" + t.categories[i]);
        }
        if (t.has_other) {
          for (const std::string& r : t.rare) {
            add(r, t.categories.size());
          }
          feature_names_.push_back(t.name + "=" + std::string(kOtherCategory));
        }
        break;
      }
    }
  }
}

Result<Matrix> Preprocessor::Transform(const table::Table& data) const {
  return TransformImpl(data, nullptr);
}

Result<Matrix> Preprocessor::TransformRows(const table::Table& data,
                                           const std::vector<int64_t>& rows) const {
  return TransformImpl(data, &rows);
}

Result<Matrix> Preprocessor::TransformImpl(const table::Table& data,
                                           const std::vector<int64_t>* rows) const {
  const int64_t n = rows != nullptr ? static_cast<int64_t>(rows->size()) : data.num_rows();
  std::vector<const table::Column*> cols;
  for (const ColumnTransform& t : columns_) {
    const table::Column* c = data.ColumnByName(t.name);
    if (c == nullptr) {
      return InvalidArgument(ColumnWhere(t.name) + ": missing from the input");
    }
    bool all_null = c->null_count() == c->size();
    if (!all_null) {
      if (t.kind == ColumnTransform::Kind::kNumeric && !IsNumericType(c->type())) {
        return InvalidArgument(ColumnWhere(t.name) + ": expected a number, got " +
                               std::string(table::TypeName(c->type())));
      }
      if (t.kind == ColumnTransform::Kind::kDatetime && c->type() != DataType::kTimestamp) {
        return InvalidArgument(ColumnWhere(t.name) + ": expected a timestamp, got " +
                               std::string(table::TypeName(c->type())));
      }
    }
    cols.push_back(c);
  }
  Matrix m(n, static_cast<int64_t>(feature_names_.size()));
  auto fill_rows = [&](int64_t begin, int64_t end) {
    int64_t offset = 0;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const ColumnTransform& t = columns_[c];
      const table::Column& col = *cols[c];
      bool usable = col.null_count() != col.size();
      switch (t.kind) {
        case ColumnTransform::Kind::kNumeric:
          for (int64_t i = begin; i < end; ++i) {
            const int64_t r = rows != nullptr ? (*rows)[i] : i;
            bool valid = usable && col.IsValid(r);
            m.at(i, offset) = t.numeric.Apply(valid ? NumericValue(col, r) : 0, valid);
          }
          break;
        case ColumnTransform::Kind::kDatetime:
          for (size_t p = 0; p < t.parts.size(); ++p) {
            for (int64_t i = begin; i < end; ++i) {
              const int64_t r = rows != nullptr ? (*rows)[i] : i;
              bool valid = usable && col.IsValid(r);
              double v = valid ? DatePartOf(col.ints()[r], t.parts[p].first) : 0;
              m.at(i, offset + static_cast<int64_t>(p)) = t.parts[p].second.Apply(v, valid);
            }
          }
          break;
        case ColumnTransform::Kind::kCategorical: {
          const CategoryIndex& index = category_index_[c];
          const bool is_string = col.type() == DataType::kString;
          std::string text;
          for (int64_t i = begin; i < end; ++i) {
            const int64_t r = rows != nullptr ? (*rows)[i] : i;
            std::string_view key;
            if (!usable || col.IsNull(r)) {
              key = t.fill;
            } else if (is_string) {
              key = col.GetString(r);
            } else {
              text = col.FormatValue(r);
              key = text;
            }
            const int32_t code = index.codes.Find(key);
            if (code >= 0) {
              m.at(i, offset + index.offsets[static_cast<size_t>(code)]) = 1.0f;
            }
          }
          break;
        }
      }
      offset += t.num_features();
    }
  };
  constexpr int64_t kBlock = 16384;
  if (n <= kBlock) {
    fill_rows(0, n);
    return m;
  }
  core::ThreadPool pool(0);
  size_t blocks = static_cast<size_t>((n + kBlock - 1) / kBlock);
  PLINTH_RETURN_IF_ERROR(core::ParallelFor(pool, blocks, [&](size_t b) {
    int64_t begin = static_cast<int64_t>(b) * kBlock;
    fill_rows(begin, std::min(n, begin + kBlock));
    return Status::Ok();
  }));
  return m;
}

core::Json Preprocessor::ToJson() const {
  core::Json opts = options_json_.is_object()
                        ? options_json_
                        : core::Json{
                              {"numeric_impute", Name(options_.numeric_impute)},
                              {"impute_constant", options_.impute_constant},
                              {"categorical_impute", Name(options_.categorical_impute)},
                              {"outliers", Name(options_.outliers)},
                              {"iqr_factor", options_.iqr_factor},
                              {"z_threshold", options_.z_threshold},
                              {"outlier_action", Name(options_.outlier_action)},
                              {"clip_at_predict", options_.clip_at_predict},
                              {"scaling", Name(options_.scaling)},
                              {"max_categories", options_.max_categories},
                              {"min_category_fraction", options_.min_category_fraction},
                              {"log_columns", options_.log_columns},
                          };
  if (!options_json_.is_object()) {
    opts["date_parts"] = core::Json::array();
    for (DatePart part : options_.date_parts) {
      opts["date_parts"].push_back(Name(part));
    }
  }
  core::Json columns = core::Json::array();
  for (const ColumnTransform& t : columns_) {
    core::Json c = {{"name", t.name}, {"type", table::TypeName(t.type)}};
    switch (t.kind) {
      case ColumnTransform::Kind::kNumeric:
        c["kind"] = "numeric";
        c.update(NumericToJson(t.numeric));
        break;
      case ColumnTransform::Kind::kCategorical:
        c["kind"] = "categorical";
        c["fill"] = t.fill;
        c["categories"] = t.categories;
        c["other"] = t.has_other;
        c["rare"] = t.rare;
        break;
      case ColumnTransform::Kind::kDatetime:
        c["kind"] = "datetime";
        c["parts"] = core::Json::array();
        for (const auto& [part, nt] : t.parts) {
          core::Json pj = {{"part", Name(part)}};
          pj.update(NumericToJson(nt));
          c["parts"].push_back(std::move(pj));
        }
        break;
    }
    columns.push_back(std::move(c));
  }
  return core::Json{{"format", "plinth.preprocess/v1"},
                    {"options", std::move(opts)},
                    {"columns", std::move(columns)},
                    {"features", feature_names_}};
}

Result<Preprocessor> Preprocessor::FromJson(const core::Json& json, std::string_view source) {
  Preprocessor p;
  const std::string where(source);
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields fields, core::JsonFields::Of(json, where));
  PLINTH_ASSIGN_OR_RETURN(std::string format, fields.String("format", ""));
  if (format != "plinth.preprocess/v1") {
    return InvalidArgument(where + ": expected \"format\": \"plinth.preprocess/v1\"");
  }
  auto cols = json.find("columns");
  if (cols == json.end() || !cols->is_array()) {
    return InvalidArgument(where + ": missing the \"columns\" list");
  }
  for (size_t i = 0; i < cols->size(); ++i) {
    const core::Json& c = (*cols)[i];
    std::string cw = where + ": columns[" + std::to_string(i) + "]";
    if (!c.is_object()) {
      return InvalidArgument(cw + ": expected an object");
    }
    ColumnTransform t;
    PLINTH_ASSIGN_OR_RETURN(t.name, Get<std::string>(c, "name", cw));
    PLINTH_ASSIGN_OR_RETURN(std::string type, Get<std::string>(c, "type", cw));
    PLINTH_ASSIGN_OR_RETURN(t.type, table::ParseTypeName(type));
    PLINTH_ASSIGN_OR_RETURN(std::string kind, Get<std::string>(c, "kind", cw));
    if (kind == "numeric") {
      t.kind = ColumnTransform::Kind::kNumeric;
      PLINTH_ASSIGN_OR_RETURN(t.numeric, NumericFromJson(c, cw));
    } else if (kind == "categorical") {
      t.kind = ColumnTransform::Kind::kCategorical;
      PLINTH_ASSIGN_OR_RETURN(t.fill, Get<std::string>(c, "fill", cw));
      PLINTH_ASSIGN_OR_RETURN(t.categories, Get<std::vector<std::string>>(c, "categories", cw));
      PLINTH_ASSIGN_OR_RETURN(t.rare, Get<std::vector<std::string>>(c, "rare", cw));
      PLINTH_ASSIGN_OR_RETURN(t.has_other, Get<bool>(c, "other", cw));
    } else if (kind == "datetime") {
      t.kind = ColumnTransform::Kind::kDatetime;
      auto parts = c.find("parts");
      if (parts == c.end() || !parts->is_array()) {
        return InvalidArgument(cw + ": missing the \"parts\" list");
      }
      for (const core::Json& pj : *parts) {
        PLINTH_ASSIGN_OR_RETURN(std::string part_name, Get<std::string>(pj, "part", cw));
        PLINTH_ASSIGN_OR_RETURN(DatePart part, ParseDatePart(part_name));
        PLINTH_ASSIGN_OR_RETURN(NumericTransform nt, NumericFromJson(pj, cw));
        t.parts.emplace_back(part, nt);
      }
    } else {
      return InvalidArgument(cw + ": \"kind\": expected numeric, categorical or datetime, got \"" +
                             kind + "\"");
    }
    p.columns_.push_back(std::move(t));
  }
  if (fields.Has("options")) {
    PLINTH_ASSIGN_OR_RETURN(const core::Json* options, fields.Object("options"));
    p.options_json_ = *options;
  } else {
    p.options_json_ = core::Json::object();
  }
  p.Index();
  return p;
}

}  // namespace plinth::ml
