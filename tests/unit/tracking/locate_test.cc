// The rules that find a command's tracking store.
#include <gtest/gtest.h>

#include <map>
#include <string>

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
