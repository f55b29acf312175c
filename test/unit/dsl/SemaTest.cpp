//===- SemaTest.cpp - Semantic analysis on small programs ------------------===//
#include "kd/dsl/Builtins.h"
#include "kd/dsl/Checked.h"
#include "kd/dsl/Frontend.h"
#include "kd/dsl/Sema.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace kd;

namespace {
// Parses `text` as the only module of a program and checks it; diagnostics
// are collected as "line:col: message" strings.
struct Checked {
  SourceManager sm;
  DiagnosticEngine diags{sm};
  std::vector<std::string> messages;
  std::unique_ptr<CheckedProgram> program;

  explicit Checked(const std::string &text) {
    diags.setConsumer([this](const Diagnostic &d) {
      LineCol lc = d.range.valid() ? sm.lineCol(d.range.begin) : LineCol{};
      messages.push_back(std::string(d.severity == Severity::Note ? "note " : "") + std::to_string(lc.line) + ":" +
                         std::to_string(lc.column) + ": " + d.message);
    });
    uint32_t file = sm.addBuffer("test.kd", text);
    Program prog;
    std::unique_ptr<ast::Module> module = parseModule(file, sm, diags);
    if (!module)
      return;
    prog.modules.push_back(std::move(module));
    prog.imports.push_back({});
    program = check(prog, diags);
  }
  bool mentions(const std::string &fragment) const {
    for (const std::string &m : messages)
      if (m.find(fragment) != std::string::npos)
        return true;
    return false;
  }
};

const char *kData = R"(
data d = idx("data") {
  image gray[28, 28]
  labels 10
  split train = "train"
}
)";

class NoConstants : public ConstantEvaluator {
public:
  std::optional<ConstValue> evaluateConstant(const ast::Expr &expr) override {
    if (const auto *i = ast::dyn_cast<ast::IntLit>(&expr))
      return ConstValue::ofInt(i->value);
    if (const auto *s = ast::dyn_cast<ast::StringLit>(&expr))
      return ConstValue::ofString(s->value);
    return std::nullopt;
  }
};
} // namespace

TEST(BuiltinTable, NamesAreUniquePerKind) {
  std::set<std::pair<int, std::string>> seen;
  for (const Builtin &b : allBuiltins())
    EXPECT_TRUE(seen.insert({int(b.kind), b.name}).second) << b.name;
  EXPECT_NE(findBuiltin(BuiltinKind::Layer, "resize"), nullptr);
  EXPECT_NE(findBuiltin(BuiltinKind::Augmentation, "resize"), nullptr);
  EXPECT_NE(findBuiltin(BuiltinKind::Schedule, "cosine"), nullptr);
  EXPECT_NE(findBuiltin(BuiltinKind::Loss, "cosine"), nullptr);
  EXPECT_EQ(findBuiltin(BuiltinKind::Layer, "cosine"), nullptr);
}

TEST(BuiltinTable, ShapeFunctionsForTensorKinds) {
  for (const Builtin &b : allBuiltins()) {
    bool tensorKind = b.kind == BuiltinKind::Layer || b.kind == BuiltinKind::ValueFunction ||
                      b.kind == BuiltinKind::Loss || b.kind == BuiltinKind::Helper;
    EXPECT_EQ(tensorKind, b.shape != nullptr) << b.name;
  }
}

TEST(BuiltinTable, ConvShapeRule) {
  const Builtin *conv = findBuiltin(BuiltinKind::Layer, "conv");
  ASSERT_NE(conv, nullptr);
  SourceManager sm;
  DiagnosticEngine diags(sm);
  NoConstants eval;
  std::vector<ast::Arg> args(2);
  args[0].value = std::make_unique<ast::IntLit>(SourceRange(), 16);
  args[1].name = "stride";
  args[1].value = std::make_unique<ast::IntLit>(SourceRange(), 2);
  std::optional<BoundArgs> bound = bindArguments({"layer 'conv'", SourceRange()}, conv->params, args, SourceRange(),
                                                 eval, diags);
  ASSERT_TRUE(bound);
  ShapeResult r = conv->shape(ShapeQuery{{ShapeInput{{3, 32, 32}, false}}, *bound});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.shape, (Shape{16, 15, 15})); // (32 - 3) / 2 + 1
  ASSERT_EQ(r.learnable.size(), 2u);
  EXPECT_EQ(r.learnable[0].second, (Shape{16, 3, 3, 3}));
}

