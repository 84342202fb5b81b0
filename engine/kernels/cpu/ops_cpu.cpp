// CPU versions of the element-wise and attention ops (kernels.h). Norms, rope and
// activations are simple loops the compiler vectorises; attention streams each
// query's keys once with an online softmax, F16/F32 caches through the SIMD dot
// table, other cache types through a dequantised row.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/thread_pool.h"
#include "engine/kernels/cpu/dot.h"

namespace moerag::engine::kernels::cpu {

void rms_norm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* y) {
  for (int64_t r = 0; r < n_rows; ++r, x += n, y += n) {
    float ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
    if (w) {
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * w[i];
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv;
    }
  }
}

void layer_norm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n, float eps, float* y) {
  for (int64_t r = 0; r < n_rows; ++r, x += n, y += n) {
    float mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += x[i];
    mean /= static_cast<float>(n);
    for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
  }
}

void rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_stride, int64_t off, const int32_t* pos,
          const RopeParams& p) {
  std::vector<float> cs(static_cast<size_t>(p.n_rot));  // [n_rot / 2] (cos, sin) pairs
  const int64_t half = p.n_rot / 2;
  for (int64_t t = 0; t < n_tok; ++t) {
    if (t == 0 || pos[t] != pos[t - 1]) rope_cos_sin(p, pos[t], cs.data());
    for (int64_t h = 0; h < n_head; ++h) {
      float* v = x + (t * n_head + h) * head_stride + off;
      if (p.neox) {
        for (int64_t i = 0; i < half; ++i) {
          const float c = cs[2 * i], s = cs[2 * i + 1], x0 = v[i], x1 = v[i + half];
          v[i] = x0 * c - x1 * s;
          v[i + half] = x0 * s + x1 * c;
        }
      } else {
        for (int64_t i = 0; i < half; ++i) {
          const float c = cs[2 * i], s = cs[2 * i + 1], x0 = v[2 * i], x1 = v[2 * i + 1];
          v[2 * i] = x0 * c - x1 * s;
          v[2 * i + 1] = x0 * s + x1 * c;
        }
      }
    }
  }
}

void softmax(float* x, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r, x += n) {
    const float mx = *std::max_element(x, x + n);
    float sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
  }
}

void silu_mul(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678f));
}

void top_k(const float* x, int64_t n, int64_t k, int32_t* idx) {
  for (int64_t j = 0; j < k; ++j) {
    int32_t best = -1;
    for (int64_t i = 0; i < n; ++i) {
      bool taken = false;
      for (int64_t q = 0; q < j; ++q) taken |= idx[q] == i;
      if (!taken && (best < 0 || x[i] > x[best])) best = static_cast<int32_t>(i);
    }
    idx[j] = best;
  }
}

namespace {

// One (query, head) over an F16 cache with the four-key kernels: all scores first, then
// one softmax, then the values four at a time; out F32 [head_dim_v].
void attend_one_f16x4(const float* qh, const AttnQuery& a, const AttnParams& p, int64_t hk, const DotTable& table,
                      int64_t j0, int64_t j1, std::vector<float>& scratch, float* out) {
  const int64_t dk = p.head_dim_k, dv = p.head_dim_v, n = j1 - j0;
  auto row = [](const KvView& v, int64_t j, int64_t off) {
    return v.blocks[j / v.block_size] + static_cast<size_t>(j % v.block_size) * v.row_bytes + static_cast<size_t>(off) * 2;
  };
  scratch.resize(static_cast<size_t>(n));
  float* s = scratch.data();  // F32 [n] scores, then weights
  const uint8_t* rows[4];
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    for (int k = 0; k < 4; ++k) rows[k] = row(a.k, j0 + j + k, hk * dk);
    table.dot4_f16(rows, qh, dk, s + j);
  }
  for (; j < n; ++j) s[j] = table.f16(row(a.k, j0 + j, hk * dk), qh, dk);
  float mx = -INFINITY;
  for (j = 0; j < n; ++j) mx = std::max(mx, s[j] *= p.scale);
  float sum = 0;
  for (j = 0; j < n; ++j) sum += (s[j] = std::exp(s[j] - mx));
  std::fill(out, out + dv, 0.0f);
  const int64_t voff = p.v_offset + hk * dv;
  for (j = 0; j + 4 <= n; j += 4) {
    for (int k = 0; k < 4; ++k) rows[k] = row(a.v, j0 + j + k, voff);
    table.axpy4_f16(s + j, rows, out, dv);
  }
  for (; j < n; ++j) table.axpy_f16(s[j], row(a.v, j0 + j, voff), out, dv);
  const float inv = sum > 0 ? 1.0f / sum : 0.0f;
  for (int64_t d = 0; d < dv; ++d) out[d] *= inv;
}

