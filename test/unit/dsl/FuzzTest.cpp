//===- FuzzTest.cpp - The parser survives any input -----------------------===//
//
// Seeded random inputs: raw bytes, sequences of valid tokens, and mutations
// of a real .kd file, plus pathological nesting and a 10 MB file. For each,
// parseModule must return, and every rejected input must have produced at
// least one error, each with a location inside the file.
//
//===----------------------------------------------------------------------===//
#include "kd/dsl/Frontend.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

using namespace kd;

namespace {

constexpr const char *kSample = R"(import "models/cnn.kd"
let lr = 0.1
data fmnist = idx("fashion-mnist") {
  image gray[28, 28]
  norm mean: [0.2860], std: [0.3530]
  labels 10 names: ["T-shirt", "Trouser"]
  split train = "train" augment [crop(28, pad: 2), hflip]
  split val = train[54000..]
}
model SmallCNN(widths = [16, 32, 64], hidden = 64, classes = 10) {
  input x [1, 28, 28]
  features = x -> repeat w in widths: conv(w, k: 3, pad: 1) -> bn -> relu -> maxpool(2)
  block l2 = features -> flatten
  exit e1 = l2 -> linear(classes)
  if hidden > 0 { embed = l2 -> linear(hidden) } else { embed = l2 }
  logits = embed -> linear(if hidden == 1 then classes else 2 * -3 % 1)
  output logits
}
teacher T = ResNet(widths: [32, 64, 128], classes: 10) {
  train on fmnist.train epochs 10 batch 128
  loss ce(T.logits, label)
}
student S = SmallCNN(classes: 10)
stage distill {
  train S on fmnist.train epochs 20 batch 128 optimizer sgd(lr: 0.05, momentum: 0.9) schedule cosine
  loss 0.9 * kl(S.logits, T.logits, temperature: 4) + 0.1 * sum(e in S.exits: kl(e, S.logits))
}
evaluate S on fmnist.test metrics [accuracy, f1] // trailing comment
export S to "student.safetensors" /* block */
)";

// Parses `text` and checks the parser's contract. Returns whether it parsed.
bool parseAndCheck(const std::string &text) {
  SourceManager sm;
  DiagnosticEngine diags(sm);
  std::ostringstream sink;
  diags.setOutput(&sink);
  uint32_t file = sm.addBuffer("fuzz.kd", text);
  std::unique_ptr<ast::Module> module = parseModule(file, sm, diags);
  if (module) {
    EXPECT_EQ(diags.errorCount(), 0u);
    return true;
  }
  EXPECT_GE(diags.errorCount(), 1u) << "rejected without an error";
  for (const Diagnostic &d : diags.all()) {
    EXPECT_TRUE(d.range.valid()) << d.message;
    EXPECT_EQ(d.range.begin.file, file);
    EXPECT_LE(d.range.begin.offset, text.size()) << d.message;
    EXPECT_LE(d.range.end, text.size() + 1) << d.message;
    EXPECT_EQ(d.message.find("mismatched input"), std::string::npos) << d.message;
    EXPECT_EQ(d.message.find("expecting {"), std::string::npos) << d.message;
  }
  return false;
}

TEST(FuzzTest, RandomBytes) {
  std::mt19937 rng(20240501);
  std::uniform_int_distribution<int> length(0, 4096), byte(0, 255);
  for (int i = 0; i < 2000; ++i) {
    std::string text(static_cast<size_t>(length(rng)), '\0');
    for (char &c : text)
      c = static_cast<char>(byte(rng));
    parseAndCheck(text);
    if (HasFailure())
      FAIL() << "case " << i;
  }
}

TEST(FuzzTest, RandomTokenSequences) {
  static const char *const tokens[] = {
      "import", "let", "data", "model", "teacher", "student", "stage", "split", "input", "block",
      "exit", "output", "if", "then", "else", "repeat", "in", "and", "or", "not", "true", "false",
      "train", "graft", "optimizer", "schedule", "loss", "freeze", "load", "image", "norm", "labels",
      "evaluate", "export", "on", "epochs", "batch", "steps", "into", "as", "augment", "unlabeled",
      "metrics", "to", "using", "every", "x", "conv", "S", "_t0", "12", "3.5", "1e9", "\"s\"", "=",
      "{", "}", "(", ")", "[", "]", ",", ":", ".", "..", "->", "-", "+", "*", "/", "%", "<", "<=",
      ">", ">=", "==", "!=", "\n", "// c\n", "/* c */"};
  constexpr size_t count = sizeof tokens / sizeof tokens[0];
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, count - 1), length(0, 200);
  size_t parsed = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    for (size_t n = length(rng); n > 0; --n)
      text += std::string(tokens[pick(rng)]) + ' ';
    parsed += parseAndCheck(text);
    if (HasFailure())
      FAIL() << "case " << i << ": " << text;
  }
  // Empty sequences at least are valid files.
  EXPECT_GT(parsed, 0u);
}

