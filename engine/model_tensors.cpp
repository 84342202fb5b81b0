// The tensor names and shapes of each architecture (llama.cpp llama-arch.cpp names,
// shapes outermost first: GGUF ne {n_embd, n_vocab} is our [n_vocab, n_embd]) and
// the check that a file matches them.
#include <algorithm>

#include "engine/model_config.h"

namespace moerag::engine {
namespace {

class SpecList {
 public:
  void add(std::string name, std::vector<int64_t> shape, TensorRole role, bool required = true) {
    int64_t fan_in = shape.back();
    out.push_back({std::move(name), std::move(shape), role, required, fan_in});
  }
  // "blk.N.<what>.weight" / ".bias"
  void blk(int64_t il, const std::string& what, std::vector<int64_t> shape, TensorRole role, bool required = true) {
    add("blk." + std::to_string(il) + "." + what, std::move(shape), role, required);
  }
  std::vector<TensorSpec> out;
};

void add_attention(const ModelConfig& c, int64_t il, SpecList& L) {
  const int64_t q_dim = c.n_head * c.head_dim_k, k_dim = c.n_head_kv * c.head_dim_k, v_dim = c.n_head_kv * c.head_dim_v;
  if (c.arch == Arch::DEEPSEEK2) {
    // Multi-head latent attention: q through an optional low-rank pair, k/v from a
    // shared latent of kv_lora_rank plus one rope part (n_rot) shared by all heads.
    if (c.q_lora_rank > 0) {
      L.blk(il, "attn_q_a.weight", {c.q_lora_rank, c.n_embd}, TensorRole::MATRIX);
      L.blk(il, "attn_q_a_norm.weight", {c.q_lora_rank}, TensorRole::NORM);
      L.blk(il, "attn_q_b.weight", {q_dim, c.q_lora_rank}, TensorRole::MATRIX);
    } else {
      L.blk(il, "attn_q.weight", {q_dim, c.n_embd}, TensorRole::MATRIX);
    }
    L.blk(il, "attn_kv_a_mqa.weight", {c.kv_lora_rank + c.n_rot, c.n_embd}, TensorRole::MATRIX);
    L.blk(il, "attn_kv_a_norm.weight", {c.kv_lora_rank}, TensorRole::NORM);
    if (c.mla_split_kv_b) {
      L.blk(il, "attn_k_b.weight", {c.n_head, c.kv_lora_rank, c.head_dim_qk_nope()}, TensorRole::MATRIX);
      L.blk(il, "attn_v_b.weight", {c.n_head, c.head_dim_v, c.kv_lora_rank}, TensorRole::MATRIX);
    } else {
      L.blk(il, "attn_kv_b.weight", {c.n_head * (c.head_dim_qk_nope() + c.head_dim_v), c.kv_lora_rank},
            TensorRole::MATRIX);
    }
    L.blk(il, "attn_output.weight", {c.n_embd, c.n_head * c.head_dim_v}, TensorRole::MATRIX);
    return;
  }
  L.blk(il, "attn_q.weight", {q_dim, c.n_embd}, TensorRole::MATRIX);
  if (c.attn_bias) L.blk(il, "attn_q.bias", {q_dim}, TensorRole::BIAS);
  L.blk(il, "attn_k.weight", {k_dim, c.n_embd}, TensorRole::MATRIX);
  if (c.attn_bias) L.blk(il, "attn_k.bias", {k_dim}, TensorRole::BIAS);
  L.blk(il, "attn_v.weight", {v_dim, c.n_embd}, TensorRole::MATRIX);
  if (c.attn_bias) L.blk(il, "attn_v.bias", {v_dim}, TensorRole::BIAS);
  if (c.qk_norm) {
    // qwen3moe normalises each head (weight per head dim); olmoe the whole q / k vector.
    bool per_head = c.arch == Arch::QWEN3MOE;
    L.blk(il, "attn_q_norm.weight", {per_head ? c.head_dim_k : q_dim}, TensorRole::NORM);
    L.blk(il, "attn_k_norm.weight", {per_head ? c.head_dim_k : k_dim}, TensorRole::NORM);
  }
  L.blk(il, "attn_output.weight", {c.n_embd, c.n_head * c.head_dim_v}, TensorRole::MATRIX);
  if (c.arch == Arch::BERT) L.blk(il, "attn_output.bias", {c.n_embd}, TensorRole::BIAS);
}

void add_dense_ffn(const ModelConfig& c, int64_t il, SpecList& L) {
  if (c.arch == Arch::BERT) {  // GELU MLP with biases, no gate
    L.blk(il, "ffn_up.weight", {c.n_ff, c.n_embd}, TensorRole::MATRIX);
    L.blk(il, "ffn_up.bias", {c.n_ff}, TensorRole::BIAS);
    L.blk(il, "ffn_down.weight", {c.n_embd, c.n_ff}, TensorRole::MATRIX);
    L.blk(il, "ffn_down.bias", {c.n_embd}, TensorRole::BIAS);
    return;
  }
  L.blk(il, "ffn_gate.weight", {c.n_ff, c.n_embd}, TensorRole::MATRIX);
  L.blk(il, "ffn_down.weight", {c.n_embd, c.n_ff}, TensorRole::MATRIX);
  L.blk(il, "ffn_up.weight", {c.n_ff, c.n_embd}, TensorRole::MATRIX);
}

void add_moe_ffn(const ModelConfig& c, int64_t il, SpecList& L) {
  L.blk(il, "ffn_gate_inp.weight", {c.n_expert, c.n_embd}, TensorRole::ROUTER);
  if (c.arch == Arch::DEEPSEEK2) {
    // Bias added to sigmoid scores for expert selection (DeepSeek-V3); absent in V2.
    L.blk(il, "exp_probs_b.bias", {c.n_expert}, TensorRole::BIAS, c.gating == GatingFunc::SIGMOID);
  }
  L.blk(il, "ffn_gate_exps.weight", {c.n_expert, c.n_ff_exp, c.n_embd}, TensorRole::MATRIX);
  L.blk(il, "ffn_down_exps.weight", {c.n_expert, c.n_embd, c.n_ff_exp}, TensorRole::MATRIX);
  L.blk(il, "ffn_up_exps.weight", {c.n_expert, c.n_ff_exp, c.n_embd}, TensorRole::MATRIX);
  if (c.n_expert_shared > 0) {
    if (c.arch == Arch::QWEN2MOE) L.blk(il, "ffn_gate_inp_shexp.weight", {c.n_embd}, TensorRole::ROUTER);
    L.blk(il, "ffn_gate_shexp.weight", {c.n_ff_shexp, c.n_embd}, TensorRole::MATRIX);
    L.blk(il, "ffn_down_shexp.weight", {c.n_embd, c.n_ff_shexp}, TensorRole::MATRIX);
    L.blk(il, "ffn_up_shexp.weight", {c.n_ff_shexp, c.n_embd}, TensorRole::MATRIX);
  }
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
  SpecList L;
  L.add("token_embd.weight", {c.n_vocab, c.n_embd}, TensorRole::EMBEDDING);
  if (c.arch == Arch::BERT) {
    L.add("token_types.weight", {c.n_token_types, c.n_embd}, TensorRole::EMBEDDING);
    L.add("position_embd.weight", {c.n_ctx_train, c.n_embd}, TensorRole::EMBEDDING);
    L.add("token_embd_norm.weight", {c.n_embd}, TensorRole::NORM);
    L.add("token_embd_norm.bias", {c.n_embd}, TensorRole::BIAS);
  }
  for (int64_t il = 0; il < c.n_layer; ++il) {
    if (c.arch == Arch::BERT) {  // post-norm encoder block
      add_attention(c, il, L);
      L.blk(il, "attn_output_norm.weight", {c.n_embd}, TensorRole::NORM);
      L.blk(il, "attn_output_norm.bias", {c.n_embd}, TensorRole::BIAS);
      add_dense_ffn(c, il, L);
      L.blk(il, "layer_output_norm.weight", {c.n_embd}, TensorRole::NORM);
      L.blk(il, "layer_output_norm.bias", {c.n_embd}, TensorRole::BIAS);
      continue;
    }
    L.blk(il, "attn_norm.weight", {c.n_embd}, TensorRole::NORM);
    add_attention(c, il, L);
    L.blk(il, "ffn_norm.weight", {c.n_embd}, TensorRole::NORM);
    if (c.layer_is_moe(il)) {
      add_moe_ffn(c, il, L);
    } else {
      add_dense_ffn(c, il, L);
    }
  }
  if (c.arch != Arch::BERT) {
    L.add("output_norm.weight", {c.n_embd}, TensorRole::NORM);
    L.add("output.weight", {c.n_vocab, c.n_embd}, TensorRole::MATRIX, /*required=*/false);
  }
  return std::move(L.out);
}

Status validate_tensors(const ModelConfig& config, const GgufFile& file) {
  for (const auto& spec : expected_tensors(config)) {
    const GgufTensor* t = file.find_tensor(spec.name);
    if (t == nullptr) {
      if (!spec.required) continue;
      return Error(ErrorCode::INVALID_INPUT,
                   "missing tensor '" + spec.name + "' (expected shape " + shape_str(spec.shape) + ")");
    }
    if (t->shape != spec.shape) {
      return Error(ErrorCode::INVALID_INPUT, "tensor '" + spec.name + "' has shape " + t->shape_string() +
                                                 ", expected " + shape_str(spec.shape));
    }
    if (!type_traits(t->type).can_dequantize) {
      return Error(ErrorCode::INVALID_INPUT,
                   "tensor '" + spec.name + "' has type " + type_name(t->type) + ", which this engine cannot read yet");
    }
  }
  return ok_status();
}

}  // namespace moerag::engine
