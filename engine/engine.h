// The engine's front door: open a GGUF file as a Generator (decoder models) or an
// Embedder (bert), on the CPU backend. Everything else in engine/ is internal to it
// (the CLI's model tools use the parts directly).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "engine/embedder.h"
#include "engine/generator.h"
#include "engine/tensor_types.h"

namespace moerag::engine {

/// Engine start-up options.
struct EngineOptions {
  size_t n_threads = 0;            ///< CPU threads (0 = all cores)
  int64_t n_ctx = 4096;            ///< context per sequence (capped at the model's)
  GgmlType kv_type = GgmlType::F16;///< KV cache storage: f16, f32 or q8_0
  int64_t kv_block_size = 16;      ///< tokens per KV block
  int64_t n_cached_seqs = 2;       ///< KV capacity in full-length sequences (extra room keeps reusable prefixes)
  std::string chat_template;       ///< override the template detected from the vocabulary
};

/// Loads a decoder model (llama, qwen2moe, qwen3moe, olmoe, deepseek2).
Result<std::unique_ptr<Generator>> open_generator(const std::string& path, const EngineOptions& options = {});
/// Loads a bert embedding model; vectors are pooled as the file says (mean or CLS) and L2-normalised.
Result<std::unique_ptr<Embedder>> open_embedder(const std::string& path, const EngineOptions& options = {});

}  // namespace moerag::engine
