#include "server/auth.h"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <semaphore>
#include <vector>

#include "core/hash.h"
#include "core/mutex.h"
#include "server/mlflow_json.h"
#include "tracking/artifacts.h"

namespace plinth::server {
namespace {

using core::Json;
using tracking::AuthStore;
using tracking::Permission;
using tracking::Resource;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// base64url without padding (JWT) to bytes.
Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (s.size() % 4 != 0) {
    s += '=';
  }
  return core::Base64Decode(s);
}

std::string Base64UrlEncode(std::string_view data) {
  std::string s = core::Base64Encode(data);
  while (!s.empty() && s.back() == '=') {
    s.pop_back();
  }
  for (char& c : s) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return s;
}

// The username a valid token names, or none. HS256 only; "exp" and "nbf" checked
// when present.
std::optional<std::string> VerifyToken(const std::string& secret, std::string_view token) {
  constexpr size_t kMaxToken = 8192;
  if (secret.empty() || token.size() > kMaxToken) {
    return std::nullopt;
  }
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  Result<std::string> header = Base64UrlDecode(token.substr(0, a));
  Result<std::string> payload = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  Result<std::string> signature = Base64UrlDecode(token.substr(b + 1));
  if (!header.ok() || !payload.ok() || !signature.ok()) {
    return std::nullopt;
  }
  std::string expected = HmacSha256(secret, token.substr(0, b));
  if (signature->size() != expected.size() ||
      sodium_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  Result<Json> h = core::ParseJson(*header, "token header");
  Result<Json> p = core::ParseJson(*payload, "token payload");
  if (!h.ok() || !p.ok() || !h->is_object() || !p->is_object() || !h->contains("alg") ||
      (*h)["alg"] != "HS256" || !p->contains("username") || !(*p)["username"].is_string()) {
    return std::nullopt;
  }
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  if (p->contains("exp") && (!(*p)["exp"].is_number() || (*p)["exp"].get<double>() <= now)) {
    return std::nullopt;
  }
  if (p->contains("nbf") && (!(*p)["nbf"].is_number() || (*p)["nbf"].get<double>() > now)) {
    return std::nullopt;
  }
  return (*p)["username"].get<std::string>();
}

// One request's parameters, read exactly as the route's handler reads them
// (ReadMessage: a GET's query with key[] and key[N] folded into lists, a JSON body, a
// JSON-encoded string body), plus a POST's query string, which some handlers read
// (upload-artifact): every value any of them gives is checked.
class Params {
 public:
  static Result<Params> Read(const http::Request& r) {
    Params p;
    PLINTH_ASSIGN_OR_RETURN(p.message_, ReadRawMessage(r));
    if (r.method != "GET") {
      p.query_ = r.query;
    }
    return p;
  }

  // Every value given for any of `names`, as text (a list's items one by one).
  std::vector<std::string> All(std::initializer_list<std::string_view> names) const {
    std::vector<std::string> out;
    auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    for (std::string_view name : names) {
      std::string key(name);
      if (message_.contains(key) && !message_[key].is_null()) {
        const Json& v = message_[key];
        if (v.is_array()) {
          for (const Json& item : v) {
            out.push_back(text(item));
          }
        } else {
          out.push_back(text(v));
        }
      }
      for (const auto& [k, v] : query_) {
        std::string_view bare = k;
        if (size_t b = bare.find('['); b != std::string_view::npos && bare.ends_with("]")) {
          bare = bare.substr(0, b);
        }
        if (bare == name) {
          out.push_back(v);
        }
      }
    }
    return out;
  }

  // As All, refusing none: MLflow's error for a missing required parameter.
  Result<std::vector<std::string>> Required(std::initializer_list<std::string_view> names) const {
    std::vector<std::string> out = All(names);
    if (out.empty()) {
      return InvalidArgument("Missing value for required parameter '" +
                             std::string(*names.begin()) +
                             "'. See the API docs for more information about request parameters.");
    }
    return out;
  }

 private:
  Json message_;
  std::vector<std::pair<std::string, std::string>> query_;
};

enum class On {
  kExperiment,        // experiment_id
  kExperimentByName,  // experiment_name
  kExperiments,       // experiment_ids, each
  kRun,               // run_id (or run_uuid): its experiment
  kRuns,              // run_ids (or run_id repeated), each run's experiment
  kModel,             // name
  kModelSource,       // name, and READ on the experiment its source or run_id points into
  kAdmin,             // admins only
  kSelf,              // username: the sender themselves
  kManageExperiment,  // MANAGE on experiment_id (granting)
  kManageModel,       // MANAGE on name
};
enum class Need { kRead, kUpdate, kDelete, kManage };

struct Rule {
  std::string_view method;
  std::string_view path;
  On on;
  Need need;
};

// MLflow's validators (mlflow/server/auth/__init__.py, BEFORE_REQUEST_VALIDATORS), and
// where MLflow checks nothing but a route reads or writes one experiment's data, the
// check its neighbours make (marked "Plinth").
constexpr Rule kRules[] = {
    {"GET", "/mlflow/experiments/get", On::kExperiment, Need::kRead},
    {"GET", "/mlflow/experiments/get-by-name", On::kExperimentByName, Need::kRead},
    {"POST", "/mlflow/experiments/delete", On::kExperiment, Need::kDelete},
    {"POST", "/mlflow/experiments/restore", On::kExperiment, Need::kDelete},
    {"POST", "/mlflow/experiments/update", On::kExperiment, Need::kUpdate},
    {"POST", "/mlflow/experiments/set-experiment-tag", On::kExperiment, Need::kUpdate},
    {"POST", "/mlflow/experiments/delete-experiment-tag", On::kExperiment, Need::kUpdate},
    {"POST", "/mlflow/experiments/search-datasets", On::kExperiments, Need::kRead},  // Plinth
    {"POST", "/mlflow/runs/create", On::kExperiment, Need::kUpdate},
    {"POST", "/mlflow/runs/create-promptlab-run", On::kExperiment, Need::kUpdate},  // Plinth
    {"POST", "/mlflow/runs/search", On::kExperiments, Need::kRead},                 // Plinth
    {"GET", "/mlflow/runs/get", On::kRun, Need::kRead},
    {"POST", "/mlflow/runs/delete", On::kRun, Need::kDelete},
    {"POST", "/mlflow/runs/restore", On::kRun, Need::kDelete},
    {"POST", "/mlflow/runs/update", On::kRun, Need::kUpdate},
    {"POST", "/mlflow/runs/log-metric", On::kRun, Need::kUpdate},
    {"POST", "/mlflow/runs/log-batch", On::kRun, Need::kUpdate},
    {"POST", "/mlflow/runs/log-model", On::kRun, Need::kUpdate},
    {"POST", "/mlflow/runs/set-tag", On::kRun, Need::kUpdate},
    {"POST", "/mlflow/runs/delete-tag", On::kRun, Need::kUpdate},
    {"POST", "/mlflow/runs/log-parameter", On::kRun, Need::kUpdate},
    {"POST", "/mlflow/runs/log-inputs", On::kRun, Need::kUpdate},  // Plinth
    {"POST", "/mlflow/runs/outputs", On::kRun, Need::kUpdate},     // Plinth
    {"POST", "/mlflow/upload-artifact", On::kRun, Need::kUpdate},  // Plinth
    {"GET", "/mlflow/metrics/get-history", On::kRun, Need::kRead},
    {"GET", "/mlflow/metrics/get-history-bulk", On::kRuns, Need::kRead},           // Plinth
    {"GET", "/mlflow/metrics/get-history-bulk-interval", On::kRuns, Need::kRead},  // Plinth
    {"GET", "/mlflow/artifacts/list", On::kRun, Need::kRead},
    {"GET", "/mlflow/registered-models/get", On::kModel, Need::kRead},
    {"DELETE", "/mlflow/registered-models/delete", On::kModel, Need::kDelete},
    {"PATCH", "/mlflow/registered-models/update", On::kModel, Need::kUpdate},
    {"POST", "/mlflow/registered-models/rename", On::kModel, Need::kUpdate},
    {"GET", "/mlflow/registered-models/get-latest-versions", On::kModel, Need::kRead},
    {"POST", "/mlflow/registered-models/get-latest-versions", On::kModel, Need::kRead},
    {"POST", "/mlflow/model-versions/create", On::kModelSource, Need::kUpdate},
    {"GET", "/mlflow/model-versions/get", On::kModel, Need::kRead},
    {"DELETE", "/mlflow/model-versions/delete", On::kModel, Need::kDelete},
    {"PATCH", "/mlflow/model-versions/update", On::kModel, Need::kUpdate},
    {"POST", "/mlflow/model-versions/transition-stage", On::kModel, Need::kUpdate},
    {"GET", "/mlflow/model-versions/get-download-uri", On::kModel, Need::kRead},
    {"POST", "/mlflow/registered-models/set-tag", On::kModel, Need::kUpdate},
    {"DELETE", "/mlflow/registered-models/delete-tag", On::kModel, Need::kUpdate},
    {"POST", "/mlflow/model-versions/set-tag", On::kModel, Need::kUpdate},
    {"DELETE", "/mlflow/model-versions/delete-tag", On::kModel, Need::kDelete},
    {"POST", "/mlflow/registered-models/alias", On::kModel, Need::kUpdate},
    {"DELETE", "/mlflow/registered-models/alias", On::kModel, Need::kDelete},
    {"GET", "/mlflow/registered-models/alias", On::kModel, Need::kRead},
    // MLflow's auth API.
    {"POST", "/mlflow/users/create", On::kAdmin, Need::kManage},
    {"GET", "/mlflow/users/get", On::kSelf, Need::kRead},
    {"PATCH", "/mlflow/users/update-password", On::kSelf, Need::kUpdate},
    {"PATCH", "/mlflow/users/update-admin", On::kAdmin, Need::kManage},
    {"DELETE", "/mlflow/users/delete", On::kAdmin, Need::kManage},
    {"POST", "/mlflow/experiments/permissions/create", On::kManageExperiment, Need::kManage},
    {"GET", "/mlflow/experiments/permissions/get", On::kManageExperiment, Need::kManage},
    {"PATCH", "/mlflow/experiments/permissions/update", On::kManageExperiment, Need::kManage},
    {"DELETE", "/mlflow/experiments/permissions/delete", On::kManageExperiment, Need::kManage},
    {"POST", "/mlflow/registered-models/permissions/create", On::kManageModel, Need::kManage},
    {"GET", "/mlflow/registered-models/permissions/get", On::kManageModel, Need::kManage},
    {"PATCH", "/mlflow/registered-models/permissions/update", On::kManageModel, Need::kManage},
    {"DELETE", "/mlflow/registered-models/permissions/delete", On::kManageModel, Need::kManage},
    // The UI's downloads and signup form.
    {"GET", "/get-artifact", On::kRun, Need::kRead},
    {"GET", "/model-versions/get-artifact", On::kModel, Need::kRead},
    {"GET", "/signup", On::kAdmin, Need::kManage},
    // Plinth's own: lineage edges are recorded by the pipelines admins run.
    {"POST", "/plinth/v1/lineage", On::kAdmin, Need::kManage},
};

bool Allows(Permission p, Need need) {
  switch (need) {
    case Need::kRead:
      return tracking::CanRead(p);
    case Need::kUpdate:
      return tracking::CanUpdate(p);
    case Need::kDelete:
      return tracking::CanDelete(p);
    case Need::kManage:
      return tracking::CanManage(p);
  }
  return false;
}

Status Check(const Identity& who, const AuthOptions& options, Resource kind,
             const std::string& resource, Need need, AuthStore& store) {
  PLINTH_ASSIGN_OR_RETURN(Permission p, EffectivePermission(who, options, kind, resource, store));
  return Allows(p, need) ? Status::Ok() : PermissionDenied("Permission denied");
}

// The experiment an artifact path under the proxied root belongs to: its first
// segment, as the artifact store resolves the path ("./1/x" and "01/x" are experiment
// 1's), when that is a number (MLflow's ^(\d+)/); else none. An unsafe path is the
// store's error.
Result<std::optional<std::string>> ArtifactExperiment(std::string_view path) {
  PLINTH_ASSIGN_OR_RETURN(std::string rel, tracking::SafeRelativePath(path));
  std::string first = rel.substr(0, rel.find('/'));
  if (first.empty() || first.find_first_not_of("0123456789") != std::string::npos) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(CanonicalExperimentId(first));
}

using ExperimentCheck = std::function<Status(const std::string&, Need)>;

// The route's need by method: GET reads, DELETE of the thing itself deletes, the rest writes.
Need NeedOf(const std::string& method, bool deletes_whole) {
  if (method == "GET") {
    return Need::kRead;
  }
  return method == "DELETE" && deletes_whole ? Need::kDelete : Need::kUpdate;
}

// Logged models and traces, by the experiment each belongs to; none for other routes.
std::optional<Status> AuthorizeMlflow3(const std::string& method, std::string_view path,
                                       const http::Request& r, tracking::Service::Lease& stores,
                                       const ExperimentCheck& check_experiment,
                                       const ExperimentCheck& check_run) {
  auto each = [&](const std::vector<std::string>& ids, Need need) -> Status {
    for (const std::string& id : ids) {
      PLINTH_RETURN_IF_ERROR(check_experiment(id, need));
    }
    return Status::Ok();
  };
  auto params = [&]() { return Params::Read(r); };
  auto segment = [&](std::string_view prefix) {
    std::string_view rest = path.substr(prefix.size());
    return std::string(rest.substr(0, rest.find('/')));
  };
  if (path == "/mlflow/logged-models" && method == "POST") {
    PLINTH_ASSIGN_OR_RETURN(Params p, params());
    PLINTH_ASSIGN_OR_RETURN(auto ids, p.Required({"experiment_id"}));
    return each(ids, Need::kUpdate);
  }
  if (path == "/mlflow/logged-models/search") {
    PLINTH_ASSIGN_OR_RETURN(Params p, params());
    return each(p.All({"experiment_ids"}), Need::kRead);
  }
  if (path.starts_with("/mlflow/logged-models/")) {
    std::string id = segment("/mlflow/logged-models/");
    PLINTH_ASSIGN_OR_RETURN(tracking::LoggedModel m,
                            stores.tracking().GetLoggedModel(id, /*allow_deleted=*/true));
    bool whole = path.substr(std::string_view("/mlflow/logged-models/").size()) == id;
    return check_experiment(m.experiment_id, NeedOf(method, whole));
  }
  if (path == "/mlflow/get-trace-artifact") {
    PLINTH_ASSIGN_OR_RETURN(Params p, params());
    PLINTH_ASSIGN_OR_RETURN(auto ids, p.Required({"request_id"}));
    for (const std::string& id : ids) {
      PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo t, stores.tracking().GetTraceInfo(id));
      PLINTH_RETURN_IF_ERROR(check_experiment(t.experiment_id, Need::kRead));
    }
    return Status::Ok();
  }
  if (path == "/mlflow/traces" || path == "/mlflow/traces/search" ||
      path == "/mlflow/traces/delete-traces") {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadRawMessage(r));
    PLINTH_ASSIGN_OR_RETURN(Params p, params());
    std::vector<std::string> ids = p.All({"experiment_id", "experiment_ids"});
    // MLflow 3: {"trace": {"trace_info": {"trace_location": {"mlflow_experiment": ...}}}}
    // and a search's {"locations": [{"mlflow_experiment": {"experiment_id"}}]}.
    auto location = [&](const Json& loc) {
      if (loc.is_object() && loc.contains("mlflow_experiment") &&
          loc["mlflow_experiment"].is_object() &&
          loc["mlflow_experiment"].contains("experiment_id")) {
        const Json& id = loc["mlflow_experiment"]["experiment_id"];
        ids.push_back(id.is_string() ? id.get<std::string>() : id.dump());
      }
    };
    if (m.contains("trace") && m["trace"].is_object() && m["trace"].contains("trace_info") &&
        m["trace"]["trace_info"].is_object() &&
        m["trace"]["trace_info"].contains("trace_location")) {
      location(m["trace"]["trace_info"]["trace_location"]);
    }
    if (m.contains("locations") && m["locations"].is_array()) {
      for (const Json& loc : m["locations"]) {
        location(loc);
      }
    }
    Need need = method == "GET" || path == "/mlflow/traces/search" ? Need::kRead
                : path == "/mlflow/traces/delete-traces"           ? Need::kDelete
                                                                   : Need::kUpdate;
    return each(ids, need);
  }
  if (path == "/mlflow/traces/link-to-run") {
    PLINTH_ASSIGN_OR_RETURN(Params p, params());
    PLINTH_ASSIGN_OR_RETURN(auto runs, p.Required({"run_id"}));
    for (const std::string& run : runs) {
      PLINTH_RETURN_IF_ERROR(check_run(run, Need::kUpdate));
    }
    for (const std::string& id : p.All({"trace_ids"})) {
      PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo t, stores.tracking().GetTraceInfo(id));
      PLINTH_RETURN_IF_ERROR(check_experiment(t.experiment_id, Need::kUpdate));
    }
    return Status::Ok();
  }
  if (path == "/v1/traces") {  // OTLP: the spans go to the experiment the header names
    return check_experiment(std::string(r.Header("x-mlflow-experiment-id")), Need::kUpdate);
  }
  if (path == "/mlflow/traces/link-prompts") {  // open in MLflow; it writes one trace
    PLINTH_ASSIGN_OR_RETURN(Params p, params());
    PLINTH_ASSIGN_OR_RETURN(auto ids, p.Required({"trace_id"}));
    for (const std::string& id : ids) {
      PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo t, stores.tracking().GetTraceInfo(id));
      PLINTH_RETURN_IF_ERROR(check_experiment(t.experiment_id, Need::kUpdate));
    }
    return Status::Ok();
  }
  if (path == "/mlflow/traces/get" || path == "/mlflow/traces/batchGet") {
    PLINTH_ASSIGN_OR_RETURN(Params p, params());
    const std::vector<std::string> ids = p.All({"trace_id", "trace_ids"});
    if (ids.size() > 1000) {  // the route's own limit, before a lookup per id
      return InvalidArgument("At most 1000 trace_ids can be fetched in one request, got " +
                             std::to_string(ids.size()));
    }
    for (const std::string& id : ids) {
      Result<tracking::TraceInfo> t = stores.tracking().GetTraceInfo(id);
      if (t.ok()) {  // unknown ids answer not found (get) or are left out (batchGet)
        PLINTH_RETURN_IF_ERROR(check_experiment(t->experiment_id, Need::kRead));
      }
    }
    return Status::Ok();
  }
  if (path.starts_with("/mlflow/traces/")) {
    std::string id = segment("/mlflow/traces/");
    PLINTH_ASSIGN_OR_RETURN(tracking::TraceInfo t, stores.tracking().GetTraceInfo(id));
    return check_experiment(t.experiment_id, NeedOf(method, false));
  }
  return std::nullopt;
}

}  // namespace

