// Attribute schemas (the mini-language of Ops.def) and value checking.
#include "compiler/ir/Attr.h"

#include <cassert>
#include <charconv>
#include <sstream>

namespace kiln {

namespace {

std::string formatDouble(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d); // shortest form that round-trips
  std::string s(buf, res.ptr);
  // Keep floats recognisable as floats in the text form.
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

AttrValue parseDefault(AttrKind kind, const std::string &text) {
  switch (kind) {
  case AttrKind::Int: return int64_t(std::stoll(text));
  case AttrKind::Float: return std::stod(text);
  case AttrKind::Bool: return text == "true";
  case AttrKind::Str:
  case AttrKind::Enum:
  case AttrKind::Pad: return text;
  case AttrKind::DTypeKind: {
    auto dt = parseDType(text);
    assert(dt && "bad dtype default in Ops.def");
    return *dt;
  }
  case AttrKind::Ints:
  case AttrKind::Floats: {
    assert(text.size() >= 2 && text.front() == '[' && text.back() == ']');
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::stringstream ss(text.substr(1, text.size() - 2));
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (kind == AttrKind::Ints)
        ints.push_back(std::stoll(item));
      else
        floats.push_back(std::stod(item));
    }
    if (kind == AttrKind::Ints)
      return ints;
    return floats;
  }
  }
  return int64_t(0);
}

} // namespace

std::vector<AttrSpec> parseAttrSchema(const char *schema) {
  std::vector<AttrSpec> specs;
  std::stringstream ss(schema);
  std::string entry;
  while (ss >> entry) {
    AttrSpec spec;
    size_t colon = entry.find(':');
    assert(colon != std::string::npos && "attr schema entry without kind");
    spec.name = entry.substr(0, colon);
    std::string rest = entry.substr(colon + 1);
    std::string defaultText;
    bool optional = false;
    if (size_t eq = rest.find('='); eq != std::string::npos) {
      defaultText = rest.substr(eq + 1);
      rest = rest.substr(0, eq);
    } else if (!rest.empty() && rest.back() == '?') {
      optional = true;
      rest.pop_back();
    }
    if (rest.rfind("enum(", 0) == 0) {
      spec.kind = AttrKind::Enum;
      std::stringstream vs(rest.substr(5, rest.size() - 6));
      std::string v;
      while (std::getline(vs, v, '|'))
        spec.enumValues.push_back(v);
    } else if (rest == "int") {
      spec.kind = AttrKind::Int;
    } else if (rest == "float") {
      spec.kind = AttrKind::Float;
    } else if (rest == "bool") {
      spec.kind = AttrKind::Bool;
    } else if (rest == "str") {
      spec.kind = AttrKind::Str;
    } else if (rest == "ints") {
      spec.kind = AttrKind::Ints;
    } else if (rest == "floats") {
      spec.kind = AttrKind::Floats;
    } else if (rest == "dtype") {
      spec.kind = AttrKind::DTypeKind;
    } else if (rest == "pad") {
      spec.kind = AttrKind::Pad;
    } else {
      assert(false && "unknown attr kind in Ops.def");
    }
    if (!defaultText.empty())
      spec.defaultValue = parseDefault(spec.kind, defaultText);
    else
      spec.required = !optional;
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::string attrKindDescription(const AttrSpec &spec) {
  switch (spec.kind) {
  case AttrKind::Int: return "an integer";
  case AttrKind::Float: return "a number";
  case AttrKind::Bool: return "true or false";
  case AttrKind::Str: return "a string";
  case AttrKind::Ints: return "a list of integers";
  case AttrKind::Floats: return "a list of numbers";
  case AttrKind::DTypeKind: return "a dtype (f32, f64, i32, i64 or bool)";
  case AttrKind::Pad: return "\"valid\", \"same\" or [top, bottom, left, right]";
  case AttrKind::Enum: {
    std::string s = "one of ";
    for (size_t i = 0; i < spec.enumValues.size(); ++i)
      s += (i ? ", \"" : "\"") + spec.enumValues[i] + "\"";
    return s;
  }
  }
  return "?";
}

std::string checkAttrValue(const AttrSpec &spec, AttrValue &value) {
  auto wrong = [&] {
    return "attribute '" + spec.name + "' must be " + attrKindDescription(spec) + ", got " +
           attrValueToString(value);
  };
  switch (spec.kind) {
  case AttrKind::Int:
    return std::holds_alternative<int64_t>(value) ? "" : wrong();
  case AttrKind::Float:
    if (auto *i = std::get_if<int64_t>(&value)) {
      value = double(*i);
      return "";
    }
    return std::holds_alternative<double>(value) ? "" : wrong();
  case AttrKind::Bool:
    return std::holds_alternative<bool>(value) ? "" : wrong();
  case AttrKind::Str:
    return std::holds_alternative<std::string>(value) ? "" : wrong();
  case AttrKind::Ints:
    return std::holds_alternative<std::vector<int64_t>>(value) ? "" : wrong();
  case AttrKind::Floats:
    if (auto *i = std::get_if<std::vector<int64_t>>(&value)) {
      value = std::vector<double>(i->begin(), i->end());
      return "";
    }
    return std::holds_alternative<std::vector<double>>(value) ? "" : wrong();
  case AttrKind::DTypeKind:
    if (auto *s = std::get_if<std::string>(&value)) {
      if (auto dt = parseDType(*s)) {
        value = *dt;
        return "";
      }
    }
    return std::holds_alternative<DType>(value) ? "" : wrong();
  case AttrKind::Pad:
    if (auto *s = std::get_if<std::string>(&value))
      return (*s == "valid" || *s == "same") ? "" : wrong();
    if (auto *v = std::get_if<std::vector<int64_t>>(&value)) {
      if (v->size() != 4)
        return wrong();
      for (int64_t p : *v)
        if (p < 0)
          return "attribute '" + spec.name + "' must not be negative, got " +
                 attrValueToString(value);
      return "";
    }
    return wrong();
  case AttrKind::Enum:
    if (auto *s = std::get_if<std::string>(&value))
      for (auto &e : spec.enumValues)
        if (e == *s)
          return "";
    return wrong();
  }
  return wrong();
}

std::string attrValueToString(const AttrValue &v) {
  struct Visitor {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return formatDouble(d); }
    std::string operator()(const std::string &s) const {
      std::string out = "\"";
      for (char c : s) {
        if (c == '"' || c == '\\')
          out += '\\';
        out += c;
      }
      return out + "\"";
    }
    std::string operator()(const std::vector<int64_t> &v) const {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i)
        s += (i ? "," : "") + std::to_string(v[i]);
      return s + "]";
    }
    std::string operator()(const std::vector<double> &v) const {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i)
        s += (i ? "," : "") + formatDouble(v[i]);
      return s + "]";
    }
    std::string operator()(DType t) const { return std::string(dtypeName(t)); }
  };
  return std::visit(Visitor{}, v);
}

} // namespace kiln
