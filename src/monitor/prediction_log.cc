#include "monitor/prediction_log.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

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
  std::string name;
  std::optional<table::DataType> type;
  int64_t nulls_before = 0;  // rows before the type was known
  table::Column column{table::DataType::kFloat64};
  // Whether the current line gave it, and what it was before that line (for an undo).
  bool touched = false;
  bool created = false;  // by the current line
  std::optional<table::DataType> type_before;
  int64_t nulls_before_before = 0, size_before = 0;
};

// The log's columns as they fill, appended to straight from each line's parsed values. A
// line found bad halfway (a short column, an index out of range, a name twice) is undone:
// every column it added to goes back to what it was.
class LogTable {
 public:
  // The column `name` for the current line; nullptr when the line already gave it. `hint`:
  // its place among the line's columns, where the last line had it (names repeat line
  // after line in the same order: one comparison instead of a map lookup).
  Building* Column(std::string_view name, size_t hint) {
    Building* b = nullptr;
    if (hint < by_place_.size() && by_place_[hint] != nullptr && by_place_[hint]->name == name) {
      b = by_place_[hint];
    } else {
      auto it = index_.find(name);
      if (it != index_.end()) {
        b = it->second;
      } else {
        auto fresh = std::make_unique<Building>();
        fresh->name = std::string(name);
        fresh->nulls_before = rows_;
        fresh->created = true;
        b = fresh.get();
        index_.emplace(b->name, b);
        columns_.push_back(std::move(fresh));
      }
      if (hint >= by_place_.size()) {
        by_place_.resize(hint + 1, nullptr);
      }
      by_place_[hint] = b;
    }
    if (b->touched) {
      return nullptr;  // given twice in this line
    }
    b->touched = true;
    b->type_before = b->type;
    b->nulls_before_before = b->nulls_before;
    b->size_before = b->column.size();
    touched_.push_back(b);
    return b;
  }
  // Ends a good line of `rows` rows: columns it did not have get nulls.
  void EndLine(int64_t rows) {
    if (touched_.size() != columns_.size()) {
      for (const auto& b : columns_) {
        for (int64_t i = 0; !b->touched && i < rows; ++i) {
          AppendNull(*b);
        }
      }
    }
    for (Building* b : touched_) {
      b->touched = false;
      b->created = false;
    }
    touched_.clear();
    rows_ += rows;
  }
  // Undoes the current line.
  void UndoLine() {
    for (Building* b : touched_) {
      b->touched = false;
      b->type = b->type_before;
      b->nulls_before = b->nulls_before_before;
      if (!b->type) {
        b->column = table::Column(table::DataType::kFloat64);
      } else {
        b->column.Truncate(b->size_before);
      }
    }
    touched_.clear();
    // Columns the line brought go: they are the last ones (one pass, however many).
    by_place_.erase(std::remove_if(by_place_.begin(), by_place_.end(),
                                   [](const Building* b) { return b == nullptr || b->created; }),
                    by_place_.end());
    while (!columns_.empty() && columns_.back()->created) {
      index_.erase(columns_.back()->name);
      columns_.pop_back();
    }
  }
  table::Table Finish(const std::vector<std::string>& order) {
    std::vector<table::Field> fields;
    std::vector<table::Column> cols;
    for (const std::string& name : order) {
      Building& b = *index_.at(name);
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
  // The columns' names in the order first seen.
  std::vector<std::string> Order() const {
    std::vector<std::string> out;
    for (const auto& b : columns_) {
      out.push_back(b->name);
    }
    return out;
  }
  int64_t rows() const { return rows_; }
  // Room for `rows` rows in every column, so a large log is not copied as it grows.
  void Reserve(int64_t rows) {
    for (const auto& b : columns_) {
      b->column.Reserve(rows);
    }
  }

  static void AppendNull(Building& b) {
    if (b.type) {
      b.column.AppendNull();
    } else {
      ++b.nulls_before;
    }
  }
  // Appends one value; a value of another type than the column's (or an array or object)
  // is counted and read as missing.
  static void Append(Building& b, const Value& v, int64_t& mismatched) {
    if (v.kind == Value::kNull) {
      AppendNull(b);
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
      AppendNull(b);
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

 private:
  std::vector<std::unique_ptr<Building>> columns_;  // in the order first seen
  std::map<std::string, Building*, std::less<>> index_;
  std::vector<Building*> by_place_;  // by place in the last line
  std::vector<Building*> touched_;   // by the current line
  int64_t rows_ = 0;
};

// The number of elements of `a` (simdjson's count stops at 0xFFFFFF).
size_t CountOf(simdjson::dom::array a) {
  size_t n = a.size();
  if (n >= 0xFFFFFF) {
    n = 0;
    for ([[maybe_unused]] simdjson::dom::element e : a) {
      ++n;
    }
  }
  return n;
}

// Appends a column's values to `b`: an array of `rows` values, or {"dictionary": [...],
// "indices": [...]} expanded. An error message (and maybe some values appended, for the
// caller to undo) when it is neither.
std::string AppendValues(simdjson::dom::element v, int64_t rows, Building& b,
                         std::vector<Value>& entries, int64_t& mismatched) {
  const auto n = static_cast<size_t>(rows);
  simdjson::dom::object dict_column;
  if (v.get_object().get(dict_column) == simdjson::SUCCESS) {
    simdjson::dom::array dict, indices;
    if (dict_column["dictionary"].get_array().get(dict) != simdjson::SUCCESS ||
        dict_column["indices"].get_array().get(indices) != simdjson::SUCCESS) {
      return "a dictionary column without dictionary and indices arrays";
    }
    if (CountOf(indices) != n) {
      return "a column without one value per row";
    }
    entries.clear();
    for (simdjson::dom::element e : dict) {
      entries.push_back(ValueOf(e));
    }
    for (simdjson::dom::element i : indices) {
      uint64_t k = 0;
      if (i.is_null()) {
        LogTable::AppendNull(b);
      } else if (i.get_uint64().get(k) == simdjson::SUCCESS && k < entries.size()) {
        LogTable::Append(b, entries[static_cast<size_t>(k)], mismatched);
      } else {
        return "a dictionary index out of range";
      }
    }
    return {};
  }
  simdjson::dom::array values;
  if (v.get_array().get(values) != simdjson::SUCCESS || CountOf(values) != n) {
    return "a column without one value per row";
  }
  for (simdjson::dom::element e : values) {
    LogTable::Append(b, ValueOf(e), mismatched);
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
  if (j["shadow"]["model_version"].get_string().get(text) == simdjson::SUCCESS) {
    request.shadow_version = text;
  }
  request.canary = j["role"].get_string().get(text) == simdjson::SUCCESS && text == "canary";
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

  // `padded`: SIMDJSON_PADDING readable bytes follow `text`, so each line is parsed where
  // it is instead of copied.
  void Segment(std::string_view text, const std::string& path, bool padded = false) {
    StartFile();
    ForEachLine(text, [&](std::string_view line, int64_t line_no, bool cut) {
      OwnLine(line, path, line_no, cut, padded);
    });
  }
  void StartFile() { ++out_.files; }
  // A line parsed here.
  void OwnLine(std::string_view line, const std::string& path, int64_t line_no, bool cut,
               bool padded) {
    simdjson::dom::element doc;
    const simdjson::error_code error =
        parser_.parse(line.data(), line.size(), /*realloc_if_needed=*/!padded).get(doc);
    Line(path, line_no, cut, line.size(), error, doc);
  }
  // A line parsed (into `doc`, or failing with `error`) by whoever read it.
  void Line(const std::string& path, int64_t line_no, bool cut, size_t line_size,
            simdjson::error_code error, simdjson::dom::element doc) {
    auto skip = [&](const std::string& why) {
      ++out_.skipped_lines;
      if (out_.skipped.size() < kShownSkips) {
        out_.skipped.push_back(path + ":" + std::to_string(line_no) + ": " + why);
      }
    };
    simdjson::dom::object j;
    if (error != simdjson::SUCCESS || doc.get_object().get(j) != simdjson::SUCCESS) {
      skip(cut ? "a cut last line" : "not a JSON object");
      return;
    }
    std::string_view time;
    int64_t us = 0;
    if (j["time"].get_string().get(time) != simdjson::SUCCESS || !table::ParseTimestamp(time, us)) {
      skip("no time");
      return;
    }
    const bool in_window = !((window_.since_us && us < *window_.since_us) ||
                             (window_.until_us && us >= *window_.until_us));
    // Whether the line is another model's traffic than the one asked for (counted once the
    // line is known to be well formed).
    auto other_traffic = [&] {
      if (window_.traffic == LogWindow::Traffic::kAll) {
        return false;
      }
      std::string_view role;
      const bool canary = j["role"].get_string().get(role) == simdjson::SUCCESS && role == "canary";
      return canary != (window_.traffic == LogWindow::Traffic::kCanary);
    };
    // A request answered with an error: counted, no rows.
    if (uint64_t status = 0; j["status"].get_uint64().get(status) == simdjson::SUCCESS &&
                             status >= 400 && status <= 599) {
      if (in_window && other_traffic()) {
        ++out_.other_traffic;
      } else if (in_window) {
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
        rows_value > line_size) {
      skip("no rows or features");
      return;
    }
    if (!in_window) {
      return;
    }
    if (other_traffic()) {
      ++out_.other_traffic;
      return;
    }
    const auto rows = static_cast<int64_t>(rows_value);
    // Values go straight into the columns; a line found bad halfway is undone.
    const int64_t mismatched_before = out_.mismatched_values;
    size_t place = 0;
    outputs_.clear();
    // `what` names the values in a message (only made for a bad line).
    auto add = [&](std::string_view name, simdjson::dom::element values, auto what) {
      Building* b = table_.Column(name, place++);
      if (b == nullptr) {
        // A repeated key, or a feature called "prediction": the columns would not line up.
        return "column '" + std::string(name) + "' given twice";
      }
      std::string why = AppendValues(values, rows, *b, entries_, out_.mismatched_values);
      return why.empty() ? why : what() + why;
    };
    std::string bad;
    for (simdjson::dom::key_value_pair member : features) {
      bad = add(member.key, member.value,
                [&] { return "feature '" + std::string(member.key) + "': "; });
      if (!bad.empty()) {
        break;
      }
    }
    // An output object's "predictions" and "probabilities" as the columns `prefix`prediction
    // and `prefix`probability_<label>: the served model's (no prefix) and a shadow model's
    // (plinth serve --shadow; "shadow_"), outputs, never features.
    auto outputs = [&](simdjson::dom::object o, const char* prefix, const char* what) {
      simdjson::dom::element predictions;
      if (bad.empty() && o["predictions"].get(predictions) == simdjson::SUCCESS) {
        name_ = prefix;
        name_ += "prediction";
        bad = add(name_, predictions, [&] { return std::string(what) + "predictions: "; });
        outputs_.push_back(name_);
      }
      simdjson::dom::object probabilities;
      if (bad.empty() && o["probabilities"].get_object().get(probabilities) == simdjson::SUCCESS) {
        for (simdjson::dom::key_value_pair member : probabilities) {
          name_ = prefix;
          name_ += "probability_";
          name_ += member.key;
          bad = add(name_, member.value, [&] {
            return std::string(what) + "probabilities of '" + std::string(member.key) + "': ";
          });
          if (!bad.empty()) {
            break;
          }
          outputs_.push_back(name_);
        }
      }
    };
    outputs(j, "", "");
    simdjson::dom::object shadow;
    if (bad.empty() && j["shadow"].get_object().get(shadow) == simdjson::SUCCESS) {
      outputs(shadow, "shadow_", "shadow ");
    }
    if (!bad.empty()) {
      table_.UndoLine();
      out_.mismatched_values = mismatched_before;
      skip(bad);
      return;
    }
    out_.requests.push_back(Request(j, us, rows));
    for (const std::string& name : outputs_) {
      if (std::find(extra_.begin(), extra_.end(), name) == extra_.end()) {
        extra_.push_back(name);
      }
    }
    table_.EndLine(rows);
    ++out_.lines;
    out_.rows += rows;
  }

  LogRead Finish() {
    for (const std::string& name : table_.Order()) {
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
  // Reused from line to line: a dictionary's entries, the line's output columns, a name.
  std::vector<Value> entries_;
  std::vector<std::string> outputs_;
  std::string name_;
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

namespace {

// Lines are parsed (simdjson) on a second thread, a batch ahead of the thread that reads
// their values into the table: the two halves of reading a line took about the same time.
constexpr size_t kBatchLines = 32;
// Longer lines are parsed by the reading thread itself, so the batches' parsers (which keep
// the memory of the longest line each parsed, about 14 bytes per byte) stay small: at most
// 2 x 32 x 14 x 64 KiB, 57 MiB, whatever the log. A 100-row request's line is about 10 KiB.
constexpr size_t kMaxBatchedLine = 64 << 10;

struct ParsedLine {
  int64_t line_no = 0;
  bool cut = false;
  std::string_view text;  // in the segment's buffer
  bool parsed = false;    // else: too long, parsed by the reader
  simdjson::error_code error = simdjson::SUCCESS;
  simdjson::dom::element doc;
};

struct Batch {
  Batch() : parsers(kBatchLines) {}
  void Start(size_t of_segment, bool first) {
    lines.clear();
    segment = of_segment;
    first_of_segment = first;
    last_of_segment = end = false;
    status = Status::Ok();
  }
  std::vector<simdjson::dom::parser> parsers;  // one per line
  std::vector<ParsedLine> lines;
  size_t segment = 0;
  bool first_of_segment = false, last_of_segment = false;
  bool end = false;  // nothing after it
  Status status;     // a segment that could not be read (and the end)
  bool ready = false;
};

class ParsingThread {
 public:
  explicit ParsingThread(const std::vector<std::string>& segments) : segments_(segments) {
    thread_ = std::thread([this] { Run(); });
  }
  ~ParsingThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ParsingThread(const ParsingThread&) = delete;
  ParsingThread& operator=(const ParsingThread&) = delete;

  // The next batch, once parsed; Release() it before asking for another.
  Batch& Next() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return batches_[next_].ready; });
    return batches_[next_];
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Batch& b = batches_[next_];
      b.ready = false;
      consumed_segments_ += b.last_of_segment ? 1 : 0;
      next_ ^= 1;
    }
    cv_.notify_all();
  }

 private:
  // An exception (out of memory) on this thread would end the process: it becomes an error
  // batch, as a segment that cannot be read does.
  void Run() {
    try {
      Parse();
    } catch (const std::exception& e) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !batches_[slot_].ready; });
      if (!stop_) {
        Batch& b = batches_[slot_];
        b.lines.clear();
        b.status = Internal(std::string("reading the prediction log: ") + e.what());
        b.end = true;
        b.ready = true;
        lock.unlock();
        cv_.notify_all();
      }
    }
  }

  void Parse() {
    size_t& slot = slot_;
    // Waits for `slot` to be free; false when stopping.
    auto take = [&](size_t at) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !batches_[at].ready; });
      return !stop_;
    };
    auto publish = [&](size_t at) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        batches_[at].ready = true;
      }
      cv_.notify_all();
    };
    for (size_t k = 0; k < segments_.size(); ++k) {
      // The buffer of segment k - 2 is reused: its lines must all have been read.
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || consumed_segments_ + 1 >= k; });
        if (stop_) {
          return;
        }
      }
      std::string& buffer = buffers_[k % 2];
      Status read = core::ReadFileInto(segments_[k], buffer, simdjson::SIMDJSON_PADDING);
      if (!take(slot)) {
        return;
      }
      Batch* b = &batches_[slot];
      b->Start(k, /*first=*/true);
      if (!read.ok()) {
        b->status = read;
        b->end = true;
        publish(slot);
        return;
      }
      const size_t size = buffer.size();
      buffer.append(simdjson::SIMDJSON_PADDING, '\0');  // every line is parsed in place
      bool stopped = false;
      ForEachLine(std::string_view(buffer.data(), size),
                  [&](std::string_view line, int64_t line_no, bool cut) {
                    if (stopped) {
                      return;
                    }
                    if (b->lines.size() == kBatchLines) {
                      publish(slot);
                      slot ^= 1;
                      if (!take(slot)) {
                        stopped = true;
                        return;
                      }
                      b = &batches_[slot];
                      b->Start(k, /*first=*/false);
                    }
                    ParsedLine& l = b->lines.emplace_back();
                    l.line_no = line_no;
                    l.cut = cut;
                    l.text = line;
                    if (line.size() <= kMaxBatchedLine) {
                      l.parsed = true;
                      l.error = b->parsers[b->lines.size() - 1]
                                    .parse(line.data(), line.size(), /*realloc_if_needed=*/false)
                                    .get(l.doc);
                    }
                  });
      if (stopped) {
        return;
      }
      b->last_of_segment = true;
      b->end = k + 1 == segments_.size();
      publish(slot);
      slot ^= 1;
    }
  }

  const std::vector<std::string>& segments_;
  std::mutex mu_;
  std::condition_variable cv_;
  Batch batches_[2];
  size_t next_ = 0;               // the batch the reader takes next
  size_t slot_ = 0;               // the batch the parsing thread fills
  size_t consumed_segments_ = 0;  // segments whose lines were all read
  bool stop_ = false;
  std::string buffers_[2];  // segments k and k + 1
  std::thread thread_;
};

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
  ParsingThread parsing(segments);
  for (;;) {
    Batch& b = parsing.Next();
    PLINTH_RETURN_IF_ERROR(b.status);
    const std::string& path = segments[b.segment];
    if (b.first_of_segment) {
      reader.StartFile();
    }
    for (const ParsedLine& l : b.lines) {
      if (l.parsed) {
        reader.Line(path, l.line_no, l.cut, l.text.size(), l.error, l.doc);
      } else {
        reader.OwnLine(l.text, path, l.line_no, l.cut, /*padded=*/true);
      }
      read += static_cast<int64_t>(l.text.size()) + 1;
    }
    const bool end = b.end;
    if (b.last_of_segment && b.segment == 0 && segments.size() > 1) {
      reader.Expect(read, ec ? 0 : total);
    }
    parsing.Release();
    if (end) {
      break;
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
