// Test helper: Plinth's Parquet reader and writer seen from outside, for the test that holds
// them against an independent reader (hyparquet, under node).
//   parquet_tool dump FILE    the table Plinth reads, as JSON on stdout
//   parquet_tool write FILE   writes a table of every type (nulls, extremes, Unicode, instants
//                             before 1970) to FILE and prints it as `dump` would
//   parquet_tool convert IN.csv OUT.parquet [PARTS]   a CSV file as Parquet, read as Plinth reads
//                             CSV (types inferred); with PARTS, OUT is a folder of PARTS files
//   parquet_tool sql STATEMENT   runs one DuckDB statement: benchmarks write large generated
//                             files with COPY (SELECT ... FROM range(N)) TO 'F' (FORMAT parquet)
// JSON: {"columns": [{"name", "type"}], "rows": [[...], ...]} with int64 and timestamp values
// as decimal strings (microseconds since the epoch for timestamps, exact beyond 2^53),
// float64 as numbers or "NaN", "Infinity", "-Infinity", null for missing values.
// Exit 2 with the error's one line on stderr when reading or writing fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "core/json.h"
#include "table/csv_reader.h"
#include "table/duckdb.h"
#include "table/parquet.h"
#include "testutil/tables.h"

using namespace plinth;
using core::Json;

namespace {

Json Dump(const table::Table& t) {
  Json columns = Json::array();
  for (const table::Field& f : t.schema().fields()) {
    columns.push_back({{"name", f.name}, {"type", std::string(table::TypeName(f.type))}});
  }
  Json rows = Json::array();
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    Json row = Json::array();
    for (size_t c = 0; c < t.num_columns(); ++c) {
      const table::Column& col = t.column(c);
      if (col.IsNull(r)) {
        row.push_back(nullptr);
        continue;
      }
      switch (col.type()) {
        case table::DataType::kInt64:
        case table::DataType::kTimestamp:
          row.push_back(std::to_string(col.ints()[static_cast<size_t>(r)]));
          break;
        case table::DataType::kFloat64: {
          const double v = col.doubles()[static_cast<size_t>(r)];
          if (std::isnan(v)) {
            row.push_back("NaN");
          } else if (std::isinf(v)) {
            row.push_back(v > 0 ? "Infinity" : "-Infinity");
          } else {
            row.push_back(v);
          }
          break;
        }
        case table::DataType::kBool:
          row.push_back(col.bools()[static_cast<size_t>(r)] != 0);
          break;
        case table::DataType::kString:
          row.push_back(std::string(col.GetString(r)));
          break;
      }
    }
    rows.push_back(std::move(row));
  }
  return {{"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

}  // namespace

int Convert(const std::string& in, const std::string& out, int parts) {
  Result<table::CsvTable> read = table::ReadCsv(in);
  if (!read.ok()) {
    std::fprintf(stderr, "%s\n", read.status().message().c_str());
    return 2;
  }
  const table::Table& t = read->table;
  Status s;
  if (parts <= 1) {
    s = table::WriteParquet(t, out);
  } else {
    std::filesystem::create_directories(out);
    const int64_t per = (t.num_rows() + parts - 1) / parts;
    for (int p = 0; p < parts && s.ok(); ++p) {
      std::vector<int64_t> rows;
      for (int64_t r = p * per; r < std::min(t.num_rows(), (p + 1) * per); ++r) {
        rows.push_back(r);
      }
      s = table::WriteParquet(table::TakeRows(t, rows),
                              out + "/part-" + std::to_string(p) + ".parquet");
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  return 0;
}

int Sql(const std::string& statement) {
  Result<table::DuckDb> db = table::DuckDb::Open();
  Status s = db.ok() ? db->Exec(statement, "sql") : db.status();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "sql") {
    return Sql(argv[2]);
  }
  if (argc >= 4 && std::string(argv[1]) == "convert") {
    return Convert(argv[2], argv[3], argc >= 5 ? std::atoi(argv[4]) : 1);
  }
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "dump" && mode != "write") {
    std::fprintf(
        stderr,
        "usage: parquet_tool dump|write FILE | convert IN.csv OUT [PARTS] | sql STATEMENT\n");
    return 2;
  }
  table::Table t;
  if (mode == "dump") {
    Result<table::Table> read = table::ReadParquet(argv[2]);
    if (!read.ok()) {
      std::fprintf(stderr, "%s\n", read.status().message().c_str());
      return 2;
    }
    t = *std::move(read);
  } else {
    t = testutil::EveryType();
    if (Status s = table::WriteParquet(t, argv[2]); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 2;
    }
  }
  std::printf("%s\n", core::DumpJson(Dump(t), false).c_str());
  return 0;
}
