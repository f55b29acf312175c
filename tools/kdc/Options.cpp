//===- Options.cpp - kdc's command line -----------------------------------===//
#include "Options.h"

#include "kdrt/exec/RunOptions.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <iterator>
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

// Splits `--name=value` / `-name=value`.
bool splitFlagValue(const std::string &arg, std::string &name, std::string &value) {
  size_t eq = arg.find('=');
  if (arg.size() < 2 || arg[0] != '-' || eq == std::string::npos)
    return false;
  size_t start = arg[1] == '-' ? 2 : 1;
  name = arg.substr(start, eq - start);
  value = arg.substr(eq + 1);
  return true;
}

bool parseInteger(const std::string &text, long long &value) {
  if (text.empty() || text[0] == '-')
    return false;
  char *end = nullptr;
  errno = 0;
  value = std::strtoll(text.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

// The options of compile and run; `flag` is `-o` or `--name`.
// --data [NAME=]FILE: NAME=FILE when the part before '=' is a plain name (a
// path may itself hold '=').
void addDataFile(const std::string &value, DriverOptions &opts) {
  size_t eq = value.find('=');
  std::string name = eq == std::string::npos ? "" : value.substr(0, eq);
  bool plainName = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
  if (plainName)
    opts.dataFiles.emplace_back(name, value.substr(eq + 1));
  else
    opts.dataFiles.emplace_back("", value);
}

bool setRunOption(const std::string &flag, const std::string &value, DriverOptions &opts, std::string &error) {
  std::string name = flag.substr(flag.find_first_not_of('-'));
  if (name == "o") {
    opts.outputPath = value;
  } else if (name == "out" || name == "resume") {
    // --resume names the run directory too; with it, --out must agree.
    bool resume = name == "resume";
    if ((resume || opts.resume) && !opts.runDirectory.empty() && opts.runDirectory != value) {
      error = "--resume names the run directory; --out must be the same directory or left out";
      return false;
    }
    opts.runDirectory = value;
    opts.resume = opts.resume || resume;
  } else if (name == "stop-after") {
    opts.stopAfter = value;
  } else if (name == "teacher-cache-limit") {
    uint64_t bytes = 0;
    if (!kdrt::exec::parseByteSize(value, bytes)) {
      error = "--teacher-cache-limit needs a byte count (digits, optionally K, M, G or T), got '" + value + "'";
      return false;
    }
    opts.teacherCacheLimit = bytes;
  } else if (name == "backend") {
    if (value != "reference" && value != "onednn") {
      error = "unknown backend '" + value + "' (expected 'reference' or 'onednn')";
      return false;
    }
    opts.backend = value;
  } else if (name == "target") {
    if (value != "cpu" && value != "gpu") {
      error = "unknown target '" + value + "' (expected 'cpu' or 'gpu')";
      return false;
    }
    opts.target = value;
  } else if (name == "teacher-precision") {
    if (value != "fp32" && value != "bf16") {
      error = "unknown teacher precision '" + value + "' (expected 'fp32' or 'bf16')";
      return false;
    }
    opts.teacherPrecision = value;
  } else {
    long long number = 0;
    if (!parseInteger(value, number)) {
      error = "--" + name + " needs a non-negative integer, got '" + value + "'";
      return false;
    }
    if (name == "seed")
      opts.seed = uint64_t(number);
    else if (name == "max-steps")
      opts.maxSteps = int64_t(number);
    else
      opts.threads = int(number);
  }
  return true;
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
      static const std::pair<const char *, Command> commands[] = {
          {"check", Command::Check}, {"compile", Command::Compile}, {"run", Command::Run}, {"list", Command::List}};
      if (!commandSeen && opts.inputs.empty()) {
        auto named = std::find_if(std::begin(commands), std::end(commands),
                                  [&](const auto &command) { return arg == command.first; });
        if (named != std::end(commands)) {
          opts.command = named->second;
          commandSeen = true;
          continue;
        }
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
      else if (value == "memory-report")
        opts.emit = Emit::MemoryReport;
      else if (value == "lowered")
        opts.emit = Emit::Lowered;
      else if (value == "plan")
        opts.emit = Emit::Plan;
      else {
        error = "unknown --emit kind '" + value +
                "' (expected 'ast', 'checked', 'mlir', 'memory-report', 'lowered' or 'plan')";
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
    } else if (isFlag(arg, "data") || isFlagWithValue(arg, "data", value)) {
      if (isFlag(arg, "data") && !takeValue("--data"))
        return ParseOutcome::UsageError;
      addDataFile(value, opts);
    } else if (arg == "-o" || isFlag(arg, "out") || isFlag(arg, "target") || isFlag(arg, "backend") ||
               isFlag(arg, "teacher-precision") || isFlag(arg, "resume") || isFlag(arg, "stop-after") ||
               isFlag(arg, "teacher-cache-limit")) {
      if (!takeValue(arg.c_str()))
        return ParseOutcome::UsageError;
      if (!setRunOption(arg, value, opts, error))
        return ParseOutcome::UsageError;
    } else if (isFlag(arg, "seed") || isFlag(arg, "max-steps") || isFlag(arg, "threads")) {
      if (!takeValue(arg.c_str()))
        return ParseOutcome::UsageError;
      if (!setRunOption(arg, value, opts, error))
        return ParseOutcome::UsageError;
    } else if (std::string name; splitFlagValue(arg, name, value) &&
                                 (name == "target" || name == "out" || name == "backend" || name == "seed" ||
                                  name == "max-steps" || name == "threads" || name == "teacher-precision" ||
                                  name == "resume" || name == "stop-after" || name == "teacher-cache-limit")) {
      if (!setRunOption("--" + name, value, opts, error))
        return ParseOutcome::UsageError;
    } else if (isFlag(arg, "no-fuse")) {
      opts.fuse = false;
    } else if (isFlag(arg, "json")) {
      opts.json = true;
    } else if (isFlag(arg, "overwrite")) {
      opts.overwrite = true;
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
  if (opts.command == Command::List)
    return opts.inputs.empty() ? ParseOutcome::Run
                               : (error = "list takes no input files", ParseOutcome::UsageError);
  if (opts.inputs.empty()) {
    error = "no input files (see kdc --help)";
    return ParseOutcome::UsageError;
  }
  if ((opts.command == Command::Compile || opts.command == Command::Run) && opts.inputs.size() != 1) {
    error = std::string(opts.command == Command::Run ? "run" : "compile") + " takes exactly one input file";
    return ParseOutcome::UsageError;
  }
  if (opts.command != Command::Run &&
      (opts.resume || opts.overwrite || !opts.stopAfter.empty() || opts.teacherCacheLimit)) {
    error = std::string(opts.resume      ? "--resume"
                        : opts.overwrite ? "--overwrite"
                        : opts.teacherCacheLimit ? "--teacher-cache-limit"
                                                 : "--stop-after") +
            " is an option of run";
    return ParseOutcome::UsageError;
  }
  if (opts.resume && opts.overwrite) {
    error = "--resume continues a run and --overwrite starts it over: give one of them";
    return ParseOutcome::UsageError;
  }
  if (opts.command == Command::Run && opts.emit != Emit::None) {
    error = "run does not take --emit (use compile --emit=...)";
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
         "  compile FILE           Compile FILE to an executable plan (FILE.kdx, or -o OUT.kdx)\n"
         "  run FILE|RECIPE        Compile and train, evaluate and export; a bare name such as\n"
         "                         'hinton' is <stdlib>/recipes/hinton.kd\n"
         "  list                   Print the stdlib recipes with their first header line\n"
         "\n"
         "OPTIONS:\n"
         "  --emit=ast             Print the syntax tree of the root file and stop\n"
         "  --emit=checked         Print the checked program (shapes, stages) and stop\n"
         "  --emit=mlir            Print the program imported into the kd dialect and stop\n"
         "  --emit=memory-report   Print each stage's planned arena, naive sum, parameter,\n"
         "                         gradient and optimizer-state bytes and largest buffers\n"
         "  --emit=lowered         Print the program lowered to the kdrt dialect and stop\n"
         "  --emit=plan            Print the plan's manifest (JSON) and stop\n"
         "  --mlir-print-debuginfo With --emit=mlir, print each op's .kd source location\n"
         "  -o FILE                compile: the plan file to write\n"
         "  --target cpu|gpu       The runtime target to compile for (default: cpu)\n"
         "  --no-fuse              Compile without --kd-fuse (to compare with the fused plan)\n"
         "  --teacher-precision fp32|bf16\n"
         "                         bf16 lets a frozen teacher's convolutions in training\n"
         "                         stages run in bf16 where the CPU has native bf16\n"
         "                         (default: fp32)\n"
         "  --out DIR              run: the run directory (default: runs/<recipe>-<time>);\n"
         "                         refused if it already holds a run\n"
         "  --overwrite            run: start over in an --out DIR that holds a run: its\n"
         "                         plan, metrics, final.json, manifest and checkpoints are\n"
         "                         removed first (a teacher cache is kept: it is keyed)\n"
         "  --resume DIR           run: continue the run in DIR after its last completed\n"
         "                         stage; the command line must compile to DIR's plan.kdx\n"
         "  --stop-after STAGE     run: stop once STAGE has completed (--resume goes on)\n"
         "  --teacher-cache-limit SIZE\n"
         "                         run: the most memory a stage's soft-target cache may\n"
         "                         hold (e.g. 2G; 0: never cache); a larger cache is not\n"
         "                         filled and the teacher runs every step (default: half\n"
         "                         the memory available, or $KDRT_TEACHER_CACHE_LIMIT)\n"
         "  --seed N               The run's seed (initialisation, shuffling, augmentation)\n"
         "  --max-steps N          run: at most N optimizer steps per stage\n"
         "  --json                 run: print one JSON object per stage on stdout\n"
         "  --threads N            run: backend threads (default: one per core)\n"
         "  --backend NAME         run: reference | onednn (default: onednn)\n"
         "  -I DIR                 Add DIR to the import search path (repeatable)\n"
         "  --stdlib DIR           Use DIR as the standard library\n"
         "                         (default: $KDC_STDLIB, else <kdc>/../share/kdc/stdlib)\n"
         "  --set KEY=VALUE        Override a declared value, e.g. --set distill.epochs=1\n"
         "  --data [NAME=]FILE     Replace the program's data declaration (NAME, or its only\n"
         "                         one) by the one 'data' declaration in FILE\n"
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
