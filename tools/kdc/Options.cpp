//===- Options.cpp - kdc's command line -----------------------------------===//
#include "Options.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace kdc {

namespace {

// Accepts both `-flag` and `--flag`, as mlir-opt does.
bool isFlag(const std::string &arg, const char *name) { return arg == std::string("-") + name || arg == std::string("--") + name; }

// Matches `--name=value`, `-name=value`; sets `value`.
bool isFlagWithValue(const std::string &arg, const char *name, std::string &value) {
  for (const std::string &prefix : {std::string("--") + name + "=", std::string("-") + name + "="}) {
    if (arg.compare(0, prefix.size(), prefix) == 0) {
      value = arg.substr(prefix.size());
      return true;
    }
  }
  return false;
}

} // namespace

ParseOutcome parseOptions(int argc, char **argv, DriverOptions &opts, std::string &error) {
  bool commandSeen = false;
  bool optionsEnded = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    // Options that take the next argument as their value.
    auto takeValue = [&](const char *what) -> bool {
      if (i + 1 >= argc) {
        error = std::string(what) + " needs a value";
        return false;
      }
      value = argv[++i];
      return true;
    };

    if (optionsEnded || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!commandSeen && opts.inputs.empty() && arg == "check") {
        opts.command = Command::Check;
        commandSeen = true;
        continue;
      }
      opts.inputs.push_back(arg);
      continue;
    }
    if (arg == "--") {
      optionsEnded = true;
    } else if (isFlag(arg, "help") || arg == "-h") {
      return ParseOutcome::ShowHelp;
    } else if (isFlag(arg, "version")) {
      return ParseOutcome::ShowVersion;
    } else if (arg == "-I") {
      if (!takeValue("-I"))
        return ParseOutcome::UsageError;
      opts.includeDirs.push_back(value);
    } else if (arg.compare(0, 2, "-I") == 0) {
      opts.includeDirs.push_back(arg.substr(2));
    } else if (isFlag(arg, "stdlib")) {
      if (!takeValue("--stdlib"))
        return ParseOutcome::UsageError;
      opts.stdlibDir = value;
    } else if (isFlagWithValue(arg, "stdlib", value)) {
      opts.stdlibDir = value;
    } else if (isFlagWithValue(arg, "emit", value)) {
      if (value == "ast")
        opts.emit = Emit::AST;
      else if (value == "checked")
        opts.emit = Emit::Checked;
      else if (value == "mlir")
        opts.emit = Emit::MLIR;
      else {
        error = "unknown --emit kind '" + value + "' (expected 'ast', 'checked' or 'mlir')";
        return ParseOutcome::UsageError;
      }
    } else if (isFlag(arg, "set")) {
      if (!takeValue("--set"))
        return ParseOutcome::UsageError;
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        error = "--set expects key=value, got '" + value + "'";
        return ParseOutcome::UsageError;
      }
      opts.overrides[value.substr(0, eq)] = value.substr(eq + 1);
    } else if (isFlag(arg, "verify-diagnostics")) {
      opts.verifyDiagnostics = true;
    } else if (isFlag(arg, "split-input-file")) {
      opts.splitInputFile = true;
    } else if (isFlag(arg, "mlir-print-debuginfo")) {
      opts.printDebugInfo = true;
    } else {
      error = "unknown option '" + arg + "' (see kdc --help)";
      return ParseOutcome::UsageError;
    }
  }
  if (opts.inputs.empty()) {
    error = "no input files (see kdc --help)";
    return ParseOutcome::UsageError;
  }
  if (opts.emit != Emit::None && opts.inputs.size() != 1) {
    error = "--emit takes exactly one input file";
    return ParseOutcome::UsageError;
  }
  return ParseOutcome::Run;
}

std::string helpText() {
  return "OVERVIEW: kdc, a compiler for knowledge-distillation pipelines\n"
         "\n"
         "USAGE: kdc [COMMAND] [OPTIONS] FILE...\n"
         "\n"
         "COMMANDS:\n"
         "  check                  Load, parse and check the files; print diagnostics only (default)\n"
         "\n"
         "OPTIONS:\n"
         "  --emit=ast             Print the syntax tree of the root file and stop\n"
         "  --emit=checked         Print the checked program (shapes, stages) and stop\n"
         "  --emit=mlir            Print the program imported into the kd dialect and stop\n"
         "  --mlir-print-debuginfo With --emit=mlir, print each op's .kd source location\n"
         "  -I DIR                 Add DIR to the import search path (repeatable)\n"
         "  --stdlib DIR           Use DIR as the standard library\n"
         "                         (default: $KDC_STDLIB, else <kdc>/../share/kdc/stdlib)\n"
         "  --set KEY=VALUE        Override a declared value, e.g. --set distill.epochs=1\n"
         "  -verify-diagnostics    Check diagnostics against expected-error/-warning/-note\n"
         "                         comments in the input instead of printing them\n"
         "  -split-input-file      Treat each part between '// -----' lines as its own file\n"
         "  --help                 Show this help\n"
         "  --version              Show the version\n"
         "\n"
         "EXIT STATUS: 0 success, 1 errors in the input, 2 bad command line\n";
}

std::string defaultStdlibDir(const char *argv0) {
  if (const char *env = std::getenv("KDC_STDLIB"); env && *env)
    return env;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    exe = fs::absolute(argv0, ec);
  if (!ec) {
    fs::path installed = exe.parent_path() / ".." / "share" / "kdc" / "stdlib";
    if (fs::is_directory(installed, ec))
      return installed.lexically_normal().string();
  }
  return KDC_STDLIB_DIR;
}

} // namespace kdc
