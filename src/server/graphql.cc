#include "server/graphql.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "server/mlflow_json.h"

namespace plinth::server::graphql {
namespace {

using core::Json;

// ---------------------------------------------------------------------------
// The parser: GraphQL's executable documents (October 2021 spec, section 2).

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Document> Run() {
    Document doc;
    Skip();
    if (AtEnd()) {
      return Fail("Unexpected <EOF>.");
    }
    while (!AtEnd()) {
      if (Peek() == '{') {
        Operation op;
        op.type = "query";
        if (!SelectionSet(&op.selections, 0)) {
          return Error();
        }
        doc.operations.push_back(std::move(op));
      } else {
        std::string keyword;
        size_t at = pos_;
        if (!Name(&keyword)) {
          return Error();
        }
        if (keyword == "fragment") {
          Fragment f;
          if (!Name(&f.name)) {
            return Error();
          }
          if (f.name == "on") {
            return Fail("Unexpected Name \"on\".");
          }
          std::string on;
          if (!Name(&on) || (on != "on" && !FailAt("Expected \"on\", found " + Describe(), pos_))) {
            return Error();
          }
          std::vector<Directive> ignored;
          if (!Name(&f.type_condition) || !Directives(&ignored, 0) ||
              !SelectionSet(&f.selections, 0)) {
            return Error();
          }
          doc.fragments.push_back(std::move(f));
        } else if (keyword == "query" || keyword == "mutation" || keyword == "subscription") {
          Operation op;
          op.type = keyword;
          if (IsNameStart(Peek())) {
            (void)Name(&op.name);
          }
          std::vector<Directive> directives;
          if ((Peek() == '(' && !VariableDefinitions(&op.variables)) ||
              !Directives(&directives, 0) || !SelectionSet(&op.selections, 0)) {
            return Error();
          }
          doc.operations.push_back(std::move(op));
        } else {
          pos_ = at;
          return Fail("Unexpected Name \"" + keyword + "\".");
        }
      }
    }
    return doc;
  }

 private:
  static bool IsNameStart(int c) { return c == '_' || std::isalpha(c) != 0; }
  static bool IsNameChar(int c) { return c == '_' || std::isalnum(c) != 0; }

  bool AtEnd() const { return pos_ >= text_.size(); }
  int Peek() const { return AtEnd() ? -1 : static_cast<unsigned char>(text_[pos_]); }

