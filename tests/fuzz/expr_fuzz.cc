// libFuzzer target for the rule expression language of quality suites
// (quality/expr.h): any text compiles or gets an error, and a compiled rule
// evaluates over a small table without a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "quality/expr.h"
#include "table/csv_reader.h"

namespace {

const plinth::table::Table& Data() {
  static const plinth::table::Table t = [] {
    auto r = plinth::table::ReadCsvText(
        "price,quantity,name,start,flag\n"
        "2.5,4,Ann,2020-01-01,true\n"
        "1,3,bob,2020-03-01,false\n"
        ",2,,,\n",
        {}, "t.csv");
    if (!r.ok()) {
      std::abort();
    }
    return std::move(r->table);
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)plinth::quality::CompiledExpr::CheckSyntax(text);
  auto e = plinth::quality::CompiledExpr::Compile(text, Data().schema());
  if (e.ok() && e->is_boolean()) {
    if (e->EvaluateRows(Data()).size() != static_cast<size_t>(Data().num_rows())) {
      std::abort();
    }
  }
  return 0;
}
