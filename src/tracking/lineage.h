// Lineage as a graph: every edge connected to one id, upstream and downstream
// (data version -> pipeline run -> training run -> model version ->
// deployment), from the edges the stores record (TrackingStore::AddLineage).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"
#include "tracking/tracking_store.h"

namespace plinth::tracking {

// Every edge reachable from `id` following edges both ways, each once, in the
// order a breadth-first walk meets them (edges of one node oldest first).
// Errors: the store's; kNotFound when no edge touches `id`. Makes one
// LineageOf call per node reached (over HTTP: one request each).
Result<std::vector<LineageEdge>> LineageGraph(TrackingStore& store, const std::string& id);

}  // namespace plinth::tracking
