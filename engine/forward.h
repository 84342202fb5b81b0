// Forward: one config-driven transformer block for every supported architecture,
// run over a batch of tokens from many sequences (each with its own position and KV
// cache), on any Backend. Decoder models produce logits; bert produces hidden states
// for pooling. Expert routing counts are kept per layer.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "engine/backend.h"
#include "engine/kv_cache.h"
#include "engine/model.h"

namespace moerag::engine {

/// One token of a batch. Tokens of one sequence must have consecutive positions,
/// starting at that sequence's KvCache::n_pos.
struct BatchToken {
  int32_t token = 0;
  int32_t seq = 0;
  int32_t pos = 0;
  bool logits = false;  ///< return this token's logits
};

/// Tokens routed to each expert, per layer (dense layers stay zero). // [n_layer][n_expert]
using ExpertLoad = std::vector<std::vector<uint64_t>>;

class Forward {
 public:
  /// `kv` may be null for bert (encode only).
  Forward(const Model& model, Backend& backend, KvCache* kv);

  /// Runs a decoder step: writes K/V of every token into the cache, commits the tokens,
  /// and appends the logits of each token with logits=true, in batch order, to
  /// `logits` (host, F32 [n_out, n_vocab]). INVALID_INPUT for a bad token id,
  /// OVERLOADED / CONTEXT_TOO_LONG from the cache.
  Status decode(const std::vector<BatchToken>& batch, std::vector<float>* logits);

  /// bert: hidden states of one sequence after the last block, host F32 [n_tok, n_embd].
  Status encode(const std::vector<int32_t>& tokens, std::vector<float>* hidden);

  /// Tokens routed to each expert since construction or reset_expert_load().
  const ExpertLoad& expert_load() const { return load_; }
  void reset_expert_load();

 private:
  struct Scratch;
  void attention_block(int64_t il, const float* cur, int64_t n, const std::vector<BatchToken>& batch, float* out);
  void mla_block(int64_t il, const float* cur, int64_t n, const std::vector<BatchToken>& batch, float* out);
  void store_and_attend(int64_t il, float* q, const float* k, const float* v, int64_t n,
                        const std::vector<BatchToken>& batch, const kernels::AttnParams& p, float* out);
  void dense_ffn(const kernels::MatView& gate, const kernels::MatView& up, const kernels::MatView& down, const float* x,
                 int64_t n, float* out);
  void moe_ffn(int64_t il, const float* cur, int64_t n, float* out);
  void route(int64_t il, const float* logits, int64_t n, std::vector<int32_t>& ids, std::vector<float>& weights);

  const Model& model_;
  const ModelConfig& c_;
  Backend& be_;
  KvCache* kv_;
  kernels::RopeParams rope_;
  float kq_scale_ = 1.0f;
  std::vector<int32_t> pos_;  // positions of the current batch
  ExpertLoad load_;
};

}  // namespace moerag::engine
