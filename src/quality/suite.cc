#include "quality/suite.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/file.h"
#include "core/yaml.h"
#include "quality/expr.h"
#include "table/value_parse.h"

namespace plinth::quality {
namespace {

// What a lone `value` key means for a check.
enum class ValueMeans { kNone, kMin, kMax, kBoth };

struct CheckDef {
  const char* name;
  CheckKind kind;
  Stat stat;
  std::vector<const char*> required;  // "a|b": one of them
  std::vector<const char*> optional;
  ValueMeans value = ValueMeans::kNone;
  bool per_column = false;  // `columns: [...]` makes one check per column
};

const std::vector<CheckDef>& Defs() {
  using K = CheckKind;
  using S = Stat;
  const std::vector<const char*> bounds = {"min", "max", "strict_min", "strict_max"};
  const std::vector<const char*> ge_bounds = {"min_value", "max_value", "strict_min", "strict_max"};
  static const std::vector<CheckDef> kDefs = {
      // Plinth's names.
      {"column_exists",
       K::kColumnExists,
       S::kMean,
       {"column|columns"},
       {},
       ValueMeans::kNone,
       true},
      {"not_null", K::kNotNull, S::kMean, {"column|columns"}, {"mostly"}, ValueMeans::kNone, true},
      {"completeness",
       K::kCompleteness,
       S::kMean,
       {},
       {"column", "columns", "max_null_fraction", "threshold"},
       ValueMeans::kNone,
       true},
      {"duplicate_rows", K::kDuplicateRows, S::kMean, {}, {"max_fraction", "threshold", "columns"}},
      {"unique", K::kUnique, S::kMean, {"column|columns"}, {"mostly"}},
      {"between",
       K::kBetween,
       S::kMean,
       {"column|columns"},
       {"min", "max", "strict_min", "strict_max", "mostly"},
       ValueMeans::kNone,
       true},
      {"min",
       K::kBetween,
       S::kMean,
       {"column|columns", "value"},
       {"mostly"},
       ValueMeans::kMin,
       true},
      {"max",
       K::kBetween,
       S::kMean,
       {"column|columns", "value"},
       {"mostly"},
       ValueMeans::kMax,
       true},
      {"non_negative",
       K::kBetween,
       S::kMean,
       {"column|columns"},
       {"mostly"},
       ValueMeans::kNone,
       true},
      {"in_set",
       K::kInSet,
       S::kMean,
       {"column|columns", "values"},
       {"mostly"},
       ValueMeans::kNone,
       true},
      {"not_in_set",
       K::kNotInSet,
       S::kMean,
       {"column|columns", "values"},
       {"mostly"},
       ValueMeans::kNone,
       true},
      {"regex",
       K::kRegex,
       S::kMean,
       {"column|columns", "pattern"},
       {"mostly"},
       ValueMeans::kNone,
       true},
      {"not_regex",
       K::kNotRegex,
       S::kMean,
       {"column|columns", "pattern"},
       {"mostly"},
       ValueMeans::kNone,
       true},
      {"type", K::kType, S::kMean, {"column|columns", "type"}, {}, ValueMeans::kNone, true},
      {"string_length",
       K::kStringLength,
       S::kMean,
       {"column|columns"},
       {"min", "max", "mostly"},
       ValueMeans::kNone,
       true},
      {"rule", K::kRule, S::kMean, {"expr"}, {"mostly"}},
      {"row_count", K::kRowCount, S::kMean, {}, {"min", "max"}},
      {"column_count", K::kColumnCount, S::kMean, {}, {"min", "max"}},
      {"mean", K::kStat, S::kMean, {"column|columns"}, bounds, ValueMeans::kNone, true},
      {"median", K::kStat, S::kMedian, {"column|columns"}, bounds, ValueMeans::kNone, true},
      {"std", K::kStat, S::kStd, {"column|columns"}, bounds, ValueMeans::kNone, true},
      {"sum", K::kStat, S::kSum, {"column|columns"}, bounds, ValueMeans::kNone, true},
      {"quantile",
       K::kStat,
       S::kQuantile,
       {"column|columns", "q"},
       bounds,
       ValueMeans::kNone,
       true},
      {"distinct_count",
       K::kStat,
       S::kDistinct,
       {"column|columns"},
       bounds,
       ValueMeans::kNone,
       true},
      {"columns_match_set", K::kColumnsMatchSet, S::kMean, {"columns"}, {"exact_match"}},
      {"columns_match_list", K::kColumnsMatchList, S::kMean, {"columns"}, {}},
      // Great Expectations' names, with their keyword arguments.
      {"expect_column_to_exist", K::kColumnExists, S::kMean, {"column"}, {"column_index"}},
      {"expect_column_values_to_not_be_null", K::kNotNull, S::kMean, {"column"}, {"mostly"}},
      {"expect_column_values_to_be_unique", K::kUnique, S::kMean, {"column"}, {"mostly"}},
      {"expect_compound_columns_to_be_unique", K::kUnique, S::kMean, {"column_list"}, {"mostly"}},
      {"expect_column_values_to_be_between",
       K::kBetween,
       S::kMean,
       {"column"},
       {"min_value", "max_value", "strict_min", "strict_max", "mostly"}},
      {"expect_column_values_to_be_in_set",
       K::kInSet,
       S::kMean,
       {"column", "value_set"},
       {"mostly"}},
      {"expect_column_values_to_not_be_in_set",
       K::kNotInSet,
       S::kMean,
       {"column", "value_set"},
       {"mostly"}},
      {"expect_column_values_to_match_regex", K::kRegex, S::kMean, {"column", "regex"}, {"mostly"}},
      {"expect_column_values_to_not_match_regex",
       K::kNotRegex,
       S::kMean,
       {"column", "regex"},
       {"mostly"}},
      {"expect_column_values_to_be_of_type", K::kType, S::kMean, {"column", "type_"}, {"mostly"}},
      {"expect_column_values_to_be_in_type_list",
       K::kType,
       S::kMean,
       {"column", "type_list"},
       {"mostly"}},
      {"expect_column_value_lengths_to_be_between",
       K::kStringLength,
       S::kMean,
       {"column"},
       {"min_value", "max_value", "mostly"}},
      {"expect_column_value_lengths_to_equal",
       K::kStringLength,
       S::kMean,
       {"column", "value"},
       {"mostly"},
       ValueMeans::kBoth},
      {"expect_table_row_count_to_be_between",
       K::kRowCount,
       S::kMean,
       {},
       {"min_value", "max_value"}},
      {"expect_table_row_count_to_equal", K::kRowCount, S::kMean, {"value"}, {}, ValueMeans::kBoth},
      {"expect_table_column_count_to_be_between",
       K::kColumnCount,
       S::kMean,
       {},
       {"min_value", "max_value"}},
      {"expect_table_column_count_to_equal",
       K::kColumnCount,
       S::kMean,
       {"value"},
       {},
       ValueMeans::kBoth},
      {"expect_table_columns_to_match_set",
       K::kColumnsMatchSet,
       S::kMean,
       {"column_set"},
       {"exact_match"}},
      {"expect_table_columns_to_match_ordered_list",
       K::kColumnsMatchList,
       S::kMean,
       {"column_list"},
       {}},
      {"expect_column_mean_to_be_between", K::kStat, S::kMean, {"column"}, ge_bounds},
      {"expect_column_median_to_be_between", K::kStat, S::kMedian, {"column"}, ge_bounds},
      {"expect_column_stdev_to_be_between", K::kStat, S::kStd, {"column"}, ge_bounds},
      {"expect_column_min_to_be_between", K::kStat, S::kMin, {"column"}, ge_bounds},
      {"expect_column_max_to_be_between", K::kStat, S::kMax, {"column"}, ge_bounds},
      {"expect_column_sum_to_be_between", K::kStat, S::kSum, {"column"}, ge_bounds},
      {"expect_column_quantile_values_to_be_between",
       K::kStat,
       S::kQuantile,
       {"column", "quantile_ranges"},
       {"allow_relative_error"}},
      {"expect_column_unique_value_count_to_be_between",
       K::kStat,
       S::kDistinct,
       {"column"},
       ge_bounds},
      {"expect_column_proportion_of_unique_values_to_be_between",
       K::kStat,
       S::kDistinctFraction,
       {"column"},
       ge_bounds},
      {"expect_column_pair_values_A_to_be_greater_than_B",
       K::kRule,
       S::kMean,
       {"column_A", "column_B"},
       {"or_equal", "mostly", "ignore_row_if"}},
      {"expect_column_pair_values_to_be_equal",
       K::kRule,
       S::kMean,
       {"column_A", "column_B"},
       {"mostly", "ignore_row_if"}},
      {"expect_multicolumn_sum_to_equal",
       K::kRule,
       S::kMean,
       {"column_list", "sum_total"},
       {"mostly", "ignore_row_if"}},
  };
  return kDefs;
}

// Keyword arguments Great Expectations writes that change nothing here.
const std::set<std::string>& IgnoredKeys() {
  static const std::set<std::string> kKeys = {"result_format",
                                              "catch_exceptions",
                                              "include_config",
                                              "meta",
                                              "batch_id",
                                              "notes",
                                              "parse_strings_as_datetimes",
                                              "allow_cross_type_comparisons",
                                              "output_strftime_format",
                                              "condition_parser",
                                              "auto",
                                              "profiler_config"};
  return kKeys;
}

const CheckDef* FindDef(std::string_view name) {
  for (const auto& d : Defs()) {
    if (name == d.name) {
      return &d;
    }
  }
  return nullptr;
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i ? sep : "") + items[i];
  }
  return out;
}

