//===- ParseTest.cpp - Source ranges and literals of the parser -----------===//
#include "kd/dsl/Frontend.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace kd;

namespace {

struct Parsed {
  SourceManager sm;
  std::unique_ptr<DiagnosticEngine> diags;
  std::ostringstream rendered;
  std::unique_ptr<ast::Module> module;
  uint32_t file = 0;

  explicit Parsed(std::string text) {
    diags = std::make_unique<DiagnosticEngine>(sm);
    diags->setOutput(&rendered);
    file = sm.addBuffer("test.kd", std::move(text));
    module = parseModule(file, sm, *diags);
  }
  LineCol at(SourceRange r) const { return sm.lineCol(r.begin); }
  std::string_view spelled(SourceRange r) const {
    return sm.text(file).substr(r.begin.offset, r.end - r.begin.offset);
  }
  const ast::LetDecl &let(size_t i) const { return static_cast<const ast::LetDecl &>(*module->decls.at(i)); }
};

TEST(ParseTest, TabCountsAsOneColumn) {
  Parsed p("\tlet answer = 42\n");
  ASSERT_TRUE(p.module) << p.rendered.str();
  const ast::LetDecl &let = p.let(0);
  EXPECT_EQ(p.at(let.range).line, 1u);
  EXPECT_EQ(p.at(let.range).column, 2u);
  EXPECT_EQ(p.spelled(let.nameRange), "answer");
  EXPECT_EQ(p.spelled(let.value->range), "42");
  EXPECT_EQ(p.spelled(let.range), "let answer = 42");
}

TEST(ParseTest, OffsetsAreBytesAfterUtf8) {
  // 'é' is two bytes; columns and ranges count bytes, not code points.
  Parsed p("let s = \"\xC3\xA9\" let t = 7\n");
  ASSERT_TRUE(p.module) << p.rendered.str();
  const auto &str = static_cast<const ast::StringLit &>(*p.let(0).value);
  EXPECT_EQ(str.value, "\xC3\xA9");
  EXPECT_EQ(p.spelled(str.range), "\"\xC3\xA9\"");
  const ast::LetDecl &second = p.let(1);
  EXPECT_EQ(p.at(second.range).column, 14u);
  EXPECT_EQ(p.spelled(second.nameRange), "t");
  EXPECT_EQ(p.spelled(second.value->range), "7");
}

TEST(ParseTest, CrLfLineEndings) {
  Parsed p("let a = 1\r\nlet b = [1,\r\n  2]\r\n");
  ASSERT_TRUE(p.module) << p.rendered.str();
  EXPECT_EQ(p.at(p.let(1).range).line, 2u);
  const auto &list = static_cast<const ast::ListExpr &>(*p.let(1).value);
  ASSERT_EQ(list.elements.size(), 2u);
  EXPECT_EQ(p.at(list.elements[1]->range).line, 3u);
  EXPECT_EQ(p.at(list.elements[1]->range).column, 3u);
}

TEST(ParseTest, RangesOfNestedExpressions) {
  Parsed p("let y = S.logits -> linear(10, bias: false)\n");
  ASSERT_TRUE(p.module) << p.rendered.str();
  const auto *chain = ast::dyn_cast<ast::ChainExpr>(p.let(0).value.get());
  ASSERT_TRUE(chain);
  EXPECT_EQ(p.spelled(chain->range), "S.logits -> linear(10, bias: false)");
  EXPECT_EQ(p.spelled(chain->arrowRange), "->");
  const auto *member = ast::dyn_cast<ast::MemberExpr>(chain->input.get());
  ASSERT_TRUE(member);
  EXPECT_EQ(p.spelled(member->memberRange), "logits");
  const auto *call = ast::dyn_cast<ast::CallExpr>(chain->layer.get());
  ASSERT_TRUE(call);
  EXPECT_EQ(call->calleeName(), "linear");
  ASSERT_EQ(call->args.size(), 2u);
  EXPECT_EQ(call->args[1].name, "bias");
  EXPECT_EQ(p.spelled(call->args[1].nameRange), "bias");
}

TEST(ParseTest, LiteralsAreDecoded) {
  Parsed p("let a = 1_000_000\nlet b = \"q\\\"\\\\\\n\\t\"\nlet c = 2.5e-3\nlet d = true\n");
  ASSERT_TRUE(p.module) << p.rendered.str();
  EXPECT_EQ(static_cast<const ast::IntLit &>(*p.let(0).value).value, 1000000);
  EXPECT_EQ(static_cast<const ast::StringLit &>(*p.let(1).value).value, "q\"\\\n\t");
  EXPECT_DOUBLE_EQ(static_cast<const ast::FloatLit &>(*p.let(2).value).value, 2.5e-3);
  EXPECT_TRUE(static_cast<const ast::BoolLit &>(*p.let(3).value).value);
}

TEST(ParseTest, StatementClausesAndNamedArgs) {
  Parsed p("stage s { train S on d.train epochs 3 batch 64 unlabeled lr: 0.1, seed: 7 }\n");
  ASSERT_TRUE(p.module) << p.rendered.str();
  const auto &stage = static_cast<const ast::StageDecl &>(*p.module->decls[0]);
  ASSERT_EQ(stage.body.size(), 1u);
  const ast::Statement &train = stage.body[0];
  EXPECT_EQ(train.verb, "train");
  ASSERT_TRUE(train.clause("epochs"));
  EXPECT_EQ(static_cast<const ast::IntLit &>(*train.clause("epochs")->value).value, 3);
  ASSERT_TRUE(train.clause("unlabeled"));
  EXPECT_FALSE(train.clause("unlabeled")->value);
  EXPECT_FALSE(train.clause("steps"));
  ASSERT_EQ(train.namedArgs.size(), 2u);
  EXPECT_EQ(train.namedArgs[1].name, "seed");
}

TEST(ParseTest, IntegerOverflowIsLocated) {
  Parsed p("let ok = 9223372036854775807\nlet bad = 9223372036854775808\n");
  EXPECT_FALSE(p.module);
  ASSERT_EQ(p.diags->errorCount(), 1u);
  const Diagnostic &d = p.diags->all()[0];
  EXPECT_EQ(p.at(d.range).line, 2u);
  EXPECT_EQ(p.spelled(d.range), "9223372036854775808");
}

TEST(ParseTest, SeveralSyntaxErrorsAreReported) {
  Parsed p("let a = [1, 2 3]\nlet b = 1 +\nlet c = (2\n");
  EXPECT_FALSE(p.module);
  EXPECT_GE(p.diags->errorCount(), 3u) << p.rendered.str();
  for (const Diagnostic &d : p.diags->all())
    EXPECT_TRUE(d.range.valid());
}

TEST(ParseTest, NulAndControlBytesAreLocatedErrors) {
  static const char source[] = "let a = 1\nlet b = \0 2\n";
  Parsed p(std::string(source, sizeof source - 1));
  EXPECT_FALSE(p.module);
  ASSERT_GE(p.diags->errorCount(), 1u);
  const Diagnostic &d = p.diags->all()[0];
  EXPECT_EQ(p.at(d.range).line, 2u);
  EXPECT_EQ(p.at(d.range).column, 9u);
  EXPECT_NE(d.message.find("control character 0x00"), std::string::npos) << d.message;
}

TEST(ParseTest, EmptyAndCommentOnlyFilesAreValid) {
  EXPECT_TRUE(Parsed("").module);
  EXPECT_TRUE(Parsed("// nothing\n/* here */\n").module);
  EXPECT_TRUE(Parsed("\n\n   \t\n").module);
}

TEST(ParseTest, DumpIsStable) {
  Parsed p("model M(w = 2) {\n  input x\n  y = x -> conv(w)\n  output y\n}\n");
  ASSERT_TRUE(p.module) << p.rendered.str();
  std::ostringstream os;
  ast::dump(*p.module, p.sm, os);
  EXPECT_EQ(os.str(), "Module test.kd\n"
                      "ModelDecl M <1:1>\n"
                      "  Param w = 2 <1:9>\n"
                      "  Input x <2:3>\n"
                      "  Value y <3:3>\n"
                      "    Chain <3:7>\n"
                      "      Name x <3:7>\n"
                      "      Call conv <3:12>\n"
                      "        Name w <3:17>\n"
                      "  Output <4:3>\n"
                      "    Name y <4:10>\n");
}

} // namespace
