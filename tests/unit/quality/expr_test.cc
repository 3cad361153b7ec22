#include "quality/expr.h"

#include <gtest/gtest.h>

#include "table/csv_reader.h"

namespace plinth::quality {
namespace {

table::Table Data() {
  auto r = table::ReadCsvText(
      "price,quantity,total,name,start,end,flag,odd name\n"
      "2.5,4,10,Ann,2020-01-01,2020-02-01,true,1\n"
      "1,3,4,bob,2020-03-01,2020-02-01,false,2\n"
      ",2,5,,2020-01-01,,true,3\n",
      {}, "t.csv");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r->table);
}

std::vector<int8_t> Eval(const std::string& text) {
  table::Table t = Data();
  auto e = CompiledExpr::Compile(text, t.schema());
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
  if (!e.ok()) {
    return {};
  }
  EXPECT_TRUE(e->is_boolean()) << text;
  return e->EvaluateRows(t);
}

std::string CompileError(const std::string& text) {
  table::Table t = Data();
  auto e = CompiledExpr::Compile(text, t.schema());
  return e.ok() ? "ok" : e.status().message();
}

using V = std::vector<int8_t>;

TEST(ExprTest, ArithmeticAndComparisonsWithNulls) {
  EXPECT_EQ(Eval("total == price * quantity"), (V{1, 0, -1}));
  EXPECT_EQ(Eval("total = price * quantity"), (V{1, 0, -1}));
  EXPECT_EQ(Eval("abs(total - price * quantity) < 0.01"), (V{1, 0, -1}));
  EXPECT_EQ(Eval("quantity * 2 + 1 >= 7"), (V{1, 1, 0}));
  EXPECT_EQ(Eval("-quantity < -2.5"), (V{1, 1, 0}));
  EXPECT_EQ(Eval("total % 2 = 0"), (V{1, 1, 0}));
  EXPECT_EQ(Eval("total / 0 > 1"), (V{-1, -1, -1}));  // division by zero is null
}

TEST(ExprTest, ThreeValuedLogic) {
  EXPECT_EQ(Eval("price > 0 or price is null"), (V{1, 1, 1}));
  EXPECT_EQ(Eval("price > 0 and price is null"), (V{0, 0, -1}));  // null and true
  EXPECT_EQ(Eval("price > 2 or quantity > 2"), (V{1, 1, -1}));
  EXPECT_EQ(Eval("price > 2 and quantity > 3"), (V{1, 0, 0}));  // null and false
  EXPECT_EQ(Eval("not (price > 2)"), (V{0, 1, -1}));
  EXPECT_EQ(Eval("name is not null"), (V{1, 1, 0}));
  EXPECT_EQ(Eval("NOT flag"), (V{0, 1, 0}));
}

TEST(ExprTest, StringsTimestampsSetsAndFunctions) {
  EXPECT_EQ(Eval("name = 'Ann'"), (V{1, 0, -1}));
  EXPECT_EQ(Eval("lower(name) in ('ann', 'bob')"), (V{1, 1, -1}));
  EXPECT_EQ(Eval("name not in (\"Ann\")"), (V{0, 1, -1}));
  EXPECT_EQ(Eval("length(name) >= 3"), (V{1, 1, -1}));
  EXPECT_EQ(Eval("end >= start"), (V{1, 0, -1}));
  EXPECT_EQ(Eval("start >= '2020-02-01'"), (V{0, 1, 0}));
  EXPECT_EQ(Eval("end - start > 86400 * 30"), (V{1, 0, -1}));
  EXPECT_EQ(Eval("coalesce(price, 0) >= 0"), (V{1, 1, 1}));
  EXPECT_EQ(Eval("`odd name` in (1, 3)"), (V{1, 0, 1}));
  EXPECT_EQ(Eval("flag = true"), (V{1, 0, 1}));
}

TEST(ExprTest, ErrorsPointAtTheCharacter) {
  EXPECT_EQ(CompileError("pricee > 1"), "at character 1: unknown column \"pricee\"");
  EXPECT_EQ(CompileError("price >> 1"), "at character 8: expected an operand, got \">\"");
  EXPECT_EQ(CompileError("price > 1 )"),
            "at character 11: unexpected \")\" (expected an operator or the end)");
  EXPECT_EQ(CompileError("name > 5"),
            "at character 6: cannot compare text with a number using '>'");
  EXPECT_EQ(CompileError("name + 1 > 0"), "at character 1: '+' needs a number, got text");
  EXPECT_EQ(CompileError("price > 'abc"),
            "at character 9: unterminated string (missing closing ')");
  EXPECT_EQ(CompileError("start > 'soon'"),
            "at character 9: \"soon\" is not an ISO-8601 timestamp");
  EXPECT_EQ(
      CompileError("sqrt(price) > 1"),
      "at character 1: unknown function \"sqrt\" (known: abs, length, lower, upper, coalesce)");
  EXPECT_EQ(CompileError("price is 5"), "at character 10: expected 'null' after 'is'");
  EXPECT_EQ(CompileError("price > 1 and"),
            "at character 14: expected an operand, got the end of the expression");
  EXPECT_EQ(CompileError("price # 1"), "at character 7: unexpected character '#'");
}

// Deep nesting and long chains get an error, not a stack overflow: in
// parsing (brackets, 'not', '-'), in evaluation and in freeing the tree.
TEST(ExprTest, NestingAndChainsAreBounded) {
  auto repeat = [](const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      out += s;
    }
    return out;
  };
  for (int n : {5000, 100000}) {
    const std::string brackets = repeat("(", n) + "price > 1" + repeat(")", n);
    EXPECT_NE(CompileError(brackets).find("nested deeper than 100 levels"), std::string::npos)
        << CompileError(brackets);
    EXPECT_NE(CompileError(repeat("not ", n) + "flag").find("nested deeper than 100"),
              std::string::npos);
    EXPECT_NE(CompileError(repeat("-", n) + "price > 0").find("nested deeper than 100"),
              std::string::npos);
    EXPECT_FALSE(CompiledExpr::CheckSyntax(brackets).ok());
    // A chain is parsed by a loop but builds a tree as tall as it is long.
    const std::string chain = "flag" + repeat(" or flag", n);
    EXPECT_NE(CompileError(chain).find("more than 1000 operators deep"), std::string::npos)
        << CompileError(chain).substr(0, 200);
    EXPECT_NE(CompileError("price" + repeat(" + price", n) + " > 0").find("operators deep"),
              std::string::npos);
  }
  // Within the limits, deep expressions work.
  EXPECT_EQ(Eval(repeat("(", 90) + "price > 1" + repeat(")", 90)), (V{1, 0, -1}));
  EXPECT_EQ(Eval("flag" + repeat(" and flag", 900)), (V{1, 0, 1}));
  EXPECT_EQ(Eval(repeat("not ", 90) + "flag"), (V{1, 0, 1}));
}

TEST(ExprTest, NonBooleanExpressionIsFlagged) {
  table::Table t = Data();
  auto e = CompiledExpr::Compile("price * 2", t.schema());
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->is_boolean());
  auto cols = CompiledExpr::Compile("total == price * quantity", t.schema())->columns();
  EXPECT_EQ(cols, (std::vector<size_t>{2, 0, 1}));
}

TEST(ExprTest, SyntaxCheckWithoutSchema) {
  EXPECT_TRUE(CompiledExpr::CheckSyntax("anything > 1 and other is null").ok());
  EXPECT_FALSE(CompiledExpr::CheckSyntax("a > ").ok());
}

}  // namespace
}  // namespace plinth::quality
