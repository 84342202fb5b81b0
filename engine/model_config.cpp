// ModelConfig: reading hyper-parameters from GGUF metadata, checking them, and
// writing them back (synth). Per-architecture defaults follow llama.cpp's loader.
#include "engine/model_config.h"

#include "engine/gguf_writer.h"

namespace moerag::engine {
namespace {

struct ArchName {
  Arch arch;
  const char* name;
};
constexpr ArchName kArchs[] = {{Arch::LLAMA, "llama"},         {Arch::QWEN2MOE, "qwen2moe"},
                               {Arch::QWEN3MOE, "qwen3moe"},   {Arch::OLMOE, "olmoe"},
                               {Arch::DEEPSEEK2, "deepseek2"}, {Arch::BERT, "bert"}};

Error bad(std::string m) { return Error(ErrorCode::INVALID_INPUT, std::move(m)); }

// Metadata reads with per-arch key prefixes; a missing required key or a value of
// the wrong type is INVALID_INPUT naming the key.
class Meta {
 public:
  Meta(const GgufFile& f, std::string arch) : f_(f), prefix_(std::move(arch) + ".") {}
  std::string key(const std::string& k) const { return prefix_ + k; }

  Result<int64_t> req_int(const std::string& k) const {
    auto r = f_.get_i64(key(k));
    if (!r.ok() && r.error().code == ErrorCode::NOT_FOUND) return bad(r.error().message);
    return r;
  }
  Result<int64_t> int_or(const std::string& k, int64_t fallback) const {
    if (!f_.has(key(k))) return fallback;
    return f_.get_i64(key(k));
  }
  Result<float> float_or(const std::string& k, float fallback) const {
    if (!f_.has(key(k))) return fallback;
    return f_.get_f32(key(k));
  }
  Result<bool> bool_or(const std::string& k, bool fallback) const {
    if (!f_.has(key(k))) return fallback;
    return f_.get_bool(key(k));
  }
  bool has(const std::string& k) const { return f_.has(key(k)); }

