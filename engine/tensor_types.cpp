// Type table (block sizes and bytes per block for every ggml type id), half/bfloat
// conversions, and the dispatch of dequantize_row / quantize_row to the block codecs
// in quant_legacy.cpp and quant_k.cpp.
#include "engine/tensor_types.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/quant_blocks.h"

namespace moerag::engine {
namespace {

// Block sizes and bytes per block from ggml-common.h (block_* structs) and ggml.c's
// type_traits; e.g. block_q4_K = {half d, half dmin, u8 scales[12], u8 qs[128]}.
constexpr TypeTraits kTraits[] = {
    {GgmlType::F32, "f32", 1, 4, false, true, true},
    {GgmlType::F16, "f16", 1, 2, false, true, true},
    {GgmlType::Q4_0, "q4_0", 32, 18, true, true, true},
    {GgmlType::Q4_1, "q4_1", 32, 20, true, true, true},
    {GgmlType::Q5_0, "q5_0", 32, 22, true, true, true},
    {GgmlType::Q5_1, "q5_1", 32, 24, true, true, false},
    {GgmlType::Q8_0, "q8_0", 32, 34, true, true, true},
    {GgmlType::Q8_1, "q8_1", 32, 36, true, true, false},
    {GgmlType::Q2_K, "q2_k", QK_K, 84, true, true, false},
    {GgmlType::Q3_K, "q3_k", QK_K, 110, true, true, false},
    {GgmlType::Q4_K, "q4_k", QK_K, 144, true, true, true},
    {GgmlType::Q5_K, "q5_k", QK_K, 176, true, true, false},
    {GgmlType::Q6_K, "q6_k", QK_K, 210, true, true, true},
    {GgmlType::Q8_K, "q8_k", QK_K, 292, true, true, true},
    {GgmlType::IQ2_XXS, "iq2_xxs", QK_K, 66, true, false, false},
    {GgmlType::IQ2_XS, "iq2_xs", QK_K, 74, true, false, false},
    {GgmlType::IQ3_XXS, "iq3_xxs", QK_K, 98, true, false, false},
    {GgmlType::IQ1_S, "iq1_s", QK_K, 50, true, false, false},
    {GgmlType::IQ4_NL, "iq4_nl", 32, 18, true, false, false},
    {GgmlType::IQ3_S, "iq3_s", QK_K, 110, true, false, false},
    {GgmlType::IQ2_S, "iq2_s", QK_K, 82, true, false, false},
    {GgmlType::IQ4_XS, "iq4_xs", QK_K, 136, true, false, false},
    {GgmlType::I8, "i8", 1, 1, false, true, false},
    {GgmlType::I16, "i16", 1, 2, false, true, false},
    {GgmlType::I32, "i32", 1, 4, false, true, false},
    {GgmlType::I64, "i64", 1, 8, false, true, false},
    {GgmlType::F64, "f64", 1, 8, false, true, false},
    {GgmlType::IQ1_M, "iq1_m", QK_K, 56, true, false, false},
    {GgmlType::BF16, "bf16", 1, 2, false, true, true},
    {GgmlType::TQ1_0, "tq1_0", QK_K, 54, true, false, false},
    {GgmlType::TQ2_0, "tq2_0", QK_K, 66, true, false, false},
};

constexpr size_t kMaxTypeId = 40;

// Id-indexed view of kTraits (nullptr for retired/unknown ids).
const std::array<const TypeTraits*, kMaxTypeId>& by_id() {
  static const auto table = [] {
    std::array<const TypeTraits*, kMaxTypeId> t{};
    for (const auto& tr : kTraits) t[static_cast<uint32_t>(tr.type)] = &tr;
    return t;
  }();
  return table;
}

// All 65536 half values as float: F16 rows dequantise by table lookup.
const float* fp16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) {
      uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
      uint32_t bits;
      if (exp == 0) {
        float v = static_cast<float>(man) * (1.0f / 16777216.0f);  // man * 2^-24
        std::memcpy(&bits, &v, 4);
        bits |= sign;
      } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
      } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
      }
      std::memcpy(&t[h], &bits, 4);
    }
    return t;
  }();
  return table.data();
}

template <typename T>
void ints_to_f32(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

}  // namespace

float fp16_to_fp32(uint16_t h) { return fp16_table()[h]; }

uint16_t fp32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) {  // inf stays inf, nan stays a (quiet) nan
    return static_cast<uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0u));
  }
  int32_t e = static_cast<int32_t>(ax >> 23) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {  // half subnormal (or zero): value = hm * 2^-24
    if (e < -10) return static_cast<uint16_t>(sign);
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    int shift = 14 - e;
    uint32_t hm = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (hm & 1u))) ++hm;  // may carry into the exponent: correct
    return static_cast<uint16_t>(sign | hm);
  }
  uint32_t h = sign | (static_cast<uint32_t>(e) << 10) | ((ax >> 13) & 0x3ffu);
  uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // a carry rounds up to inf: correct
  return static_cast<uint16_t>(h);
}