struct Authenticator::Cache {
  std::array<unsigned char, crypto_generichash_KEYBYTES> key{};
  core::Mutex mu;
  struct Entry {
    std::string username;
    std::string hash;  // the stored hash the password was checked against
    std::chrono::steady_clock::time_point until;
  };
  std::map<std::string, Entry> verified PLINTH_GUARDED_BY(mu);
  // argon2id takes 64 MiB and about 0.1 s: at most two run at once.
  std::counting_semaphore<2> hashing{2};

  std::string Key(std::string_view username, std::string_view password) const {
    std::array<unsigned char, 32> out{};
    crypto_generichash_state state;
    crypto_generichash_init(&state, key.data(), key.size(), out.size());
    auto feed = [&](std::string_view s) {
      uint64_t n = s.size();
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&n), sizeof n);
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(s.data()), s.size());
    };
    feed(username);
    feed(password);
    crypto_generichash_final(&state, out.data(), out.size());
    return {reinterpret_cast<const char*>(out.data()), out.size()};
  }
};

std::string HmacSha256(const std::string& key, std::string_view data) {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

std::string CanonicalExperimentId(const std::string& id) {
  int64_t v = 0;
  auto r = std::from_chars(id.data(), id.data() + id.size(), v);
  if (id.empty() || r.ec != std::errc() || r.ptr != id.data() + id.size()) {
    return id;
  }
  return std::to_string(v);
}

Result<AuthOptions> ReadAuthConfig(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {  // not a FIFO that never ends
    return InvalidArgument(path + ": not a readable regular file (the auth config)");
  }
  std::ifstream in(path);
  if (!in) {
    return InvalidArgument(path + ": cannot read the auth config file");
  }
  AuthOptions out;
  std::string section;
  std::string line;
  bool have_default = false;
  int number = 0;
  std::map<std::string, int> seen;
  while (std::getline(in, line)) {
    ++number;
    std::string where = path + ":" + std::to_string(number) + ": ";
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') {
      continue;
    }
    if (t[0] == '[') {
      if (t.back() != ']') {
        return InvalidArgument(where + "expected a section header like [mlflow]");
      }
      section = Trim(std::string_view(t).substr(1, t.size() - 2));
      continue;
    }
    size_t eq = t.find_first_of("=:");
    if (eq == std::string::npos) {
      return InvalidArgument(where + "expected 'key = value'");
    }
    if (section != "mlflow") {
      continue;  // other sections are not MLflow's auth settings
    }
    std::string key = Trim(std::string_view(t).substr(0, eq));
    for (char& c : key) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::string value = Trim(std::string_view(t).substr(eq + 1));
    if (key == "default_permission") {
      Result<Permission> p = tracking::ParsePermission(value);
      if (!p.ok()) {
        return InvalidArgument(where + "default_permission: " + p.status().message());
      }
      out.default_permission = *p;
      have_default = true;
    } else if (key == "admin_username") {
      out.admin_username = value;
    } else if (key == "admin_password") {
      out.admin_password = value;
    } else if (key == "jwt_secret") {
      out.jwt_secret = value;
    } else if (key == "database_uri" || key == "authorization_function") {
      // Accepted for MLflow's files: users live in the metadata store, and Plinth reads
      // HTTP Basic and (with a jwt_secret) bearer JWTs itself.
    } else {
      return InvalidArgument(where + "unknown key '" + key +
                             "' (expected default_permission, admin_username, admin_password, "
                             "jwt_secret, database_uri, authorization_function)");
    }
  }
  if (!have_default) {
    return InvalidArgument(path +
                           ": [mlflow] needs default_permission (READ, EDIT, MANAGE or "
                           "NO_PERMISSIONS)");
  }
  if (out.admin_username.empty() || out.admin_password.empty()) {
    return InvalidArgument(path + ": [mlflow] needs admin_username and admin_password");
  }
  if (const char* env = std::getenv("PLINTH_AUTH_JWT_SECRET"); env != nullptr && *env != '\0') {
    out.jwt_secret = env;
  }
  return out;
}

