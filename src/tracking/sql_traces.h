// Internal to the tracking module (its SQL layer).
// MLflow's traces on the metadata store (tables trace_info, trace_tags,
// trace_request_metadata): what the SQL tracking store calls once it has checked
// the experiment a new trace belongs to. Same contracts as TrackingStore's trace calls.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/database.h"
#include "tracking/entities.h"

namespace plinth::tracking {

class TraceTables {
 public:
  explicit TraceTables(store::Database& db) : db_(db) {}

  // The schema (the tracking store's migration 4).
  static const char* Schema();

  // `experiment` is the trace's, checked to exist and be active.
  Result<TraceInfo> Start(const Experiment& experiment, int64_t timestamp_ms,
                          const std::vector<Tag>& request_metadata, const std::vector<Tag>& tags);
  Result<TraceInfo> End(const std::string& request_id, int64_t timestamp_ms,
                        const std::string& status, const std::vector<Tag>& request_metadata,
                        const std::vector<Tag>& tags);
  Result<TraceInfo> Get(const std::string& request_id);
  // `experiment` is the trace's, checked to exist and be active.
  // `now_ms` times the trace's assessments that came without a time.
  Result<TraceInfo> Put(const Experiment& experiment, const TraceInfo& trace, int64_t now_ms = 0);
  Result<Page<TraceInfo>> Search(const TraceQuery& query);
  Result<int64_t> Delete(const TraceDeletion& deletion);
  Status SetTag(const std::string& request_id, const Tag& tag);
  Status LinkToRun(const std::vector<std::string>& trace_ids, const std::string& run_id);
  // The prompt-link schema and the search-order index (the tracking store's migration 6).
  static const char* PromptLinkSchema();
  Status LinkPrompts(const std::string& trace_id, const std::vector<PromptVersionRef>& prompts);
  Status DeleteTag(const std::string& request_id, const std::string& key);

  // The spans and assessments schema (the tracking store's migration 5).
  static const char* SpanSchema();
  // `experiment` is the one a new trace goes to, checked to exist and be active.
  Status LogSpans(const Experiment& experiment, const std::vector<Span>& spans);
  Result<Trace> GetTrace(const std::string& trace_id, bool allow_partial);
  Result<std::vector<Trace>> BatchGet(const std::vector<std::string>& trace_ids);
  Result<Assessment> CreateAssessment(Assessment a, int64_t now_ms);
  Result<Assessment> GetAssessment(const std::string& trace_id, const std::string& id);
  Result<Assessment> UpdateAssessment(const std::string& trace_id, const std::string& id,
                                      const AssessmentUpdate& update, int64_t now_ms);
  Status DeleteAssessment(const std::string& trace_id, const std::string& id);

 private:
  Result<std::vector<TraceInfo>> Load(const std::vector<store::Row>& rows);
  // The spans of `trace`, root first then by start time; none when they are not all
  // stored yet and `allow_partial` is false.
  Result<std::optional<std::vector<Span>>> Spans(const TraceInfo& trace, bool allow_partial);
  // kInvalidArgument unless the trace (which exists) is `experiment_id`'s.
  Status CheckOwner(const std::string& trace_id, const std::string& experiment_id);
  // Inserts `a`: a new one (its id generated, valid, marking what it overrides invalid),
  // or with `keep_id` one carried in a trace, kept as sent (its id when well-formed, its
  // valid flag; an id already stored is left as it is). Inside a transaction.
  Status InsertAssessment(Assessment& a, int64_t now_ms, bool keep_id);
  // Upserts key-value rows of `table` (trace_tags or trace_request_metadata).
  Status Upsert(std::string_view table, const std::string& request_id,
                const std::vector<Tag>& pairs);

  store::Database& db_;
};

}  // namespace plinth::tracking
