#include "tracking/search.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/hash.h"
#include "core/json.h"

namespace plinth::tracking {
namespace {

enum class TokenType {
  kWord,
  kQuotedName,
  kString,
  kNumber,
  kOperator,
  kLeftParen,
  kRightParen,
  kComma,
  kEnd
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;  // words keep their spelling; strings and quoted names are unquoted
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == '/' || c == ':';
}

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'' || c == '"' || c == '`') {
      // '...' is a value; "..." and `...` quote a name (or, after an operator, a value).
      std::string text;
      size_t j = i + 1;
      while (true) {
        if (j >= s.size()) {
          return InvalidArgument("unterminated quote starting at character " +
                                 std::to_string(i + 1));
        }
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c && c != '`') {  // '' or "" escapes a quote
            text.push_back(c);
            j += 2;
            continue;
          }
          break;
        }
        text.push_back(s[j++]);
      }
      out.push_back({c == '\'' ? TokenType::kString : TokenType::kQuotedName, text});
      i = j + 1;
    } else if (c == '(' || c == ')' || c == ',') {
      out.push_back({c == '('   ? TokenType::kLeftParen
                     : c == ')' ? TokenType::kRightParen
                                : TokenType::kComma,
                     std::string(1, c)});
      ++i;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      size_t len = 1;
      if (i + 1 < s.size() && (s[i + 1] == '=' || (c == '<' && s[i + 1] == '>'))) {
        len = 2;
      }
      std::string op(s.substr(i, len));
      if (op == "!") {
        return InvalidArgument("unexpected '!' at character " + std::to_string(i + 1));
      }
      op = op == "==" ? "=" : op == "<>" ? "!=" : op;
      out.push_back({TokenType::kOperator, op});
      i += len;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '+' || c == '.') && i + 1 < s.size() &&
                (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '.'))) {
      size_t j = i + 1;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
              ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) {
        ++j;
      }
      out.push_back({TokenType::kNumber, std::string(s.substr(i, j - i))});
      i = j;
    } else if (IsWordChar(c)) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) {
        ++j;
      }
      // A name like metrics."my key" continues with a quoted part.
      std::string word(s.substr(i, j - i));
      if (!word.empty() && word.back() == '.' && j < s.size() && (s[j] == '"' || s[j] == '`')) {
        char q = s[j];
        size_t end = s.find(q, j + 1);
        if (end == std::string_view::npos) {
          return InvalidArgument("unterminated quote starting at character " +
                                 std::to_string(j + 1));
        }
        word += std::string(1, '\x01') + std::string(s.substr(j + 1, end - j - 1));
        j = end + 1;
      }
      out.push_back({TokenType::kWord, word});
      i = j;
    } else {
      return InvalidArgument(std::string("unexpected character '") + c + "' at character " +
                             std::to_string(i + 1));
    }
  }
  out.push_back({TokenType::kEnd, ""});
  return out;
}

// RE2 as every RLIKE pattern compiles: the driver's memory cap (a pattern of a few
// characters such as \pL{0,300} compiles to 10 MB otherwise), no logging.
RE2::Options RegexOptions() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(store::kRegexMaxMemory);
  return o;
}

// The most RLIKE clauses in one filter, and the longest pattern.
constexpr size_t kMaxRegexClauses = 20;
constexpr size_t kMaxRegexBytes = 1000;

