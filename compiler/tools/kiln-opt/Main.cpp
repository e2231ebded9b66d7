// kiln-opt: runs a pass pipeline on a text-form (.kir) or JSON graph and prints the result.
//
//   kiln-opt FILE.kir|FILE.json --passes=a,b,c [--print-ir-after=p[,q]] [--print-ir-after-all]
//            [--time-passes] [--debug-passes] [--no-verify] [--train] [--no-locations]
//
// The resulting graph goes to stdout (printGraph), preceded by any IR dumps and the timing
// table; debug output goes to stderr. Errors are located and exit 1; a bad command line prints
// the usage and exits 2.
#include "compiler/autodiff/TrainGraph.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/passes/PassManager.h"
#include "compiler/passes/PassRegistry.h"
#include "frontend/json/JsonImporter.h"

#include <fstream>
#include <iostream>
#include <sstream>

using namespace kiln;

namespace {

struct Args {
  std::string file;
  std::string passes;
  bool train = false;
  bool debug = false;
  PassManagerOptions pm;
};

void printUsage(std::ostream &os) {
  os << "usage: kiln-opt FILE.kir|FILE.json --passes=a,b,c [--print-ir-after=p[,q]]\n"
        "                [--print-ir-after-all] [--time-passes] [--debug-passes] [--no-verify]\n"
        "                [--train] [--no-locations]\n"
        "passes:\n";
  for (const PassInfo &p : listPasses())
    os << "  " << p.name << std::string(p.name.size() < 14 ? 14 - p.name.size() : 1, ' ')
       << p.description << "\n";
}

/// Parses argv; returns an error message for a bad command line.
std::string parseArgs(int argc, char **argv, Args &args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      if (a.rfind(flag, 0) == 0)
        return a.substr(flag.size());
      return std::nullopt;
    };
    if (auto v = value("--passes="))
      args.passes = *v;
    else if (auto v = value("--print-ir-after=")) {
      Expected<std::vector<std::string>> names = splitPipeline(*v);
      if (!names)
        return names.message();
      args.pm.printAfter.insert(args.pm.printAfter.end(), names->begin(), names->end());
    } else if (a == "--print-ir-after-all")
      args.pm.printAfterAll = true;
    else if (a == "--time-passes")
      args.pm.timePasses = true;
    else if (a == "--debug-passes")
      args.debug = true;
    else if (a == "--no-verify")
      args.pm.verifyEach = false;
    else if (a == "--train")
      args.train = true;
    else if (a == "--no-locations")
      args.pm.print.locations = false;
    else if (a.rfind("-", 0) == 0)
      return "error: unknown option '" + a + "'";
    else if (!args.file.empty())
      return "error: more than one input file ('" + args.file + "' and '" + a + "')";
    else
      args.file = a;
  }
  if (args.file.empty())
    return "error: no input file";
  return "";
}

Expected<Graph> loadGraph(const std::string &path) {
  if (path.size() >= 5 && path.ends_with(".json"))
    return importJsonFile(path);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": error: cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return parseGraph(text.str(), path);
}

} // namespace

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      printUsage(std::cout);
      return 0;
    }
  Args args;
  if (std::string err = parseArgs(argc, argv, args); !err.empty()) {
    std::cerr << "kiln-opt: " << err << "\n";
    printUsage(std::cerr);
    return 2;
  }
  args.pm.out = &std::cout;
  if (args.debug)
    args.pm.debug = &std::cerr;
  Expected<PassManager> pm = PassManager::create(args.passes, args.pm);
  if (!pm) {
    std::cerr << "kiln-opt: " << pm.message() << "\n";
    return 2;
  }
  Expected<Graph> g = loadGraph(args.file);
  if (!g) {
    std::cerr << g.message() << "\n";
    return 1;
  }
  if (args.train) {
    Expected<Graph> tg = buildTrainingGraph(*g);
    if (!tg) {
      std::cerr << tg.message() << "\n";
      return 1;
    }
    *g = tg.take();
  }
  Expected<bool> ran = pm->run(*g);
  if (!ran) {
    std::cerr << ran.message() << "\n";
    return 1;
  }
  std::cout << printGraph(*g, args.pm.print);
  return 0;
}