 private:
  const GgufFile& f_;
  std::string prefix_;
};

std::string s(int64_t v) { return std::to_string(v); }

Result<int64_t> vocab_size(const GgufFile& f, const Meta& m) {
  if (m.has("vocab_size")) return m.req_int("vocab_size");
  if (const GgufArray* tokens = f.get_arr("tokenizer.ggml.tokens")) return static_cast<int64_t>(tokens->size());
  if (const GgufTensor* t = f.find_tensor("token_embd.weight")) return t->shape.front();
  return bad("cannot determine the vocabulary size: no '" + m.key("vocab_size") +
             "', no tokenizer.ggml.tokens and no token_embd.weight");
}

Status read_rope(const Meta& m, ModelConfig& c) {
  MOERAG_ASSIGN_OR_RETURN(c.n_rot, m.int_or("rope.dimension_count", c.head_dim_k));
  MOERAG_ASSIGN_OR_RETURN(c.rope_freq_base, m.float_or("rope.freq_base", 10000.0f));
  return ok_status();
}

Status read_rope_scaling(const GgufFile& f, const Meta& m, ModelConfig& c) {
  auto type = f.find_str(m.key("rope.scaling.type"));
  if (!type || *type == "none") return ok_status();
  if (*type == "linear") c.rope_scaling = RopeScaling::LINEAR;
  else if (*type == "yarn") c.rope_scaling = RopeScaling::YARN;
  else return bad("unsupported " + m.key("rope.scaling.type") + " '" + *type + "' (supported: none, linear, yarn)");
  MOERAG_ASSIGN_OR_RETURN(c.rope_scaling_factor, m.float_or("rope.scaling.factor", 1.0f));
  MOERAG_ASSIGN_OR_RETURN(c.rope_orig_ctx, m.int_or("rope.scaling.original_context_length", c.n_ctx_train));
  MOERAG_ASSIGN_OR_RETURN(c.rope_attn_factor, m.float_or("rope.scaling.attn_factor", 1.0f));
  MOERAG_ASSIGN_OR_RETURN(c.rope_yarn_log_mul, m.float_or("rope.scaling.yarn_log_multiplier", 0.0f));
  return ok_status();
}

Status read_experts(const Meta& m, ModelConfig& c) {
  MOERAG_ASSIGN_OR_RETURN(c.n_expert, m.int_or("expert_count", 0));
  if (c.n_expert == 0) return ok_status();
  bool needs_exp_ff = c.arch == Arch::QWEN2MOE || c.arch == Arch::QWEN3MOE || c.arch == Arch::DEEPSEEK2;
  MOERAG_ASSIGN_OR_RETURN(c.n_expert_used, m.req_int("expert_used_count"));
  if (needs_exp_ff) {
    MOERAG_ASSIGN_OR_RETURN(c.n_ff_exp, m.req_int("expert_feed_forward_length"));
  } else {  // llama (Mixtral) and olmoe size their experts with feed_forward_length
    MOERAG_ASSIGN_OR_RETURN(c.n_ff_exp, m.int_or("expert_feed_forward_length", c.n_ff));
  }
  MOERAG_ASSIGN_OR_RETURN(c.n_expert_shared, m.int_or("expert_shared_count", c.arch == Arch::QWEN2MOE ? 1 : 0));
  int64_t shexp_default = c.n_ff_exp * c.n_expert_shared;
  MOERAG_ASSIGN_OR_RETURN(c.n_ff_shexp, m.int_or("expert_shared_feed_forward_length", shexp_default));
  if (c.arch == Arch::DEEPSEEK2) c.n_ff_shexp = shexp_default;  // deepseek2 has no such key
  MOERAG_ASSIGN_OR_RETURN(c.n_expert_groups, m.int_or("expert_group_count", 0));
  MOERAG_ASSIGN_OR_RETURN(c.n_group_used, m.int_or("expert_group_used_count", 0));
  MOERAG_ASSIGN_OR_RETURN(c.expert_weights_scale, m.float_or("expert_weights_scale", 1.0f));
  // Mixtral (llama) and qwen3moe renormalise the top-k weights, qwen2moe and olmoe do
  // not (llama.cpp hard-codes this per architecture); the key wins when present.
  bool norm_default = c.arch == Arch::LLAMA || c.arch == Arch::QWEN3MOE;
  MOERAG_ASSIGN_OR_RETURN(c.expert_weights_norm, m.bool_or("expert_weights_norm", norm_default));
  MOERAG_ASSIGN_OR_RETURN(int64_t gating, m.int_or("expert_gating_func", 1));
  if (gating != 1 && gating != 2) {
    return bad(m.key("expert_gating_func") + " = " + s(gating) + " is not 1 (softmax) or 2 (sigmoid)");
  }
  c.gating = static_cast<GatingFunc>(gating);
  return ok_status();
}

}  // namespace

const char* arch_name(Arch a) {
  for (const auto& n : kArchs) {
    if (n.arch == a) return n.name;
  }
  return "unknown";
}

std::optional<Arch> parse_arch(const std::string& name) {
  for (const auto& n : kArchs) {
    if (name == n.name) return n.arch;
  }
  return std::nullopt;
}

const std::vector<Arch>& all_archs() {
  static const std::vector<Arch> all = {Arch::LLAMA, Arch::QWEN2MOE, Arch::QWEN3MOE,
                                        Arch::OLMOE, Arch::DEEPSEEK2, Arch::BERT};
  return all;
}

Result<ModelConfig> ModelConfig::from_gguf(const GgufFile& f) {
  auto arch_str = f.get_str("general.architecture");
  if (!arch_str.ok()) return bad(arch_str.error().message + " (not a model file?)");
  auto arch = parse_arch(*arch_str);
  if (!arch) {
    return bad("unsupported architecture '" + *arch_str + "' (supported: llama, qwen2moe, qwen3moe, olmoe, deepseek2, bert)");
  }
  ModelConfig c;
  c.arch = *arch;
  c.name = f.find_str("general.name").value_or("");
  Meta m(f, *arch_str);
  MOERAG_ASSIGN_OR_RETURN(c.n_embd, m.req_int("embedding_length"));
  MOERAG_ASSIGN_OR_RETURN(c.n_layer, m.req_int("block_count"));
  MOERAG_ASSIGN_OR_RETURN(c.n_head, m.req_int("attention.head_count"));
  MOERAG_ASSIGN_OR_RETURN(c.n_head_kv, m.int_or("attention.head_count_kv", c.n_head));
  MOERAG_ASSIGN_OR_RETURN(c.n_ctx_train, m.int_or("context_length", 2048));
  MOERAG_ASSIGN_OR_RETURN(c.n_ff, m.int_or("feed_forward_length", 0));
  MOERAG_ASSIGN_OR_RETURN(c.n_vocab, vocab_size(f, m));
  if (c.n_head <= 0) return bad(m.key("attention.head_count") + " = " + s(c.n_head) + " must be positive");
  // deepseek2 files converted for split MLA keep the per-head q/k/v dims in the _mla keys.
  bool mla_keys = c.arch == Arch::DEEPSEEK2 && m.has("attention.key_length_mla");
  MOERAG_ASSIGN_OR_RETURN(c.head_dim_k, m.int_or(mla_keys ? "attention.key_length_mla" : "attention.key_length",
                                                 c.n_embd / c.n_head));
  MOERAG_ASSIGN_OR_RETURN(c.head_dim_v, m.int_or(mla_keys ? "attention.value_length_mla" : "attention.value_length",
                                                 c.head_dim_k));
  MOERAG_ASSIGN_OR_RETURN(c.sliding_window, m.int_or("attention.sliding_window", 0));
  MOERAG_TRY(read_rope(m, c));
  MOERAG_TRY(read_rope_scaling(f, m, c));
  MOERAG_TRY(read_experts(m, c));
  c.has_output = f.tensors().empty() || f.find_tensor("output.weight") != nullptr;

  switch (c.arch) {
    case Arch::LLAMA: c.rope_type = RopeType::NORM; break;
    case Arch::QWEN2MOE: c.rope_type = RopeType::NEOX; c.attn_bias = true; break;
    case Arch::QWEN3MOE: c.rope_type = RopeType::NEOX; c.qk_norm = true; break;
    case Arch::OLMOE: c.rope_type = RopeType::NEOX; c.qk_norm = true; break;
    case Arch::DEEPSEEK2: {
      c.rope_type = RopeType::NORM;
      MOERAG_ASSIGN_OR_RETURN(c.n_layer_dense_lead, m.int_or("leading_dense_block_count", 0));
      MOERAG_ASSIGN_OR_RETURN(c.q_lora_rank, m.int_or("attention.q_lora_rank", 0));
      MOERAG_ASSIGN_OR_RETURN(c.kv_lora_rank, m.req_int("attention.kv_lora_rank"));
      MOERAG_ASSIGN_OR_RETURN(c.n_rot, m.req_int("rope.dimension_count"));
      c.mla_split_kv_b = f.find_tensor("blk.0.attn_k_b.weight") != nullptr;
      if (mla_keys) c.n_head_kv = c.n_head;  // head_count_kv = 1 there describes the latent cache, not q/k heads
      break;
    }
    case Arch::BERT: {
      c.rope_type = RopeType::NONE;
      c.n_rot = 0;
      c.attn_bias = true;
      c.has_output = false;
      MOERAG_ASSIGN_OR_RETURN(c.norm_eps, m.float_or("attention.layer_norm_epsilon", 1e-12f));
      MOERAG_ASSIGN_OR_RETURN(c.n_token_types, [&]() -> Result<int64_t> {
        if (!f.has("tokenizer.ggml.token_type_count")) return int64_t{2};
        return f.get_i64("tokenizer.ggml.token_type_count");
      }());
      MOERAG_ASSIGN_OR_RETURN(int64_t pool, m.int_or("pooling_type", 0));
      c.pooling_type = static_cast<uint32_t>(pool);
      break;
    }
  }
  if (c.arch != Arch::BERT) {
    MOERAG_ASSIGN_OR_RETURN(c.norm_eps, m.float_or("attention.layer_norm_rms_epsilon", 1e-5f));
  }
  MOERAG_ASSIGN_OR_RETURN(c.causal, m.bool_or("attention.causal", c.arch != Arch::BERT));
  MOERAG_TRY(c.check());
  return c;
}

Status ModelConfig::check() const {
  const std::string a = std::string(arch_name(arch)) + ".";
  auto range = [&](const char* key, int64_t v, int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi) return bad(a + key + " = " + s(v) + " is outside " + s(lo) + ".." + s(hi));
    return ok_status();
  };
  MOERAG_TRY(range("embedding_length", n_embd, 1, 1 << 20));
  MOERAG_TRY(range("block_count", n_layer, 1, 4096));
  MOERAG_TRY(range("attention.head_count", n_head, 1, 4096));
  MOERAG_TRY(range("attention.head_count_kv", n_head_kv, 1, n_head));
  MOERAG_TRY(range("vocab_size", n_vocab, 1, 1 << 24));
  MOERAG_TRY(range("context_length", n_ctx_train, 1, int64_t{1} << 24));
  MOERAG_TRY(range("attention.key_length", head_dim_k, 1, 1 << 16));
  MOERAG_TRY(range("attention.value_length", head_dim_v, 1, 1 << 16));
  MOERAG_TRY(range("feed_forward_length", n_ff, 0, 1 << 24));
  if (n_head % n_head_kv != 0) {
    return bad(a + "attention.head_count = " + s(n_head) + " is not a multiple of " + a + "attention.head_count_kv = " +
               s(n_head_kv));
  }
  if (rope_type != RopeType::NONE && (n_rot <= 0 || n_rot > head_dim_k || n_rot % 2 != 0)) {
    return bad(a + "rope.dimension_count = " + s(n_rot) + " must be even and in 2.." + s(head_dim_k));
  }
  MOERAG_TRY(range("leading_dense_block_count", n_layer_dense_lead, 0, n_layer));
  bool has_dense = n_expert == 0 || n_layer_dense_lead > 0;
  if (has_dense && n_ff <= 0) return bad("missing or zero " + a + "feed_forward_length (needed by dense layers)");
  if (n_expert > 0) {
    MOERAG_TRY(range("expert_count", n_expert, 1, 4096));
    if (n_expert_used < 1 || n_expert_used > n_expert) {
      return bad(a + "expert_used_count = " + s(n_expert_used) + " must be in 1.." + a + "expert_count = " + s(n_expert));
    }
    MOERAG_TRY(range("expert_feed_forward_length", n_ff_exp, 1, 1 << 24));
    MOERAG_TRY(range("expert_shared_count", n_expert_shared, 0, n_expert));
    if (n_expert_shared > 0) {
      MOERAG_TRY(range("expert_shared_feed_forward_length", n_ff_shexp, 1, 1 << 24));
    }
    if (n_expert_groups > 0) {
      if (n_expert % n_expert_groups != 0) {
        return bad(a + "expert_count = " + s(n_expert) + " is not a multiple of " + a + "expert_group_count = " +
                   s(n_expert_groups));
      }
      MOERAG_TRY(range("expert_group_used_count", n_group_used, 1, n_expert_groups));
      if (n_expert_used > n_group_used * (n_expert / n_expert_groups)) {
        return bad(a + "expert_used_count = " + s(n_expert_used) + " exceeds the experts in " +
                   s(n_group_used) + " used groups");
      }
    }
  } else if (arch == Arch::QWEN2MOE || arch == Arch::QWEN3MOE || arch == Arch::OLMOE) {
    return bad("missing " + a + "expert_count: " + arch_name(arch) + " is a mixture-of-experts architecture");
  }
  if (arch == Arch::DEEPSEEK2) {
    MOERAG_TRY(range("attention.kv_lora_rank", kv_lora_rank, 1, 1 << 16));
    MOERAG_TRY(range("attention.q_lora_rank", q_lora_rank, 0, 1 << 16));
    if (n_rot >= head_dim_k) {
      return bad(a + "rope.dimension_count = " + s(n_rot) + " must be below the key length " + s(head_dim_k) +
                 " (MLA heads have a no-rope part)");
    }
  }
  if (arch == Arch::BERT) MOERAG_TRY(range("token_type_count", n_token_types, 1, 1 << 16));
  return ok_status();
}

