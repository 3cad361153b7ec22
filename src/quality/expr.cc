#include "quality/expr.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "table/value_parse.h"

namespace plinth::quality {

enum class Kind { kNumber, kBool, kString, kTime, kNull };

enum class Op {
  kColumn,
  kNumber,
  kString,
  kBool,
  kNull,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,
  kIsNull,
  kIsNotNull,
  kIn,
  kNotIn,
  kAbs,
  kLength,
  kLower,
  kUpper,
  kCoalesce,
};

class Expr {
 public:
  Op op;
  Kind kind;
  size_t pos;  // 1-based character where it starts
  std::vector<std::unique_ptr<Expr>> args;
  double number = 0;
  bool boolean = false;
  std::string text;
  size_t column = 0;

  Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  // Takes the tree apart with a stack of its own: a long chain (`a or b or
  // ...`) would otherwise be freed one recursive call per link.
  ~Expr() {
    std::vector<std::unique_ptr<Expr>> pending = std::move(args);
    while (!pending.empty()) {
      std::unique_ptr<Expr> e = std::move(pending.back());
      pending.pop_back();
      for (auto& a : e->args) {
        pending.push_back(std::move(a));
      }
      e->args.clear();
    }
  }
};

// Limits checked while parsing, before the recursion they bound: brackets,
// function calls and prefix operators nest at most kMaxNesting deep, and the
// finished tree (which evaluation walks recursively) is at most kMaxHeight
// operators tall.
constexpr int kMaxNesting = 100;
constexpr size_t kMaxHeight = 1000;

namespace {

using table::Column;
using table::DataType;

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "true/false";
    case Kind::kString:
      return "text";
    case Kind::kTime:
      return "a timestamp";
    case Kind::kNull:
      return "null";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Lexer.

enum class Tok { kNumber, kString, kIdent, kQuotedIdent, kSymbol, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok tok;
  std::string text;
  size_t pos;  // 1-based
  double number = 0;
};

Status ErrorAt(size_t pos, const std::string& what) {
  return InvalidArgument("at character " + std::to_string(pos) + ": " + what);
}

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  auto ident_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  while (i < s.size()) {
    char c = s[i];
    size_t pos = i + 1;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) {
        ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) {
          ++k;
        }
        if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
          j = k;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
            ++j;
          }
        }
      }
      double v;
      if (!table::ParseFloat64(s.substr(i, j - i), v)) {
        return ErrorAt(pos, "malformed number \"" + std::string(s.substr(i, j - i)) + "\"");
      }
      out.push_back({Tok::kNumber, std::string(s.substr(i, j - i)), pos, v});
      i = j;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      std::string text;
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) {  // doubled quote
            text.push_back(c);
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        text.push_back(s[j++]);
      }
      if (!closed) {
        return ErrorAt(pos, std::string("unterminated ") + (c == '`' ? "column name" : "string") +
                                " (missing closing " + c + ")");
      }
      out.push_back({c == '`' ? Tok::kQuotedIdent : Tok::kString, text, pos});
      i = j + 1;
      continue;
    }
    if (ident_char(c)) {
      size_t j = i;
      while (j < s.size() && ident_char(s[j])) {
        ++j;
      }
      out.push_back({Tok::kIdent, std::string(s.substr(i, j - i)), pos});
      i = j;
      continue;
    }
    if (c == '(') {
      out.push_back({Tok::kLParen, "(", pos});
      ++i;
      continue;
    }
    if (c == ')') {
      out.push_back({Tok::kRParen, ")", pos});
      ++i;
      continue;
    }
    if (c == ',') {
      out.push_back({Tok::kComma, ",", pos});
      ++i;
      continue;
    }
    static const char* const kTwo[] = {"==", "!=", "<>", "<=", ">="};
    bool matched = false;
    for (const char* op : kTwo) {
      if (s.substr(i, 2) == op) {
        out.push_back({Tok::kSymbol, op, pos});
        i += 2;
        matched = true;
        break;
      }
    }
    if (matched) {
      continue;
    }
    if (std::string_view("+-*/%<>=").find(c) != std::string_view::npos) {
      out.push_back({Tok::kSymbol, std::string(1, c), pos});
      ++i;
      continue;
    }
    return ErrorAt(pos, std::string("unexpected character '") + c + "'");
  }
  out.push_back({Tok::kEnd, "", s.size() + 1});
  return out;
}

bool IsKeyword(const Token& t, std::string_view kw) {
  if (t.tok != Tok::kIdent || t.text.size() != kw.size()) {
    return false;
  }
  for (size_t i = 0; i < kw.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(t.text[i])) != kw[i]) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Parser with type binding.