// MLflow's RLIKE on span.attributes.K, matched against the span's JSON: the
// attribute's key, then its string value ("K":"\"v...), ^ and $ anchoring at the value's
// start and end. The user's pattern is grouped (an alternation stays inside the value)
// and leading (?flags) stay at the very start, where PostgreSQL takes them.
std::string SpanAttributeRegex(const std::string& attr, std::string_view v) {
  std::string flags;
  if (v.starts_with("(?")) {
    const size_t close = v.find(')');
    if (close != std::string_view::npos &&
        std::all_of(v.begin() + 2, v.begin() + static_cast<ptrdiff_t>(close),
                    [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; })) {
      flags = std::string(v.substr(0, close + 1));
      v.remove_prefix(close + 1);
    }
  }
  const bool at_start = v.starts_with('^');
  v.remove_prefix(at_start ? 1 : 0);
  const bool at_end = v.ends_with('$');
  v.remove_suffix(at_end ? 1 : 0);
  return flags + RE2::QuoteMeta(core::DumpJson(core::Json(attr), false) + ":") + R"( ?"\\")" +
         (at_start ? "" : ".*") + "(?:" + std::string(v) + ")" + (at_end ? R"(\\")" : "");
}

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Splits "metrics.acc" / "tags.\x01my key" / "status" into kind and key.
Result<std::pair<EntityKind, std::string>> ParseEntity(const std::string& word,
                                                       const SearchTarget& t) {
  std::string_view w = word;
  size_t dot = w.find('.');
  if (dot == std::string_view::npos) {
    std::string key(w);
    if (key.find('\x01') != std::string::npos) {
      return InvalidArgument("invalid identifier \"" + key + "\"");
    }
    if (!Contains(t.string_attributes, key) && !Contains(t.numeric_attributes, key)) {
      return InvalidArgument("invalid attribute key '" + key + "' for a " + std::string(t.what) +
                             " search");
    }
    return std::pair{EntityKind::kAttribute, key};
  }
  std::string prefix = Upper(w.substr(0, dot));
  std::string key(w.substr(dot + 1));
  if (!key.empty() && key[0] == '\x01') {
    key.erase(0, 1);
  }
  if (key.empty()) {
    return InvalidArgument("\"" + std::string(w.substr(0, dot)) + ".\" names no key");
  }
  if (t.has_spans) {
    if (prefix == "SPAN") {
      // span.attributes."my key": the quoted part was marked by the tokenizer.
      key.erase(std::remove(key.begin(), key.end(), '\x01'), key.end());
      constexpr std::string_view kAttributes = "attributes.";
      if (key.starts_with(kAttributes)
              ? key.size() == kAttributes.size()
              : key != "name" && key != "type" && key != "status" && key != "content") {
        return InvalidArgument("invalid span key '" + key +
                               "': expected name, type, status, content or attributes.<name>");
      }
      return std::pair{EntityKind::kSpan, key};
    }
    if (prefix == "FEEDBACK" || prefix == "EXPECTATION") {
      return std::pair{prefix == "FEEDBACK" ? EntityKind::kFeedback : EntityKind::kExpectation,
                       key};
    }
    if (prefix == "TRACE") {
      prefix = "ATTRIBUTES";
    }
  }
  EntityKind kind;
  if (prefix == "METRIC" || prefix == "METRICS") {
    kind = EntityKind::kMetric;
  } else if (prefix == "PARAM" || prefix == "PARAMS" || prefix == "PARAMETER" ||
             prefix == "PARAMETERS") {
    kind = EntityKind::kParam;
  } else if (prefix == "TAG" || prefix == "TAGS") {
    kind = EntityKind::kTag;
  } else if (t.has_request_metadata && (prefix == "REQUEST_METADATA" || prefix == "METADATA")) {
    return std::pair{EntityKind::kParam, key};  // compared as a param, in the metadata table
  } else if (prefix == "ATTRIBUTE" || prefix == "ATTRIBUTES" || prefix == "ATTR" ||
             prefix == "RUN") {
    if (!Contains(t.string_attributes, key) && !Contains(t.numeric_attributes, key)) {
      return InvalidArgument("invalid attribute key '" + key + "' for a " + std::string(t.what) +
                             " search");
    }
    return std::pair{EntityKind::kAttribute, key};
  } else if (prefix == "DATASET" || prefix == "DATASETS") {
    kind = EntityKind::kDataset;
    if (key != "name" && key != "digest" && key != "context") {
      return InvalidArgument("invalid dataset key '" + key + "': expected name, digest or context");
    }
  } else {
    return InvalidArgument(
        "invalid entity type '" + std::string(w.substr(0, dot)) + "': expected " +
        (t.has_spans ? "tags, metadata, attributes, trace, span, feedback or expectation"
                     : "metrics, params, tags, attributes or datasets"));
  }
  if ((kind == EntityKind::kMetric || kind == EntityKind::kParam) && !t.has_metrics_params) {
    return InvalidArgument("a " + std::string(t.what) + " search has no " +
                           (kind == EntityKind::kMetric ? "metrics" : "params"));
  }
  if (kind == EntityKind::kDataset && !t.has_datasets) {
    return InvalidArgument("a " + std::string(t.what) + " search has no datasets");
  }
  return std::pair{kind, key};
}

