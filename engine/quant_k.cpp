// Codecs for the 256-element "K" super-block formats: dequantisation of Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K, Q8_K and quantisation into Q4_K, Q6_K, Q8_K. Byte layouts are
// ggml-common.h's block_q*_K structs; the scale/min search in quant_q4_k and
// quant_q6_k is our own (least-squares refit over a small grid of candidate ranges).
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/quant_blocks.h"
#include "engine/tensor_types.h"

namespace moerag::engine::quant {
namespace {

int clampi(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }

// Q4_K/Q5_K pack 8 six-bit scales and 8 six-bit mins into 12 bytes: sub-blocks 0-3
// use the low 6 bits of bytes 0-3 (scale) and 4-7 (min); sub-blocks 4-7 keep their
// low 4 bits in bytes 8-11 (scale low nibble, min high nibble) and their top 2 bits
// in the top bits of bytes 0-3 (scale) and 4-7 (min).
void unpack_scale_min_k4(const uint8_t* q, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void pack_scale_min_k4(const int* sc, const int* m, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}


// Fits x[i] ≈ s * q[i] - m with q in [0, nmax], s >= 0, m >= 0 (the sub-block's
// minimum is clamped to <= 0, as the format stores -m with m >= 0). Tries a grid of
// candidate ranges; for each assignment of q the least-squares (s, m) and its error
// follow in closed form from five sums, so a candidate costs one pass.
void fit_scale_min(const float* x, int n, int nmax, float* s_out, float* m_out) {
  float lo = *std::min_element(x, x + n), hi = *std::max_element(x, x + n);
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    *s_out = 0;
    *m_out = -lo;
    return;
  }
  float sx = 0, sxx = 0;
  for (int i = 0; i < n; ++i) {
    sx += x[i];
    sxx += x[i] * x[i];
  }
  float best_err = std::numeric_limits<float>::infinity(), best_s = (hi - lo) / nmax, best_m = -lo;
  for (int step = -4; step <= 6; ++step) {
    float iscale = (static_cast<float>(nmax) + 0.2f * static_cast<float>(step)) / (hi - lo);
    // Eight independent partial sums (n is a multiple of 8) let the loop pipeline and
    // vectorise instead of waiting on one serial float add chain.
    int isq = 0, isqq = 0;
    float acc[8] = {};
    for (int i = 0; i < n; i += 8) {
      for (int k = 0; k < 8; ++k) {
        int q = clampi(nearest(iscale * (x[i + k] - lo)), 0, nmax);
        isq += q;
        isqq += q * q;
        acc[k] += static_cast<float>(q) * x[i + k];
      }
    }
    const float sqx = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    const float sq = static_cast<float>(isq), sqq = static_cast<float>(isqq);
    float det = n * sqq - sq * sq;
    if (det <= 0) continue;
    float a = (n * sqx - sq * sx) / det, b = (sqq * sx - sq * sqx) / det;
    if (b > 0) {  // offset must be <= 0
      b = 0;
      a = sqq > 0 ? sqx / sqq : 0;
    }
    if (a <= 0) continue;
    // sum (a q + b - x)^2 expanded over the sums.
    float err = a * a * sqq + 2 * a * b * sq + n * b * b - 2 * a * sqx - 2 * b * sx + sxx;
    if (err < best_err) {
      best_err = err;
      best_s = a;
      best_m = -b;
    }
  }
  *s_out = best_s;
  *m_out = best_m;
}

// Fits x[i] ≈ s * q[i], q in [-nmax, nmax - 1]; s may be negative so the
// largest-magnitude element can use the extra negative level. With the least-squares
// s = sqx / sqq the error is sxx - sqx^2 / sqq, so the best candidate maximises sqx^2 / sqq.
float fit_scale_signed(const float* x, int n, int nmax) {
  float amax = 0, vmax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); vmax = x[i]; }
  }
  if (amax == 0) return 0;
  float best_gain = -1, best_s = vmax / -nmax;
  for (int step = -5; step <= 5; ++step) {
    float iscale = -(static_cast<float>(nmax) + 0.2f * static_cast<float>(step)) / vmax;
    int isqq = 0;
    float acc[8] = {};
    for (int i = 0; i < n; i += 8) {
      for (int k = 0; k < 8; ++k) {
        int q = clampi(nearest(iscale * x[i + k]), -nmax, nmax - 1);
        isqq += q * q;
        acc[k] += static_cast<float>(q) * x[i + k];
      }
    }
    const float sqx = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    const float sqq = static_cast<float>(isqq);
    if (sqq == 0) continue;
    float gain = sqx * sqx / sqq;
    if (gain > best_gain) {
      best_gain = gain;
      best_s = sqx / sqq;
    }
  }
  return best_s;
}

}  // namespace

