// Every CPU kernel against its naive reference (engine/kernels/ref) on random shapes,
// at every SIMD level this CPU has (scalar, avx2, avx512).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "engine/kernels/cpu/dot.h"
#include "engine/kernels/kernels.h"

namespace moerag::engine::kernels {
namespace {

std::vector<float> randn(size_t n, std::mt19937& rng, float sd = 1.0f) {
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

const char* kLevels[] = {"scalar", "avx2", "avx512"};

struct LevelGuard {
  explicit LevelGuard(const char* l) { cpu::force_simd_level(l); }
  ~LevelGuard() { cpu::force_simd_level(""); }
};

TEST(Kernels, MatmulEveryFormatEveryLevel) {
  std::mt19937 rng(7);
  ThreadPool pool(1);
  const GgmlType types[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0,
                            GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_K};
  for (GgmlType type : types) {
    const int64_t bs = type_traits(type).block_size;
    for (int trial = 0; trial < 3; ++trial) {
      const int64_t K = (bs == 1 ? 37 + 29 * trial : bs * (1 + trial + (bs == 32 ? 4 : 0)));
      const int64_t N = 5 + 17 * trial, T = 1 + 3 * trial;
      const size_t rb = row_size(type, K).value();
      std::vector<uint8_t> w(rb * N);
      for (int64_t r = 0; r < N; ++r) {
        auto row = randn(K, rng);
        ASSERT_TRUE(quantize_row(type, row.data(), w.data() + r * rb, K).ok());
      }
      MatView m{type, w.data(), N, K, rb};
      auto x = randn(T * K, rng);
      std::vector<float> want(T * N), got(T * N);
      ref::matmul(m, x.data(), T, want.data(), nullptr);
      for (const char* level : kLevels) {
        LevelGuard g(level);
        cpu::matmul(m, x.data(), T, got.data(), trial == 2 ? &pool : nullptr);
        const bool int_path = type == GgmlType::Q8_0 || type == GgmlType::Q4_0 || type == GgmlType::Q4_K ||
                              type == GgmlType::Q6_K;
        EXPECT_LT(rel_l2(got, want), int_path ? 1e-2 : 1e-5)
            << type_name(type) << " K=" << K << " N=" << N << " T=" << T << " level=" << cpu::simd_level();
      }
    }
  }
}

// A batch gives each token the product it gets alone, bit for bit, at every level and
// for every format (the batched Q8_0 path takes several tokens per weight-row pass; odd
// batch sizes leave a partial tile; K of 39 blocks leaves an odd block).
TEST(Kernels, BatchedMatmulEqualsOneTokenAtATime) {
  std::mt19937 rng(23);
  ThreadPool pool(2);
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::F16}) {
    const int64_t bs = type_traits(type).block_size;
    const int64_t K = bs == 256 ? 256 * 3 : bs == 1 ? 32 * 39 + 5 : 32 * 39, N = 37;  // F16: a scalar tail too
    const size_t rb = row_size(type, K).value();
    std::vector<uint8_t> w(rb * N);
    for (int64_t r = 0; r < N; ++r) {
      auto row = randn(K, rng);
      ASSERT_TRUE(quantize_row(type, row.data(), w.data() + r * rb, K).ok());
    }
    const MatView m{type, w.data(), N, K, rb};
    for (int64_t T : {2, 3, 4, 7, 37}) {
      auto x = randn(T * K, rng);
      for (const char* level : kLevels) {
        LevelGuard g(level);
        std::vector<float> batch(T * N), one(N);
        cpu::matmul(m, x.data(), T, batch.data(), &pool);
        for (int64_t t = 0; t < T; ++t) {
          cpu::matmul(m, x.data() + t * K, 1, one.data(), &pool);
          ASSERT_EQ(0, std::memcmp(one.data(), batch.data() + t * N, N * sizeof(float)))
              << type_name(type) << " T=" << T << " token " << t << " level " << cpu::simd_level();
        }
      }
    }
  }
}

// Activations with groups of very different size (a zero group, tiny ones, an outlier)
// so every ks value range and the clamp are exercised. F32 [n]
std::vector<float> uneven(int64_t n, std::mt19937& rng) {
  auto x = randn(static_cast<size_t>(n), rng);
  std::uniform_real_distribution<float> u(-6.0f, 1.0f);
  for (int64_t g = 0; g < n / 16; ++g) {
    const float s = g % 7 == 3 ? 0.0f : std::exp(u(rng));
    for (int64_t i = 16 * g; i < 16 * g + 16; ++i) x[i] *= s;
  }
  x[static_cast<size_t>(n / 3)] = 40.0f;
  return x;
}

// Activation quantisers: every level gives the scalar bytes (BlockQ8A and BlockQ8KA),
// and BlockQ8KA means what kernels.h says: x ~ d * ks * qs within half a step,
// |qs| <= 127, the largest group at ks = kMaxK, bsums the group sums.
TEST(Kernels, QuantizeActivationsEveryLevel) {
  std::mt19937 rng(11);
  const int64_t n = 256 * 5;
  const auto x = uneven(n, rng);
  std::vector<BlockQ8KA> want(n / 256), got(n / 256);
  cpu::quantize_q8ka_scalar(x.data(), want.data(), n);
  for (const auto& blk : want) {
    int kmax = 0;
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        EXPECT_LE(std::abs(blk.qs[i]), 127);
        sum += blk.qs[i];
      }
      EXPECT_EQ(sum, blk.bsums[g]);
      EXPECT_LE(blk.ks[g], BlockQ8KA::kMaxK);
      kmax = std::max<int>(kmax, blk.ks[g]);
    }
    EXPECT_EQ(kmax, BlockQ8KA::kMaxK);
  }
  for (int64_t i = 0; i < n; ++i) {
    const BlockQ8KA& blk = want[i / 256];
    const double step = static_cast<double>(blk.d) * blk.ks[(i % 256) / 16];
    EXPECT_LE(std::fabs(x[i] - step * blk.qs[i % 256]), 0.5 * step * (1 + 1e-5) + 1e-30) << i;
  }
  for (const char* level : kLevels) {
    LevelGuard g(level);
    quantize_q8ka(x.data(), got.data(), n);
    for (size_t b = 0; b < want.size(); ++b) {
      EXPECT_EQ(0, std::memcmp(&want[b], &got[b], offsetof(BlockQ8KA, d) + sizeof(float))) << level << " block " << b;
    }
  }
  std::vector<BlockQ8A> want8(n / 32), got8(n / 32);
  cpu::quantize_q8a_scalar(x.data(), want8.data(), n);
  // BlockQ8A: x ~ d[g] * qs per group of 4, the group's largest |x| at |qs| = 127
  constexpr int G = BlockQ8A::kGroup;
  for (int64_t g0 = 0; g0 < n; g0 += G) {
    const BlockQ8A& blk = want8[g0 / 32];
    const double step = blk.d[(g0 % 32) / G];
    int qmax = 0;
    for (int64_t i = g0; i < g0 + G; ++i) {
      const int q = blk.qs[i % 32];
      EXPECT_LE(std::abs(q), 127);
      qmax = std::max(qmax, std::abs(q));
      EXPECT_LE(std::fabs(x[i] - step * q), 0.5 * step * (1 + 1e-5) + 1e-30) << i;
    }
    EXPECT_EQ(qmax, step > 0 ? 127 : 0) << g0;
  }
  for (const char* level : kLevels) {
    LevelGuard g(level);
    quantize_q8a(x.data(), got8.data(), n);
    EXPECT_EQ(0, std::memcmp(want8.data(), got8.data(), want8.size() * sizeof(BlockQ8A))) << level;
  }
}