std::string Describe(const Comparison& c) {
  static constexpr std::string_view kNames[] = {
      "metrics.", "params.", "tags.", "", "datasets.", "span.", "feedback.", "expectation."};
  return std::string(kNames[static_cast<int>(c.kind)]) + c.key;
}

}  // namespace

std::string Abbreviated(std::string_view text, size_t max) {
  return text.size() <= max ? std::string(text) : std::string(text.substr(0, max - 3)) + "...";
}

const SearchTarget& RunSearch() {
  static const SearchTarget kTarget = {
      "run",
      {"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"},
      {"start_time", "end_time", "created"},
      true,
      true};
  return kTarget;
}

const SearchTarget& ExperimentSearch() {
  static const SearchTarget kTarget = {
      "experiment",
      {"name", "experiment_id", "artifact_location", "lifecycle_stage"},
      {"creation_time", "last_update_time"},
      false,
      false};
  return kTarget;
}

const SearchTarget& RegisteredModelSearch() {
  static const SearchTarget kTarget = {
      "registered model", {"name"}, {"last_updated_timestamp"}, false, false};
  return kTarget;
}

const SearchTarget& LoggedModelSearch() {
  static const SearchTarget kTarget = {
      "logged model",
      {"name", "model_id", "model_type", "source_run_id"},
      {"status", "experiment_id", "creation_timestamp_ms", "last_updated_timestamp_ms",
       "creation_time", "creation_timestamp", "last_updated_timestamp"},
      true,
      false};
  return kTarget;
}

const SearchTarget& TraceSearch() {
  static const SearchTarget kTarget = {
      "trace",
      {"request_id", "status", "name", "run_id", "client_request_id", "prompt", "text"},
      {"timestamp_ms", "timestamp", "execution_time_ms", "execution_time", "end_time_ms",
       "end_time", "experiment_id"},
      false,
      false,
      true,
      true};
  return kTarget;
}

void ApplyTraceAliases(EntityKind* kind, std::string* key) {
  if (*kind != EntityKind::kAttribute) {
    return;
  }
  if (*key == "timestamp") {
    *key = "timestamp_ms";
  } else if (*key == "execution_time") {
    *key = "execution_time_ms";
  } else if (*key == "end_time") {
    *key = "end_time_ms";
  } else if (*key == "text") {  // the spans' full text
    *kind = EntityKind::kSpan;
    *key = "content";
  } else if (*key == "name") {
    *kind = EntityKind::kTag;
    *key = "mlflow.traceName";
  } else if (*key == "run_id") {
    *kind = EntityKind::kParam;
    *key = "mlflow.sourceRun";
  }
}

const SearchTarget& ModelVersionSearch() {
  static const SearchTarget kTarget = {"model version",
                                       {"name", "run_id", "source_path", "current_stage"},
                                       {"version_number", "last_updated_timestamp"},
                                       false,
                                       false};
  return kTarget;
}

