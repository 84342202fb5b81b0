// `moerag model synth`: writes a random-weight GGUF of any supported architecture and
// size, with the tensor names, shapes and metadata keys of real converted models and
// a complete tokenizer (copied from a vocab GGUF, or a small synthetic one of the
// architecture's kind). Deterministic for a seed, whatever the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/gguf_writer.h"
#include "engine/model_config.h"
#include "engine/tensor_types.h"

namespace moerag::engine {

/// What to synthesise. Negative sizes mean "the architecture's default for n_embd".
struct SynthOptions {
  Arch arch = Arch::LLAMA;
  int64_t n_layer = 2;
  int64_t n_embd = 256;
  int64_t n_ff = -1;             ///< dense FFN width, or each expert's width for MoE archs
  int64_t n_head = -1;
  int64_t n_head_kv = -1;
  int64_t n_expert = -1;         ///< llama: 0 = dense (default); MoE archs default 8
  int64_t n_expert_used = -1;    ///< top-k, default 2
  int64_t n_expert_shared = -1;  ///< qwen2moe: 1; deepseek2: default 1
  int64_t n_vocab = -1;          ///< synthetic vocab size (default 512); ignored with vocab_from
  int64_t n_ctx = -1;            ///< context_length, default 2048 (bert 512)
  int64_t q_lora_rank = -1;      ///< deepseek2: 0 (V2-Lite style) by default
  bool sigmoid_gating = false;   ///< deepseek2: V3-style sigmoid routing + exp_probs_b + groups
  std::string vocab_from;        ///< copy tokenizer.* metadata from this GGUF
  GgmlType type = GgmlType::F32; ///< type of the 2-D weights (norms/biases/routers stay F32)
  uint64_t seed = 1;
  size_t n_threads = 0;          ///< 0 = hardware concurrency
  std::string name;              ///< general.name, default "synth-<arch>"
};

/// Resolves defaults into a checked ModelConfig (n_vocab is final only after the
/// vocabulary is known; synth_model sets it).
Result<ModelConfig> synth_config(const SynthOptions& options);

/// Writes tokenizer metadata: copied from options.vocab_from (tokenizer.* keys) or a
/// synthetic vocabulary of the arch's kind (SPM for llama, byte-level BPE for
/// qwen2moe/qwen3moe/olmoe/deepseek2, WordPiece for bert). Returns the vocab size.
Result<int64_t> synth_vocab(const SynthOptions& options, GgufWriter& w);

/// The type a tensor is stored in when `want` is requested: norms, biases and
/// routers stay F32; a row that is not a multiple of `want`'s block size falls back
/// (Q4_K -> Q5_0, other K-quants -> Q8_0, then F16), as llama.cpp's quantizer does.
GgmlType storage_type(const TensorSpec& spec, GgmlType want);

/// The F32 values synth draws for one row of a tensor (before quantisation).
/// row: index over the outer dims; out: spec.shape.back() floats.
void synth_row(const ModelConfig& config, const TensorSpec& spec, uint64_t seed, int64_t row, float* out);

/// Everything written, for reporting.
struct SynthSummary {
  ModelConfig config;
  size_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;
};

/// Called after each tensor is produced: (done, total) tensors.
using SynthProgress = std::function<void(size_t done, size_t total)>;

/// Fills `w` with metadata and lazily generated tensors (nothing is generated until
/// w.write / w.to_bytes).
Result<SynthSummary> build_synth(const SynthOptions& options, GgufWriter& w, const SynthProgress& progress = {});

/// Synthesises and writes `path` atomically.
Result<SynthSummary> synth_model(const SynthOptions& options, const std::string& path,
                                 const SynthProgress& progress = {});

}  // namespace moerag::engine
