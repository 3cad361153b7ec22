// The rules that find a command's tracking store.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tracking/artifacts.h"
#include "tracking/client.h"

namespace plinth::tracking {
namespace {

Getenv Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(LocateTrackingStore, FlagThenEnvironmentThenProject) {
  auto env = Env({{"PLINTH_TRACKING_URI", "sqlite:///env.db"},
                  {"MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"},
                  {"USER", "ana"}});
  auto flag = LocateTrackingStore("sqlite:///flag.db", "/p", true, env);
  ASSERT_TRUE(flag.ok() && flag->has_value());
  EXPECT_EQ((*flag)->uri, "sqlite:///flag.db");
  EXPECT_EQ((*flag)->artifacts, "/p/.plinth/artifacts");
  EXPECT_EQ((*flag)->user, "ana");
  auto plinth_env = LocateTrackingStore("", "/p", true, env);
  EXPECT_EQ((*plinth_env)->uri, "sqlite:///env.db");
  EXPECT_EQ((*plinth_env)->source, "$PLINTH_TRACKING_URI");
  auto mlflow_env =
      LocateTrackingStore("", "/p", true, Env({{"MLFLOW_TRACKING_URI", "sqlite:///m.db"}}));
  EXPECT_EQ((*mlflow_env)->uri, "sqlite:///m.db");
  auto project = LocateTrackingStore("", "/p", true, Env({}));
  EXPECT_EQ((*project)->uri, "sqlite:////p/.plinth/plinth.db");
  EXPECT_EQ((*project)->source, "the project");
}

TEST(LocateTrackingStore, ArtifactRoots) {
  auto set =
      LocateTrackingStore("sqlite:///x.db", "", true, Env({{"PLINTH_ARTIFACTS_ROOT", "/a"}}));
  EXPECT_EQ((*set)->artifacts, "/a");
  auto server = LocateTrackingStore("http://127.0.0.1:5000", "/p", true,
                                    Env({{"XDG_CACHE_HOME", "/c"}, {"HOME", "/h"}}));
  EXPECT_EQ((*server)->artifacts, "/c/plinth/artifacts");
  auto home = LocateTrackingStore("https://t", "", true, Env({{"HOME", "/h"}}));
  EXPECT_EQ((*home)->artifacts, "/h/.cache/plinth/artifacts");
}

TEST(LocateTrackingStore, NothingNamed) {
  auto optional = LocateTrackingStore("", "", false, Env({}));
  ASSERT_TRUE(optional.ok());
  EXPECT_FALSE(optional->has_value());
  auto required = LocateTrackingStore("", "", true, Env({}));
  EXPECT_EQ(required.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(required.status().message().find("pass --tracking-uri"), std::string::npos);
  auto no_root =
      LocateTrackingStore("", "", true, Env({{"MLFLOW_TRACKING_URI", "sqlite:///m.db"}}));
  EXPECT_EQ(no_root.status().message(),
            "$MLFLOW_TRACKING_URI sqlite:///m.db: no artifact root outside a Plinth project; set "
            "PLINTH_ARTIFACTS_ROOT to the directory `plinth server --artifacts-root` serves");
}

}  // namespace
}  // namespace plinth::tracking

namespace plinth::tracking {
namespace {

// The MIME types MLflow's server answers (test_mime_type_for_download_artifacts_api and
// mlflow/utils/mime_type_utils.py), by extension, or by name for MLmodel and mlproject.
TEST(GuessMimeType, AsMlflowAnswers) {
  const std::pair<const char*, const char*> cases[] = {
      {"a.txt", "text/plain"},
      {"b.pkl", "application/octet-stream"},
      {"c.png", "image/png"},
      {"d.pdf", "application/pdf"},
      {"model/MLmodel", "text/plain"},
      {"mlproject", "text/plain"},
      {"m.json", "text/plain"},
      {"x/conda.yaml", "text/plain"},
      {"r.csv", "text/plain"},
      {"report.html", "text/html"},
      {".hidden", "application/octet-stream"},
      {"noext", "application/octet-stream"},
      {"a.JSON", "application/octet-stream"},  // extensions compare as MLflow does: exactly
  };
  for (const auto& [path, type] : cases) {
    EXPECT_EQ(GuessMimeType(path), type) << path;
  }
}

}  // namespace
}  // namespace plinth::tracking

namespace plinth::tracking {
namespace {

// Run artifact URIs the server keeps itself: MLflow's proxied scheme, and the artifact
// service's HTTP route that a --default-artifact-root of http://.../mlflow-artifacts/artifacts
// writes; anything else is not the server's.
TEST(ProxiedPath, SchemeAndHttpRoute) {
  EXPECT_EQ(ProxiedPath("mlflow-artifacts:/1/r/artifacts"), "1/r/artifacts");
  EXPECT_EQ(ProxiedPath("mlflow-artifacts://host:5000/1/r"), "1/r");
  EXPECT_EQ(ProxiedPath("http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts"),
            "1/r/artifacts");
  EXPECT_EQ(ProxiedPath("https://h/api/2.0/mlflow-artifacts/artifacts"), "");
  EXPECT_EQ(ProxiedPath("http://h/api/2.0/mlflow-artifacts/artifactsX/1"), std::nullopt);
  EXPECT_EQ(ProxiedPath("http://h/other/1"), std::nullopt);
  EXPECT_EQ(ProxiedPath("file:///tmp/a"), std::nullopt);
  EXPECT_EQ(ProxiedPath("s3://b/a"), std::nullopt);
}

}  // namespace
}  // namespace plinth::tracking