// block_q2_K {u8 scales[16]; u8 qs[64]; half d; half dmin} = 84 bytes. Each scales
// byte is (min << 4 | scale) for 16 elements; x = d * scale * q - dmin * min.
void dequant_q2_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 84) {
    const uint8_t* scales = src;
    const uint8_t* q = src + 16;
    float d = fp16_to_fp32(read_u16(src + 80)), dmin = fp16_to_fp32(read_u16(src + 82));
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {  // 128 elements from 32 bytes
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {
          uint8_t sc = scales[is++];
          float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) *dst++ = dl * static_cast<float>((q[l + 16 * part] >> shift) & 3) - ml;
        }
      }
    }
  }
}

// block_q3_K {u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d} = 110 bytes. 16
// six-bit scales (stored +32): low 4 bits in bytes 0-7 (low nibble for scales 0-7,
// high nibble for 8-15), top 2 bits of scale i at bits 2*(i/4) of byte 8 + i%4.
// A clear hmask bit subtracts 4 from the 2-bit quant: x = d * (scale - 32) * q.
void dequant_q3_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 110) {
    const uint8_t* hm = src;
    const uint8_t* q = src + 32;
    const uint8_t* sb = src + 96;
    float d = fp16_to_fp32(read_u16(src + 108));
    int scales[16];
    for (int i = 0; i < 16; ++i) {
      int low = i < 8 ? (sb[i] & 0xF) : (sb[i - 8] >> 4);
      int high = (sb[8 + i % 4] >> (2 * (i / 4))) & 3;
      scales[i] = (low | (high << 4)) - 32;
    }
    int is = 0;
    uint8_t m = 1;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
        for (int part = 0; part < 2; ++part) {
          float dl = d * static_cast<float>(scales[is++]);
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
            *dst++ = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

// block_q4_K {half d; half dmin; u8 scales[12]; u8 qs[128]} = 144 bytes. Eight
// sub-blocks of 32; bytes qs[32c .. 32c+31] hold sub-block 2c (low nibbles) and
// 2c+1 (high nibbles); x = d * scale * q - dmin * min.
void dequant_q4_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 144) {
    float d = fp16_to_fp32(read_u16(src)), dmin = fp16_to_fp32(read_u16(src + 2));
    const uint8_t* q = src + 16;
    for (int c = 0; c < 4; ++c, q += 32) {
      int sc0, m0, sc1, m1;
      unpack_scale_min_k4(src + 4, 2 * c, &sc0, &m0);
      unpack_scale_min_k4(src + 4, 2 * c + 1, &sc1, &m1);
      float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
      for (int l = 0; l < 32; ++l) *dst++ = d0 * static_cast<float>(q[l] & 0xF) - o0;
      for (int l = 0; l < 32; ++l) *dst++ = d1 * static_cast<float>(q[l] >> 4) - o1;
    }
  }
}

void quant_q4_k(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += QK_K, dst += 144) {
    float s[8], m[8], smax = 0, mmax = 0;
    for (int j = 0; j < 8; ++j) {
      fit_scale_min(src + 32 * j, 32, 15, &s[j], &m[j]);
      smax = std::max(smax, s[j]);
      mmax = std::max(mmax, m[j]);
    }
    uint16_t dh = fp32_to_fp16(smax / 63.0f), dminh = fp32_to_fp16(mmax / 63.0f);
    float d = fp16_to_fp32(dh), dmin = fp16_to_fp32(dminh);
    int sq[8], mq[8];
    for (int j = 0; j < 8; ++j) {
      sq[j] = d > 0 ? clampi(nearest(s[j] / d), 0, 63) : 0;
      mq[j] = dmin > 0 ? clampi(nearest(m[j] / dmin), 0, 63) : 0;
    }
    write_u16(dst, dh);
    write_u16(dst + 2, dminh);
    pack_scale_min_k4(sq, mq, dst + 4);
    // Re-quantise with the stored (rounded) scales so the codes match what decodes.
    uint8_t levels[QK_K];
    for (int j = 0; j < 8; ++j) {
      float ds = d * sq[j], off = dmin * mq[j];
      for (int l = 0; l < 32; ++l) {
        int v = ds > 0 ? nearest((src[32 * j + l] + off) / ds) : 0;
        levels[32 * j + l] = static_cast<uint8_t>(clampi(v, 0, 15));
      }
    }
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        dst[16 + 32 * c + l] = static_cast<uint8_t>(levels[64 * c + l] | (levels[64 * c + 32 + l] << 4));
      }
    }
  }
}