Result<std::string> HashPassword(const std::string& password) {
  if (sodium_init() < 0) {
    return Internal("libsodium did not start");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return ResourceExhausted("not enough memory to hash a password");
  }
  return std::string(out.data());
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  return sodium_init() >= 0 &&
         crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string MintToken(const std::string& secret, const std::string& username, int64_t ttl_seconds,
                      int64_t now_seconds) {
  Json payload = {{"username", username}};
  if (ttl_seconds > 0) {
    payload["exp"] = now_seconds + ttl_seconds;
  }
  std::string signing = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                        Base64UrlEncode(core::DumpJson(payload, false));
  return signing + "." + Base64UrlEncode(HmacSha256(secret, signing));
}

Authenticator::Authenticator(AuthOptions options)
    : options_(std::move(options)), cache_(std::make_unique<Cache>()) {
  if (sodium_init() >= 0) {
    randombytes_buf(cache_->key.data(), cache_->key.size());
    std::array<unsigned char, 16> noise{};
    randombytes_buf(noise.data(), noise.size());
    Result<std::string> decoy =
        HashPassword(std::string(reinterpret_cast<const char*>(noise.data()), noise.size()));
    if (decoy.ok()) {
      decoy_hash_ = *decoy;
    }
  }
  if (!options_.jwt_secret.empty() && options_.jwt_secret.size() < 32) {
    spdlog::warn(
        "the auth config's jwt_secret is {} bytes: anyone who guesses it can sign in "
        "as any user; use 32 random bytes or more",
        options_.jwt_secret.size());
  }
}

namespace {

// The user and password of a Basic header, or none.
std::optional<std::pair<std::string, std::string>> BasicCredentials(std::string_view header) {
  if (header.size() < 6) {
    return std::nullopt;
  }
  for (size_t i = 0; i < 6; ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != "basic "[i]) {
      return std::nullopt;
    }
  }
  Result<std::string> decoded = core::Base64Decode(Trim(header.substr(6)));
  size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace

bool Authenticator::Remembered(const http::Request& r) const {
  auto credentials = BasicCredentials(r.Header("authorization"));
  if (!credentials) {
    return true;  // no password to check: answered at once
  }
  std::string key = cache_->Key(credentials->first, credentials->second);
  core::MutexLock lock(cache_->mu);
  auto it = cache_->verified.find(key);
  return it != cache_->verified.end() && it->second.until > std::chrono::steady_clock::now();
}

Authenticator::~Authenticator() = default;

Status Authenticator::Bootstrap(AuthStore& store) const {
  PLINTH_ASSIGN_OR_RETURN(std::optional<tracking::User> admin,
                          store.FindUser(options_.admin_username));
  if (admin) {
    return Status::Ok();
  }
  PLINTH_ASSIGN_OR_RETURN(std::string hash, HashPassword(options_.admin_password));
  Result<tracking::User> made = store.CreateUser(options_.admin_username, hash, true);
  if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) {
    return made.status();
  }
  return Status::Ok();
}

std::variant<Identity, http::Response> Authenticator::Authenticate(const http::Request& r,
                                                                   AuthStore& store) const {
  std::string_view header = r.Header("authorization");
  auto scheme = [&](std::string_view name) {
    if (header.size() < name.size()) {
      return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(header[i])) != name[i]) {
        return false;
      }
    }
    return true;
  };
  auto known = [&](const std::string& username) -> std::optional<tracking::User> {
    Result<std::optional<tracking::User>> u = store.FindUser(username);
    return u.ok() ? *u : std::nullopt;
  };
  if (scheme("bearer ")) {
    std::optional<std::string> name = VerifyToken(options_.jwt_secret, header.substr(7));
    std::optional<tracking::User> user = name ? known(*name) : std::nullopt;
    if (!user) {
      return Unauthenticated(true);
    }
    return Identity{user->id, user->username, user->is_admin};
  }
  auto credentials = BasicCredentials(header);
  if (!credentials) {
    return Unauthenticated(false);
  }
  const auto& [username, password] = *credentials;
  std::optional<tracking::User> user = known(username);
  if (!user) {
    cache_->hashing.acquire();
    (void)VerifyPassword(decoy_hash_, password);  // as long as a wrong password takes
    cache_->hashing.release();
    return Unauthenticated(false);
  }
  std::string key = cache_->Key(username, password);
  auto now = std::chrono::steady_clock::now();
  {
    core::MutexLock lock(cache_->mu);
    auto it = cache_->verified.find(key);
    if (it != cache_->verified.end() && it->second.until > now &&
        it->second.hash == user->password_hash) {
      return Identity{user->id, user->username, user->is_admin};
    }
  }
  cache_->hashing.acquire();
  bool ok = VerifyPassword(user->password_hash, password);
  cache_->hashing.release();
  if (!ok) {
    return Unauthenticated(false);
  }
  {
    core::MutexLock lock(cache_->mu);
    constexpr size_t kMaxEntries = 10000;
    if (cache_->verified.size() >= kMaxEntries) {
      cache_->verified.clear();
    }
    cache_->verified[key] = {username, user->password_hash, now + std::chrono::seconds(60)};
  }
  return Identity{user->id, user->username, user->is_admin};
}