Result<std::vector<Comparison>> ParseFilter(std::string_view filter, const SearchTarget& target) {
  std::vector<Comparison> out;
  size_t regex_clauses = 0;
  // A long filter is quoted by its start only.
  const std::string shown = Abbreviated(filter, 120);
  auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid filter \"" + shown + "\": " + why);
  };
  Result<std::vector<Token>> tokens_or = Tokenize(filter);
  if (!tokens_or.ok()) {
    return bad(tokens_or.status().message());
  }
  const std::vector<Token>& tok = *tokens_or;
  size_t i = 0;
  if (tok[0].type == TokenType::kEnd) {
    return out;
  }
  while (true) {
    Comparison c;
    if (tok[i].type != TokenType::kWord && tok[i].type != TokenType::kQuotedName) {
      return bad("expected an entity such as metrics.acc, found '" + tok[i].text + "'");
    }
    std::string name =
        tok[i].type == TokenType::kQuotedName ? "attributes.\x01" + tok[i].text : tok[i].text;
    auto entity = ParseEntity(name, target);
    if (!entity.ok()) {
      return bad(entity.status().message());
    }
    c.kind = entity->first;
    c.key = entity->second;
    ++i;
    // The operator.
    std::string op;
    if (tok[i].type == TokenType::kOperator) {
      op = tok[i++].text;
    } else if (tok[i].type == TokenType::kWord) {
      op = Upper(tok[i++].text);
      if (op == "NOT" && tok[i].type == TokenType::kWord && Upper(tok[i].text) == "IN") {
        op = "NOT IN";
        ++i;
      } else if (op == "IS") {
        if (tok[i].type == TokenType::kWord && Upper(tok[i].text) == "NOT") {
          op = "IS NOT";
          ++i;
        }
        if (tok[i].type != TokenType::kWord || Upper(tok[i].text) != "NULL") {
          return bad("expected NULL after " + op);
        }
        op += " NULL";
        ++i;
      }
    }
    const bool numeric =
        c.kind == EntityKind::kMetric ||
        (c.kind == EntityKind::kAttribute && Contains(target.numeric_attributes, c.key));
    static const std::vector<std::string_view> kNumericOps = {"=", "!=", ">", ">=", "<", "<="};
    static const std::vector<std::string_view> kStringOps = {
        "=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"};
    const bool rlike = op == "RLIKE" && target.has_spans && !numeric;
    if (numeric ? !Contains(kNumericOps, op) : !Contains(kStringOps, op) && !rlike) {
      return bad("invalid comparator '" + op + "' for " + Describe(c) + ": expected one of " +
                 (numeric            ? "=, !=, >, >=, <, <="
                  : target.has_spans ? "=, !=, LIKE, ILIKE, RLIKE, IN, NOT IN, IS NULL"
                                     : "=, !=, LIKE, ILIKE, IN, NOT IN, IS NULL"));
    }
    const bool assessment = c.kind == EntityKind::kFeedback || c.kind == EntityKind::kExpectation;
    if ((op == "IS NULL" || op == "IS NOT NULL") && c.kind != EntityKind::kTag &&
        c.kind != EntityKind::kParam && !assessment) {
      return bad(
          op + " applies to " +
          (target.has_spans ? "tags, metadata, feedback and expectations" : "tags and params") +
          " only, not " + Describe(c));
    }
    if (assessment && (op == "IN" || op == "NOT IN")) {
      return bad(op + " does not apply to " + Describe(c) +
                 ": expected one of =, !=, LIKE, ILIKE, RLIKE, IS NULL, IS NOT NULL");
    }
    if (((c.kind == EntityKind::kSpan && c.key == "content") ||
         (c.kind == EntityKind::kAttribute && c.key == "text")) &&
        op != "LIKE" && op != "ILIKE") {
      return bad("invalid comparator '" + op + "' for " + Describe(c) +
                 ": the spans' text is searched with LIKE or ILIKE");
    }
    if (c.kind == EntityKind::kAttribute && c.key == "prompt" && op != "=") {
      return bad("invalid comparator '" + op +
                 "' for prompt: only = is supported, as prompt = 'name/version'");
    }
    c.op = op;
    // The value.
    if (op == "IN" || op == "NOT IN") {
      if (tok[i].type != TokenType::kLeftParen) {
        return bad("expected a parenthesised list after " + op);
      }
      ++i;
      while (true) {
        if (tok[i].type != TokenType::kString && tok[i].type != TokenType::kQuotedName) {
          return bad("expected a quoted string in the list after " + Describe(c) + " " + op);
        }
        c.strings.push_back(tok[i++].text);
        if (tok[i].type == TokenType::kComma) {
          ++i;
          continue;
        }
        if (tok[i].type != TokenType::kRightParen) {
          return bad("expected ',' or ')' in the list after " + op);
        }
        ++i;
        break;
      }
    } else if (op != "IS NULL" && op != "IS NOT NULL") {
      if (numeric) {
        if (tok[i].type != TokenType::kNumber) {
          return bad("expected a number after " + Describe(c) + " " + op + ", found '" +
                     tok[i].text + "'");
        }
        const std::string& t = tok[i].text;
        double v = 0;
        const char* begin = t.data() + (t[0] == '+' ? 1 : 0);
        auto r = std::from_chars(begin, t.data() + t.size(), v);
        if (r.ec != std::errc() || r.ptr != t.data() + t.size()) {
          return bad("'" + t + "' is not a number");
        }
        c.number = v;
      } else {
        if (tok[i].type != TokenType::kString && tok[i].type != TokenType::kQuotedName) {
          return bad("expected a quoted string after " + Describe(c) + " " + op + ", found '" +
                     tok[i].text + "'");
        }
        c.strings.push_back(tok[i].text);
      }
      ++i;
    }
    if (op == "RLIKE") {
      const std::string& pattern = c.strings.at(0);
      if (++regex_clauses > kMaxRegexClauses) {
        return bad("more than " + std::to_string(kMaxRegexClauses) + " RLIKE clauses");
      }
      if (pattern.size() > kMaxRegexBytes) {
        return bad("the regular expression after " + Describe(c) + " RLIKE has more than " +
                   std::to_string(kMaxRegexBytes) + " bytes");
      }
      // What runs is checked: for span.attributes.K, the pattern within MLflow's rewrite.
      const bool attribute = c.kind == EntityKind::kSpan && c.key.starts_with("attributes.");
      RE2 re(attribute ? SpanAttributeRegex(c.key.substr(11), pattern) : pattern, RegexOptions());
      if (!re.ok()) {
        return bad("invalid regular expression '" + Abbreviated(pattern, 100) + "' after " +
                   Abbreviated(Describe(c), 100) + " RLIKE: " + Abbreviated(re.error(), 100));
      }
    }
    if (c.kind == EntityKind::kAttribute && c.key == "prompt" &&
        std::count(c.strings.at(0).begin(), c.strings.at(0).end(), '/') != 1) {
      return bad("invalid prompt '" + c.strings.at(0) + "': expected prompt = 'name/version'");
    }
    out.push_back(std::move(c));
    if (tok[i].type == TokenType::kEnd) {
      break;
    }
    // Each clause becomes a condition of its own in one SQL statement: bounded
    // here, with Plinth's message, rather than by the database's limits.
    if (out.size() == kMaxFilterClauses) {
      return bad("more than " + std::to_string(kMaxFilterClauses) + " clauses");
    }
    if (tok[i].type != TokenType::kWord || Upper(tok[i].text) != "AND") {
      return bad("expected AND between clauses, found '" + tok[i].text + "' (OR is not supported)");
    }
    ++i;
  }
  return out;
}

