#include "monitor/prediction_log.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/file.h"
#include "core/json.h"
#include "table/value_parse.h"

namespace plinth::monitor {
namespace {

using core::Json;

constexpr size_t kShownSkips = 5;
constexpr int kMaxLineDepth = 16;

// One JSON value of a logged column, borrowed from the parser's document.
struct Value {
  enum Kind { kNull, kNumber, kBool, kString, kOther } kind = kNull;
  double number = 0;
  bool boolean = false;
  std::string_view text;
};

Value ValueOf(simdjson::dom::element e) {
  Value v;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      break;
    case simdjson::dom::element_type::BOOL:
      v.kind = Value::kBool;
      v.boolean = e.get_bool().value_unsafe();
      break;
    case simdjson::dom::element_type::STRING:
      v.kind = Value::kString;
      v.text = e.get_string().value_unsafe();
      break;
    case simdjson::dom::element_type::INT64:
      v.kind = Value::kNumber;
      v.number = static_cast<double>(e.get_int64().value_unsafe());
      break;
    case simdjson::dom::element_type::UINT64:
      v.kind = Value::kNumber;
      v.number = static_cast<double>(e.get_uint64().value_unsafe());
      break;
    case simdjson::dom::element_type::DOUBLE:
      v.kind = Value::kNumber;
      v.number = e.get_double().value_unsafe();
      break;
    default:
      v.kind = Value::kOther;  // arrays and objects: a mismatch
      break;
  }
  return v;
}

// A column being filled: its type is the first non-null value's.
struct Building {
  std::optional<table::DataType> type;
  int64_t nulls_before = 0;  // rows before the type was known
  table::Column column{table::DataType::kFloat64};
};

class LogTable {
 public:
  // Appends the values of one column of a line.
  void Add(const std::string& name, const std::vector<Value>& values, int64_t& mismatched) {
    auto [it, fresh] = columns_.try_emplace(name);
    if (fresh) {
      order_.push_back(name);
      it->second.nulls_before = rows_;
    }
    Building& b = it->second;
    for (const Value& v : values) {
      Append(b, v, mismatched);
    }
    seen_.push_back(&b);
  }
  // Ends a line of `rows` rows: columns it did not have get nulls.
  void EndLine(int64_t rows) {
    int64_t ignored = 0;
    if (seen_.size() != columns_.size()) {
      for (auto& [name, b] : columns_) {
        if (std::find(seen_.begin(), seen_.end(), &b) == seen_.end()) {
          for (int64_t i = 0; i < rows; ++i) {
            Append(b, Value(), ignored);
          }
        }
      }
    }
    seen_.clear();
    rows_ += rows;
  }
  table::Table Finish(const std::vector<std::string>& order) {
    std::vector<table::Field> fields;
    std::vector<table::Column> cols;
    for (const std::string& name : order) {
      Building& b = columns_.at(name);
      if (b.type && b.nulls_before == 0) {  // the common case: no copy
        fields.push_back({name, b.column.type()});
        cols.push_back(std::move(b.column));
        continue;
      }
      table::Column c(b.type.value_or(table::DataType::kFloat64));
      c.Reserve(rows_);
      for (int64_t i = 0; i < b.nulls_before + (b.type ? 0 : b.column.size()); ++i) {
        c.AppendNull();
      }
      if (b.type) {
        c.AppendColumn(b.column);
      }
      fields.push_back({name, c.type()});
      cols.push_back(std::move(c));
    }
    return table::Table(table::Schema(std::move(fields)), std::move(cols));
  }
  const std::vector<std::string>& order() const { return order_; }
  int64_t rows() const { return rows_; }
  // Room for `rows` rows in every column, so a large log is not copied as it grows.
  void Reserve(int64_t rows) {
    for (auto& [name, b] : columns_) {
      b.column.Reserve(rows);
    }
  }

 private:
  static void Append(Building& b, const Value& v, int64_t& mismatched) {
    if (v.kind == Value::kNull) {
      if (b.type) {
        b.column.AppendNull();
      } else {
        ++b.nulls_before;
      }
      return;
    }
    const std::optional<table::DataType> t =
        v.kind == Value::kNumber   ? std::optional(table::DataType::kFloat64)
        : v.kind == Value::kBool   ? std::optional(table::DataType::kBool)
        : v.kind == Value::kString ? std::optional(table::DataType::kString)
                                   : std::nullopt;
    if (!b.type && t) {
      b.type = *t;
      b.column = table::Column(*t);
    }
    if (!b.type || t != b.type) {
      ++mismatched;
      if (b.type) {
        b.column.AppendNull();
      } else {
        ++b.nulls_before;
      }
      return;
    }
    switch (*t) {
      case table::DataType::kFloat64:
        b.column.AppendDouble(v.number);
        break;
      case table::DataType::kBool:
        b.column.AppendBool(v.boolean);
        break;
      default:
        b.column.AppendString(v.text);
        break;
    }
  }

