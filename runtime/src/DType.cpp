// Names and sizes of element types.
#include "kiln/runtime/DType.h"

namespace kiln {

std::string_view dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  case DType::Bool: return "bool";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view s) {
  for (DType t : {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool})
    if (dtypeName(t) == s)
      return t;
  return std::nullopt;
}

std::string_view safetensorsName(DType t) {
  switch (t) {
  case DType::F32: return "F32";
  case DType::F64: return "F64";
  case DType::I32: return "I32";
  case DType::I64: return "I64";
  case DType::Bool: return "BOOL";
  }
  return "?";
}

std::optional<DType> parseSafetensorsDType(std::string_view s) {
  for (DType t : {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool})
    if (safetensorsName(t) == s)
      return t;
  return std::nullopt;
}

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F32: return 4;
  case DType::F64: return 8;
  case DType::I32: return 4;
  case DType::I64: return 8;
  case DType::Bool: return 1;
  }
  return 0;
}

} // namespace kiln
