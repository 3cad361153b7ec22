// The reference a model is monitored against (its bundle's reference set, or a file the
// user names), read with the model's types: shared by plinth monitor and plinth serve
// --monitor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/bundle.h"
#include "table/csv_reader.h"
#include "tracking_context.h"

namespace plinth::cli {

// The reference data, and the model it belongs to when MODEL was given.
struct Reference {
  std::unique_ptr<ml::Predictor> model;
  std::string model_name;  // MODEL as given
  table::Table table;
  std::string source;
};

// A column read as numbers where the model has text (a code of digits), or as text
// where the model has numbers, is cast to the model's type, so both samples hold the
// same kind of values.
Status ConformTypes(table::Table& t, const ml::Predictor& p, const std::string& source);

// Data without the model's outputs is scored by the model, so prediction drift can be
// judged (when it has every input column; else it is left as it is).
Status AddOutputs(table::Table& t, const ml::Predictor& p, const std::string& source);

// The reference: `reference_flag`, else the reference set of `model` (resolved through
// the tracking flags; `version` gets the registry's version of a models:/ URI).
Result<Reference> LoadReference(const std::string& model, const std::string& reference_flag,
                                const TrackingFlags& tracking, const table::CsvOptions& csv,
                                tracking::ModelVersion* version = nullptr);

// The reference set of the bundle in `dir` (kInvalidArgument naming `model_name` when
// it has none), read as `model`'s types and scored when it lacks the outputs.
Result<table::Table> ReadReferenceSet(const std::string& dir, const std::string& model_name,
                                      const ml::Predictor& model, const table::CsvOptions& csv);

// The model's input column names.
std::vector<std::string> InputNames(const ml::Predictor& p);

}  // namespace plinth::cli
