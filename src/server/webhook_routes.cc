// MLflow 3's webhook routes (mlflow/protos/webhooks.proto: create, list, get, update,
// delete, test) and the registry events the registry routes fire (server/webhooks.h).
#include "core/clock.h"
#include "server/routes.h"
#include "server/webhooks.h"

namespace plinth::server {
namespace {

using tracking::Webhook;
using tracking::WebhookEvent;

Json WebhookJson(const Webhook& w) {
  Json events = Json::array();
  for (const WebhookEvent& e : w.events) {
    events.push_back({{"entity", e.entity}, {"action", e.action}});
  }
  Json j = {{"webhook_id", w.webhook_id}, {"name", w.name}};
  if (!w.description.empty()) {
    j["description"] = w.description;
  }
  j["url"] = w.url;
  j["events"] = std::move(events);
  j["status"] = w.status;
  j["creation_timestamp"] = w.creation_timestamp;
  j["last_updated_timestamp"] = w.last_updated_timestamp;
  return j;  // never the secret
}

Result<std::vector<WebhookEvent>> Events(const Json& m) {
  std::vector<WebhookEvent> out;
  if (!m.contains("events") || m["events"].is_null()) {
    return out;
  }
  if (!m["events"].is_array()) {
    return InvalidArgument("Invalid value for parameter 'events': expected a list of events");
  }
  for (const Json& e : m["events"]) {
    PLINTH_ASSIGN_OR_RETURN(WebhookEvent event, ReadWebhookEvent(e));
    out.push_back(std::move(event));
  }
  return out;
}

Result<std::string> StatusField(const Json& m) {
  std::string s = Str(m, "status");
  if (!s.empty() && s != "ACTIVE" && s != "DISABLED") {
    if (s == "1") {
      return std::string("ACTIVE");
    }
    if (s == "2") {
      return std::string("DISABLED");
    }
    return InvalidArgument("Invalid webhook status '" + s + "' (expected ACTIVE or DISABLED)");
  }
  return s;
}

// The string fields a webhook request may carry, read as text (a number as its digits).
Result<Json> WebhookMessage(const http::Request& r) {
  using F = FieldType;
  PLINTH_ASSIGN_OR_RETURN(Json raw, ReadRawMessage(r));
  PLINTH_ASSIGN_OR_RETURN(Json m, ReadFields(raw, {{"name", F::kString},
                                                   {"url", F::kString},
                                                   {"description", F::kString},
                                                   {"secret", F::kString},
                                                   {"status", F::kEnum}}));
  if (raw.contains("events")) {
    m["events"] = raw["events"];
  }
  if (raw.contains("event")) {
    m["event"] = raw["event"];
  }
  if (m.contains("status") && m["status"].is_number_integer()) {
    m["status"] = std::to_string(m["status"].get<int64_t>());
  }
  return m;
}

Status Required(const Json& m, const char* field) {
  bool empty = !m.contains(field) || m[field].is_null() ||
               (m[field].is_string() && m[field].get<std::string>().empty()) ||
               (m[field].is_array() && m[field].empty() && std::string(field) != "events");
  if (empty) {
    return InvalidArgument(std::string("Missing value for required parameter '") + field +
                           "'. See the API docs for more information about request parameters.");
  }
  return Status::Ok();
}

}  // namespace

void AddWebhookRoutes(RouteTable& routes, const WebhookSender& sender) {
  const WebhookSender* out = &sender;
  routes.AddService(
      "/mlflow/webhooks", "POST",
      [out](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, WebhookMessage(r));
        for (const char* field : {"name", "url", "events"}) {
          PLINTH_RETURN_IF_ERROR(Required(m, field));
        }
        PLINTH_ASSIGN_OR_RETURN(std::vector<WebhookEvent> events, Events(m));
        PLINTH_RETURN_IF_ERROR(CheckWebhookName(Str(m, "name")));
        PLINTH_RETURN_IF_ERROR(CheckWebhookUrl(Str(m, "url"), out->policy()).status());
        if (events.empty()) {
          return InvalidArgument(
              "Webhook events must be a non-empty list of WebhookEvent objects: [].");
        }
        PLINTH_ASSIGN_OR_RETURN(std::string status, StatusField(m));
        Webhook w;
        w.webhook_id = NewUuid();
        w.name = Str(m, "name");
        w.description = Str(m, "description");
        w.url = Str(m, "url");
        w.events = std::move(events);
        w.status = status.empty() ? "ACTIVE" : status;
        w.secret = Str(m, "secret");
        w.creation_timestamp = w.last_updated_timestamp = core::SystemClock().NowMicros() / 1000;
        PLINTH_ASSIGN_OR_RETURN(tracking::WebhookStore * store, s.webhooks());
        PLINTH_RETURN_IF_ERROR(store->CreateWebhook(w));
        return Json{{"webhook", WebhookJson(w)}};
      });
  routes.AddService(
      "/mlflow/webhooks", "GET",
      [](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"max_results", FieldType::kInt64},
                                                        {"page_token", FieldType::kString}}));
        int64_t max_results = m.value("max_results", int64_t{0});
        if (max_results == 0) {
          max_results = 100;
        }
        if (max_results < 1 || max_results > 1000) {
          return InvalidArgument("max_results must be between 1 and 1000.");
        }
        PLINTH_ASSIGN_OR_RETURN(tracking::WebhookStore * store, s.webhooks());
        PLINTH_ASSIGN_OR_RETURN(tracking::Page<Webhook> page,
                                store->ListWebhooks(max_results, Str(m, "page_token")));
        Json j = Json::object();
        if (!page.items.empty()) {
          j["webhooks"] = Json::array();
          for (const Webhook& w : page.items) {
            j["webhooks"].push_back(WebhookJson(w));
          }
        }
        if (!page.next_page_token.empty()) {
          j["next_page_token"] = page.next_page_token;
        }
        return j;
      });
  routes.AddServiceTemplate(
      "/mlflow/webhooks/{webhook_id}", "GET",
      [](tracking::Service::Lease& s, const http::Request&, const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(tracking::WebhookStore * store, s.webhooks());
        PLINTH_ASSIGN_OR_RETURN(Webhook w, store->GetWebhook(p.at("webhook_id")));
        return Json{{"webhook", WebhookJson(w)}};
      });
  routes.AddServiceTemplate(
      "/mlflow/webhooks/{webhook_id}", "PATCH",
      [out](tracking::Service::Lease& s, const http::Request& r,
            const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(tracking::WebhookStore * store, s.webhooks());
        PLINTH_RETURN_IF_ERROR(store->GetWebhook(p.at("webhook_id")).status());
        PLINTH_ASSIGN_OR_RETURN(Json m, WebhookMessage(r));
        PLINTH_ASSIGN_OR_RETURN(std::vector<WebhookEvent> events, Events(m));
        tracking::WebhookUpdate u;
        // As MLflow: an empty string or list changes nothing.
        if (!Str(m, "name").empty()) {
          PLINTH_RETURN_IF_ERROR(CheckWebhookName(Str(m, "name")));
          u.name = Str(m, "name");
        }
        if (!Str(m, "url").empty()) {
          PLINTH_RETURN_IF_ERROR(CheckWebhookUrl(Str(m, "url"), out->policy()).status());
          u.url = Str(m, "url");
        }
        if (!Str(m, "description").empty()) {
          u.description = Str(m, "description");
        }
        if (!Str(m, "secret").empty()) {
          u.secret = Str(m, "secret");
        }
        if (!events.empty()) {
          u.events = std::move(events);
        }
        PLINTH_ASSIGN_OR_RETURN(std::string status, StatusField(m));
        if (!status.empty()) {  // an absent status keeps it (MLflow would re-activate)
          u.status = status;
        }
        PLINTH_ASSIGN_OR_RETURN(
            Webhook w,
            store->UpdateWebhook(p.at("webhook_id"), u, core::SystemClock().NowMicros() / 1000));
        return Json{{"webhook", WebhookJson(w)}};
      });
  routes.AddServiceTemplate(
      "/mlflow/webhooks/{webhook_id}", "DELETE",
      [](tracking::Service::Lease& s, const http::Request&, const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(tracking::WebhookStore * store, s.webhooks());
        PLINTH_RETURN_IF_ERROR(
            store->DeleteWebhook(p.at("webhook_id"), core::SystemClock().NowMicros() / 1000));
        return Json::object();
      });
  routes.AddServiceTemplate(
      "/mlflow/webhooks/{webhook_id}/test", "POST",
      [out](tracking::Service::Lease& s, const http::Request& r,
            const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, WebhookMessage(r));
        std::optional<WebhookEvent> event;
        if (m.contains("event") && !m["event"].is_null()) {
          PLINTH_ASSIGN_OR_RETURN(event, ReadWebhookEvent(m["event"]));
        }
        PLINTH_ASSIGN_OR_RETURN(tracking::WebhookStore * store, s.webhooks());
        PLINTH_ASSIGN_OR_RETURN(Webhook w, store->GetWebhook(p.at("webhook_id")));
        return Json{{"result", out->Test(w, event.value_or(w.events.front()))}};
      });
}