  std::map<std::string, Building, std::less<>> columns_;
  std::vector<std::string> order_;
  std::vector<const Building*> seen_;
  int64_t rows_ = 0;
};

// A column's values into `out`: an array of `rows` values, or {"dictionary": [...],
// "indices": [...]} expanded. An error message when it is neither.
std::string ValuesOf(simdjson::dom::element v, int64_t rows, std::vector<Value>& out) {
  out.clear();
  simdjson::dom::object dict_column;
  if (v.get_object().get(dict_column) == simdjson::SUCCESS) {
    simdjson::dom::array dict, indices;
    if (dict_column["dictionary"].get_array().get(dict) != simdjson::SUCCESS ||
        dict_column["indices"].get_array().get(indices) != simdjson::SUCCESS) {
      return "a dictionary column without dictionary and indices arrays";
    }
    std::vector<Value> entries;
    for (simdjson::dom::element e : dict) {
      entries.push_back(ValueOf(e));
    }
    for (simdjson::dom::element i : indices) {
      uint64_t k = 0;
      if (i.is_null()) {
        out.emplace_back();
      } else if (i.get_uint64().get(k) == simdjson::SUCCESS && k < entries.size()) {
        out.push_back(entries[static_cast<size_t>(k)]);
      } else {
        return "a dictionary index out of range";
      }
      if (static_cast<int64_t>(out.size()) > rows) {
        break;
      }
    }
  } else {
    simdjson::dom::array values;
    if (v.get_array().get(values) != simdjson::SUCCESS) {
      return "a column without one value per row";
    }
    for (simdjson::dom::element e : values) {
      out.push_back(ValueOf(e));
      if (static_cast<int64_t>(out.size()) > rows) {
        break;
      }
    }
  }
  if (static_cast<int64_t>(out.size()) != rows) {
    return "a column without one value per row";
  }
  return {};
}

// Calls fn(line, line number, cut) for each non-empty line of `text`; `cut` when it is
// the last one and has no line end (a segment being written may end in half a line).
template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  int64_t line_no = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    const bool cut = end == std::string::npos;
    if (cut) {
      end = text.size();
    }
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty()) {
      fn(line, line_no, cut);
    }
  }
}

// A request line's time, rows, latency, id and model version.
LogRequest Request(simdjson::dom::object j, int64_t us, int64_t rows) {
  LogRequest request;
  request.time_us = us;
  request.rows = rows;
  double latency = 0;
  request.latency_ms =
      j["latency_ms"].get_double().get(latency) == simdjson::SUCCESS ? latency : std::nan("");
  std::string_view text;
  if (j["request_id"].get_string().get(text) == simdjson::SUCCESS) {
    request.request_id = text;
  }
  if (j["model_version"].get_string().get(text) == simdjson::SUCCESS) {
    request.model_version = text;
  }
  return request;
}

// Reads segments into one table.
class Reader {
 public:
  explicit Reader(const LogWindow& window) : window_(window) {}

  // After the first segments: room for the rows the others will likely add, estimated
  // from the rows per byte so far (a tenth more, for the variation between segments).
  void Expect(int64_t bytes_read, int64_t bytes_total) {
    if (bytes_read > 0 && table_.rows() > 0) {
      const double per_byte = static_cast<double>(table_.rows()) / static_cast<double>(bytes_read);
      table_.Reserve(static_cast<int64_t>(per_byte * static_cast<double>(bytes_total) * 1.1));
    }
  }

