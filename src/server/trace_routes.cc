// MLflow's v2 trace routes: start, end, get info, search, delete, tags
// (service.proto's StartTrace ... DeleteTraceTag). A trace's spans are the
// client's: traces.json under its mlflow.artifactLocation (get-trace-artifact,
// artifact_routes.cc).
#include "server/routes.h"

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

// MLflow 3's trace routes under /api/3.0: StartTraceV3 (the client's trace id),
// GetTraceInfoV3 and SearchTracesV3, with TraceInfoV3's JSON. Spans stay the client's
// (traces.json, as for v2): traces/get and batchGet are not served, so a 3.x client
// reads traces.json, as it does for a trace without the spansLocation tag.
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
}

}  // namespace

}  // namespace plinth::server
