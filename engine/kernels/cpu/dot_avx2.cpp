// AVX2 + FMA + F16C row dot products (body in dot_x86.inc). Only called after
// __builtin_cpu_supports says so (dot_scalar.cpp); headers are included before the
// target pragma so no inline library code is compiled for this instruction set.
#include <immintrin.h>

#include <cstdint>

#include "engine/kernels/cpu/dot.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define MOERAG_X86_512 0

namespace moerag::engine::kernels::cpu {
#include "engine/kernels/cpu/dot_x86.inc"

const DotTable& dot_table_avx2() {
  static const DotTable t = {dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0, dot_q4_k, dot_q6_k, axpy_f32, axpy_f16,
                                quant_q8a, quant_q8ka, dot_q8_0_xn, dot_f16_rows_xn, dot4_f16, axpy4_f16};
  return t;
}

}  // namespace moerag::engine::kernels::cpu

#undef MOERAG_X86_512
#pragma GCC pop_options
