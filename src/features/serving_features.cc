#include "features/serving_features.h"

#include <map>
#include <set>

namespace plinth::features {

using table::DataType;
using table::Field;

Result<std::shared_ptr<const ServingFeatures>> ServingFeatures::Create(
    const Definitions& latest, const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
    std::shared_ptr<OnlineStore> store, const std::vector<std::string>& features,
    const table::Schema& model_inputs, const core::Clock& clock) {
  std::shared_ptr<ServingFeatures> s(new ServingFeatures());
  s->store_ = std::move(store);
  s->clock_ = &clock;
  s->model_inputs_ = model_inputs;
  s->defs_.entities = latest.entities;
  std::map<std::string, DataType> outputs;  // feature name -> its type
  std::set<std::string> labels;
  for (const std::string& text : features) {
    PLINTH_ASSIGN_OR_RETURN(FeatureRef r, ParseFeatureRef(text));
    if (r.group.empty()) {
      const OnDemandFeature* f = latest.FindOnDemand(r.feature);
      if (f == nullptr) {
        return NotFound("the model reads the on-demand feature '" + r.feature +
                        "', which the feature registry no longer defines");
      }
      s->defs_.on_demand.push_back(*f);
      outputs[r.feature] = f->type;
    } else {
      PLINTH_ASSIGN_OR_RETURN(FeatureGroup g, groups(r));
      const Field* f = g.Feature(r.feature);
      if (f == nullptr) {
        return NotFound("feature group " + g.Label() + " has no feature '" + r.feature + "'");
      }
      outputs[r.feature] = f->type;
      if (labels.insert(g.Label()).second) {
        s->groups_.push_back(std::move(g));
      }
    }
    s->refs_.push_back(r);
  }
  PLINTH_RETURN_IF_ERROR(CheckOutputNames(s->refs_, false));
  // The request: the model's inputs that are not features, then keys and request values.
  std::vector<Field> request;
  std::set<std::string> names;
  for (const Field& f : model_inputs.fields()) {
    const auto out = outputs.find(f.name);
    if (out == outputs.end()) {
      request.push_back(f);
      names.insert(f.name);
    } else if (out->second != f.type &&
               !(out->second == DataType::kInt64 && f.type == DataType::kFloat64)) {
      return InvalidArgument("the model reads '" + f.name + "' as " +
                             std::string(table::TypeName(f.type)) + ", the feature is " +
                             std::string(table::TypeName(out->second)));
    }
  }
  const auto add = [&](const Field& f) -> Status {
    if (outputs.count(f.name) != 0) {
      return InvalidArgument("'" + f.name + "' is both a feature and a key or request value");
    }
    if (names.insert(f.name).second) {
      request.push_back(f);
    }
    return Status::Ok();
  };
  for (const FeatureGroup& g : s->groups_) {
    for (const Field& k : g.join_keys) {
      PLINTH_RETURN_IF_ERROR(add(k));
    }
  }
  for (const OnDemandFeature& f : s->defs_.on_demand) {
    for (const Field& r : f.request) {
      PLINTH_RETURN_IF_ERROR(add(r));
    }
  }
  s->request_schema_ = table::Schema(std::move(request));
  s->counts_ = std::make_unique<std::atomic<int64_t>[]>(s->refs_.size() * 4);
  return std::shared_ptr<const ServingFeatures>(std::move(s));
}

Result<table::Table> ServingFeatures::Complete(const table::Table& request) const {
  OnlineQuery q;
  q.features = refs_;
  q.entities = request;
  PLINTH_ASSIGN_OR_RETURN(OnlineAnswer a, LookupOnline(
                                              defs_,
                                              [this](const FeatureRef& r) -> Result<FeatureGroup> {
                                                for (const FeatureGroup& g : groups_) {
                                                  if (g.name == r.group && g.version == r.version) {
                                                    return g;
                                                  }
                                                }
                                                return NotFound("feature group " + r.group + "@" +
                                                                std::to_string(r.version) +
                                                                " is not among the model's");
                                              },
                                              *store_, q, clock_->NowMicros()));
  // The answer's columns by name (the join keys, then the features: stored ones in the refs'
  // order, on-demand ones after them; each name once, as Create checked).
  std::map<std::string, size_t> looked_up;
  for (size_t c = 0; c < a.names.size(); ++c) {
    looked_up.emplace(a.names[c], c);
  }
  for (size_t i = 0; i < refs_.size(); ++i) {
    const auto at = looked_up.find(refs_[i].feature);
    if (at == looked_up.end()) {
      return Internal("feature lookup: no column '" + refs_[i].feature + "' in the answer");
    }
    for (const FeatureStatus st : a.statuses[at->second]) {
      counts_[i * 4 + static_cast<size_t>(st)].fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::vector<table::Column> cols;
  for (const Field& f : model_inputs_.fields()) {
    const auto it = looked_up.find(f.name);
    if (it == looked_up.end()) {
      const table::Column* c = request.ColumnByName(f.name);
      if (c == nullptr) {
        return InvalidArgument("no values for '" + f.name + "'");
      }
      cols.push_back(*c);
      continue;
    }
    table::Column& c = a.values[it->second];
    if (c.type() != f.type) {
      PLINTH_ASSIGN_OR_RETURN(c, c.CastTo(f.type));
    }
    cols.push_back(std::move(c));
  }
  return table::Table(model_inputs_, std::move(cols));
}

std::vector<ServingFeatures::Count> ServingFeatures::Counts() const {
  std::vector<Count> out;
  for (size_t i = 0; i < refs_.size(); ++i) {
    Count c;
    c.feature = refs_[i].Text();
    for (size_t k = 0; k < 4; ++k) {
      c.by_status[k] = counts_[i * 4 + k].load(std::memory_order_relaxed);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace plinth::features
