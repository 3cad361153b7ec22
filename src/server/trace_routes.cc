// MLflow's v2 trace routes: start, end, get info, search, delete, tags
// (service.proto's StartTrace ... DeleteTraceTag). A trace's spans are the
// client's: traces.json under its mlflow.artifactLocation (get-trace-artifact,
// artifact_routes.cc).
#include <map>

#include "server/routes.h"
#include "tracking/spans.h"

namespace plinth::server {
namespace {

using tracking::TrackingStore;

std::string TraceInfoText(const tracking::TraceInfo& t) {
  return core::DumpJson(Json{{"trace_info", ToJson(t)}}, false);
}

// TraceStatus by name or number.
Result<std::string> StatusField(const Json& m) {
  static constexpr std::string_view kNames[] = {"TRACE_STATUS_UNSPECIFIED", "OK", "ERROR",
                                                "IN_PROGRESS"};
  auto it = m.find("status");
  if (it == m.end()) {
    return std::string("TRACE_STATUS_UNSPECIFIED");
  }
  if (it->is_number_integer()) {
    const int64_t n = it->get<int64_t>();
    if (n >= 0 && n < 4) {
      return std::string(kNames[n]);
    }
    return InvalidArgument("Invalid value " + std::to_string(n) + " for parameter 'status'");
  }
  return it->get<std::string>();
}

// A trace search's answer, v2 or v3 (`write`): the rest of the query from the
// checked message `m` (max_results at most 500, as MLflow's handler), then
// {traces, next_page_token}.
Result<std::string> SearchAnswer(TrackingStore& s, const Json& m, tracking::TraceQuery q,
                                 Json (*write)(const tracking::TraceInfo&)) {
  q.filter = Str(m, "filter");
  q.max_results = m.value("max_results", int64_t{100});
  if (q.max_results > 500) {
    return InvalidArgument("Invalid value " + std::to_string(q.max_results) +
                           " for parameter 'max_results' supplied: expected at most 500");
  }
  q.order_by = StrList(m, "order_by");
  q.page_token = Str(m, "page_token");
  PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchTraces(q));
  Json out = Json::object();
  if (!page.items.empty()) {
    out["traces"] = Json::array();
    for (const tracking::TraceInfo& t : page.items) {
      out["traces"].push_back(write(t));
    }
  }
  if (!page.next_page_token.empty()) {
    out["next_page_token"] = page.next_page_token;
  }
  return core::DumpJson(out, false);
}

void AddTraceV3Routes(RouteTable& routes);

}  // namespace

http::Response AnswerOtlpTraces(const http::Request& r, tracking::Service& service,
                                uint64_t max_body) {
  if (r.method != "POST") {
    http::Response refused =
        ErrorResponse("BAD_REQUEST", "Method " + r.method + " is not allowed for /v1/traces");
    refused.status = 405;
    refused.headers.emplace_back("Allow", "POST");
    return refused;
  }
  const std::string experiment(r.Header("x-mlflow-experiment-id"));
  if (experiment.empty()) {
    return ErrorResponse(InvalidArgument(
        "Missing header 'X-Mlflow-Experiment-Id': the experiment the spans' traces belong to"));
  }
  std::string_view type = r.Header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.remove_suffix(1);
  }
  tracking::OtlpEncoding encoding;
  if (type == "application/x-protobuf") {
    encoding = tracking::OtlpEncoding::kProtobuf;
  } else if (type == "application/json") {
    encoding = tracking::OtlpEncoding::kJson;
  } else {
    return ErrorResponse(
        InvalidArgument("Invalid Content-Type: " + std::string(type.substr(0, 60)) +
                        ". Expected: application/x-protobuf or application/json (OTLP/HTTP)"));
  }
  // Decompressed, a body may not be larger than the server takes uncompressed.
  Result<std::string> body = tracking::DecodeContentEncoding(r.body, r.Header("content-encoding"),
                                                             static_cast<size_t>(max_body));
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  Result<std::vector<tracking::Span>> spans = tracking::SpansFromOtlp(*body, encoding);
  if (!spans.ok()) {
    return ErrorResponse(spans.status());
  }
  // log_spans takes one trace at a time: the spans grouped by trace, in order.
  std::vector<std::vector<tracking::Span>> traces;
  std::map<std::string, size_t, std::less<>> index;
  for (tracking::Span& span : *spans) {
    auto [it, added] = index.emplace(span.trace_id, traces.size());
    if (added) {
      traces.emplace_back();
    }
    traces[it->second].push_back(std::move(span));
  }
  Result<tracking::Service::Lease> stores = service.Acquire();
  if (!stores.ok()) {
    return ErrorResponse(stores.status());
  }
  for (const auto& trace : traces) {
    if (Status s = stores->tracking().LogSpans(experiment, trace); !s.ok()) {
      return ErrorResponse(s);
    }
  }
  http::Response ok;
  if (encoding == tracking::OtlpEncoding::kProtobuf) {
    ok.content_type = "application/x-protobuf";  // an empty ExportTraceServiceResponse
  } else {
    ok.body = "{}";
  }
  return ok;
}

