// Request rows in JSON, read into a table of the bundle's input schema with the
// same missing-value rules as training's CSV reader, so that a row scores the
// same whether it came from a file or over HTTP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "table/table.h"

namespace plinth::serving {

// One value of a request row, whichever JSON parser read it.
struct Scalar {
  enum Kind {
    kNone,  // not given
    kNull,
    kInt,     // i
    kUInt,    // u: an integer above the int64 range
    kDouble,  // d
    kBool,    // b
    kString,  // s
    kOther,   // an array or an object
  } kind = kNone;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  bool b = false;
  std::string_view s;
};

// Appends `v` to `c` (of type `type`) by the rules of RowsFromJson below.
// Returns "" or, for a value the type cannot take, what was expected ("a
// number"), without appending.
std::string_view AppendScalar(table::Column& c, table::DataType type, const Scalar& v,
                              const std::vector<std::string>& null_values);

// `data` is an array of rows. A row is an array of values, in the order of
// `columns` when given (MLflow's dataframe_split) or else of the schema, or an
// object by column name (names the model does not use are ignored).
//
// Values by column type: int64 takes integral numbers, float64 any number,
// bool true/false (or 0/1), string strings (a number stands for its text),
// timestamp ISO-8601 strings; any of them also a string that the CSV reader
// would parse. null, a string among `null_values` (the CSV reader's missing
// markers at training: "", "NA", "?", ...) and a NaN are missing values,
// imputed as in training.
//
// Errors are InvalidArgument naming the row and column, prefixed by `where`:
//   data[3]: expected 14 values (the model's columns), got 13
//   data[3].age: expected a number, got "abc"
// More than `max_rows` rows is ResourceExhausted.
Result<table::Table> RowsFromJson(const core::Json& data, const table::Schema& schema,
                                  const std::vector<std::string>* columns, std::string_view where,
                                  size_t max_rows, const std::vector<std::string>& null_values);

}  // namespace plinth::serving