TEST(FuzzTest, MutatedRealFile) {
  ASSERT_TRUE(parseAndCheck(kSample)) << "the sample itself must parse";
  std::mt19937 rng(99);
  const std::string sample = kSample;
  for (int i = 0; i < 2000; ++i) {
    std::string text = sample;
    std::uniform_int_distribution<int> edits(1, 4);
    for (int e = edits(rng); e > 0 && !text.empty(); --e) {
      std::uniform_int_distribution<size_t> pos(0, text.size() - 1);
      size_t at = pos(rng);
      size_t len = std::min<size_t>(text.size() - at, std::uniform_int_distribution<size_t>(1, 16)(rng));
      switch (rng() % 3) {
      case 0: text.erase(at, len); break;
      case 1: text.insert(at, text.substr(at, len)); break;
      default: text[at] = static_cast<char>(text[at] ^ (1 << (rng() % 8))); break;
      }
    }
    parseAndCheck(text);
    if (HasFailure())
      FAIL() << "case " << i << ":\n" << text;
  }
}

std::string firstError(const std::string &text) {
  SourceManager sm;
  DiagnosticEngine diags(sm);
  std::ostringstream sink;
  diags.setOutput(&sink);
  uint32_t file = sm.addBuffer("deep.kd", text);
  EXPECT_FALSE(parseModule(file, sm, diags));
  return diags.all().empty() ? std::string() : diags.all()[0].message;
}

TEST(FuzzTest, DeepNesting) {
  EXPECT_NE(firstError("let x = " + std::string(100000, '(')).find("nesting too deep"), std::string::npos);
  EXPECT_NE(firstError("let x = " + std::string(100000, '[') + std::string(100000, ']')).find("nesting too deep"),
            std::string::npos);
  EXPECT_NE(firstError("let x = " + std::string(100000, '-') + "1").find("nesting too deep"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 100000; ++i)
    nots += "not ";
  EXPECT_NE(firstError("let x = " + nots + "true").find("nesting too deep"), std::string::npos);

  // Nested conditionals pass the bracket scan; the tree-depth check stops them.
  std::string ifs = "let x = ";
  for (int i = 0; i < 5000; ++i)
    ifs += "if a then ";
  ifs += "1";
  for (int i = 0; i < 5000; ++i)
    ifs += " else 2";
  EXPECT_NE(firstError(ifs).find("nesting too deep"), std::string::npos);

  // A long flat chain is fine up to the limit, and so is moderate nesting.
  std::string chain = "let y = x";
  for (int i = 0; i < 500; ++i)
    chain += " -> relu";
  EXPECT_TRUE(parseAndCheck(chain));
  EXPECT_TRUE(parseAndCheck("let z = " + std::string(200, '[') + std::string(200, ']')));
}

// The first error of `text` parsed as one file, and how many there were.
std::pair<std::string, size_t> errorsOf(const std::string &text) {
  SourceManager sm;
  DiagnosticEngine diags(sm);
  std::ostringstream sink;
  diags.setOutput(&sink);
  uint32_t file = sm.addBuffer("large.kd", text);
  EXPECT_FALSE(parseModule(file, sm, diags));
  return {diags.all().empty() ? std::string() : diags.all()[0].message, diags.all().size()};
}

TEST(FuzzTest, TenMegabyteFile) {
  std::string text;
  text.reserve(10u << 20);
  for (int i = 0; text.size() < (10u << 20); ++i)
    text += "let v" + std::to_string(i) + " = conv(16, k: 3) -> bn -> relu -> [1, 2.5, \"s\"]\n";
  // Refused up front with one clear error, before any token is made.
  auto [message, count] = errorsOf(text);
  EXPECT_EQ(message, "file is too large for a .kd specification (" + std::to_string(text.size()) +
                         " bytes; the limit is " + std::to_string(kMaxSourceBytes) + ")");
  EXPECT_EQ(count, 1u);

  // Below the limit the same text parses, and an error at the very end
  // forces the slower second (LL) stage over the whole file; 1 MB of it
  // keeps the test quick.
  text.resize(1u << 20);
  text.resize(text.rfind('\n') + 1);
  EXPECT_TRUE(parseAndCheck(text));
  text += "let broken = [\n";
  EXPECT_FALSE(parseAndCheck(text));
}

TEST(FuzzTest, SizeLimitIsExact) {
  // One comment token: cheap to parse at any size, so the boundary itself
  // can be tested.
  std::string atLimit = "//" + std::string(kMaxSourceBytes - 2, 'x');
  EXPECT_TRUE(parseAndCheck(atLimit));
  auto [message, count] = errorsOf(atLimit + "x");
  EXPECT_NE(message.find("file is too large for a .kd specification"), std::string::npos) << message;
}

} // namespace
