// MLflow's metric history routes.
#include <algorithm>
#include <map>

#include "server/routes.h"

namespace plinth::server {

using tracking::TrackingStore;

void AddMetricRoutes(RouteTable& routes) {
  using F = FieldType;
  // The UI's charts: one metric of several runs, sampled to at most max_results
  // points per run (the first and last step always kept).
  routes.Add("/mlflow/metrics/get-history-bulk-interval", {"GET"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_ids", F::kStringList, true},
                                                               {"metric_key", F::kString, true},
                                                               {"start_step", F::kInt64},
                                                               {"end_step", F::kInt64},
                                                               {"max_results", F::kInt64}}));
               std::vector<std::string> ids = StrList(m, "run_ids");
               if (ids.size() > 100) {
                 return InvalidArgument(
                     "GetMetricHistoryBulkInterval request must specify at most 100 "
                     "run_ids. Received " +
                     std::to_string(ids.size()) + " run_ids.");
               }
               if (m.contains("start_step") != m.contains("end_step")) {
                 return InvalidArgument(
                     "If either start step or end step are specified, both must be "
                     "specified.");
               }
               const int64_t max = m.value("max_results", int64_t{320});
               if (max <= 0 || max > 1000) {
                 return InvalidArgument("max_results must be between 1 and 1000, got " +
                                        std::to_string(max));
               }
               std::sort(ids.begin(), ids.end());
               std::string out;
               core::JsonWriter w(&out);
               w.BeginObject();
               bool any = false;
               for (const std::string& id : ids) {
                 PLINTH_ASSIGN_OR_RETURN(auto page,
                                         s.GetMetricHistory(id, Str(m, "metric_key"), 0, ""));
                 std::vector<tracking::Metric> pts;
                 for (const auto& p : page.items) {
                   if (!m.contains("start_step") || (p.step >= m["start_step"].get<int64_t>() &&
                                                     p.step <= m["end_step"].get<int64_t>())) {
                     pts.push_back(p);
                   }
                 }
                 const size_t n = pts.size();
                 const size_t keep = std::min(n, static_cast<size_t>(max));
                 for (size_t i = 0; i < keep; ++i) {
                   size_t at = keep <= 1 ? 0 : i * (n - 1) / (keep - 1);
                   if (!any) {
                     w.Key("metrics").BeginArray();
                     any = true;
                   }
                   WriteJson(w, pts[at], id);
                 }
               }
               if (any) {
                 w.EndArray();
               }
               w.EndObject();
               return out;
             });
  routes.Add("/mlflow/metrics/get-history", {"GET"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                               {"run_uuid", F::kString},
                                                               {"metric_key", F::kString, true},
                                                               {"page_token", F::kString},
                                                               {"max_results", F::kInt64}}));
               PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
               PLINTH_ASSIGN_OR_RETURN(
                   auto page,
                   s.GetMetricHistory(id, Str(m, "metric_key"), m.value("max_results", int64_t{0}),
                                      Str(m, "page_token")));
               return PageText("metrics", page);
             });
}

}  // namespace plinth::server
