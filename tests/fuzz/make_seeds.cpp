// Writes the GGUF fuzz seed corpus into the folder given as argv[1]: a metadata-only
// file with every value type, a file with one tensor of each supported type, and tiny
// synthesised models (bert, qwen3moe, deepseek2).
#include <cstdio>
#include <string>

#include "engine/gguf_writer.h"
#include "engine/synth.h"

using namespace moerag::engine;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  GgufWriter meta;
  meta.set("u8", GgufValue(uint8_t{1}));
  meta.set("i8", GgufValue(int8_t{-1}));
  meta.set("u16", GgufValue(uint16_t{2}));
  meta.set("i16", GgufValue(int16_t{-2}));
  meta.set_u32("u32", 3);
  meta.set_i32("i32", -3);
  meta.set_f32("f32", 0.5f);
  meta.set_bool("bool", true);
  meta.set_str("general.architecture", "llama");
  meta.set_u64("u64", 4);
  meta.set("i64", GgufValue(int64_t{-4}));
  meta.set("f64", GgufValue(0.25));
  meta.set_arr_str("tokenizer.ggml.tokens", {"<unk>", "a", "b"});
  meta.set_arr_f32("tokenizer.ggml.scores", {0, -1, -2});
  meta.set_arr_i32("tokenizer.ggml.token_type", {2, 1, 1});
  GgufArray nested;
  nested.type = GgufType::ARRAY;
  nested.arrays.resize(2);
  meta.set("nested", GgufValue(nested));
  if (!meta.write(dir + "/metadata.gguf").ok()) return 1;

  GgufWriter tensors(64);
  std::vector<float> x(256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 17) - 8.0f;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                     GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_K}) {
    std::vector<uint8_t> bytes(row_size(t, 256).value());
    if (!quantize_row(t, x.data(), bytes.data(), 256).ok()) return 1;
    if (!tensors.add_tensor("t." + type_name(t), t, {1, 256}, bytes).ok()) return 1;
  }
  if (!tensors.write(dir + "/tensors.gguf").ok()) return 1;

  for (Arch arch : {Arch::BERT, Arch::QWEN3MOE, Arch::DEEPSEEK2}) {
    SynthOptions o;
    o.arch = arch;
    o.n_layer = arch == Arch::DEEPSEEK2 ? 2 : 1;
    o.n_embd = 32;
    o.n_head = 1;
    o.n_ff = 32;
    o.n_expert = arch == Arch::BERT ? -1 : 2;
    o.n_expert_used = arch == Arch::BERT ? -1 : 1;
    o.n_vocab = arch == Arch::BERT ? 100 : 310;
    o.n_ctx = 8;
    o.type = GgmlType::Q8_0;
    o.n_threads = 1;
    auto s = synth_model(o, dir + "/synth-" + arch_name(arch) + ".gguf");
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.error().message.c_str());
      return 1;
    }
  }
  return 0;
}
