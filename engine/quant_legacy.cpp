// Codecs for the 32-element block formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
// Layouts (ggml-common.h): within a 4/5-bit block, element j (0..15) is the low
// nibble of qs[j] and element j+16 the high nibble; Q5's fifth bits are bit j /
// bit j+16 of the 32-bit qh.
#include <algorithm>
#include <cmath>

#include "engine/quant_blocks.h"
#include "engine/tensor_types.h"

namespace moerag::engine::quant {
namespace {

constexpr int kQK = 32;

// The element with the largest magnitude, sign kept.
float signed_absmax(const float* x, int n) {
  float amax = 0, v = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); v = x[i]; }
  }
  return v;
}

int clampi(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }

}  // namespace

// block_q4_0 {half d; u8 qs[16]} = 18 bytes; x = (q - 8) * d.
void dequant_q4_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 18, dst += kQK) {
    float d = fp16_to_fp32(read_u16(src));
    const uint8_t* qs = src + 2;
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>((qs[j] & 0xF) - 8) * d;
      dst[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
  }
}

// The largest-magnitude element maps to level 0 (-8), using the asymmetric range fully.
void quant_q4_0(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQK, dst += 18) {
    float d = signed_absmax(src, kQK) / -8.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    write_u16(dst, fp32_to_fp16(d));
    for (int j = 0; j < 16; ++j) {
      int q0 = clampi(nearest(src[j] * id) + 8, 0, 15);
      int q1 = clampi(nearest(src[j + 16] * id) + 8, 0, 15);
      dst[2 + j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

// block_q4_1 {half d; half m; u8 qs[16]} = 20 bytes; x = q * d + m.
void dequant_q4_1(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 20, dst += kQK) {
    float d = fp16_to_fp32(read_u16(src)), m = fp16_to_fp32(read_u16(src + 2));
    const uint8_t* qs = src + 4;
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>(qs[j] & 0xF) * d + m;
      dst[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
    }
  }
}

void quant_q4_1(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQK, dst += 20) {
    float lo = *std::min_element(src, src + kQK), hi = *std::max_element(src, src + kQK);
    float d = (hi - lo) / 15.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    write_u16(dst, fp32_to_fp16(d));
    write_u16(dst + 2, fp32_to_fp16(lo));
    for (int j = 0; j < 16; ++j) {
      int q0 = clampi(nearest((src[j] - lo) * id), 0, 15);
      int q1 = clampi(nearest((src[j + 16] - lo) * id), 0, 15);
      dst[4 + j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

// block_q5_0 {half d; u8 qh[4]; u8 qs[16]} = 22 bytes; x = (q - 16) * d.
void dequant_q5_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 22, dst += kQK) {
    float d = fp16_to_fp32(read_u16(src));
    uint32_t qh = read_u32(src + 2);
    const uint8_t* qs = src + 6;
    for (int j = 0; j < 16; ++j) {
      int q0 = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
      int q1 = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = static_cast<float>(q0 - 16) * d;
      dst[j + 16] = static_cast<float>(q1 - 16) * d;
    }
  }
}

void quant_q5_0(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQK, dst += 22) {
    float d = signed_absmax(src, kQK) / -16.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    write_u16(dst, fp32_to_fp16(d));
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      int q0 = clampi(nearest(src[j] * id) + 16, 0, 31);
      int q1 = clampi(nearest(src[j + 16] * id) + 16, 0, 31);
      dst[6 + j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
    }
    write_u32(dst + 2, qh);
  }
}

// block_q5_1 {half d; half m; u8 qh[4]; u8 qs[16]} = 24 bytes; x = q * d + m.
void dequant_q5_1(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 24, dst += kQK) {
    float d = fp16_to_fp32(read_u16(src)), m = fp16_to_fp32(read_u16(src + 2));
    uint32_t qh = read_u32(src + 4);
    const uint8_t* qs = src + 8;
    for (int j = 0; j < 16; ++j) {
      int q0 = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
      int q1 = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = static_cast<float>(q0) * d + m;
      dst[j + 16] = static_cast<float>(q1) * d + m;
    }
  }
}

// block_q8_0 {half d; i8 qs[32]} = 34 bytes; x = q * d.
void dequant_q8_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 34, dst += kQK) {
    float d = fp16_to_fp32(read_u16(src));
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(static_cast<int8_t>(src[2 + j])) * d;
  }
}

void quant_q8_0(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQK, dst += 34) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(src[j]));
    float d = amax / 127.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    write_u16(dst, fp32_to_fp16(d));
    for (int j = 0; j < kQK; ++j) {
      dst[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(clampi(nearest(src[j] * id), -127, 127)));
    }
  }
}

// block_q8_1 {half d; half s; i8 qs[32]} = 36 bytes; x = q * d (s = d * sum(q) is a dot-product helper).
void dequant_q8_1(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 36, dst += kQK) {
    float d = fp16_to_fp32(read_u16(src));
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(static_cast<int8_t>(src[4 + j])) * d;
  }
}

}  // namespace moerag::engine::quant
