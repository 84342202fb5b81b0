// Internal to the CPU kernels: row dot products of one weight row with one activation
// row, in several instruction sets (scalar, AVX2+FMA, AVX-512+VNNI) chosen at run time.
// Q8_0/Q4_0 take activations quantised to BlockQ8A (a scale per 4), the K-quants (Q4_K, Q6_K) take
// BlockQ8KA (one scale per 256, so sub-block scales multiply integer sums); plain
// formats take F32.
#pragma once

#include <cstdint>

#include "engine/kernels/kernels.h"

namespace moerag::engine::kernels::cpu {

/// w: one row of n elements (n % 32 == 0 for the int kernels, % 256 for K-quants).
using DotQ8Fn = float (*)(const uint8_t* w, const BlockQ8A* a, int64_t n);
/// nt (1..kDotTile) dot products of one weight row with nt activation rows (token t's
/// blocks at a + t * a_stride), each bit-identical to the level's DotQ8Fn; out[nt].
using DotQ8xNFn = void (*)(const uint8_t* w, const BlockQ8A* a, int64_t a_stride, int64_t n, int nt, float* out);
constexpr int kDotTile = 4;
/// Rows [0, nr) (nr <= kF16Rows) of an F16 matrix (row_bytes apart) against nt (1..kF32Tile)
/// token rows x + t * ldx, into y[t * ldy + r]; each result bit-identical to the level's
/// F16 DotF32Fn of that row and token.
using DotF16RowsFn = void (*)(const uint8_t* w, size_t row_bytes, int64_t nr, const float* x, int64_t ldx, int64_t n,
                              int nt, float* y, int64_t ldy);
constexpr int kF32Tile = 8;
/// Four F16 rows: out[k] = rows[k] . q over n elements; out[4].
using Dot4F16Fn = void (*)(const uint8_t* const* rows, const float* q, int64_t n, float* out);
/// y[i] += sum_k e[k] * rows[k][i] over four F16 rows; y F32 [n].
using Axpy4F16Fn = void (*)(const float* e, const uint8_t* const* rows, float* y, int64_t n);
constexpr int64_t kF16Rows = 16;
/// w: one row of n elements of a K-quant (n % 256 == 0); a: n / 256 activation blocks.
using DotQ8KFn = float (*)(const uint8_t* w, const BlockQ8KA* a, int64_t n);
/// w: one row of n elements of a plain type; x F32 [n].
using DotF32Fn = float (*)(const uint8_t* w, const float* x, int64_t n);
/// y[i] += a * v[i]; v one row of n elements of a plain type; y F32 [n].
using AxpyFn = void (*)(float a, const uint8_t* v, float* y, int64_t n);

/// Quantises x F32 [n] (n % 32 == 0) into n / 32 blocks (kernels.h quantize_q8a).
using QuantQ8AFn = void (*)(const float* x, BlockQ8A* out, int64_t n);
/// Quantises x F32 [n] (n % 256 == 0) into n / 256 blocks (kernels.h quantize_q8ka).
using QuantQ8KAFn = void (*)(const float* x, BlockQ8KA* out, int64_t n);

/// One instruction set's kernels; a null entry means "not provided at this level".
struct DotTable {
  DotF32Fn f32 = nullptr, f16 = nullptr, bf16 = nullptr;
  DotQ8Fn q8_0 = nullptr, q4_0 = nullptr;
  DotQ8KFn q4_k = nullptr, q6_k = nullptr;
  AxpyFn axpy_f32 = nullptr, axpy_f16 = nullptr;
  QuantQ8AFn quant_q8a = nullptr;    ///< bit-identical at every level
  QuantQ8KAFn quant_q8ka = nullptr;  ///< bit-identical at every level
  DotQ8xNFn q8_0_xn = nullptr;       ///< batches: up to kDotTile tokens per weight-row pass
  DotF16RowsFn f16_rows = nullptr;   ///< batches: kF16Rows rows x kF32Tile tokens per pass
  Dot4F16Fn dot4_f16 = nullptr;      ///< attention: four cached keys per call
  Axpy4F16Fn axpy4_f16 = nullptr;    ///< attention: four cached values per call
};

const DotTable& dot_table_scalar();
const DotTable& dot_table_avx2();    ///< call only when the CPU has avx2+fma+f16c
const DotTable& dot_table_avx512();  ///< call only when the CPU has avx512f/bw/vl/vnni

/// The table for the current simd_level().
const DotTable& dot_table();

/// The scalar quantize_q8a (the yardstick the SIMD versions match bit for bit).
void quantize_q8a_scalar(const float* x, BlockQ8A* out, int64_t n);
/// The scalar quantize_q8ka (the yardstick the SIMD versions match bit for bit).
void quantize_q8ka_scalar(const float* x, BlockQ8KA* out, int64_t n);

/// Unpacks 6-bit scale and min j (0..7) of a Q4_K/Q5_K block's 12 scale bytes
/// (layout: ggml-common.h block_q4_K, facts only).
inline void k4_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

}  // namespace moerag::engine::kernels::cpu
