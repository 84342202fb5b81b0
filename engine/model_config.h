// ModelConfig: the hyper-parameters of a model, read from GGUF metadata with the
// exact keys llama.cpp's converters write (`{arch}.block_count`, ...), for the
// architectures llama (dense or Mixtral-style experts), qwen2moe, qwen3moe, olmoe,
// deepseek2 and bert; and the tensor names and shapes each architecture expects,
// with a check that a file has them all. Keys and names: llama.cpp gguf-py
// constants.py and llama-arch.cpp (facts only). The same code writes the keys for
// `moerag model synth`, so reading and writing can never disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/gguf.h"

namespace moerag::engine {

class GgufWriter;

/// Supported `general.architecture` values.
enum class Arch { LLAMA, QWEN2MOE, QWEN3MOE, OLMOE, DEEPSEEK2, BERT };

/// "llama", "qwen2moe", ...
const char* arch_name(Arch a);
/// Parses a `general.architecture` value; nullopt when unsupported.
std::optional<Arch> parse_arch(const std::string& name);
/// All supported architectures, in a stable order.
const std::vector<Arch>& all_archs();

/// How rotary embeddings pair dimensions (llama.cpp LLAMA_ROPE_TYPE_*).
enum class RopeType {
  NONE,  ///< absolute position embeddings (bert)
  NORM,  ///< adjacent pairs (2i, 2i+1): llama, deepseek2
  NEOX,  ///< split halves (i, i + n_rot/2): qwen2moe, qwen3moe, olmoe
};

/// `{arch}.rope.scaling.type`.
enum class RopeScaling { NONE, LINEAR, YARN };

/// `{arch}.expert_gating_func`: how router logits become expert weights.
enum class GatingFunc { SOFTMAX = 1, SIGMOID = 2 };

/// Hyper-parameters of one model. Counts follow the n_ naming; head dims are per head.
struct ModelConfig {
  Arch arch = Arch::LLAMA;
  std::string name;                ///< `general.name`, may be empty

  // ---- sizes ----
  int64_t n_vocab = 0;             ///< `{arch}.vocab_size`, else the tokenizer's token count, else token_embd rows
  int64_t n_ctx_train = 0;         ///< `{arch}.context_length`
  int64_t n_embd = 0;              ///< `{arch}.embedding_length`
  int64_t n_layer = 0;             ///< `{arch}.block_count`
  int64_t n_ff = 0;                ///< `{arch}.feed_forward_length` (dense FFN; 0 when every layer is MoE)
  int64_t n_head = 0;              ///< `{arch}.attention.head_count`
  int64_t n_head_kv = 0;           ///< `{arch}.attention.head_count_kv` (default n_head)
  int64_t head_dim_k = 0;          ///< `{arch}.attention.key_length` (default n_embd / n_head); MLA: q/k head dim
  int64_t head_dim_v = 0;          ///< `{arch}.attention.value_length` (default head_dim_k)
  float norm_eps = 1e-5f;          ///< `attention.layer_norm_rms_epsilon` (bert: `layer_norm_epsilon`)
  bool causal = true;              ///< `{arch}.attention.causal` (bert: false)
  int64_t sliding_window = 0;      ///< `{arch}.attention.sliding_window`, 0 = none
  int64_t n_token_types = 0;       ///< bert: `tokenizer.ggml.token_type_count` (default 2)
  uint32_t pooling_type = 0;       ///< bert: `{arch}.pooling_type` (0 none, 1 mean, 2 cls, 3 last)

  // ---- rotary embeddings ----
  RopeType rope_type = RopeType::NORM;
  int64_t n_rot = 0;               ///< `{arch}.rope.dimension_count` (default head_dim_k)
  float rope_freq_base = 10000.0f; ///< `{arch}.rope.freq_base`
  RopeScaling rope_scaling = RopeScaling::NONE;  ///< `{arch}.rope.scaling.type`
  float rope_scaling_factor = 1.0f;              ///< `{arch}.rope.scaling.factor`
  int64_t rope_orig_ctx = 0;                     ///< `{arch}.rope.scaling.original_context_length`
  float rope_attn_factor = 1.0f;                 ///< `{arch}.rope.scaling.attn_factor`
  float rope_yarn_log_mul = 0.0f;                ///< `{arch}.rope.scaling.yarn_log_multiplier` (deepseek2)

