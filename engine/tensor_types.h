// Tensor element formats: the ggml type ids used in GGUF files, their block layouts
// (elements per block, bytes per block), and conversion of one row to and from F32.
// Layouts follow ggml's ggml-common.h (facts only); the code is our own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace moerag::engine {

/// ggml tensor type ids, exactly as stored in a GGUF tensor info (ggml.h `ggml_type`).
/// Ids that ggml has retired (4, 5, 31-33) are not listed and are rejected on load.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

/// Elements per super-block of the K-quants.
inline constexpr int64_t QK_K = 256;

/// Static facts about one type.
struct TypeTraits {
  GgmlType type;
  const char* name;     ///< lower-case ggml name, e.g. "q4_k"
  int64_t block_size;   ///< elements per block (1 for plain types)
  size_t type_size;     ///< bytes per block
  bool quantized;       ///< block-quantised (not a plain number type)
  bool can_dequantize;  ///< dequantize_row supports it
  bool can_quantize;    ///< quantize_row supports it
};

/// Traits of a type id read from a file; nullptr for an unknown or retired id.
const TypeTraits* type_traits(uint32_t type_id);
/// Traits of a known type (never nullptr).
const TypeTraits& type_traits(GgmlType type);
/// Lower-case name, e.g. "q6_k"; "type#N" for unknown ids.
std::string type_name(uint32_t type_id);
inline std::string type_name(GgmlType t) { return type_name(static_cast<uint32_t>(t)); }
/// Parses "f32", "Q4_K", "q8_0", ... (case-insensitive); nullopt when unknown.
std::optional<GgmlType> parse_type_name(std::string_view name);

/// Bytes of one row of `n` elements; INVALID_INPUT when n is not a multiple of the
/// block size or the type is unknown.
Result<uint64_t> row_size(GgmlType type, int64_t n);

/// Converts n elements (n a multiple of the block size) of `type` at src into F32
/// at dst. INVALID_INPUT for a type without dequantisation or a bad n.
/// src: row_size(type, n) bytes; dst: n floats.
Status dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

/// Converts n F32 values into `type` (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, ...).
/// src: n floats; dst: row_size(type, n) bytes.
Status quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

/// IEEE half <-> float (round to nearest even; inf/nan preserved).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
/// bfloat16 <-> float (round to nearest even; nan kept quiet).
inline float bf16_to_fp32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
uint16_t fp32_to_bf16(float f);

}  // namespace moerag::engine