void FireRegistryEvents(WebhookSender& sender, tracking::Service::Lease& stores,
                        const http::Request& r, std::string_view rest, const std::string& answer) {
  struct Kind {
    std::string_view method;
    std::string_view path;
    const char* entity;  // "" for the prompt-only events
    const char* prompt_entity;
    const char* action;
  };
  static constexpr Kind kKinds[] = {
      {"POST", "/mlflow/registered-models/create", "REGISTERED_MODEL", "PROMPT", "CREATED"},
      {"POST", "/mlflow/model-versions/create", "MODEL_VERSION", "PROMPT_VERSION", "CREATED"},
      {"POST", "/mlflow/model-versions/set-tag", "MODEL_VERSION_TAG", "PROMPT_VERSION_TAG", "SET"},
      {"DELETE", "/mlflow/model-versions/delete-tag", "MODEL_VERSION_TAG", "PROMPT_VERSION_TAG",
       "DELETED"},
      {"POST", "/mlflow/registered-models/alias", "MODEL_VERSION_ALIAS", "PROMPT_ALIAS", "CREATED"},
      {"DELETE", "/mlflow/registered-models/alias", "MODEL_VERSION_ALIAS", "PROMPT_ALIAS",
       "DELETED"},
      {"POST", "/mlflow/registered-models/set-tag", "", "PROMPT_TAG", "SET"},
      {"DELETE", "/mlflow/registered-models/delete-tag", "", "PROMPT_TAG", "DELETED"},
  };
  const Kind* kind = nullptr;
  for (const Kind& k : kKinds) {
    if (k.method == r.method && k.path == rest) {
      kind = &k;
    }
  }
  if (kind == nullptr) {
    return;
  }
  Result<Json> m = ReadRawMessage(r);
  if (!m.ok()) {
    return;
  }
  auto text = [&](const char* key) {
    return m->contains(key) && (*m)[key].is_string() ? (*m)[key].get<std::string>() : std::string();
  };
  Json tags = Json::object();
  bool tagged_prompt = false;
  if (m->contains("tags") && (*m)["tags"].is_array()) {
    for (const Json& t : (*m)["tags"]) {
      if (t.is_object() && t.contains("key") && t["key"].is_string()) {
        std::string key = t["key"].get<std::string>();
        tagged_prompt |= key == "mlflow.prompt.is_prompt";
        tags[key] = t.contains("value") && t["value"].is_string() ? t["value"] : Json("");
      }
    }
  }
  const std::string name = text("name");
  bool prompt = tagged_prompt;
  if (std::string_view(kind->path) != "/mlflow/registered-models/create" &&
      std::string_view(kind->path) != "/mlflow/model-versions/create") {
    Result<tracking::RegisteredModel> model = stores.registry().GetRegisteredModel(name);
    prompt = false;
    if (model.ok()) {
      for (const tracking::Tag& t : model->tags) {
        std::string v = t.value;
        for (char& c : v) {
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        prompt |= t.key == "mlflow.prompt.is_prompt" && v == "true";
      }
    }
  }
  std::string entity = prompt ? kind->prompt_entity : kind->entity;
  if (entity.empty()) {
    return;  // registered-model tags fire for prompts only
  }
  Json data = {{"name", name}};
  std::string_view path = kind->path;
  auto or_null = [&](const char* key) {
    return text(key).empty() ? Json(nullptr) : Json(text(key));
  };
  if (path == "/mlflow/registered-models/create") {
    if (prompt) {
      tags.erase("mlflow.prompt.is_prompt");
      tags.erase("_mlflow_prompt_type");
    }
    data["tags"] = tags;
    data["description"] = text("description");
  } else if (path == "/mlflow/model-versions/create") {
    Result<Json> created = core::ParseJson(answer, "answer");
    data["version"] = created.ok() && created->contains("model_version")
                          ? Json((*created)["model_version"].value("version", std::string()))
                          : Json("");
    if (prompt) {
      data["template"] =
          tags.contains("mlflow.prompt.text") ? tags["mlflow.prompt.text"] : Json(nullptr);
      for (const char* hidden :
           {"mlflow.prompt.text", "mlflow.prompt.is_prompt", "_mlflow_prompt_type"}) {
        tags.erase(hidden);
      }
    } else {
      data["source"] = text("source");
      data["run_id"] = or_null("run_id");
    }
    data["tags"] = tags;
    data["description"] = or_null("description");
  } else if (path.ends_with("alias")) {
    data["alias"] = text("alias");
    if (r.method == "POST") {
      data["version"] = text("version");
    }
  } else {
    if (path.starts_with("/mlflow/model-versions")) {
      data["version"] = text("version");
    }
    data["key"] = text("key");
    if (kind->action == std::string_view("SET")) {
      data["value"] = text("value");
    }
  }
  sender.Fire(stores, WebhookEvent{entity, kind->action}, data);
}

}  // namespace plinth::server