std::unique_ptr<Expr> Node(Op op, Kind kind, size_t pos) {
  auto e = std::make_unique<Expr>();
  e->op = op;
  e->kind = kind;
  e->pos = pos;
  return e;
}

class Parser {
 public:
  // Without a `schema`, any column name is accepted and may be of any kind.
  Parser(std::vector<Token> toks, const table::Schema* schema)
      : toks_(std::move(toks)), schema_(schema) {}

  Result<std::unique_ptr<Expr>> ParseAll() {
    PLINTH_ASSIGN_OR_RETURN(auto e, Or());
    if (Peek().tok != Tok::kEnd) {
      return ErrorAt(Peek().pos,
                     "unexpected \"" + Peek().text + "\" (expected an operator or the end)");
    }
    if (Height(*e) > kMaxHeight) {
      return ErrorAt(e->pos, "more than " + std::to_string(kMaxHeight) +
                                 " operators deep; split the rule into several");
    }
    return e;
  }

 private:
  // Counts one level of nesting while it lives; `ok` is false past kMaxNesting.
  class Nesting {
   public:
    explicit Nesting(int& depth, int levels = 1) : depth_(depth), levels_(levels) {
      depth_ += levels_;
    }
    ~Nesting() { depth_ -= levels_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    bool ok() const { return depth_ <= kMaxNesting; }

   private:
    int& depth_;
    int levels_;
  };
  Status TooDeep() const {
    return ErrorAt(Peek().pos, "brackets, calls and prefix operators nested deeper than " +
                                   std::to_string(kMaxNesting) + " levels");
  }

  // The tree's height, found with a stack of its own.
  static size_t Height(const Expr& root) {
    size_t height = 0;
    std::vector<std::pair<const Expr*, size_t>> stack = {{&root, 1}};
    while (!stack.empty()) {
      auto [e, h] = stack.back();
      stack.pop_back();
      height = std::max(height, h);
      for (const auto& a : e->args) {
        stack.emplace_back(a.get(), h + 1);
      }
    }
    return height;
  }

  const Token& Peek() const { return toks_[i_]; }
  const Token& Next() { return toks_[i_++]; }
  bool AcceptKeyword(std::string_view kw) {
    if (IsKeyword(Peek(), kw)) {
      ++i_;
      return true;
    }
    return false;
  }
  bool AcceptSymbol(std::string_view sym) {
    if (Peek().tok == Tok::kSymbol && Peek().text == sym) {
      ++i_;
      return true;
    }
    return false;
  }

  Status NeedKind(const Expr& e, std::initializer_list<Kind> kinds, std::string_view what) {
    if (e.kind == Kind::kNull) {
      return Status::Ok();
    }
    for (Kind k : kinds) {
      if (e.kind == k) {
        return Status::Ok();
      }
    }
    return ErrorAt(e.pos, std::string(what) + " needs " + std::string(KindName(*kinds.begin())) +
                              ", got " + std::string(KindName(e.kind)));
  }

  Result<std::unique_ptr<Expr>> Or() {
    Nesting nesting(depth_);  // each bracket and call argument starts here
    if (!nesting.ok()) {
      return TooDeep();
    }
    return Logical(Op::kOr, "or", &Parser::And);
  }
  Result<std::unique_ptr<Expr>> And() { return Logical(Op::kAnd, "and", &Parser::Not); }

  // A left-associative chain of `keyword` over operands parsed by `operand`.
  Result<std::unique_ptr<Expr>> Logical(Op op, const char* keyword,
                                        Result<std::unique_ptr<Expr>> (Parser::*operand)()) {
    PLINTH_ASSIGN_OR_RETURN(auto lhs, (this->*operand)());
    std::string what = std::string("'") + keyword + "'";
    while (IsKeyword(Peek(), keyword)) {
      size_t pos = Next().pos;
      PLINTH_ASSIGN_OR_RETURN(auto rhs, (this->*operand)());
      PLINTH_RETURN_IF_ERROR(NeedKind(*lhs, {Kind::kBool}, what));
      PLINTH_RETURN_IF_ERROR(NeedKind(*rhs, {Kind::kBool}, what));
      auto e = Node(op, Kind::kBool, pos);
      e->args.push_back(std::move(lhs));
      e->args.push_back(std::move(rhs));
      lhs = std::move(e);
    }
    return lhs;
  }

  Result<std::unique_ptr<Expr>> Not() {
    if (IsKeyword(Peek(), "not")) {
      Nesting nesting(depth_);
      if (!nesting.ok()) {
        return TooDeep();
      }
      size_t pos = Next().pos;
      PLINTH_ASSIGN_OR_RETURN(auto arg, Not());
      PLINTH_RETURN_IF_ERROR(NeedKind(*arg, {Kind::kBool}, "'not'"));
      auto e = Node(Op::kNot, Kind::kBool, pos);
      e->args.push_back(std::move(arg));
      return e;
    }
    return Comparison();
  }

