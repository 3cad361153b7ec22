// The prediction log `plinth serve` writes (docs/FORMATS.md), read back as a table for
// the monitoring statistics: every request line of the predictions-*.jsonl segments (and
// the complete lines of a .jsonl.partial one) whose time falls in a window, its rows
// unpacked into columns: the model's features as the server read them, `prediction`, and
// `probability_<label>` per logged class (and a shadow model's `shadow_prediction` and
// `shadow_probability_<label>`, null in lines without one).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "table/table.h"

namespace plinth::monitor {

// Which request lines are read: a time window, and whose traffic (with plinth serve
// --canary, lines the canary answered carry "role": "canary").
struct LogWindow {
  std::optional<int64_t> since_us;  // inclusive, microseconds since the epoch (UTC)
  std::optional<int64_t> until_us;  // exclusive
  enum class Traffic { kAll, kServed, kCanary };
  Traffic traffic = Traffic::kAll;
};

// One request line: its rows are the next `rows` rows of the table.
struct LogRequest {
  int64_t time_us = 0;
  double latency_ms = 0;  // NaN when the line has none
  int64_t rows = 0;
  std::string request_id;
  std::string model_version;
  std::string shadow_version;  // the shadow model's (plinth serve --shadow), else ""
  bool canary = false;         // answered by a canary (plinth serve --canary)
  int status = 200;            // an error answer (>= 400) has no rows
};

struct LogRead {
  table::Table table;
  std::vector<LogRequest> requests;   // in table order
  std::vector<std::string> features;  // the feature columns, in the order first logged
  int64_t files = 0;
  int64_t lines = 0;          // request lines read in the window (scored ones)
  int64_t failed = 0;         // error answers in the window (in `requests`, with no rows)
  int64_t other_traffic = 0;  // request lines in the time window left out by `traffic`
  int64_t rows = 0;
  int64_t skipped_lines = 0;         // malformed (a cut last line of a .partial segment too)
  std::vector<std::string> skipped;  // the first 5: "FILE:LINE: why"
  int64_t mismatched_values = 0;     // of another type than the column's first: read as missing
};

// kNotFound for a missing directory, kInvalidArgument for one holding no prediction
// segment. A line is skipped (counted, its place named) when it is not a JSON object
// with a time, rows and features whose arrays all have `rows` values.
Result<LogRead> ReadPredictionLog(const std::string& dir, const LogWindow& window = {});

// One segment's text (the fuzz target's entry; "<log>" names it in skipped lines).
Result<LogRead> ParsePredictionLog(std::string_view text, const LogWindow& window = {});

// Ground truth sent to `POST /feedback` (feedback-*.jsonl segments): the label of row
// `row` of request `request_id`, as text (numbers as their JSON text).
struct Feedback {
  std::unordered_map<std::string, std::string> labels;  // FeedbackKey -> label
  int64_t files = 0;
  int64_t lines = 0;
  int64_t skipped_lines = 0;
  std::vector<std::string> skipped;  // the first 5: "FILE:LINE: why"
};
std::string FeedbackKey(std::string_view request_id, int64_t row);

// Every feedback segment of `dir` (none is no error). A later label of the same row
// replaces an earlier one.
Result<Feedback> ReadFeedback(const std::string& dir);
void ParseFeedback(std::string_view text, const std::string& path, Feedback& out);

// Adds column `name` to `log`: each row's label from `feedback`, or null. Numbers when
// `numeric` (a label that does not read as one is null), else text. Returns how many
// rows got a label.
int64_t JoinFeedback(LogRead& log, const Feedback& feedback, const std::string& name, bool numeric);

// "2026-12-03T11:25:34Z" (or a date, or with fractional seconds) as microseconds.
Result<int64_t> ParseLogTime(std::string_view text, std::string_view flag);

}  // namespace plinth::monitor