// Quotes a column name for the expression language.
std::string QuoteColumn(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    out += c == '`' ? "``" : std::string(1, c);
  }
  return out + "`";
}

class SuiteParser {
 public:
  explicit SuiteParser(std::string source) : source_(std::move(source)) {}

  Result<Suite> Parse(const YAML::Node& root) {
    Suite suite;
    suite.source = source_;
    YAML::Node items;
    if (root.IsSequence()) {
      items = root;
    } else if (root.IsMap()) {
      for (const char* key : {"name", "expectation_suite_name"}) {
        if (root[key] && root[key].IsScalar()) {
          suite.name = root[key].Scalar();
        }
      }
      if (root["defaults"]) {
        PLINTH_RETURN_IF_ERROR(ParseDefaults(root["defaults"]));
      }
      if (root["checks"]) {
        items = root["checks"];
      } else if (root["expectations"]) {
        items = root["expectations"];
      } else {
        return InvalidArgument(source_ +
                               ": expected a key 'checks' (or 'expectations', as Great "
                               "Expectations writes) holding the list of checks");
      }
    } else {
      return InvalidArgument(source_ + ": expected a mapping with a 'checks' list");
    }
    if (!items.IsSequence()) {
      return InvalidArgument(core::YamlWhere(items, source_) + ": expected a list of checks");
    }
    for (const auto& item : items) {
      PLINTH_RETURN_IF_ERROR(ParseItem(item, suite.checks));
    }
    return suite;
  }