// The integer dot products on the same quantised activations: every level against a
// float64 sum over the dequantised weights and activations, far tighter than the
// matmul test above (whose error is the activations' quantisation).
TEST(Kernels, KQuantDotsEveryLevelExact) {
  std::mt19937 rng(13);
  const int64_t K = 256 * 16;
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q6_K}) {
    const size_t rb = row_size(type, K).value();
    const auto x = uneven(K, rng);
    std::vector<BlockQ8KA> a(K / 256);
    cpu::quantize_q8ka_scalar(x.data(), a.data(), K);
    for (int r = 0; r < 8; ++r) {
      auto src = randn(K, rng, r == 0 ? 100.0f : 1.0f);
      if (r == 1) for (int64_t i = 0; i < K; ++i) src[i] = std::fabs(src[i]) + 3.0f;  // large mins / offsets
      std::vector<uint8_t> w(rb);
      ASSERT_TRUE(quantize_row(type, src.data(), w.data(), K).ok());
      std::vector<float> wd(K);
      ASSERT_TRUE(dequantize_row(type, w.data(), wd.data(), K).ok());
      double want = 0, mag = 0;
      for (int64_t i = 0; i < K; ++i) {
        const BlockQ8KA& blk = a[i / 256];
        const double ai = static_cast<double>(blk.d) * blk.ks[(i % 256) / 16] * blk.qs[i % 256];
        want += wd[i] * ai;
        mag += std::fabs(wd[i] * ai);
      }
      for (const char* level : kLevels) {
        LevelGuard g(level);
        const cpu::DotTable& t = cpu::dot_table();
        const float got = (type == GgmlType::Q4_K ? t.q4_k : t.q6_k)(w.data(), a.data(), K);
        EXPECT_NEAR(got, want, 2e-6 * mag) << type_name(type) << " row " << r << " level " << cpu::simd_level();
      }
    }
  }
}