Result<OrderKey> ParseOrderBy(std::string_view clause, const SearchTarget& target) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid order_by clause \"" + std::string(clause) + "\": " + why);
  };
  Result<std::vector<Token>> tokens_or = Tokenize(clause);
  if (!tokens_or.ok()) {
    return bad(tokens_or.status().message());
  }
  const std::vector<Token>& tok = *tokens_or;
  if (tok[0].type != TokenType::kWord && tok[0].type != TokenType::kQuotedName) {
    return bad("expected an entity such as metrics.acc");
  }
  std::string name =
      tok[0].type == TokenType::kQuotedName ? "attributes.\x01" + tok[0].text : tok[0].text;
  auto entity = ParseEntity(name, target);
  if (!entity.ok()) {
    return bad(entity.status().message());
  }
  if (entity->first == EntityKind::kDataset || entity->first == EntityKind::kSpan ||
      entity->first == EntityKind::kFeedback || entity->first == EntityKind::kExpectation) {
    return bad("results cannot be ordered by " + name.substr(0, name.find('.')));
  }
  OrderKey k{entity->first, entity->second, true};
  size_t i = 1;
  if (tok[i].type == TokenType::kWord) {
    std::string dir = Upper(tok[i].text);
    if (dir != "ASC" && dir != "DESC") {
      return bad("expected ASC or DESC, found '" + tok[i].text + "'");
    }
    k.ascending = dir == "ASC";
    ++i;
  }
  if (tok[i].type != TokenType::kEnd) {
    return bad("unexpected '" + tok[i].text + "'");
  }
  return k;
}