void AddTraceRoutes(RouteTable& routes) {
  using F = FieldType;
  routes.Add("/mlflow/traces", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString},
                                                               {"timestamp_ms", F::kInt64},
                                                               {"request_metadata", F::kObjectList},
                                                               {"tags", F::kObjectList}}));
               PLINTH_ASSIGN_OR_RETURN(auto metadata, Tags(m, "request_metadata"));
               PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
               PLINTH_ASSIGN_OR_RETURN(
                   tracking::TraceInfo t,
                   s.StartTrace(Str(m, "experiment_id"), m.value("timestamp_ms", int64_t{0}),
                                metadata, tags));
               return TraceInfoText(t);
             });
  routes.Add("/mlflow/traces", {"GET"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_ids", F::kStringList},
                                                               {"filter", F::kString},
                                                               {"max_results", F::kInt64},
                                                               {"order_by", F::kStringList},
                                                               {"page_token", F::kString}}));
               if (!m.contains("experiment_ids")) {
                 return InvalidArgument(
                     "Missing value for required parameter 'experiment_ids'. See the API docs "
                     "for more information about request parameters.");
               }
               tracking::TraceQuery q;
               q.experiment_ids = StrList(m, "experiment_ids");
               return SearchAnswer(s, m, std::move(q), ToJson);
             });
  // MLflow 3 (served under /api/2.0, as MLflow serves it).
  routes.Add("/mlflow/traces/link-to-run", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"trace_ids", F::kStringList},
                                                               {"run_id", F::kString, true}}));
               if (!m.contains("trace_ids")) {
                 return InvalidArgument(
                     "Missing value for required parameter 'trace_ids'. See the API docs for "
                     "more information about request parameters.");
               }
               PLINTH_RETURN_IF_ERROR(s.LinkTracesToRun(StrList(m, "trace_ids"), Str(m, "run_id")));
               return Json::object();
             });
  routes.Add("/mlflow/traces/link-prompts", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m,
                                       ReadMessage(r, {{"trace_id", F::kString, true},
                                                       {"prompt_versions", F::kObjectList, true}}));
               std::vector<tracking::PromptVersionRef> prompts;
               for (const Json& j : m.value("prompt_versions", Json::array())) {
                 PLINTH_ASSIGN_OR_RETURN(Json p, ReadFields(j, {{"name", F::kString, true},
                                                                {"version", F::kString, true}}));
                 prompts.push_back({Str(p, "name"), Str(p, "version")});
               }
               PLINTH_RETURN_IF_ERROR(s.LinkPromptsToTrace(Str(m, "trace_id"), prompts));
               return Json::object();
             });
  routes.Add("/mlflow/traces/delete-traces", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                               {"max_timestamp_millis", F::kInt64},
                                                               {"max_traces", F::kInt64},
                                                               {"request_ids", F::kStringList}}));
               tracking::TraceDeletion d;
               d.experiment_id = Str(m, "experiment_id");
               if (m.contains("max_timestamp_millis")) {
                 d.max_timestamp_millis = m["max_timestamp_millis"].get<int64_t>();
               }
               if (m.contains("max_traces")) {
                 d.max_traces = m["max_traces"].get<int64_t>();
               }
               d.request_ids = StrList(m, "request_ids");
               PLINTH_ASSIGN_OR_RETURN(int64_t n, s.DeleteTraces(d));
               return Json{{"traces_deleted", n}};
             });
  routes.AddTemplate(
      "/mlflow/traces/{request_id}", "PATCH",
      [](TrackingStore& s, const http::Request& r, const PathParams& p) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"timestamp_ms", F::kInt64},
                                                        {"status", F::kEnum},
                                                        {"request_metadata", F::kObjectList},
                                                        {"tags", F::kObjectList}}));
        PLINTH_ASSIGN_OR_RETURN(std::string status, StatusField(m));
        PLINTH_ASSIGN_OR_RETURN(auto metadata, Tags(m, "request_metadata"));
        PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
        PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo t,
                                s.EndTrace(p.at("request_id"), m.value("timestamp_ms", int64_t{0}),
                                           status, metadata, tags));
        return TraceInfoText(t);
      });
  routes.AddTemplate(
      "/mlflow/traces/{request_id}/info", "GET",
      [](TrackingStore& s, const http::Request&, const PathParams& p) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo t, s.GetTraceInfo(p.at("request_id")));
        return TraceInfoText(t);
      });
  routes.AddTemplate(
      "/mlflow/traces/{request_id}/tags", "PATCH",
      [](TrackingStore& s, const http::Request& r, const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m,
                                ReadMessage(r, {{"key", F::kString, true}, {"value", F::kString}}));
        PLINTH_RETURN_IF_ERROR(s.SetTraceTag(p.at("request_id"), {Str(m, "key"), Str(m, "value")}));
        return Json::object();
      });
  routes.AddTemplate(
      "/mlflow/traces/{request_id}/tags", "DELETE",
      [](TrackingStore& s, const http::Request& r, const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"key", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteTraceTag(p.at("request_id"), Str(m, "key")));
        return Json::object();
      });
  AddTraceV3Routes(routes);
}