// Q8_0 / Q4_0 on the same BlockQ8A activations, likewise: every level against a float64
// sum. Scales vary per group of 4 (so a lane matched to the wrong scale shows), and the
// block count (39) reaches the 512-bit pairs, the 256-bit pair and the single block.
TEST(Kernels, Q8DotsEveryLevelExact) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> u(-5.0f, 2.0f);
  const int64_t K = 32 * 39;
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    const size_t rb = row_size(type, K).value();
    auto x = randn(K, rng);
    for (int64_t g = 0; g < K; g += BlockQ8A::kGroup) {
      const float s = g % 52 == 8 ? 0.0f : std::exp(u(rng));
      for (int64_t i = g; i < g + BlockQ8A::kGroup; ++i) x[i] *= s;
    }
    std::vector<BlockQ8A> a(K / 32);
    cpu::quantize_q8a_scalar(x.data(), a.data(), K);
    for (int r = 0; r < 6; ++r) {
      const auto src = randn(K, rng, r == 0 ? 100.0f : 1.0f);
      std::vector<uint8_t> w(rb);
      ASSERT_TRUE(quantize_row(type, src.data(), w.data(), K).ok());
      std::vector<float> wd(K);
      ASSERT_TRUE(dequantize_row(type, w.data(), wd.data(), K).ok());
      double want = 0, mag = 0;
      for (int64_t i = 0; i < K; ++i) {
        const double ai = static_cast<double>(a[i / 32].d[(i % 32) / BlockQ8A::kGroup]) * a[i / 32].qs[i % 32];
        want += wd[i] * ai;
        mag += std::fabs(wd[i] * ai);
      }
      for (const char* level : kLevels) {
        LevelGuard g(level);
        const cpu::DotTable& t = cpu::dot_table();
        const float got = (type == GgmlType::Q8_0 ? t.q8_0 : t.q4_0)(w.data(), a.data(), K);
        EXPECT_NEAR(got, want, 2e-6 * mag) << type_name(type) << " row " << r << " level " << cpu::simd_level();
      }
    }
  }
}

TEST(Kernels, NormsActivationsSoftmaxTopK) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 4; ++trial) {
    const int64_t rows = 1 + trial, n = 7 + 41 * trial;
    auto x = randn(rows * n, rng), w = randn(n, rng), b = randn(n, rng);
    std::vector<float> a(x.size()), c(x.size());
    ref::rms_norm(x.data(), w.data(), rows, n, 1e-5f, a.data());
    cpu::rms_norm(x.data(), w.data(), rows, n, 1e-5f, c.data());
    EXPECT_LT(rel_l2(c, a), 1e-6);
    ref::layer_norm(x.data(), w.data(), b.data(), rows, n, 1e-5f, a.data());
    cpu::layer_norm(x.data(), w.data(), b.data(), rows, n, 1e-5f, c.data());
    EXPECT_LT(rel_l2(c, a), 1e-6);
    a = x, c = x;
    ref::softmax(a.data(), rows, n);
    cpu::softmax(c.data(), rows, n);
    EXPECT_LT(rel_l2(c, a), 1e-6);
    a = x, c = x;
    ref::gelu(a.data(), n);
    cpu::gelu(c.data(), n);
    EXPECT_LT(rel_l2(c, a), 1e-6);
    ref::silu_mul(x.data(), w.data(), a.data(), n);
    cpu::silu_mul(x.data(), w.data(), c.data(), n);
    EXPECT_LT(rel_l2(c, a), 1e-6);
    const int64_t k = 1 + trial;
    std::vector<int32_t> ia(k), ic(k);
    ref::top_k(x.data(), n, k, ia.data());
    cpu::top_k(x.data(), n, k, ic.data());
    EXPECT_EQ(ia, ic);
  }
}

