// Tensor formats: half/bfloat conversions, dequantisation of hand-built blocks of every
// supported type (bytes laid out here from the ggml-common.h description, values
// computed independently), and quantisation round-trip error bounds on random data.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/tensor_types.h"

namespace moerag::engine {
namespace {

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(&b[at], &v, 2); }

std::vector<float> dequant(GgmlType t, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  EXPECT_TRUE(dequantize_row(t, bytes.data(), out.data(), n).ok());
  return out;
}

TEST(TensorTypes, TraitsMatchGgml) {
  struct Want { GgmlType t; uint32_t id; int64_t block; size_t bytes; };
  const Want wants[] = {
      {GgmlType::F32, 0, 1, 4},      {GgmlType::F16, 1, 1, 2},       {GgmlType::Q4_0, 2, 32, 18},
      {GgmlType::Q4_1, 3, 32, 20},   {GgmlType::Q5_0, 6, 32, 22},    {GgmlType::Q5_1, 7, 32, 24},
      {GgmlType::Q8_0, 8, 32, 34},   {GgmlType::Q8_1, 9, 32, 36},    {GgmlType::Q2_K, 10, 256, 84},
      {GgmlType::Q3_K, 11, 256, 110}, {GgmlType::Q4_K, 12, 256, 144}, {GgmlType::Q5_K, 13, 256, 176},
      {GgmlType::Q6_K, 14, 256, 210}, {GgmlType::Q8_K, 15, 256, 292}, {GgmlType::BF16, 30, 1, 2},
      {GgmlType::IQ4_NL, 20, 32, 18}, {GgmlType::IQ4_XS, 23, 256, 136},
  };
  for (const auto& w : wants) {
    const TypeTraits* tr = type_traits(w.id);
    ASSERT_NE(tr, nullptr) << w.id;
    EXPECT_EQ(tr->type, w.t);
    EXPECT_EQ(tr->block_size, w.block) << tr->name;
    EXPECT_EQ(tr->type_size, w.bytes) << tr->name;
  }
  EXPECT_EQ(type_traits(4u), nullptr);  // retired Q4_2
  EXPECT_EQ(type_traits(31u), nullptr);
  EXPECT_EQ(type_traits(1000u), nullptr);
  EXPECT_EQ(parse_type_name("Q4_K"), GgmlType::Q4_K);
  EXPECT_FALSE(parse_type_name("q4_z").has_value());
  EXPECT_EQ(*row_size(GgmlType::Q6_K, 512), 420u);
  EXPECT_FALSE(row_size(GgmlType::Q4_K, 100).ok());
}

TEST(TensorTypes, HalfConversions) {
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xC000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // rounds to inf
  EXPECT_EQ(fp32_to_fp16(1e-8f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(6e-8f), 0x0001);     // smallest subnormal 2^-24
  EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 2048), 0x3C00);  // tie rounds to even
  EXPECT_EQ(fp32_to_fp16(1.0f + 3.0f / 2048), 0x3C02);
  EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(NAN))));
  EXPECT_FLOAT_EQ(fp16_to_fp32(0x3555), 0.333251953125f);
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_fp16(f), h) << std::hex << h;
  }
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_FLOAT_EQ(bf16_to_fp32(0xC040), -3.0f);
  EXPECT_EQ(fp32_to_bf16(1.00390625f), 0x3F80);  // 1 + 2^-8: tie to even
}

TEST(TensorTypes, Q4_0HandBlock) {
  std::vector<uint8_t> b(18);
  put16(b, 0, 0x3800);  // d = 0.5
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto y = dequant(GgmlType::Q4_0, b, 32);
  EXPECT_EQ(y[0], -4.0f);   // (0 - 8) * 0.5
  EXPECT_EQ(y[15], 3.5f);   // (15 - 8) * 0.5
  EXPECT_EQ(y[16], 3.5f);   // high nibble of qs[0] = 15
  EXPECT_EQ(y[31], -4.0f);  // high nibble of qs[15] = 0
  EXPECT_EQ(y[9], 0.5f);
}

