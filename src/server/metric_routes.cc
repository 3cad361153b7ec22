// MLflow's metric history routes.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "server/routes.h"

namespace plinth::server {

using tracking::TrackingStore;

void AddMetricRoutes(RouteTable& routes) {
  using F = FieldType;
  // The UI's charts: one metric of several runs on a common set of steps, at most
  // max_results of them (sampled evenly; each run's first and last step always kept), as
  // MLflow 2.17's get_metric_history_bulk_interval_impl chooses them.
  routes.Add(
      "/mlflow/metrics/get-history-bulk-interval", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        constexpr int64_t kMaxRuns = 100;
        constexpr int64_t kMaxResultsPerRun = 2500;
        constexpr size_t kMaxPoints = 25000;
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_ids", F::kStringList, true},
                                                        {"metric_key", F::kString, true},
                                                        {"start_step", F::kInt64},
                                                        {"end_step", F::kInt64},
                                                        {"max_results", F::kInt64}}));
        const std::vector<std::string> ids = StrList(m, "run_ids");
        if (static_cast<int64_t>(ids.size()) > kMaxRuns) {
          return InvalidArgument("GetMetricHistoryBulkInterval request must specify at most " +
                                 std::to_string(kMaxRuns) + " run_ids. Received " +
                                 std::to_string(ids.size()) + " run_ids.");
        }
        const int64_t max = m.value("max_results", kMaxResultsPerRun);
        if (max < 1 || max > kMaxResultsPerRun) {
          return InvalidArgument("max_results must be between 1 and " +
                                 std::to_string(kMaxResultsPerRun) + ".");
        }
        const bool has_start = m.contains("start_step");
        if (has_start != m.contains("end_step")) {
          return InvalidArgument(
              "If either start step or end step are specified, both must be specified.");
        }
        int64_t start = has_start ? m["start_step"].get<int64_t>() : 0;
        int64_t end = has_start ? m["end_step"].get<int64_t>() : 0;
        if (has_start && start > end) {
          return InvalidArgument("end_step must be greater than start_step. Found start_step=" +
                                 std::to_string(start) + " and end_step=" + std::to_string(end) +
                                 ".");
        }
        const std::string key = Str(m, "metric_key");
        std::vector<std::vector<tracking::Metric>> runs;
        std::set<int64_t> steps_seen;
        std::set<int64_t> ends;  // each run's first and last step
        for (const std::string& id : ids) {
          PLINTH_ASSIGN_OR_RETURN(auto page, s.GetMetricHistory(id, key, 0, ""));
          if (!page.items.empty()) {
            auto [lo, hi] =
                std::minmax_element(page.items.begin(), page.items.end(),
                                    [](const tracking::Metric& a, const tracking::Metric& b) {
                                      return a.step < b.step;
                                    });
            ends.insert(lo->step);
            ends.insert(hi->step);
          }
          for (const auto& p : page.items) {
            steps_seen.insert(p.step);
          }
          runs.push_back(std::move(page.items));
        }
        const std::vector<int64_t> all(steps_seen.begin(), steps_seen.end());
        if (!has_start) {
          end = all.empty() ? 0 : all.back();
        }
        // Python's bisect over the sorted steps, then every interval-th one and the last.
        const auto first = std::lower_bound(all.begin(), all.end(), start) - all.begin();
        const auto last = std::upper_bound(all.begin(), all.end(), end) - all.begin();
        std::set<int64_t> sampled;
        const int64_t count = last - first;
        if (count <= max) {
          sampled.insert(all.begin() + first, all.begin() + last);
        } else {
          const double interval = static_cast<double>(count) / static_cast<double>(max);
          for (int64_t i = 0; i < max; ++i) {
            const auto at = first + static_cast<int64_t>(static_cast<double>(i) * interval);
            if (at < count) {  // as MLflow compares: an index against the count
              sampled.insert(all[static_cast<size_t>(at)]);
            }
          }
          sampled.insert(all[static_cast<size_t>(last - 1)]);
        }
        for (int64_t step : ends) {
          if (start <= step && step <= end) {
            sampled.insert(step);
          }
        }
        std::string out;
        core::JsonWriter w(&out);
        w.BeginObject();
        bool any = false;
        for (size_t k = 0; k < ids.size(); ++k) {
          std::vector<tracking::Metric> pts;
          for (const auto& p : runs[k]) {
            if (sampled.count(p.step) != 0) {
              pts.push_back(p);
            }
          }
          std::stable_sort(pts.begin(), pts.end(),
                           [](const tracking::Metric& a, const tracking::Metric& b) {
                             return std::tie(a.step, a.timestamp, a.value) <
                                    std::tie(b.step, b.timestamp, b.value);
                           });
          pts.resize(std::min(pts.size(), kMaxPoints));
          for (const auto& p : pts) {
            if (!any) {
              w.Key("metrics").BeginArray();
              any = true;
            }
            WriteJson(w, p, ids[k]);
          }
        }
        if (any) {
          w.EndArray();
        }
        w.EndObject();
        return out;
      });
  // Every point of one metric of several runs (the UI's comparison charts): by run id, then
  // timestamp, step and value, at most max_results (25,000) in all, as MLflow answers it.
  routes.Add(
      "/mlflow/metrics/get-history-bulk", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        constexpr int64_t kMaxResults = 25000;
        constexpr size_t kMaxRuns = 100;
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kStringList},
                                                        {"metric_key", F::kString},
                                                        {"max_results", F::kInt64}}));
        std::vector<std::string> ids = StrList(m, "run_id");
        if (ids.empty()) {
          return InvalidArgument("GetMetricHistoryBulk request must specify at least one run_id.");
        }
        if (ids.size() > kMaxRuns) {
          return InvalidArgument("GetMetricHistoryBulk request cannot specify more than " +
                                 std::to_string(kMaxRuns) + " run_ids. Received " +
                                 std::to_string(ids.size()) + " run_ids.");
        }
        if (!m.contains("metric_key")) {
          return InvalidArgument("GetMetricHistoryBulk request must specify a metric_key.");
        }
        const int64_t max = std::min(m.value("max_results", kMaxResults), kMaxResults);
        std::sort(ids.begin(), ids.end());
        std::string out;
        core::JsonWriter w(&out);
        w.BeginObject();
        w.Key("metrics").BeginArray();
        int64_t written = 0;
        for (const std::string& id : ids) {
          PLINTH_ASSIGN_OR_RETURN(auto page, s.GetMetricHistory(id, Str(m, "metric_key"), 0, ""));
          std::stable_sort(page.items.begin(), page.items.end(),
                           [](const tracking::Metric& a, const tracking::Metric& b) {
                             return std::tie(a.timestamp, a.step, a.value) <
                                    std::tie(b.timestamp, b.step, b.value);
                           });
          for (const auto& p : page.items) {
            if (written >= max) {
              break;
            }
            WriteJson(w, p, id);
            ++written;
          }
        }
        w.EndArray();
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
