// The checks and signature of MLflow 3's registry webhooks (server/webhooks.h): MLflow's
// name and URL rules and messages, the non-public addresses a receiver may not have, the
// event combinations MLflow defines, and the signature a receiver recomputes.
#include "server/webhooks.h"

#include <gtest/gtest.h>

#include <string>

#include "core/hash.h"
#include "core/json.h"
#include "server/mlflow_api.h"
#include "testutil/testutil.h"

namespace plinth::server {
namespace {

using core::Json;

TEST(WebhooksTest, NamesAsMlflowValidatesThem) {
  for (const char* ok : {"a", "deploy-bot", "x.y_z-1", "A9"}) {
    EXPECT_TRUE(CheckWebhookName(ok).ok()) << ok;
  }
  for (const std::string& bad : {std::string(""), std::string("-a"), std::string("a-"),
                                 std::string("bad name!"), std::string(64, 'a')}) {
    Status s = CheckWebhookName(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("is invalid. It must start and end with a letter or digit"),
              std::string::npos);
  }
}

TEST(WebhooksTest, UrlsNeedAnAllowedSchemeAndAPublicAddress) {
  WebhookPolicy strict;  // MLflow's defaults: https, public addresses only
  using namespace std::string_literals;
  struct Case {
    std::string url;
    const char* error;
  };
  for (const Case& c : {
           Case{"   ", "Webhook URL cannot be empty or just whitespace: '   '"},
           Case{"ftp://example.com",
                "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https."},
           Case{"http://example.com", "Invalid webhook URL scheme: 'http'"},
           Case{"https://", "Webhook URL must include a hostname"},
           Case{"https://[::1", "Invalid webhook URL"},
           Case{"https://host:99999/x", "the port is not 1 to 65535"},
           Case{"https://127.0.0.1/x",
                "must not resolve to a non-public IP address. '127.0.0.1' "
                "resolves to 127.0.0.1."},
           Case{"https://10.1.2.3/x", "non-public"},
           Case{"https://169.254.169.254/latest/meta-data", "non-public"},  // cloud metadata
           Case{"https://[::1]:8443/x", "non-public"},
           Case{"https://[::ffff:192.168.0.1]/x", "non-public"},
           Case{"https://[fd00::1]/x", "non-public"},
           Case{"https://100.64.0.1/x", "non-public"},
           Case{"https://user@0.0.0.0/x", "non-public"},
           Case{"https://[::7f00:1]/x", "non-public"},        // IPv4-compatible
           Case{"https://[64:ff9b::a00:1]/x", "non-public"},  // NAT64 of 10.0.0.1
           Case{"https://[2002:a00:1::1]/x", "non-public"},   // 6to4
           Case{"https://[fec0::1]/x", "non-public"},         // site-local
           // What a hostile review found: libcurl reads a URL up to its NUL, so the host
           // checked after '@' was not the host connected to (a read-SSRF through /test).
           Case{"http://127.0.0.1:5099\0@8.8.8.8/"s, "control characters"},
           Case{"https://8.8.8.8\\@127.0.0.1/", "backslashes"},
           Case{"https://%6cocalhost/x", "plain name or address"},
           Case{"https://b\xC3\xBC"
                "cher.example/x",
                "plain name or address"},
       }) {
    auto r = CheckWebhookUrl(c.url, strict);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos)
        << c.url << " -> " << r.status().message();
  }
  auto pub = CheckWebhookUrl("https://8.8.8.8:8443/hook", strict);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->host, "8.8.8.8");
  EXPECT_EQ(pub->port, 8443);
  EXPECT_EQ(pub->address, "");  // an address already: nothing to resolve again or pin
  WebhookPolicy open;
  open.allowed_schemes = {"http", "https"};
  open.allow_private_ips = true;
  auto local = CheckWebhookUrl("http://127.0.0.1:9/x", open);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->port, 9);
  // Credentials in a URL stay out of messages.
  auto secretive = CheckWebhookUrl("ftp://bob:hunter2@example.com/x", strict);
  ASSERT_FALSE(secretive.ok());
  auto spaced = CheckWebhookUrl("https://bob:hunter2@exa mple.com/x", strict);
  ASSERT_FALSE(spaced.ok());
  EXPECT_EQ(spaced.status().message().find("hunter2"), std::string::npos)
      << spaced.status().message();
}

TEST(WebhooksTest, EventsAreMlflowsCombinations) {
  auto e = ReadWebhookEvent(Json{{"entity", "MODEL_VERSION"}, {"action", "CREATED"}});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->entity, "MODEL_VERSION");
  auto numbered = ReadWebhookEvent(Json{{"entity", 4}, {"action", 3}});
  ASSERT_TRUE(numbered.ok());
  EXPECT_EQ(numbered->entity, "MODEL_VERSION_ALIAS");
  EXPECT_EQ(numbered->action, "DELETED");
  auto bad = ReadWebhookEvent(Json{{"entity", "REGISTERED_MODEL"}, {"action", "UPDATED"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "Invalid action 'updated' for entity 'registered_model'. Valid actions are: "
            "['created']");
  EXPECT_FALSE(ReadWebhookEvent(Json{{"entity", "MODEL_VERSION"}}).ok());  // MLflow: a 500
  EXPECT_FALSE(ReadWebhookEvent(Json{{"entity", 0}, {"action", 1}}).ok());
  EXPECT_FALSE(ReadWebhookEvent(Json::array()).ok());
}

TEST(WebhooksTest, SignatureIsStandardWebhooksHmac) {
  // Python: "v1," + base64(hmac.new(b"k", b"id.1.{}", sha256).digest())
  EXPECT_EQ(WebhookSignature("k", "id", "1", "{}"),
            "v1,g7RitEqJvu8yMbDC6clEYxfin7F9RZIMzpsXDw051Xc=");
}

// Under --auth, webhooks (which see every registry event) are an admin's to manage.
TEST(WebhooksTest, OnlyAdminsManageWebhooksUnderAuth) {
  testutil::TempDir dir;
  AuthOptions auth;
  auth.admin_username = "admin";
  auth.admin_password = "pw";
  ApiOptions options{"sqlite:///" + dir.File("m.db"), dir.File("art"), "test"};
  options.auth = auth;
  auto api = MlflowApi::Create(options);
  ASSERT_TRUE(api.ok());
  auto call = [&](const std::string& user, const std::string& method, const std::string& path,
                  const std::string& body) {
    http::Request r;
    r.method = method;
    r.path = r.target = path;
    r.headers = {{"authorization", "Basic " + core::Base64Encode(user)},
                 {"content-type", "application/json"}};
    r.body = body;
    return (*api)->HandleForTesting(std::move(r));
  };
  ASSERT_EQ(call("admin:pw", "POST", "/api/2.0/mlflow/users/create",
                 R"({"username": "u", "password": "upw"})")
                .status,
            200);
  EXPECT_EQ(call("u:upw", "GET", "/api/2.0/mlflow/webhooks", "").status, 403);
  EXPECT_EQ(call("u:upw", "DELETE", "/api/2.0/mlflow/webhooks/x", "").status, 403);
  EXPECT_EQ(call("admin:pw", "GET", "/api/2.0/mlflow/webhooks", "").status, 200);
  EXPECT_EQ(call("admin:pw", "GET", "/api/2.0/mlflow/webhooks/x", "").status, 404);
}

}  // namespace
}  // namespace plinth::server
