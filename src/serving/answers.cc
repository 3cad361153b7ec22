#include "serving/answers.h"

#include <algorithm>
#include <cmath>

#include "table/value_parse.h"

namespace plinth::serving {
namespace {

using core::Json;
using core::JsonWriter;

// How class labels travel: as integers or numbers when every label of the model
// is one (the training target held numbers), else as strings.
enum class LabelKind { kInt, kFloat, kText };

LabelKind KindOfLabels(const std::vector<std::string>& labels) {
  LabelKind kind = LabelKind::kInt;
  for (const std::string& label : labels) {
    int64_t i = 0;
    double d = 0;
    if (table::ParseInt64(label, i) && std::to_string(i) == label) {
      continue;
    }
    if (!label.empty() && table::ParseFloat64(label, d) && std::isfinite(d)) {
      kind = LabelKind::kFloat;
      continue;
    }
    return LabelKind::kText;
  }
  return kind;
}

// Each class label as JSON text, in the form KindOfLabels gives them.
std::vector<std::string> RenderLabels(const std::vector<std::string>& labels) {
  const LabelKind kind = KindOfLabels(labels);
  std::vector<std::string> out;
  for (const std::string& label : labels) {
    std::string text;
    int64_t i = 0;
    double d = 0;
    switch (kind) {
      case LabelKind::kInt:
        table::ParseInt64(label, i);
        text = std::to_string(i);
        break;
      case LabelKind::kFloat:
        table::ParseFloat64(label, d);
        core::AppendJsonDouble(&text, d);
        break;
      case LabelKind::kText:
        core::AppendJsonString(&text, label);
        break;
    }
    out.push_back(std::move(text));
  }
  return out;
}

// The predictions array: class labels for classifiers, values for regressors.
void WritePredictions(JsonWriter& w, const ml::Predictor& predictor, const ml::Prediction& pred) {
  std::string text;
  {
    core::JsonAppender a(&text);
    a.Char('[');
    if (pred.task == ml::Task::kRegression) {
      for (size_t i = 0; i < pred.values.size(); ++i) {
        if (i > 0) {
          a.Char(',');
        }
        a.Double(pred.values[i]);
      }
    } else {
      const std::vector<std::string> labels = RenderLabels(predictor.class_labels());
      for (size_t i = 0; i < pred.classes.size(); ++i) {
        if (i > 0) {
          a.Char(',');
        }
        a.Raw(labels[static_cast<size_t>(pred.classes[i])]);
      }
    }
    a.Char(']');
  }
  w.Raw(text);
}

// The probabilities, as one array per row ([[p0, p1], ...]) or flat in row order.
void WriteProbabilities(JsonWriter& w, const ml::Prediction& pred, bool nested) {
  std::string text;
  {
    core::JsonAppender a(&text);
    const auto k = static_cast<size_t>(pred.num_classes);
    char* p = a.Claim(pred.proba.size() * (core::kMaxJsonDoubleChars + 3) + 4);
    *p++ = '[';
    for (size_t i = 0; i < pred.proba.size(); ++i) {
      if (i % k == 0) {
        if (i > 0) {
          if (nested) {
            p = std::copy_n("],[", 3, p);
          } else {
            *p++ = ',';
          }
        } else if (nested) {
          *p++ = '[';
        }
      } else {
        *p++ = ',';
      }
      p = core::WriteJsonDouble(p, pred.proba[i]);
    }
    a.Commit(p);
    a.Raw(nested && !pred.proba.empty() ? "]]" : "]");
  }
  w.Raw(text);
}

// "predictions"' datatype in KServe v2.
std::string_view PredictionType(const ml::Predictor& predictor) {
  if (predictor.task() == ml::Task::kRegression) {
    return "FP64";
  }
  switch (KindOfLabels(predictor.class_labels())) {
    case LabelKind::kInt:
      return "INT64";
    case LabelKind::kFloat:
      return "FP64";
    case LabelKind::kText:
      return "BYTES";
  }
  return "BYTES";
}

}  // namespace

void WritePredictAnswer(std::string* out, const ml::Predictor& predictor,
                        const ml::Prediction& pred, std::string_view version,
                        std::string_view timestamp, std::string_view request_id) {
  JsonWriter w(out);
  w.BeginObject().Key("predictions");
  WritePredictions(w, predictor, pred);
  if (pred.task != ml::Task::kRegression) {
    w.Key("probabilities");
    WriteProbabilities(w, pred, true);
    w.Key("classes").BeginArray();
    for (const std::string& label : RenderLabels(predictor.class_labels())) {
      w.Raw(label);
    }
    w.EndArray();
  }
  w.Field("model_version", version)
      .Field("timestamp", timestamp)
      .Field("request_id", request_id)
      .EndObject();
}

void WritePredictionsOnly(std::string* out, const ml::Predictor& predictor,
                          const ml::Prediction& pred) {
  JsonWriter w(out);
  w.BeginObject().Key("predictions");
  WritePredictions(w, predictor, pred);
  w.EndObject();
}

void WriteInferAnswer(std::string* out, const ml::Predictor& predictor, const ml::Prediction& pred,
                      const InferRequest& request, std::string_view name,
                      std::string_view version) {
  JsonWriter w(out);
  w.BeginObject().Field("model_name", name).Field("model_version", version);
  if (request.id) {
    w.Field("id", *request.id);
  }
  w.Key("outputs").BeginArray();
  if (request.want_predictions) {
    w.BeginObject()
        .Field("name", "predictions")
        .Field("datatype", PredictionType(predictor))
        .Key("shape")
        .BeginArray()
        .Int(pred.rows)
        .EndArray()
        .Key("data");
    WritePredictions(w, predictor, pred);
    w.EndObject();
  }
  if (request.want_probabilities && pred.task != ml::Task::kRegression) {
    w.BeginObject()
        .Field("name", "probabilities")
        .Field("datatype", "FP64")
        .Key("shape")
        .BeginArray()
        .Int(pred.rows)
        .Int(pred.num_classes)
        .EndArray()
        .Key("data");
    WriteProbabilities(w, pred, false);
    w.EndObject();
  }
  w.EndArray().EndObject();
}

Json ModelMetadata(const ml::Predictor& predictor, std::string_view name, std::string_view version,
                   const table::Schema* request_schema) {
  Json inputs = Json::array();
  for (const table::Field& f :
       (request_schema != nullptr ? *request_schema : predictor.input_schema()).fields()) {
    inputs.push_back({{"name", f.name}, {"datatype", TensorType(f.type)}, {"shape", {-1}}});
  }
  Json outputs = Json::array();
  outputs.push_back(
      {{"name", "predictions"}, {"datatype", PredictionType(predictor)}, {"shape", {-1}}});
  if (predictor.task() != ml::Task::kRegression) {
    outputs.push_back({{"name", "probabilities"},
                       {"datatype", "FP64"},
                       {"shape", {-1, static_cast<int64_t>(predictor.class_labels().size())}}});
  }
  return Json{{"name", name},
              {"versions", {version}},
              {"platform", "plinth_" + (predictor.meta().kind.empty() ? std::string("model")
                                                                      : predictor.meta().kind)},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)}};
}

}  // namespace plinth::serving
