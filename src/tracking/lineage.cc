#include "tracking/lineage.h"

#include <deque>
#include <set>
#include <utility>

namespace plinth::tracking {

Result<std::vector<LineageEdge>> LineageGraph(TrackingStore& store, const std::string& id) {
  std::set<std::string> seen = {id};
  std::deque<std::string> todo = {id};
  std::set<std::pair<std::string, std::string>> edge_keys;
  std::vector<LineageEdge> edges;
  while (!todo.empty()) {
    std::string next = std::move(todo.front());
    todo.pop_front();
    PLINTH_ASSIGN_OR_RETURN(std::vector<LineageEdge> found, store.LineageOf(next));
    for (LineageEdge& e : found) {
      if (!edge_keys.emplace(e.src_id, e.dst_id).second) {
        continue;
      }
      for (const std::string* end : {&e.src_id, &e.dst_id}) {
        if (seen.insert(*end).second) {
          todo.push_back(*end);
        }
      }
      edges.push_back(std::move(e));
    }
  }
  if (edges.empty()) {
    return NotFound("no lineage recorded for '" + id + "'");
  }
  return edges;
}

}  // namespace plinth::tracking
