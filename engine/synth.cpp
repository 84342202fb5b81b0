// Random-weight model synthesis: per-architecture default sizes, deterministic
// per-row random values (seeded by seed, tensor name and row, so any thread count
// gives the same bytes), and lazy tensors generated and quantised in parallel while
// the writer streams them to disk. The tokenizer part is in synth_vocab.cpp.
#include "engine/synth.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>

#include "core/thread_pool.h"

namespace moerag::engine {
namespace {

Error bad(std::string m) { return Error(ErrorCode::INVALID_INPUT, std::move(m)); }

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
// FFN widths: multiples of 256 when large enough (so K-quants apply), else of 32.
int64_t ff_round(int64_t v) {
  v = std::max<int64_t>(v, 32);
  return v >= 256 ? round_up(v, 256) : round_up(v, 32);
}
int64_t pick(int64_t given, int64_t fallback) { return given >= 0 ? given : fallback; }

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Approximately standard normal: the sum of four 16-bit uniforms (Irwin-Hall),
// centred and scaled to unit variance. Cheap enough for multi-GB files.
float approx_normal(uint64_t& state) {
  uint64_t r = splitmix64(state);
  float sum = 0;
  for (int k = 0; k < 4; ++k, r >>= 16) sum += (static_cast<float>(r & 0xffff) + 0.5f) * (1.0f / 65536.0f);
  return (sum - 2.0f) * 1.7320508f;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// llama.cpp's LLAMA_FTYPE for a file whose big matrices are `t`.
uint32_t file_type_for(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q4_1: return 3;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q5_0: return 8;
    case GgmlType::Q4_K: return 14;  // Q4_K_S: every matrix Q4_K
    case GgmlType::Q6_K: return 18;
    case GgmlType::BF16: return 32;
    default: return 0;
  }
}

void set_moe_defaults(const SynthOptions& o, ModelConfig& c, int64_t n_expert_default) {
  c.n_expert = pick(o.n_expert, n_expert_default);
  c.n_expert_used = c.n_expert > 0 ? std::min(c.n_expert, pick(o.n_expert_used, 2)) : 0;
  if (o.n_expert_used > 0) c.n_expert_used = o.n_expert_used;
}

}  // namespace

Result<ModelConfig> synth_config(const SynthOptions& o) {
  if (o.n_embd <= 0 || o.n_layer <= 0) return bad("--dim and --layers must be positive");
  ModelConfig c;
  c.arch = o.arch;
  c.name = o.name.empty() ? std::string("synth-") + arch_name(o.arch) : o.name;
  const int64_t D = o.n_embd;
  c.n_embd = D;
  c.n_layer = o.n_layer;
  c.n_ctx_train = pick(o.n_ctx, o.arch == Arch::BERT ? 512 : 2048);
  c.n_vocab = o.n_vocab > 0 ? o.n_vocab : 512;
  c.n_head = pick(o.n_head, std::max<int64_t>(1, D / 64));
  if (c.n_head <= 0) return bad("--heads must be positive");
  c.norm_eps = 1e-6f;
  auto plain_heads = [&]() -> Status {
    if (D % c.n_head != 0) return bad("--dim " + std::to_string(D) + " is not a multiple of --heads " + std::to_string(c.n_head));
    c.head_dim_k = c.head_dim_v = D / c.n_head;
    c.n_rot = c.head_dim_k;
    return ok_status();
  };
  int64_t gqa_kv = c.n_head % 4 == 0 ? c.n_head / 4 : c.n_head;
  switch (o.arch) {
    case Arch::LLAMA:
      MOERAG_TRY(plain_heads());
      c.n_head_kv = pick(o.n_head_kv, gqa_kv);
      c.norm_eps = 1e-5f;
      c.n_ff = o.n_ff > 0 ? o.n_ff : ff_round(8 * D / 3);
      set_moe_defaults(o, c, 0);
      c.n_ff_exp = c.n_expert > 0 ? c.n_ff : 0;
      c.expert_weights_norm = true;
      break;
    case Arch::QWEN2MOE:
      MOERAG_TRY(plain_heads());
      c.n_head_kv = pick(o.n_head_kv, c.n_head);
      c.rope_type = RopeType::NEOX;
      c.rope_freq_base = 1000000.0f;
      c.attn_bias = true;
      set_moe_defaults(o, c, 8);
      if (o.n_expert_shared >= 0 && o.n_expert_shared != 1) return bad("qwen2moe has exactly one shared expert");
      c.n_expert_shared = 1;
      c.n_ff_exp = o.n_ff > 0 ? o.n_ff : ff_round(D * 11 / 16);
      c.n_ff_shexp = 4 * c.n_ff_exp;
      c.n_ff = c.n_ff_shexp;
      break;
    case Arch::QWEN3MOE:
      // Like Qwen3-30B-A3B: 64-dim heads whose total width is twice n_embd.
      c.n_head = pick(o.n_head, std::max<int64_t>(1, 2 * D / 64));
      c.head_dim_k = c.head_dim_v = D >= 64 ? 64 : D;
      c.n_rot = c.head_dim_k;
      c.n_head_kv = pick(o.n_head_kv, c.n_head % 4 == 0 ? c.n_head / 4 : c.n_head);
      c.rope_type = RopeType::NEOX;
      c.rope_freq_base = 1000000.0f;
      c.qk_norm = true;
      set_moe_defaults(o, c, 8);
      c.n_ff_exp = o.n_ff > 0 ? o.n_ff : ff_round(3 * D / 8);
      c.n_ff = ff_round(3 * D);
      c.expert_weights_norm = true;
      break;
    case Arch::OLMOE:
      MOERAG_TRY(plain_heads());
      c.n_head_kv = pick(o.n_head_kv, c.n_head);
      c.rope_type = RopeType::NEOX;
      c.qk_norm = true;
      c.norm_eps = 1e-5f;
      set_moe_defaults(o, c, 8);
      c.n_ff = c.n_ff_exp = o.n_ff > 0 ? o.n_ff : ff_round(D / 2);
      break;
    case Arch::DEEPSEEK2:
      // DeepSeek-V2-Lite proportions: q/k heads of 64 no-rope + 32 rope dims, v heads
      // of 64, a latent of n_embd / 4, two shared experts, one leading dense layer.
      c.n_head_kv = c.n_head;
      c.n_rot = 32;
      c.head_dim_k = 96;
      c.head_dim_v = 64;
      c.kv_lora_rank = std::max<int64_t>(32, round_up(D / 4, 32));
      c.q_lora_rank = pick(o.q_lora_rank, 0);
      set_moe_defaults(o, c, 8);
      c.n_expert_shared = pick(o.n_expert_shared, 2);
      c.n_ff_exp = o.n_ff > 0 ? o.n_ff : ff_round(D * 11 / 16);
      c.n_ff_shexp = c.n_ff_exp * c.n_expert_shared;
      c.n_ff = ff_round(8 * D / 3);
      c.n_layer_dense_lead = c.n_layer > 1 ? 1 : 0;
      c.rope_scaling = RopeScaling::YARN;
      c.rope_scaling_factor = 4.0f;
      c.rope_orig_ctx = std::max<int64_t>(1, c.n_ctx_train / 4);
      c.rope_yarn_log_mul = 0.0707f;
      if (o.sigmoid_gating) {  // DeepSeek-V3 routing
        c.gating = GatingFunc::SIGMOID;
        c.expert_weights_norm = true;
        c.expert_weights_scale = 2.5f;
        if (c.n_expert % 4 == 0 && c.n_expert_used <= 2 * (c.n_expert / 4)) {
          c.n_expert_groups = 4;
          c.n_group_used = 2;
        }
      }
      break;
    case Arch::BERT:
      MOERAG_TRY(plain_heads());
      c.n_head_kv = c.n_head;
      c.n_ff = o.n_ff > 0 ? o.n_ff : 4 * D;
      c.rope_type = RopeType::NONE;
      c.n_rot = 0;
      c.causal = false;
      c.attn_bias = true;
      c.has_output = false;
      c.norm_eps = 1e-12f;
      c.n_token_types = 2;
      c.pooling_type = 2;  // CLS
      break;
  }
  if (o.arch != Arch::QWEN2MOE && o.arch != Arch::DEEPSEEK2 && o.n_expert_shared > 0) {
    return bad(std::string(arch_name(o.arch)) + " has no shared experts (--shared-experts)");
  }
  MOERAG_TRY(c.check());
  return c;
}

GgmlType storage_type(const TensorSpec& spec, GgmlType want) {
  if (spec.role == TensorRole::NORM || spec.role == TensorRole::BIAS || spec.role == TensorRole::ROUTER ||
      spec.shape.size() < 2) {
    return GgmlType::F32;
  }
  const TypeTraits& t = type_traits(want);
  int64_t row = spec.shape.back();
  if (row % t.block_size == 0) return want;
  if (t.block_size == QK_K && row % 32 == 0) return want == GgmlType::Q4_K ? GgmlType::Q5_0 : GgmlType::Q8_0;
  return GgmlType::F16;
}

void synth_row(const ModelConfig& c, const TensorSpec& spec, uint64_t seed, int64_t row, float* out) {
  uint64_t state = seed ^ fnv1a(spec.name) ^ (static_cast<uint64_t>(row) * 0xd1b54a32d192ed03ull);
  splitmix64(state);
  const int64_t n = spec.shape.back();
  float mean = 0, stddev = 1;
  switch (spec.role) {
    case TensorRole::EMBEDDING: stddev = 1.0f; break;
    case TensorRole::NORM: mean = 1.0f; stddev = 0.05f; break;
    case TensorRole::BIAS: stddev = 0.02f; break;
    case TensorRole::ROUTER:
    case TensorRole::MATRIX:
      stddev = 1.0f / std::sqrt(static_cast<float>(spec.fan_in));
      // Projections back into the residual stream are scaled down with depth
      // (GPT-2 style) so activations stay O(1) through many layers.
      if (ends_with(spec.name, "attn_output.weight") || spec.name.find("ffn_down") != std::string::npos) {
        stddev /= std::sqrt(2.0f * static_cast<float>(c.n_layer));
      }
      break;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = mean + stddev * approx_normal(state);
}

Result<SynthSummary> build_synth(const SynthOptions& o, GgufWriter& w, const SynthProgress& progress) {
  MOERAG_ASSIGN_OR_RETURN(ModelConfig c, synth_config(o));
  c.write_gguf(w);
  w.set_u32("general.file_type", file_type_for(o.type));
  if (type_traits(o.type).quantized) w.set_u32("general.quantization_version", 2);
  MOERAG_ASSIGN_OR_RETURN(c.n_vocab, synth_vocab(o, w));
  MOERAG_TRY(c.check());
  c.write_gguf(w);  // again, now with the final vocab size (values are replaced in place)

  if (c.n_params() > (uint64_t{1} << 40)) {
    return bad("a model of " + std::to_string(c.n_params()) + " parameters is too large to synthesise");
  }
  auto pool = std::make_shared<ThreadPool>(o.n_threads);
  auto done = std::make_shared<std::atomic<size_t>>(0);
  SynthSummary summary;
  std::vector<TensorSpec> specs;
  for (auto& s : expected_tensors(c)) {
    if (s.required || s.name == "output.weight") specs.push_back(std::move(s));
  }
  for (const auto& spec : specs) {
    GgmlType type = storage_type(spec, o.type);
    uint64_t n = 1;
    for (int64_t d : spec.shape) n *= static_cast<uint64_t>(d);
    summary.n_params += n;
    const size_t total = specs.size();
    auto fill = [c, spec, type, pool, done, total, progress, seed = o.seed](uint8_t* dst) -> Status {
      const int64_t row_len = spec.shape.back();
      const int64_t rows = static_cast<int64_t>(std::max<uint64_t>(1, [&] {
        uint64_t r = 1;
        for (size_t i = 0; i + 1 < spec.shape.size(); ++i) r *= static_cast<uint64_t>(spec.shape[i]);
        return r;
      }()));
      const uint64_t row_bytes = row_size(type, row_len).value();
      std::atomic<bool> failed{false};
      pool->parallel_for(static_cast<size_t>(rows), [&](size_t begin, size_t end) {
        std::vector<float> buf(static_cast<size_t>(row_len));
        for (size_t r = begin; r < end; ++r) {
          synth_row(c, spec, seed, static_cast<int64_t>(r), buf.data());
          if (!quantize_row(type, buf.data(), dst + r * row_bytes, row_len).ok()) failed = true;
        }
      });
      if (failed) return Error(ErrorCode::INTERNAL, "quantisation to " + type_name(type) + " failed");
      size_t d = ++*done;
      if (progress) progress(d, total);
      return ok_status();
    };
    MOERAG_TRY(w.add_tensor_lazy(spec.name, type, spec.shape, fill));
  }
  summary.config = c;
  summary.n_tensors = specs.size();
  return summary;
}

Result<SynthSummary> synth_model(const SynthOptions& o, const std::string& path, const SynthProgress& progress) {
  GgufWriter w;
  MOERAG_ASSIGN_OR_RETURN(SynthSummary summary, build_synth(o, w, progress));
  MOERAG_TRY(w.write(path));
  std::error_code ec;
  summary.file_bytes = std::filesystem::file_size(path, ec);
  return summary;
}

}  // namespace moerag::engine
