#include "server/routes.h"

namespace plinth::server {

const std::pair<const std::string, Route>* RouteTable::Find(std::string_view path,
                                                            PathParams* params) const {
  // A template's own text ("/mlflow/traces/{request_id}") is not a path it serves.
  auto it = routes_.find(path);
  if (it != routes_.end() && !templates_.contains(it->first)) {
    return &*it;
  }
  auto segments = [](std::string_view p) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < p.size()) {
      size_t j = p.find('/', i + 1);
      j = j == std::string_view::npos ? p.size() : j;
      out.push_back(p.substr(i + 1, j - i - 1));
      i = j;
    }
    return out;
  };
  const std::vector<std::string_view> want = segments(path);
  for (const std::string& t : templates_) {
    const std::vector<std::string_view> have = segments(t);
    if (have.size() != want.size()) {
      continue;
    }
    PathParams found;
    bool match = true;
    for (size_t i = 0; i < have.size() && match; ++i) {
      if (have[i].starts_with('{') && have[i].ends_with('}')) {
        match = !want[i].empty();
        found.emplace(std::string(have[i].substr(1, have[i].size() - 2)), std::string(want[i]));
      } else {
        match = have[i] == want[i];
      }
    }
    if (match) {
      *params = std::move(found);
      return &*routes_.find(t);
    }
  }
  return nullptr;
}

// A string field of a message ReadMessage checked ("" when absent).
std::string Str(const Json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A list of strings of a message ReadMessage checked (empty when absent).
std::vector<std::string> StrList(const Json& m, const char* key) {
  std::vector<std::string> out;
  auto it = m.find(key);
  if (it != m.end() && it->is_array()) {
    for (const Json& v : *it) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

// run_id, or the deprecated run_uuid, as MLflow's handlers take either.
Result<std::string> RunId(const Json& m) {
  std::string id = Str(m, "run_id");
  if (id.empty()) {
    id = Str(m, "run_uuid");
  }
  if (id.empty()) {
    return InvalidArgument(
        "Missing value for required parameter 'run_id'. See the API docs for more information "
        "about request parameters.");
  }
  return id;
}

Result<std::vector<tracking::Tag>> Tags(const Json& m, const char* key) {
  std::vector<tracking::Tag> out;
  auto list = m.find(key);
  if (list == m.end() || list->is_null()) {
    return out;
  }
  if (!list->is_array()) {
    return InvalidArgument("Invalid value " + core::JsonPreview(*list) + " for parameter '" + key +
                           "' supplied. Hint: expected a list of tags.");
  }
  for (const Json& t : *list) {
    if (!t.is_object() || !t.contains("key") || !t["key"].is_string() ||
        (t.contains("value") && !t["value"].is_string())) {
      return InvalidArgument("Invalid value " + core::JsonPreview(m[key]) + " for parameter '" +
                             key +
                             "' supplied. Hint: each tag needs a string key and a string value.");
    }
    out.push_back({t["key"].get<std::string>(), t.value("value", "")});
  }
  return out;
}

// A registry search's query (filter, max_results defaulting to `max_results`,
// order_by, page_token) from a GET query string.
Result<tracking::ModelQuery> ReadModelQuery(const http::Request& r, int64_t max_results) {
  PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"filter", FieldType::kString},
                                                  {"max_results", FieldType::kInt64},
                                                  {"order_by", FieldType::kStringList},
                                                  {"page_token", FieldType::kString}}));
  return tracking::ModelQuery{Str(m, "filter"), m.value("max_results", max_results),
                              StrList(m, "order_by"), Str(m, "page_token")};
}

Status AppendModelHistory(tracking::TrackingStore& s, const tracking::Run& run, const Json& model) {
  Json history = Json::array();
  for (const auto& t : run.tags) {
    if (t.key == "mlflow.log-model.history") {
      Result<Json> old = core::ParseJson(t.value, "mlflow.log-model.history");
      if (old.ok() && old->is_array()) {
        history = std::move(*old);
      }
    }
  }
  history.push_back(model);
  return s.SetTag(run.info.run_id, {"mlflow.log-model.history", core::DumpJson(history, false)});
}

}  // namespace plinth::server
