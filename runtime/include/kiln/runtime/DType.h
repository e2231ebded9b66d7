// Element types of tensors, shared by the compiler and the runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

enum class DType : uint8_t { F32, F64, I32, I64, Bool };

/// "f32", "f64", "i32", "i64", "bool": the graph-format spelling.
std::string_view dtypeName(DType t);
/// Parses the graph-format spelling.
std::optional<DType> parseDType(std::string_view s);
/// "F32", "F64", "I32", "I64", "BOOL": the safetensors spelling.
std::string_view safetensorsName(DType t);
std::optional<DType> parseSafetensorsDType(std::string_view s);
/// Bytes per element (bool is one byte).
size_t dtypeSize(DType t);
inline bool isFloat(DType t) { return t == DType::F32 || t == DType::F64; }
inline bool isInteger(DType t) { return t == DType::I32 || t == DType::I64; }

} // namespace kiln