Result<Permission> EffectivePermission(const Identity& who, const AuthOptions& options,
                                       Resource kind, const std::string& resource,
                                       AuthStore& store) {
  if (who.is_admin) {
    return Permission::kManage;
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<Permission> p,
                          store.FindPermission(kind, resource, who.id));
  return p.value_or(options.default_permission);
}

Status Authorize(const Identity& who, const AuthOptions& options, const std::string& method,
                 std::string_view path, const http::Request& r, tracking::Service::Lease& stores) {
  if (who.is_admin) {
    return Status::Ok();
  }
  AuthStore& auth = stores.auth();
  auto check_experiment = [&](const std::string& id, Need need) {
    return Check(who, options, Resource::kExperiment, CanonicalExperimentId(id), need, auth);
  };
  auto run_experiment = [&](const std::string& run_id) -> Result<std::string> {
    PLINTH_ASSIGN_OR_RETURN(tracking::Run run, stores.tracking().GetRun(run_id));
    return run.info.experiment_id;
  };
  auto check_run = [&](const std::string& run_id, Need need) -> Status {
    PLINTH_ASSIGN_OR_RETURN(std::string experiment, run_experiment(run_id));
    return check_experiment(experiment, need);
  };
  // The proxied artifact files: the experiment is the path's first segment.
  for (std::string_view prefix : {"/mlflow-artifacts/artifacts/", "/mlflow-artifacts/artifacts"}) {
    if (!path.starts_with(prefix)) {
      continue;
    }
    std::string rest(path.substr(prefix.size()));
    if (rest.empty()) {  // a listing: ?path=
      rest = r.Query("path").value_or("");
      while (!rest.empty() && rest.front() == '/') {
        rest.erase(0, 1);
      }
    }
    Need need = method == "GET" ? Need::kRead : method == "DELETE" ? Need::kManage : Need::kUpdate;
    PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> experiment, ArtifactExperiment(rest));
    if (!experiment) {
      return Allows(options.default_permission, need) ? Status::Ok()
                                                      : PermissionDenied("Permission denied");
    }
    return check_experiment(*experiment, need);
  }
  // MLflow 3's logged models and traces (MLflow 2.17's auth app predates them): the
  // grants of the experiment they belong to.
  if (std::optional<Status> checked =
          AuthorizeMlflow3(method, path, r, stores, check_experiment, check_run)) {
    return *checked;
  }
  // Registry webhooks see every registry event: admins only manage them.
  if (path == "/mlflow/webhooks" || path.starts_with("/mlflow/webhooks/")) {
    return PermissionDenied("Permission denied");
  }
  const Rule* rule = nullptr;
  for (const Rule& candidate : kRules) {
    if (candidate.path == path && candidate.method == method) {
      rule = &candidate;
      break;
    }
  }
  if (rule == nullptr) {
    return Status::Ok();  // as MLflow: any signed-in user (docs/HTTP.md lists these routes)
  }
  PLINTH_ASSIGN_OR_RETURN(Params params, Params::Read(r));
  switch (rule->on) {
    case On::kAdmin:
      return PermissionDenied("Permission denied");
    case On::kSelf: {
      PLINTH_ASSIGN_OR_RETURN(auto names, params.Required({"username"}));
      for (const std::string& name : names) {
        if (name != who.username) {
          return PermissionDenied("Permission denied");
        }
      }
      return Status::Ok();
    }
    case On::kExperiment:
    case On::kManageExperiment: {
      PLINTH_ASSIGN_OR_RETURN(auto ids, params.Required({"experiment_id"}));
      for (const std::string& id : ids) {
        PLINTH_RETURN_IF_ERROR(check_experiment(id, rule->need));
      }
      return Status::Ok();
    }
    case On::kExperimentByName: {
      PLINTH_ASSIGN_OR_RETURN(auto names, params.Required({"experiment_name"}));
      for (const std::string& name : names) {
        PLINTH_ASSIGN_OR_RETURN(tracking::Experiment e,
                                stores.tracking().GetExperimentByName(name));
        PLINTH_RETURN_IF_ERROR(check_experiment(e.experiment_id, rule->need));
      }
      return Status::Ok();
    }
    case On::kExperiments:
      for (const std::string& id : params.All({"experiment_ids"})) {
        PLINTH_RETURN_IF_ERROR(check_experiment(id, rule->need));
      }
      return Status::Ok();
    case On::kRun: {
      PLINTH_ASSIGN_OR_RETURN(auto ids, params.Required({"run_id", "run_uuid"}));
      for (const std::string& id : ids) {
        PLINTH_RETURN_IF_ERROR(check_run(id, rule->need));
      }
      return Status::Ok();
    }
    case On::kRuns: {
      std::map<std::string, bool> checked;
      for (const std::string& id : params.All({"run_ids", "run_id", "run_uuid"})) {
        PLINTH_ASSIGN_OR_RETURN(std::string experiment, run_experiment(id));
        if (!checked[experiment]) {
          PLINTH_RETURN_IF_ERROR(check_experiment(experiment, rule->need));
          checked[experiment] = true;
        }
      }
      return Status::Ok();
    }
    case On::kModel:
    case On::kManageModel:
    case On::kModelSource: {
      PLINTH_ASSIGN_OR_RETURN(auto names, params.Required({"name"}));
      for (const std::string& name : names) {
        PLINTH_RETURN_IF_ERROR(
            Check(who, options, Resource::kRegisteredModel, name, rule->need, auth));
      }
      if (rule->on != On::kModelSource) {
        return Status::Ok();
      }
      // A version's files are read through the model's grants afterwards: its source
      // must be something the user may read already.
      for (const std::string& id : params.All({"run_id"})) {
        PLINTH_RETURN_IF_ERROR(check_run(id, Need::kRead));
      }
      for (const std::string& source : params.All({"source"})) {
        if (source.starts_with("runs:/")) {
          std::string_view rest = std::string_view(source).substr(6);
          while (rest.starts_with("/")) {
            rest.remove_prefix(1);
          }
          PLINTH_RETURN_IF_ERROR(
              check_run(std::string(rest.substr(0, rest.find('/'))), Need::kRead));
        } else if (std::optional<std::string> rel = tracking::ProxiedPath(source)) {
          PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> experiment, ArtifactExperiment(*rel));
          if (experiment) {
            PLINTH_RETURN_IF_ERROR(check_experiment(*experiment, Need::kRead));
          } else if (!tracking::CanRead(options.default_permission)) {
            return PermissionDenied("Permission denied");
          }
        }
      }
      return Status::Ok();
    }
  }
  return PermissionDenied("Permission denied");
}

http::Response Unauthenticated(bool bearer) {
  http::Response r;
  r.status = 401;
  r.content_type = "text/html; charset=utf-8";
  if (bearer) {
    r.body = "You are not authenticated. Please provide a valid JWT Bearer token with the request.";
    r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  } else {
    r.body =
        "You are not authenticated. Please see "
        "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to "
        "authenticate.";
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"mlflow\"");
  }
  return r;
}

http::Response PermissionDeniedResponse() {
  http::Response r;
  r.status = 403;
  r.content_type = "text/html; charset=utf-8";
  r.body = "Permission denied";
  return r;
}

}  // namespace plinth::server