  void Segment(std::string_view text, const std::string& path) {
    ++out_.files;
    ForEachLine(text, [&](std::string_view line, int64_t line_no, bool cut) {
      auto skip = [&](const std::string& why) {
        ++out_.skipped_lines;
        if (out_.skipped.size() < kShownSkips) {
          out_.skipped.push_back(path + ":" + std::to_string(line_no) + ": " + why);
        }
      };
      simdjson::dom::element doc;
      simdjson::dom::object j;
      if (parser_.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS ||
          doc.get_object().get(j) != simdjson::SUCCESS) {
        skip(cut ? "a cut last line" : "not a JSON object");
        return;
      }
      std::string_view time;
      int64_t us = 0;
      if (j["time"].get_string().get(time) != simdjson::SUCCESS ||
          !table::ParseTimestamp(time, us)) {
        skip("no time");
        return;
      }
      const bool in_window = !((window_.since_us && us < *window_.since_us) ||
                               (window_.until_us && us >= *window_.until_us));
      // A request answered with an error: counted, no rows.
      if (uint64_t status = 0; j["status"].get_uint64().get(status) == simdjson::SUCCESS &&
                               status >= 400 && status <= 599) {
        if (in_window) {
          LogRequest failed = Request(j, us, 0);
          failed.status = static_cast<int>(status);
          out_.requests.push_back(std::move(failed));
          ++out_.failed;
        }
        return;
      }
      // At least one feature, whose array bounds `rows` by the line's own size.
      uint64_t rows_value = 0;
      simdjson::dom::object features;
      if (j["rows"].get_uint64().get(rows_value) != simdjson::SUCCESS ||
          j["features"].get_object().get(features) != simdjson::SUCCESS || features.size() == 0 ||
          rows_value > line.size()) {
        skip("no rows or features");
        return;
      }
      if (!in_window) {
        return;
      }
      const auto rows = static_cast<int64_t>(rows_value);
      // Every column is checked before any is added, so a bad line adds nothing.
      size_t used = 0;
      auto next = [&](std::string name) -> std::pair<std::string, std::vector<Value>>& {
        if (used == columns_.size()) {
          columns_.emplace_back();
        }
        columns_[used].first = std::move(name);
        return columns_[used++];
      };
      std::string bad;
      for (simdjson::dom::key_value_pair member : features) {
        auto& [name, values] = next(std::string(member.key));
        if (std::string why = ValuesOf(member.value, rows, values); !why.empty()) {
          bad = "feature '" + name + "': " + why;
          break;
        }
      }
      const size_t feature_count = used;
      simdjson::dom::element predictions;
      if (bad.empty() && j["predictions"].get(predictions) == simdjson::SUCCESS) {
        auto& [name, values] = next("prediction");
        if (std::string why = ValuesOf(predictions, rows, values); !why.empty()) {
          bad = "predictions: " + why;
        }
      }
      simdjson::dom::object probabilities;
      if (bad.empty() && j["probabilities"].get_object().get(probabilities) == simdjson::SUCCESS) {
        for (simdjson::dom::key_value_pair member : probabilities) {
          auto& [name, values] = next("probability_" + std::string(member.key));
          if (std::string why = ValuesOf(member.value, rows, values); !why.empty()) {
            bad = "probabilities of '" + std::string(member.key) + "': " + why;
            break;
          }
        }
      }
      // A name twice (a repeated key, or a feature called "prediction"): the line's columns
      // would not line up.
      for (size_t c = 0; c < used && bad.empty(); ++c) {
        for (size_t d = c + 1; d < used; ++d) {
          if (columns_[c].first == columns_[d].first) {
            bad = "column '" + columns_[c].first + "' given twice";
            break;
          }
        }
      }
      if (!bad.empty()) {
        skip(bad);
        return;
      }
      out_.requests.push_back(Request(j, us, rows));
      for (size_t c = 0; c < used; ++c) {
        const std::string& name = columns_[c].first;
        if (c >= feature_count && std::find(extra_.begin(), extra_.end(), name) == extra_.end()) {
          extra_.push_back(name);
        }
        table_.Add(name, columns_[c].second, out_.mismatched_values);
      }
      table_.EndLine(rows);
      ++out_.lines;
      out_.rows += rows;
    });
  }

  LogRead Finish() {
    for (const std::string& name : table_.order()) {
      if (std::find(extra_.begin(), extra_.end(), name) == extra_.end()) {
        out_.features.push_back(name);
      }
    }
    std::vector<std::string> order = out_.features;
    order.insert(order.end(), extra_.begin(), extra_.end());
    out_.table = table_.Finish(order);
    return std::move(out_);
  }

 private:
  const LogWindow window_;
  simdjson::dom::parser parser_;
  LogRead out_;
  LogTable table_;
  std::vector<std::string> extra_;  // prediction and probability columns, first-seen order
  std::vector<std::pair<std::string, std::vector<Value>>> columns_;  // a line's, reused
};

}  // namespace

