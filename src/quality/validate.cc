#include "quality/validate.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <limits>
#include <set>
#include <unordered_set>

#include "core/html.h"
#include "core/thread_pool.h"
#include "quality/expr.h"
#include "table/hashing.h"
#include "table/value_parse.h"

namespace plinth::quality {
namespace {

using table::Column;
using table::DataType;
using table::Table;

std::string ShowNumber(double v) { return core::FormatNumber(v); }

// Runs one check. Each method fills `r_`; a returned error becomes r_.error.
class CheckRunner {
 public:
  CheckRunner(const Check& check, const Table& t) : c_(check), t_(t) {
    r_.label = c_.label;
    r_.name = c_.name;
    r_.where = c_.where;
    r_.severity = c_.severity;
    r_.columns = c_.columns;
    r_.element_count = t.num_rows();
  }

  CheckResult Run() {
    Status s = Dispatch();
    if (!s.ok()) {
      r_.success = false;
      r_.error = s.message();
    }
    return std::move(r_);
  }

 private:
  Status Dispatch() {
    switch (c_.kind) {
      case CheckKind::kColumnExists:
        return ColumnExists();
      case CheckKind::kNotNull:
        return NotNull();
      case CheckKind::kCompleteness:
        return Completeness();
      case CheckKind::kDuplicateRows:
        return DuplicateRows();
      case CheckKind::kUnique:
        return Unique();
      case CheckKind::kBetween:
        return Between();
      case CheckKind::kInSet:
      case CheckKind::kNotInSet:
        return InSet();
      case CheckKind::kRegex:
      case CheckKind::kNotRegex:
        return Regex();
      case CheckKind::kType:
        return Type();
      case CheckKind::kStringLength:
        return StringLength();
      case CheckKind::kRule:
        return Rule();
      case CheckKind::kRowCount:
        return Count(static_cast<double>(t_.num_rows()), "rows");
      case CheckKind::kColumnCount:
        return Count(static_cast<double>(t_.num_columns()), "columns");
      case CheckKind::kStat:
        return StatCheck();
      case CheckKind::kColumnsMatchSet:
      case CheckKind::kColumnsMatchList:
        return ColumnsMatch();
    }
    return Internal("unknown check kind");
  }

  Result<size_t> Col(const std::string& name) const {
    auto i = t_.schema().IndexOf(name);
    if (!i) {
      return NotFound("column \"" + name + "\" is not in the data");
    }
    return *i;
  }

  Result<size_t> OnlyColumn() const {
    if (c_.columns.empty()) {
      return InvalidArgument("no column given");
    }
    return Col(c_.columns[0]);
  }

  std::string ValueText(size_t col, int64_t row) const {
    const Column& c = t_.column(col);
    return c.IsNull(row) ? "null" : c.FormatValue(row);
  }

  std::string RowText(const std::vector<size_t>& cols, int64_t row) const {
    if (cols.size() == 1) {
      return ValueText(cols[0], row);
    }
    std::string out;
    for (size_t i = 0; i < cols.size(); ++i) {
      out += (i ? ", " : "") + t_.schema().field(cols[i]).name + "=" + ValueText(cols[i], row);
    }
    return out;
  }

  // Fills counts, failing rows and success from per-row verdicts
  // (1 pass, 0 fail, -1 not judged), applying `mostly`.
  void FromVerdicts(const std::vector<int8_t>& verdict, const std::vector<size_t>& cols) {
    r_.evaluated = 0;
    r_.unexpected = 0;
    for (size_t i = 0; i < verdict.size(); ++i) {
      if (verdict[i] < 0) {
        continue;
      }
      ++r_.evaluated;
      if (verdict[i] == 0) {
        ++r_.unexpected;
        if (static_cast<int64_t>(r_.failing.size()) < c_.max_failing_rows) {
          r_.failing.push_back({static_cast<int64_t>(i), RowText(cols, static_cast<int64_t>(i))});
        }
      }
    }
    r_.unexpected_percent = r_.evaluated > 0 ? 100.0 * static_cast<double>(r_.unexpected) /
                                                   static_cast<double>(r_.evaluated)
                                             : 0.0;
    double pass = static_cast<double>(r_.evaluated - r_.unexpected);
    r_.success =
        r_.evaluated == 0 || pass >= c_.mostly * static_cast<double>(r_.evaluated) * (1 - 1e-12);
    r_.per_value = true;
    if (c_.mostly < 1) {
      r_.expected += " for at least " + ShowNumber(c_.mostly * 100) + "% of values";
    }
  }

