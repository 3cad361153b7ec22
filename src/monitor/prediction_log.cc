#include "monitor/prediction_log.h"

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

// A column being filled: its type is the first non-null value's.
struct Building {
  std::optional<table::DataType> type;
  int64_t nulls_before = 0;  // rows before the type was known
  table::Column column{table::DataType::kFloat64};
};

class LogTable {
 public:
  // Appends the values of one column for `rows` rows; absent (nullptr) means nulls.
  void Add(const std::string& name, const Json* values, int64_t rows, int64_t& mismatched) {
    auto [it, fresh] = columns_.try_emplace(name);
    if (fresh) {
      order_.push_back(name);
      it->second.nulls_before = rows_;
    }
    Building& b = it->second;
    for (int64_t i = 0; i < rows; ++i) {
      const Json* v = values == nullptr ? nullptr : &(*values)[static_cast<size_t>(i)];
      Append(b, v, mismatched);
    }
    seen_.push_back(name);
  }
  // Ends a line of `rows` rows: columns it did not have get nulls.
  void EndLine(int64_t rows) {
    int64_t ignored = 0;
    for (auto& [name, b] : columns_) {
      if (std::find(seen_.begin(), seen_.end(), name) == seen_.end()) {
        for (int64_t i = 0; i < rows; ++i) {
          Append(b, nullptr, ignored);
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

 private:
  static void Append(Building& b, const Json* v, int64_t& mismatched) {
    if (v == nullptr || v->is_null()) {
      if (b.type) {
        b.column.AppendNull();
      } else {
        ++b.nulls_before;
      }
      return;
    }
    const table::DataType t = v->is_number()    ? table::DataType::kFloat64
                              : v->is_boolean() ? table::DataType::kBool
                              : v->is_string()  ? table::DataType::kString
                                                : table::DataType::kInt64;  // none: mismatch
    if (!b.type && t != table::DataType::kInt64) {
      b.type = t;
      b.column = table::Column(t);
    }
    if (!b.type || t != *b.type) {
      ++mismatched;
      if (b.type) {
        b.column.AppendNull();
      } else {
        ++b.nulls_before;
      }
      return;
    }
    switch (t) {
      case table::DataType::kFloat64:
        b.column.AppendDouble(v->get<double>());
        break;
      case table::DataType::kBool:
        b.column.AppendBool(v->get<bool>());
        break;
      default:
        b.column.AppendString(v->get_ref<const std::string&>());
        break;
    }
  }

  std::map<std::string, Building> columns_;
  std::vector<std::string> order_;
  std::vector<std::string> seen_;
  int64_t rows_ = 0;
};

// A column's values: an array, or {"dictionary": [...], "indices": [...]} expanded.
Result<Json> ValuesOf(const Json& v, int64_t rows) {
  if (v.is_object()) {
    auto dict = v.find("dictionary"), idx = v.find("indices");
    if (dict == v.end() || idx == v.end() || !dict->is_array() || !idx->is_array()) {
      return InvalidArgument("a dictionary column without dictionary and indices arrays");
    }
    Json out = Json::array();
    for (const Json& i : *idx) {
      if (i.is_null()) {
        out.push_back(nullptr);
      } else if (i.is_number_unsigned() && i.get<uint64_t>() < dict->size()) {
        out.push_back((*dict)[i.get<size_t>()]);
      } else {
        return InvalidArgument("a dictionary index out of range");
      }
    }
    return ValuesOf(out, rows);
  }
  if (!v.is_array() || static_cast<int64_t>(v.size()) != rows) {
    return InvalidArgument("a column without one value per row");
  }
  return v;
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
LogRequest Request(const Json& j, int64_t us, int64_t rows) {
  LogRequest request;
  request.time_us = us;
  request.rows = rows;
  auto latency = j.find("latency_ms");
  request.latency_ms =
      latency != j.end() && latency->is_number() ? latency->get<double>() : std::nan("");
  auto id = j.find("request_id");
  if (id != j.end() && id->is_string()) {
    request.request_id = id->get<std::string>();
  }
  auto version = j.find("model_version");
  if (version != j.end() && version->is_string()) {
    request.model_version = version->get<std::string>();
  }
  return request;
}

// Reads segments into one table.
class Reader {
 public:
  explicit Reader(const LogWindow& window) : window_(window) {}

  void Segment(std::string_view text, const std::string& path) {
    ++out_.files;
    ForEachLine(text, [&](std::string_view line, int64_t line_no, bool cut) {
      auto skip = [&](const std::string& why) {
        ++out_.skipped_lines;
        if (out_.skipped.size() < kShownSkips) {
          out_.skipped.push_back(path + ":" + std::to_string(line_no) + ": " + why);
        }
      };
      Result<Json> j = core::ParseJson(line, "line", kMaxLineDepth);
      if (!j.ok() || !j->is_object()) {
        skip(cut ? "a cut last line" : "not a JSON object");
        return;
      }
      auto time = j->find("time");
      auto rows_it = j->find("rows");
      auto features = j->find("features");
      int64_t us = 0;
      if (time == j->end() || !time->is_string() ||
          !table::ParseTimestamp(time->get_ref<const std::string&>(), us)) {
        skip("no time");
        return;
      }
      // A request answered with an error: counted, no rows.
      auto status = j->find("status");
      if (status != j->end() && status->is_number_unsigned() && status->get<uint64_t>() >= 400 &&
          status->get<uint64_t>() <= 599) {
        if ((window_.since_us && us < *window_.since_us) ||
            (window_.until_us && us >= *window_.until_us)) {
          return;
        }
        LogRequest failed = Request(*j, us, 0);
        failed.status = status->get<int>();
        out_.requests.push_back(std::move(failed));
        ++out_.failed;
        return;
      }
      // At least one feature, whose array bounds `rows` by the line's own size.
      if (rows_it == j->end() || !rows_it->is_number_unsigned() || features == j->end() ||
          !features->is_object() || features->empty()) {
        skip("no rows or features");
        return;
      }
      if ((window_.since_us && us < *window_.since_us) ||
          (window_.until_us && us >= *window_.until_us)) {
        return;
      }
      const int64_t rows = rows_it->get<int64_t>();
      // Every column is checked before any is added, so a bad line adds nothing.
      std::vector<std::pair<std::string, Json>> columns;
      Status bad = Status::Ok();
      for (const auto& [name, v] : features->items()) {
        Result<Json> values = ValuesOf(v, rows);
        if (!values.ok()) {
          bad = InvalidArgument("feature '" + name + "': " + values.status().message());
          break;
        }
        columns.emplace_back(name, std::move(*values));
      }
      auto predictions = j->find("predictions");
      if (bad.ok() && predictions != j->end()) {
        Result<Json> values = ValuesOf(*predictions, rows);
        if (!values.ok()) {
          bad = InvalidArgument("predictions: " + values.status().message());
        } else {
          columns.emplace_back("prediction", std::move(*values));
        }
      }
      auto probabilities = j->find("probabilities");
      if (bad.ok() && probabilities != j->end() && probabilities->is_object()) {
        for (const auto& [label, v] : probabilities->items()) {
          Result<Json> values = ValuesOf(v, rows);
          if (!values.ok()) {
            bad = InvalidArgument("probabilities of '" + label + "': " + values.status().message());
            break;
          }
          columns.emplace_back("probability_" + label, std::move(*values));
        }
      }
      if (!bad.ok()) {
        skip(bad.message());
        return;
      }
      LogRequest request = Request(*j, us, rows);
      out_.requests.push_back(std::move(request));
      for (const auto& [name, values] : columns) {
        const bool feature = name != "prediction" && !name.starts_with("probability_");
        if (!feature && std::find(extra_.begin(), extra_.end(), name) == extra_.end()) {
          extra_.push_back(name);
        }
        table_.Add(name, &values, rows, out_.mismatched_values);
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
  LogRead out_;
  LogTable table_;
  std::vector<std::string> extra_;  // prediction and probability columns, first-seen order
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
  for (const std::string& path : segments) {
    PLINTH_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
    reader.Segment(text, path);
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
  std::vector<table::Field> fields = log.table.schema().fields();
  std::vector<table::Column> cols;
  for (size_t i = 0; i < log.table.num_columns(); ++i) {
    if (fields[i].name != name) {
      cols.push_back(log.table.column(i));
    }
  }
  std::erase_if(fields, [&](const table::Field& f) { return f.name == name; });
  fields.push_back({name, col.type()});
  cols.push_back(std::move(col));
  log.table = table::Table(table::Schema(std::move(fields)), std::move(cols));
  return found;
}

Result<LogRead> ParsePredictionLog(std::string_view text, const LogWindow& window) {
  Reader reader(window);
  reader.Segment(text, "<log>");
  return reader.Finish();
}

}  // namespace plinth::monitor