std::string StringCondition(const std::string& expr, const Comparison& c,
                            std::vector<store::Value>* params, store::Engine engine) {
  if (c.op == "IN" || c.op == "NOT IN") {
    std::string list;
    for (const std::string& v : c.strings) {
      list += list.empty() ? "?" : ", ?";
      params->emplace_back(v);
    }
    return expr + " " + c.op + " (" + list + ")";
  }
  params->emplace_back(c.strings.at(0));
  if (c.op == "ILIKE") {
    return "LOWER(" + expr + ") LIKE LOWER(?)";
  }
  if (c.op == "RLIKE") {
    return expr + (engine == store::Engine::kPostgres ? " ~ ?" : " REGEXP ?");
  }
  return expr + " " + c.op + " ?";
}

namespace {

// A condition on a span row (alias s) for span.name|type|status|content|attributes.K.
// The attributes are in the span's content, each value JSON text inside the JSON
// ("K":"\"v\"" for the string v, "K":"42" for the number 42). LIKE and ILIKE match the
// content against '%"K"' + pattern + '%' and RLIKE the value's text, as MLflow does;
// =, IN compare the attribute's value itself (MLflow has them match nothing): its JSON
// text, that of the string v or v itself when v is a JSON number, boolean or null;
// != and NOT IN hold for a span that has the attribute with another value.
std::string SpanCondition(const Comparison& c, std::vector<store::Value>* params,
                          store::Engine engine) {
  constexpr std::string_view kAttributes = "attributes.";
  if (!c.key.starts_with(kAttributes)) {
    return StringCondition("s." + c.key, c, params, engine);
  }
  const std::string attr = c.key.substr(kAttributes.size());
  Comparison on_content = c;
  if (c.op == "LIKE" || c.op == "ILIKE") {
    on_content.strings = {"%\"" + attr + "\"" + c.strings.at(0) + "%"};
    return StringCondition("s.content", on_content, params, engine);
  }
  if (c.op == "RLIKE") {
    on_content.strings = {SpanAttributeRegex(attr, c.strings.at(0))};
    return StringCondition("s.content", on_content, params, engine);
  }
  // The attributes as rows (key, value's text), by each engine's JSON functions.
  std::string sql =
      engine == store::Engine::kPostgres
          ? "EXISTS (SELECT 1 FROM jsonb_each_text(CAST(s.content AS jsonb) -> 'attributes') a "
            "WHERE a.key = ? AND a.value "
          : "EXISTS (SELECT 1 FROM json_each(s.content, '$.attributes') a WHERE a.key = ? AND "
            "a.value ";
  params->emplace_back(attr);
  std::string list;
  for (const std::string& v : c.strings) {
    list += list.empty() ? "?" : ", ?";
    params->emplace_back(core::DumpJson(core::Json(v), false));
    if (Result<core::Json> literal = core::ParseJson(v, "value");
        literal.ok() && (literal->is_number() || literal->is_boolean() || literal->is_null())) {
      list += ", ?";
      params->emplace_back(v);
    }
  }
  const bool negated = c.op == "!=" || c.op == "NOT IN";
  return sql + (negated ? "NOT IN (" : "IN (") + list + "))";
}

std::string AttributeSql(const SqlNames& n, const std::string& attribute) {
  return n.attribute_sql != nullptr ? n.attribute_sql(attribute)
                                    : std::string(n.row) + "." + n.column(attribute);
}

// The condition tying the tag rows (alias `alias`) to the searched row.
std::string TagMatch(const SqlNames& n, const std::string& alias) {
  std::string match = alias + "." + std::string(n.tag_id) + " = " + std::string(n.row) + "." +
                      std::string(n.id_column);
  if (!n.tag_id2.empty()) {
    match += " AND " + alias + "." + std::string(n.tag_id2) + " = " + std::string(n.row) + "." +
             std::string(n.tag_id2);
  }
  return match;
}

}  // namespace