TEST(BuiltinTable, BinderRejectsBadStrings) {
  const Builtin *kl = findBuiltin(BuiltinKind::Loss, "kl");
  SourceManager sm;
  DiagnosticEngine diags(sm);
  std::vector<std::string> seen;
  diags.setConsumer([&](const Diagnostic &d) { seen.push_back(d.message); });
  NoConstants eval;
  std::vector<ast::Arg> args(3);
  args[0].value = std::make_unique<ast::NameExpr>(SourceRange(), "a");
  args[1].value = std::make_unique<ast::NameExpr>(SourceRange(), "b");
  args[2].name = "reduction";
  args[2].value = std::make_unique<ast::StringLit>(SourceRange(), "batchmaen");
  EXPECT_FALSE(bindArguments({"loss 'kl'", SourceRange()}, kl->params, args, SourceRange(), eval, diags));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("did you mean \"batchmean\""), std::string::npos) << seen[0];
}

TEST(Sema, InfersShapesThroughAModel) {
  Checked c(std::string(kData) + R"(
model M(widths = [4, 8]) {
  input x
  f = x -> repeat w in widths: conv(w, k: 3, pad: 1) -> relu -> maxpool(2)
  logits = f -> flatten -> linear(10)
  output logits
}
student S = M
stage s {
  train S on d.train epochs 1 batch 8
  optimizer sgd(0.1)
  loss ce(S.logits, label)
}
)");
  ASSERT_TRUE(c.program) << (c.messages.empty() ? "" : c.messages[0]);
  const ModelInstance &m = c.program->instances.at(0);
  EXPECT_EQ(m.inputShape, (Shape{1, 28, 28}));
  const NamedValue *f = m.findValue("f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(m.nodes[size_t(f->node)].shape, (Shape{8, 7, 7}));
  ASSERT_EQ(c.program->stages.size(), 1u);
  EXPECT_EQ(c.program->stages[0].kind, "train");
  EXPECT_TRUE(c.program->stages[0].loss.usesLabel);
}

TEST(Sema, MultiplyAddsFollowTheShapes) {
  // On 28x28: conv 1 -> 4 (3x3, pad 1): 4 * 28 * 28 outputs of 9 each;
  // grouped conv 4 -> 8 (groups 2, stride 2): 8 * 14 * 14 outputs of
  // 2 * 9; linear 8 -> 10 after gap: 10 outputs of 8. A student at 14x14
  // (transform) has a quarter of the convolutions' work.
  Checked c(std::string(kData) + R"(
model M {
  input x
  f = x -> conv(4, k: 3, pad: 1) -> relu -> conv(8, k: 3, stride: 2, pad: 1, groups: 2)
  logits = f -> gap -> linear(10)
  output logits
}
teacher T = M { train on d.train epochs 1 batch 8 optimizer sgd(0.1) loss ce(T.logits, label) }
student S = M { transform resize(14, 14) }
stage s {
  train S on d.train epochs 1 batch 8
  optimizer sgd(0.1)
  loss kl(S.logits, T.logits)
}
)");
  ASSERT_TRUE(c.program) << (c.messages.empty() ? "" : c.messages[0]);
  const CheckedModelUse *teacher = c.program->findUse("T");
  const CheckedModelUse *student = c.program->findUse("S");
  ASSERT_TRUE(teacher && student);
  const ModelInstance &t = c.program->instances.at(size_t(teacher->instance));
  const ModelInstance &s = c.program->instances.at(size_t(student->instance));
  EXPECT_EQ(t.multiplyAdds(), 4 * 28 * 28 * 9 + 8 * 14 * 14 * 18 + 10 * 8);
  EXPECT_EQ(s.multiplyAdds(), 4 * 14 * 14 * 9 + 8 * 7 * 7 * 18 + 10 * 8);
  EXPECT_EQ(s.parameterCount(), t.parameterCount());
}

TEST(Sema, ParameterArithmeticAndOverrides) {
  Checked c(std::string(kData) + R"(
let base = 3
model M(w = base * 4, half = w / 2) {
  input x
  h = x -> conv(half, k: 1) -> gap
  output h
}
student S = M(w: len([1, 2]) * 10)
evaluate S on d.train metrics [accuracy]
)");
  // half = (2 * 10) / 2: one score per class of the 10 labels evaluate reads.
  ASSERT_TRUE(c.program) << (c.messages.empty() ? "" : c.messages[0]);
  EXPECT_EQ(c.program->instances.at(0).nodes.back().shape, (Shape{10}));
}

TEST(Sema, DivisionByZeroIsLocated) {
  Checked c(std::string(kData) + R"(
model M(w = 4 / (2 - 2)) {
  input x
  output x -> conv(w)
}
student S = M
evaluate S on d.train metrics [accuracy]
)");
  EXPECT_FALSE(c.program);
  EXPECT_TRUE(c.mentions("8:13: division by zero in '4 / 0'"));
}

TEST(Sema, UnknownTapSuggestsName) {
  Checked c(std::string(kData) + R"(
model M {
  input x
  embed = x -> flatten
  logits = embed -> linear(10)
  output logits
}
student S = M
stage s {
  train S on d.train epochs 1 batch 8
  optimizer sgd(0.1)
  loss ce(S.embd, label)
}
)");
  EXPECT_FALSE(c.program);
  EXPECT_TRUE(c.mentions("has no value named 'embd'; did you mean 'embed'?"));
}

TEST(Sema, ShapeErrorInComposedModelPointsAtUse) {
  Checked c(std::string(kData) + R"(
model Inner(k) {
  input x
  out = x -> maxpool(k)
  output out
}
model Outer {
  input x
  out = x -> Inner(64)
  output out
}
student S = Outer
evaluate S on d.train metrics [accuracy]
)");
  EXPECT_FALSE(c.program);
  EXPECT_TRUE(c.mentions("pooling window 64x64 is larger than the input [1, 28, 28]"));
  EXPECT_TRUE(c.mentions("note 15:14: in instantiation of model 'Inner' here"));
  EXPECT_TRUE(c.mentions("in instantiation of model 'Outer' for student 'S' here"));
}

TEST(Sema, StandaloneModelWithoutShapeChecksNames) {
  Checked good(R"(
model Block(w) {
  input x
  out = x -> conv(w, k: 3) -> bn -> relu
  output out
}
)");
  EXPECT_TRUE(good.program) << (good.messages.empty() ? "" : good.messages[0]);
  Checked bad(R"(
model Block(w) {
  input x
  out = x -> conv(w, kk: 3)
  more = x -> bnn
  output more
}
)");
  EXPECT_FALSE(bad.program);
  EXPECT_TRUE(bad.mentions("unknown argument 'kk' of layer 'conv'; did you mean 'k'?"));
  EXPECT_TRUE(bad.mentions("unknown layer 'bnn'; did you mean 'bn'?"));
}

TEST(Sema, DumpPrintsShapes) {
  Checked c(R"(
model M {
  input x [3, 8, 8]
  y = x -> conv(4, k: 3) -> gap
  output y
}
)");
  ASSERT_TRUE(c.program);
  std::ostringstream os;
  dumpChecked(*c.program, c.sm, os);
  EXPECT_NE(os.str().find("value y = %2 : [4]"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find(": [4, 6, 6]"), std::string::npos) << os.str();
}