void ModelConfig::write_gguf(GgufWriter& w) const {
  const std::string a = std::string(arch_name(arch)) + ".";
  auto u32 = [&](const std::string& k, int64_t v) { w.set_u32(a + k, static_cast<uint32_t>(v)); };
  w.set_str("general.architecture", arch_name(arch));
  if (!name.empty()) w.set_str("general.name", name);
  u32("vocab_size", n_vocab);
  u32("context_length", n_ctx_train);
  u32("embedding_length", n_embd);
  u32("block_count", n_layer);
  if (n_ff > 0) u32("feed_forward_length", n_ff);
  u32("attention.head_count", n_head);
  if (arch != Arch::BERT) u32("attention.head_count_kv", n_head_kv);
  if (arch == Arch::BERT) {
    w.set_f32(a + "attention.layer_norm_epsilon", norm_eps);
    w.set_bool(a + "attention.causal", causal);
    u32("pooling_type", pooling_type);
    w.set_u32("tokenizer.ggml.token_type_count", static_cast<uint32_t>(n_token_types));
  } else {
    w.set_f32(a + "attention.layer_norm_rms_epsilon", norm_eps);
    w.set_f32(a + "rope.freq_base", rope_freq_base);
    u32("rope.dimension_count", n_rot);
  }
  if (head_dim_k != n_embd / n_head || arch == Arch::DEEPSEEK2 || arch == Arch::QWEN3MOE) {
    u32("attention.key_length", head_dim_k);
    u32("attention.value_length", head_dim_v);
  }
  if (sliding_window > 0) u32("attention.sliding_window", sliding_window);
  if (rope_scaling != RopeScaling::NONE) {
    w.set_str(a + "rope.scaling.type", rope_scaling == RopeScaling::YARN ? "yarn" : "linear");
    w.set_f32(a + "rope.scaling.factor", rope_scaling_factor);
    u32("rope.scaling.original_context_length", rope_orig_ctx);
    if (rope_yarn_log_mul != 0) w.set_f32(a + "rope.scaling.yarn_log_multiplier", rope_yarn_log_mul);
  }
  if (n_expert > 0) {
    u32("expert_count", n_expert);
    u32("expert_used_count", n_expert_used);
    if (arch != Arch::LLAMA && arch != Arch::OLMOE) u32("expert_feed_forward_length", n_ff_exp);
    if (arch == Arch::QWEN2MOE) u32("expert_shared_feed_forward_length", n_ff_shexp);
    if (arch == Arch::DEEPSEEK2) {
      u32("expert_shared_count", n_expert_shared);
      w.set_f32(a + "expert_weights_scale", expert_weights_scale);
      w.set_bool(a + "expert_weights_norm", expert_weights_norm);
      u32("expert_gating_func", static_cast<int64_t>(gating));
      if (n_expert_groups > 0) {
        u32("expert_group_count", n_expert_groups);
        u32("expert_group_used_count", n_group_used);
      }
    }
  }
  if (arch == Arch::DEEPSEEK2) {
    u32("leading_dense_block_count", n_layer_dense_lead);
    if (q_lora_rank > 0) u32("attention.q_lora_rank", q_lora_rank);
    u32("attention.kv_lora_rank", kv_lora_rank);
  }
}

uint64_t ModelConfig::n_params() const {
  uint64_t n = 0;
  for (const auto& t : expected_tensors(*this)) {
    if (!t.required && t.name != "output.weight") continue;
    if (t.name == "output.weight" && !has_output) continue;
    uint64_t e = 1;
    for (int64_t d : t.shape) e *= static_cast<uint64_t>(d);
    n += e;
  }
  return n;
}

}  // namespace moerag::engine
