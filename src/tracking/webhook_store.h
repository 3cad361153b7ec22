// MLflow 3's registry webhooks (mlflow/protos/webhooks.proto): who is told, at which
// URL, of which registry events. No SQL here: the store over the metadata store is
// sql_stores.h's OpenWebhookStore. A store is one connection: not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"

namespace plinth::tracking {

// An event a webhook subscribes to, by MLflow's proto names: {"MODEL_VERSION", "CREATED"}.
struct WebhookEvent {
  std::string entity;
  std::string action;
  bool operator==(const WebhookEvent&) const = default;
};

struct Webhook {
  std::string webhook_id;  // a UUID
  std::string name;
  std::string description;
  std::string url;
  std::vector<WebhookEvent> events;
  std::string status = "ACTIVE";  // ACTIVE or DISABLED
  std::string secret;             // signs deliveries; never answered to a client
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
};

// The fields an update changes: each set one replaces the stored value.
struct WebhookUpdate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> url;
  std::optional<std::vector<WebhookEvent>> events;
  std::optional<std::string> secret;
  std::optional<std::string> status;
};

class WebhookStore {
 public:
  virtual ~WebhookStore() = default;

  // Stores `w` (its id and times set by the caller) in one transaction.
  virtual Status CreateWebhook(const Webhook& w) = 0;
  // kNotFound "Webhook with ID X not found." for an unknown or deleted one.
  virtual Result<Webhook> GetWebhook(const std::string& webhook_id) = 0;
  // Newest first; `page_token` MLflow's offset token.
  virtual Result<Page<Webhook>> ListWebhooks(int64_t max_results,
                                             const std::string& page_token) = 0;
  virtual Result<Webhook> UpdateWebhook(const std::string& webhook_id, const WebhookUpdate& u,
                                        int64_t now_ms) = 0;
  // A soft delete: the webhook is gone for every other call.
  virtual Status DeleteWebhook(const std::string& webhook_id, int64_t now_ms) = 0;
  // The active webhooks subscribed to `event`.
  virtual Result<std::vector<Webhook>> Subscribers(const WebhookEvent& event) = 0;
};

}  // namespace plinth::tracking
