// libFuzzer target for the request parsers of `plinth serve` (serving/protocols.h):
// the first byte picks the parser, the rest is the request body. Whatever the
// body, a parser must return rows or an error: no crash, no sanitizer report,
// no table whose columns disagree with the schema; and /predict's simdjson path
// must agree with the general reader.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "serving/protocols.h"

namespace {

using plinth::table::DataType;

const plinth::table::Schema& Schema() {
  static const plinth::table::Schema s({{"age", DataType::kInt64},
                                        {"score", DataType::kFloat64},
                                        {"city", DataType::kString},
                                        {"member", DataType::kBool},
                                        {"seen", DataType::kTimestamp}});
  return s;
}

// Every model column is there with its type, every column has every row, and
// the row limit held. A CSV body may carry other columns too.
void CheckRows(const plinth::table::Table& t, bool only_model_columns = true) {
  if (t.num_rows() > 64 || (only_model_columns && t.num_columns() != Schema().fields().size())) {
    std::abort();
  }
  for (const plinth::table::Field& f : Schema().fields()) {
    const plinth::table::Column* c = t.ColumnByName(f.name);
    if (c == nullptr || c->type() != f.type) {
      std::abort();
    }
  }
  for (size_t c = 0; c < t.num_columns(); ++c) {
    if (t.column(c).size() != t.num_rows()) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const plinth::serving::InputLimits limits{64, {"", "NA", "?"}};
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      // simdjson's fast path and the general reader must agree: same rows, or
      // the same error.
      auto r = plinth::serving::ReadPredictBody(body, Schema(), limits);
      auto general = plinth::serving::ReadPredictBody(body, Schema(), limits, /*fast=*/false);
      if (r.ok() != general.ok() || (r.ok() && !(*r == *general)) ||
          (!r.ok() && r.status().message() != general.status().message())) {
        std::abort();
      }
      if (r.ok()) {
        CheckRows(*r);
      }
      break;
    }
    case 1: {
      auto r = plinth::serving::ReadInvocationsBody(body, "application/json", Schema(), limits);
      if (r.ok()) {
        CheckRows(*r);
      }
      break;
    }
    case 2: {
      auto r = plinth::serving::ReadInvocationsBody(body, "text/csv", Schema(), limits);
      if (r.ok()) {
        CheckRows(*r, /*only_model_columns=*/false);
      }
      break;
    }
    default: {
      auto r = plinth::serving::ReadInferBody(body, Schema(), limits);
      if (r.ok()) {
        CheckRows(r->rows);
      }
      break;
    }
  }
  return 0;
}