TEST(TensorTypes, Q4_1Q5_0Q5_1Q8_0Q8_1HandBlocks) {
  std::vector<uint8_t> q41(20);
  put16(q41, 0, 0x4000);  // d = 2
  put16(q41, 2, 0xBC00);  // m = -1
  q41[4] = 0x53;          // elements 0 -> 3, 16 -> 5
  auto y = dequant(GgmlType::Q4_1, q41, 32);
  EXPECT_EQ(y[0], 5.0f);
  EXPECT_EQ(y[16], 9.0f);
  EXPECT_EQ(y[1], -1.0f);

  std::vector<uint8_t> q50(22);
  put16(q50, 0, 0x3C00);  // d = 1
  uint32_t qh = (1u << 0) | (1u << 17);  // fifth bit of element 0 and element 17
  std::memcpy(&q50[2], &qh, 4);
  q50[6 + 0] = 0x0F;   // element 0 low = 15 (+16 = 31), element 16 high = 0
  q50[6 + 1] = 0x20;   // element 1 low = 0, element 17 high = 2 (+16 = 18)
  y = dequant(GgmlType::Q5_0, q50, 32);
  EXPECT_EQ(y[0], 15.0f);   // 31 - 16
  EXPECT_EQ(y[16], -16.0f);
  EXPECT_EQ(y[1], -16.0f);
  EXPECT_EQ(y[17], 2.0f);   // 18 - 16

  std::vector<uint8_t> q51(24);
  put16(q51, 0, 0x3800);  // d = 0.5
  put16(q51, 2, 0x3C00);  // m = 1
  qh = 1u << 31;          // element 31
  std::memcpy(&q51[4], &qh, 4);
  q51[8 + 15] = 0x10;     // element 31 high nibble = 1 -> 17
  y = dequant(GgmlType::Q5_1, q51, 32);
  EXPECT_EQ(y[31], 9.5f);  // 17 * 0.5 + 1
  EXPECT_EQ(y[0], 1.0f);

  std::vector<uint8_t> q80(34);
  put16(q80, 0, 0x3400);  // d = 0.25
  q80[2] = static_cast<uint8_t>(-127);
  q80[2 + 5] = 3;
  y = dequant(GgmlType::Q8_0, q80, 32);
  EXPECT_EQ(y[0], -31.75f);
  EXPECT_EQ(y[5], 0.75f);

  std::vector<uint8_t> q81(36);
  put16(q81, 0, 0x4000);  // d = 2 (s at bytes 2-3 is ignored)
  put16(q81, 2, 0x7BFF);
  q81[4 + 31] = static_cast<uint8_t>(-5);
  y = dequant(GgmlType::Q8_1, q81, 32);
  EXPECT_EQ(y[31], -10.0f);
}

TEST(TensorTypes, Q4_KHandBlock) {
  const int sc[8] = {1, 2, 3, 4, 5, 6, 7, 63}, mn[8] = {0, 1, 2, 3, 4, 5, 6, 40};
  std::vector<uint8_t> b(144);
  put16(b, 0, 0x3C00);  // d = 1
  put16(b, 2, 0x3800);  // dmin = 0.5
  // 12 scale bytes packed by hand from the layout (see quant_k.cpp header comment).
  const uint8_t packed[12] = {1, 2, 3, 0xC4, 0, 1, 2, 0x83, 0x45, 0x56, 0x67, 0x8F};
  std::memcpy(&b[4], packed, 12);
  for (int l = 0; l < 128; ++l) b[16 + l] = static_cast<uint8_t>((l % 16) | ((15 - l % 16) << 4));
  auto y = dequant(GgmlType::Q4_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    int j = e / 32, l = e % 32;
    int q = (j % 2 == 0) ? (l % 16) : 15 - (l % 16);
    ASSERT_EQ(y[e], 1.0f * sc[j] * q - 0.5f * mn[j]) << e;
  }
  EXPECT_EQ(y[33], 27.5f);
  EXPECT_EQ(y[224], 925.0f);  // 63 * 15 - 20
  EXPECT_EQ(y[255], -20.0f);
}