  // Makes `lit` (a string literal) a timestamp when compared with one.
  Status CoerceTime(Expr& lit, const Expr& other) {
    if (other.kind == Kind::kTime && lit.kind == Kind::kString && lit.op == Op::kString) {
      int64_t micros;
      if (!table::ParseTimestamp(lit.text, micros)) {
        return ErrorAt(lit.pos, "\"" + lit.text + "\" is not an ISO-8601 timestamp");
      }
      lit.op = Op::kNumber;
      lit.kind = Kind::kTime;
      lit.number = static_cast<double>(micros) / 1e6;
    }
    return Status::Ok();
  }

  Status Comparable(Expr& a, Expr& b, size_t pos, const std::string& op) {
    PLINTH_RETURN_IF_ERROR(CoerceTime(a, b));
    PLINTH_RETURN_IF_ERROR(CoerceTime(b, a));
    if (a.kind == Kind::kNull || b.kind == Kind::kNull || a.kind == b.kind) {
      return Status::Ok();
    }
    return ErrorAt(pos, "cannot compare " + std::string(KindName(a.kind)) + " with " +
                            std::string(KindName(b.kind)) + " using '" + op + "'");
  }

  Result<std::unique_ptr<Expr>> Comparison() {
    PLINTH_ASSIGN_OR_RETURN(auto lhs, Additive());
    const Token& t = Peek();
    if (IsKeyword(t, "is")) {
      size_t pos = Next().pos;
      bool negate = AcceptKeyword("not");
      if (!AcceptKeyword("null")) {
        return ErrorAt(Peek().pos, "expected 'null' after 'is'");
      }
      auto e = Node(negate ? Op::kIsNotNull : Op::kIsNull, Kind::kBool, pos);
      e->args.push_back(std::move(lhs));
      return e;
    }
    bool negate_in = false;
    if (IsKeyword(t, "not") && IsKeyword(toks_[i_ + 1], "in")) {
      Next();
      negate_in = true;
    }
    if (IsKeyword(Peek(), "in")) {
      size_t pos = Next().pos;
      if (Peek().tok != Tok::kLParen) {
        return ErrorAt(Peek().pos, "expected '(' after 'in'");
      }
      Next();
      auto e = Node(negate_in ? Op::kNotIn : Op::kIn, Kind::kBool, pos);
      e->args.push_back(std::move(lhs));
      while (true) {
        PLINTH_ASSIGN_OR_RETURN(auto item, Primary());
        if (item->op != Op::kNumber && item->op != Op::kString && item->op != Op::kBool &&
            item->op != Op::kNull) {
          return ErrorAt(item->pos, "the list after 'in' holds literals only");
        }
        PLINTH_RETURN_IF_ERROR(Comparable(*e->args[0], *item, item->pos, "in"));
        e->args.push_back(std::move(item));
        if (Peek().tok == Tok::kComma) {
          Next();
          continue;
        }
        if (Peek().tok != Tok::kRParen) {
          return ErrorAt(Peek().pos, "expected ',' or ')' in the list after 'in'");
        }
        Next();
        break;
      }
      return e;
    }
    static const std::pair<const char*, Op> kOps[] = {
        {"==", Op::kEq}, {"=", Op::kEq},  {"!=", Op::kNe}, {"<>", Op::kNe},
        {"<=", Op::kLe}, {">=", Op::kGe}, {"<", Op::kLt},  {">", Op::kGt}};
    if (Peek().tok == Tok::kSymbol) {
      for (const auto& [sym, op] : kOps) {
        if (Peek().text == sym) {
          const Token& optok = Next();
          PLINTH_ASSIGN_OR_RETURN(auto rhs, Additive());
          PLINTH_RETURN_IF_ERROR(Comparable(*lhs, *rhs, optok.pos, optok.text));
          auto e = Node(op, Kind::kBool, optok.pos);
          e->args.push_back(std::move(lhs));
          e->args.push_back(std::move(rhs));
          return e;
        }
      }
    }
    return lhs;
  }