Result<int64_t> ParseLogTime(std::string_view text, std::string_view flag) {
  int64_t us = 0;
  if (!table::ParseTimestamp(text, us)) {
    return InvalidArgument(std::string(flag) +
                           ": expected a time such as 2026-12-03T11:25:34Z "
                           "or 2026-12-03, got \"" +
                           std::string(text) + "\"");
  }
  return us;
}

namespace {

// The segments of `dir` whose names start with `prefix`, sorted (regular files only).
Result<std::vector<std::string>> Segments(const std::string& dir, std::string_view prefix) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return NotFound("prediction log " + dir + ": no such directory");
  }
  std::vector<std::string> segments;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) &&
        (name.ends_with(".jsonl") || name.ends_with(".jsonl.partial")) && e.is_regular_file(ec) &&
        !e.is_symlink(ec)) {
      segments.push_back(e.path().string());
    }
  }
  if (ec) {
    return IoError("prediction log " + dir + ": " + ec.message());
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

}  // namespace

Result<LogRead> ReadPredictionLog(const std::string& dir, const LogWindow& window) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> segments, Segments(dir, "predictions-"));
  if (segments.empty()) {
    return InvalidArgument("prediction log " + dir +
                           ": no predictions-*.jsonl segment (is it plinth serve's "
                           "--prediction-log directory?)");
  }
  Reader reader(window);
  int64_t total = 0, read = 0;
  std::error_code ec;
  for (const std::string& path : segments) {
    total += static_cast<int64_t>(std::filesystem::file_size(path, ec));
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    PLINTH_ASSIGN_OR_RETURN(std::string text, core::ReadFile(segments[i]));
    reader.Segment(text, segments[i]);
    read += static_cast<int64_t>(text.size());
    if (i == 0 && segments.size() > 1) {
      reader.Expect(read, ec ? 0 : total);
    }
  }
  return reader.Finish();
}

std::string FeedbackKey(std::string_view request_id, int64_t row) {
  std::string key(request_id);
  key += '\n';
  key += std::to_string(row);
  return key;
}

void ParseFeedback(std::string_view text, const std::string& path, Feedback& out) {
  ++out.files;
  ForEachLine(text, [&](std::string_view line, int64_t line_no, bool cut) {
    Result<Json> j = core::ParseJson(line, "line", kMaxLineDepth);
    const Json* id = nullptr;
    const Json* row = nullptr;
    const Json* label = nullptr;
    if (j.ok() && j->is_object()) {
      auto field = [&](const char* key) {
        auto it = j->find(key);
        return it == j->end() ? nullptr : &*it;
      };
      id = field("request_id");
      row = field("row");
      label = field("label");
    }
    if (id == nullptr || row == nullptr || label == nullptr || !id->is_string() ||
        !row->is_number_unsigned() || label->is_null() || label->is_structured()) {
      ++out.skipped_lines;
      if (out.skipped.size() < kShownSkips) {
        out.skipped.push_back(path + ":" + std::to_string(line_no) + ": " +
                              (cut ? "a cut last line" : "not a feedback line"));
      }
      return;
    }
    ++out.lines;
    out.labels[FeedbackKey(id->get<std::string>(), row->get<int64_t>())] =
        label->is_string() ? label->get<std::string>() : label->dump();
  });
}

Result<Feedback> ReadFeedback(const std::string& dir) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> segments, Segments(dir, "feedback-"));
  Feedback out;
  for (const std::string& path : segments) {
    PLINTH_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
    ParseFeedback(text, path, out);
  }
  return out;
}

int64_t JoinFeedback(LogRead& log, const Feedback& feedback, const std::string& name,
                     bool numeric) {
  table::Column col(numeric ? table::DataType::kFloat64 : table::DataType::kString);
  col.Reserve(log.table.num_rows());
  int64_t found = 0;
  for (const LogRequest& r : log.requests) {
    for (int64_t i = 0; i < r.rows; ++i) {
      auto it = r.request_id.empty() ? feedback.labels.end()
                                     : feedback.labels.find(FeedbackKey(r.request_id, i));
      double v = 0;
      if (it == feedback.labels.end() || (numeric && !table::ParseFloat64(it->second, v))) {
        col.AppendNull();
        continue;
      }
      ++found;
      if (numeric) {
        col.AppendDouble(v);
      } else {
        col.AppendString(it->second);
      }
    }
  }
  const table::DataType type = col.type();
  log.table.SetColumn({name, type}, std::move(col));
  return found;
}

Result<LogRead> ParsePredictionLog(std::string_view text, const LogWindow& window) {
  Reader reader(window);
  reader.Segment(text, "<log>");
  return reader.Finish();
}

}  // namespace plinth::monitor
