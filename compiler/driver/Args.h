// A small command-line parser for kilnc: positional arguments, --flag=value / --flag value,
// repeated flags, and a usage error (exit status 2) for anything unknown.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::driver {

/// How a command declares one flag.
struct FlagSpec {
  std::string name;     ///< without dashes: "inputs"
  bool takesValue;      ///< --name=value or --name value
  bool repeatable = false;
  std::string help;     ///< one line for --help
};

/// One command: its name, usage line, positional argument count and flags.
struct CommandSpec {
  std::string name;
  std::string usage;    ///< "MODEL.json --inputs IN.safetensors --output OUT.safetensors"
  std::string summary;  ///< one line
  int positionals;      ///< exact number of positional arguments
  std::vector<FlagSpec> flags;
};

struct ParsedArgs {
  std::vector<std::string> positionals;
  std::map<std::string, std::vector<std::string>> flags; ///< "true" for switches
  bool help = false;

  bool has(const std::string &f) const { return flags.count(f) != 0; }
  std::optional<std::string> get(const std::string &f) const;
  std::vector<std::string> all(const std::string &f) const;
};

/// Parses argv (after the command name). On a usage error returns nullopt and fills `error`.
std::optional<ParsedArgs> parseArgs(const CommandSpec &spec, const std::vector<std::string> &args,
                                    std::string &error);
/// The --help text of a command.
std::string commandHelp(const CommandSpec &spec);

} // namespace kiln::driver
