// plinth-model.json, typed: a hand-written file parses to its fields and back, and every
// malformed key is an error naming the file and the key.
#include "ml/bundle_meta.h"

#include <gtest/gtest.h>

namespace plinth::ml {
namespace {

core::Json Minimal() {
  return core::ParseJson(R"({
    "format": "plinth.model/v1", "name": "m", "uuid": "u1", "kind": "gbdt", "task": "binary",
    "model_file": "model.ubj", "target": {"name": "y", "type": "string"},
    "class_labels": ["no", 1], "threshold": 0.3,
    "input_schema": [{"name": "a", "type": "float64"}, {"name": "b", "type": "string"}],
    "feature_names": ["a", "b=x"], "versions": {"plinth": "0.1.0"}})",
                         "t")
      .value();
}

TEST(BundleMeta, ParsesTheFieldsOfAFile) {
  auto m = BundleMetaFromJson(Minimal(), "plinth-model.json");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->task, Task::kBinary);
  EXPECT_EQ(m->class_labels, (std::vector<std::string>{"no", "1"}));  // a number kept as text
  EXPECT_DOUBLE_EQ(m->threshold, 0.3);
  ASSERT_EQ(m->input_schema.size(), 2);
  EXPECT_EQ(m->input_schema.field(1).type, table::DataType::kString);
  EXPECT_EQ(m->target_name, "y");
  EXPECT_EQ(m->versions.at("plinth"), "0.1.0");
  EXPECT_FALSE(m->trained.has_value());
  EXPECT_FALSE(m->imported);
  const core::Json back = ToJson(*m);
  EXPECT_EQ(back["positive_class"], "1");
  EXPECT_EQ(back["input_schema"], Minimal()["input_schema"]);
  EXPECT_FALSE(back.contains("metrics"));  // no training record: none written
}

TEST(BundleMeta, MalformedKeysAreNamed) {
  struct Case {
    const char* key;
    core::Json value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"format", "plinth.model/v9", "f.json: expected \"format\": \"plinth.model/v1\""},
      {"task", "ranking", "f.json: key 'task': "},
      {"kind", 3, "f.json: key 'kind': expected a string"},
      {"class_labels", "yes", "f.json: key 'class_labels': expected"},
      {"class_labels", core::Json::array({core::Json::object()}),
       "f.json: key 'class_labels': expected a list of strings"},
      {"input_schema", core::Json::array({{{"name", "a"}, {"type", "complex"}}}),
       "f.json: key 'input_schema': column \"a\": "},
      {"threshold", "high", "f.json: key 'threshold': expected a number"},
      {"training",
       {{"history_train_validation", {{1.0}}}},
       "f.json: key 'training': key 'history_train_validation': expected [train, validation]"},
      {"data", {{"cleaning", {{{"step", 1}}}}}, "f.json: key 'data': key 'cleaning': key 'step'"},
  };
  for (const Case& c : cases) {
    core::Json j = Minimal();
    j[c.key] = c.value;
    auto m = BundleMetaFromJson(j, "f.json");
    ASSERT_FALSE(m.ok()) << c.key;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << c.key;
    EXPECT_NE(m.status().message().find(c.message), std::string::npos)
        << c.key << ": " << m.status().message();
  }
  core::Json j = Minimal();
  j.erase("input_schema");
  auto m = BundleMetaFromJson(j, "f.json");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("f.json: key 'input_schema': missing"), std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace plinth::ml
