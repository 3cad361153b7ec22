// MLflow 2.x's prompt engineering run (its UI's PromptLab): a FINISHED run with the
// prompt's params, a promptlab model under model/ and the evaluation table
// eval_results_table.json, as mlflow/utils/promptlab_utils.py writes them.
#include <cstdint>

#include "core/clock.h"
#include "server/routes.h"

namespace plinth::server {
namespace {

using tracking::TrackingStore;

// {key, value} pairs of the request, values as text (MLflow takes str(value)).
std::vector<tracking::Param> Pairs(const Json& args, const char* key) {
  std::vector<tracking::Param> out;
  auto it = args.find(key);
  if (it == args.end() || !it->is_array()) {
    return out;
  }
  for (const Json& p : *it) {
    if (!p.is_object()) {
      continue;
    }
    auto text = [&](const char* k) {
      auto v = p.find(k);
      return v == p.end() || v->is_null() ? std::string()
             : v->is_string()             ? v->get<std::string>()
                                          : v->dump();
    };
    out.push_back({text("key"), text("value")});
  }
  return out;
}

// A string member of the request ("" when absent or not a string).
std::string Text(const Json& args, const char* key) {
  auto it = args.find(key);
  return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The MLmodel of the run's promptlab model (YAML is a superset of JSON).
std::string PromptlabMlmodel(const std::string& run_id, const std::string& created,
                             const Json& args, const std::vector<tracking::Param>& prompt,
                             const std::vector<tracking::Param>& model_params) {
  Json params = Json::array();
  for (const auto& p : prompt) {
    params.push_back({{"key", p.key}, {"value", p.value}});
  }
  Json model_parameters = Json::array();
  for (const auto& p : model_params) {
    model_parameters.push_back({{"key", p.key}, {"value", p.value}});
  }
  Json inputs = Json::array();
  for (const auto& p : prompt) {
    inputs.push_back({{"type", "string"}, {"name", p.key}, {"required", true}});
  }
  Json mlmodel = {{"artifact_path", "model"},
                  {"run_id", run_id},
                  {"utc_time_created", created},
                  {"mlflow_version", Text(args, "mlflow_version")},
                  {"flavors",
                   {{"promptlab",
                     {{"prompt_template", Text(args, "prompt_template")},
                      {"prompt_parameters", params},
                      {"model_parameters", model_parameters},
                      {"model_route", Text(args, "model_route")}}},
                    {"python_function", {{"loader_module", "mlflow._promptlab"}}}}},
                  {"signature",
                   {{"inputs", core::DumpJson(inputs, false)},
                    {"outputs", R"([{"type": "string", "name": "output", "required": true}])"}}},
                  {"saved_input_example_info",
                   {{"artifact_path", "input_example.json"}, {"type", "json_object"}}}};
  return core::DumpJson(mlmodel, true) + "\n";
}

}  // namespace

void AddPromptlabRoute(RouteTable& routes, const ArtifactLocations& locations) {
  const ArtifactLocations* where = &locations;
  routes.Add(
      "/mlflow/runs/create-promptlab-run", {"POST"},
      [where](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_RETURN_IF_ERROR(ReadMessage(r, {}).status());  // content type, a JSON object
        PLINTH_ASSIGN_OR_RETURN(Json args, core::ParseJson(r.body, "request body"));
        for (const char* required : {"experiment_id", "prompt_template", "prompt_parameters",
                                     "model_route", "model_input", "mlflow_version"}) {
          auto it = args.find(required);
          const bool empty = it == args.end() || it->is_null() ||
                             (it->is_string() && it->get<std::string>().empty()) ||
                             (it->is_array() && it->empty());
          if (empty) {
            return InvalidArgument("CreatePromptlabRun request must specify " +
                                   std::string(required) + ".");
          }
          const bool list = std::string_view(required) == "prompt_parameters";
          if (list ? !it->is_array() : !it->is_string()) {
            return InvalidArgument("CreatePromptlabRun request: " + std::string(required) +
                                   " must be " + (list ? "a list of {key, value}" : "a string") +
                                   ", got " + core::JsonPreview(*it, 40));
          }
        }
        auto start = args.find("start_time");
        if (start != args.end() &&
            (!start->is_number_integer() ||
             (start->is_number_unsigned() && start->get<uint64_t>() > INT64_MAX))) {
          return InvalidArgument(
              "CreatePromptlabRun request: start_time must be milliseconds since the epoch, got " +
              core::JsonPreview(*start, 40));
        }
        auto text = [&](const char* key) { return Text(args, key); };
        const int64_t now = core::SystemClock().NowMicros() / 1000;
        tracking::NewRun nr;
        nr.experiment_id = text("experiment_id");
        nr.user_id = args.contains("user_id") ? text("user_id") : "unknown";
        nr.run_name = text("run_name");
        nr.start_time = start != args.end() ? start->get<int64_t>() : now;
        PLINTH_ASSIGN_OR_RETURN(nr.tags, Tags(args, "tags"));
        PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.CreateRun(nr));
        const std::string& id = run.info.run_id;
        const std::vector<tracking::Param> prompt = Pairs(args, "prompt_parameters");
        const std::vector<tracking::Param> model_params = Pairs(args, "model_parameters");
        const std::vector<tracking::Param> outputs = Pairs(args, "model_output_parameters");
        std::vector<tracking::Param> params = model_params;
        params.push_back({"model_route", text("model_route")});
        params.push_back({"prompt_template", text("prompt_template")});
        // Written as MLflow writes them: the run is FAILED when the model or table cannot be.
        Status written = [&]() -> Status {
          PLINTH_RETURN_IF_ERROR(
              s.LogBatch(id, {}, params,
                         {{"mlflow.loggedArtifacts",
                           R"([{"path": "eval_results_table.json", "type": "table"}])"},
                          {"mlflow.runSourceType", "PROMPT_ENGINEERING"}}));
          // MLflow's "%Y-%m-%d %H:%M:%S.%f" (UTC).
          std::string created = core::FormatIsoMicros(now * 1000);
          created[10] = ' ';
          created.pop_back();
          PLINTH_RETURN_IF_ERROR(
              AppendModelHistory(s, run,
                                 {{"artifact_path", "model"},
                                  {"run_id", id},
                                  {"utc_time_created", created},
                                  {"flavors", {{"promptlab", Json::object()}}}}));
          std::optional<ArtifactLocations::Found> base = where->Find(run.info.artifact_uri);
          if (!base) {
            return Unimplemented("artifacts at '" + run.info.artifact_uri +
                                 "' are not kept by this server's artifact store");
          }
          const std::string root = base->rel.empty() ? "" : base->rel + "/";
          Json columns = Json::array();
          Json row = Json::array();
          for (const auto& p : prompt) {
            columns.push_back(p.key);
            row.push_back(p.value);
          }
          columns.push_back("prompt");
          row.push_back(text("model_input"));
          columns.push_back("output");
          row.push_back(args.contains("model_output") ? Json(text("model_output")) : Json());
          for (const auto& p : outputs) {
            columns.push_back(p.key);
            row.push_back(p.value);
          }
          Json example = {{"inputs", Json::array()}};
          for (const auto& p : prompt) {
            example["inputs"].push_back(p.value);
          }
          PLINTH_RETURN_IF_ERROR(base->root->Put(
              root + "eval_results_table.json",
              core::DumpJson(Json{{"columns", columns}, {"data", Json::array({row})}}, false)));
          PLINTH_RETURN_IF_ERROR(
              base->root->Put(root + "model/input_example.json", core::DumpJson(example, false)));
          return base->root->Put(root + "model/MLmodel",
                                 PromptlabMlmodel(id, created, args, prompt, model_params));
        }();
        PLINTH_RETURN_IF_ERROR(s.UpdateRun(id,
                                           written.ok() ? tracking::RunStatus::kFinished
                                                        : tracking::RunStatus::kFailed,
                                           core::SystemClock().NowMicros() / 1000, "")
                                   .status());
        PLINTH_ASSIGN_OR_RETURN(tracking::Run done, s.GetRun(id));
        return MemberText("run", done);
      });
}

}  // namespace plinth::server