  // A bound from the suite, read in the column's terms (seconds for timestamps).
  Result<std::optional<double>> BoundValue(const std::optional<Literal>& lit, DataType type,
                                           const char* which) const {
    if (!lit || lit->is_null) {
      return std::optional<double>();
    }
    double v;
    if (table::ParseFloat64(lit->text, v)) {
      return std::optional<double>(v);
    }
    int64_t micros;
    if (type == DataType::kTimestamp && table::ParseTimestamp(lit->text, micros)) {
      return std::optional<double>(static_cast<double>(micros) / 1e6);
    }
    return InvalidArgument(std::string(which) + " \"" + lit->text + "\" is not a number" +
                           (type == DataType::kTimestamp ? " or an ISO-8601 timestamp" : ""));
  }

  static bool InBounds(double v, const std::optional<double>& lo, const std::optional<double>& hi,
                       bool strict_lo, bool strict_hi) {
    if (lo && (strict_lo ? !(v > *lo) : !(v >= *lo))) {
      return false;
    }
    if (hi && (strict_hi ? !(v < *hi) : !(v <= *hi))) {
      return false;
    }
    return true;
  }

  static std::string Interval(const std::optional<Literal>& lo, const std::optional<Literal>& hi,
                              bool strict_lo, bool strict_hi) {
    bool has_lo = lo && !lo->is_null, has_hi = hi && !hi->is_null;
    if (has_lo && has_hi) {
      if (lo->text == hi->text && !strict_lo && !strict_hi) {
        return "== " + lo->text;
      }
      return std::string("in ") + (strict_lo ? "(" : "[") + lo->text + ", " + hi->text +
             (strict_hi ? ")" : "]");
    }
    if (has_lo) {
      return (strict_lo ? "> " : ">= ") + lo->text;
    }
    if (has_hi) {
      return (strict_hi ? "< " : "<= ") + hi->text;
    }
    return "any value";
  }

  static double ValueAsDouble(const Column& c, int64_t i) {
    return c.type() == DataType::kTimestamp ? static_cast<double>(c.ints()[i]) / 1e6
                                            : c.GetDouble(i);
  }

  Status NeedNumeric(size_t col) const {
    DataType t = t_.schema().field(col).type;
    if (t == DataType::kInt64 || t == DataType::kFloat64 || t == DataType::kTimestamp) {
      return Status::Ok();
    }
    return InvalidArgument("column \"" + t_.schema().field(col).name + "\" is " +
                           std::string(table::TypeName(t)) +
                           ", this check needs numbers or timestamps");
  }

  Status ColumnExists() {
    bool found = t_.schema().IndexOf(c_.columns[0]).has_value();
    r_.observed = found;
    r_.expected = "column present";
    r_.success = found;
    return Status::Ok();
  }

  Status NotNull() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    const Column& c = t_.column(col);
    std::vector<int8_t> verdict(static_cast<size_t>(c.size()));
    for (int64_t i = 0; i < c.size(); ++i) {
      verdict[i] = c.IsValid(i) ? 1 : 0;
    }
    r_.expected = "no nulls";
    FromVerdicts(verdict, {col});
    return Status::Ok();
  }

  Status Completeness() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    const Column& c = t_.column(col);
    r_.evaluated = c.size();
    r_.unexpected = c.null_count();
    JudgeFraction("null fraction");
    for (int64_t i = 0;
         i < c.size() && static_cast<int64_t>(r_.failing.size()) < c_.max_failing_rows; ++i) {
      if (c.IsNull(i)) {
        r_.failing.push_back({i, "null"});
      }
    }
    return Status::Ok();
  }

  Result<std::vector<size_t>> KeyColumns() const {
    std::vector<size_t> cols;
    if (c_.columns.empty()) {
      for (size_t i = 0; i < t_.num_columns(); ++i) {
        cols.push_back(i);
      }
      return cols;
    }
    for (const auto& name : c_.columns) {
      PLINTH_ASSIGN_OR_RETURN(size_t i, Col(name));
      cols.push_back(i);
    }
    return cols;
  }

