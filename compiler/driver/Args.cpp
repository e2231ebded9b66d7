// Command-line parsing for kilnc.
#include "compiler/driver/Args.h"

namespace kiln::driver {

std::optional<std::string> ParsedArgs::get(const std::string &f) const {
  auto it = flags.find(f);
  if (it == flags.end() || it->second.empty())
    return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string &f) const {
  auto it = flags.find(f);
  return it == flags.end() ? std::vector<std::string>{} : it->second;
}

std::optional<ParsedArgs> parseArgs(const CommandSpec &spec, const std::vector<std::string> &args,
                                    std::string &error) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      return out;
    }
    if (a.size() < 2 || a.compare(0, 2, "--") != 0 || a == "--") {
      if (a == "-o" && i + 1 < args.size()) { // -o is the one short flag: --output's alias
        out.flags["output"].push_back(args[++i]);
        continue;
      }
      if (!a.empty() && a[0] == '-' && a != "-") {
        error = "unknown option '" + a + "'";
        return std::nullopt;
      }
      out.positionals.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool hasValue = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    const FlagSpec *flag = nullptr;
    for (auto &f : spec.flags)
      if (f.name == name)
        flag = &f;
    if (!flag) {
      error = "unknown option '--" + name + "' for 'kilnc " + spec.name + "'";
      return std::nullopt;
    }
    if (flag->takesValue && !hasValue) {
      if (i + 1 >= args.size()) {
        error = "option '--" + name + "' needs a value";
        return std::nullopt;
      }
      value = args[++i];
    } else if (!flag->takesValue) {
      if (hasValue) {
        error = "option '--" + name + "' takes no value";
        return std::nullopt;
      }
      value = "true";
    }
    if (!flag->repeatable && out.flags.count(name)) {
      error = "option '--" + name + "' given twice";
      return std::nullopt;
    }
    out.flags[name].push_back(value);
  }
  if (int(out.positionals.size()) != spec.positionals) {
    error = "'kilnc " + spec.name + "' expects " + std::to_string(spec.positionals) +
            " argument(s), got " + std::to_string(out.positionals.size());
    return std::nullopt;
  }
  return out;
}

std::string commandHelp(const CommandSpec &spec) {
  std::string s = "usage: kilnc " + spec.name + " " + spec.usage + "\n\n" + spec.summary + "\n";
  if (!spec.flags.empty()) {
    s += "\noptions:\n";
    for (auto &f : spec.flags) {
      std::string left = "  --" + f.name + (f.takesValue ? "=VALUE" : "");
      if (left.size() < 28)
        left.resize(28, ' ');
      else
        left += "  ";
      s += left + f.help + "\n";
    }
  }
  return s;
}

} // namespace kiln::driver
