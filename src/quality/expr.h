// The expression language of consistency rules, e.g.
//   end_date >= start_date
//   abs(total - price * quantity) < 0.01
//   age >= 0 or age is null
//   `cons.price.idx` > 90 and job in ('admin.', 'technician')
//
// Literals: numbers, 'strings' or "strings", true, false, null. Columns: bare
// names (letters, digits, _ and .) or `backticked` for any other name.
// Operators, loosest first: or; and; not; comparisons (== = != <> < <= > >=,
// is [not] null, [not] in (...)); + -; * / %; unary -. Functions: abs(x),
// length(s), lower(s), upper(s), coalesce(a, b, ...).
//
// Evaluation is vectorized over whole columns with SQL's three-valued logic:
// arithmetic and comparisons with a null are null; `and`/`or` follow Kleene
// logic; `is null` is never null. Timestamps compare with each other and with
// ISO-8601 string literals; their difference is in seconds. Integers are
// evaluated as doubles (exact below 2^53).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "table/table.h"

namespace plinth::quality {

class Expr;

// A compiled expression bound to a schema. Immutable; safe to evaluate from many threads.
class CompiledExpr {
 public:
  ~CompiledExpr();
  CompiledExpr(CompiledExpr&&) noexcept;
  CompiledExpr& operator=(CompiledExpr&&) noexcept;

  // Parses `text` and binds its column names to `schema`. Errors say where:
  // `at character 7: unknown column "agee"`, `at character 4: expected an operand`.
  static Result<CompiledExpr> Compile(std::string_view text, const table::Schema& schema);

  // Checks only the syntax of `text` (column names and types are not known yet).
  static Status CheckSyntax(std::string_view text);

  // True when the expression yields true/false (a rule), not a number or text.
  bool is_boolean() const;

  // Indices (in the schema) of the columns the expression reads, in order of first use.
  std::vector<size_t> columns() const;

  // Evaluates a boolean expression over every row of `t` (whose schema must be
  // the one compiled against). Per row: 1 true, 0 false, -1 null.
  std::vector<int8_t> EvaluateRows(const table::Table& t) const;

  // Evaluates the expression over every row of `t` as a column: float64 for a number, bool,
  // string or timestamp; null where the expression is (and where a number is not finite).
  table::Column EvaluateColumn(const table::Table& t) const;

 private:
  explicit CompiledExpr(std::unique_ptr<Expr> root);
  std::unique_ptr<Expr> root_;
};

}  // namespace plinth::quality