TEST(TensorTypes, Q5_KHandBlock) {
  std::vector<uint8_t> b(176);
  put16(b, 0, 0x3800);  // d = 0.5
  put16(b, 2, 0x3C00);  // dmin = 1
  const uint8_t packed[12] = {2, 2, 2, 2, 1, 1, 1, 1, 0x12, 0x12, 0x12, 0x12};  // all scales 2, mins 1
  std::memcpy(&b[4], packed, 12);
  for (int l = 0; l < 32; ++l) b[16 + l] = static_cast<uint8_t>(l % 2 == 0 ? 0xAA : 0x55);  // qh
  for (int l = 0; l < 128; ++l) b[48 + l] = 0x3C;  // low nibble 12, high nibble 3
  auto y = dequant(GgmlType::Q5_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    int j = e / 32, l = e % 32;
    int q = (j % 2 == 0 ? 12 : 3) + ((b[16 + l] >> j) & 1 ? 16 : 0);
    ASSERT_EQ(y[e], 0.5f * 2 * q - 1.0f) << e;
  }
}

TEST(TensorTypes, Q6_KHandBlock) {
  std::vector<uint8_t> b(210);
  int L[256];
  for (int e = 0; e < 256; ++e) L[e] = (e * 7) % 64;
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const int* x = L + 128 * h;
      b[64 * h + l] = static_cast<uint8_t>((x[l] & 15) | ((x[l + 64] & 15) << 4));
      b[64 * h + 32 + l] = static_cast<uint8_t>((x[l + 32] & 15) | ((x[l + 96] & 15) << 4));
      b[128 + 32 * h + l] = static_cast<uint8_t>((x[l] >> 4) | ((x[l + 32] >> 4) << 2) | ((x[l + 64] >> 4) << 4) |
                                                 ((x[l + 96] >> 4) << 6));
    }
  }
  for (int i = 0; i < 16; ++i) b[192 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 8));
  put16(b, 208, 0x3800);  // d = 0.5
  auto y = dequant(GgmlType::Q6_K, b, 256);
  for (int e = 0; e < 256; ++e) ASSERT_EQ(y[e], 0.5f * (e / 16 - 8) * (L[e] - 32)) << e;
  EXPECT_EQ(y[0], 128.0f);
}

TEST(TensorTypes, Q2_KAndQ3_KHandBlocks) {
  std::vector<uint8_t> b(84);
  for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>((i % 16) | ((15 - i) << 4));
  for (int k = 0; k < 64; ++k) b[16 + k] = static_cast<uint8_t>(k * 37);
  put16(b, 80, 0x3C00);  // d = 1
  put16(b, 82, 0x3400);  // dmin = 0.25
  auto y = dequant(GgmlType::Q2_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    int h = e / 128, j = (e % 128) / 32, p = (e % 32) / 16, l = e % 16;
    int q = (b[16 + 32 * h + 16 * p + l] >> (2 * j)) & 3;
    int s = b[8 * h + 2 * j + p];
    ASSERT_EQ(y[e], 1.0f * (s & 15) * q - 0.25f * (s >> 4)) << e;
  }

  std::vector<uint8_t> c(110);
  int S[16];
  for (int i = 0; i < 16; ++i) S[i] = (i * 5 + 3) % 64;
  for (int i = 0; i < 16; ++i) {  // low 4 bits: bytes 0-7 (low nibble for 0-7, high for 8-15)
    if (i < 8) c[96 + i] |= static_cast<uint8_t>(S[i] & 15);
    else c[96 + i - 8] |= static_cast<uint8_t>((S[i] & 15) << 4);
    c[96 + 8 + i % 4] |= static_cast<uint8_t>((S[i] >> 4) << (2 * (i / 4)));
  }
  for (int k = 0; k < 32; ++k) c[k] = static_cast<uint8_t>(k * 53);       // hmask
  for (int k = 0; k < 64; ++k) c[32 + k] = static_cast<uint8_t>(k * 29);  // qs
  put16(c, 108, 0x3800);  // d = 0.5
  y = dequant(GgmlType::Q3_K, c, 256);
  for (int e = 0; e < 256; ++e) {
    int h = e / 128, j = (e % 128) / 32, p = (e % 32) / 16, l = e % 16;
    int q = (c[32 + 32 * h + 16 * p + l] >> (2 * j)) & 3;
    bool hb = (c[16 * p + l] >> (4 * h + j)) & 1;
    ASSERT_EQ(y[e], 0.5f * (S[8 * h + 2 * j + p] - 32) * (q - (hb ? 0 : 4))) << e;
  }
}

