// The invariants each fuzz target checks after a successful load (FuzzTargets.h): a loaded graph
// or tensor file must survive what Kiln does with it next, not just avoid crashing.
#include "fuzz/FuzzTargets.h"

#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/Safetensors.h"

namespace kiln::fuzz {
namespace {

// Weights files named by fuzzed JSON resolve here, a directory that does not exist, so an input
// can never make the importer read a real file by relative path.
constexpr const char *kNoBaseDir = "/nonexistent/kiln-fuzz/";

/// Print -> parse -> print of a graph that just loaded: the reparse must succeed and agree.
std::string checkTextRoundTrip(const Graph &g, const char *what) {
  std::string first = printGraph(g);
  auto again = parseGraph(first, "roundtrip.kir");
  if (!again)
    return std::string(what) + ": printed graph does not parse back: " + again.message() +
           "\n--- printed ---\n" + first;
  std::string second = printGraph(*again);
  if (second != first)
    return std::string(what) + ": print/parse/print differs\n--- first ---\n" + first +
           "\n--- second ---\n" + second;
  return "";
}

} // namespace

std::string checkJsonImport(std::string_view bytes, bool *loaded) {
  auto g = importJsonText(bytes, "fuzz.json", kNoBaseDir);
  if (loaded)
    *loaded = g.ok();
  if (!g)
    return "";
  if (Status s = verify(*g); !s.isOk())
    return "json: imported graph fails the verifier: " + s.message();
  if (std::string e = checkTextRoundTrip(*g, "json"); !e.empty())
    return e;
  // Export and import again: the same graph apart from locations (which name the new text).
  std::string exported = exportJson(*g);
  auto back = importJsonText(exported, "export.json", kNoBaseDir);
  if (!back)
    return "json: exported graph does not import back: " + back.message() + "\n--- exported ---\n" +
           exported;
  PrintOptions noLocs;
  noLocs.locations = false;
  std::string a = printGraph(*g, noLocs), b = printGraph(*back, noLocs);
  if (a != b)
    return "json: export/import changes the graph\n--- before ---\n" + a + "\n--- after ---\n" + b;
  return "";
}

std::string checkSafetensors(std::string_view bytes, bool *loaded) {
  SafetensorsMetadata meta;
  auto tensors = parseSafetensors(bytes, "fuzz.safetensors", &meta);
  // The metadata-free form skips "__metadata__" unchecked, so it must accept whatever the
  // checked form accepts.
  auto plain = parseSafetensors(bytes, "fuzz.safetensors");
  if (loaded)
    *loaded = tensors.ok();
  if (!tensors)
    return "";
  if (!plain)
    return "safetensors: accepted with metadata, rejected without: " + plain.message();
  size_t total = 0;
  for (const auto &[name, t] : *tensors) {
    if (t.byteSize() > bytes.size() - total)
      return "safetensors: tensor '" + name + "' holds more bytes than the file";
    total += t.byteSize();
  }
  std::string image = serializeSafetensors(*tensors, meta);
  SafetensorsMetadata meta2;
  auto back = parseSafetensors(image, "roundtrip.safetensors", &meta2);
  if (!back)
    return "safetensors: serialized tensors do not parse back: " + back.message();
  if (back->size() != tensors->size() || meta2 != meta)
    return "safetensors: round trip changes the tensor list or the metadata";
  for (size_t i = 0; i < back->size(); ++i) {
    const auto &[n1, t1] = (*tensors)[i];
    const auto &[n2, t2] = (*back)[i];
    if (n1 != n2 || !t1.identical(t2))
      return "safetensors: round trip changes tensor '" + n1 + "'";
  }
  return "";
}

std::string checkIrParser(std::string_view bytes, bool *loaded) {
  auto g = parseGraph(bytes, "fuzz.kir");
  if (loaded)
    *loaded = g.ok();
  if (!g)
    return "";
  // The parser builds through Graph::add* but leaves whole-graph rules (outputs, train steps) to
  // the verifier, as kiln-opt does: the verifier must run without crashing, and may say no.
  (void)verify(*g);
  return checkTextRoundTrip(*g, "ir");
}

} // namespace kiln::fuzz
