// `moerag model info|synth|quantize`: inspect a GGUF (hyper-parameters, tensor table,
// tokenizer, chat template), write a random-weight model of any supported
// architecture, and re-quantise a model's weight matrices.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/thread_pool.h"
#include "engine/chat_template.h"
#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "engine/model_config.h"
#include "engine/synth.h"

namespace moerag::cli {
namespace {

using namespace moerag::engine;
using json = nlohmann::json;

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string millions(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f M", static_cast<double>(n) / 1e6);
  return buf;
}

const char* rope_name(RopeType t) {
  return t == RopeType::NONE ? "none" : t == RopeType::NORM ? "norm" : "neox";
}
const char* scaling_name(RopeScaling s) {
  return s == RopeScaling::NONE ? "none" : s == RopeScaling::LINEAR ? "linear" : "yarn";
}

json config_json(const ModelConfig& c) {
  json j = {{"arch", arch_name(c.arch)},          {"n_vocab", c.n_vocab},
            {"n_ctx_train", c.n_ctx_train},       {"n_embd", c.n_embd},
            {"n_layer", c.n_layer},               {"n_ff", c.n_ff},
            {"n_head", c.n_head},                 {"n_head_kv", c.n_head_kv},
            {"head_dim_k", c.head_dim_k},         {"head_dim_v", c.head_dim_v},
            {"norm_eps", c.norm_eps},             {"causal", c.causal},
            {"rope_type", rope_name(c.rope_type)}, {"n_rot", c.n_rot},
            {"rope_freq_base", c.rope_freq_base}, {"rope_scaling", scaling_name(c.rope_scaling)},
            {"rope_scaling_factor", c.rope_scaling_factor}, {"n_params", c.n_params()}};
  if (c.n_expert > 0) {
    j["moe"] = {{"n_expert", c.n_expert},
                {"n_expert_used", c.n_expert_used},
                {"n_expert_shared", c.n_expert_shared},
                {"n_ff_exp", c.n_ff_exp},
                {"n_ff_shexp", c.n_ff_shexp},
                {"n_layer_dense_lead", c.n_layer_dense_lead},
                {"n_expert_groups", c.n_expert_groups},
                {"n_group_used", c.n_group_used},
                {"gating", c.gating == GatingFunc::SOFTMAX ? "softmax" : "sigmoid"},
                {"expert_weights_norm", c.expert_weights_norm},
                {"expert_weights_scale", c.expert_weights_scale}};
  }
  if (c.arch == Arch::DEEPSEEK2) {
    j["mla"] = {{"q_lora_rank", c.q_lora_rank}, {"kv_lora_rank", c.kv_lora_rank}, {"split_kv_b", c.mla_split_kv_b}};
  }
  return j;
}

void print_config(const ModelConfig& c) {
  std::printf("hyper-parameters:\n");
  std::printf("  n_vocab %lld, n_ctx_train %lld, n_embd %lld, n_layer %lld, n_ff %lld\n", (long long)c.n_vocab,
              (long long)c.n_ctx_train, (long long)c.n_embd, (long long)c.n_layer, (long long)c.n_ff);
  std::printf("  attention: n_head %lld, n_head_kv %lld, head_dim k %lld / v %lld, norm_eps %g%s\n",
              (long long)c.n_head, (long long)c.n_head_kv, (long long)c.head_dim_k, (long long)c.head_dim_v,
              c.norm_eps, c.causal ? "" : ", bidirectional");
  std::printf("  rope: %s, n_rot %lld, freq_base %g, scaling %s (x%g)\n", rope_name(c.rope_type), (long long)c.n_rot,
              c.rope_freq_base, scaling_name(c.rope_scaling), c.rope_scaling_factor);
  if (c.n_expert > 0) {
    std::printf("  experts: %lld (top-%lld, %s%s), n_ff_exp %lld, shared %lld (n_ff %lld), dense lead layers %lld",
                (long long)c.n_expert, (long long)c.n_expert_used,
                c.gating == GatingFunc::SOFTMAX ? "softmax" : "sigmoid", c.expert_weights_norm ? ", renormalised" : "",
                (long long)c.n_ff_exp, (long long)c.n_expert_shared, (long long)c.n_ff_shexp,
                (long long)c.n_layer_dense_lead);
    if (c.n_expert_groups > 0) std::printf(", groups %lld (use %lld)", (long long)c.n_expert_groups, (long long)c.n_group_used);
    std::printf("\n");
  }
  if (c.arch == Arch::DEEPSEEK2) {
    std::printf("  mla: q_lora_rank %lld, kv_lora_rank %lld, kv_b %s\n", (long long)c.q_lora_rank,
                (long long)c.kv_lora_rank, c.mla_split_kv_b ? "split (attn_k_b/attn_v_b)" : "attn_kv_b");
  }
  std::printf("  parameters: %s\n", millions(c.n_params()).c_str());
}

struct InfoArgs {
  std::string path;
  bool json = false;
  bool metadata = false;
};

int run_info(const InfoArgs& a) {
  auto opened = GgufFile::open(a.path);
  if (!opened.ok()) return fail(opened.error().message);
  const GgufFile& f = **opened;
  auto config = ModelConfig::from_gguf(f);
  std::string validation = "ok";
  if (config.ok()) {
    Status v = validate_tensors(*config, f);
    if (!v.ok()) validation = v.error().message;
  }
  const std::string tok_model = f.find_str("tokenizer.ggml.model").value_or("");
  const GgufArray* tokens = f.get_arr("tokenizer.ggml.tokens");
  const GgufArray* merges = f.get_arr("tokenizer.ggml.merges");
  const auto jinja = f.find_str("tokenizer.chat_template");
  std::string template_name;
  if (jinja) {
    auto t = ChatTemplate::detect(*jinja);
    template_name = t.ok() ? t->name() : "unrecognised";
  }
  std::map<std::string, std::pair<int, uint64_t>> by_type;  // type -> (tensors, bytes)
  for (const auto& t : f.tensors()) {
    auto& e = by_type[type_name(t.type)];
    e.first++;
    e.second += t.n_bytes;
  }

  if (a.json) {
    json j = {{"file", a.path}, {"size_bytes", f.file_size()}, {"gguf_version", f.version()},
              {"alignment", f.alignment()}, {"architecture", f.architecture()},
              {"name", f.find_str("general.name").value_or("")}, {"tensor_bytes", f.tensor_bytes()}};
    if (config.ok()) {
      j["config"] = config_json(*config);
      j["validation"] = validation;
    } else {
      j["config_error"] = config.error().message;
    }
    j["tokenizer"] = {{"model", tok_model},
                      {"pre", f.find_str("tokenizer.ggml.pre").value_or("")},
                      {"n_tokens", tokens ? tokens->size() : 0},
                      {"n_merges", merges ? merges->size() : 0}};
    j["chat_template"] = {{"present", jinja.has_value()}, {"name", template_name}};
    j["tensors"] = json::array();
    for (const auto& t : f.tensors()) {
      j["tensors"].push_back({{"name", t.name}, {"type", type_name(t.type)}, {"shape", t.shape},
                              {"bytes", t.n_bytes}, {"offset", t.offset}});
    }
    if (a.metadata) {
      j["metadata"] = json::object();
      for (const auto& kv : f.metadata()) j["metadata"][kv.key] = value_to_string(kv.value);
    }
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::printf("file: %s (%s, GGUF v%u, alignment %llu)\n", a.path.c_str(), mib(f.file_size()).c_str(), f.version(),
              (unsigned long long)f.alignment());
  std::printf("architecture: %s%s\n", f.architecture().empty() ? "(none)" : f.architecture().c_str(),
              f.has("general.name") ? (" \"" + *f.find_str("general.name") + "\"").c_str() : "");
  if (config.ok()) {
    print_config(*config);
    std::printf("tensor check: %s\n", validation.c_str());
  } else {
    std::printf("hyper-parameters: not a supported model (%s)\n", config.error().message.c_str());
  }
  std::printf("tokenizer: %s", tok_model.empty() ? "(none)" : tok_model.c_str());
  if (auto pre = f.find_str("tokenizer.ggml.pre")) std::printf(" (pre %s)", pre->c_str());
  std::printf(", %zu tokens, %zu merges\n", tokens ? tokens->size() : 0, merges ? merges->size() : 0);
  std::printf("chat template: %s\n", jinja ? template_name.c_str() : "(none)");
  std::printf("tensors: %zu, %s of data\n", f.tensors().size(), mib(f.tensor_bytes()).c_str());
  for (const auto& [name, e] : by_type) std::printf("  %-8s %5d tensors  %s\n", name.c_str(), e.first, mib(e.second).c_str());
  for (const auto& t : f.tensors()) {
    std::printf("  %-36s %-6s %-24s %12llu\n", t.name.c_str(), type_name(t.type).c_str(), t.shape_string().c_str(),
                (unsigned long long)t.n_bytes);
  }
  if (a.metadata) {
    std::printf("metadata:\n");
    for (const auto& kv : f.metadata()) {
      std::printf("  %-48s %-6s %s\n", kv.key.c_str(), gguf_type_name(value_type(kv.value)),
                  value_to_string(kv.value).c_str());
    }
  }
  return 0;
}

struct SynthArgs {
  SynthOptions o;
  std::string arch = "llama", type = "f32", out;
};

int run_synth(SynthArgs& a) {
  auto arch = parse_arch(a.arch);
  if (!arch) return fail("unknown --arch '" + a.arch + "' (llama, qwen2moe, qwen3moe, olmoe, deepseek2, bert)", 2);
  auto type = parse_type_name(a.type);
  if (!type || !type_traits(*type).can_quantize) return fail("unsupported --type '" + a.type + "' (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q4_k, q6_k)", 2);
  a.o.arch = *arch;
  a.o.type = *type;
  const bool tty = ::isatty(2);
  auto t0 = std::chrono::steady_clock::now();
  auto s = synth_model(a.o, a.out, [tty](size_t done, size_t total) {
    if (tty) std::fprintf(stderr, "\rsynth: %zu/%zu tensors", done, total);
  });
  if (tty) std::fprintf(stderr, "\n");
  if (!s.ok()) return fail(s.error().message, s.error().code == ErrorCode::INVALID_INPUT ? 2 : 1);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s: %s, %lld layers, n_embd %lld, %zu tensors, %s parameters, %s in %.1f s\n", a.out.c_str(),
              arch_name(*arch), (long long)s->config.n_layer, (long long)s->config.n_embd, s->n_tensors,
              millions(s->n_params).c_str(), mib(s->file_bytes).c_str(), secs);
  return 0;
}

struct QuantizeArgs {
  std::string in, out, type;
  size_t threads = 0;
};

// Whether a tensor of a model is a weight matrix worth quantising: 2-D or more, not a
// norm, not a router (their few values steer every token), not a bias.
bool quantizable(const GgufTensor& t) {
  if (t.shape.size() < 2) return false;
  for (const char* keep : {"norm", "ffn_gate_inp", "exp_probs_b", "position_embd", "token_types"}) {
    if (t.name.find(keep) != std::string::npos) return false;
  }
  return t.name.size() > 7 && t.name.compare(t.name.size() - 7, 7, ".weight") == 0;
}

int run_quantize(const QuantizeArgs& a) {
  auto want = parse_type_name(a.type);
  if (!want || !type_traits(*want).quantized || !type_traits(*want).can_quantize) {
    return fail("unsupported TYPE '" + a.type + "' (q8_0, q4_0, q4_1, q5_0, q4_k, q6_k)", 2);
  }
  auto opened = GgufFile::open(a.in);
  if (!opened.ok()) return fail(opened.error().message);
  const GgufFile& f = **opened;
  GgufWriter w(static_cast<uint32_t>(f.alignment()));
  for (const auto& kv : f.metadata()) w.set(kv.key, kv.value);
  w.set_u32("general.quantization_version", 2);
  auto pool = std::make_shared<ThreadPool>(a.threads);
  const size_t total = f.tensors().size();
  size_t index = 0;
  for (const auto& t : f.tensors()) {
    ++index;
    TensorSpec spec{t.name, t.shape, quantizable(t) ? TensorRole::MATRIX : TensorRole::NORM, true, t.row_length()};
    GgmlType to = quantizable(t) && type_traits(t.type).can_dequantize ? storage_type(spec, *want) : t.type;
    const GgufTensor* src = &t;
    auto fill = [src, to, pool, index, total](uint8_t* dst) -> Status {
      std::fprintf(stderr, "[%zu/%zu] %-36s %-5s -> %-5s %s\n", index, total, src->name.c_str(),
                   type_name(src->type).c_str(), type_name(to).c_str(), src->shape_string().c_str());
      if (to == src->type) {
        std::memcpy(dst, src->data, src->n_bytes);
        return ok_status();
      }
      const int64_t n = src->row_length();
      const uint64_t out_row = row_size(to, n).value();
      std::atomic<bool> failed{false};
      pool->parallel_for(static_cast<size_t>(src->n_rows()), [&](size_t b, size_t e) {
        std::vector<float> row(static_cast<size_t>(n));
        for (size_t r = b; r < e; ++r) {
          if (!dequantize_row(src->type, src->data + r * src->row_bytes(), row.data(), n).ok() ||
              !quantize_row(to, row.data(), dst + r * out_row, n).ok()) {
            failed = true;
          }
        }
      });
      if (failed) return Error(ErrorCode::INTERNAL, "conversion " + type_name(src->type) + " -> " + type_name(to) + " failed");
      return ok_status();
    };
    Status st = w.add_tensor_lazy(t.name, to, t.shape, fill);
    if (!st.ok()) return fail(st.error().message);
  }
  auto t0 = std::chrono::steady_clock::now();
  Status st = w.write(a.out);
  if (!st.ok()) return fail(st.error().message);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s: %s -> %s of tensor data (%s) in %.1f s\n", a.out.c_str(), mib(f.tensor_bytes()).c_str(),
              mib(w.tensor_bytes()).c_str(), type_name(*want).c_str(), secs);
  return 0;
}

void add_synth(CLI::App* model) {
  auto* sub = model->add_subcommand("synth", "Write a random-weight GGUF of any supported architecture and size");
  sub->footer(
      "The file has the tensor names, shapes and metadata keys of real converted models and a complete\n"
      "tokenizer (a small synthetic one of the architecture's kind, or --vocab-from a vocab GGUF). It is\n"
      "deterministic for a --seed. Norms, biases and routers stay F32; matrices whose rows do not fit the\n"
      "--type's block fall back (q4_k -> q5_0, others -> q8_0 or f16), as llama.cpp's quantizer does.\n"
      "Example: moerag model synth m.gguf --arch qwen3moe --layers 4 --dim 512 --experts 16 --type q4_k");
  auto a = std::make_shared<SynthArgs>();
  sub->add_option("OUT", a->out, "Output .gguf path (written atomically)")->required();
  sub->add_option("--arch", a->arch, "llama | qwen2moe | qwen3moe | olmoe | deepseek2 | bert")->capture_default_str();
  sub->add_option("--layers", a->o.n_layer, "Number of blocks")->capture_default_str();
  sub->add_option("--dim", a->o.n_embd, "Embedding width n_embd")->capture_default_str();
  sub->add_option("--experts", a->o.n_expert, "Routed experts (llama: 0 = dense, the default; MoE archs: 8)");
  sub->add_option("--top-k", a->o.n_expert_used, "Experts used per token (default 2)");
  sub->add_option("--shared-experts", a->o.n_expert_shared, "Shared experts (deepseek2: default 2; qwen2moe: always 1)");
  sub->add_option("--ff", a->o.n_ff, "FFN width: each expert's for MoE archs, else the dense FFN's");
  sub->add_option("--heads", a->o.n_head, "Attention heads (default n_embd / 64)");
  sub->add_option("--kv-heads", a->o.n_head_kv, "Key/value heads for grouped-query attention");
  sub->add_option("--vocab", a->o.n_vocab, "Synthetic vocabulary size (default 512)");
  sub->add_option("--vocab-from", a->o.vocab_from, "Copy the tokenizer.* metadata from this GGUF (e.g. a ggml-vocab-*.gguf)");
  sub->add_option("--ctx", a->o.n_ctx, "Training context length (default 2048, bert 512)");
  sub->add_option("--q-lora-rank", a->o.q_lora_rank, "deepseek2: low-rank q projection (0 = plain attn_q)");
  sub->add_flag("--sigmoid-gating", a->o.sigmoid_gating, "deepseek2: V3-style sigmoid routing with exp_probs_b and expert groups");
  sub->add_option("--type", a->type, "f32 | f16 | bf16 | q8_0 | q4_0 | q4_1 | q5_0 | q4_k | q6_k")->capture_default_str();
  sub->add_option("--seed", a->o.seed, "Random seed")->capture_default_str();
  sub->add_option("--threads", a->o.n_threads, "Worker threads (0 = all cores)");
  sub->add_option("--name", a->o.name, "general.name (default synth-ARCH)");
  on_run(sub, [a] { return run_synth(*a); });
}

RegisterCommand reg(40, [](CLI::App& app) {
  auto* model = group(app, "model", "GGUF models: inspect, synthesise, quantise, run");
  auto* info = model->add_subcommand("info", "Show a GGUF's hyper-parameters, tensors, tokenizer and chat template");
  info->footer(
      "Prints the architecture and hyper-parameters read from the metadata, whether every tensor the\n"
      "architecture needs is present with the right shape (\"tensor check\"), the tokenizer kind and size,\n"
      "the chat template family, and a table of tensors with types, shapes and sizes. Works on any GGUF,\n"
      "including vocabulary-only files.");
  auto ia = std::make_shared<InfoArgs>();
  info->add_option("FILE", ia->path, "GGUF file")->required();
  info->add_flag("--json", ia->json, "Print one JSON object instead of text");
  info->add_flag("--metadata", ia->metadata, "Also list every metadata key and value");
  on_run(info, [ia] { return run_info(*ia); });

  add_synth(model);

  auto* q = model->add_subcommand("quantize", "Re-quantise a GGUF's weight matrices (q8_0, q4_0, q4_k, q6_k, ...)");
  q->footer(
      "Every 2-D weight matrix is converted to TYPE (q8_0, q4_0, q4_1, q5_0, q4_k, q6_k); norms, biases,\n"
      "routers (ffn_gate_inp) and bert's position/type embeddings keep their type. Rows that do not fit\n"
      "TYPE's block fall back (q4_k -> q5_0, others -> q8_0 or f16). Metadata is copied unchanged and the\n"
      "output is written atomically. Example: moerag model quantize m-f16.gguf m-q4k.gguf q4_k");
  auto qa = std::make_shared<QuantizeArgs>();
  q->add_option("IN", qa->in, "Input GGUF")->required();
  q->add_option("OUT", qa->out, "Output GGUF (written atomically)")->required();
  q->add_option("TYPE", qa->type, "Target type")->required();
  q->add_option("--threads", qa->threads, "Worker threads (0 = all cores)");
  on_run(q, [qa] { return run_quantize(*qa); });
});

}  // namespace
}  // namespace moerag::cli