  Status DuplicateRows() {
    PLINTH_ASSIGN_OR_RETURN(std::vector<size_t> cols, KeyColumns());
    std::vector<int64_t> first = table::FirstOccurrence(t_, cols);
    r_.evaluated = t_.num_rows();
    for (size_t r = 0; r < first.size(); ++r) {
      if (first[r] != static_cast<int64_t>(r)) {
        ++r_.unexpected;
        if (static_cast<int64_t>(r_.failing.size()) < c_.max_failing_rows) {
          r_.failing.push_back(
              {static_cast<int64_t>(r), "same as row " + std::to_string(first[r])});
        }
      }
    }
    JudgeFraction("duplicate fraction");
    return Status::Ok();
  }

  // Passes when unexpected / evaluated <= max_fraction (completeness, duplicates).
  void JudgeFraction(const std::string& what) {
    double frac = r_.evaluated > 0
                      ? static_cast<double>(r_.unexpected) / static_cast<double>(r_.evaluated)
                      : 0.0;
    r_.observed = frac;
    r_.unexpected_percent = frac * 100;
    r_.expected = what + " <= " + ShowNumber(c_.max_fraction);
    r_.success = frac <= c_.max_fraction;
    r_.per_value = true;
  }

  Status Unique() {
    PLINTH_ASSIGN_OR_RETURN(std::vector<size_t> cols, KeyColumns());
    std::vector<int64_t> first = table::FirstOccurrence(t_, cols);
    std::vector<int64_t> group_size(first.size(), 0);
    for (int64_t f : first) {
      ++group_size[f];
    }
    std::vector<int8_t> verdict(first.size());
    for (size_t r = 0; r < first.size(); ++r) {
      bool all_null = true;
      for (size_t c : cols) {
        all_null = all_null && t_.column(c).IsNull(static_cast<int64_t>(r));
      }
      verdict[r] = all_null ? -1 : (group_size[first[r]] > 1 ? 0 : 1);
    }
    r_.expected = "every value distinct";
    FromVerdicts(verdict, cols);
    return Status::Ok();
  }