uint16_t fp32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

const TypeTraits* type_traits(uint32_t type_id) {
  if (type_id >= kMaxTypeId) return nullptr;
  return by_id()[type_id];
}

const TypeTraits& type_traits(GgmlType type) {
  const TypeTraits* t = type_traits(static_cast<uint32_t>(type));
  MOERAG_ASSERT(t != nullptr);
  return *t;
}

std::string type_name(uint32_t type_id) {
  const TypeTraits* t = type_traits(type_id);
  return t ? std::string(t->name) : "type#" + std::to_string(type_id);
}

std::optional<GgmlType> parse_type_name(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& t : kTraits) {
    if (lower == t.name) return t.type;
  }
  return std::nullopt;
}

Result<uint64_t> row_size(GgmlType type, int64_t n) {
  const TypeTraits* t = type_traits(static_cast<uint32_t>(type));
  if (t == nullptr) return Error(ErrorCode::INVALID_INPUT, "unknown tensor type " + type_name(static_cast<uint32_t>(type)));
  if (n < 0 || n % t->block_size != 0) {
    return Error(ErrorCode::INVALID_INPUT, "row of " + std::to_string(n) + " elements is not a multiple of the " +
                                               t->name + " block size " + std::to_string(t->block_size));
  }
  return static_cast<uint64_t>(n / t->block_size) * t->type_size;
}

Status dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  MOERAG_TRY(row_size(type, n));
  const auto* s = static_cast<const uint8_t*>(src);
  int64_t nb = n / type_traits(type).block_size;
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return ok_status();
    case GgmlType::F16: {
      const float* table = fp16_table();
      for (int64_t i = 0; i < n; ++i) dst[i] = table[quant::read_u16(s + 2 * i)];
      return ok_status();
    }
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(quant::read_u16(s + 2 * i));
      return ok_status();
    case GgmlType::F64: ints_to_f32<double>(src, dst, n); return ok_status();
    case GgmlType::I8: ints_to_f32<int8_t>(src, dst, n); return ok_status();
    case GgmlType::I16: ints_to_f32<int16_t>(src, dst, n); return ok_status();
    case GgmlType::I32: ints_to_f32<int32_t>(src, dst, n); return ok_status();
    case GgmlType::I64: ints_to_f32<int64_t>(src, dst, n); return ok_status();
    case GgmlType::Q4_0: quant::dequant_q4_0(s, dst, nb); return ok_status();
    case GgmlType::Q4_1: quant::dequant_q4_1(s, dst, nb); return ok_status();
    case GgmlType::Q5_0: quant::dequant_q5_0(s, dst, nb); return ok_status();
    case GgmlType::Q5_1: quant::dequant_q5_1(s, dst, nb); return ok_status();
    case GgmlType::Q8_0: quant::dequant_q8_0(s, dst, nb); return ok_status();
    case GgmlType::Q8_1: quant::dequant_q8_1(s, dst, nb); return ok_status();
    case GgmlType::Q2_K: quant::dequant_q2_k(s, dst, nb); return ok_status();
    case GgmlType::Q3_K: quant::dequant_q3_k(s, dst, nb); return ok_status();
    case GgmlType::Q4_K: quant::dequant_q4_k(s, dst, nb); return ok_status();
    case GgmlType::Q5_K: quant::dequant_q5_k(s, dst, nb); return ok_status();
    case GgmlType::Q6_K: quant::dequant_q6_k(s, dst, nb); return ok_status();
    case GgmlType::Q8_K: quant::dequant_q8_k(s, dst, nb); return ok_status();
    default: break;
  }
  return Error(ErrorCode::INVALID_INPUT, "dequantisation of " + type_name(type) + " is not supported");
}

Status quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  MOERAG_TRY(row_size(type, n));
  auto* d = static_cast<uint8_t*>(dst);
  int64_t nb = n / type_traits(type).block_size;
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return ok_status();
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) quant::write_u16(d + 2 * i, fp32_to_fp16(src[i]));
      return ok_status();
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) quant::write_u16(d + 2 * i, fp32_to_bf16(src[i]));
      return ok_status();
    case GgmlType::Q4_0: quant::quant_q4_0(src, d, nb); return ok_status();
    case GgmlType::Q4_1: quant::quant_q4_1(src, d, nb); return ok_status();
    case GgmlType::Q5_0: quant::quant_q5_0(src, d, nb); return ok_status();
    case GgmlType::Q8_0: quant::quant_q8_0(src, d, nb); return ok_status();
    case GgmlType::Q4_K: quant::quant_q4_k(src, d, nb); return ok_status();
    case GgmlType::Q6_K: quant::quant_q6_k(src, d, nb); return ok_status();
    case GgmlType::Q8_K: quant::quant_q8_k(src, d, nb); return ok_status();
    default: break;
  }
  return Error(ErrorCode::INVALID_INPUT, "quantisation to " + type_name(type) + " is not supported");
}

}  // namespace moerag::engine