 private:
  Status ParseDefaults(const YAML::Node& node) {
    std::string where = core::YamlWhere(node, source_);
    if (!node.IsMap()) {
      return InvalidArgument(where + ": 'defaults' must be a mapping");
    }
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      if (key == "severity") {
        PLINTH_ASSIGN_OR_RETURN(default_severity_, ParseSeverity(kv.second, where));
      } else if (key == "max_failing_rows") {
        PLINTH_ASSIGN_OR_RETURN(default_max_rows_,
                                core::YamlAs<int64_t>(kv.second, where, key, "a whole number"));
      } else if (key == "mostly") {
        PLINTH_ASSIGN_OR_RETURN(default_mostly_, Fraction(kv.second, where, key));
      } else {
        return InvalidArgument(where + ": defaults: unknown key '" + key +
                               "' (expected severity, max_failing_rows, mostly)");
      }
    }
    return Status::Ok();
  }

  Result<Severity> ParseSeverity(const YAML::Node& node, const std::string& where) {
    PLINTH_ASSIGN_OR_RETURN(std::string s,
                            core::YamlAs<std::string>(node, where, "severity", "error or warn"));
    if (s == "error" || s == "critical") {
      return Severity::kError;
    }
    if (s == "warn" || s == "warning" || s == "info") {
      return Severity::kWarn;
    }
    return InvalidArgument(where + ": key 'severity': expected error or warn, got \"" + s + "\"");
  }

  Result<double> Fraction(const YAML::Node& node, const std::string& where,
                          const std::string& key) {
    PLINTH_ASSIGN_OR_RETURN(double v,
                            core::YamlAs<double>(node, where, key, "a number from 0 to 1"));
    if (!(v >= 0 && v <= 1)) {
      return InvalidArgument(where + ": key '" + key + "': expected a number from 0 to 1, got " +
                             node.Scalar());
    }
    return v;
  }

  Result<std::vector<std::string>> Names(const YAML::Node& node, const std::string& where,
                                         const std::string& key) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return out;
    }
    if (!node.IsSequence() || node.size() == 0) {
      return InvalidArgument(where + ": key '" + key + "': expected a list of column names");
    }
    for (const auto& n : node) {
      PLINTH_ASSIGN_OR_RETURN(std::string s,
                              core::YamlAs<std::string>(n, where, key, "a column name"));
      out.push_back(s);
    }
    return out;
  }

  // A bound (min, max, value, a quantile's range): a number, or for `timestamps`
  // (checks on a column's values or statistics) an ISO-8601 timestamp too. Checked
  // here, so that "zz" is a suite error rather than a check that fails on the data.
  Result<std::optional<Literal>> Bound(const YAML::Node& node, const std::string& where,
                                       const std::string& key, bool timestamps) {
    if (node.IsNull()) {
      return std::optional<Literal>();
    }
    const std::string expected =
        timestamps ? "a number, an ISO-8601 timestamp or null" : "a number or null";
    if (!node.IsScalar()) {
      return InvalidArgument(where + ": key '" + key + "': expected " + expected);
    }
    double number = 0;
    int64_t micros = 0;
    if (!table::ParseFloat64(node.Scalar(), number) &&
        !(timestamps && table::ParseTimestamp(node.Scalar(), micros))) {
      return InvalidArgument(where + ": key '" + key + "': expected " + expected + ", got \"" +
                             node.Scalar() + "\"");
    }
    return std::optional<Literal>(Literal{node.Scalar(), false});
  }

  // Splits an item into (check name, its arguments, item-level keys).
  Status ParseItem(const YAML::Node& item, std::vector<Check>& out) {
    std::string where = core::YamlWhere(item, source_);
    if (!item.IsMap()) {
      return InvalidArgument(where +
                             ": expected a check (a mapping such as "
                             "'- not_null: {column: age}')");
    }
    std::string name;
    YAML::Node args;
    std::vector<std::pair<std::string, YAML::Node>> item_keys;
    bool ge_form = item["kwargs"] && (item["expectation_type"] || item["type"]);
    if (ge_form) {
      YAML::Node t = item["expectation_type"] ? item["expectation_type"] : item["type"];
      PLINTH_ASSIGN_OR_RETURN(
          name, core::YamlAs<std::string>(t, where, "expectation_type", "an expectation name"));
      args = item["kwargs"];
      if (!args.IsMap()) {
        return InvalidArgument(where + ": key 'kwargs': expected a mapping");
      }
      for (const auto& kv : item) {
        std::string k = kv.first.Scalar();
        if (k == "severity" || k == "name") {
          item_keys.emplace_back(k, kv.second);
        }
      }
    } else if (item["check"]) {
      PLINTH_ASSIGN_OR_RETURN(
          name, core::YamlAs<std::string>(item["check"], where, "check", "a check name"));
      args = YAML::Node(YAML::NodeType::Map);
      for (const auto& kv : item) {
        std::string k = kv.first.Scalar();
        if (k == "check") {
          continue;
        }
        if (k == "severity" || k == "name" || k == "max_failing_rows") {
          item_keys.emplace_back(k, kv.second);
        } else {
          args[k] = kv.second;
        }
      }
    } else {
      for (const auto& kv : item) {
        std::string k = kv.first.Scalar();
        if (k == "severity" || k == "name" || k == "max_failing_rows" || k == "description") {
          item_keys.emplace_back(k, kv.second);
        } else if (!name.empty()) {
          return InvalidArgument(where + ": a check item names one check, found '" + name +
                                 "' and '" + k + "'");
        } else {
          name = k;
          args = kv.second;
        }
      }
      if (name.empty()) {
        return InvalidArgument(where + ": no check named in this item");
      }
      if (args.IsNull()) {
        args = YAML::Node(YAML::NodeType::Map);
      }
      if (!args.IsMap()) {
        return InvalidArgument(where + ": check '" + name +
                               "': expected its arguments as a mapping, e.g. {column: age}");
      }
    }
    const CheckDef* def = FindDef(name);
    if (def == nullptr) {
      return InvalidArgument(where + ": unknown check '" + name +
                             "' (see docs/FORMATS.md for the list)");
    }
    Check c;
    c.name = name;
    c.where = where;
    c.kind = def->kind;
    c.stat = def->stat;
    c.severity = default_severity_;
    c.mostly = default_mostly_;
    c.max_failing_rows = default_max_rows_;
    if (c.kind == CheckKind::kCompleteness) {
      c.max_fraction = 0.05;
    } else if (c.kind == CheckKind::kDuplicateRows) {
      c.max_fraction = 0.01;
    }
    if (name == "non_negative") {
      c.min = Literal{"0", false};
    }
    std::string label;
    for (const auto& [k, v] : item_keys) {
      if (k == "severity") {
        PLINTH_ASSIGN_OR_RETURN(c.severity, ParseSeverity(v, where));
      } else if (k == "name") {
        PLINTH_ASSIGN_OR_RETURN(label, core::YamlAs<std::string>(v, where, k, "text"));
      } else if (k == "max_failing_rows") {
        PLINTH_ASSIGN_OR_RETURN(c.max_failing_rows,
                                core::YamlAs<int64_t>(v, where, k, "a whole number"));
      }
    }
    PLINTH_RETURN_IF_ERROR(ParseArgs(*def, args, where, c));
    std::string prefix = where + ": check '" + name + "'";
    if (def->per_column && c.columns.size() > 1) {
      for (const auto& col : c.columns) {
        Check one = c;
        one.columns = {col};
        one.label = label.empty() ? name + "(" + col + ")" : label + "(" + col + ")";
        out.push_back(std::move(one));
      }
      return Status::Ok();
    }
    if (label.empty()) {
      label = !c.columns.empty() ? name + "(" + Join(c.columns, ", ") + ")"
              : !c.expr.empty()  ? name + "(" + c.expr + ")"
                                 : name;
    }
    c.label = label;
    out.push_back(std::move(c));
    return Status::Ok();
  }

  Status ParseArgs(const CheckDef& def, const YAML::Node& args, const std::string& where,
                   Check& c) {
    std::string prefix = where + ": check '" + def.name + "'";
    std::set<std::string> allowed;
    for (const char* r : def.required) {
      std::string req = r;
      size_t bar = req.find('|');
      if (bar == std::string::npos) {
        allowed.insert(req);
        if (!args[req]) {
          return InvalidArgument(prefix + ": missing key '" + req + "'");
        }
      } else {
        std::string a = req.substr(0, bar), b = req.substr(bar + 1);
        allowed.insert(a);
        allowed.insert(b);
        if (!args[a] && !args[b]) {
          return InvalidArgument(prefix + ": missing key '" + a + "' (or '" + b + "')");
        }
      }
    }
    for (const char* o : def.optional) {
      allowed.insert(o);
    }
    // A default YAML::Node is defined (as null), so presence is tracked apart.
    std::optional<YAML::Node> column_a, column_b, sum_total;
    bool or_equal = false;
    // Row and column counts and string lengths are numbers; values and
    // statistics of a timestamp column may be bounded by timestamps.
    const bool timestamps = def.kind == CheckKind::kBetween || def.kind == CheckKind::kStat;
    for (const auto& kv : args) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (allowed.count(key) == 0) {
        if (IgnoredKeys().count(key) != 0) {
          continue;
        }
        std::vector<std::string> names(allowed.begin(), allowed.end());
        return InvalidArgument(prefix + ": unknown key '" + key + "' (expected " +
                               (names.empty() ? std::string("no keys") : Join(names, ", ")) + ")");
      }
      if (key == "column" || key == "columns" || key == "column_list" || key == "column_set") {
        PLINTH_ASSIGN_OR_RETURN(c.columns, Names(v, prefix, key));
      } else if (key == "min" || key == "min_value") {
        PLINTH_ASSIGN_OR_RETURN(c.min, Bound(v, prefix, key, timestamps));
      } else if (key == "max" || key == "max_value") {
        PLINTH_ASSIGN_OR_RETURN(c.max, Bound(v, prefix, key, timestamps));
      } else if (key == "value") {
        PLINTH_ASSIGN_OR_RETURN(auto b, Bound(v, prefix, key, timestamps));
        if (def.value == ValueMeans::kMin || def.value == ValueMeans::kBoth) {
          c.min = b;
        }
        if (def.value == ValueMeans::kMax || def.value == ValueMeans::kBoth) {
          c.max = b;
        }
      } else if (key == "strict_min") {
        PLINTH_ASSIGN_OR_RETURN(c.strict_min, core::YamlAs<bool>(v, prefix, key, "true or false"));
      } else if (key == "strict_max") {
        PLINTH_ASSIGN_OR_RETURN(c.strict_max, core::YamlAs<bool>(v, prefix, key, "true or false"));
      } else if (key == "exact_match") {
        PLINTH_ASSIGN_OR_RETURN(c.exact_match, core::YamlAs<bool>(v, prefix, key, "true or false"));
      } else if (key == "mostly") {
        PLINTH_ASSIGN_OR_RETURN(c.mostly, Fraction(v, prefix, key));
      } else if (key == "max_null_fraction" || key == "threshold" || key == "max_fraction") {
        PLINTH_ASSIGN_OR_RETURN(c.max_fraction, Fraction(v, prefix, key));
      } else if (key == "values" || key == "value_set") {
        if (!v.IsSequence()) {
          return InvalidArgument(prefix + ": key '" + key + "': expected a list of values");
        }
        for (const auto& e : v) {
          if (!e.IsScalar() && !e.IsNull()) {
            return InvalidArgument(prefix + ": key '" + key +
                                   "': expected plain values in the list");
          }
          c.values.push_back(Literal{e.IsNull() ? "" : e.Scalar(), e.IsNull()});
        }
      } else if (key == "pattern" || key == "regex") {
        PLINTH_ASSIGN_OR_RETURN(c.pattern, core::YamlAs<std::string>(v, prefix, key, "a regex"));
      } else if (key == "type" || key == "type_" || key == "type_list") {
        std::vector<std::string> names;
        PLINTH_ASSIGN_OR_RETURN(names, Names(v, prefix, key));
        for (const auto& n : names) {
          auto t = ParseGeType(n);
          if (!t.ok()) {
            return InvalidArgument(prefix + ": key '" + key + "': " + t.status().message());
          }
          c.types.push_back(*t);
        }
      } else if (key == "expr") {
        PLINTH_ASSIGN_OR_RETURN(c.expr, core::YamlAs<std::string>(v, prefix, key, "an expression"));
      } else if (key == "q") {
        PLINTH_ASSIGN_OR_RETURN(double q, Fraction(v, prefix, key));
        c.quantiles = {q};
        c.ranges = {{std::nullopt, std::nullopt}};
      } else if (key == "quantile_ranges") {
        PLINTH_RETURN_IF_ERROR(ParseQuantileRanges(v, prefix, c));
      } else if (key == "column_A") {
        column_a = v;
      } else if (key == "column_B") {
        column_b = v;
      } else if (key == "or_equal") {
        PLINTH_ASSIGN_OR_RETURN(or_equal, core::YamlAs<bool>(v, prefix, key, "true or false"));
      } else if (key == "sum_total") {
        sum_total = v;
      } else if (key == "column_index" && !v.IsNull()) {
        // Accepted for Great Expectations' suites, no effect here; still a whole number.
        PLINTH_RETURN_IF_ERROR(
            core::YamlAs<int64_t>(v, prefix, key, "a whole number or null").status());
      }
      // allow_relative_error, ignore_row_if: accepted, no effect here.
    }
    if (c.stat == Stat::kQuantile && c.kind == CheckKind::kStat && c.ranges.size() == 1 &&
        c.quantiles.size() == 1 && (c.min || c.max)) {
      c.ranges[0] = {c.min, c.max};
    }
    if (c.kind == CheckKind::kBetween && !c.min && !c.max) {
      return InvalidArgument(prefix + ": give min, max or both");
    }
    if (!c.pattern.empty()) {
      RE2 re(c.pattern, RE2::Quiet);
      if (!re.ok()) {
        return InvalidArgument(prefix + ": invalid regex \"" + c.pattern + "\": " + re.error());
      }
    }
    // Great Expectations' pair and multicolumn checks become rules.
    if (column_a && column_b) {
      PLINTH_ASSIGN_OR_RETURN(
          std::string a, core::YamlAs<std::string>(*column_a, prefix, "column_A", "a column name"));
      PLINTH_ASSIGN_OR_RETURN(
          std::string b, core::YamlAs<std::string>(*column_b, prefix, "column_B", "a column name"));
      std::string op = def.name == std::string("expect_column_pair_values_to_be_equal")
                           ? " == "
                           : (or_equal ? " >= " : " > ");
      c.expr = QuoteColumn(a) + op + QuoteColumn(b);
      c.columns = {a, b};
    }
    if (sum_total) {
      PLINTH_ASSIGN_OR_RETURN(double total,
                              core::YamlAs<double>(*sum_total, prefix, "sum_total", "a number"));
      std::vector<std::string> quoted;
      for (const auto& col : c.columns) {
        quoted.push_back(QuoteColumn(col));
      }
      c.expr = Join(quoted, " + ") + " == " + sum_total->Scalar();
      (void)total;
    }
    if (!c.expr.empty()) {
      Status syntax = CompiledExpr::CheckSyntax(c.expr);
      if (!syntax.ok()) {
        return InvalidArgument(prefix + ": expr \"" + c.expr + "\": " + syntax.message());
      }
    }
    return Status::Ok();
  }

  Status ParseQuantileRanges(const YAML::Node& v, const std::string& prefix, Check& c) {
    if (!v.IsMap() || !v["quantiles"] || !v["value_ranges"] || !v["quantiles"].IsSequence() ||
        !v["value_ranges"].IsSequence() || v["quantiles"].size() != v["value_ranges"].size()) {
      return InvalidArgument(prefix +
                             ": key 'quantile_ranges': expected {quantiles: [...], "
                             "value_ranges: [[lo, hi], ...]} of equal length");
    }
    for (size_t i = 0; i < v["quantiles"].size(); ++i) {
      PLINTH_ASSIGN_OR_RETURN(double q, Fraction(v["quantiles"][i], prefix, "quantiles"));
      const YAML::Node& r = v["value_ranges"][i];
      if (!r.IsSequence() || r.size() != 2) {
        return InvalidArgument(prefix + ": key 'value_ranges': expected pairs [lo, hi]");
      }
      PLINTH_ASSIGN_OR_RETURN(auto lo, Bound(r[0], prefix, "value_ranges", true));
      PLINTH_ASSIGN_OR_RETURN(auto hi, Bound(r[1], prefix, "value_ranges", true));
      c.quantiles.push_back(q);
      c.ranges.emplace_back(lo, hi);
    }
    return Status::Ok();
  }

  // Type names as Plinth, pandas/numpy and Great Expectations' SQL backends write them.
  static Result<table::DataType> ParseGeType(const std::string& name) {
    std::string n;
    for (char ch : name) {
      n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
    if (n.rfind("datetime64", 0) == 0 || n == "timestamp" || n == "datetime") {
      return table::DataType::kTimestamp;
    }
    static const std::pair<const char*, table::DataType> kAliases[] = {
        {"int8", table::DataType::kInt64},      {"int16", table::DataType::kInt64},
        {"int32", table::DataType::kInt64},     {"uint8", table::DataType::kInt64},
        {"uint16", table::DataType::kInt64},    {"uint32", table::DataType::kInt64},
        {"bigint", table::DataType::kInt64},    {"float32", table::DataType::kFloat64},
        {"float16", table::DataType::kFloat64}, {"varchar", table::DataType::kString},
        {"char", table::DataType::kString},     {"bool_", table::DataType::kBool}};
    for (const auto& [alias, t] : kAliases) {
      if (n == alias) {
        return t;
      }
    }
    return table::ParseTypeName(n);
  }

  std::string source_;
  Severity default_severity_ = Severity::kError;
  double default_mostly_ = 1.0;
  int64_t default_max_rows_ = 20;
};

}  // namespace

std::string_view SeverityName(Severity s) { return s == Severity::kError ? "error" : "warn"; }

Result<Suite> ParseSuite(std::string_view text, std::string_view source) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node root, core::ParseYaml(text, source));
  try {
    return SuiteParser(std::string(source)).Parse(root);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) +
                           ": invalid suite: " + e.msg);
  }
}

Result<Suite> LoadSuite(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  return ParseSuite(text, path);
}

}  // namespace plinth::quality
