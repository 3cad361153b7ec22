#include "table/csv_writer.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>

#include "core/file.h"
#include "table/value_parse.h"

namespace plinth::table {
namespace {

bool NeedsQuotes(std::string_view s, const CsvWriteOptions& opt) {
  if (s.empty()) {
    return true;  // an unquoted empty field is null
  }
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') {
    return true;
  }
  for (char c : s) {
    if (c == opt.delimiter || c == '"' || c == '\n' || c == '\r') {
      return true;
    }
  }
  return std::find(opt.null_markers.begin(), opt.null_markers.end(), s) != opt.null_markers.end();
}

}  // namespace

void AppendCsvField(std::string& out, std::string_view s, const CsvWriteOptions& opt) {
  if (!NeedsQuotes(s, opt)) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    out.push_back(c);
    if (c == '"') {
      out.push_back('"');
    }
  }
  out.push_back('"');
}

std::string FormatCsv(const Table& table, const CsvWriteOptions& opt) {
  std::string out;
  const auto& fields = table.schema().fields();
  for (size_t c = 0; c < fields.size() && opt.header; ++c) {
    if (c > 0) {
      out.push_back(opt.delimiter);
    }
    AppendCsvField(out, fields[c].name, opt);
  }
  if (opt.header) {
    out.push_back('\n');
  }
  // Timestamp columns print as dates when every value is at midnight.
  std::vector<bool> date_only(fields.size(), false);
  for (size_t c = 0; c < fields.size(); ++c) {
    if (fields[c].type == DataType::kTimestamp) {
      const Column& col = table.column(c);
      bool all = true;
      for (int64_t i = 0; i < col.size() && all; ++i) {
        all = col.IsNull(i) || col.ints()[i] % 86400000000 == 0;
      }
      date_only[c] = all;
    }
  }
  for (int64_t r = 0; r < table.num_rows(); ++r) {
    if (r == 1024 && table.num_rows() > 2048) {
      // Room for the rest at the first rows' width (and a tenth more), instead of doubling;
      // at most 256 MB ahead (wide first rows need not speak for the rest).
      const double per_row = static_cast<double>(out.size()) / 1024.0;
      out.reserve(std::min<size_t>(
          static_cast<size_t>(per_row * 1.1 * static_cast<double>(table.num_rows())),
          out.size() + (size_t{256} << 20)));
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      if (c > 0) {
        out.push_back(opt.delimiter);
      }
      const Column& col = table.column(c);
      if (col.IsNull(r)) {
        continue;
      }
      switch (col.type()) {
        case DataType::kString:
          AppendCsvField(out, col.GetString(r), opt);
          break;
        case DataType::kTimestamp:
          AppendTimestamp(out, col.ints()[r], date_only[c]);
          break;
        case DataType::kInt64: {
          char buf[24];
          const auto end = std::to_chars(buf, buf + sizeof(buf), col.ints()[r]).ptr;
          out.append(buf, static_cast<size_t>(end - buf));
          break;
        }
        case DataType::kFloat64:
          AppendDouble(out, col.doubles()[static_cast<size_t>(r)]);
          break;
        default:
          out += col.FormatValue(r);
          break;
      }
    }
    out.push_back('\n');
  }
  return out;
}

Result<std::string> GzipCompress(std::string_view text) {
  if (text.size() > 0xFFFFFFFFu - 4096) {
    return InvalidArgument("gzip: more than 4 GB of text to compress at once");
  }
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("zlib: cannot start compressing");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return Internal("zlib: compressing failed");
  }
  return out;
}

Status WriteCsv(const Table& table, const std::string& path, const CsvWriteOptions& options) {
  if (options.gzip) {
    PLINTH_ASSIGN_OR_RETURN(std::string gz, GzipCompress(FormatCsv(table, options)));
    return core::AtomicWriteFile(path, gz);
  }
  return core::AtomicWriteFile(path, FormatCsv(table, options));
}

}  // namespace plinth::table
