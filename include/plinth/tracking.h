// Plinth's C++ tracking client: experiments, runs, params, metrics, tags,
// dataset inputs, artifacts, search (MLflow's filter syntax), the model
// registry (versions, stages, aliases and their history) and lineage, on the
// embedded store or over HTTP, through the same interfaces.
//
//   auto client = plinth::tracking::OpenTrackingClient("http://127.0.0.1:5000", cache_dir);
//   auto exp = client->tracking->CreateExperiment("churn", "", {});
//   auto run = client->tracking->CreateRun({.experiment_id = *exp});
//   client->tracking->LogMetric(run->info.run_id, {"acc", 0.91, now_ms, 0});
//   client->registry->SetAlias("churn", "production", "3", "ana");
//
// URIs: sqlite:///PATH, postgresql://USER:PASSWORD@HOST:PORT/DB, http(s)://HOST:PORT.
// Model URIs (models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID/PATH) resolve
// to local bundle directories with ResolveModelUri.
#pragma once

#include "tracking/client.h"
#include "tracking/entities.h"
#include "tracking/model_uri.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"