TEST(Kernels, RopeNormNeoxYarn) {
  std::mt19937 rng(5);
  for (int mode = 0; mode < 3; ++mode) {
    RopeParams p;
    p.neox = mode == 1;
    p.n_rot = 16;
    if (mode == 2) {  // YaRN as deepseek2 uses it
      p.freq_scale = 0.25f, p.ext_factor = 1.0f, p.n_ctx_orig = 64, p.mscale = 1.1f;
    }
    const int64_t T = 5, H = 3, stride = 24, off = 8;
    auto x = randn(T * H * stride, rng), y = x;
    std::vector<int32_t> pos = {0, 1, 7, 100, 1000};
    ref::rope(x.data(), T, H, stride, off, pos.data(), p);
    cpu::rope(y.data(), T, H, stride, off, pos.data(), p);
    EXPECT_LT(rel_l2(y, x), 1e-6) << mode;
  }
  // Position 0 is the identity without YaRN magnitude scaling.
  RopeParams p;
  p.n_rot = 4;
  std::vector<float> v = {1, 2, 3, 4}, w = v;
  int32_t zero = 0;
  cpu::rope(w.data(), 1, 1, 4, 0, &zero, p);
  EXPECT_EQ(v, w);
}

TEST(Kernels, AttentionPagedGqaWindowTypes) {
  std::mt19937 rng(11);
  ThreadPool pool(1);
  for (GgmlType kv_type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0}) {
    for (int variant = 0; variant < 3; ++variant) {
      AttnParams p;
      p.n_head = 4, p.n_head_kv = variant == 0 ? 4 : 2, p.head_dim_k = 32, p.head_dim_v = 32;
      p.scale = 0.17f, p.causal = variant != 2, p.window = variant == 1 ? 5 : 0;
      const int64_t bs = 4, n_kv = 13, n_blocks = (n_kv + bs - 1) / bs;
      const int64_t k_elems = p.n_head_kv * p.head_dim_k, v_elems = p.n_head_kv * p.head_dim_v;
      const size_t krb = row_size(kv_type, k_elems).value(), vrb = row_size(kv_type, v_elems).value();
      std::vector<std::vector<uint8_t>> kb(n_blocks, std::vector<uint8_t>(krb * bs)),
          vb(n_blocks, std::vector<uint8_t>(vrb * bs));
      std::vector<const uint8_t*> kp, vp;
      for (int64_t b = 0; b < n_blocks; ++b) {
        for (int64_t r = 0; r < bs; ++r) {
          auto kr = randn(k_elems, rng), vr = randn(v_elems, rng);
          ASSERT_TRUE(quantize_row(kv_type, kr.data(), kb[b].data() + r * krb, k_elems).ok());
          ASSERT_TRUE(quantize_row(kv_type, vr.data(), vb[b].data() + r * vrb, v_elems).ok());
        }
        kp.push_back(kb[b].data());
        vp.push_back(vb[b].data());
      }
      KvView kv{kv_type, kp.data(), bs, krb, k_elems}, vv{kv_type, vp.data(), bs, vrb, v_elems};
      std::vector<AttnQuery> qs = {{kv, vv, n_kv, 12}, {kv, vv, n_kv, 3}, {kv, vv, 9, 8}};
      auto q = randn(qs.size() * p.n_head * p.head_dim_k, rng);
      std::vector<float> want(qs.size() * p.n_head * p.head_dim_v), got(want.size());
      ref::attention(q.data(), static_cast<int64_t>(qs.size()), qs.data(), p, want.data(), nullptr);
      cpu::attention(q.data(), static_cast<int64_t>(qs.size()), qs.data(), p, got.data(), &pool);
      EXPECT_LT(rel_l2(got, want), 1e-5) << type_name(kv_type) << " variant " << variant;
    }
  }
}

}  // namespace
}  // namespace moerag::engine::kernels
