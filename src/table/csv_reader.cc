#include "table/csv_reader.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <future>
#include <memory>
#include <optional>

#include "core/progress.h"
#include "core/thread_pool.h"
#include "table/csv_source.h"
#include "table/value_parse.h"

namespace plinth::table {
namespace {

constexpr size_t kMaxSkippedMessages = 20;
constexpr size_t kSniffBytes = 64 * 1024;

// ---------------------------------------------------------------------------
// Null markers.

class NullMatcher {
 public:
  explicit NullMatcher(const std::vector<std::string>& values) {
    for (const auto& v : values) {
      if (v.empty()) {
        empty_is_null_ = true;
        continue;
      }
      values_.push_back(v);
      max_len_ = std::max(max_len_, v.size());
      first_[static_cast<unsigned char>(v[0])] = true;
    }
  }
  bool Match(std::string_view s) const {
    if (s.empty()) {
      return empty_is_null_;
    }
    if (s.size() > max_len_ || !first_[static_cast<unsigned char>(s[0])]) {
      return false;
    }
    for (const auto& v : values_) {
      if (v == s) {
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::string> values_;
  bool empty_is_null_ = false;
  size_t max_len_ = 0;
  std::array<bool, 256> first_{};
};

// ---------------------------------------------------------------------------
// Record tokenizer (RFC 4180 with pandas' leniency for stray quotes).

struct FieldRef {
  std::string_view text;
  bool quoted;
};

enum class RecState { kComplete, kIncomplete, kUnterminated };

class Tokenizer {
 public:
  explicit Tokenizer(char delim) : delim_(delim) {
    special_[static_cast<unsigned char>(delim)] = true;
    special_['\n'] = true;
    special_['\r'] = true;
    special_['"'] = true;
    delim_word_ = 0x0101010101010101ull * static_cast<unsigned char>(delim);
  }

  // The first byte at or after `p` that ends an unquoted field (delimiter, CR,
  // LF or quote), or `end`. Eight bytes at a time: a byte of x is zero exactly
  // where the word matched, and the classic has-zero test finds it.
  const char* ScanUnquoted(const char* p, const char* end) const {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHighs = 0x8080808080808080ull;
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
      uint64_t hit = has_zero(w ^ delim_word_) | has_zero(w ^ (kOnes * '\n')) |
                     has_zero(w ^ (kOnes * '\r')) | has_zero(w ^ (kOnes * '"'));
      if (hit != 0) {
        return p + (__builtin_ctzll(hit) >> 3);
      }
      p += 8;
    }
    while (p < end && !special_[static_cast<unsigned char>(*p)]) {
      ++p;
    }
    return p;
  }

  // Reads one record starting at `p` (not at a blank line). On kComplete advances
  // `p` past the record's line end and adds the line ends consumed to `newlines`.
  // With `need_cut`, a record that reaches `end` is kIncomplete (more text may
  // follow); otherwise `end` closes it. `stray` is set when a quote appears
  // where RFC 4180 does not allow one.
  RecState Next(const char*& p, const char* end, bool need_cut, std::vector<FieldRef>& fields,
                std::deque<std::string>& scratch, int64_t& newlines, bool& stray) const {
    fields.clear();
    int64_t nl = 0;
    while (true) {
      size_t idx = fields.size();
      if (p < end && *p == '"') {
        const char* q = p + 1;
        bool escaped = false;
        const char* close;
        while (true) {
          close = static_cast<const char*>(std::memchr(q, '"', static_cast<size_t>(end - q)));
          if (close == nullptr) {
            return need_cut ? RecState::kIncomplete : RecState::kUnterminated;
          }
          if (close + 1 < end && close[1] == '"') {
            escaped = true;
            q = close + 2;
            continue;
          }
          if (close + 1 == end && need_cut) {
            return RecState::kIncomplete;
          }
          break;
        }
        nl += std::count(p + 1, close, '\n');
        std::string_view content(p + 1, static_cast<size_t>(close - p - 1));
        p = close + 1;
        if (escaped || (p < end && *p != delim_ && *p != '\n' && *p != '\r')) {
          // A deque: growing it keeps the strings earlier fields point into
          // where they are (a vector would move them; the fuzzer found it).
          if (scratch.size() <= idx) {
            scratch.resize(idx + 1);
          }
          std::string& s = scratch[idx];
          s.clear();
          for (size_t i = 0; i < content.size(); ++i) {
            s.push_back(content[i]);
            if (content[i] == '"') {
              ++i;  // the second quote of a doubled pair
            }
          }
          if (p < end && *p != delim_ && *p != '\n' && *p != '\r') {
            // Text after the closing quote: kept, as pandas does.
            stray = true;
            const char* t = p;
            while (p < end && *p != delim_ && *p != '\n' && *p != '\r') {
              ++p;
            }
            if (p == end && need_cut) {
              return RecState::kIncomplete;
            }
            s.append(t, static_cast<size_t>(p - t));
          }
          content = s;
        }
        fields.push_back({content, true});
      } else {
        const char* s = p;
        p = ScanUnquoted(p, end);
        if (p < end && *p == '"') {
          stray = true;  // a quote inside an unquoted field is kept as text
          while (p < end && *p != delim_ && *p != '\n' && *p != '\r') {
            ++p;
          }
        }
        fields.push_back({std::string_view(s, static_cast<size_t>(p - s)), false});
      }
      if (p == end) {
        if (need_cut) {
          return RecState::kIncomplete;
        }
        newlines += nl;
        return RecState::kComplete;
      }
      if (*p == delim_) {
        ++p;
        continue;
      }
      if (*p == '\n') {
        ++p;
      } else {  // '\r'
        ++p;
        if (p < end && *p == '\n') {
          ++p;
        } else if (p == end && need_cut) {
          return RecState::kIncomplete;
        }
      }
      newlines += nl + 1;
      return RecState::kComplete;
    }
  }

 private:
  char delim_;
  uint64_t delim_word_;
  std::array<bool, 256> special_{};
};

// Skips blank lines at `p`; returns false if a blank line's end is not yet known.
bool SkipBlankLines(const char*& p, const char* end, bool need_cut, int64_t& newlines) {
  while (p < end) {
    if (*p == '\n') {
      ++p;
      ++newlines;
    } else if (*p == '\r') {
      if (p + 1 == end && need_cut) {
        return false;
      }
      p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
      ++newlines;
    } else {
      break;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Typed column building with inference.

DataType InferType(std::string_view text) {
  int64_t i;
  double d;
  bool b;
  if (ParseInt64(text, i)) {
    return DataType::kInt64;
  }
  if (ParseFloat64(text, d)) {
    return DataType::kFloat64;
  }
  if (ParseBool(text, b)) {
    return DataType::kBool;
  }
  if (ParseTimestamp(text, i)) {
    return DataType::kTimestamp;
  }
  return DataType::kString;
}

DataType JoinTypes(DataType a, DataType b) {
  if (a == b) {
    return a;
  }
  if (IsNumeric(a) && IsNumeric(b)) {
    return DataType::kFloat64;
  }
  return DataType::kString;
}

enum class AppendResult { kOk, kWiden, kError };

struct Builder {
  std::optional<DataType> type;
  bool user_forced = false;
  const std::string* types_source = nullptr;  // where a forced type came from
  int64_t pending_nulls = 0;
  int64_t reserve = 0;  // rows to make room for when the type becomes known
  Column col;

  void Start(DataType t) {
    type = t;
    col = Column(t);
    col.Reserve(reserve);
    for (int64_t i = 0; i < pending_nulls; ++i) {
      col.AppendNull();
    }
    pending_nulls = 0;
  }

  AppendResult Mismatch(std::string_view text, std::string& error) const {
    if (!user_forced) {
      return AppendResult::kWiden;
    }
    error = "expected " + std::string(TypeName(*type)) + " (as " + *types_source +
            " says), got \"" + std::string(text.substr(0, 80)) + "\"";
    return AppendResult::kError;
  }

  AppendResult Append(const FieldRef& f, const NullMatcher& nulls, std::string& error) {
    if (!f.quoted && nulls.Match(f.text)) {
      if (type) {
        col.AppendNull();
      } else {
        ++pending_nulls;
      }
      return AppendResult::kOk;
    }
    if (!type) {
      Start(InferType(f.text));
    }
    switch (*type) {
      case DataType::kInt64: {
        int64_t v;
        if (ParseInt64(f.text, v)) {
          col.AppendInt(v);
          return AppendResult::kOk;
        }
        double d;
        if (!user_forced && ParseFloat64(f.text, d)) {
          col = col.CastTo(DataType::kFloat64).value();
          type = DataType::kFloat64;
          AppendFloat(d);
          return AppendResult::kOk;
        }
        return Mismatch(f.text, error);
      }
      case DataType::kFloat64: {
        double d;
        if (ParseFloat64(f.text, d)) {
          AppendFloat(d);
          return AppendResult::kOk;
        }
        return Mismatch(f.text, error);
      }
      case DataType::kBool: {
        bool b;
        if (ParseBool(f.text, b)) {
          col.AppendBool(b);
          return AppendResult::kOk;
        }
        return Mismatch(f.text, error);
      }
      case DataType::kTimestamp: {
        int64_t v;
        if (ParseTimestamp(f.text, v)) {
          col.AppendInt(v);
          return AppendResult::kOk;
        }
        return Mismatch(f.text, error);
      }
      case DataType::kString: {
        size_t bad = 0;
        if (!IsValidUtf8(f.text, bad)) {
          error = "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the field";
          return AppendResult::kError;
        }
        col.AppendString(f.text);
        return AppendResult::kOk;
      }
    }
    return AppendResult::kOk;
  }

  void AppendFloat(double d) {
    if (std::isnan(d)) {
      col.AppendNull();  // a NaN is a missing value, as in pandas
    } else {
      col.AppendDouble(d);
    }
  }
};

// Everything a chunk parse needs; shared read-only by the parser threads.
struct ParseConfig {
  char delim = ',';
  std::vector<std::string> names;
  std::vector<std::optional<DataType>> hints;  // starting types (may still widen)
  std::vector<bool> user_forced;               // types from the user (never widen)
  NullMatcher nulls{{}};
  BadLines on_bad_lines = BadLines::kError;
  BadValues on_bad_values = BadValues::kError;
  std::string types_source;
};

struct ChunkOutput {
  std::vector<std::optional<DataType>> types;  // nullopt: no value in this chunk
  std::vector<Column> columns;
  int64_t rows = 0;
  int64_t newlines = 0;
  size_t consumed = 0;
  bool stray_quote = false;
  bool failed = false;
  int64_t error_line = 0;  // line ends before the failing record, within the chunk
  std::string error;
  int64_t skipped = 0;
  int64_t null_values = 0;
  std::vector<std::pair<int64_t, std::string>> skipped_messages;  // (relative line, reason)

  void Note(int64_t line, std::string reason) {
    if (skipped_messages.size() < kMaxSkippedMessages) {
      skipped_messages.emplace_back(line, std::move(reason));
    }
  }
};

enum class ParseAttempt { kDone, kWiden };

ParseAttempt ParseChunkOnce(const ParseConfig& cfg, std::vector<std::optional<DataType>>& hints,
                            std::string_view text, bool need_cut, ChunkOutput& out) {
  const size_t ncols = cfg.names.size();
  std::vector<Builder> builders(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    builders[c].user_forced = cfg.user_forced[c];
    builders[c].types_source = &cfg.types_source;
    if (hints[c]) {
      builders[c].Start(*hints[c]);
    }
  }
  out = ChunkOutput();
  // Line ends bound the number of records: reserve once instead of growing.
  auto max_rows = static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (auto& b : builders) {
    b.col.Reserve(max_rows);
    b.reserve = max_rows;
  }
  Tokenizer tok(cfg.delim);
  std::vector<FieldRef> fields;
  fields.reserve(ncols + 1);
  std::deque<std::string> scratch;  // unescaped field text; fields point into it
  const char* p = text.data();
  const char* end = p + text.size();
  std::string error;
  while (p < end) {
    const char* rec_start = p;
    int64_t rec_lines = out.newlines;
    if (!SkipBlankLines(p, end, need_cut, out.newlines)) {
      p = rec_start;
      out.newlines = rec_lines;
      break;
    }
    if (p == end) {
      break;
    }
    rec_start = p;
    rec_lines = out.newlines;
    RecState st = tok.Next(p, end, need_cut, fields, scratch, out.newlines, out.stray_quote);
    if (st == RecState::kIncomplete) {
      p = rec_start;
      out.newlines = rec_lines;
      break;
    }
    if (st == RecState::kUnterminated) {
      out.failed = true;
      out.error_line = rec_lines;
      out.error = "unterminated quoted field: a field opened with \" on this line is never closed";
      return ParseAttempt::kDone;
    }
    if (fields.size() != ncols) {
      std::string reason =
          "expected " + std::to_string(ncols) + " fields, got " + std::to_string(fields.size());
      if (cfg.on_bad_lines == BadLines::kError) {
        out.failed = true;
        out.error_line = rec_lines;
        out.error = reason + " (use --on-bad-lines skip to drop such lines)";
        return ParseAttempt::kDone;
      }
      ++out.skipped;
      out.Note(rec_lines, "skipped: " + reason);
      continue;
    }
    bool skip = false;
    for (size_t c = 0; c < ncols && !skip; ++c) {
      Builder& b = builders[c];
      AppendResult r = b.Append(fields[c], cfg.nulls, error);
      if (r == AppendResult::kWiden) {
        hints[c] = DataType::kString;  // only string holds what this value is
        return ParseAttempt::kWiden;
      }
      if (r != AppendResult::kError) {
        continue;
      }
      std::string what = "column \"" + cfg.names[c] + "\": " + error;
      switch (cfg.on_bad_values) {
        case BadValues::kError:
          out.failed = true;
          out.error_line = rec_lines;
          out.error = std::move(what);
          return ParseAttempt::kDone;
        case BadValues::kNull:
          b.col.AppendNull();  // a failed value leaves its column typed
          ++out.null_values;
          out.Note(rec_lines, what + "; read as missing");
          break;
        case BadValues::kSkip:
          // Take back this record's values from the columns before (a column
          // whose type this record's value set keeps that type).
          for (size_t k = 0; k < c; ++k) {
            Builder& prev = builders[k];
            prev.col.Truncate(prev.col.size() - (prev.type ? 1 : 0));
            if (!prev.type) {
              --prev.pending_nulls;
            }
          }
          ++out.skipped;
          out.Note(rec_lines, "skipped: " + what);
          skip = true;
          break;
      }
    }
    if (!skip) {
      ++out.rows;
    }
  }
  out.consumed = static_cast<size_t>(p - text.data());
  out.types.resize(ncols);
  out.columns.resize(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    if (builders[c].type) {
      out.types[c] = builders[c].type;
      out.columns[c] = std::move(builders[c].col);
    } else {
      Column nulls(DataType::kFloat64);
      for (int64_t i = 0; i < out.rows; ++i) {
        nulls.AppendNull();
      }
      out.columns[c] = std::move(nulls);
    }
  }
  return ParseAttempt::kDone;
}

// Parses the records of `text`. With `need_cut`, stops before a record that
// `text` may not hold whole and reports the bytes consumed.
ChunkOutput ParseChunk(const ParseConfig& cfg, std::string_view text, bool need_cut) {
  std::vector<std::optional<DataType>> hints = cfg.hints;
  ChunkOutput out;
  while (ParseChunkOnce(cfg, hints, text, need_cut, out) == ParseAttempt::kWiden) {
  }
  return out;
}

// ---------------------------------------------------------------------------
// Sniffing: delimiter and header.

// Counts `c` outside quotes on each of the first lines of `sample`.
std::vector<int> CountPerLine(std::string_view sample, char c, size_t max_lines) {
  std::vector<int> counts;
  int n = 0;
  bool in_quotes = false;
  for (size_t i = 0; i < sample.size() && counts.size() < max_lines; ++i) {
    char ch = sample[i];
    if (ch == '"') {
      in_quotes = !in_quotes;
    } else if (!in_quotes && ch == c) {
      ++n;
    } else if (!in_quotes && ch == '\n') {
      counts.push_back(n);
      n = 0;
    }
  }
  return counts;  // a last line without its end is left out: it may be cut short
}

char DetectDelimiter(std::string_view sample) {
  const char candidates[] = {',', ';', '\t', '|'};
  char best = ',';
  double best_score = 0;
  for (char c : candidates) {
    std::vector<int> counts = CountPerLine(sample, c, 50);
    if (counts.empty()) {
      // One line only, without its end: count on it.
      int n = static_cast<int>(std::count(sample.begin(), sample.end(), c));
      if (n > 0 && best_score == 0) {
        best = c;
        best_score = 0.5;
      }
      continue;
    }
    if (counts[0] == 0) {
      continue;
    }
    int same = static_cast<int>(std::count(counts.begin(), counts.end(), counts[0]));
    double consistency = static_cast<double>(same) / static_cast<double>(counts.size());
    double score = consistency * 1000 + std::min(counts[0], 999);
    if (score > best_score) {
      best_score = score;
      best = c;
    }
  }
  return best;
}

// Makes header names unique as pandas does ("a", "a.1", ...); empty ones become "Unnamed: i".
std::vector<std::string> NormalizeNames(const std::vector<FieldRef>& fields) {
  std::vector<std::string> names;
  std::map<std::string, int, std::less<>> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string name(fields[i].text);
    if (name.empty()) {
      name = "Unnamed: " + std::to_string(i);
    }
    std::string unique = name;
    while (seen.count(unique) != 0) {
      unique = name + "." + std::to_string(seen[name]++);
    }
    seen[unique] = std::max(seen[unique], 1);
    names.push_back(unique);
  }
  return names;
}

// ---------------------------------------------------------------------------
// The scan.

struct ScanState {
  std::vector<std::optional<DataType>> hints;  // carried across restarts
  bool sequential = false;
};

enum class ScanEnd { kDone, kRestartWiden, kRestartSequential };

class Scanner {
 public:
  Scanner(Source& src, std::string_view name, const CsvOptions& opt, ChunkConsumer& consumer)
      : src_(src), name_(name), opt_(opt), consumer_(consumer) {}

  Result<CsvInfo> Run() {
    ScanState state;
    size_t threads = opt_.threads != 0 ? opt_.threads : core::HardwareThreads();
    state.sequential = threads <= 1;
    while (true) {
      PLINTH_RETURN_IF_ERROR(src_.Rewind());
      info_ = CsvInfo();
      info_.restarts = restarts_;
      info_.gzip = src_.gzip();
      PLINTH_ASSIGN_OR_RETURN(ScanEnd end, ScanOnce(state, threads));
      if (end == ScanEnd::kDone) {
        return info_;
      }
      if (end == ScanEnd::kRestartSequential) {
        state.sequential = true;
      }
      ++restarts_;
    }
  }

 private:
  std::string Where(int64_t line) const { return std::string(name_) + ":" + std::to_string(line); }

  // Appends up to `n` more bytes to `buf`; sets eof_ at the end of the source.
  Status Fill(std::string& buf, size_t n) {
    size_t old = buf.size();
    buf.resize(old + n);
    size_t got = 0;
    while (got < n) {
      PLINTH_ASSIGN_OR_RETURN(size_t k, src_.Read(buf.data() + old + got, n - got));
      if (k == 0) {
        eof_ = true;
        break;
      }
      got += k;
    }
    buf.resize(old + got);
    info_.bytes += static_cast<int64_t>(got);
    return Status::Ok();
  }

  // Reads the header and prepares cfg_; leaves the rest of what was read in `carry`.
  Status ReadHeader(std::string& carry, const ScanState& state) {
    eof_ = false;
    PLINTH_RETURN_IF_ERROR(Fill(carry, kSniffBytes));
    if (carry.size() >= 3 && std::memcmp(carry.data(), "\xEF\xBB\xBF", 3) == 0) {
      carry.erase(0, 3);
    }
    const char* p = carry.data();
    int64_t newlines = 0;
    while (true) {
      p = carry.data();
      newlines = 0;
      if (!SkipBlankLines(p, carry.data() + carry.size(), !eof_, newlines)) {
        if (eof_) {
          break;
        }
        PLINTH_RETURN_IF_ERROR(Fill(carry, kSniffBytes));
        continue;
      }
      if (p == carry.data() + carry.size() && !eof_) {
        PLINTH_RETURN_IF_ERROR(Fill(carry, kSniffBytes));
        continue;
      }
      break;
    }
    if (p == carry.data() + carry.size()) {
      return InvalidArgument(std::string(name_) + ": empty file, expected a header row");
    }
    cfg_ = std::make_shared<ParseConfig>();
    cfg_->delim = opt_.delimiter != 0
                      ? opt_.delimiter
                      : DetectDelimiter(std::string_view(p, carry.data() + carry.size() - p));
    info_.delimiter = cfg_->delim;
    Tokenizer tok(cfg_->delim);
    std::vector<FieldRef> fields;
    std::deque<std::string> scratch;  // unescaped field text; fields point into it
    bool stray = false;
    const char* start = p;
    int64_t header_lines = newlines;
    while (true) {
      const char* q = start;
      int64_t nl = header_lines;
      RecState st = tok.Next(q, carry.data() + carry.size(), !eof_, fields, scratch, nl, stray);
      if (st == RecState::kIncomplete) {
        size_t off = static_cast<size_t>(start - carry.data());
        PLINTH_RETURN_IF_ERROR(Fill(carry, kSniffBytes));
        start = carry.data() + off;
        continue;
      }
      if (st == RecState::kUnterminated) {
        return InvalidArgument(Where(header_lines + 1) +
                               ": unterminated quoted field in the header row");
      }
      std::vector<std::string> names;
      if (opt_.header) {
        size_t bad = 0;
        for (const auto& f : fields) {
          if (!IsValidUtf8(f.text, bad)) {
            return InvalidArgument(Where(header_lines + 1) + ": header: invalid UTF-8");
          }
        }
        names = NormalizeNames(fields);
        carry.erase(0, static_cast<size_t>(q - carry.data()));
        line_base_ = nl + 1;
      } else {
        for (size_t i = 0; i < fields.size(); ++i) {
          names.push_back("column_" + std::to_string(i + 1));
        }
        carry.erase(0, static_cast<size_t>(start - carry.data()));
        line_base_ = header_lines + 1;
      }
      cfg_->names = std::move(names);
      break;
    }
    size_t ncols = cfg_->names.size();
    cfg_->hints = state.hints;
    cfg_->hints.resize(ncols);
    cfg_->user_forced.assign(ncols, opt_.other_columns_type.has_value());
    if (opt_.other_columns_type) {
      cfg_->hints.assign(ncols, *opt_.other_columns_type);
    }
    for (const auto& [col, type] : opt_.types) {
      auto it = std::find(cfg_->names.begin(), cfg_->names.end(), col);
      if (it == cfg_->names.end()) {
        return InvalidArgument(std::string(name_) + ": " + opt_.types_source +
                               ": no column named \"" + col + "\" in the header");
      }
      size_t c = static_cast<size_t>(it - cfg_->names.begin());
      cfg_->hints[c] = type;
      cfg_->user_forced[c] = true;
    }
    cfg_->nulls = NullMatcher(opt_.null_values);
    cfg_->on_bad_lines = opt_.on_bad_lines;
    cfg_->on_bad_values = opt_.on_bad_values;
    cfg_->types_source = opt_.types_source;
    return Status::Ok();
  }

  Result<ScanEnd> ScanOnce(ScanState& state, size_t threads) {
    std::string carry;
    PLINTH_RETURN_IF_ERROR(ReadHeader(carry, state));
    begun_ = false;
    core::Progress own("reading " + std::string(name_), src_.TotalSize(),
                       opt_.progress && opt_.progress_bar == nullptr);
    core::Progress& progress = opt_.progress_bar != nullptr ? *opt_.progress_bar : own;
    ScanEnd end = ScanEnd::kDone;
    if (state.sequential) {
      while (true) {
        if (!eof_ && carry.size() < opt_.chunk_bytes) {
          PLINTH_RETURN_IF_ERROR(Fill(carry, opt_.chunk_bytes - carry.size()));
        }
        ChunkOutput out = ParseChunk(*cfg_, carry, !eof_);
        PLINTH_ASSIGN_OR_RETURN(end, Deliver(out, carry, state, /*check_stray=*/false));
        if (end != ScanEnd::kDone) {
          return end;
        }
        progress.Update(src_.Position());
        if (out.consumed == 0 && !eof_) {
          PLINTH_RETURN_IF_ERROR(Fill(carry, opt_.chunk_bytes));  // a record longer than a chunk
          continue;
        }
        carry.erase(0, out.consumed);
        if (eof_ && carry.empty()) {
          break;
        }
        if (eof_ && out.consumed == 0) {
          break;  // only blank text left
        }
      }
    } else {
      core::ThreadPool pool(threads);
      struct Pending {
        std::shared_ptr<const std::string> text;
        std::future<ChunkOutput> result;
      };
      std::deque<Pending> inflight;
      std::shared_ptr<const ParseConfig> cfg = cfg_;
      while (true) {
        while ((!eof_ || !carry.empty()) && inflight.size() < threads + 1) {
          if (!eof_ && carry.size() < opt_.chunk_bytes) {
            PLINTH_RETURN_IF_ERROR(Fill(carry, opt_.chunk_bytes - carry.size()));
          }
          size_t cut = eof_ ? carry.size() : CutAtRecordBoundary(carry);
          if (cut == 0 && !eof_) {
            PLINTH_RETURN_IF_ERROR(Fill(carry, opt_.chunk_bytes));
            continue;
          }
          // The block's buffer moves to the task; only the tail after the cut is copied.
          auto block = std::make_shared<std::string>(std::move(carry));
          carry.assign(block->data() + cut, block->size() - cut);
          block->resize(cut);
          std::shared_ptr<const std::string> text = std::move(block);
          auto fut = pool.Submit([cfg, text] { return ParseChunk(*cfg, *text, false); });
          inflight.push_back({text, std::move(fut)});
        }
        if (inflight.empty()) {
          break;
        }
        Pending next = std::move(inflight.front());
        inflight.pop_front();
        ChunkOutput out = next.result.get();
        PLINTH_ASSIGN_OR_RETURN(end, Deliver(out, *next.text, state, /*check_stray=*/true));
        if (end != ScanEnd::kDone) {
          return end;
        }
        progress.Update(src_.Position());
      }
    }
    own.Finish();
    if (!begun_) {
      // A header and no data: pandas gives object columns; string is ours.
      std::vector<Field> fields;
      for (size_t c = 0; c < cfg_->names.size(); ++c) {
        fields.push_back({cfg_->names[c], cfg_->hints[c].value_or(DataType::kString)});
      }
      info_.schema = Schema(std::move(fields));
      PLINTH_RETURN_IF_ERROR(consumer_.Begin(info_.schema, 0));
    }
    return ScanEnd::kDone;
  }

  // The longest prefix of `buf` that ends at a line end outside quotes (quote
  // parity is exact when the text has no stray quote; chunks report those, and
  // the scan then restarts sequentially). 0 when there is none.
  static size_t CutAtRecordBoundary(std::string_view buf) {
    const char* b = buf.data();
    const void* nl = memrchr(b, '\n', buf.size());
    if (nl == nullptr) {
      return 0;
    }
    size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - b);
    size_t quotes = CountQuotes(b, b + pos);
    while (quotes & 1) {
      const void* prev = memrchr(b, '\n', pos);
      if (prev == nullptr) {
        return 0;
      }
      size_t ppos = static_cast<size_t>(static_cast<const char*>(prev) - b);
      quotes -= CountQuotes(b + ppos, b + pos);
      pos = ppos;
    }
    return pos + 1;
  }

  // memchr jumps over quote-free text far faster than a byte loop.
  static size_t CountQuotes(const char* p, const char* end) {
    size_t n = 0;
    while (p < end) {
      const void* q = std::memchr(p, '"', static_cast<size_t>(end - p));
      if (q == nullptr) {
        break;
      }
      ++n;
      p = static_cast<const char*>(q) + 1;
    }
    return n;
  }

  // Hands one parsed chunk to the consumer, reconciling its types with the
  // schema delivered so far.
  Result<ScanEnd> Deliver(ChunkOutput& out, std::string_view text, ScanState& state,
                          bool check_stray) {
    if (check_stray && out.stray_quote) {
      return ScanEnd::kRestartSequential;
    }
    if (out.failed) {
      return InvalidArgument(Where(line_base_ + out.error_line) + ": " + out.error);
    }
    for (const auto& [line, reason] : out.skipped_messages) {
      if (info_.skipped_messages.size() < kMaxSkippedMessages) {
        info_.skipped_messages.push_back(Where(line_base_ + line) + ": " + reason);
      }
    }
    info_.skipped_lines += out.skipped;
    info_.null_values += out.null_values;
    if (out.rows == 0) {
      line_base_ += out.newlines;  // blank or skipped lines only: no types to learn from
      return ScanEnd::kDone;
    }
    const size_t ncols = cfg_->names.size();
    if (!begun_) {
      std::vector<Field> fields;
      for (size_t c = 0; c < ncols; ++c) {
        fields.push_back({cfg_->names[c], out.types[c].value_or(DataType::kFloat64)});
      }
      info_.schema = Schema(std::move(fields));
      // Rows expected: this chunk's rows per byte times the file's bytes, plus a margin.
      int64_t expected = 0;
      if (!src_.gzip() && out.consumed > 0) {
        expected = static_cast<int64_t>(static_cast<double>(out.rows) *
                                        static_cast<double>(src_.TotalSize()) /
                                        static_cast<double>(out.consumed) * 1.05) +
                   16;
      }
      PLINTH_RETURN_IF_ERROR(consumer_.Begin(info_.schema, expected));
      begun_ = true;
    }
    bool reparse = false;
    bool widen = false;
    for (size_t c = 0; c < ncols; ++c) {
      DataType want = info_.schema.field(c).type;
      if (!out.types[c] || *out.types[c] == want ||
          (*out.types[c] == DataType::kInt64 && want == DataType::kFloat64)) {
        continue;
      }
      if (JoinTypes(*out.types[c], want) == want) {
        reparse = true;  // e.g. a chunk of numbers in a string column
      } else {
        widen = true;
      }
    }
    if (widen) {
      state.hints.assign(ncols, std::nullopt);
      for (size_t c = 0; c < ncols; ++c) {
        DataType want = info_.schema.field(c).type;
        state.hints[c] = out.types[c] ? JoinTypes(*out.types[c], want) : want;
      }
      return ScanEnd::kRestartWiden;
    }
    if (reparse) {
      ParseConfig forced = *cfg_;
      for (size_t c = 0; c < ncols; ++c) {
        forced.hints[c] = info_.schema.field(c).type;
      }
      size_t consumed = out.consumed;
      out = ParseChunk(forced, text.substr(0, consumed), false);
      if (out.failed) {
        return InvalidArgument(Where(line_base_ + out.error_line) + ": " + out.error);
      }
    }
    std::vector<Column> columns(ncols);
    for (size_t c = 0; c < ncols; ++c) {
      DataType want = info_.schema.field(c).type;
      if (out.columns[c].type() == want) {
        columns[c] = std::move(out.columns[c]);
      } else {
        PLINTH_ASSIGN_OR_RETURN(columns[c], out.columns[c].CastTo(want));
      }
    }
    info_.rows += out.rows;
    line_base_ += out.newlines;
    PLINTH_RETURN_IF_ERROR(consumer_.Consume(Table(info_.schema, std::move(columns))));
    return ScanEnd::kDone;
  }

  Source& src_;
  std::string_view name_;
  const CsvOptions& opt_;
  ChunkConsumer& consumer_;
  std::shared_ptr<ParseConfig> cfg_;
  CsvInfo info_;
  bool eof_ = false;
  bool begun_ = false;
  int64_t line_base_ = 1;  // file line of the first line of the next chunk
  int restarts_ = 0;
};

// Appends each chunk to the final columns as it arrives: the copy overlaps
// with the parsing of later chunks, and each chunk's memory is freed at once.
class CollectConsumer : public ChunkConsumer {
 public:
  Status Begin(const Schema& schema, int64_t expected_rows) override {
    schema_ = schema;
    columns_.clear();
    for (const auto& f : schema_.fields()) {
      columns_.emplace_back(f.type);
      columns_.back().Reserve(expected_rows);
    }
    return Status::Ok();
  }
  Status Consume(Table chunk) override {
    for (size_t c = 0; c < columns_.size(); ++c) {
      columns_[c].AppendColumn(chunk.column(c));
    }
    return Status::Ok();
  }
  Table Finish() { return Table(schema_, std::move(columns_)); }

 private:
  Schema schema_;
  std::vector<Column> columns_;
};

}  // namespace

Result<BadLines> ParseBadLines(std::string_view text) {
  if (text == "error") {
    return BadLines::kError;
  }
  if (text == "warn") {
    return BadLines::kWarn;
  }
  if (text == "skip") {
    return BadLines::kSkip;
  }
  return InvalidArgument("--on-bad-lines: expected error, warn or skip, got \"" +
                         std::string(text) + "\"");
}

Result<CsvInfo> ScanCsv(const std::string& path, const CsvOptions& options,
                        ChunkConsumer& consumer) {
  const bool ranged = options.range_begin != 0 || options.range_end >= 0;
  PLINTH_ASSIGN_OR_RETURN(
      std::unique_ptr<Source> src,
      ranged ? OpenSourceRange(path, options.range_begin, options.range_end) : OpenSource(path));
  return Scanner(*src, path, options, consumer).Run();
}

Result<CsvInfo> ScanCsvText(std::string_view text, std::string_view name, const CsvOptions& options,
                            ChunkConsumer& consumer) {
  auto src = TextSource(text);
  return Scanner(*src, name, options, consumer).Run();
}

Result<CsvTable> ReadCsv(const std::string& path, const CsvOptions& options) {
  CollectConsumer consumer;
  PLINTH_ASSIGN_OR_RETURN(CsvInfo info, ScanCsv(path, options, consumer));
  return CsvTable{consumer.Finish(), std::move(info)};
}

Result<CsvTable> ReadCsvText(std::string_view text, const CsvOptions& options,
                             std::string_view name) {
  CollectConsumer consumer;
  PLINTH_ASSIGN_OR_RETURN(CsvInfo info, ScanCsvText(text, name, options, consumer));
  return CsvTable{consumer.Finish(), std::move(info)};
}

}  // namespace plinth::table