SqlFragment CompileFilter(const std::vector<Comparison>& comparisons, const SqlNames& n) {
  SqlFragment out;
  std::string row_id = std::string(n.row) + "." + std::string(n.id_column);
  // Every span clause holds for one same span: one EXISTS, added last.
  SqlFragment span;
  for (const Comparison& c : comparisons) {
    std::string cond;
    switch (c.kind) {
      case EntityKind::kMetric:
        out.params.emplace_back(c.key);
        out.params.emplace_back(*c.number);
        cond = "EXISTS (SELECT 1 FROM " + std::string(n.metric_table) + " m WHERE m." +
               std::string(n.tag_id) + " = " + row_id + " AND m.key = ? AND m.is_nan = 0 AND " +
               "m.value " + c.op + " ?";
        if (n.metric_scope != nullptr) {
          cond += " AND (" + n.metric_scope->sql + ")";
          out.params.insert(out.params.end(), n.metric_scope->params.begin(),
                            n.metric_scope->params.end());
        }
        cond += ")";
        break;
      case EntityKind::kParam:
      case EntityKind::kTag: {
        const bool param = c.kind == EntityKind::kParam;
        std::string table = std::string(param ? n.param_table : n.tag_table);
        out.params.emplace_back(c.key);
        std::string match =
            param ? "x." + std::string(n.tag_id) + " = " + row_id : TagMatch(n, "x");
        std::string base = "SELECT 1 FROM " + table + " x WHERE " + match + " AND x.key = ?";
        if (c.op == "IS NULL") {
          cond = "NOT EXISTS (" + base + ")";
        } else if (c.op == "IS NOT NULL") {
          cond = "EXISTS (" + base + ")";
        } else {
          cond = "EXISTS (" + base + " AND " +
                 StringCondition("x.value", c, &out.params, n.engine) + ")";
        }
        break;
      }
      case EntityKind::kAttribute: {
        std::string col = AttributeSql(n, c.key);
        if (c.number) {
          out.params.emplace_back(*c.number);
          cond = col + " " + c.op + " ?";
        } else {
          cond = StringCondition(col, c, &out.params, n.engine);
        }
        break;
      }
      case EntityKind::kSpan:
        span.sql += " AND " + SpanCondition(c, &span.params, n.engine);
        continue;
      case EntityKind::kFeedback:
      case EntityKind::kExpectation: {
        // The valid ones only: an assessment another overrides is history.
        std::string base = "SELECT 1 FROM trace_assessments a WHERE a.trace_id = " + row_id +
                           " AND a.valid = 1 AND a.kind = ? AND a.name = ?";
        out.params.emplace_back(c.kind == EntityKind::kFeedback ? "feedback" : "expectation");
        out.params.emplace_back(c.key);
        if (c.op == "IS NULL" || c.op == "IS NOT NULL") {
          cond = (c.op == "IS NULL" ? "NOT EXISTS (" : "EXISTS (") + base + ")";
        } else if (c.op == "=" || c.op == "!=") {
          // The value is JSON: the text matches as a string ("yes") or as written (5, true).
          out.params.emplace_back(c.strings.at(0));
          out.params.emplace_back(core::DumpJson(core::Json(c.strings.at(0)), false));
          cond = "EXISTS (" + base + " AND " + (c.op == "!=" ? "NOT " : "") +
                 "(a.value = ? OR a.value = ?))";
        } else {
          cond = "EXISTS (" + base + " AND " +
                 StringCondition("a.value", c, &out.params, n.engine) + ")";
        }
        break;
      }
      case EntityKind::kDataset: {
        std::string base =
            "SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = "
            "i.dataset_uuid";
        if (c.key == "context") {
          base +=
              " JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = "
              "'mlflow.data.context'";
        }
        std::string expr = c.key == "context" ? "t.value" : "d." + c.key;
        cond = "EXISTS (" + base + " WHERE i.run_uuid = " + row_id + " AND " +
               StringCondition(expr, c, &out.params, n.engine) + ")";
        break;
      }
    }
    out.sql += out.sql.empty() ? cond : " AND " + cond;
  }
  if (!span.sql.empty()) {
    out.sql += (out.sql.empty() ? "" : " AND ") +
               std::string("EXISTS (SELECT 1 FROM trace_spans s WHERE s.trace_id = ") + row_id +
               span.sql + ")";
    out.params.insert(out.params.end(), span.params.begin(), span.params.end());
  }
  if (out.sql.empty()) {
    out.sql = "1 = 1";
  }
  return out;
}