  // ---- mixture of experts (n_expert == 0: dense) ----
  int64_t n_expert = 0;            ///< `{arch}.expert_count`
  int64_t n_expert_used = 0;       ///< `{arch}.expert_used_count` (top-k)
  int64_t n_expert_shared = 0;     ///< `{arch}.expert_shared_count` (qwen2moe: 1, implicit)
  int64_t n_ff_exp = 0;            ///< `{arch}.expert_feed_forward_length` (llama: n_ff)
  int64_t n_ff_shexp = 0;          ///< shared experts' combined FFN width: qwen2moe
                                   ///< `{arch}.expert_shared_feed_forward_length`, deepseek2 n_ff_exp * n_expert_shared
  int64_t n_layer_dense_lead = 0;  ///< `{arch}.leading_dense_block_count` (deepseek2)
  int64_t n_expert_groups = 0;     ///< `{arch}.expert_group_count`, 0 = no group-limited routing
  int64_t n_group_used = 0;        ///< `{arch}.expert_group_used_count`
  float expert_weights_scale = 1.0f;  ///< `{arch}.expert_weights_scale`
  bool expert_weights_norm = false;   ///< `{arch}.expert_weights_norm`: renormalise the top-k weights
  GatingFunc gating = GatingFunc::SOFTMAX;  ///< `{arch}.expert_gating_func`

  // ---- multi-head latent attention (deepseek2) ----
  int64_t q_lora_rank = 0;         ///< `{arch}.attention.q_lora_rank`, 0 = plain attn_q
  int64_t kv_lora_rank = 0;        ///< `{arch}.attention.kv_lora_rank`
  bool mla_split_kv_b = false;     ///< file has attn_k_b/attn_v_b instead of attn_kv_b (newer converts)

  // ---- per-architecture structure ----
  bool attn_bias = false;          ///< q/k/v biases (qwen2moe, bert)
  bool qk_norm = false;            ///< attn_q_norm/attn_k_norm (qwen3moe per head, olmoe over all heads)
  bool has_output = true;          ///< a separate output.weight (false: tied to token_embd)

  /// Reads and checks the hyper-parameters. INVALID_INPUT names the key that is
  /// missing or inconsistent (e.g. "qwen3moe.expert_used_count = 9 > expert_count 8").
  static Result<ModelConfig> from_gguf(const GgufFile& file);
  /// Checks ranges and relations between fields (called by from_gguf; synth calls it too).
  Status check() const;
  /// Writes every key from_gguf reads (plus general.architecture/name) into `w`.
  void write_gguf(GgufWriter& w) const;

  /// True when layer `il` uses experts (MoE) rather than a dense FFN.
  bool layer_is_moe(int64_t il) const { return n_expert > 0 && il >= n_layer_dense_lead; }
  /// MLA: dims of the rope part and the no-rope part of each q/k head.
  int64_t head_dim_qk_nope() const { return head_dim_k - n_rot; }
  /// Number of parameters the expected tensors hold.
  uint64_t n_params() const;
};

/// Kind of tensor, used by synth for initialisation and by quantize to pick a type.
enum class TensorRole {
  EMBEDDING,  ///< token/position/type embeddings
  MATRIX,     ///< a 2-D (or per-expert 3-D) projection
  NORM,       ///< a norm weight (initialised to 1)
  BIAS,       ///< a bias, a norm bias or exp_probs_b (initialised to 0)
  ROUTER,     ///< ffn_gate_inp / ffn_gate_inp_shexp (kept in F32 by quantize)
};

/// One tensor a model of a config must (or may) have.
struct TensorSpec {
  std::string name;            ///< e.g. "blk.0.ffn_gate_exps.weight"
  std::vector<int64_t> shape;  ///< outermost first, e.g. [n_expert, n_ff_exp, n_embd]
  TensorRole role = TensorRole::MATRIX;
  bool required = true;        ///< output.weight, exp_probs_b are optional
  int64_t fan_in = 1;          ///< elements summed per output (innermost dim), for init scale
};

/// The tensors a model with this config has, in the order converters write them.
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

/// Checks that `file` has every required tensor with its expected shape, and that
/// optional ones present have the right shape. INVALID_INPUT names the tensor:
/// "missing tensor 'blk.3.attn_k.weight' (expected [256, 2048])" or
/// "tensor 'blk.0.attn_q.weight' has shape [512, 2048], expected [2048, 2048]".
Status validate_tensors(const ModelConfig& config, const GgufFile& file);

}  // namespace moerag::engine
