// JSON paths, the position scanner, and the pre-parse checks against hostile input.
#include "frontend/json/JsonLocations.h"

#include "compiler/support/Diagnostic.h"
#include "kiln/runtime/JsonScan.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <unordered_set>

namespace kiln::json {

// ---- JsonPath ----

JsonPath JsonPath::operator/(std::string_view key) const {
  JsonPath p = *this;
  p.steps_.push_back(PathStep{std::string(key), 0, false});
  return p;
}

JsonPath JsonPath::operator/(size_t index) const {
  JsonPath p = *this;
  p.steps_.push_back(PathStep{"", index, true});
  return p;
}

JsonPath JsonPath::prefix(size_t n) const {
  JsonPath p;
  p.steps_.assign(steps_.begin(), steps_.begin() + std::min(n, steps_.size()));
  return p;
}

static bool isIdentifier(const std::string &s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string JsonPath::str() const {
  std::string s = "$";
  for (auto &step : steps_) {
    if (step.isIndex) {
      s += "[" + std::to_string(step.index) + "]";
    } else if (isIdentifier(step.key)) {
      s += "." + step.key;
    } else {
      s += "[\"";
      for (char c : step.key)
        s += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
      s += "\"]";
    }
  }
  return s;
}

// ---- JsonLocations ----

JsonLocations::JsonLocations(std::string text, std::string file)
    : text_(std::move(text)), file_(std::move(file)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n')
      lineStarts_.push_back(i + 1);
}

std::pair<int, int> JsonLocations::lineCol(size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  size_t line = size_t(it - lineStarts_.begin()); // 1-based, since lineStarts_[0] == 0
  return {int(line), int(offset - lineStarts_[line - 1] + 1)};
}

Loc JsonLocations::locAtOffset(size_t offset) const {
  auto [line, col] = lineCol(offset);
  return Loc{file_, line, col, ""};
}

Loc JsonLocations::loc(const JsonPath &path) const {
  auto [offset, depth] = find(path);
  Loc l = locAtOffset(offset);
  l.path = path.prefix(depth).str();
  return l;
}

size_t JsonLocations::skipWs(size_t i) const {
  while (i < text_.size() &&
         (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r'))
    ++i;
  return i;
}

static void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

size_t JsonLocations::readString(size_t i, std::string &out) const {
  assert(text_[i] == '"');
  out.clear();
  ++i;
  auto hex4 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = at; k < at + 4 && k < text_.size(); ++k) {
      char c = text_[k];
      v = v * 16 + uint32_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  };
  while (i < text_.size() && text_[i] != '"') {
    if (text_[i] != '\\') {
      out += text_[i++];
      continue;
    }
    char e = i + 1 < text_.size() ? text_[i + 1] : '\\';
    i += 2;
    switch (e) {
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'u': {
      uint32_t cp = hex4(i);
      i += 4;
      // A high surrogate is followed by its low half (nlohmann has checked that already).
      if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= text_.size() && text_[i] == '\\') {
        uint32_t lo = hex4(i + 2);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 6;
      }
      appendUtf8(out, cp);
      break;
    }
    default: out += e; break; // \" \\ and \/
    }
  }
  return i + 1;
}

size_t JsonLocations::skipValue(size_t i) const {
  std::string scratch;
  if (i >= text_.size())
    return i;
  if (text_[i] == '"')
    return readString(i, scratch);
  if (text_[i] != '{' && text_[i] != '[') {
    while (i < text_.size() && !std::strchr(",]} \t\r\n", text_[i]))
      ++i;
    return i;
  }
  int depth = 0;
  while (i < text_.size()) {
    char c = text_[i];
    if (c == '"') {
      i = readString(i, scratch);
      continue;
    }
    if (c == '{' || c == '[')
      ++depth;
    else if ((c == '}' || c == ']') && --depth == 0)
      return i + 1;
    ++i;
  }
  return i;
}

Status JsonLocations::scan() {
  struct Frame {
    bool object;
    size_t count = 0;
    std::unordered_set<std::string> keys;
  };
  std::vector<Frame> stack;
  std::vector<PathStep> path;
  std::string key;
  // nlohmann skips a UTF-8 byte order mark; so does the scanner.
  size_t i = skipWs(text_.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0);
  rootOffset_ = i;

  // Reads `"key" :` at i, checks it is new in the current object, and pushes it on the path.
  auto readKey = [&](size_t at) -> Expected<size_t> {
    size_t keyStart = at;
    at = readString(at, key);
    at = skipWs(at);
    assert(at < text_.size() && text_[at] == ':');
    at = skipWs(at + 1);
    if (!stack.back().keys.insert(key).second) {
      Loc l = locAtOffset(keyStart);
      JsonPath p;
      for (auto &s : path)
        p = s.isIndex ? p / s.index : p / s.key;
      l.path = (p / key).str();
      return errorAt(l, "duplicate key '" + key + "'");
    }
    path.push_back(PathStep{key, 0, false});
    return at;
  };
  auto record = [&](size_t at) {
    if (path.size() == 1) {
      top_[path[0].key].offset = at;
    } else if (path.size() == 2) {
      TopLevel &t = top_[path[0].key];
      if (path[1].isIndex)
        t.elements.push_back(at);
      else
        t.members[path[1].key] = at;
    }
  };

  for (;;) {
    // At the start of a value.
    record(i);
    char c = i < text_.size() ? text_[i] : '\0';
    bool closedAtOnce = false;
    if (c == '{' || c == '[') {
      stack.push_back(Frame{c == '{', 0, {}});
      i = skipWs(i + 1);
      if (text_[i] == '}' || text_[i] == ']') {
        stack.pop_back();
        ++i;
        closedAtOnce = true;
      } else if (c == '{') {
        KILN_ASSIGN(i, readKey(i));
        continue;
      } else {
        path.push_back(PathStep{"", 0, true});
        continue;
      }
    }
    if (!closedAtOnce)
      i = skipValue(i);
    // After a value: close containers until one continues with a comma.
    for (;;) {
      i = skipWs(i);
      if (stack.empty())
        return Status::ok();
      path.pop_back();
      Frame &f = stack.back();
      if (i < text_.size() && text_[i] == ',') {
        i = skipWs(i + 1);
        if (f.object) {
          KILN_ASSIGN(i, readKey(i));
        } else {
          path.push_back(PathStep{"", ++f.count, true});
        }
        break;
      }
      stack.pop_back(); // '}' or ']'
      ++i;
    }
  }
}

std::pair<size_t, size_t> JsonLocations::find(const JsonPath &path) const {
  const auto &steps = path.steps();
  if (steps.empty() || steps[0].isIndex)
    return {rootOffset_, 0};
  auto it = top_.find(steps[0].key);
  if (it == top_.end())
    return {rootOffset_, 0};
  const TopLevel &t = it->second;
  if (steps.size() == 1)
    return {t.offset, 1};
  size_t offset;
  if (steps[1].isIndex && steps[1].index < t.elements.size())
    offset = t.elements[steps[1].index];
  else if (auto m = t.members.find(steps[1].key); !steps[1].isIndex && m != t.members.end())
    offset = m->second;
  else
    return {t.offset, 1};

  // Deeper steps: walk the text from the recorded element.
  size_t depth = 2;
  std::string key;
  for (; depth < steps.size(); ++depth) {
    const PathStep &s = steps[depth];
    size_t i = offset;
    bool found = false;
    if (text_[i] == '{' && !s.isIndex) {
      i = skipWs(i + 1);
      while (i < text_.size() && text_[i] == '"') {
        i = skipWs(readString(i, key));
        i = skipWs(i + 1); // ':'
        if (key == s.key) {
          found = true;
          break;
        }
        i = skipWs(skipValue(i));
        if (text_[i] != ',')
          break;
        i = skipWs(i + 1);
      }
    } else if (text_[i] == '[' && s.isIndex) {
      i = skipWs(i + 1);
      for (size_t k = 0; i < text_.size() && text_[i] != ']'; ++k) {
        if (k == s.index) {
          found = true;
          break;
        }
        i = skipWs(skipValue(i));
        if (text_[i] != ',')
          break;
        i = skipWs(i + 1);
      }
    }
    if (!found)
      break;
    offset = i;
  }
  return {offset, depth};
}

// ---- pre-parse checks and parse errors ----

Status checkHostileJson(std::string_view text, const std::string &file) {
  if (text.size() > kMaxJsonBytes)
    return errorAt(Loc{file, 0, 0, ""}, "file is too large (" + std::to_string(text.size()) +
                                            " bytes; the limit is " +
                                            std::to_string(kMaxJsonBytes) + ")");
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return errorAt(Loc{file, 1, 1, ""}, "invalid JSON: the file is empty");
  if (size_t i = findExcessiveNesting(text, kMaxJsonDepth); i != std::string_view::npos) {
    JsonLocations locs{std::string(text.substr(0, i + 1)), file};
    return errorAt(locs.locAtOffset(i), "invalid JSON: nested deeper than " +
                                            std::to_string(kMaxJsonDepth) + " levels");
  }
  return Status::ok();
}

Status jsonSyntaxError(const JsonLocations &locs, const std::string &what, size_t byte) {
  // nlohmann: "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error
  // while parsing object key - unexpected '}'; expected string literal". Keep the part after
  // " - ", without the "last read" excerpt (which may hold raw control bytes).
  std::string detail = what;
  if (size_t dash = detail.find(" - "); dash != std::string::npos)
    detail = detail.substr(dash + 3);
  if (size_t lr = detail.find("; last read: '"); lr != std::string::npos) {
    // The excerpt may itself hold quotes; the rest, if any, starts with "; expected".
    size_t exp = detail.find("; expected", lr);
    detail = detail.substr(0, lr) + (exp != std::string::npos ? detail.substr(exp) : "");
  }
  size_t offset = byte > 0 ? byte - 1 : 0;
  return errorAt(locs.locAtOffset(offset), "invalid JSON: " + detail);
}

Status jsonNumberOverflow(const JsonLocations &locs, const std::string &what) {
  // "... number overflow parsing '1e400'": find that token outside strings.
  std::string token;
  if (size_t q = what.find('\''); q != std::string::npos)
    token = what.substr(q + 1, what.rfind('\'') - q - 1);
  const std::string &t = locs.text();
  bool inString = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if ((c == '-' || (c >= '0' && c <= '9')) && !token.empty() &&
               t.compare(i, token.size(), token) == 0) {
      return errorAt(locs.locAtOffset(i), "number " + token + " is out of range");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      while (i + 1 < t.size() && !std::strchr(",]} \t\r\n", t[i + 1]))
        ++i;
    }
  }
  return errorAt(locs.locAtOffset(0), "number " + token + " is out of range");
}

} // namespace kiln::json
