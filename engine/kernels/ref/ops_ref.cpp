// Naive reference versions of every engine op (kernels.h): scalar loops, double
// accumulation, weights dequantised with the tensor-type codecs. Slow by design; the
// tests hold the fast `cpu::` versions to these.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "engine/kernels/kernels.h"

namespace moerag::engine::kernels::ref {

void matmul(const MatView& w, const float* x, int64_t n_tok, float* y, ThreadPool* /*pool*/) {
  std::vector<float> row(static_cast<size_t>(w.n_cols));  // F32 [n_cols]
  for (int64_t r = 0; r < w.n_rows; ++r) {
    MOERAG_ASSERT(dequantize_row(w.type, w.data + r * w.row_bytes, row.data(), w.n_cols).ok());
    for (int64_t t = 0; t < n_tok; ++t) {
      double acc = 0;
      for (int64_t c = 0; c < w.n_cols; ++c) acc += static_cast<double>(row[c]) * x[t * w.n_cols + c];
      y[t * w.n_rows + r] = static_cast<float>(acc);
    }
  }
}

void rms_norm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* y) {
  for (int64_t r = 0; r < n_rows; ++r, x += n, y += n) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] * inv * (w ? w[i] : 1.0f));
  }
}

void layer_norm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n, float eps, float* y) {
  for (int64_t r = 0; r < n_rows; ++r, x += n, y += n) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += x[i];
    mean /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
    const double inv = 1.0 / std::sqrt(var / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) {
      y[i] = static_cast<float>((x[i] - mean) * inv * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f));
    }
  }
}

void rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_stride, int64_t off, const int32_t* pos,
          const RopeParams& p) {
  std::vector<float> cs(static_cast<size_t>(p.n_rot));  // [n_rot / 2] (cos, sin) pairs
  const int64_t half = p.n_rot / 2;
  for (int64_t t = 0; t < n_tok; ++t) {
    rope_cos_sin(p, pos[t], cs.data());
    for (int64_t h = 0; h < n_head; ++h) {
      float* v = x + (t * n_head + h) * head_stride + off;
      for (int64_t i = 0; i < half; ++i) {
        const int64_t a = p.neox ? i : 2 * i, b = p.neox ? i + half : 2 * i + 1;
        const double c = cs[2 * i], s = cs[2 * i + 1], x0 = v[a], x1 = v[b];
        v[a] = static_cast<float>(x0 * c - x1 * s);
        v[b] = static_cast<float>(x0 * s + x1 * c);
      }
    }
  }
}

void softmax(float* x, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r, x += n) {
    const double mx = *std::max_element(x, x + n);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(x[i] - mx) / sum);
  }
}

void silu_mul(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i]);
}

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0))));
}

void top_k(const float* x, int64_t n, int64_t k, int32_t* idx) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return x[a] > x[b]; });
  std::copy_n(order.begin(), k, idx);
}

void attention(const float* q, int64_t n_tok, const AttnQuery* queries, const AttnParams& p, float* out,
               ThreadPool* /*pool*/) {
  const int64_t group = p.n_head / p.n_head_kv;
  std::vector<float> krow(static_cast<size_t>(p.head_dim_k)), vrow(static_cast<size_t>(p.head_dim_v));
  for (int64_t t = 0; t < n_tok; ++t) {
    const AttnQuery& a = queries[t];
    for (int64_t h = 0; h < p.n_head; ++h) {
      const float* qh = q + (t * p.n_head + h) * p.head_dim_k;
      const int64_t hk = h / group;
      std::vector<double> score(static_cast<size_t>(a.n_kv), -INFINITY);
      for (int64_t j = 0; j < a.n_kv; ++j) {
        if (p.causal && j > a.pos) continue;
        if (p.window > 0 && a.pos - j >= p.window) continue;
        load_kv(a.k, j, hk * p.head_dim_k, p.head_dim_k, krow.data());
        double s = 0;
        for (int64_t d = 0; d < p.head_dim_k; ++d) s += static_cast<double>(qh[d]) * krow[d];
        score[j] = s * p.scale;
      }
      const double mx = *std::max_element(score.begin(), score.end());
      double sum = 0;
      for (double& s : score) sum += (s = std::exp(s - mx));
      std::vector<double> acc(static_cast<size_t>(p.head_dim_v), 0.0);
      for (int64_t j = 0; j < a.n_kv; ++j) {
        if (score[j] == 0) continue;
        load_kv(a.v, j, p.v_offset + hk * p.head_dim_v, p.head_dim_v, vrow.data());
        for (int64_t d = 0; d < p.head_dim_v; ++d) acc[d] += score[j] / sum * vrow[d];
      }
      for (int64_t d = 0; d < p.head_dim_v; ++d) out[(t * p.n_head + h) * p.head_dim_v + d] = static_cast<float>(acc[d]);
    }
  }
}

}  // namespace moerag::engine::kernels::ref