  Result<std::unique_ptr<Expr>> Arith(Op op, size_t pos, const std::string& sym,
                                      std::unique_ptr<Expr> a, std::unique_ptr<Expr> b) {
    Kind kind = Kind::kNumber;
    bool time_a = a->kind == Kind::kTime, time_b = b->kind == Kind::kTime;
    if (time_a || time_b) {
      // time - time -> seconds; time +/- seconds -> time.
      if (op == Op::kSub && time_a && time_b) {
        kind = Kind::kNumber;
      } else if ((op == Op::kAdd || op == Op::kSub) && time_a &&
                 (b->kind == Kind::kNumber || b->kind == Kind::kNull)) {
        kind = Kind::kTime;
      } else {
        return ErrorAt(pos, "'" + sym + "' cannot combine " + std::string(KindName(a->kind)) +
                                " and " + std::string(KindName(b->kind)));
      }
    } else {
      PLINTH_RETURN_IF_ERROR(NeedKind(*a, {Kind::kNumber}, "'" + sym + "'"));
      PLINTH_RETURN_IF_ERROR(NeedKind(*b, {Kind::kNumber}, "'" + sym + "'"));
    }
    auto e = Node(op, kind, pos);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  Result<std::unique_ptr<Expr>> Additive() {
    PLINTH_ASSIGN_OR_RETURN(auto lhs, Multiplicative());
    while (Peek().tok == Tok::kSymbol && (Peek().text == "+" || Peek().text == "-")) {
      const Token& t = Next();
      PLINTH_ASSIGN_OR_RETURN(auto rhs, Multiplicative());
      PLINTH_ASSIGN_OR_RETURN(lhs, Arith(t.text == "+" ? Op::kAdd : Op::kSub, t.pos, t.text,
                                         std::move(lhs), std::move(rhs)));
    }
    return lhs;
  }

  Result<std::unique_ptr<Expr>> Multiplicative() {
    PLINTH_ASSIGN_OR_RETURN(auto lhs, Unary());
    while (Peek().tok == Tok::kSymbol &&
           (Peek().text == "*" || Peek().text == "/" || Peek().text == "%")) {
      const Token& t = Next();
      Op op = t.text == "*" ? Op::kMul : t.text == "/" ? Op::kDiv : Op::kMod;
      PLINTH_ASSIGN_OR_RETURN(auto rhs, Unary());
      PLINTH_ASSIGN_OR_RETURN(lhs, Arith(op, t.pos, t.text, std::move(lhs), std::move(rhs)));
    }
    return lhs;
  }

  Result<std::unique_ptr<Expr>> Unary() {
    const bool prefix = Peek().tok == Tok::kSymbol && (Peek().text == "-" || Peek().text == "+");
    Nesting nesting(depth_, prefix ? 1 : 0);
    if (!nesting.ok()) {
      return TooDeep();
    }
    if (Peek().tok == Tok::kSymbol && Peek().text == "-") {
      size_t pos = Next().pos;
      PLINTH_ASSIGN_OR_RETURN(auto arg, Unary());
      if (arg->op == Op::kNumber) {
        arg->number = -arg->number;
        arg->pos = pos;
        return arg;
      }
      PLINTH_RETURN_IF_ERROR(NeedKind(*arg, {Kind::kNumber}, "'-'"));
      auto e = Node(Op::kNeg, Kind::kNumber, pos);
      e->args.push_back(std::move(arg));
      return e;
    }
    if (Peek().tok == Tok::kSymbol && Peek().text == "+") {
      Next();
      return Unary();
    }
    return Primary();
  }

  Result<std::unique_ptr<Expr>> Function(const Token& name) {
    std::string fn;
    for (char c : name.text) {
      fn.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    Next();  // (
    std::vector<std::unique_ptr<Expr>> args;
    if (Peek().tok != Tok::kRParen) {
      while (true) {
        PLINTH_ASSIGN_OR_RETURN(auto a, Or());
        args.push_back(std::move(a));
        if (Peek().tok == Tok::kComma) {
          Next();
          continue;
        }
        break;
      }
    }
    if (Peek().tok != Tok::kRParen) {
      return ErrorAt(Peek().pos, "expected ')' to close " + fn + "(");
    }
    Next();
    struct Fn {
      const char* name;
      Op op;
      Kind arg;
      Kind result;
    };
    static const Fn kFns[] = {{"abs", Op::kAbs, Kind::kNumber, Kind::kNumber},
                              {"length", Op::kLength, Kind::kString, Kind::kNumber},
                              {"len", Op::kLength, Kind::kString, Kind::kNumber},
                              {"lower", Op::kLower, Kind::kString, Kind::kString},
                              {"upper", Op::kUpper, Kind::kString, Kind::kString}};
    for (const auto& f : kFns) {
      if (fn == f.name) {
        if (args.size() != 1) {
          return ErrorAt(name.pos,
                         fn + "() takes one argument, got " + std::to_string(args.size()));
        }
        PLINTH_RETURN_IF_ERROR(NeedKind(*args[0], {f.arg}, fn + "()"));
        auto e = Node(f.op, f.result, name.pos);
        e->args = std::move(args);
        return e;
      }
    }
    if (fn == "coalesce") {
      if (args.empty()) {
        return ErrorAt(name.pos, "coalesce() needs at least one argument");
      }
      Kind kind = Kind::kNull;
      for (auto& a : args) {
        if (a->kind == Kind::kNull) {
          continue;
        }
        if (kind != Kind::kNull && a->kind != kind) {
          return ErrorAt(a->pos, "coalesce() arguments must be of one kind");
        }
        kind = a->kind;
      }
      auto e = Node(Op::kCoalesce, kind, name.pos);
      e->args = std::move(args);
      return e;
    }
    return ErrorAt(name.pos, "unknown function \"" + name.text +
                                 "\" (known: abs, length, lower, upper, coalesce)");
  }

  Result<std::unique_ptr<Expr>> ColumnRef(const Token& t) {
    if (schema_ == nullptr) {
      auto e = Node(Op::kColumn, Kind::kNull, t.pos);
      e->text = t.text;
      return e;
    }
    auto idx = schema_->IndexOf(t.text);
    if (!idx) {
      return ErrorAt(t.pos, "unknown column \"" + t.text + "\"");
    }
    Kind kind;
    switch (schema_->field(*idx).type) {
      case DataType::kInt64:
      case DataType::kFloat64:
        kind = Kind::kNumber;
        break;
      case DataType::kBool:
        kind = Kind::kBool;
        break;
      case DataType::kString:
        kind = Kind::kString;
        break;
      case DataType::kTimestamp:
        kind = Kind::kTime;
        break;
      default:
        kind = Kind::kNull;
    }
    auto e = Node(Op::kColumn, kind, t.pos);
    e->column = *idx;
    e->text = t.text;
    return e;
  }

  Result<std::unique_ptr<Expr>> Primary() {
    const Token& t = Peek();
    switch (t.tok) {
      case Tok::kNumber: {
        Next();
        auto e = Node(Op::kNumber, Kind::kNumber, t.pos);
        e->number = t.number;
        return e;
      }
      case Tok::kString: {
        Next();
        auto e = Node(Op::kString, Kind::kString, t.pos);
        e->text = t.text;
        return e;
      }
      case Tok::kQuotedIdent:
        Next();
        return ColumnRef(t);
      case Tok::kIdent: {
        if (IsKeyword(t, "true") || IsKeyword(t, "false")) {
          Next();
          auto e = Node(Op::kBool, Kind::kBool, t.pos);
          e->boolean = IsKeyword(t, "true");
          return e;
        }
        if (IsKeyword(t, "null")) {
          Next();
          return Node(Op::kNull, Kind::kNull, t.pos);
        }
        for (const char* kw : {"and", "or", "not", "is", "in"}) {
          if (IsKeyword(t, kw)) {
            return ErrorAt(t.pos, "expected an operand, got '" + t.text + "'");
          }
        }
        Next();
        if (Peek().tok == Tok::kLParen) {
          return Function(t);
        }
        return ColumnRef(t);
      }
      case Tok::kLParen: {
        Next();
        PLINTH_ASSIGN_OR_RETURN(auto e, Or());
        if (Peek().tok != Tok::kRParen) {
          return ErrorAt(Peek().pos, "expected ')'");
        }
        Next();
        return e;
      }
      case Tok::kEnd:
        return ErrorAt(t.pos, "expected an operand, got the end of the expression");
      default:
        return ErrorAt(t.pos, "expected an operand, got \"" + t.text + "\"");
    }
  }

  std::vector<Token> toks_;
  int depth_ = 0;  // levels of nesting open (see Nesting)
  size_t i_ = 0;
  const table::Schema* schema_;
};

// ---------------------------------------------------------------------------
// Vectorized evaluation.

struct Vec {
  Kind kind = Kind::kNull;
  bool scalar = true;
  std::vector<double> num;            // kNumber, kTime
  std::vector<uint8_t> b;             // kBool
  std::vector<std::string_view> str;  // kString
  std::vector<uint8_t> valid;
  std::shared_ptr<std::vector<std::string>> owned;  // backing for computed strings

  size_t At(size_t i) const { return scalar ? 0 : i; }
  bool Valid(size_t i) const { return valid[At(i)] != 0; }
};

// Sets row `i` of `dst` to the (valid) value `src` holds for row `i`.
void CopySlot(Vec& dst, size_t i, const Vec& src) {
  dst.valid[i] = 1;
  if (!dst.num.empty()) {
    dst.num[i] = src.num[src.At(i)];
  }
  if (!dst.b.empty()) {
    dst.b[i] = src.b[src.At(i)];
  }
  if (!dst.str.empty()) {
    dst.str[i] = src.str[src.At(i)];
  }
}

Vec ScalarNull() {
  Vec v;
  v.valid = {0};
  v.num = {0};
  v.b = {0};
  v.str = {std::string_view()};
  return v;
}

Vec FromColumn(const Column& col, Kind kind) {
  Vec v;
  v.kind = kind;
  v.scalar = false;
  auto n = static_cast<size_t>(col.size());
  v.valid.resize(n);
  for (size_t i = 0; i < n; ++i) {
    v.valid[i] = col.IsValid(static_cast<int64_t>(i));
  }
  switch (col.type()) {
    case DataType::kInt64:
      v.num.assign(col.ints().begin(), col.ints().end());
      break;
    case DataType::kTimestamp:
      v.num.resize(n);
      for (size_t i = 0; i < n; ++i) {
        v.num[i] = static_cast<double>(col.ints()[i]) / 1e6;
      }
      break;
    case DataType::kFloat64:
      v.num = col.doubles();
      break;
    case DataType::kBool:
      v.b = col.bools();
      break;
    case DataType::kString:
      v.str.resize(n);
      for (size_t i = 0; i < n; ++i) {
        v.str[i] = col.GetString(static_cast<int64_t>(i));
      }
      break;
  }
  return v;
}

Vec Evaluate(const Expr& e, const table::Table& t);

template <typename F>
Vec MapBinary(const Vec& a, const Vec& c, size_t n, Kind out_kind, F f) {
  Vec v;
  v.kind = out_kind;
  v.scalar = a.scalar && c.scalar;
  size_t m = v.scalar ? 1 : n;
  v.valid.resize(m);
  if (out_kind == Kind::kBool) {
    v.b.resize(m);
  } else {
    v.num.resize(m);
  }
  for (size_t i = 0; i < m; ++i) {
    f(i, v);
  }
  return v;
}

int Compare(const Vec& a, const Vec& c, size_t i) {
  switch (a.kind == Kind::kNull ? c.kind : a.kind) {
    case Kind::kString: {
      int r = a.str[a.At(i)].compare(c.str[c.At(i)]);
      return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    case Kind::kBool:
      return static_cast<int>(a.b[a.At(i)]) - static_cast<int>(c.b[c.At(i)]);
    default: {
      double x = a.num[a.At(i)], y = c.num[c.At(i)];
      return x < y ? -1 : (x > y ? 1 : 0);
    }
  }
}

Vec EvalCompare(const Expr& e, const table::Table& t, size_t n) {
  Vec a = Evaluate(*e.args[0], t), c = Evaluate(*e.args[1], t);
  if (a.kind == Kind::kNull || c.kind == Kind::kNull) {
    Vec v = ScalarNull();
    v.kind = Kind::kBool;
    return v;
  }
  Op op = e.op;
  return MapBinary(a, c, n, Kind::kBool, [&](size_t i, Vec& v) {
    if (!a.Valid(i) || !c.Valid(i)) {
      v.valid[i] = 0;
      return;
    }
    v.valid[i] = 1;
    int r = Compare(a, c, i);
    bool out = false;
    switch (op) {
      case Op::kEq:
        out = r == 0;
        break;
      case Op::kNe:
        out = r != 0;
        break;
      case Op::kLt:
        out = r < 0;
        break;
      case Op::kLe:
        out = r <= 0;
        break;
      case Op::kGt:
        out = r > 0;
        break;
      case Op::kGe:
        out = r >= 0;
        break;
      default:
        break;
    }
    v.b[i] = out;
  });
}

Vec EvalArith(const Expr& e, const table::Table& t, size_t n) {
  Vec a = Evaluate(*e.args[0], t), c = Evaluate(*e.args[1], t);
  Op op = e.op;
  return MapBinary(a, c, n, e.kind, [&](size_t i, Vec& v) {
    if (a.kind == Kind::kNull || c.kind == Kind::kNull || !a.Valid(i) || !c.Valid(i)) {
      v.valid[i] = 0;
      return;
    }
    double x = a.num[a.At(i)], y = c.num[c.At(i)], r = 0;
    switch (op) {
      case Op::kAdd:
        r = x + y;
        break;
      case Op::kSub:
        r = x - y;
        break;
      case Op::kMul:
        r = x * y;
        break;
      case Op::kDiv:
        r = y == 0 ? std::nan("") : x / y;
        break;
      case Op::kMod:
        r = y == 0 ? std::nan("") : std::fmod(x, y);
        break;
      default:
        break;
    }
    v.valid[i] = !std::isnan(r);
    v.num[i] = r;
  });
}

Vec EvalLogic(const Expr& e, const table::Table& t, size_t n) {
  Vec a = Evaluate(*e.args[0], t), c = Evaluate(*e.args[1], t);
  bool is_and = e.op == Op::kAnd;
  return MapBinary(a, c, n, Kind::kBool, [&](size_t i, Vec& v) {
    // Kleene logic: -1 unknown, 0 false, 1 true.
    int x = a.Valid(i) && a.kind != Kind::kNull ? a.b[a.At(i)] : -1;
    int y = c.Valid(i) && c.kind != Kind::kNull ? c.b[c.At(i)] : -1;
    int r;
    if (is_and) {
      r = (x == 0 || y == 0) ? 0 : (x == 1 && y == 1 ? 1 : -1);
    } else {
      r = (x == 1 || y == 1) ? 1 : (x == 0 && y == 0 ? 0 : -1);
    }
    v.valid[i] = r >= 0;
    v.b[i] = r == 1;
  });
}

// A literal as a one-row (broadcast) vector; the expression outlives it.
Vec LiteralVec(const Expr& e) {
  Vec v;
  v.kind = e.kind;
  v.valid = {1};
  v.num = {e.number};
  v.b = {static_cast<uint8_t>(e.boolean)};
  v.str = {e.text};
  return v;
}

Vec Evaluate(const Expr& e, const table::Table& t) {
  const auto n = static_cast<size_t>(t.num_rows());
  switch (e.op) {
    case Op::kColumn:
      return FromColumn(t.column(e.column), e.kind);
    case Op::kNumber:
    case Op::kString:
    case Op::kBool:
      return LiteralVec(e);
    case Op::kNull:
      return ScalarNull();
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod:
      return EvalArith(e, t, n);
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
      return EvalCompare(e, t, n);
    case Op::kAnd:
    case Op::kOr:
      return EvalLogic(e, t, n);
    case Op::kNeg:
    case Op::kAbs: {
      Vec v = Evaluate(*e.args[0], t);
      if (v.kind == Kind::kNull) {
        return v;
      }
      for (double& x : v.num) {
        x = e.op == Op::kNeg ? -x : std::fabs(x);
      }
      return v;
    }
    case Op::kNot: {
      Vec v = Evaluate(*e.args[0], t);
      v.kind = Kind::kBool;
      if (v.b.empty()) {
        v.b.assign(v.valid.size(), 0);
      }
      for (auto& x : v.b) {
        x = !x;
      }
      return v;
    }
    case Op::kIsNull:
    case Op::kIsNotNull: {
      Vec a = Evaluate(*e.args[0], t);
      Vec v;
      v.kind = Kind::kBool;
      v.scalar = a.scalar;
      v.valid.assign(a.valid.size(), 1);
      v.b.resize(a.valid.size());
      for (size_t i = 0; i < a.valid.size(); ++i) {
        bool null = a.kind == Kind::kNull || a.valid[i] == 0;
        v.b[i] = e.op == Op::kIsNull ? null : !null;
      }
      return v;
    }
    case Op::kIn:
    case Op::kNotIn: {
      Vec a = Evaluate(*e.args[0], t);
      std::vector<Vec> items;
      for (size_t k = 1; k < e.args.size(); ++k) {
        items.push_back(Evaluate(*e.args[k], t));
      }
      Vec v;
      v.kind = Kind::kBool;
      v.scalar = a.scalar;
      v.valid.assign(a.valid.size(), 0);
      v.b.assign(a.valid.size(), 0);
      for (size_t i = 0; i < a.valid.size(); ++i) {
        if (a.kind == Kind::kNull || !a.valid[i]) {
          continue;
        }
        bool found = false;
        for (const Vec& item : items) {
          if (item.kind != Kind::kNull && Compare(a, item, i) == 0) {
            found = true;
            break;
          }
        }
        v.valid[i] = 1;
        v.b[i] = e.op == Op::kIn ? found : !found;
      }
      return v;
    }
    case Op::kLength: {
      Vec a = Evaluate(*e.args[0], t);
      Vec v;
      v.kind = Kind::kNumber;
      v.scalar = a.scalar;
      v.valid = a.valid;
      v.num.resize(a.valid.size());
      for (size_t i = 0; i < a.valid.size(); ++i) {
        if (a.kind == Kind::kNull) {
          v.valid[i] = 0;
          continue;
        }
        size_t chars = 0;
        for (unsigned char ch : a.str[i]) {
          chars += (ch & 0xC0) != 0x80;
        }
        v.num[i] = static_cast<double>(chars);
      }
      return v;
    }
    case Op::kLower:
    case Op::kUpper: {
      Vec v = Evaluate(*e.args[0], t);
      if (v.kind == Kind::kNull) {
        return v;
      }
      v.owned = std::make_shared<std::vector<std::string>>(v.str.size());
      for (size_t i = 0; i < v.str.size(); ++i) {
        std::string s(v.str[i]);
        for (char& ch : s) {
          ch = static_cast<char>(e.op == Op::kLower ? std::tolower(static_cast<unsigned char>(ch))
                                                    : std::toupper(static_cast<unsigned char>(ch)));
        }
        (*v.owned)[i] = std::move(s);
        v.str[i] = (*v.owned)[i];
      }
      return v;
    }
    case Op::kCoalesce: {
      Vec out = Evaluate(*e.args[0], t);
      for (size_t k = 1; k < e.args.size(); ++k) {
        Vec next = Evaluate(*e.args[k], t);
        if (next.kind == Kind::kNull) {
          continue;
        }
        if (out.kind == Kind::kNull || (out.scalar && !next.scalar)) {
          // Widen `out` to the length of `next` so rows can differ.
          Vec wide = next;
          for (size_t i = 0; i < wide.valid.size(); ++i) {
            if (out.kind != Kind::kNull && out.Valid(i)) {
              CopySlot(wide, i, out);
            }
          }
          if (out.owned) {
            wide.owned = out.owned;
          }
          out = std::move(wide);
          continue;
        }
        for (size_t i = 0; i < out.valid.size(); ++i) {
          if (!out.valid[i] && next.Valid(i)) {
            CopySlot(out, i, next);
          }
        }
        if (next.owned) {
          // Keep computed strings alive alongside `out`.
          auto merged = std::make_shared<std::vector<std::string>>(*next.owned);
          if (out.owned) {
            merged->insert(merged->end(), out.owned->begin(), out.owned->end());
          }
          out.owned = merged;
        }
      }
      return out;
    }
  }
  return ScalarNull();
}

}  // namespace

CompiledExpr::CompiledExpr(std::unique_ptr<Expr> root) : root_(std::move(root)) {}
CompiledExpr::~CompiledExpr() = default;
CompiledExpr::CompiledExpr(CompiledExpr&&) noexcept = default;
CompiledExpr& CompiledExpr::operator=(CompiledExpr&&) noexcept = default;

Result<CompiledExpr> CompiledExpr::Compile(std::string_view text, const table::Schema& schema) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(text));
  Parser parser(std::move(toks), &schema);
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, parser.ParseAll());
  return CompiledExpr(std::move(root));
}

