// MLflow's model registry routes.
#include "server/routes.h"
#include "tracking/model_uri.h"

namespace plinth::server {

void AddRegistryRoutes(RouteTable& routes) {
  using F = FieldType;
  using tracking::RegistryStore;
  const std::string rm = "/mlflow/registered-models/";
  const std::string mv = "/mlflow/model-versions/";
  auto model = [](Result<tracking::RegisteredModel> m) -> Result<Json> {
    PLINTH_RETURN_IF_ERROR(m.status());
    return Json{{"registered_model", ToJson(*m)}};
  };
  auto version = [](Result<tracking::ModelVersion> v) -> Result<Json> {
    PLINTH_RETURN_IF_ERROR(v.status());
    return Json{{"model_version", ToJson(*v)}};
  };
  const Field name = {"name", F::kString, true};
  const Field ver = {"version", F::kString, true};

  routes.AddRegistry(
      rm + "create", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {name, {"tags", F::kObjectList}, {"description", F::kString}}));
        PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
        return model(s.CreateRegisteredModel(Str(m, "name"), tags, Str(m, "description")));
      });
  routes.AddRegistry(rm + "get", "GET",
                     [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                       PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name}));
                       return model(s.GetRegisteredModel(Str(m, "name")));
                     });
  routes.AddRegistry(
      rm + "rename", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"new_name", F::kString, true}}));
        return model(s.RenameRegisteredModel(Str(m, "name"), Str(m, "new_name")));
      });
  routes.AddRegistry(
      rm + "update", "PATCH", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"description", F::kString}}));
        return model(s.UpdateRegisteredModel(Str(m, "name"), Str(m, "description")));
      });
  routes.AddRegistry(rm + "delete", "DELETE",
                     [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                       PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name}));
                       PLINTH_RETURN_IF_ERROR(s.DeleteRegisteredModel(Str(m, "name")));
                       return Json::object();
                     });
  routes.AddRegistry(rm + "search", "GET",
                     [=](RegistryStore& s, const http::Request& r) -> Result<std::string> {
                       PLINTH_ASSIGN_OR_RETURN(tracking::ModelQuery q, ReadModelQuery(r, 100));
                       PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchRegisteredModels(q));
                       return PageText("registered_models", page);
                     });
  for (const char* method : {"GET", "POST"}) {
    routes.AddRegistry(
        rm + "get-latest-versions", method,
        [=](RegistryStore& s, const http::Request& r) -> Result<std::string> {
          PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"stages", F::kStringList}}));
          PLINTH_ASSIGN_OR_RETURN(auto versions,
                                  s.GetLatestVersions(Str(m, "name"), StrList(m, "stages")));
          return PageText("model_versions",
                          tracking::Page<tracking::ModelVersion>{std::move(versions), ""});
        });
  }
  routes.AddRegistry(
      rm + "set-tag", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {name, {"key", F::kString, true}, {"value", F::kString}}));
        PLINTH_RETURN_IF_ERROR(
            s.SetRegisteredModelTag(Str(m, "name"), {Str(m, "key"), Str(m, "value")}));
        return Json::object();
      });
  routes.AddRegistry(
      rm + "delete-tag", "DELETE", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"key", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteRegisteredModelTag(Str(m, "name"), Str(m, "key")));
        return Json::object();
      });
  routes.AddRegistry(
      rm + "alias", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"alias", F::kString, true}, ver}));
        PLINTH_RETURN_IF_ERROR(s.SetAlias(Str(m, "name"), Str(m, "alias"), Str(m, "version"),
                                          std::string(r.Header("x-plinth-user"))));
        return Json::object();
      });
  routes.AddRegistry(
      rm + "alias", "DELETE", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"alias", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(
            s.DeleteAlias(Str(m, "name"), Str(m, "alias"), std::string(r.Header("x-plinth-user"))));
        return Json::object();
      });
  routes.AddRegistry(
      rm + "alias", "GET", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"alias", F::kString, true}}));
        return version(s.GetModelVersionByAlias(Str(m, "name"), Str(m, "alias")));
      });

  routes.AddService(
      mv + "create", "POST",
      [=](tracking::Service::Lease& stores, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name,
                                                        {"source", F::kString, true},
                                                        {"run_id", F::kString},
                                                        {"tags", F::kObjectList},
                                                        {"run_link", F::kString},
                                                        {"description", F::kString},
                                                        {"model_id", F::kString}}));
        tracking::NewModelVersion v;
        v.name = Str(m, "name");
        v.source = Str(m, "source");
        v.run_id = Str(m, "run_id");
        PLINTH_ASSIGN_OR_RETURN(v.tags, Tags(m, "tags"));
        v.run_link = Str(m, "run_link");
        v.description = Str(m, "description");
        // MLflow 3's prompts are versions with a placeholder source ("dummy-source").
        PLINTH_RETURN_IF_ERROR(
            tracking::IsPromptVersion(v.tags)
                ? tracking::ValidatePromptSource(v.source)
                : tracking::ValidateModelVersionSource(v.source, v.run_id, stores.tracking()));
        // MLflow 3: source models:/<model_id> names a logged model; its files are the
        // version's, and its run the version's run unless one is given.
        std::string model_id = Str(m, "model_id");
        const std::string_view rest = std::string_view(v.source).substr(
            v.source.starts_with("models:/") ? 8 : v.source.size());
        if (tracking::IsLoggedModelId(rest)) {
          Result<tracking::LoggedModel> logged =
              stores.tracking().GetLoggedModel(std::string(rest), false);
          if (!logged.ok()) {
            return InvalidArgument(
                "Unable to fetch model from model URI source artifact location '" + v.source +
                "'. Error: " + logged.status().message());
          }
          v.storage_location = logged->artifact_uri;
          if (v.run_id.empty()) {
            v.run_id = logged->source_run_id;
          }
          if (model_id.empty()) {
            model_id = logged->model_id;
          }
        } else if (!model_id.empty()) {
          // Checked before the version is made: never half-registered.
          PLINTH_RETURN_IF_ERROR(stores.tracking().GetLoggedModel(model_id, true).status());
        }
        PLINTH_ASSIGN_OR_RETURN(tracking::ModelVersion created,
                                stores.registry().CreateModelVersion(v));
        if (!model_id.empty()) {
          PLINTH_RETURN_IF_ERROR(
              tracking::RecordRegistration(stores.tracking(), model_id, created));
        }
        return version(created);
      });
  routes.AddRegistry(mv + "get", "GET",
                     [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                       PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver}));
                       return version(s.GetModelVersion(Str(m, "name"), Str(m, "version")));
                     });
  routes.AddRegistry(
      mv + "update", "PATCH", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver, {"description", F::kString}}));
        return version(
            s.UpdateModelVersion(Str(m, "name"), Str(m, "version"), Str(m, "description")));
      });
  routes.AddRegistry(
      mv + "transition-stage", "POST",
      [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m,
                                ReadMessage(r, {name,
                                                ver,
                                                {"stage", F::kString, true},
                                                {"archive_existing_versions", F::kBool, true}}));
        return version(s.TransitionStage(Str(m, "name"), Str(m, "version"), Str(m, "stage"),
                                         m["archive_existing_versions"].get<bool>(),
                                         std::string(r.Header("x-plinth-user"))));
      });
  routes.AddRegistry(
      mv + "delete", "DELETE", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver}));
        PLINTH_RETURN_IF_ERROR(s.DeleteModelVersion(Str(m, "name"), Str(m, "version")));
        return Json::object();
      });
  routes.AddRegistry(mv + "search", "GET",
                     [=](RegistryStore& s, const http::Request& r) -> Result<std::string> {
                       PLINTH_ASSIGN_OR_RETURN(tracking::ModelQuery q, ReadModelQuery(r, 200000));
                       PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchModelVersions(q));
                       return PageText("model_versions", page);
                     });
  routes.AddRegistry(mv + "get-download-uri", "GET",
                     [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                       PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver}));
                       PLINTH_ASSIGN_OR_RETURN(
                           auto v, s.GetModelVersion(Str(m, "name"), Str(m, "version")));
                       return Json{{"artifact_uri", v.storage_location}};
                     });
  routes.AddRegistry(
      mv + "set-tag", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {name, ver, {"key", F::kString, true}, {"value", F::kString}}));
        PLINTH_RETURN_IF_ERROR(s.SetModelVersionTag(Str(m, "name"), Str(m, "version"),
                                                    {Str(m, "key"), Str(m, "value")}));
        return Json::object();
      });
  routes.AddRegistry(
      mv + "delete-tag", "DELETE", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver, {"key", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(
            s.DeleteModelVersionTag(Str(m, "name"), Str(m, "version"), Str(m, "key")));
        return Json::object();
      });
}

}  // namespace plinth::server