  // Whitespace, commas, line terminators, comments and a byte-order mark are ignored tokens.
  void Skip() {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
        ++pos_;
      } else if (c == '#') {
        while (!AtEnd() && text_[pos_] != '\n' && text_[pos_] != '\r') {
          ++pos_;
        }
      } else if (text_.substr(pos_).starts_with("\xEF\xBB\xBF")) {
        pos_ += 3;
      } else {
        return;
      }
    }
  }

  std::string Describe() const {
    if (AtEnd()) {
      return "<EOF>";
    }
    if (IsNameStart(Peek())) {
      size_t end = pos_;
      while (end < text_.size() && IsNameChar(static_cast<unsigned char>(text_[end]))) {
        ++end;
      }
      return "Name \"" + std::string(text_.substr(pos_, std::min<size_t>(end - pos_, 40))) + "\"";
    }
    char c = text_[pos_];
    if (std::isprint(static_cast<unsigned char>(c)) != 0) {
      return std::string("\"") + c + "\"";
    }
    return "a byte that is not a GraphQL token";
  }

  bool FailAt(const std::string& message, size_t at) {
    if (error_.empty()) {
      size_t line = 1;
      size_t column = 1;
      for (size_t i = 0; i < at && i < text_.size(); ++i) {
        if (text_[i] == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
      error_ = "Syntax Error: " + message + " (line " + std::to_string(line) + ", column " +
               std::to_string(column) + ")";
    }
    return false;
  }
  Status Fail(const std::string& message) {
    FailAt(message, pos_);
    return Error();
  }
  Status Error() const { return InvalidArgument(error_); }

  bool Expect(char c) {
    if (Peek() != static_cast<unsigned char>(c)) {
      return FailAt(std::string("Expected \"") + c + "\", found " + Describe() + ".", pos_);
    }
    ++pos_;
    Skip();
    return true;
  }

  bool Name(std::string* out) {
    if (!IsNameStart(Peek())) {
      return FailAt("Expected Name, found " + Describe() + ".", pos_);
    }
    size_t start = pos_;
    while (!AtEnd() && IsNameChar(Peek())) {
      ++pos_;
    }
    *out = std::string(text_.substr(start, pos_ - start));
    Skip();
    return true;
  }

  bool Deeper(int depth) {
    if (depth > kMaxDepth) {
      return FailAt("the document nests deeper than " + std::to_string(kMaxDepth) + " levels.",
                    pos_);
    }
    return true;
  }

  bool SelectionSet(std::vector<Selection>* out, int depth) {
    if (!Deeper(depth) || !Expect('{')) {
      return false;
    }
    if (Peek() == '}') {
      return FailAt("Expected Name, found \"}\".", pos_);
    }
    while (Peek() != '}') {
      if (AtEnd()) {
        return FailAt("Expected Name, found <EOF>.", pos_);
      }
      Selection s;
      if (text_.substr(pos_).starts_with("...")) {
        pos_ += 3;
        Skip();
        std::string name;
        if (IsNameStart(Peek())) {
          size_t at = pos_;
          (void)Name(&name);
          if (name != "on") {
            s.kind = Selection::Kind::kSpread;
            s.name = std::move(name);
            if (!Directives(&s.directives, depth)) {
              return false;
            }
            out->push_back(std::move(s));
            continue;
          }
          if (!Name(&s.type_condition)) {
            return false;
          }
          (void)at;
        }
        s.kind = Selection::Kind::kInline;
        if (!Directives(&s.directives, depth) || !SelectionSet(&s.selections, depth + 1)) {
          return false;
        }
        out->push_back(std::move(s));
        continue;
      }
      if (!Name(&s.name)) {
        return false;
      }
      if (Peek() == ':') {
        ++pos_;
        Skip();
        s.alias = std::move(s.name);
        if (!Name(&s.name)) {
          return false;
        }
      }
      if ((Peek() == '(' && !ArgumentList(&s.args, depth)) || !Directives(&s.directives, depth)) {
        return false;
      }
      if (Peek() == '{' && !SelectionSet(&s.selections, depth + 1)) {
        return false;
      }
      out->push_back(std::move(s));
    }
    ++pos_;
    Skip();
    return true;
  }

  bool ArgumentList(Arguments* out, int depth) {
    if (!Expect('(')) {
      return false;
    }
    if (Peek() == ')') {
      return FailAt("Expected Name, found \")\".", pos_);
    }
    while (Peek() != ')') {
      std::string name;
      Value v;
      if (!Name(&name) || !Expect(':') || !ParseValue(&v, depth + 1, false)) {
        return false;
      }
      out->emplace_back(std::move(name), std::move(v));
    }
    ++pos_;
    Skip();
    return true;
  }

  bool Directives(std::vector<Directive>* out, int depth) {
    while (Peek() == '@') {
      ++pos_;
      Directive d;
      if (!Name(&d.name) || (Peek() == '(' && !ArgumentList(&d.args, depth))) {
        return false;
      }
      out->push_back(std::move(d));
    }
    return true;
  }

  bool VariableDefinitions(std::vector<VariableDefinition>* out) {
    if (!Expect('(')) {
      return false;
    }
    while (Peek() != ')') {
      VariableDefinition def;
      if (!Expect('$') || !Name(&def.name) || !Expect(':') || !Type(0)) {
        return false;
      }
      if (Peek() == '=') {
        ++pos_;
        Skip();
        Value v;
        if (!ParseValue(&v, 1, true)) {
          return false;
        }
        def.default_value = std::move(v);
      }
      std::vector<Directive> ignored;
      if (!Directives(&ignored, 0)) {
        return false;
      }
      out->push_back(std::move(def));
    }
    ++pos_;
    Skip();
    return true;
  }

  // A variable's type (Name, [Type], Type!): read and not kept; values are coerced to
  // the input field they reach.
  bool Type(int depth) {
    if (!Deeper(depth)) {
      return false;
    }
    if (Peek() == '[') {
      ++pos_;
      Skip();
      if (!Type(depth + 1) || !Expect(']')) {
        return false;
      }
    } else {
      std::string name;
      if (!Name(&name)) {
        return false;
      }
    }
    if (Peek() == '!') {
      ++pos_;
      Skip();
    }
    return true;
  }

  bool ParseValue(Value* v, int depth, bool constant) {
    if (!Deeper(depth)) {
      return false;
    }
    int c = Peek();
    if (c == '$' && !constant) {
      ++pos_;
      v->kind = Value::Kind::kVariable;
      return Name(&v->text);
    }
    if (c == '[') {
      ++pos_;
      Skip();
      v->kind = Value::Kind::kList;
      while (Peek() != ']') {
        if (AtEnd()) {
          return FailAt("Expected \"]\", found <EOF>.", pos_);
        }
        Value item;
        if (!ParseValue(&item, depth + 1, constant)) {
          return false;
        }
        v->items.push_back(std::move(item));
      }
      ++pos_;
      Skip();
      return true;
    }
    if (c == '{') {
      ++pos_;
      Skip();
      v->kind = Value::Kind::kObject;
      while (Peek() != '}') {
        std::string name;
        Value field;
        if (!Name(&name) || !Expect(':') || !ParseValue(&field, depth + 1, constant)) {
          return false;
        }
        v->names.push_back(std::move(name));
        v->items.push_back(std::move(field));
      }
      ++pos_;
      Skip();
      return true;
    }
    if (c == '"') {
      v->kind = Value::Kind::kString;
      return String(&v->text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return Number(v);
    }
    if (IsNameStart(c)) {
      (void)Name(&v->text);
      if (v->text == "true" || v->text == "false") {
        v->kind = Value::Kind::kBool;
      } else if (v->text == "null") {
        v->kind = Value::Kind::kNull;
      } else {
        v->kind = Value::Kind::kEnum;
      }
      return true;
    }
    return FailAt("Unexpected " + Describe() + ".", pos_);
  }

  bool Number(Value* v) {
    size_t start = pos_;
    auto digits = [&] {
      size_t from = pos_;
      while (!AtEnd() && std::isdigit(Peek()) != 0) {
        ++pos_;
      }
      return pos_ > from;
    };
    if (Peek() == '-') {
      ++pos_;
    }
    if (!digits()) {
      return FailAt("Invalid number, expected digit but got " + Describe() + ".", pos_);
    }
    v->kind = Value::Kind::kInt;
    if (Peek() == '.') {
      ++pos_;
      v->kind = Value::Kind::kFloat;
      if (!digits()) {
        return FailAt("Invalid number, expected digit but got " + Describe() + ".", pos_);
      }
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      v->kind = Value::Kind::kFloat;
      if (Peek() == '+' || Peek() == '-') {
        ++pos_;
      }
      if (!digits()) {
        return FailAt("Invalid number, expected digit but got " + Describe() + ".", pos_);
      }
    }
    if (IsNameStart(Peek()) || Peek() == '.') {
      return FailAt("Invalid number, expected digit but got " + Describe() + ".", pos_);
    }
    v->text = std::string(text_.substr(start, pos_ - start));
    Skip();
    return true;
  }

  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool Hex4(uint32_t* out) {
    if (pos_ + 4 > text_.size()) {
      return FailAt("Invalid Unicode escape sequence.", pos_);
    }
    uint32_t cp = 0;
    auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, cp, 16);
    if (ec != std::errc() || end != text_.data() + pos_ + 4) {
      return FailAt("Invalid Unicode escape sequence.", pos_);
    }
    pos_ += 4;
    *out = cp;
    return true;
  }

  bool String(std::string* out) {
    if (text_.substr(pos_).starts_with("\"\"\"")) {
      return BlockString(out);
    }
    ++pos_;
    while (true) {
      if (AtEnd() || text_[pos_] == '\n' || text_[pos_] == '\r') {
        return FailAt("Unterminated string.", pos_);
      }
      char c = text_[pos_++];
      if (c == '"') {
        break;
      }
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (AtEnd()) {
        return FailAt("Unterminated string.", pos_);
      }
      char e = text_[pos_++];
      switch (e) {
        case '"':
          *out += '"';
          break;
        case '\\':
          *out += '\\';
          break;
        case '/':
          *out += '/';
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) {
            return false;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair's first half
            uint32_t low = 0;
            if (!text_.substr(pos_).starts_with("\\u") || (pos_ += 2, !Hex4(&low)) ||
                low < 0xDC00 || low > 0xDFFF) {
              return FailAt("Invalid Unicode escape sequence.", pos_);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return FailAt("Invalid Unicode escape sequence.", pos_);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return FailAt(std::string("Invalid character escape sequence: \\") + e + ".", pos_);
      }
    }
    Skip();
    return true;
  }

  // """...""": raw text (only \""" escaped), with the common indentation and the
  // blank first and last lines removed, as the spec's BlockStringValue.
  bool BlockString(std::string* out) {
    pos_ += 3;
    std::string raw;
    while (true) {
      if (AtEnd()) {
        return FailAt("Unterminated string.", pos_);
      }
      if (text_.substr(pos_).starts_with("\\\"\"\"")) {
        raw += "\"\"\"";
        pos_ += 4;
      } else if (text_.substr(pos_).starts_with("\"\"\"")) {
        pos_ += 3;
        break;
      } else {
        raw += text_[pos_++];
      }
    }
    std::vector<std::string> lines;
    size_t from = 0;
    for (size_t i = 0; i <= raw.size(); ++i) {
      if (i == raw.size() || raw[i] == '\n' || raw[i] == '\r') {
        lines.push_back(raw.substr(from, i - from));
        if (i < raw.size() && raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') {
          ++i;
        }
        from = i + 1;
      }
    }
    size_t common = std::string::npos;
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t indent = lines[i].find_first_not_of(" \t");
      if (indent != std::string::npos) {
        common = std::min(common, indent);
      }
    }
    for (size_t i = 1; i < lines.size() && common != std::string::npos; ++i) {
      lines[i].erase(0, std::min(common, lines[i].size()));
    }
    auto blank = [](const std::string& l) {
      return l.find_first_not_of(" \t") == std::string::npos;
    };
    while (!lines.empty() && blank(lines.front())) {
      lines.erase(lines.begin());
    }
    while (!lines.empty() && blank(lines.back())) {
      lines.pop_back();
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      *out += (i > 0 ? "\n" : "") + lines[i];
    }
    Skip();
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------
// MLflow 2.17.2's schema.

enum class Kind { kString, kFloat, kInt, kLong, kBool, kEnum, kObject };

struct FieldDef {
  const char* name;  // as GraphQL names it (camelCase)
  Kind kind;
  const char* of = nullptr;  // the object or enum type
  bool list = false;
};

struct TypeDef {
  const char* name;
  std::vector<FieldDef> fields;
};

const std::vector<TypeDef>& ObjectTypes() {
  constexpr Kind kS = Kind::kString;
  constexpr Kind kL = Kind::kLong;
  constexpr Kind kO = Kind::kObject;
  static const std::vector<TypeDef> kTypes = {
      {"MlflowModelVersionTag", {{"key", kS}, {"value", kS}}},
      {"MlflowModelVersion",
       {{"name", kS},
        {"version", kS},
        {"creationTimestamp", kL},
        {"lastUpdatedTimestamp", kL},
        {"userId", kS},
        {"currentStage", kS},
        {"description", kS},
        {"source", kS},
        {"runId", kS},
        {"status", Kind::kEnum, "MlflowModelVersionStatus"},
        {"statusMessage", kS},
        {"tags", kO, "MlflowModelVersionTag", true},
        {"runLink", kS},
        {"aliases", kS, nullptr, true}}},
      {"MlflowSearchModelVersionsResponse",
       {{"modelVersions", kO, "MlflowModelVersion", true},
        {"nextPageToken", kS},
        {"apiError", kO, "ApiError"}}},
      {"MlflowDatasetSummary",
       {{"experimentId", kS}, {"name", kS}, {"digest", kS}, {"context", kS}}},
      {"MlflowSearchDatasetsResponse",
       {{"datasetSummaries", kO, "MlflowDatasetSummary", true}, {"apiError", kO, "ApiError"}}},
      {"MlflowMetricWithRunId",
       {{"key", kS}, {"value", Kind::kFloat}, {"timestamp", kL}, {"step", kL}, {"runId", kS}}},
      {"MlflowGetMetricHistoryBulkIntervalResponse",
       {{"metrics", kO, "MlflowMetricWithRunId", true}, {"apiError", kO, "ApiError"}}},
      {"MlflowFileInfo", {{"path", kS}, {"isDir", Kind::kBool}, {"fileSize", kL}}},
      {"MlflowListArtifactsResponse",
       {{"rootUri", kS},
        {"files", kO, "MlflowFileInfo", true},
        {"nextPageToken", kS},
        {"apiError", kO, "ApiError"}}},
      {"MlflowDataset",
       {{"name", kS},
        {"digest", kS},
        {"sourceType", kS},
        {"source", kS},
        {"schema", kS},
        {"profile", kS}}},
      {"MlflowInputTag", {{"key", kS}, {"value", kS}}},
      {"MlflowDatasetInput",
       {{"tags", kO, "MlflowInputTag", true}, {"dataset", kO, "MlflowDataset"}}},
      {"MlflowRunInputs", {{"datasetInputs", kO, "MlflowDatasetInput", true}}},
      {"MlflowRunTag", {{"key", kS}, {"value", kS}}},
      {"MlflowParam", {{"key", kS}, {"value", kS}}},
      {"MlflowMetric", {{"key", kS}, {"value", Kind::kFloat}, {"timestamp", kL}, {"step", kL}}},
      {"MlflowRunData",
       {{"metrics", kO, "MlflowMetric", true},
        {"params", kO, "MlflowParam", true},
        {"tags", kO, "MlflowRunTag", true}}},
      {"MlflowRunInfo",
       {{"runId", kS},
        {"runUuid", kS},
        {"runName", kS},
        {"experimentId", kS},
        {"userId", kS},
        {"status", Kind::kEnum, "MlflowRunStatus"},
        {"startTime", kL},
        {"endTime", kL},
        {"artifactUri", kS},
        {"lifecycleStage", kS}}},
      // MlflowRun with graphql_schema_extensions.py's two resolved fields.
      {"MlflowRunExtension",
       {{"info", kO, "MlflowRunInfo"},
        {"data", kO, "MlflowRunData"},
        {"inputs", kO, "MlflowRunInputs"},
        {"experiment", kO, "MlflowExperiment"},
        {"modelVersions", kO, "MlflowModelVersion", true}}},
      {"MlflowSearchRunsResponse",
       {{"runs", kO, "MlflowRunExtension", true},
        {"nextPageToken", kS},
        {"apiError", kO, "ApiError"}}},
      {"MlflowGetRunResponse", {{"run", kO, "MlflowRunExtension"}, {"apiError", kO, "ApiError"}}},
      {"MlflowExperimentTag", {{"key", kS}, {"value", kS}}},
      {"MlflowExperiment",
       {{"experimentId", kS},
        {"name", kS},
        {"artifactLocation", kS},
        {"lifecycleStage", kS},
        {"lastUpdateTime", kL},
        {"creationTime", kL},
        {"tags", kO, "MlflowExperimentTag", true}}},
      {"MlflowGetExperimentResponse",
       {{"experiment", kO, "MlflowExperiment"}, {"apiError", kO, "ApiError"}}},
      {"ErrorDetail", {{"field", kS}, {"message", kS}}},
      {"ApiError",
       {{"code", kS},
        {"message", kS},
        {"helpUrl", kS},
        {"traceId", kS},
        {"errorDetails", kO, "ErrorDetail", true}}},
      {"Test", {{"output", kS}}},
      {"TestMutation", {{"output", kS}}},
  };
  return kTypes;
}

const TypeDef* FindType(std::string_view name) {
  for (const TypeDef& t : ObjectTypes()) {
    if (name == t.name) {
      return &t;
    }
  }
  return nullptr;
}

const FieldDef* FindField(const TypeDef& type, std::string_view name) {
  for (const FieldDef& f : type.fields) {
    if (name == f.name) {
      return &f;
    }
  }
  return nullptr;
}

struct EnumDef {
  const char* name;
  std::vector<std::string_view> values;  // the first is proto2's default
};

const EnumDef* FindEnum(std::string_view name) {
  static const std::array<EnumDef, 3> kEnums = {{
      {"MlflowModelVersionStatus", {"PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY"}},
      {"MlflowRunStatus", {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}},
      {"MlflowViewType", {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"}},
  }};
  for (const EnumDef& e : kEnums) {
    if (name == e.name) {
      return &e;
    }
  }
  return nullptr;
}

// The input objects' fields (the request messages).
const std::vector<TypeDef>& InputTypes() {
  constexpr Kind kS = Kind::kString;
  static const std::vector<TypeDef> kTypes = {
      {"MlflowSearchModelVersionsInput",
       {{"filter", kS},
        {"maxResults", Kind::kLong},
        {"orderBy", kS, nullptr, true},
        {"pageToken", kS}}},
      {"MlflowSearchDatasetsInput", {{"experimentIds", kS, nullptr, true}}},
      {"MlflowGetMetricHistoryBulkIntervalInput",
       {{"runIds", kS, nullptr, true},
        {"metricKey", kS},
        {"startStep", Kind::kInt},
        {"endStep", Kind::kInt},
        {"maxResults", Kind::kInt}}},
      {"MlflowListArtifactsInput",
       {{"runId", kS}, {"runUuid", kS}, {"path", kS}, {"pageToken", kS}}},
      {"MlflowSearchRunsInput",
       {{"experimentIds", kS, nullptr, true},
        {"filter", kS},
        {"runViewType", Kind::kEnum, "MlflowViewType"},
        {"maxResults", Kind::kInt},
        {"orderBy", kS, nullptr, true},
        {"pageToken", kS}}},
      {"MlflowGetRunInput", {{"runId", kS}, {"runUuid", kS}}},
      {"MlflowGetExperimentInput", {{"experimentId", kS}}},
  };
  return kTypes;
}

// A root field: a REST route with its input message, or the echoing test fields.
struct RootField {
  const char* name;
  bool mutation;
  const char* input;  // the input object type; null for the test fields' inputString
  const char* method;
  const char* path;
  const char* output;
};

constexpr RootField kRootFields[] = {
    {"mlflowGetExperiment", false, "MlflowGetExperimentInput", "GET", "/mlflow/experiments/get",
     "MlflowGetExperimentResponse"},
    {"mlflowGetMetricHistoryBulkInterval", false, "MlflowGetMetricHistoryBulkIntervalInput", "GET",
     "/mlflow/metrics/get-history-bulk-interval", "MlflowGetMetricHistoryBulkIntervalResponse"},
    {"mlflowGetRun", false, "MlflowGetRunInput", "GET", "/mlflow/runs/get", "MlflowGetRunResponse"},
    {"mlflowListArtifacts", false, "MlflowListArtifactsInput", "GET", "/mlflow/artifacts/list",
     "MlflowListArtifactsResponse"},
    {"mlflowSearchModelVersions", false, "MlflowSearchModelVersionsInput", "GET",
     "/mlflow/model-versions/search", "MlflowSearchModelVersionsResponse"},
    {"test", false, nullptr, nullptr, nullptr, "Test"},
    {"mlflowSearchDatasets", true, "MlflowSearchDatasetsInput", "POST",
     "/mlflow/experiments/search-datasets", "MlflowSearchDatasetsResponse"},
    {"mlflowSearchRuns", true, "MlflowSearchRunsInput", "POST", "/mlflow/runs/search",
     "MlflowSearchRunsResponse"},
    {"testMutation", true, nullptr, nullptr, nullptr, "TestMutation"},
};

// GraphQL's camelCase name as MLflow's JSON names it: runId -> run_id. (apiError is
// the one field with no JSON counterpart.)
std::string SnakeCase(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c)) != 0) {
      out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::string TypeName(const FieldDef& f) {
  static constexpr std::array<const char*, 6> kScalars = {"String",     "Float",   "Int",
                                                          "LongString", "Boolean", ""};
  std::string name = f.of != nullptr ? f.of : kScalars[static_cast<size_t>(f.kind)];
  return f.list ? "[" + name + "]" : name;
}

// ---------------------------------------------------------------------------
// Execution (the spec's section 6, for this schema: no interfaces, no unions).

class Executor {
 public:
  Executor(const Document& doc, const Json& variables, const RouteCall& call)
      : doc_(doc), variables_(variables), call_(call) {}

  Json Run(std::string_view operation_name) {
    const Operation* op = nullptr;
    if (!operation_name.empty()) {
      for (const Operation& o : doc_.operations) {
        if (o.name == operation_name) {
          op = &o;
        }
      }
      if (op == nullptr) {
        return Invalid("Unknown operation named '" + std::string(operation_name) + "'.");
      }
    } else if (doc_.operations.size() == 1) {
      op = &doc_.operations.front();
    } else {
      return Invalid(doc_.operations.empty()
                         ? "Must provide an operation."
                         : "Must provide operation name if query contains multiple operations.");
    }
    if (op->type == "subscription") {
      return Invalid("Schema is not configured to execute subscription operation.");
    }
    for (const VariableDefinition& def : op->variables) {
      if (variables_.is_object() && variables_.contains(def.name)) {
        values_[def.name] = variables_[def.name];
      } else if (def.default_value) {
        Result<Json> v = Literal(*def.default_value);
        if (v.ok()) {
          values_[def.name] = *v;
        }
      }
    }
    bool mutation = op->type == "mutation";
    Json data = Json::object();
    std::map<std::string, std::vector<const Selection*>> order;
    std::vector<std::string> keys;
    CollectFields(mutation ? "Mutation" : "Query", op->selections, &keys, &order, 0);
    for (const std::string& key : keys) {
      if (invalid_) {
        break;
      }
      const Selection& field = *order[key].front();
      if (field.name == "__typename") {
        data[key] = mutation ? "Mutation" : "Query";
        continue;
      }
      const RootField* root = nullptr;
      for (const RootField& r : kRootFields) {
        if (field.name == r.name && r.mutation == mutation) {
          root = &r;
        }
      }
      if (root == nullptr) {
        Reject(
            "Cannot query field '" + field.name + "' on type '" +
            (mutation ? "Mutation" : "Query") + "'." +
            (field.name.starts_with("__") ? " (Plinth's GraphQL answers no introspection.)" : ""));
        break;
      }
      data[key] = RootValue(*root, field, Merged(order[key]));
    }
    if (invalid_) {
      return Invalid(errors_.front());
    }
    return Json{{"data", std::move(data)},
                {"errors", errors_.empty() ? Json(nullptr) : Json(errors_)}};
  }

 private:
  Json Invalid(const std::string& message) {
    return Json{{"data", nullptr}, {"errors", Json::array({message})}};
  }
  void Reject(const std::string& message) {
    if (!invalid_) {
      errors_.clear();
      errors_.push_back(message);
      invalid_ = true;
    }
  }

  // Whether @skip / @include keep the selection.
  bool Included(const std::vector<Directive>& directives) {
    for (const Directive& d : directives) {
      if (d.name != "skip" && d.name != "include") {
        continue;
      }
      bool condition = false;
      for (const auto& [name, value] : d.args) {
        Result<Json> v = Literal(value);
        if (name == "if" && v.ok() && v->is_boolean()) {
          condition = v->get<bool>();
        }
      }
      if ((d.name == "skip") == condition) {
        return false;
      }
    }
    return true;
  }

  // The fields of `selections` by response key, fragments expanded (CollectFields).
  // Each fragment is expanded once per selection set, as the spec's visitedFragments has
  // it (a document spreading F0 twice into F1 twice into ... stays linear); a fragment
  // inside its own expansion is refused; at most kMaxSelections are collected per request.
  void CollectFields(std::string_view type, const std::vector<Selection>& selections,
                     std::vector<std::string>* keys,
                     std::map<std::string, std::vector<const Selection*>>* fields, int depth) {
    std::set<std::string> visited;
    std::vector<std::string> expanding;
    Collect(type, selections, keys, fields, depth, &visited, &expanding);
  }

  void Collect(std::string_view type, const std::vector<Selection>& selections,
               std::vector<std::string>* keys,
               std::map<std::string, std::vector<const Selection*>>* fields, int depth,
               std::set<std::string>* visited, std::vector<std::string>* expanding) {
    if (depth > kMaxDepth) {
      Reject("The document nests fragments deeper than " + std::to_string(kMaxDepth) + " levels.");
      return;
    }
    for (const Selection& s : selections) {
      if (invalid_) {
        return;
      }
      if (++collected_ > kMaxSelections) {
        Reject("The query selects more than " + std::to_string(kMaxSelections) +
               " fields in all; ask for fewer.");
        return;
      }
      if (!Included(s.directives)) {
        continue;
      }
      switch (s.kind) {
        case Selection::Kind::kField: {
          std::string key = s.alias.empty() ? s.name : s.alias;
          auto& list = (*fields)[key];
          if (list.empty()) {
            keys->push_back(key);
          } else if (list.front()->name != s.name) {
            Reject("Fields '" + key + "' conflict because '" + list.front()->name + "' and '" +
                   s.name + "' are different fields.");
          } else if (ArgumentsText(list.front()->args) != ArgumentsText(s.args)) {
            Reject("Fields '" + key +
                   "' conflict because they have differing arguments. Use different aliases on "
                   "the fields to fetch both if this was intentional.");
          }
          list.push_back(&s);
          break;
        }
        case Selection::Kind::kSpread: {
          const Fragment* fragment = nullptr;
          for (const Fragment& f : doc_.fragments) {
            if (f.name == s.name) {
              fragment = &f;
            }
          }
          if (fragment == nullptr) {
            Reject("Unknown fragment '" + s.name + "'.");
            return;
          }
          if (FindType(fragment->type_condition) == nullptr &&
              fragment->type_condition != "Query" && fragment->type_condition != "Mutation") {
            Reject("Unknown type '" + fragment->type_condition + "'.");
            return;
          }
          if (std::find(expanding->begin(), expanding->end(), s.name) != expanding->end()) {
            Reject("Cannot spread fragment '" + s.name + "' within itself.");
            return;
          }
          if (fragment->type_condition == type && visited->insert(s.name).second) {
            expanding->push_back(s.name);
            Collect(type, fragment->selections, keys, fields, depth + 1, visited, expanding);
            expanding->pop_back();
          }
          break;
        }
        case Selection::Kind::kInline:
          if (s.type_condition.empty() || s.type_condition == type) {
            Collect(type, s.selections, keys, fields, depth + 1, visited, expanding);
          }
          break;
      }
    }
  }

  // A field's arguments as comparable text (variables by name).
  std::string ArgumentsText(const Arguments& args) {
    std::string out;
    for (const auto& [name, value] : args) {
      Result<Json> v = value.kind == Value::Kind::kVariable ? Result<Json>(Json("$" + value.text))
                                                            : Literal(value);
      out += name + "=" + (v.ok() ? v->dump() : std::string("?")) + ";";
    }
    return out;
  }

  // The sub-selections of every field sharing a response key.
  static std::vector<Selection> Merged(const std::vector<const Selection*>& fields) {
    std::vector<Selection> out;
    for (const Selection* f : fields) {
      out.insert(out.end(), f->selections.begin(), f->selections.end());
    }
    return out;
  }

  // A value as JSON, variables substituted (absent variables are null).
  Result<Json> Literal(const Value& v) {
    switch (v.kind) {
      case Value::Kind::kNull:
        return Json(nullptr);
      case Value::Kind::kBool:
        return Json(v.text == "true");
      case Value::Kind::kInt: {
        int64_t x = 0;
        auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), x);
        if (ec != std::errc() || end != v.text.data() + v.text.size()) {
          return InvalidArgument("Int cannot represent non-integer value: " + v.text);
        }
        return Json(x);
      }
      case Value::Kind::kFloat:
        return Json(std::strtod(v.text.c_str(), nullptr));
      case Value::Kind::kString:
      case Value::Kind::kEnum:
        return Json(v.text);
      case Value::Kind::kVariable: {
        auto it = values_.find(v.text);
        return it == values_.end() ? Json(nullptr) : it->second;
      }
      case Value::Kind::kList: {
        Json out = Json::array();
        for (const Value& item : v.items) {
          PLINTH_ASSIGN_OR_RETURN(Json j, Literal(item));
          out.push_back(std::move(j));
        }
        return out;
      }
      case Value::Kind::kObject: {
        Json out = Json::object();
        for (size_t i = 0; i < v.items.size(); ++i) {
          PLINTH_ASSIGN_OR_RETURN(Json j, Literal(v.items[i]));
          out[v.names[i]] = std::move(j);
        }
        return out;
      }
    }
    return Json(nullptr);
  }

  // One value of an input field of type `f` (a list's item when `item`): literals are
  // checked against the type; variables' JSON values too, numeric strings taken for
  // LongString as MLflow's scalar does.
  Result<Json> CoerceScalar(const FieldDef& f, const Value& v, const Json& j) {
    bool literal = v.kind != Value::Kind::kVariable;
    std::string shown =
        literal ? (v.kind == Value::Kind::kString ? "\"" + v.text + "\"" : v.text) : j.dump();
    switch (f.kind) {
      case Kind::kString:
        if ((literal && v.kind != Value::Kind::kString) || (!literal && !j.is_string())) {
          return InvalidArgument("String cannot represent a non string value: " + shown);
        }
        return j;
      case Kind::kInt:
        if (!j.is_number_integer() || j.get<int64_t>() < std::numeric_limits<int32_t>::min() ||
            j.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
          return InvalidArgument("Int cannot represent non 32-bit signed integer value: " + shown);
        }
        return j;
      case Kind::kLong:
        if (j.is_number_integer()) {
          return j;
        }
        if (!literal && j.is_string()) {
          int64_t x = 0;
          const std::string& s = j.get_ref<const std::string&>();
          auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
          if (ec == std::errc() && end == s.data() + s.size()) {
            return Json(x);
          }
        }
        return InvalidArgument("LongString cannot represent value: " + shown);
      case Kind::kEnum: {
        const EnumDef* e = FindEnum(f.of);
        bool named = literal ? v.kind == Value::Kind::kEnum : j.is_string();
        if (named && e != nullptr &&
            std::find(e->values.begin(), e->values.end(), j.get<std::string>()) !=
                e->values.end()) {
          return j;
        }
        return InvalidArgument("Value " + shown + " does not exist in '" + f.of + "' enum.");
      }
      case Kind::kFloat:
      case Kind::kBool:
      case Kind::kObject:
        break;
    }
    return InvalidArgument("Unsupported input type");
  }

  // An input object argument as the REST message: snake_case keys, nulls left out.
  Result<Json> InputMessage(const char* type_name, const Value& value) {
    const TypeDef* type = nullptr;
    for (const TypeDef& t : InputTypes()) {
      if (std::string_view(type_name) == t.name) {
        type = &t;
      }
    }
    Json message = Json::object();
    if (type == nullptr) {
      return message;
    }
    std::vector<std::pair<std::string, const Value*>> given;
    Json from_variable;
    if (value.kind == Value::Kind::kVariable) {
      PLINTH_ASSIGN_OR_RETURN(from_variable, Literal(value));
      if (from_variable.is_null()) {
        return message;
      }
      if (!from_variable.is_object()) {
        return InvalidArgument("Expected type '" + std::string(type_name) + "' to be an object.");
      }
    } else if (value.kind == Value::Kind::kNull) {
      return message;
    } else if (value.kind != Value::Kind::kObject) {
      return InvalidArgument("Expected value of type '" + std::string(type_name) + "', found " +
                             value.text + ".");
    }
    static const Value kFromJson = [] {
      Value v;
      v.kind = Value::Kind::kVariable;
      return v;
    }();
    auto each = [&](const std::string& name, const Value& v, const Json& j) -> Status {
      const FieldDef* f = FindField(*type, name);
      if (f == nullptr) {
        return InvalidArgument("Field '" + name + "' is not defined by type '" + type_name + "'.");
      }
      if (j.is_null()) {
        return Status::Ok();
      }
      Json out;
      if (f->list && j.is_array()) {
        out = Json::array();
        for (size_t i = 0; i < j.size(); ++i) {
          const Value& item = v.kind == Value::Kind::kList ? v.items[i] : kFromJson;
          PLINTH_ASSIGN_OR_RETURN(Json x, CoerceScalar(*f, item, j[i]));
          out.push_back(std::move(x));
        }
      } else {
        PLINTH_ASSIGN_OR_RETURN(out, CoerceScalar(*f, v, j));
        if (f->list) {
          out = Json::array({std::move(out)});  // a single value where a list is expected
        }
      }
      message[SnakeCase(f->name)] = std::move(out);
      return Status::Ok();
    };
    if (value.kind == Value::Kind::kVariable) {
      for (const auto& [name, j] : from_variable.items()) {
        PLINTH_RETURN_IF_ERROR(each(name, kFromJson, j));
      }
    } else {
      for (size_t i = 0; i < value.items.size(); ++i) {
        const std::string& name = value.names[i];
        const Value& v = value.items[i];
        PLINTH_ASSIGN_OR_RETURN(Json j, Literal(v));
        // A list literal's items keep their literal kinds (strings vs enums) for the checks.
        PLINTH_RETURN_IF_ERROR(each(name, v.kind == Value::Kind::kVariable ? kFromJson : v, j));
      }
    }
    return message;
  }

  Json RootValue(const RootField& root, const Selection& field,
                 const std::vector<Selection>& selections) {
    const TypeDef* out_type = FindType(root.output);
    if (selections.empty()) {
      Reject("Field '" + field.name + "' of type '" + root.output +
             "' must have a selection of subfields. Did you mean '" + field.name + " { ... }'?");
      return nullptr;
    }
    const char* arg_name = root.input != nullptr ? "input" : "inputString";
    const Value* arg = nullptr;
    for (const auto& [name, v] : field.args) {
      if (name != arg_name) {
        Reject("Unknown argument '" + name + "' on field '" +
               (root.mutation ? "Mutation" : "Query") + "." + field.name + "'.");
        return nullptr;
      }
      arg = &v;
    }
    Json source;
    if (root.input == nullptr) {  // test / testMutation echo their input
      Result<Json> text = arg != nullptr ? Literal(*arg) : Result<Json>(Json(nullptr));
      if (!text.ok() || !(text->is_string() || text->is_null())) {
        Reject("String cannot represent a non string value.");
        return nullptr;
      }
      source = Json{{"output", *text}};
    } else {
      Result<Json> message = arg != nullptr ? InputMessage(root.input, *arg) : Json::object();
      if (!message.ok()) {
        Reject(message.status().message());
        return nullptr;
      }
      Result<Json> answer = Call(root.method, root.path, *message);
      if (!answer.ok()) {
        errors_.push_back(answer.status().message());
        return nullptr;
      }
      source = std::move(*answer);
    }
    return Object(*out_type, source, selections, 1);
  }

  Result<Json> Call(std::string_view method, std::string_view path, const Json& message) {
    if (++calls_ > kMaxRouteCalls) {
      return InvalidArgument("The query needs more than " + std::to_string(kMaxRouteCalls) +
                             " lookups; ask for fewer runs or fields.");
    }
    return call_(method, path, message);
  }

  // MlflowRunExtension's resolved fields: the run's experiment, its model versions.
  Result<Json> Extension(std::string_view name, const Json& run) {
    const Json* info = run.contains("info") && run["info"].is_object() ? &run["info"] : nullptr;
    auto text = [&](const char* key) {
      return info != nullptr && info->contains(key) && (*info)[key].is_string()
                 ? (*info)[key].get<std::string>()
                 : std::string();
    };
    if (name == "experiment") {
      PLINTH_ASSIGN_OR_RETURN(Json r, Call("GET", "/mlflow/experiments/get",
                                           Json{{"experiment_id", text("experiment_id")}}));
      return r.contains("experiment") ? r["experiment"] : Json(nullptr);
    }
    std::string id;
    for (char c : text("run_id")) {
      if (c != '\'' && c != '\\') {
        id += c;
      }
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Call("GET", "/mlflow/model-versions/search",
                                         Json{{"filter", "run_id='" + id + "'"}}));
    return r.contains("model_versions") ? r["model_versions"] : Json::array();
  }

  // A scalar of `source` as the schema types it; proto2's default when absent.
  static Json Scalar(const FieldDef& f, const Json* v) {
    if (f.list) {
      return v != nullptr && v->is_array() ? *v : Json::array();
    }
    switch (f.kind) {
      case Kind::kString:
        return v != nullptr && v->is_string() ? *v : Json("");
      case Kind::kLong:
        if (v == nullptr || v->is_null()) {
          return "0";
        }
        return v->is_string() ? *v : Json(v->dump());
      case Kind::kInt:
      case Kind::kFloat:
        return v != nullptr && (v->is_number() || v->is_string()) ? *v : Json(0);
      case Kind::kBool:
        return v != nullptr && v->is_boolean() ? *v : Json(false);
      case Kind::kEnum: {
        if (v != nullptr && v->is_string()) {
          return *v;
        }
        const EnumDef* e = FindEnum(f.of);
        return e != nullptr ? Json(std::string(e->values.front())) : Json(nullptr);
      }
      case Kind::kObject:
        break;
    }
    return nullptr;
  }

  Json Object(const TypeDef& type, const Json& source, const std::vector<Selection>& selections,
              int depth) {
    Json out = Json::object();
    std::map<std::string, std::vector<const Selection*>> fields;
    std::vector<std::string> keys;
    CollectFields(type.name, selections, &keys, &fields, depth);
    for (const std::string& key : keys) {
      if (invalid_) {
        return nullptr;
      }
      const Selection& field = *fields[key].front();
      if (field.name == "__typename") {
        out[key] = type.name;
        continue;
      }
      const FieldDef* f = FindField(type, field.name);
      if (f == nullptr) {
        Reject("Cannot query field '" + field.name + "' on type '" + type.name + "'.");
        return nullptr;
      }
      if (!field.args.empty()) {
        Reject("Unknown argument '" + field.args.front().first + "' on field '" + type.name + "." +
               field.name + "'.");
        return nullptr;
      }
      std::vector<Selection> sub = Merged(fields[key]);
      if (f->kind != Kind::kObject) {
        if (!sub.empty()) {
          Reject("Field '" + field.name + "' must not have a selection since type '" +
                 TypeName(*f) + "' has no subfields.");
          return nullptr;
        }
        std::string json_key = SnakeCase(f->name);
        out[key] = Scalar(*f, source.contains(json_key) ? &source[json_key] : nullptr);
        continue;
      }
      if (sub.empty()) {
        Reject("Field '" + field.name + "' of type '" + TypeName(*f) +
               "' must have a selection of subfields. Did you mean '" + field.name + " { ... }'?");
        return nullptr;
      }
      if (depth > kMaxDepth) {
        Reject("The query nests deeper than " + std::to_string(kMaxDepth) + " levels.");
        return nullptr;
      }
      const TypeDef* of = FindType(f->of);
      Json child;
      if (std::string_view(type.name) == "MlflowRunExtension" &&
          (field.name == "experiment" || field.name == "modelVersions")) {
        Result<Json> resolved = Extension(field.name, source);
        if (!resolved.ok()) {
          errors_.push_back(resolved.status().message());
          out[key] = nullptr;
          continue;
        }
        child = std::move(*resolved);
      } else if (field.name == "apiError") {
        out[key] = nullptr;  // MLflow reports errors in "errors"; the field stays null
        continue;
      } else {
        std::string json_key = SnakeCase(f->name);
        child = source.contains(json_key) ? source[json_key] : Json(nullptr);
      }
      if (f->list) {
        Json items = Json::array();
        if (child.is_array()) {
          for (const Json& item : child) {
            items.push_back(Object(*of, item.is_object() ? item : Json::object(), sub, depth + 1));
          }
        }
        out[key] = std::move(items);
      } else {
        out[key] = Object(*of, child.is_object() ? child : Json::object(), sub, depth + 1);
      }
    }
    return out;
  }

  const Document& doc_;
  const Json& variables_;
  const RouteCall& call_;
  std::map<std::string, Json, std::less<>> values_;
  std::vector<std::string> errors_;
  bool invalid_ = false;
  int64_t calls_ = 0;
  int64_t collected_ = 0;
};

}  // namespace

Result<Document> Parse(std::string_view text) {
  if (text.size() > kMaxDocumentBytes) {
    return InvalidArgument("The GraphQL document is " + std::to_string(text.size()) +
                           " bytes; at most " + std::to_string(kMaxDocumentBytes) + " are taken.");
  }
  return Parser(text).Run();
}

Json Execute(const Document& document, std::string_view operation_name, const Json& variables,
             const RouteCall& call) {
  return Executor(document, variables, call).Run(operation_name);
}

Result<Request> ReadRequest(const http::Request& r) {
  Request out;
  Json body = Json::object();
  if (r.method == "GET") {
    for (const char* key : {"query", "operationName", "variables"}) {
      if (std::optional<std::string> v = r.Query(key)) {
        body[key] = *v;
      }
    }
  } else {
    std::string_view text = r.body;
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      text = "{}";
    }
    Result<Json> parsed =
        core::ParseJson(text, "GraphQL request body", core::kMaxJsonDepth, kMaxRequestValues);
    if (!parsed.ok() || !parsed->is_object()) {
      return InvalidArgument("The GraphQL request body must be a JSON object with a 'query'.");
    }
    body = std::move(*parsed);
  }
  if (!body.contains("query") || !body["query"].is_string()) {
    return InvalidArgument("The GraphQL request has no 'query' string.");
  }
  out.query = body["query"].get<std::string>();
  if (body.contains("operationName") && !body["operationName"].is_null()) {
    if (!body["operationName"].is_string()) {
      return InvalidArgument("The GraphQL request's 'operationName' must be a string.");
    }
    out.operation_name = body["operationName"].get<std::string>();
  }
  if (body.contains("variables") && !body["variables"].is_null()) {
    Json vars = body["variables"];
    if (vars.is_string()) {  // a GET's variables are JSON text
      Result<Json> parsed = core::ParseJson(vars.get<std::string>(), "GraphQL variables",
                                            core::kMaxJsonDepth, kMaxRequestValues);
      if (!parsed.ok()) {
        return InvalidArgument("The GraphQL request's 'variables' is not JSON.");
      }
      vars = std::move(*parsed);
    }
    if (!vars.is_object() && !vars.is_null()) {
      return InvalidArgument("The GraphQL request's 'variables' must be an object.");
    }
    out.variables = std::move(vars);
  }
  return out;
}

}  // namespace plinth::server::graphql
