// Portable scalar row dot products (the fallback level of dot.h), plus quantisation
// of activations to BlockQ8A / BlockQ8KA and the run-time choice of instruction set.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>

#include "engine/kernels/cpu/dot.h"

namespace moerag::engine::kernels {

void quantize_q8a(const float* x, BlockQ8A* out, int64_t n) { cpu::dot_table().quant_q8a(x, out, n); }
void quantize_q8ka(const float* x, BlockQ8KA* out, int64_t n) { cpu::dot_table().quant_q8ka(x, out, n); }

namespace cpu {

void quantize_q8a_scalar(const float* x, BlockQ8A* out, int64_t n) {
  constexpr int G = BlockQ8A::kGroup;
  for (int64_t b = 0; b < n / 32; ++b) {
    for (int g = 0; g < 32 / G; ++g, x += G) {
      float amax = 0;
      for (int i = 0; i < G; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
      for (int i = 0; i < G; ++i) out[b].qs[G * g + i] = static_cast<int8_t>(std::nearbyint(x[i] * id));
      out[b].d[g] = d;
    }
  }
}

void quantize_q8ka_scalar(const float* x, BlockQ8KA* out, int64_t n) {
  constexpr int kMaxK = BlockQ8KA::kMaxK;
  for (int64_t b = 0; b < n / 256; ++b, x += 256) {
    float gmax[16], amax = 0;
    for (int g = 0; g < 16; ++g) {
      gmax[g] = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) gmax[g] = std::max(gmax[g], std::fabs(x[i]));
      amax = std::max(amax, gmax[g]);
    }
    const float d = amax / (127.0f * kMaxK);
    for (int g = 0; g < 16; ++g) {
      // the smallest k with 127 * d * k >= gmax, so |q| <= 127
      const int k = amax > 0 ? std::min(kMaxK, static_cast<int>(std::ceil(kMaxK * (gmax[g] / amax)))) : 0;
      const float id = k > 0 ? 1.0f / (d * static_cast<float>(k)) : 0.0f;
      int sum = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        const int q = std::clamp(static_cast<int>(std::nearbyint(x[i] * id)), -127, 127);
        out[b].qs[i] = static_cast<int8_t>(q);
        sum += q;
      }
      out[b].bsums[g] = static_cast<int16_t>(sum);
      out[b].ks[g] = static_cast<uint8_t>(k);
    }
    out[b].d = d;
  }
}

namespace {

float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}

float dot_f32(const uint8_t* w, const float* x, int64_t n) {
  const auto* f = reinterpret_cast<const float*>(w);
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += f[i] * x[i];
  return acc;
}
float dot_f16(const uint8_t* w, const float* x, int64_t n) {
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += h2f(w + 2 * i) * x[i];
  return acc;
}
float dot_bf16(const uint8_t* w, const float* x, int64_t n) {
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    acc += bf16_to_fp32(h) * x[i];
  }
  return acc;
}

