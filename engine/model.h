// Model: a GGUF file's config and weights made resident on a backend. On the CPU the
// weights stay in the memory-mapped file (peak RSS ~ file size); the only derived
// tensor is MLA's absorbed key projection when the file stores attn_kv_b (see
// model.cpp). Field names follow the GGUF tensor names; shapes outermost first.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/backend.h"
#include "engine/gguf.h"
#include "engine/model_config.h"

namespace moerag::engine {

/// One block's weights. Absent tensors have present == false.
struct LayerWeights {
  DeviceWeight attn_norm;                     ///< F32 [n_embd]
  DeviceWeight attn_q, attn_k, attn_v;        ///< [n_head*dk | n_head_kv*dk | n_head_kv*dv, n_embd]
  DeviceWeight attn_q_bias, attn_k_bias, attn_v_bias;  ///< F32 [rows] (qwen2moe, bert)
  DeviceWeight attn_q_norm, attn_k_norm;      ///< F32 [dk] (qwen3moe) or [n_head*dk] (olmoe)
  DeviceWeight attn_output, attn_output_bias; ///< [n_embd, n_head*dv], F32 [n_embd] (bert)
  DeviceWeight attn_output_norm, attn_output_norm_b;  ///< bert post-attention LayerNorm
  // MLA (deepseek2)
  DeviceWeight attn_q_a, attn_q_a_norm, attn_q_b;  ///< [q_lora, n_embd], [q_lora], [n_head*dk, q_lora]
  DeviceWeight attn_kv_a_mqa, attn_kv_a_norm;      ///< [rank + n_rot, n_embd], F32 [rank]
  DeviceWeight attn_k_b;  ///< [n_head, rank, nope]: q_nope -> latent (absorbed)
  DeviceWeight attn_v_b;  ///< [n_head, dv, rank] or, from attn_kv_b, rows of it (see v_b_head)
  bool v_b_from_kv_b = false;
  // FFN
  DeviceWeight ffn_norm;                          ///< F32 [n_embd]
  DeviceWeight ffn_gate, ffn_up, ffn_down;        ///< dense: [n_ff, n_embd], [n_ff, n_embd], [n_embd, n_ff]
  DeviceWeight ffn_up_bias, ffn_down_bias;        ///< bert
  DeviceWeight layer_output_norm, layer_output_norm_b;  ///< bert post-FFN LayerNorm
  DeviceWeight ffn_gate_inp;                      ///< router [n_expert, n_embd]
  DeviceWeight exp_probs_b;                       ///< F32 [n_expert] selection bias (deepseek V3)
  DeviceWeight ffn_gate_exps, ffn_up_exps, ffn_down_exps;  ///< [n_expert, n_ff_exp, n_embd] / [n_expert, n_embd, n_ff_exp]
  DeviceWeight ffn_gate_inp_shexp;                ///< F32 [n_embd] (qwen2moe shared-expert gate)
  DeviceWeight ffn_gate_shexp, ffn_up_shexp, ffn_down_shexp;  ///< [n_ff_shexp, n_embd] / [n_embd, n_ff_shexp]

  /// MLA value projection of head h. // type [dv, rank]
  kernels::MatView v_b_head(int64_t h, int64_t nope, int64_t dv) const {
    return v_b_from_kv_b ? attn_v_b.mat.rows(h * (nope + dv) + nope, dv) : attn_v_b.expert(h);
  }
};

/// A loaded model: config, tokenizer-bearing file, and resident weights.
class Model {
 public:
  /// Opens, validates (ModelConfig::from_gguf + validate_tensors) and uploads.
  static Result<std::unique_ptr<Model>> load(const std::string& path, Backend& backend);
  /// The same from an already opened file (takes ownership).
  static Result<std::unique_ptr<Model>> from_file(std::unique_ptr<GgufFile> file, Backend& backend);

  const ModelConfig& config() const { return config_; }
  const GgufFile& file() const { return *file_; }

  DeviceWeight tok_embd;                   ///< [n_vocab, n_embd]
  DeviceWeight token_types, position_embd; ///< bert: [n_token_types, n_embd], [n_ctx, n_embd]
  DeviceWeight token_embd_norm, token_embd_norm_b;  ///< bert
  DeviceWeight output_norm;                ///< F32 [n_embd]
  DeviceWeight output;                     ///< [n_vocab, n_embd] (tok_embd when tied)
  std::vector<LayerWeights> layers;        ///< [n_layer]

  /// Bytes of weights one decoded token reads (attention + dense FFN + the used and
  /// shared experts + output), for the bandwidth ceiling of `model bench`.
  uint64_t active_weight_bytes() const { return active_weights(nullptr); }
  /// The same, and the number of weights those bytes hold (for FLOP counts) in *n_elems.
  uint64_t active_weights(uint64_t* n_elems) const;

 private:
  Model() = default;
  Status upload_all(Backend& backend);
  Status derive_mla(Backend& backend, LayerWeights& L, const GgufTensor& kv_b);

  ModelConfig config_;
  std::unique_ptr<GgufFile> file_;
  std::vector<std::unique_ptr<GgufTensor>> derived_meta_;  // tensors synthesised at load
  std::vector<std::vector<uint8_t>> derived_data_;  // their bytes (F32 or F16)
};

}  // namespace moerag::engine