Status CompiledExpr::CheckSyntax(std::string_view text) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(text));
  Parser parser(std::move(toks), nullptr);
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, parser.ParseAll());
  (void)root;
  return Status::Ok();
}

std::vector<size_t> CompiledExpr::columns() const {
  std::vector<size_t> out;
  std::vector<const Expr*> stack = {root_.get()};
  while (!stack.empty()) {
    const Expr* e = stack.back();
    stack.pop_back();
    if (e->op == Op::kColumn && std::find(out.begin(), out.end(), e->column) == out.end()) {
      out.push_back(e->column);
    }
    for (auto it = e->args.rbegin(); it != e->args.rend(); ++it) {
      stack.push_back(it->get());
    }
  }
  return out;
}

bool CompiledExpr::is_boolean() const {
  return root_->kind == Kind::kBool || root_->kind == Kind::kNull;
}

std::vector<int8_t> CompiledExpr::EvaluateRows(const table::Table& t) const {
  Vec v = Evaluate(*root_, t);
  auto n = static_cast<size_t>(t.num_rows());
  std::vector<int8_t> out(n, -1);
  if (v.kind == Kind::kNull) {
    return out;
  }
  for (size_t i = 0; i < n; ++i) {
    out[i] = v.Valid(i) ? static_cast<int8_t>(v.b[v.At(i)] != 0) : int8_t{-1};
  }
  return out;
}