// block_q8_0 {half d; i8 qs[32]}; integer sums per activation group of 4.
float dot_q8_0(const uint8_t* w, const BlockQ8A* a, int64_t n) {
  constexpr int G = BlockQ8A::kGroup;
  float acc = 0;
  for (int64_t b = 0; b < n / 32; ++b, w += 34) {
    const auto* q = reinterpret_cast<const int8_t*>(w + 2);
    float blk = 0;
    for (int g = 0; g < 32 / G; ++g) {
      int s = 0;
      for (int i = G * g; i < G * g + G; ++i) s += q[i] * a[b].qs[i];
      blk += a[b].d[g] * static_cast<float>(s);
    }
    acc += h2f(w) * blk;
  }
  return acc;
}
// block_q4_0 {half d; u8 qs[16]}: element j low nibble of qs[j], j+16 the high one; x = (q-8)d
float dot_q4_0(const uint8_t* w, const BlockQ8A* a, int64_t n) {
  constexpr int G = BlockQ8A::kGroup;
  float acc = 0;
  for (int64_t b = 0; b < n / 32; ++b, w += 18) {
    float blk = 0;
    for (int g = 0; g < 32 / G; ++g) {
      int s = 0;
      for (int i = G * g; i < G * g + G; ++i) s += ((i < 16 ? w[2 + i] & 0xF : w[2 + i - 16] >> 4) - 8) * a[b].qs[i];
      blk += a[b].d[g] * static_cast<float>(s);
    }
    acc += h2f(w) * blk;
  }
  return acc;
}
// block_q4_K {half d, dmin; u8 scales[12]; u8 qs[128]}: x = d*sc*q - dmin*m per 32;
// 32-byte chunk c holds sub-block 2c in its low nibbles and 2c + 1 in its high ones.
// The activations' integer group scales ks keep the block's sums integer until the end.
float dot_q4_k(const uint8_t* w, const BlockQ8KA* a, int64_t n) {
  float acc = 0;
  for (int64_t b = 0; b < n / 256; ++b, w += 144) {
    const BlockQ8KA& ab = a[b];
    int64_t sum = 0, mins = 0;
    for (int g = 0; g < 16; ++g) {
      const int j = g / 2;  // sub-block
      const uint8_t* q = w + 16 + 32 * (j / 2) + 16 * (g % 2);
      const int shift = 4 * (j % 2);
      int sc, m;
      k4_scale_min(w + 4, j, &sc, &m);
      int32_t s = 0;
      for (int l = 0; l < 16; ++l) s += ((q[l] >> shift) & 0xF) * ab.qs[16 * g + l];
      sum += sc * ab.ks[g] * s;
      mins += m * ab.ks[g] * ab.bsums[g];
    }
    acc += ab.d * (h2f(w) * static_cast<float>(sum) - h2f(w + 2) * static_cast<float>(mins));
  }
  return acc;
}
// block_q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; half d}; see quant_k.cpp for the layout.
// x = d * sc * (q - 32) per 16; the -32 is applied once through the activation sums.
float dot_q6_k(const uint8_t* w, const BlockQ8KA* a, int64_t n) {
  float acc = 0;
  for (int64_t b = 0; b < n / 256; ++b, w += 210) {
    const BlockQ8KA& ab = a[b];
    const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
    int64_t sum = 0;  // up to 16 * 128 * kMaxK * 16 * 32 * 127: more than int32
    for (int g = 0; g < 16; ++g) {
      const int half = g / 8, k = (g % 8) / 2, l0 = 16 * (g % 2);  // element 128 half + 32 k + l
      const uint8_t* ql = w + 64 * half + 32 * (k & 1);
      const uint8_t* qh = w + 128 + 32 * half;
      int32_t s = 0;
      for (int l = l0; l < l0 + 16; ++l) {
        const int nib = k < 2 ? (ql[l] & 0xF) : (ql[l] >> 4);
        s += ((nib | (((qh[l] >> (2 * k)) & 3) << 4)) - 32) * ab.qs[16 * g + l - l0];
      }
      sum += sc[g] * ab.ks[g] * s;
    }
    acc += ab.d * h2f(w + 208) * static_cast<float>(sum);
  }
  return acc;
}

void axpy_f32(float a, const uint8_t* v, float* y, int64_t n) {
  const auto* f = reinterpret_cast<const float*>(v);
  for (int64_t i = 0; i < n; ++i) y[i] += a * f[i];
}
void axpy_f16(float a, const uint8_t* v, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * h2f(v + 2 * i);
}

std::atomic<int> g_forced{-1};  // -1: detect; 0 scalar, 1 avx2, 2 avx512

int detected_level() {
  static const int level = [] {
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                      __builtin_cpu_supports("f16c");
    const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    return avx512 ? 2 : avx2 ? 1 : 0;
  }();
  return level;
}

int level() {
  const int f = g_forced.load(std::memory_order_relaxed);
  return f >= 0 ? std::min(f, detected_level()) : detected_level();
}

}  // namespace

const DotTable& dot_table_scalar() {
  static const DotTable t = {dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0, dot_q4_k, dot_q6_k, axpy_f32, axpy_f16,
                                quantize_q8a_scalar, quantize_q8ka_scalar};
  return t;
}

const DotTable& dot_table() {
  switch (level()) {
    case 2: return dot_table_avx512();
    case 1: return dot_table_avx2();
    default: return dot_table_scalar();
  }
}

const char* simd_level() {
  static const char* names[] = {"scalar", "avx2", "avx512"};
  return names[level()];
}

void force_simd_level(const char* name) {
  const std::string s = name ? name : "";
  g_forced = s == "scalar" ? 0 : s == "avx2" ? 1 : s == "avx512" ? 2 : -1;
}

}  // namespace cpu
}  // namespace moerag::engine::kernels