double rel_rmse(GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(*row_size(t, static_cast<int64_t>(x.size())));
  EXPECT_TRUE(quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size())).ok());
  auto y = dequant(t, q, static_cast<int64_t>(x.size()));
  double se = 0, ss = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    se += (x[i] - y[i]) * (x[i] - y[i]);
    ss += x[i] * x[i];
  }
  return std::sqrt(se / ss);
}

TEST(TensorTypes, QuantiseRoundTripErrorBounds) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(8192);
  for (auto& v : x) v = nd(rng);
  double e_q80 = rel_rmse(GgmlType::Q8_0, x), e_q40 = rel_rmse(GgmlType::Q4_0, x);
  double e_q4k = rel_rmse(GgmlType::Q4_K, x), e_q6k = rel_rmse(GgmlType::Q6_K, x);
  EXPECT_LT(e_q80, 0.01);
  EXPECT_LT(e_q40, 0.12);
  EXPECT_LT(e_q4k, 0.10);
  EXPECT_LT(e_q4k, e_q40);  // the scale/min search beats Q4_0's fixed mapping
  EXPECT_LT(e_q6k, 0.025);
  EXPECT_LT(rel_rmse(GgmlType::Q4_1, x), 0.12);
  EXPECT_LT(rel_rmse(GgmlType::Q5_0, x), 0.06);
  EXPECT_LT(rel_rmse(GgmlType::Q8_K, x), 0.01);
  EXPECT_LT(rel_rmse(GgmlType::F16, x), 1e-3);
  EXPECT_LT(rel_rmse(GgmlType::BF16, x), 5e-3);
  // Shifted, skewed data: Q4_K's mins must follow the offset.
  for (auto& v : x) v = 3.0f + std::fabs(v);
  EXPECT_LT(rel_rmse(GgmlType::Q4_K, x), 0.03);
}

TEST(TensorTypes, QuantiseEdgeCases) {
  std::vector<float> zeros(256, 0.0f), y(256);
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    std::vector<uint8_t> q(*row_size(t, 256));
    ASSERT_TRUE(quantize_row(t, zeros.data(), q.data(), 256).ok());
    ASSERT_TRUE(dequantize_row(t, q.data(), y.data(), 256).ok());
    for (float v : y) ASSERT_EQ(v, 0.0f) << type_name(t);
  }
  std::vector<float> one_hot(256, 0.0f);
  one_hot[77] = -5.0f;
  std::vector<uint8_t> q(*row_size(GgmlType::Q4_K, 256));
  ASSERT_TRUE(quantize_row(GgmlType::Q4_K, one_hot.data(), q.data(), 256).ok());
  ASSERT_TRUE(dequantize_row(GgmlType::Q4_K, q.data(), y.data(), 256).ok());
  EXPECT_NEAR(y[77], -5.0f, 0.05f);
  EXPECT_NEAR(y[0], 0.0f, 0.05f);
  EXPECT_FALSE(quantize_row(GgmlType::Q2_K, zeros.data(), q.data(), 256).ok());  // not supported
  EXPECT_FALSE(dequantize_row(GgmlType::IQ2_XXS, q.data(), y.data(), 256).ok());
  EXPECT_FALSE(dequantize_row(GgmlType::Q8_0, q.data(), y.data(), 33).ok());
}

}  // namespace
}  // namespace moerag::engine