table::Column CompiledExpr::EvaluateColumn(const table::Table& t) const {
  Vec v = Evaluate(*root_, t);
  const auto n = static_cast<size_t>(t.num_rows());
  DataType type = DataType::kFloat64;
  if (v.kind == Kind::kBool) {
    type = DataType::kBool;
  } else if (v.kind == Kind::kString) {
    type = DataType::kString;
  } else if (v.kind == Kind::kTime) {
    type = DataType::kTimestamp;
  }
  table::Column out(type);
  out.Reserve(static_cast<int64_t>(n));
  for (size_t i = 0; i < n; ++i) {
    if (v.kind == Kind::kNull || !v.Valid(i)) {
      out.AppendNull();
      continue;
    }
    const size_t at = v.At(i);
    switch (type) {
      case DataType::kBool:
        out.AppendBool(v.b[at] != 0);
        break;
      case DataType::kString:
        out.AppendString(v.str[at]);
        break;
      case DataType::kTimestamp:
        out.AppendInt(static_cast<int64_t>(std::llround(v.num[at] * 1e6)));
        break;
      default:
        if (std::isfinite(v.num[at])) {
          out.AppendDouble(v.num[at]);
        } else {
          out.AppendNull();  // 1/0, as SQL gives null rather than an infinity
        }
    }
  }
  return out;
}

}  // namespace plinth::quality