  Status Between() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    PLINTH_RETURN_IF_ERROR(NeedNumeric(col));
    DataType type = t_.schema().field(col).type;
    PLINTH_ASSIGN_OR_RETURN(auto lo, BoundValue(c_.min, type, "min"));
    PLINTH_ASSIGN_OR_RETURN(auto hi, BoundValue(c_.max, type, "max"));
    const Column& c = t_.column(col);
    std::vector<int8_t> verdict(static_cast<size_t>(c.size()));
    for (int64_t i = 0; i < c.size(); ++i) {
      verdict[i] = c.IsNull(i) ? -1
                               : static_cast<int8_t>(InBounds(ValueAsDouble(c, i), lo, hi,
                                                              c_.strict_min, c_.strict_max));
    }
    r_.expected = Interval(c_.min, c_.max, c_.strict_min, c_.strict_max);
    FromVerdicts(verdict, {col});
    return Status::Ok();
  }

  Status InSet() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    const Column& c = t_.column(col);
    bool negate = c_.kind == CheckKind::kNotInSet;
    std::set<std::string, std::less<>> strings;
    std::set<double> numbers;
    std::vector<std::string> shown;
    for (const auto& lit : c_.values) {
      if (lit.is_null) {
        continue;
      }
      shown.push_back(lit.text);
      double d;
      int64_t micros;
      bool b;
      switch (c.type()) {
        case DataType::kString:
          strings.insert(lit.text);
          break;
        case DataType::kInt64:
        case DataType::kFloat64:
          if (table::ParseFloat64(lit.text, d)) {
            numbers.insert(d);
          }
          break;
        case DataType::kBool:
          if (table::ParseBool(lit.text, b)) {
            numbers.insert(b ? 1 : 0);
          }
          break;
        case DataType::kTimestamp:
          if (table::ParseTimestamp(lit.text, micros)) {
            numbers.insert(static_cast<double>(micros) / 1e6);
          }
          break;
      }
    }
    std::vector<int8_t> verdict(static_cast<size_t>(c.size()));
    for (int64_t i = 0; i < c.size(); ++i) {
      if (c.IsNull(i)) {
        verdict[i] = -1;
        continue;
      }
      bool found;
      switch (c.type()) {
        case DataType::kString:
          found = strings.count(c.GetString(i)) != 0;
          break;
        case DataType::kBool:
          found = numbers.count(c.bools()[i] ? 1 : 0) != 0;
          break;
        default:
          found = numbers.count(ValueAsDouble(c, i)) != 0;
          break;
      }
      verdict[i] = static_cast<int8_t>(found != negate);
    }
    std::string list;
    for (size_t i = 0; i < shown.size() && i < 8; ++i) {
      list += (i ? ", " : "") + shown[i];
    }
    if (shown.size() > 8) {
      list += ", ... (" + std::to_string(shown.size()) + " values)";
    }
    r_.expected = std::string(negate ? "not in {" : "in {") + list + "}";
    FromVerdicts(verdict, {col});
    return Status::Ok();
  }

  Status Regex() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    const Column& c = t_.column(col);
    RE2 re(c_.pattern, RE2::Quiet);
    if (!re.ok()) {
      return InvalidArgument("invalid regex: " + re.error());
    }
    bool negate = c_.kind == CheckKind::kNotRegex;
    std::vector<int8_t> verdict(static_cast<size_t>(c.size()));
    std::string text;
    for (int64_t i = 0; i < c.size(); ++i) {
      if (c.IsNull(i)) {
        verdict[i] = -1;
        continue;
      }
      bool match;
      if (c.type() == DataType::kString) {
        match = RE2::PartialMatch(c.GetString(i), re);
      } else {
        text = c.FormatValue(i);
        match = RE2::PartialMatch(text, re);
      }
      verdict[i] = static_cast<int8_t>(match != negate);
    }
    r_.expected = std::string(negate ? "not matching /" : "matching /") + c_.pattern + "/";
    FromVerdicts(verdict, {col});
    return Status::Ok();
  }

  Status Type() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    DataType t = t_.schema().field(col).type;
    r_.observed = std::string(table::TypeName(t));
    std::string names;
    for (size_t i = 0; i < c_.types.size(); ++i) {
      names += (i ? " or " : "") + std::string(table::TypeName(c_.types[i]));
    }
    r_.expected = names;
    r_.success = std::find(c_.types.begin(), c_.types.end(), t) != c_.types.end();
    return Status::Ok();
  }

  Status StringLength() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    PLINTH_ASSIGN_OR_RETURN(auto lo, BoundValue(c_.min, DataType::kInt64, "min"));
    PLINTH_ASSIGN_OR_RETURN(auto hi, BoundValue(c_.max, DataType::kInt64, "max"));
    const Column& c = t_.column(col);
    std::vector<int8_t> verdict(static_cast<size_t>(c.size()));
    for (int64_t i = 0; i < c.size(); ++i) {
      if (c.IsNull(i)) {
        verdict[i] = -1;
        continue;
      }
      std::string text =
          c.type() == DataType::kString ? std::string(c.GetString(i)) : c.FormatValue(i);
      size_t chars = 0;
      for (unsigned char ch : text) {
        chars += (ch & 0xC0) != 0x80;
      }
      verdict[i] = static_cast<int8_t>(InBounds(static_cast<double>(chars), lo, hi, false, false));
    }
    r_.expected = "length " + Interval(c_.min, c_.max, false, false);
    FromVerdicts(verdict, {col});
    return Status::Ok();
  }

  Status Rule() {
    auto compiled = CompiledExpr::Compile(c_.expr, t_.schema());
    if (!compiled.ok()) {
      return InvalidArgument("expr \"" + c_.expr + "\": " + compiled.status().message());
    }
    if (!compiled->is_boolean()) {
      return InvalidArgument("expr \"" + c_.expr + "\" yields a value, not true/false");
    }
    r_.expected = c_.expr;
    std::vector<size_t> cols = compiled->columns();
    FromVerdicts(compiled->EvaluateRows(t_), cols);
    r_.columns.clear();
    for (size_t col : cols) {
      r_.columns.push_back(t_.schema().field(col).name);
    }
    return Status::Ok();
  }

  Status Count(double observed, const char* what) {
    PLINTH_ASSIGN_OR_RETURN(auto lo, BoundValue(c_.min, DataType::kInt64, "min"));
    PLINTH_ASSIGN_OR_RETURN(auto hi, BoundValue(c_.max, DataType::kInt64, "max"));
    r_.observed = static_cast<int64_t>(observed);
    r_.expected = std::string(what) + " " + Interval(c_.min, c_.max, false, false);
    r_.success = InBounds(observed, lo, hi, false, false);
    return Status::Ok();
  }

  static double QuantileOf(const std::vector<double>& sorted, double q) {
    double pos = q * static_cast<double>(sorted.size() - 1);
    auto lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, sorted.size() - 1);
    double t = pos - static_cast<double>(lo);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * t;
  }

  core::Json ShowStat(double v, DataType type) const {
    if (!std::isfinite(v)) {
      return nullptr;
    }
    if (type == DataType::kTimestamp) {
      return table::FormatTimestamp(static_cast<int64_t>(std::llround(v * 1e6)), false);
    }
    return v;
  }

  Status StatCheck() {
    PLINTH_ASSIGN_OR_RETURN(size_t col, OnlyColumn());
    const Column& c = t_.column(col);
    DataType type = c.type();
    static const char* const kNames[] = {
        "mean",           "median",           "std", "min", "max", "sum", "quantile",
        "distinct count", "distinct fraction"};
    std::string stat_name = kNames[static_cast<int>(c_.stat)];
    if (c_.stat == Stat::kDistinct || c_.stat == Stat::kDistinctFraction) {
      std::vector<size_t> cols = {col};
      std::vector<int64_t> first = table::FirstOccurrence(t_, cols);
      int64_t distinct = 0;
      for (size_t r = 0; r < first.size(); ++r) {
        distinct += first[r] == static_cast<int64_t>(r) && c.IsValid(static_cast<int64_t>(r));
      }
      int64_t nonnull = c.size() - c.null_count();
      double v = c_.stat == Stat::kDistinct
                     ? static_cast<double>(distinct)
                     : (nonnull > 0 ? static_cast<double>(distinct) / static_cast<double>(nonnull)
                                    : std::nan(""));
      return Judge(v, stat_name, DataType::kFloat64);
    }
    PLINTH_RETURN_IF_ERROR(NeedNumeric(col));
    std::vector<double> values;
    values.reserve(static_cast<size_t>(c.size()));
    for (int64_t i = 0; i < c.size(); ++i) {
      if (c.IsValid(i)) {
        values.push_back(ValueAsDouble(c, i));
      }
    }
    r_.evaluated = static_cast<int64_t>(values.size());
    if (values.empty()) {
      r_.observed = nullptr;
      r_.success = false;
      r_.expected = stat_name + " " + Interval(c_.min, c_.max, c_.strict_min, c_.strict_max);
      r_.error = "the column has no values";
      return Status::Ok();
    }
    if (c_.stat == Stat::kQuantile) {
      std::sort(values.begin(), values.end());
      r_.success = true;
      core::Json observed = core::Json::object();
      std::string expected;
      for (size_t k = 0; k < c_.quantiles.size(); ++k) {
        double v = QuantileOf(values, c_.quantiles[k]);
        PLINTH_ASSIGN_OR_RETURN(auto lo, BoundValue(c_.ranges[k].first, type, "min"));
        PLINTH_ASSIGN_OR_RETURN(auto hi, BoundValue(c_.ranges[k].second, type, "max"));
        std::string key = "q" + ShowNumber(c_.quantiles[k]);
        observed[key] = ShowStat(v, type);
        r_.success = r_.success && InBounds(v, lo, hi, false, false);
        expected += (k ? "; " : "") + key + " " +
                    Interval(c_.ranges[k].first, c_.ranges[k].second, false, false);
      }
      r_.observed = observed;
      r_.expected = expected;
      return Status::Ok();
    }
    double v = 0;
    switch (c_.stat) {
      case Stat::kMean:
      case Stat::kStd: {
        double sum = 0;
        for (double x : values) {
          sum += x;
        }
        double mean = sum / static_cast<double>(values.size());
        if (c_.stat == Stat::kMean) {
          v = mean;
        } else {
          double m2 = 0;
          for (double x : values) {
            m2 += (x - mean) * (x - mean);
          }
          v = values.size() > 1 ? std::sqrt(m2 / static_cast<double>(values.size() - 1))
                                : std::nan("");
        }
        break;
      }
      case Stat::kMedian:
        std::sort(values.begin(), values.end());
        v = QuantileOf(values, 0.5);
        break;
      case Stat::kMin:
        v = *std::min_element(values.begin(), values.end());
        break;
      case Stat::kMax:
        v = *std::max_element(values.begin(), values.end());
        break;
      case Stat::kSum:
        for (double x : values) {
          v += x;
        }
        break;
      default:
        break;
    }
    // Means and spreads of timestamps are durations; show them as numbers.
    bool as_time =
        type == DataType::kTimestamp && (c_.stat == Stat::kMin || c_.stat == Stat::kMax ||
                                         c_.stat == Stat::kMedian || c_.stat == Stat::kMean);
    return Judge(v, stat_name, as_time ? DataType::kTimestamp : DataType::kFloat64);
  }

  Status Judge(double v, const std::string& stat_name, DataType shown_as) {
    PLINTH_ASSIGN_OR_RETURN(auto lo, BoundValue(c_.min, shown_as, "min"));
    PLINTH_ASSIGN_OR_RETURN(auto hi, BoundValue(c_.max, shown_as, "max"));
    r_.observed = ShowStat(v, shown_as);
    r_.expected = stat_name + " " + Interval(c_.min, c_.max, c_.strict_min, c_.strict_max);
    r_.success = std::isfinite(v) && InBounds(v, lo, hi, c_.strict_min, c_.strict_max);
    return Status::Ok();
  }

  Status ColumnsMatch() {
    std::vector<std::string> actual;
    for (const auto& f : t_.schema().fields()) {
      actual.push_back(f.name);
    }
    r_.observed = actual;
    r_.columns.clear();
    if (c_.kind == CheckKind::kColumnsMatchList) {
      r_.success = actual == c_.columns;
      r_.expected = "columns in this order: " + Join(c_.columns);
      return Status::Ok();
    }
    std::set<std::string> have(actual.begin(), actual.end());
    std::set<std::string> want(c_.columns.begin(), c_.columns.end());
    bool subset = std::includes(have.begin(), have.end(), want.begin(), want.end());
    r_.success = c_.exact_match ? have == want : subset;
    r_.expected = std::string(c_.exact_match ? "exactly the columns " : "at least the columns ") +
                  Join(c_.columns);
    std::vector<std::string> missing, extra;
    std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                        std::back_inserter(missing));
    std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    if (!missing.empty()) {
      r_.error = "missing: " + Join(missing);
    }
    if (c_.exact_match && !extra.empty()) {
      r_.error += std::string(r_.error.empty() ? "" : "; ") + "unexpected: " + Join(extra);
    }
    return Status::Ok();
  }

  static std::string Join(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      out += (i ? ", " : "") + items[i];
    }
    return out;
  }

  const Check& c_;
  const Table& t_;
  CheckResult r_;
};

}  // namespace

