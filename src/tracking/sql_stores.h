// Internal to the tracking module and its tests: the SQL stores.
// The tracking and registry stores over Plinth's metadata store (store::Database):
// one schema and one SQL dialect for SQLite and PostgreSQL. Only what opens a
// store on a database includes this; everything else sees the interfaces
// (tracking_store.h, registry_store.h), which know nothing of SQL.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "store/database.h"
#include "tracking/auth_store.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"
#include "tracking/webhook_store.h"

namespace plinth::tracking {

// Opens the tracking store on the database at `store_uri` (sqlite:///... or
// postgresql://...), applying schema migrations. New experiments keep their
// artifacts under `artifact_root`/<experiment id> unless told otherwise.
// Errors: the database's (unreachable, not a database, a newer schema).
Result<std::unique_ptr<TrackingStore>> OpenTrackingStore(
    const std::string& store_uri, const std::string& artifact_root,
    const core::Clock& clock = core::SystemClock());

// The same over an open database (the store takes it).
Result<std::unique_ptr<TrackingStore>> OpenTrackingStore(
    std::unique_ptr<store::Database> db, const std::string& artifact_root,
    const core::Clock& clock = core::SystemClock());

// The registry over the same database (the store takes it), or opened at `store_uri`.
Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(
    std::unique_ptr<store::Database> db, const core::Clock& clock = core::SystemClock());
Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(
    const std::string& store_uri, const core::Clock& clock = core::SystemClock());

// The users and grants of `plinth server --auth`, on the database at `store_uri`.
Result<std::unique_ptr<AuthStore>> OpenAuthStore(const std::string& store_uri);

// The registry's webhooks, on the database at `store_uri`.
Result<std::unique_ptr<WebhookStore>> OpenWebhookStore(const std::string& store_uri);

}  // namespace plinth::tracking