namespace {

// An UpdateAssessment's update_mask: protobuf's FieldMask JSON ("assessmentName,feedback",
// lowerCamelCase) or {paths: [...]}, as snake_case paths.
Result<std::vector<std::string>> MaskPaths(const Json& m) {
  auto it = m.find("update_mask");
  if (it == m.end() || it->is_null()) {
    return InvalidArgument(
        "Missing value for required parameter 'update_mask'. See the API docs for more "
        "information about request parameters.");
  }
  std::vector<std::string> raw;
  if (it->is_string()) {
    const std::string text = it->get<std::string>();
    size_t at = 0;
    while (at <= text.size()) {
      const size_t comma = std::min(text.find(',', at), text.size());
      if (comma > at) {
        raw.push_back(text.substr(at, comma - at));
      }
      at = comma + 1;
    }
  } else if (it->is_object() && it->contains("paths") && (*it)["paths"].is_array()) {
    for (const Json& p : (*it)["paths"]) {
      if (!p.is_string()) {
        return InvalidArgument("update_mask.paths: expected strings");
      }
      raw.push_back(p.get<std::string>());
    }
  } else {
    return InvalidArgument("update_mask: expected field paths such as \"assessmentName,feedback\"");
  }
  std::vector<std::string> out;
  for (const std::string& p : raw) {
    std::string snake;
    for (char c : p) {
      if (std::isupper(static_cast<unsigned char>(c))) {
        snake += '_';
        snake += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else {
        snake += c;
      }
    }
    out.push_back(snake);
  }
  return out;
}

Result<tracking::AssessmentUpdate> UpdateOf(const Json& m) {
  auto it = m.find("assessment");
  if (it == m.end() || !it->is_object()) {
    return InvalidArgument(
        "Missing value for required parameter 'assessment'. See the API docs for more "
        "information about request parameters.");
  }
  const Json& a = *it;
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> paths, MaskPaths(m));
  tracking::AssessmentUpdate u;
  for (const std::string& path : paths) {
    if (path == "assessment_name") {
      u.name = Str(a, "assessment_name");
    } else if (path == "feedback" || path == "expectation") {
      if (!a.contains(path) || !a[path].is_object()) {
        return InvalidArgument("assessment." + path +
                               ": expected an object (update_mask names it)");
      }
      Json only = {{path, a[path]}};
      PLINTH_ASSIGN_OR_RETURN(tracking::Assessment value, tracking::AssessmentFromJson(only));
      u.value = std::move(value);
    } else if (path == "rationale") {
      u.rationale = Str(a, "rationale");
    } else if (path == "metadata") {
      std::vector<tracking::Tag> pairs;
      if (auto md = a.find("metadata"); md != a.end() && md->is_object()) {
        for (const auto& [k, v] : md->items()) {
          if (!v.is_string()) {
            return InvalidArgument("assessment.metadata." + k + ": expected a string");
          }
          pairs.push_back({k, v.get<std::string>()});
        }
      }
      u.metadata = std::move(pairs);
    } else if (path != "valid") {
      return InvalidArgument("update_mask: '" + path.substr(0, 60) +
                             "' is not a field an assessment update changes (assessment_name, "
                             "feedback, expectation, rationale, metadata)");
    }
  }
  return u;
}

// MLflow 3's trace routes under /api/3.0: StartTraceV3 (the client's trace id),
// GetTraceInfoV3, SearchTracesV3, GetTrace and BatchGetTraces (spans received over
// OTLP, /v1/traces), and the assessments of a trace.
void AddTraceV3Routes(RouteTable& routes) {
  using F = FieldType;
  auto answer = [](const tracking::TraceInfo& t) {
    return core::DumpJson(Json{{"trace", {{"trace_info", tracking::TraceInfoV3Json(t)}}}}, false);
  };
  routes.Add("/3.0/mlflow/traces", {"POST"},
             [answer](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_RETURN_IF_ERROR(ReadMessage(r, {}).status());  // content type, a JSON object
               PLINTH_ASSIGN_OR_RETURN(Json m, core::ParseJson(r.body, "request body"));
               auto trace = m.find("trace");
               if (trace == m.end() || !trace->is_object() || !trace->contains("trace_info")) {
                 return InvalidArgument(
                     "Missing value for required parameter 'trace'. See the API docs for more "
                     "information about request parameters.");
               }
               PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo info,
                                       tracking::TraceInfoFromV3Json((*trace)["trace_info"]));
               PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo stored, s.PutTrace(info));
               return answer(stored);
             });
  routes.AddTemplate(
      "/3.0/mlflow/traces/{trace_id}", "GET",
      [answer](TrackingStore& s, const http::Request&, const PathParams& p) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo t, s.GetTraceInfo(p.at("trace_id")));
        return answer(t);
      });
  routes.Add(
      "/3.0/mlflow/traces/search", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"locations", F::kObjectList},
                                                        {"filter", F::kString},
                                                        {"max_results", F::kInt64},
                                                        {"order_by", F::kStringList},
                                                        {"page_token", F::kString}}));
        tracking::TraceQuery q;
        for (const Json& loc : m.value("locations", Json::array())) {
          auto exp = loc.find("mlflow_experiment");
          if (exp != loc.end() && exp->is_object()) {
            auto id = exp->find("experiment_id");
            if (id == exp->end() || !id->is_string()) {
              return InvalidArgument(
                  "locations: expected {mlflow_experiment: {experiment_id: \"<id>\"}}, got " +
                  core::JsonPreview(loc, 60));
            }
            q.experiment_ids.push_back(id->get<std::string>());
          }
        }
        return SearchAnswer(s, m, std::move(q), tracking::TraceInfoV3Json);
      });
  routes.Add(
      "/3.0/mlflow/traces/get", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {{"trace_id", F::kString, true}, {"allow_partial", F::kBool}}));
        PLINTH_ASSIGN_OR_RETURN(tracking::Trace t,
                                s.GetTrace(Str(m, "trace_id"), m.value("allow_partial", false)));
        return core::DumpJson(Json{{"trace", tracking::TraceV3Json(t)}}, false);
      });
  routes.Add(
      "/3.0/mlflow/traces/batchGet", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"trace_ids", F::kStringList, true}}));
        PLINTH_ASSIGN_OR_RETURN(std::vector<tracking::Trace> traces,
                                s.BatchGetTraces(StrList(m, "trace_ids")));
        Json list = Json::array();
        for (const tracking::Trace& t : traces) {
          list.push_back(tracking::TraceV3Json(t));
        }
        Json out = Json::object();
        if (!list.empty()) {
          out["traces"] = std::move(list);
        }
        return core::DumpJson(out, false);
      });
  auto assessment_answer = [](const tracking::Assessment& a) {
    return core::DumpJson(Json{{"assessment", tracking::ToJson(a)}}, false);
  };
  routes.AddTemplate(
      "/3.0/mlflow/traces/{trace_id}/assessments", "POST",
      [assessment_answer](TrackingStore& s, const http::Request& r,
                          const PathParams& p) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadRawMessage(r));
        auto it = m.find("assessment");
        if (it == m.end() || !it->is_object()) {
          return InvalidArgument(
              "Missing value for required parameter 'assessment'. See the API docs for more "
              "information about request parameters.");
        }
        PLINTH_ASSIGN_OR_RETURN(tracking::Assessment a, tracking::AssessmentFromJson(*it));
        a.trace_id = p.at("trace_id");
        PLINTH_ASSIGN_OR_RETURN(tracking::Assessment created, s.CreateAssessment(a));
        return assessment_answer(created);
      });
  const std::string one = "/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}";
  routes.AddTemplate(one, "GET",
                     [assessment_answer](TrackingStore& s, const http::Request&,
                                         const PathParams& p) -> Result<std::string> {
                       PLINTH_ASSIGN_OR_RETURN(
                           tracking::Assessment a,
                           s.GetAssessment(p.at("trace_id"), p.at("assessment_id")));
                       return assessment_answer(a);
                     });
  routes.AddTemplate(one, "PATCH",
                     [assessment_answer](TrackingStore& s, const http::Request& r,
                                         const PathParams& p) -> Result<std::string> {
                       PLINTH_ASSIGN_OR_RETURN(Json m, ReadRawMessage(r));
                       PLINTH_ASSIGN_OR_RETURN(tracking::AssessmentUpdate u, UpdateOf(m));
                       PLINTH_ASSIGN_OR_RETURN(
                           tracking::Assessment a,
                           s.UpdateAssessment(p.at("trace_id"), p.at("assessment_id"), u));
                       return assessment_answer(a);
                     });
  routes.AddTemplate(
      one, "DELETE",
      [](TrackingStore& s, const http::Request&, const PathParams& p) -> Result<std::string> {
        PLINTH_RETURN_IF_ERROR(s.DeleteAssessment(p.at("trace_id"), p.at("assessment_id")));
        return std::string("{}");
      });
}

}  // namespace

}  // namespace plinth::server
