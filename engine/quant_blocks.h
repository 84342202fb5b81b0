// Internal: the per-type block codecs behind dequantize_row / quantize_row
// (tensor_types.h is the front door). `nb` is a count of blocks; src/dst hold
// nb * type_size bytes on the quantised side and nb * block_size floats on the other.
#pragma once

#include <cstdint>
#include <cstring>

namespace moerag::engine::quant {

/// Little-endian loads/stores (the file format is little-endian; so is every host we build for).
inline uint16_t read_u16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t read_u32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline float read_f32(const uint8_t* p) { float v; std::memcpy(&v, p, 4); return v; }
inline void write_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void write_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void write_f32(uint8_t* p, float v) { std::memcpy(p, &v, 4); }

/// Nearest integer, ties to even, branch-free (adding 1.5 * 2^23 leaves the rounded
/// value in the low mantissa bits). Inputs are clamped to +-2^22 (maxss/minss); a NaN
/// gives some value in that range, which every caller clamps to its code range.
inline int nearest(float v) {
  constexpr float kLim = 4194303.0f;
  v = v < -kLim ? -kLim : v;
  v = v > kLim ? kLim : v;
  float f = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &f, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// 32-element blocks (quant_legacy.cpp).
void dequant_q4_0(const uint8_t* src, float* dst, int64_t nb);
void dequant_q4_1(const uint8_t* src, float* dst, int64_t nb);
void dequant_q5_0(const uint8_t* src, float* dst, int64_t nb);
void dequant_q5_1(const uint8_t* src, float* dst, int64_t nb);
void dequant_q8_0(const uint8_t* src, float* dst, int64_t nb);
void dequant_q8_1(const uint8_t* src, float* dst, int64_t nb);
void quant_q4_0(const float* src, uint8_t* dst, int64_t nb);
void quant_q4_1(const float* src, uint8_t* dst, int64_t nb);
void quant_q5_0(const float* src, uint8_t* dst, int64_t nb);
void quant_q8_0(const float* src, uint8_t* dst, int64_t nb);

// 256-element super-blocks (quant_k.cpp).
void dequant_q2_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q3_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q4_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q5_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q6_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q8_k(const uint8_t* src, float* dst, int64_t nb);
void quant_q4_k(const float* src, uint8_t* dst, int64_t nb);
void quant_q6_k(const float* src, uint8_t* dst, int64_t nb);
void quant_q8_k(const float* src, uint8_t* dst, int64_t nb);

}  // namespace moerag::engine::quant