// block_q5_K {half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]} = 176 bytes:
// Q4_K plus a fifth bit per element; sub-block j's fifth bit is bit j of qh[l].
void dequant_q5_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 176) {
    float d = fp16_to_fp32(read_u16(src)), dmin = fp16_to_fp32(read_u16(src + 2));
    const uint8_t* qh = src + 16;
    const uint8_t* ql = src + 48;
    for (int c = 0; c < 4; ++c, ql += 32) {
      int sc0, m0, sc1, m1;
      unpack_scale_min_k4(src + 4, 2 * c, &sc0, &m0);
      unpack_scale_min_k4(src + 4, 2 * c + 1, &sc1, &m1);
      float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
      uint8_t u0 = static_cast<uint8_t>(1u << (2 * c)), u1 = static_cast<uint8_t>(2u << (2 * c));
      for (int l = 0; l < 32; ++l) *dst++ = d0 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u0) ? 16 : 0)) - o0;
      for (int l = 0; l < 32; ++l) *dst++ = d1 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u1) ? 16 : 0)) - o1;
    }
  }
}

// block_q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; half d} = 210 bytes. Each
// 128-element half uses 64 ql bytes and 32 qh bytes: element 32k + l (k = 0..3)
// takes a nibble of ql[l + 32 * (k & 1)] (low for k < 2) and bits 2k..2k+1 of
// qh[l]; x = d * scales[element / 16] * (q - 32).
void dequant_q6_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 210) {
    const uint8_t* ql = src;
    const uint8_t* qh = src + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(src + 192);
    float d = fp16_to_fp32(read_u16(src + 208));
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, dst += 128) {
      for (int l = 0; l < 32; ++l) {
        int is = l / 16;
        int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        dst[l] = d * sc[is] * static_cast<float>(q1);
        dst[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
        dst[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
        dst[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
      }
    }
  }
}

void quant_q6_k(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += QK_K, dst += 210) {
    float s[16], smax = 0;
    for (int j = 0; j < 16; ++j) {
      s[j] = fit_scale_signed(src + 16 * j, 16, 32);
      smax = std::max(smax, std::fabs(s[j]));
    }
    uint16_t dh = fp32_to_fp16(smax / 127.0f);
    float d = fp16_to_fp32(dh);
    auto* scales = reinterpret_cast<int8_t*>(dst + 192);
    uint8_t levels[QK_K];  // q + 32, in 0..63
    for (int j = 0; j < 16; ++j) {
      int sq = d > 0 ? clampi(nearest(s[j] / d), -127, 127) : 0;
      scales[j] = static_cast<int8_t>(sq);
      float ds = d * static_cast<float>(sq);
      for (int l = 0; l < 16; ++l) {
        int v = ds != 0 ? nearest(src[16 * j + l] / ds) : 0;
        levels[16 * j + l] = static_cast<uint8_t>(clampi(v, -32, 31) + 32);
      }
    }
    write_u16(dst + 208, dh);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* L = levels + 128 * half;
      uint8_t* ql = dst + 64 * half;
      uint8_t* qh = dst + 128 + 32 * half;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((L[l] & 0xF) | ((L[l + 64] & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((L[l + 32] & 0xF) | ((L[l + 96] & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((L[l] >> 4) | ((L[l + 32] >> 4) << 2) | ((L[l + 64] >> 4) << 4) |
                                     ((L[l + 96] >> 4) << 6));
      }
    }
  }
}

// block_q8_K {float d; i8 qs[256]; i16 bsums[16]} = 292 bytes; x = q * d (bsums are
// per-16 sums of qs, kept for dot products).
void dequant_q8_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 292, dst += QK_K) {
    float d = read_f32(src);
    for (int j = 0; j < QK_K; ++j) dst[j] = d * static_cast<float>(static_cast<int8_t>(src[4 + j]));
  }
}

void quant_q8_k(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += QK_K, dst += 292) {
    float amax = 0;
    for (int j = 0; j < QK_K; ++j) amax = std::max(amax, std::fabs(src[j]));
    float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
    write_f32(dst, d);
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) {
        int q = clampi(nearest(src[16 * g + l] * id), -127, 127);
        dst[4 + 16 * g + l] = static_cast<uint8_t>(static_cast<int8_t>(q));
        sum += q;
      }
      write_u16(dst + 260 + 2 * g, static_cast<uint16_t>(static_cast<int16_t>(sum)));
    }
  }
}

}  // namespace moerag::engine::quant