SqlOrder CompileOrderBy(const std::vector<OrderKey>& keys, const SqlNames& n) {
  SqlOrder out;
  for (const OrderKey& key : keys) {
    std::string expr;
    if (key.kind == EntityKind::kAttribute) {
      expr = AttributeSql(n, key.key);
    } else {
      const std::string alias = "o" + std::to_string(out.joins.params.size());
      std::string table = key.kind == EntityKind::kMetric  ? std::string(n.metric_table)
                          : key.kind == EntityKind::kParam ? std::string(n.param_table)
                                                           : std::string(n.tag_table);
      std::string match = key.kind == EntityKind::kTag
                              ? TagMatch(n, alias)
                              : alias + "." + std::string(n.tag_id) + " = " + std::string(n.row) +
                                    "." + std::string(n.id_column);
      out.joins.sql +=
          " LEFT JOIN " + table + " " + alias + " ON " + match + " AND " + alias + ".key = ?";
      out.joins.params.emplace_back(key.key);
      expr = alias + ".value";
    }
    // SQLite 3.30+ and PostgreSQL both take NULLS LAST.
    out.terms += (out.terms.empty() ? "" : ", ") + expr +
                 (key.ascending ? " ASC NULLS LAST" : " DESC NULLS LAST");
  }
  return out;
}

std::string EncodePageToken(int64_t offset) {
  return core::Base64Encode(core::DumpJson(core::Json{{"offset", offset}}, false));
}

Result<int64_t> DecodePageToken(std::string_view token) {
  Result<std::string> text = core::Base64Decode(token);
  if (!text.ok()) {
    return InvalidArgument("Invalid page token, could not base64-decode");
  }
  Result<core::Json> j = core::ParseJson(*text, "page token");
  if (!j.ok() || !j->is_object() || !j->contains("offset") || !(*j)["offset"].is_number_integer() ||
      (*j)["offset"].get<int64_t>() < 0) {
    return InvalidArgument("Invalid page token, decoded value=" + *text);
  }
  return (*j)["offset"].get<int64_t>();
}

}  // namespace plinth::tracking