bool ValidationReport::success() const { return failed_errors() == 0; }

int ValidationReport::passed() const {
  return static_cast<int>(
      std::count_if(results.begin(), results.end(), [](const auto& r) { return r.success; }));
}

int ValidationReport::failed_errors() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) {
    return !r.success && r.severity == Severity::kError;
  }));
}

int ValidationReport::failed_warnings() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) {
    return !r.success && r.severity == Severity::kWarn;
  }));
}

ValidationReport RunSuite(const Suite& suite, const table::Table& data,
                          const ValidateOptions& options) {
  ValidationReport report;
  report.suite_name = suite.name;
  report.suite_source = suite.source;
  report.rows = data.num_rows();
  report.columns = data.num_columns();
  // Completeness without a column covers every column of this data.
  std::vector<Check> checks;
  for (const auto& check : suite.checks) {
    if (check.kind == CheckKind::kCompleteness && check.columns.empty()) {
      for (const auto& f : data.schema().fields()) {
        Check one = check;
        one.columns = {f.name};
        one.label = check.label + "(" + f.name + ")";
        checks.push_back(std::move(one));
      }
    } else {
      checks.push_back(check);
    }
  }
  report.results.resize(checks.size());
  size_t threads = options.threads != 0 ? options.threads : core::HardwareThreads();
  if (threads <= 1 || checks.size() <= 1) {
    for (size_t i = 0; i < checks.size(); ++i) {
      report.results[i] = CheckRunner(checks[i], data).Run();
    }
    return report;
  }
  core::ThreadPool pool(std::min(threads, checks.size()));
  std::vector<std::future<CheckResult>> futures;
  for (const auto& check : checks) {
    futures.push_back(pool.Submit([&check, &data] { return CheckRunner(check, data).Run(); }));
  }
  for (size_t i = 0; i < futures.size(); ++i) {
    report.results[i] = futures[i].get();
  }
  return report;
}

}  // namespace plinth::quality
