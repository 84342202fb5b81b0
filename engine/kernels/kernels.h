// The engine's CPU ops, each in two versions with the same signature: `ref::` (naive,
// obviously correct, scalar; the tests' yardstick) and `cpu::` (SIMD, multi-threaded on
// the engine's thread pool). The CPU backend calls `cpu::`; tests compare the two on
// random shapes. All activations are F32, row-major, outermost dimension first.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/tensor_types.h"

namespace moerag {
class ThreadPool;
}

namespace moerag::engine::kernels {

/// A weight matrix as stored in the file: n_rows rows of n_cols elements of `type`,
/// row r at data + r * row_bytes. // type [n_rows, n_cols]
struct MatView {
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  size_t row_bytes = 0;

  /// Rows [begin, begin + n) of this matrix.
  MatView rows(int64_t begin, int64_t n) const {
    return {type, data + static_cast<size_t>(begin) * row_bytes, n, n_cols, row_bytes};
  }
};

/// Rotary embedding parameters (ggml rope semantics incl. YaRN; see rope.cpp).
struct RopeParams {
  bool neox = false;          ///< pairs (i, i + n_rot/2) instead of (2i, 2i+1)
  int64_t n_rot = 0;          ///< rotated dims per head (the rest pass through)
  float freq_base = 10000.f;  ///< theta base
  float freq_scale = 1.f;     ///< 1 / scaling factor (linear or YaRN)
  float ext_factor = 0.f;     ///< YaRN extrapolation mix (1 with YaRN, else 0)
  float mscale = 1.f;         ///< multiplier of cos/sin (YaRN magnitude correction)
  int64_t n_ctx_orig = 0;     ///< YaRN original context
  float beta_fast = 32.f;     ///< YaRN correction range (ggml defaults)
  float beta_slow = 1.f;
};

/// The YaRN correction dims [low, high] for a rope (ggml_rope_yarn_corr_dims).
void rope_yarn_corr_dims(const RopeParams& p, float dims[2]);
/// cos/sin for one position: cs[2*i] = cos, cs[2*i+1] = sin of pair i (i < n_rot/2).
void rope_cos_sin(const RopeParams& p, int32_t pos, float* cs);

/// One sequence's KV cache as the attention op sees it: positions 0..n_kv-1 in fixed
/// blocks of block_size token rows. A token row holds n_head_kv heads of `dim`
/// elements of `type` (F32, F16 or Q8_0), head h at element h * dim. Blocks evicted by
/// a sliding window are nullptr and must lie outside every query's window.
struct KvView {
  GgmlType type = GgmlType::F16;
  const uint8_t* const* blocks = nullptr;  ///< [n_blocks] -> [block_size, row_bytes]
  int64_t block_size = 0;
  size_t row_bytes = 0;                    ///< bytes per token row
  int64_t row_elems = 0;                   ///< elements per token row
};

/// Per query token: which cache it reads and how far.
struct AttnQuery {
  KvView k;       ///< keys: head h at element h * head_dim_k of a row
  KvView v;       ///< values: head h at element v_offset + h * head_dim_v of a row (may alias k)
  int64_t n_kv;   ///< keys 0..n_kv-1 are valid (non-causal: all attended)
  int32_t pos;    ///< the query's position (causal: keys <= pos)
};

/// Shapes and masking of one attention call.
struct AttnParams {
  int64_t n_head = 0, n_head_kv = 0;   ///< GQA: query head h reads kv head h / (n_head / n_head_kv)
  int64_t head_dim_k = 0, head_dim_v = 0;
  int64_t v_offset = 0;                ///< element offset of value head 0 in a v row (MLA: 0 in the k row)
  float scale = 1.f;                   ///< multiplies q.k
  bool causal = true;
  int64_t window = 0;                  ///< sliding window (keys with pos - k < window), 0 = none
};

/// Activations quantised in blocks of 32 for the Q8_0 / Q4_0 dot products, with a
/// float scale per group of 4: the unit one int8 dot-product instruction sums into an
/// int32 lane (vpdpbusd, pmaddubs + pmaddwd), so each lane is converted and scaled on
/// its own at no extra cost, and a scale per 4 halves the logits' error of one per 32.
/// 64-byte aligned and 64 bytes long: a block is one cache line, two one 512-bit pair.
struct alignas(64) BlockQ8A {
  static constexpr int kGroup = 4;  ///< elements per scale
  int8_t qs[32];  ///< x[i] ~ d[i / kGroup] * qs[i], |qs| <= 127
  float d[8];     ///< the group's max |x| / 127
};

/// Activations quantised in super-blocks of 256 for the K-quant dot products (Q4_K,
/// Q6_K). Each group of 16 has its own scale d * ks[g] (as accurate as a float scale
/// per 16, to 1/64 of the block's step), and because ks is an integer the weights'
/// sub-block scales multiply it in int16 and the whole block sums in int32.
/// 64-byte aligned so the quants load in whole cache lines.
struct alignas(64) BlockQ8KA {
  static constexpr int kMaxK = 64;  ///< ks range: keeps int16 scale x ks and int32 sums exact
  int8_t qs[256];     ///< x[i] ~ d * ks[i / 16] * qs[i], in element order
  int16_t bsums[16];  ///< bsums[g] = sum of qs[16 g .. 16 g + 15]
  uint8_t ks[16];     ///< group scale in units of d, 0..kMaxK
  float d;            ///< step of the block's largest group / kMaxK
};

#define MOERAG_KERNEL_DECLS                                                                               \
  /** y[t, r] = sum_c W[r, c] * x[t, c]. W type [n_rows, n_cols]; x F32 [n_tok, n_cols]; y F32 [n_tok, n_rows]. */ \
  void matmul(const MatView& w, const float* x, int64_t n_tok, float* y, ThreadPool* pool);              \
  /** y = x / rms(x) * w (w may be null). x, y F32 [n_rows, n]; w F32 [n]. In place allowed. */            \
  void rms_norm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* y);        \
  /** y = (x - mean) / sd * w + b. x, y F32 [n_rows, n]; w, b F32 [n]. In place allowed. */                \
  void layer_norm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n, float eps,  \
                  float* y);                                                                              \
  /** Rotates x F32 [n_tok, n_head, head_stride] in place: dims [off, off + n_rot) of each head. */       \
  void rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_stride, int64_t off, const int32_t* pos, \
            const RopeParams& p);                                                                         \
  /** In-place softmax of each row. x F32 [n_rows, n]. */                                                 \
  void softmax(float* x, int64_t n_rows, int64_t n);                                                     \
  /** y = silu(g) * u. g, u, y F32 [n]. */                                                                 \
  void silu_mul(const float* g, const float* u, float* y, int64_t n);                                    \
  /** In-place GELU (erf form, as HF BERT). x F32 [n]. */                                                  \
  void gelu(float* x, int64_t n);                                                                         \
  /** Indices of the k largest x (ties: lower index first), in decreasing order. x F32 [n]; idx [k]. */     \
  void top_k(const float* x, int64_t n, int64_t k, int32_t* idx);                                        \
  /** Scaled dot-product attention of n_tok queries against their sequences' caches.                      \
      q F32 [n_tok, n_head, head_dim_k]; queries [n_tok]; out F32 [n_tok, n_head, head_dim_v]. */          \
  void attention(const float* q, int64_t n_tok, const AttnQuery* queries, const AttnParams& p, float* out, \
                 ThreadPool* pool);

