#include "table/reader.h"

#include <sys/stat.h>

#include <filesystem>

#include "core/file.h"
#include "core/hash.h"
#include "table/parquet.h"

namespace plinth::table {
namespace {

// The type `options` asks column `name` to have, if any. (other_columns_type is for text,
// which has no type of its own: a Parquet column keeps the file's.)
std::optional<DataType> Wanted(const CsvOptions& options, const std::string& name) {
  if (auto it = options.types.find(name); it != options.types.end()) {
    return it->second;
  }
  return std::nullopt;
}

// `t` with its columns converted to the types `options` asks for.
Result<Table> Conform(const std::string& path, Table t, const CsvOptions& options) {
  if (options.types.empty()) {
    return t;
  }
  std::vector<Field> fields = t.schema().fields();
  std::vector<Column> cols = std::move(t).TakeColumns();
  for (size_t c = 0; c < fields.size(); ++c) {
    const std::optional<DataType> want = Wanted(options, fields[c].name);
    if (!want || *want == fields[c].type) {
      continue;
    }
    // int64 to float64 and anything to string, as CastTo allows (not a column of nulls only,
    // which it lets become anything: an empty file must be refused as a full one is).
    const bool allowed = (fields[c].type == DataType::kInt64 && *want == DataType::kFloat64) ||
                         *want == DataType::kString;
    Result<Column> cast = allowed ? cols[c].CastTo(*want) : Result<Column>(InvalidArgument(""));
    if (!cast.ok()) {
      return InvalidArgument(path + ": column \"" + fields[c].name + "\" is " +
                             std::string(TypeName(fields[c].type)) + " in the file, expected " +
                             std::string(TypeName(*want)) + " (as " + options.types_source +
                             " says)");
    }
    cols[c] = *std::move(cast);
    fields[c].type = *want;
  }
  return Table(Schema(std::move(fields)), std::move(cols));
}

}  // namespace

Result<CsvInfo> ScanTable(const std::string& path, const CsvOptions& options,
                          ChunkConsumer& consumer) {
  if (!IsParquetPath(path)) {
    return ScanCsv(path, options, consumer);
  }
  if (options.range_begin != 0 || options.range_end >= 0) {
    return InvalidArgument(path + ": a byte range (a shard) of a Parquet file is not supported");
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ParquetFiles(path));
  CsvInfo info;
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) == 0) {
      info.bytes += st.st_size;
    }
  }
  bool begun = false;
  PLINTH_RETURN_IF_ERROR(ReadParquetChunks(path, {}, [&](Table&& chunk) -> Status {
    PLINTH_ASSIGN_OR_RETURN(Table t, Conform(path, std::move(chunk), options));
    if (!begun) {
      info.schema = t.schema();
      PLINTH_RETURN_IF_ERROR(consumer.Begin(info.schema, 0));
      begun = true;
    }
    info.rows += t.num_rows();
    return consumer.Consume(std::move(t));
  }));
  if (!begun) {
    // No rows: the columns still.
    PLINTH_ASSIGN_OR_RETURN(Schema schema, ReadParquetSchema(path));
    std::vector<Column> cols;
    for (const Field& f : schema.fields()) {
      cols.emplace_back(f.type);
    }
    PLINTH_ASSIGN_OR_RETURN(Table empty, Conform(path, Table(schema, std::move(cols)), options));
    info.schema = empty.schema();
    PLINTH_RETURN_IF_ERROR(consumer.Begin(info.schema, 0));
  }
  return info;
}

Result<CsvTable> ReadTable(const std::string& path, const CsvOptions& options) {
  if (!IsParquetPath(path)) {
    return ReadCsv(path, options);
  }
  class Collect : public ChunkConsumer {
   public:
    Status Begin(const Schema& schema, int64_t) override {
      std::vector<Column> cols;
      for (const Field& f : schema.fields()) {
        cols.emplace_back(f.type);
      }
      all = Table(schema, std::move(cols));
      return Status::Ok();
    }
    Status Consume(Table chunk) override { return all.Append(chunk); }
    Table all;
  } collect;
  PLINTH_ASSIGN_OR_RETURN(CsvInfo info, ScanTable(path, options, collect));
  return CsvTable{std::move(collect.all), std::move(info)};
}

Result<std::string> DataDigest(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return core::Sha256File(path);
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ParquetFiles(path));
  std::string lines;
  for (const std::string& f : files) {
    PLINTH_ASSIGN_OR_RETURN(std::string digest, core::Sha256File(f));
    lines += digest + "  " + std::filesystem::path(f).filename().string() + "\n";
  }
  return core::Sha256Hex(lines);
}

}  // namespace plinth::table
