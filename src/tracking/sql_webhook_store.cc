// WebhookStore over store::Database (SQLite and PostgreSQL alike): webhooks and their
// events, deleted ones kept with their deletion time as MLflow keeps them.
#include "tracking/mlflow_json.h"
#include "tracking/sql_stores.h"
#include "tracking/webhook_store.h"

namespace plinth::tracking {
namespace {

using store::Row;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "registry webhooks and the events they subscribe to",
     R"sql(
CREATE TABLE webhooks (
  webhook_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT,
  url TEXT NOT NULL,
  status TEXT NOT NULL,
  secret TEXT,
  creation_timestamp BIGINT NOT NULL,
  last_updated_timestamp BIGINT NOT NULL,
  deleted_timestamp BIGINT);
CREATE TABLE webhook_events (
  webhook_id TEXT NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
  position BIGINT NOT NULL,
  entity TEXT NOT NULL,
  action TEXT NOT NULL,
  PRIMARY KEY (webhook_id, entity, action));
CREATE INDEX webhook_events_by_event ON webhook_events (entity, action);
)sql"},
};

constexpr std::string_view kColumns =
    "webhook_id, name, description, url, status, secret, creation_timestamp, "
    "last_updated_timestamp";

class SqlWebhookStore : public WebhookStore {
 public:
  explicit SqlWebhookStore(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}

  Status Init() { return store::Migrate(*db_, "webhooks", kMigrations); }

  Status CreateWebhook(const Webhook& w) override {
    return db_->Transaction([&]() -> Status {
      Value row[] = {w.webhook_id,
                     w.name,
                     w.description.empty() ? Value() : Value(w.description),
                     w.url,
                     w.status,
                     w.secret.empty() ? Value() : Value(w.secret),
                     w.creation_timestamp,
                     w.last_updated_timestamp};
      PLINTH_RETURN_IF_ERROR(db_->Exec(
          "INSERT INTO webhooks (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          row));
      return PutEvents(w.webhook_id, w.events);
    });
  }

  Result<Webhook> GetWebhook(const std::string& id) override {
    Value k[] = {id};
    PLINTH_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT " + std::string(kColumns) +
                                                      " FROM webhooks WHERE webhook_id = ? AND "
                                                      "deleted_timestamp IS NULL",
                                                  k));
    if (rows.empty()) {
      return NotFound("Webhook with ID " + id + " not found.");
    }
    return Read(rows[0]);
  }

  Result<Page<Webhook>> ListWebhooks(int64_t max_results, const std::string& page_token) override {
    int64_t offset = 0;
    if (!page_token.empty()) {
      PLINTH_ASSIGN_OR_RETURN(offset, DecodePageToken(page_token));
    }
    Value k[] = {max_results + 1, offset};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT " + std::string(kColumns) +
                                  " FROM webhooks WHERE deleted_timestamp IS NULL ORDER BY "
                                  "creation_timestamp DESC, webhook_id LIMIT ? OFFSET ?",
                              k));
    Page<Webhook> page;
    for (size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < max_results; ++i) {
      PLINTH_ASSIGN_OR_RETURN(Webhook w, Read(rows[i]));
      page.items.push_back(std::move(w));
    }
    if (static_cast<int64_t>(rows.size()) > max_results) {
      page.next_page_token = EncodePageToken(offset + max_results);
    }
    return page;
  }

  Result<Webhook> UpdateWebhook(const std::string& id, const WebhookUpdate& u,
                                int64_t now_ms) override {
    PLINTH_ASSIGN_OR_RETURN(Webhook w, GetWebhook(id));
    // Later than before, even within the same millisecond (clients compare them).
    int64_t updated = std::max(now_ms, w.last_updated_timestamp + 1);
    PLINTH_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
      Value row[] = {u.name.value_or(w.name),
                     u.description ? Value(*u.description)
                                   : (w.description.empty() ? Value() : Value(w.description)),
                     u.url.value_or(w.url),
                     u.status.value_or(w.status),
                     u.secret ? Value(*u.secret) : (w.secret.empty() ? Value() : Value(w.secret)),
                     updated,
                     id};
      PLINTH_RETURN_IF_ERROR(
          db_->Exec("UPDATE webhooks SET name = ?, description = ?, url = ?, status = ?, secret = "
                    "?, last_updated_timestamp = ? WHERE webhook_id = ?",
                    row));
      if (u.events) {
        Value k[] = {id};
        PLINTH_RETURN_IF_ERROR(db_->Exec("DELETE FROM webhook_events WHERE webhook_id = ?", k));
        PLINTH_RETURN_IF_ERROR(PutEvents(id, *u.events));
      }
      return Status::Ok();
    }));
    return GetWebhook(id);
  }

  Status DeleteWebhook(const std::string& id, int64_t now_ms) override {
    PLINTH_RETURN_IF_ERROR(GetWebhook(id).status());
    Value row[] = {now_ms, now_ms, id};
    return db_->Exec(
        "UPDATE webhooks SET deleted_timestamp = ?, last_updated_timestamp = ? WHERE webhook_id = "
        "?",
        row);
  }

  Result<std::vector<Webhook>> Subscribers(const WebhookEvent& event) override {
    Value k[] = {event.entity, event.action};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT w.webhook_id, w.name, w.description, w.url, w.status, "
                              "w.secret, w.creation_timestamp, w.last_updated_timestamp FROM "
                              "webhooks w JOIN webhook_events e ON e.webhook_id = w.webhook_id "
                              "WHERE e.entity = ? AND e.action = ? AND w.deleted_timestamp IS "
                              "NULL AND w.status = 'ACTIVE' ORDER BY w.creation_timestamp",
                              k));
    std::vector<Webhook> out;
    for (const Row& r : rows) {
      PLINTH_ASSIGN_OR_RETURN(Webhook w, Read(r));
      out.push_back(std::move(w));
    }
    return out;
  }

 private:
  Status PutEvents(const std::string& id, const std::vector<WebhookEvent>& events) {
    int64_t position = 0;
    for (const WebhookEvent& e : events) {
      Value row[] = {id, position++, e.entity, e.action};
      Status s = db_->Exec(
          "INSERT INTO webhook_events (webhook_id, position, entity, action) VALUES (?, ?, ?, ?)",
          row);
      if (s.code() == StatusCode::kFailedPrecondition) {
        return InvalidArgument("Webhook events must not repeat: " + e.entity + "." + e.action +
                               " is listed twice.");
      }
      PLINTH_RETURN_IF_ERROR(s);
    }
    return Status::Ok();
  }

  Result<Webhook> Read(const Row& r) {
    Webhook w;
    w.webhook_id = r.Text(0);
    w.name = r.Text(1);
    w.description = r.Text(2);
    w.url = r.Text(3);
    w.status = r.Text(4);
    w.secret = r.Text(5);
    w.creation_timestamp = r.Int(6);
    w.last_updated_timestamp = r.Int(7);
    Value k[] = {w.webhook_id};
    PLINTH_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT entity, action FROM webhook_events "
                                                  "WHERE webhook_id = ? ORDER BY position",
                                                  k));
    for (const Row& e : rows) {
      w.events.push_back({e.Text(0), e.Text(1)});
    }
    return w;
  }

  std::unique_ptr<store::Database> db_;
};

}  // namespace

Result<std::unique_ptr<WebhookStore>> OpenWebhookStore(const std::string& store_uri) {
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, store::OpenDatabase(store_uri));
  auto s = std::make_unique<SqlWebhookStore>(std::move(db));
  PLINTH_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<WebhookStore>(std::move(s));
}

}  // namespace plinth::tracking