namespace ref {
MOERAG_KERNEL_DECLS
}  // namespace ref

namespace cpu {
MOERAG_KERNEL_DECLS
/// "avx512", "avx2" or "scalar": the instruction set the dot products use on this CPU.
const char* simd_level();
/// Forces a lower level for tests ("scalar", "avx2"); "" restores detection.
void force_simd_level(const char* level);
}  // namespace cpu

#undef MOERAG_KERNEL_DECLS

/// Reads elements [off, off + n) of token row t of a cache view into out F32 [n]
/// (off and n multiples of the type's block size).
inline void load_kv(const KvView& v, int64_t t, int64_t off, int64_t n, float* out) {
  const uint8_t* row = v.blocks[t / v.block_size] + static_cast<size_t>(t % v.block_size) * v.row_bytes;
  const TypeTraits& tt = type_traits(v.type);
  (void)dequantize_row(v.type, row + static_cast<size_t>(off / tt.block_size) * tt.type_size, out, n);
}

/// Quantises x F32 [n] (n a multiple of 32) into blocks [n / 32].
void quantize_q8a(const float* x, BlockQ8A* out, int64_t n);
/// Quantises x F32 [n] (n a multiple of 256) into super-blocks [n / 256].
void quantize_q8ka(const float* x, BlockQ8KA* out, int64_t n);

}  // namespace moerag::engine::kernels
