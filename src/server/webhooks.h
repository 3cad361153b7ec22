// Internal to the server module.
// MLflow 3's registry webhooks (mlflow/webhooks, 3.10.1): the events a registry route
// fires, their payloads, the URL checks, and delivery as MLflow signs and retries it.
//
// Delivery is asynchronous (a registry write never waits for, or fails because of, a
// receiver): POST {"entity", "action", "timestamp", "data"} with X-MLflow-Delivery-Id,
// X-MLflow-Timestamp and, with a secret, X-MLflow-Signature "v1," + base64(HMAC-SHA256(
// secret, "<delivery id>.<timestamp>.<body>")); retried on 429 and 5xx and connection
// errors (Retry-After honoured). The URL is checked again before every send and the
// checked address is the one connected to, so a name cannot be re-pointed in between.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "tracking/service.h"
#include "tracking/webhook_store.h"

namespace plinth::core {
class ThreadPool;
}

namespace plinth::server {

// MLflow's MLFLOW_WEBHOOK_* settings, read from the environment at start.
struct WebhookPolicy {
  std::vector<std::string> allowed_schemes = {"https"};
  bool allow_private_ips = false;
  int timeout_seconds = 30;
  int max_retries = 3;
  static WebhookPolicy FromEnvironment();
};

// Where a checked URL connects: its host, port and the public address it resolved to
// (empty when private addresses are allowed and the name is left to resolve).
struct WebhookTarget {
  std::string host;
  int port = 0;
  std::string address;
};

// MLflow's _validate_webhook_url: a string with an allowed scheme and a host that
// resolves to public addresses only (unless allowed). InvalidArgument with MLflow's
// messages.
Result<WebhookTarget> CheckWebhookUrl(const std::string& url, const WebhookPolicy& policy);

// MLflow's _validate_webhook_name.
Status CheckWebhookName(const std::string& name);

// {"entity": "MODEL_VERSION", "action": "CREATED"} (names or numbers) to an event;
// InvalidArgument for a combination MLflow does not define.
Result<tracking::WebhookEvent> ReadWebhookEvent(const core::Json& j);

// The example payload MLflow's /test sends for `event`.
core::Json ExamplePayload(const tracking::WebhookEvent& event);

// A random UUID as Python's str(uuid4()) writes it.
std::string NewUuid();

// The "v1,..." signature of `body` sent as `delivery_id` at `timestamp` (Unix seconds).
std::string WebhookSignature(const std::string& secret, const std::string& delivery_id,
                             const std::string& timestamp, const std::string& body);

class WebhookSender {
 public:
  explicit WebhookSender(WebhookPolicy policy);
  ~WebhookSender();

  // Queues a delivery of `event` with `data` to every active subscriber (looked up
  // now, on `stores`); returns at once. Failures are logged, never returned.
  void Fire(tracking::Service::Lease& stores, const tracking::WebhookEvent& event,
            const core::Json& data);

  // MLflow's /test: `event`'s example payload sent to `hook` now (also when it is
  // disabled); {"success", "response_status", "response_body"} or
  // {"success": false, "error_message"}. It runs on the request's thread, so it is one
  // attempt of at most 10 s, and one test at a time.
  core::Json Test(const tracking::Webhook& hook, const tracking::WebhookEvent& event) const;

  const WebhookPolicy& policy() const { return policy_; }

 private:
  struct Outcome {
    int status = 0;
    std::string body;
    std::string error;  // set when no answer came
  };
  Outcome Deliver(const tracking::Webhook& hook, const tracking::WebhookEvent& event,
                  const core::Json& data, int attempts, int timeout_seconds) const;

  WebhookPolicy policy_;
  std::unique_ptr<core::ThreadPool> pool_;
  std::atomic<int> queued_{0};
  std::atomic<bool> stopping_{false};
  mutable std::atomic<bool> testing_{false};
};

}  // namespace plinth::server
