// Plinth's own routes: lineage edges and the registry's history.
#include "server/routes.h"

namespace plinth::server {

using tracking::TrackingStore;

void AddLineageRoutes(RouteTable& routes) {
  using F = FieldType;
  routes.Add("/plinth/v1/lineage", {"GET"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"id", F::kString, true}}));
               PLINTH_ASSIGN_OR_RETURN(auto edges, s.LineageOf(Str(m, "id")));
               Json list = Json::array();
               for (const auto& e : edges) {
                 list.push_back(ToJson(e));
               }
               return Json{{"edges", std::move(list)}};
             });
  routes.Add("/plinth/v1/lineage", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"src_kind", F::kString, true},
                                                               {"src_id", F::kString, true},
                                                               {"dst_kind", F::kString, true},
                                                               {"dst_id", F::kString, true},
                                                               {"relation", F::kString}}));
               PLINTH_RETURN_IF_ERROR(
                   s.AddLineage({Str(m, "src_kind"), Str(m, "src_id"), Str(m, "dst_kind"),
                                 Str(m, "dst_id"), Str(m, "relation"), 0}));
               return Json::object();
             });
  routes.AddRegistry(
      "/plinth/v1/registered-models/history", "GET",
      [](tracking::RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"name", F::kString, true}}));
        PLINTH_ASSIGN_OR_RETURN(auto events, s.History(Str(m, "name")));
        Json list = Json::array();
        for (const auto& e : events) {
          list.push_back(ToJson(e));
        }
        return Json{{"events", std::move(list)}};
      });
}

}  // namespace plinth::server