// One (query, head): online softmax over its keys; out F32 [head_dim_v].
void attend_one(const float* qh, const AttnQuery& a, const AttnParams& p, int64_t hk, const DotTable& table,
                std::vector<float>& scratch, float* out) {
  const int64_t dk = p.head_dim_k, dv = p.head_dim_v;
  const bool k_fast = a.k.type == GgmlType::F16 || a.k.type == GgmlType::F32;
  const bool v_fast = a.v.type == GgmlType::F16 || a.v.type == GgmlType::F32;
  const DotF32Fn kdot = a.k.type == GgmlType::F16 ? table.f16 : table.f32;
  const AxpyFn vaxpy = a.v.type == GgmlType::F16 ? table.axpy_f16 : table.axpy_f32;
  const size_t kes = a.k.type == GgmlType::F16 ? 2 : 4, ves = a.v.type == GgmlType::F16 ? 2 : 4;
  scratch.resize(static_cast<size_t>(dk + dv));
  std::fill(out, out + dv, 0.0f);
  int64_t j0 = 0, j1 = a.n_kv;
  if (p.causal) j1 = std::min<int64_t>(j1, a.pos + 1);
  if (p.window > 0) j0 = std::max<int64_t>(0, a.pos - p.window + 1);
  if (table.dot4_f16 && a.k.type == GgmlType::F16 && a.v.type == GgmlType::F16) {
    return attend_one_f16x4(qh, a, p, hk, table, j0, j1, scratch, out);
  }
  float mx = -INFINITY, sum = 0;
  for (int64_t j = j0; j < j1; ++j) {
    float s;
    if (k_fast) {
      const uint8_t* row = a.k.blocks[j / a.k.block_size] + static_cast<size_t>(j % a.k.block_size) * a.k.row_bytes;
      s = kdot(row + static_cast<size_t>(hk * dk) * kes, qh, dk);
    } else {
      load_kv(a.k, j, hk * dk, dk, scratch.data());
      s = table.f32(reinterpret_cast<const uint8_t*>(scratch.data()), qh, dk);
    }
    s *= p.scale;
    if (s > mx) {  // rescale what was accumulated under the old maximum
      const float c = std::exp(mx - s);
      for (int64_t d = 0; d < dv; ++d) out[d] *= c;
      sum *= c;
      mx = s;
    }
    const float e = std::exp(s - mx);
    sum += e;
    const int64_t voff = p.v_offset + hk * dv;
    if (v_fast) {
      const uint8_t* row = a.v.blocks[j / a.v.block_size] + static_cast<size_t>(j % a.v.block_size) * a.v.row_bytes;
      vaxpy(e, row + static_cast<size_t>(voff) * ves, out, dv);
    } else {
      load_kv(a.v, j, voff, dv, scratch.data() + dk);
      table.axpy_f32(e, reinterpret_cast<const uint8_t*>(scratch.data() + dk), out, dv);
    }
  }
  const float inv = sum > 0 ? 1.0f / sum : 0.0f;
  for (int64_t d = 0; d < dv; ++d) out[d] *= inv;
}

}  // namespace

void attention(const float* q, int64_t n_tok, const AttnQuery* queries, const AttnParams& p, float* out,
               ThreadPool* pool) {
  const DotTable& table = dot_table();
  const int64_t group = p.n_head / p.n_head_kv;
  auto work = [&](size_t b, size_t e) {
    std::vector<float> scratch;
    for (size_t i = b; i < e; ++i) {
      const int64_t t = static_cast<int64_t>(i) / p.n_head, h = static_cast<int64_t>(i) % p.n_head;
      attend_one(q + (t * p.n_head + h) * p.head_dim_k, queries[t], p, h / group, table, scratch,
                 out + (t * p.n_head + h) * p.head_dim_v);
    }
  };
  const size_t n = static_cast<size_t>(n_tok * p.n_head);
  if (pool && n > 1) {
    pool->parallel_for(n, work);
  } else {
    work(0, n);
  }
}

}  // namespace moerag::engine::kernels::cpu
