// Preprocessing: the fitted transform from raw table rows to the model's
// feature matrix. Fit() learns every statistic from the training rows only
// (imputation values, outlier bounds, scaling, category maps); Transform()
// replays exactly that on any rows, at training, evaluation and serving time.
// The fitted state round-trips through JSON (preprocess.json in a bundle).
//
// Per input column, by type:
//   numeric (int64, float64, bool as 0/1): impute -> clip to the outlier
//     bounds (when clip_at_predict) -> optional signed log1p -> scale;
//   string: impute -> one-hot over the kept categories, rare ones in one
//     "(other)" column, an unseen category all zeros;
//   timestamp: one numeric feature per date part (year, month, day, day of
//     week, hour), each imputed and scaled like a numeric column.
// A fitted Preprocessor is immutable and safe to use from many threads.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "ml/matrix.h"
#include "table/string_index.h"
#include "table/table.h"

namespace plinth::ml {

enum class NumericImpute { kMedian, kMean, kConstant };
enum class CategoricalImpute { kMostFrequent, kMissingCategory };
enum class OutlierMethod { kNone, kIqr, kZScore };
// What happens to training rows outside the outlier bounds.
enum class OutlierAction { kRemove, kClip, kKeep };
enum class Scaling { kNone, kStandard, kMinMax };
enum class DatePart { kYear, kMonth, kDay, kDayOfWeek, kHour };

struct PreprocessOptions {
  NumericImpute numeric_impute = NumericImpute::kMedian;
  double impute_constant = 0;
  CategoricalImpute categorical_impute = CategoricalImpute::kMostFrequent;
  OutlierMethod outliers = OutlierMethod::kIqr;
  double iqr_factor = 3.0;   // bounds q1 - f*IQR, q3 + f*IQR
  double z_threshold = 4.0;  // bounds mean -/+ z*std
  // Clipping by default: no training row is dropped unless asked (kRemove).
  OutlierAction outlier_action = OutlierAction::kClip;
  bool clip_at_predict = true;
  Scaling scaling = Scaling::kStandard;
  int max_categories = 32;           // one-hot columns per categorical, "(other)" included
  double min_category_fraction = 0;  // categories rarer than this go to "(other)"
  std::vector<DatePart> date_parts = {DatePart::kYear, DatePart::kMonth, DatePart::kDayOfWeek,
                                      DatePart::kHour};
  std::vector<std::string> log_columns;  // signed log1p before scaling
};

// Enum names as the config and preprocess.json spell them.
Result<NumericImpute> ParseNumericImpute(std::string_view s);
Result<CategoricalImpute> ParseCategoricalImpute(std::string_view s);
Result<OutlierMethod> ParseOutlierMethod(std::string_view s);
Result<OutlierAction> ParseOutlierAction(std::string_view s);
Result<Scaling> ParseScaling(std::string_view s);
Result<DatePart> ParseDatePart(std::string_view s);
std::string_view Name(NumericImpute v);
std::string_view Name(CategoricalImpute v);
std::string_view Name(OutlierMethod v);
std::string_view Name(OutlierAction v);
std::string_view Name(Scaling v);
std::string_view Name(DatePart v);

// The fitted transform of one numeric value.
struct NumericTransform {
  double fill = 0;  // replaces null and NaN
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  bool clip = false;
  bool log = false;
  double center = 0;
  double scale = 1;

  float Apply(double v, bool valid) const;
};

struct ColumnTransform {
  enum class Kind { kNumeric, kCategorical, kDatetime };
  std::string name;
  table::DataType type = table::DataType::kFloat64;
  Kind kind = Kind::kNumeric;
  NumericTransform numeric;  // kNumeric
  // kCategorical
  std::string fill;                     // replaces null
  std::vector<std::string> categories;  // one feature each, most frequent first
  std::vector<std::string> rare;        // seen in training, mapped to "(other)"
  bool has_other = false;
  // kDatetime
  std::vector<std::pair<DatePart, NumericTransform>> parts;

  int num_features() const;
};

inline constexpr std::string_view kOtherCategory = "(other)";
inline constexpr std::string_view kMissingCategory = "(missing)";

class Preprocessor {
 public:
  // Fits on the rows `rows` of `data`, using the columns `inputs` (names).
  // Rows outside the outlier bounds are dropped when the action is kRemove;
  // the rows actually kept are returned by kept_rows(). Errors name the column.
  static Result<Preprocessor> Fit(const table::Table& data, const std::vector<int64_t>& rows,
                                  const std::vector<std::string>& inputs,
                                  const PreprocessOptions& options);

  // The identity transform of numeric columns `schema` (bool as 0/1, nulls as
  // NaN, no clipping or scaling): the preprocessing of a model trained
  // elsewhere on raw numeric features. kInvalidArgument names a non-numeric column.
  static Result<Preprocessor> Identity(const table::Schema& schema);

  // The feature matrix of every row of `data`, which must hold every input
  // column (by name, any order; extra columns are ignored) with a compatible
  // type. Errors: `column "age": missing from the input`, `column "age":
  // expected a number, got string`.
  Result<Matrix> Transform(const table::Table& data) const;
  // The same for the rows `rows` of `data` only, in that order (no copy of
  // the table; what training uses for each split).
  Result<Matrix> TransformRows(const table::Table& data, const std::vector<int64_t>& rows) const;

  // Rows of the fit input that training keeps (outliers removed), ascending.
  const std::vector<int64_t>& kept_rows() const { return kept_rows_; }
  const std::vector<ColumnTransform>& columns() const { return columns_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const PreprocessOptions& options() const { return options_; }

  // preprocess.json ("plinth.preprocess/v1", docs/FORMATS.md).
  core::Json ToJson() const;
  static Result<Preprocessor> FromJson(const core::Json& json, std::string_view source);

 private:
  void Index();
  Result<Matrix> TransformImpl(const table::Table& data, const std::vector<int64_t>* rows) const;

  PreprocessOptions options_;
  std::vector<ColumnTransform> columns_;
  std::vector<std::string> feature_names_;
  std::vector<int64_t> kept_rows_;
  // Per categorical column: category -> feature offset within the column
  // (categories, then "(other)"); rare ones map to the "(other)" offset.
  struct CategoryIndex {
    table::StringIndex codes;  // category -> code
    std::vector<int> offsets;  // code -> feature offset
  };
  std::vector<CategoryIndex> category_index_;
  core::Json options_json_;  // the options as fitted (kept verbatim when loaded)
};

using table::TakeRows;

}  // namespace plinth::ml
