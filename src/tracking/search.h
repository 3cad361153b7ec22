// Internal to the tracking module (its SQL layer).
// MLflow's search syntax: filter strings ("metrics.acc > 0.9 and params.model =
// 'gbdt' and tags.`team name` LIKE 'ml-%' and attributes.status = 'FINISHED'")
// and order_by clauses ("metrics.acc DESC"), parsed into comparisons and
// compiled to parameterised SQL (values are always bound, never spliced).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "tracking/mlflow_json.h"  // page tokens

namespace plinth::tracking {

// kSpan, kFeedback and kExpectation exist in trace searches only: span.name|type|status|
// content|attributes.K (every span clause of a filter holds for one same span, as in
// MLflow), and the value of a trace's feedback or expectation of that name.
enum class EntityKind {
  kMetric,
  kParam,
  kTag,
  kAttribute,
  kDataset,
  kSpan,
  kFeedback,
  kExpectation
};

struct Comparison {
  EntityKind kind = EntityKind::kAttribute;
  std::string key;
  // upper case: = != > >= < <= LIKE ILIKE RLIKE IN NOT IN IS NULL IS NOT NULL
  std::string op;
  std::vector<std::string> strings;  // the value(s) of a string comparison
  std::optional<double> number;      // the value of a numeric comparison
};

struct OrderKey {
  EntityKind kind = EntityKind::kAttribute;
  std::string key;
  bool ascending = true;
};

// What a search is over: the attributes it knows, which of them are numbers,
// and whether metrics, params and datasets exist (runs) or only tags (experiments).
struct SearchTarget {
  std::string_view what;  // "run" | "experiment" | "registered model" | "model version" | ...
  std::vector<std::string_view> string_attributes;
  std::vector<std::string_view> numeric_attributes;
  bool has_metrics_params = false;
  bool has_datasets = false;
  // Traces: request_metadata.K (also metadata.K) compares like a param, in the
  // table SqlNames::param_table names.
  bool has_request_metadata = false;
  // Traces: span.*, feedback.*, expectation.* and trace.* (the attributes) entities,
  // and RLIKE (a regular expression, RE2's syntax, matched anywhere in the value).
  bool has_spans = false;
};

const SearchTarget& RunSearch();
const SearchTarget& ExperimentSearch();
const SearchTarget& RegisteredModelSearch();
const SearchTarget& ModelVersionSearch();
// status is compared as its number (2 = LOGGED_MODEL_READY), as MLflow compares it.
const SearchTarget& LoggedModelSearch();
// name is tags.mlflow.traceName and run_id request_metadata.mlflow.sourceRun, as
// MLflow's aliases; the caller rewrites them (TraceAliases).
const SearchTarget& TraceSearch();
// MLflow's trace aliases applied to parsed comparisons or order keys: timestamp ->
// timestamp_ms, execution_time -> execution_time_ms, name -> the mlflow.traceName tag,
// run_id -> the mlflow.sourceRun request metadata.
void ApplyTraceAliases(EntityKind* kind, std::string* key);

// `text` as quoted in an error: whole up to `max` bytes, else its start and "...".
std::string Abbreviated(std::string_view text, size_t max);

// The most clauses one filter may hold.
inline constexpr size_t kMaxFilterClauses = 500;

// Parses `filter` (clauses joined by AND). An empty filter gives no comparisons.
// Errors are InvalidArgument naming the clause and what was expected; a filter
// of more than kMaxFilterClauses clauses is refused.
Result<std::vector<Comparison>> ParseFilter(std::string_view filter, const SearchTarget& target);

// Parses one order_by clause: "<entity> [ASC|DESC]".
Result<OrderKey> ParseOrderBy(std::string_view clause, const SearchTarget& target);

// A piece of SQL with its bound values.
struct SqlFragment {
  std::string sql;
  std::vector<store::Value> params;
};

// How a target's rows and related tables are named in SQL, for compiling.
struct SqlNames {
  std::string_view row;        // alias of the searched table, e.g. "r"
  std::string_view id_column;  // its key column, e.g. "run_uuid"
  std::string_view tag_table;  // e.g. "tags"
  std::string_view tag_id;     // the tag table's column naming the row
  // The SQL column of an attribute, e.g. "run_id" -> "run_uuid".
  std::string (*column)(std::string_view attribute);
  // A second column naming the row in both tables when one is not enough
  // (model versions: name and version); "" = none.
  std::string_view tag_id2 = "";
  // Where metrics and params of the row are (keyed by tag_id): a run's latest
  // values, or every value a logged model was given.
  std::string_view metric_table = "latest_metrics";
  std::string_view param_table = "params";
  // A condition on the metric rows (alias m) a metric comparison may match: the
  // datasets a logged-model search names. Null = any.
  const SqlFragment* metric_scope = nullptr;
  // The SQL of an attribute when it is not one column of the row (trace end_time:
  // timestamp + duration); null = `row.column(attribute)`.
  std::string (*attribute_sql)(std::string_view attribute) = nullptr;
  // Where RLIKE runs: SQLite's REGEXP (RE2, registered by the driver) or PostgreSQL's ~.
  store::Engine engine = store::Engine::kSqlite;
};

// `expr <op> value(s)` for a string comparison (=, !=, LIKE, ILIKE, RLIKE, IN, NOT IN),
// appending the bound values.
std::string StringCondition(const std::string& expr, const Comparison& c,
                            std::vector<store::Value>* params, store::Engine engine);

// `comparisons` ANDed as a WHERE condition ("1 = 1" when empty).
SqlFragment CompileFilter(const std::vector<Comparison>& comparisons, const SqlNames& names);

// How a search orders its rows: LEFT JOINs that bring in the metric, param and
// tag values it orders by (one row at most each: keys are unique per row), to
// follow the searched table in FROM, and the ORDER BY terms, NULLs last
// whichever the direction, as MLflow orders. A join, unlike a subquery per row,
// lets PostgreSQL hash it (2.5x faster over 10k runs; the same on SQLite).
struct SqlOrder {
  SqlFragment joins;  // " LEFT JOIN ..." pieces
  std::string terms;  // "o0.value DESC NULLS LAST, r.start_time DESC"
};
SqlOrder CompileOrderBy(const std::vector<OrderKey>& keys, const SqlNames& names);

}  // namespace plinth::tracking
