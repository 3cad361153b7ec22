#include "pipeline/spec.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "pipeline/report.h"
#include "testutil/testutil.h"

namespace plinth::pipeline {
namespace {

Pipeline Parse(const std::string& text) {
  auto p = ParsePipeline(text, "plinth.yaml", "");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : Pipeline{};
}

std::vector<std::string> Names(const Pipeline& p, const std::vector<size_t>& order) {
  std::vector<std::string> out;
  for (size_t i : order) {
    out.push_back(p.stages[i].name);
  }
  return out;
}

struct BadSpec {
  const char* text;
  const char* message;
};

// Every error names plinth.yaml, the line and the key, and nothing is parsed.
TEST(ParsePipelineTest, ErrorsNameFileLineAndKey) {
  const BadSpec cases[] = {
      {"stages:\n  a:\n    cmd: x\n    dpes: [y]\n",
       "plinth.yaml:4: stage 'a': unknown key 'dpes' (expected always_changed, cache, cmd, deps, "
       "desc, env, metrics, needs, only, outs, params, wdir, when)"},
      {"stages:\n  a:\n    deps: [y]\n", "plinth.yaml:3: stage 'a': missing key 'cmd'"},
      {"stages:\n  a: echo\n", "plinth.yaml:2: stage 'a': expected a mapping with at least 'cmd'"},
      {"stage:\n  a:\n    cmd: x\n", "plinth.yaml: expected a mapping with a 'stages' key"},
      {"stages:\n  a:\n    cmd: x\nextra: 1\n",
       "plinth.yaml:4: unknown key 'extra' (expected stages)"},
      {"stages: []\n", "plinth.yaml:1: 'stages' must map stage names to stages"},
      {"stages:\n  a b:\n    cmd: x\n",
       "plinth.yaml:2: stage name \"a b\": use letters, digits, - and _"},
      {"stages:\n  a:\n    cmd: x\n    deps: [../up.csv]\n",
       "plinth.yaml:3: stage 'a': path \"../up.csv\" is outside the project"},
      {"stages:\n  a:\n    cmd: x\n    outs: [/etc/passwd]\n",
       "plinth.yaml:3: stage 'a': path \"/etc/passwd\" is outside the project"},
      {"stages:\n  a:\n    cmd: x\n    outs: out.txt\n",
       "plinth.yaml:3: stage 'a': key 'outs': expected a list"},
      {"stages:\n  a:\n    cmd: x\n    outs:\n      - [nested]\n",
       "plinth.yaml:5: key 'outs': expected a path or {path: P, cache: false}"},
      {"stages:\n  a:\n    cmd: x\n    outs: [.]\n",
       "plinth.yaml:3: stage 'a': key 'outs': the project root cannot be an output"},
      {"stages:\n  a:\n    cmd: x\n    deps:\n      - ok.csv\n      - {a: 1}\n",
       "plinth.yaml:6: stage 'a': key 'deps': expected a list of strings"},
      {"stages:\n  a:\n    cmd: x\n    when: sometimes\n",
       "plinth.yaml:3: stage 'a': key 'when': expected manual or always, got \"sometimes\""},
      {"stages:\n  a:\n    cmd: x\n    env: [A]\n",
       "plinth.yaml:3: stage 'a': key 'env': expected a mapping NAME: value"},
      {"stages:\n  a:\n    cmd: x\n    params: train.lr\n",
       "plinth.yaml:3: stage 'a': key 'params': expected a list of keys or {FILE: [keys]}"},
      {"stages:\n  a:\n    cmd: x\n    needs: [ghost]\n",
       "plinth.yaml:3: stage 'a': key 'needs': no stage named \"ghost\""},
      {"stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o/part]\n",
       "plinth.yaml:6: stage 'b' writes o/part, which overlaps o written by stage 'a'; every "
       "output "
       "has one stage"},
      {"stages:\n  a:\n    cmd: x\n    deps: [o/in]\n    outs: [o]\n",
       "plinth.yaml:3: stage 'a' depends on its own output o"},
      {"stages:\n  a:\n    cmd: x\n    outs: [.git/hooks]\n",
       "plinth.yaml:3: stage 'a': output .git/hooks is .git, which Plinth or git own (a stage's "
       "outputs are removed before it runs); write somewhere else"},
  };
  for (const auto& c : cases) {
    auto p = ParsePipeline(c.text, "plinth.yaml", "");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(p.status().message(), c.message) << c.text;
  }
}

TEST(ParsePipelineTest, FieldsAndPathsRelativeToRoot) {
  Pipeline p = Parse(
      "stages:\n"
      "  train:\n"
      "    wdir: src\n"
      "    cmd: [a, b]\n"
      "    deps: [../data/x.csv, train.py]\n"
      "    params: [train.lr, {conf/other.yaml: [k1, k2]}]\n"
      "    outs: [../models/m.bin, {path: log.txt, cache: false}]\n"
      "    metrics: [../m.json]\n"
      "    env: {SEED: 1}\n"
      "    when: manual\n"
      "    only: main\n"
      "    always_changed: true\n");
  ASSERT_EQ(p.stages.size(), 1u);
  const Stage& s = p.stages[0];
  EXPECT_EQ(s.where, "plinth.yaml:3");
  EXPECT_EQ(s.wdir, "src");
  EXPECT_EQ(s.cmd, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.deps, (std::vector<std::string>{"data/x.csv", "src/train.py"}));
  ASSERT_EQ(s.params.size(), 3u);
  EXPECT_EQ(s.params[0].file, "params.yaml");  // the project's, not wdir's
  EXPECT_EQ(s.params[0].key, "train.lr");
  EXPECT_EQ(s.params[2].file, "src/conf/other.yaml");
  EXPECT_EQ(s.params[2].key, "k2");
  ASSERT_EQ(s.outs.size(), 3u);
  EXPECT_EQ(s.outs[0].path, "models/m.bin");
  EXPECT_TRUE(s.outs[0].cache);
  EXPECT_EQ(s.outs[1].path, "src/log.txt");
  EXPECT_FALSE(s.outs[1].cache);
  EXPECT_EQ(s.outs[2].path, "m.json");
  EXPECT_TRUE(s.outs[2].metric);
  EXPECT_EQ(s.env.at("SEED"), "1");
  EXPECT_TRUE(s.manual);
  EXPECT_EQ(s.only, (std::vector<std::string>{"main"}));
  EXPECT_TRUE(s.always_changed);
}

// A stage waits for the stages producing its dependencies (or a folder around
// them) and for its needs; the order is topological, file order among equals.
TEST(PipelinePlanTest, UpstreamAndTopologicalOrder) {
  Pipeline p = Parse(
      "stages:\n"
      "  report:\n    cmd: r\n    deps: [model/m.bin, eval.json]\n"
      "  evaluate:\n    cmd: e\n    deps: [model]\n    outs: [eval.json]\n"
      "  train:\n    cmd: t\n    deps: [features.csv]\n    outs: [model]\n"
      "  features:\n    cmd: f\n    outs: [features.csv]\n"
      "  lint:\n    cmd: l\n"
      "  publish:\n    cmd: p\n    needs: [report, lint]\n");
  auto up = [&](const std::string& name) { return Names(p, p.upstream[p.Find(name)]); };
  EXPECT_EQ(up("report"), (std::vector<std::string>{"evaluate", "train"}));
  EXPECT_EQ(up("evaluate"), (std::vector<std::string>{"train"}));
  EXPECT_EQ(up("features"), std::vector<std::string>{});
  EXPECT_EQ(up("publish"), (std::vector<std::string>{"report", "lint"}));
  auto all = p.Plan({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(p, *all), (std::vector<std::string>{"features", "train", "evaluate", "report",
                                                      "lint", "publish"}));
  EXPECT_EQ(p.Find("nope"), -1);
}

// Stage targets: the targets and what they wait for, nothing downstream or beside.
TEST(PipelinePlanTest, TargetsBringTheirUpstreamOnly) {
  Pipeline p = Parse(
      "stages:\n"
      "  a:\n    cmd: a\n    outs: [a.txt]\n"
      "  b:\n    cmd: b\n    deps: [a.txt]\n    outs: [b.txt]\n"
      "  c:\n    cmd: c\n    deps: [b.txt]\n"
      "  side:\n    cmd: s\n");
  auto b = p.Plan({"b"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Names(p, *b), (std::vector<std::string>{"a", "b"}));
  auto two = p.Plan({"side", "a"});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(Names(p, *two), (std::vector<std::string>{"a", "side"}));
  auto c = p.Plan({"c", "b"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Names(p, *c), (std::vector<std::string>{"a", "b", "c"}));
  auto ghost = p.Plan({"ghost"});
  EXPECT_EQ(ghost.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ghost.status().message(), "plinth.yaml: no stage named \"ghost\"");
}

TEST(ParsePipelineTest, CyclesAreNamed) {
  auto data = ParsePipeline(
      "stages:\n"
      "  a:\n    cmd: a\n    deps: [c.txt]\n    outs: [a.txt]\n"
      "  b:\n    cmd: b\n    deps: [a.txt]\n    outs: [b.txt]\n"
      "  c:\n    cmd: c\n    deps: [b.txt]\n    outs: [c.txt]\n",
      "plinth.yaml", "");
  EXPECT_EQ(data.status().message(), "plinth.yaml: the stages form a cycle: a -> c -> b -> a");
  auto needs =
      ParsePipeline("stages:\n  x:\n    cmd: x\n    needs: [y]\n  y:\n    cmd: y\n    needs: [x]\n",
                    "plinth.yaml", "");
  EXPECT_EQ(needs.status().message(), "plinth.yaml: the stages form a cycle: x -> y -> x");
  auto self = ParsePipeline("stages:\n  x:\n    cmd: x\n    needs: [x]\n", "plinth.yaml", "");
  EXPECT_EQ(self.status().message(), "plinth.yaml: the stages form a cycle: x -> x");
}

TEST(PathWithinTest, ComponentsNotPrefixes) {
  EXPECT_TRUE(PathWithin("a/b", "a"));
  EXPECT_TRUE(PathWithin("a", "a"));
  EXPECT_FALSE(PathWithin("ab", "a"));
  EXPECT_FALSE(PathWithin("a", "a/b"));
}

TEST(LookupParamTest, DottedKeysAsFlowYaml) {
  YAML::Node doc = YAML::Load("train:\n  lr: 0.1\n  layers: [1, 2]\n  opt: {name: adam}\n");
  EXPECT_EQ(*LookupParam(doc, "train.lr"), "0.1");
  EXPECT_EQ(*LookupParam(doc, "train.layers"), "[1, 2]");
  EXPECT_EQ(*LookupParam(doc, "train.opt"), "{name: adam}");
  EXPECT_EQ(LookupParam(doc, "train.nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LookupParam(doc, "train.lr.deeper").status().code(), StatusCode::kNotFound);
  // A lookup leaves the document as it was (yaml-cpp's operator= rebinds).
  EXPECT_EQ(*LookupParam(doc, "train.lr"), "0.1");
}

TEST(FormatDagTest, TextAndDot) {
  Pipeline p = Parse(
      "stages:\n"
      "  train:\n    cmd: t\n    deps: [f.csv]\n    outs: [m]\n"
      "  features:\n    cmd: f\n    outs: [f.csv]\n"
      "  deploy:\n    cmd: d\n    deps: [m]\n    when: manual\n    only: [main, prod]\n");
  EXPECT_EQ(FormatDag(p, false),
            "features\n"
            "train <- features\n"
            "deploy <- train  (manual)  (only: main, ...)\n");
  EXPECT_EQ(FormatDag(p, true),
            "digraph pipeline {\n  rankdir=LR;\n"
            "  \"train\" [shape=box];\n"
            "  \"features\" [shape=box];\n"
            "  \"deploy\" [shape=box, style=dashed];\n"
            "  \"features\" -> \"train\";\n"
            "  \"train\" -> \"deploy\";\n"
            "}\n");
}

}  // namespace
}  // namespace plinth::pipeline
