// CPU matmul: y = x W^T for a weight matrix in any file format. Integer formats
// quantise the activations once (Q8_0, Q4_0: BlockQ8A, a scale per 4; Q4_K, Q6_K: BlockQ8KA
// per 256) and use int8 dot products; F32/F16/BF16 use float dots; every other format dequantises each weight
// row into a scratch row (the scalar path). Rows are split across the thread pool;
// each thread reads its weight rows once and applies them to every token of the
// batch (tokens tiled so their activations stay in cache). Where the level has them, Q8_0
// and F16 rows take several tokens per pass (dot.h *_xn), with the one-token results.
#include <algorithm>
#include <vector>

#include "core/thread_pool.h"
#include "engine/kernels/cpu/dot.h"

namespace moerag::engine::kernels::cpu {
namespace {

constexpr int64_t kTokTile = 32;  // tokens per tile: their Q8 activations stay in L2

DotQ8Fn q8_kernel(const DotTable& t, GgmlType type) {
  switch (type) {
    case GgmlType::Q8_0: return t.q8_0;
    case GgmlType::Q4_0: return t.q4_0;
    default: return nullptr;
  }
}

DotQ8KFn q8k_kernel(const DotTable& t, GgmlType type) {
  switch (type) {
    case GgmlType::Q4_K: return t.q4_k;
    case GgmlType::Q6_K: return t.q6_k;
    default: return nullptr;
  }
}

DotF32Fn f32_kernel(const DotTable& t, GgmlType type) {
  switch (type) {
    case GgmlType::F32: return t.f32;
    case GgmlType::F16: return t.f16;
    case GgmlType::BF16: return t.bf16;
    default: return nullptr;
  }
}

void run_rows(int64_t n_rows, ThreadPool* pool, const std::function<void(int64_t, int64_t)>& f) {
  if (pool == nullptr || n_rows < 16) {
    f(0, n_rows);
    return;
  }
  pool->parallel_for(static_cast<size_t>(n_rows), [&](size_t b, size_t e) {
    f(static_cast<int64_t>(b), static_cast<int64_t>(e));
  });
}

// y = x W^T with the activations quantised to Block (qk elements each) by `quant`
// and each (row, token) product taken by `dot`.
// `dotn`, when the level has one, takes up to kDotTile tokens per pass over a weight row
// with the same results as `dot` (so a batch does not change any token's output).
template <typename Block>
void matmul_int(const MatView& w, const float* x, int64_t n_tok, float* y, ThreadPool* pool,
                float (*dot)(const uint8_t*, const Block*, int64_t),
                void (*dotn)(const uint8_t*, const Block*, int64_t, int64_t, int, float*),
                void (*quant)(const float*, Block*, int64_t), int64_t qk) {
  const int64_t K = w.n_cols, N = w.n_rows, nb = K / qk;
  std::vector<Block> xq(static_cast<size_t>(n_tok * nb));  // Block [n_tok, K / qk]
  for (int64_t t = 0; t < n_tok; ++t) quant(x + t * K, xq.data() + t * nb, K);
  run_rows(N, pool, [&](int64_t r0, int64_t r1) {
    for (int64_t t0 = 0; t0 < n_tok; t0 += kTokTile) {
      const int64_t t1 = std::min(n_tok, t0 + kTokTile);
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = w.data + r * w.row_bytes;
        if (dotn == nullptr || n_tok == 1) {
          for (int64_t t = t0; t < t1; ++t) y[t * N + r] = dot(row, xq.data() + t * nb, K);
          continue;
        }
        float out[kDotTile];
        for (int64_t t = t0; t < t1; t += kDotTile) {
          const int nt = static_cast<int>(std::min<int64_t>(kDotTile, t1 - t));
          dotn(row, xq.data() + t * nb, nb, K, nt, out);
          for (int j = 0; j < nt; ++j) y[(t + j) * N + r] = out[j];
        }
      }
    }
  });
}

}  // namespace

void matmul(const MatView& w, const float* x, int64_t n_tok, float* y, ThreadPool* pool) {
  const DotTable& table = dot_table();
  const int64_t K = w.n_cols, N = w.n_rows;
  if (DotQ8Fn dot = q8_kernel(table, w.type)) {
    DotQ8xNFn dotn = w.type == GgmlType::Q8_0 ? table.q8_0_xn : nullptr;
    return matmul_int<BlockQ8A>(w, x, n_tok, y, pool, dot, dotn, quantize_q8a, 32);
  }
  if (DotQ8KFn dot = q8k_kernel(table, w.type)) {
    return matmul_int<BlockQ8KA>(w, x, n_tok, y, pool, dot, nullptr, quantize_q8ka, 256);
  }
  DotF32Fn fdot = f32_kernel(table, w.type);
  DotF16RowsFn f16rows = w.type == GgmlType::F16 && n_tok > 1 ? table.f16_rows : nullptr;
  run_rows(N, pool, [&](int64_t r0, int64_t r1) {
    if (f16rows) {
      for (int64_t t = 0; t < n_tok; t += kF32Tile) {
        const int nt = static_cast<int>(std::min<int64_t>(kF32Tile, n_tok - t));
        for (int64_t r = r0; r < r1; r += kF16Rows) {
          f16rows(w.data + r * w.row_bytes, w.row_bytes, std::min(kF16Rows, r1 - r), x + t * K, K, K, nt, y + t * N + r, N);
        }
      }
      return;
    }
    std::vector<float> scratch(fdot ? 0 : static_cast<size_t>(K));  // F32 [K]: dequantised row
    for (int64_t t0 = 0; t0 < n_tok; t0 += kTokTile) {
      const int64_t t1 = std::min(n_tok, t0 + kTokTile);
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = w.data + r * w.row_bytes;
        if (fdot) {
          for (int64_t t = t0; t < t1; ++t) y[t * N + r] = fdot(row, x + t * K, K);
        } else {
          MOERAG_ASSERT(dequantize_row(w.type, row, scratch.data(), K).ok());
          const auto* s = reinterpret_cast<const uint8_t*>(scratch.data());
          for (int64_t t = t0; t < t1; ++t) y[t * N + r] = table.f32(s, x + t * K, K);
        }
      }
    }
  });
}

}  // namespace moerag::engine::kernels::cpu
