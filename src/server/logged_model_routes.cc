// MLflow 3's logged models: create, get, finalize, delete, tags, params, search
// (service.proto's LoggedModel rpcs, served under /api/2.0 as MLflow serves them).
#include "server/routes.h"

namespace plinth::server {
namespace {

using tracking::TrackingStore;

// A list of {key, value} objects as params.
Result<std::vector<tracking::Param>> Params(const Json& m, const char* key) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<tracking::Tag> pairs, Tags(m, key));
  std::vector<tracking::Param> out;
  out.reserve(pairs.size());
  for (tracking::Tag& p : pairs) {
    out.push_back({std::move(p.key), std::move(p.value)});
  }
  return out;
}

Status Required(const Json& m, const char* key) {
  if (!m.contains(key)) {
    return InvalidArgument("Missing value for required parameter '" + std::string(key) +
                           "'. See the API docs for more information about request parameters.");
  }
  return Status::Ok();
}

}  // namespace

void AddLoggedModelRoutes(RouteTable& routes) {
  using F = FieldType;
  routes.Add("/mlflow/logged-models", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                               {"name", F::kString},
                                                               {"model_type", F::kString},
                                                               {"source_run_id", F::kString},
                                                               {"params", F::kObjectList},
                                                               {"tags", F::kObjectList}}));
               tracking::NewLoggedModel n;
               n.experiment_id = Str(m, "experiment_id");
               n.name = Str(m, "name");
               n.model_type = Str(m, "model_type");
               n.source_run_id = Str(m, "source_run_id");
               PLINTH_ASSIGN_OR_RETURN(n.params, Params(m, "params"));
               PLINTH_ASSIGN_OR_RETURN(n.tags, Tags(m, "tags"));
               PLINTH_ASSIGN_OR_RETURN(tracking::LoggedModel model, s.CreateLoggedModel(n));
               return MemberText("model", model);
             });
  routes.Add("/mlflow/logged-models/search", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_ids", F::kStringList},
                                                               {"filter", F::kString},
                                                               {"datasets", F::kObjectList},
                                                               {"max_results", F::kInt64},
                                                               {"order_by", F::kObjectList},
                                                               {"page_token", F::kString}}));
               tracking::LoggedModelQuery q;
               q.experiment_ids = StrList(m, "experiment_ids");
               q.filter = Str(m, "filter");
               for (const Json& j : m.value("datasets", Json::array())) {
                 PLINTH_ASSIGN_OR_RETURN(Json d, ReadFields(j, {{"dataset_name", F::kString},
                                                                {"dataset_digest", F::kString}}));
                 q.datasets.emplace_back(Str(d, "dataset_name"), Str(d, "dataset_digest"));
               }
               q.max_results = m.value("max_results", int64_t{50});
               for (const Json& j : m.value("order_by", Json::array())) {
                 PLINTH_ASSIGN_OR_RETURN(Json o, ReadFields(j, {{"field_name", F::kString, true},
                                                                {"ascending", F::kBool},
                                                                {"dataset_name", F::kString},
                                                                {"dataset_digest", F::kString}}));
                 q.order_by.push_back({Str(o, "field_name"), o.value("ascending", true),
                                       Str(o, "dataset_name"), Str(o, "dataset_digest")});
               }
               q.page_token = Str(m, "page_token");
               PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchLoggedModels(q));
               return PageText("models", page);
             });
  routes.AddTemplate(
      "/mlflow/logged-models/{model_id}", "GET",
      [](TrackingStore& s, const http::Request& r, const PathParams& p) -> Result<std::string> {
        const std::string allow = r.Query("allow_deleted").value_or("");
        const bool deleted = allow == "true" || allow == "True" || allow == "TRUE";
        PLINTH_ASSIGN_OR_RETURN(tracking::LoggedModel model,
                                s.GetLoggedModel(p.at("model_id"), deleted));
        return MemberText("model", model);
      });
  // Finalize: MLflow's handler takes the model from the body's model_id.
  routes.AddTemplate(
      "/mlflow/logged-models/{model_id}", "PATCH",
      [](TrackingStore& s, const http::Request& r, const PathParams&) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {{"model_id", F::kString, true}, {"status", F::kEnum}}));
        PLINTH_RETURN_IF_ERROR(Required(m, "status"));
        const Json& v = m["status"];
        PLINTH_ASSIGN_OR_RETURN(
            tracking::LoggedModelStatus status,
            tracking::ParseLoggedModelStatus(v.is_string() ? v.get<std::string>() : v.dump()));
        PLINTH_ASSIGN_OR_RETURN(tracking::LoggedModel model,
                                s.FinalizeLoggedModel(Str(m, "model_id"), status));
        return MemberText("model", model);
      });
  routes.AddTemplate(
      "/mlflow/logged-models/{model_id}", "DELETE",
      [](TrackingStore& s, const http::Request&, const PathParams& p) -> Result<Json> {
        PLINTH_RETURN_IF_ERROR(s.DeleteLoggedModel(p.at("model_id")));
        return Json::object();
      });
  routes.AddTemplate(
      "/mlflow/logged-models/{model_id}/tags", "PATCH",
      [](TrackingStore& s, const http::Request& r, const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {{"model_id", F::kString}, {"tags", F::kObjectList}}));
        PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
        PLINTH_RETURN_IF_ERROR(s.SetLoggedModelTags(p.at("model_id"), tags));
        return Json::object();
      });
  routes.AddTemplate(
      "/mlflow/logged-models/{model_id}/tags/{tag_key}", "DELETE",
      [](TrackingStore& s, const http::Request&, const PathParams& p) -> Result<Json> {
        PLINTH_RETURN_IF_ERROR(s.DeleteLoggedModelTag(p.at("model_id"), p.at("tag_key")));
        return Json::object();
      });
  routes.AddTemplate(
      "/mlflow/logged-models/{model_id}/params", "POST",
      [](TrackingStore& s, const http::Request& r, const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {{"model_id", F::kString, true}, {"params", F::kObjectList}}));
        PLINTH_ASSIGN_OR_RETURN(auto params, Params(m, "params"));
        PLINTH_RETURN_IF_ERROR(s.LogLoggedModelParams(p.at("model_id"), params));
        return Json::object();
      });
}

}  // namespace plinth::server
