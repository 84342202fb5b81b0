// ModelConfig and synth: every architecture x type synthesises, reopens, parses,
// validates, and holds the values synth drew (exactly for F32, within each format's
// error bound otherwise); determinism; clear errors for bad metadata and for missing
// or misshapen tensors; the real llama.cpp vocab files' hyper-parameters.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "engine/gguf_writer.h"
#include "engine/model_config.h"
#include "engine/synth.h"
#include "tests/support/test_support.h"

namespace moerag::engine {
namespace {

SynthOptions small(Arch arch, GgmlType type) {
  SynthOptions o;
  o.arch = arch;
  o.type = type;
  o.n_layer = 2;
  o.n_embd = 256;
  o.n_expert = arch == Arch::LLAMA ? 4 : 4;  // llama: Mixtral-style here; dense is tested below
  o.n_vocab = arch == Arch::LLAMA ? 320 : 310;
  o.n_ctx = 128;
  o.n_threads = 2;
  o.seed = 11;
  return o;
}

std::unique_ptr<GgufFile> synth_in_memory(const SynthOptions& o) {
  GgufWriter w;
  auto s = build_synth(o, w);
  EXPECT_TRUE(s.ok()) << s.error().message;
  auto bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok());
  auto f = GgufFile::open_memory(std::move(bytes.value()));
  EXPECT_TRUE(f.ok()) << f.error().message;
  return std::move(f.value());
}

// Relative RMS error each storage type may show against the synthesised values.
double bound(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0.0;
    case GgmlType::F16: return 1e-3;
    case GgmlType::Q8_0: return 0.01;
    case GgmlType::Q5_0: return 0.06;
    default: return 0.13;  // Q4_0, Q4_K
  }
}

void expect_tensors_match(const GgufFile& f, const ModelConfig& c, const SynthOptions& o) {
  for (const auto& spec : expected_tensors(c)) {
    const GgufTensor* t = f.find_tensor(spec.name);
    if (!spec.required && t == nullptr) continue;
    ASSERT_NE(t, nullptr) << spec.name;
    ASSERT_EQ(t->type, storage_type(spec, o.type)) << spec.name;
    const int64_t n = t->row_length();
    std::vector<float> want(n), got(n);
    double se = 0, ss = 0;
    // Check a few rows of every tensor (first, middle, last) to keep the test fast.
    for (int64_t r : {int64_t{0}, t->n_rows() / 2, t->n_rows() - 1}) {
      synth_row(c, spec, o.seed, r, want.data());
      ASSERT_TRUE(dequantize_row(t->type, t->data + r * t->row_bytes(), got.data(), n).ok());
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(std::isfinite(got[i])) << spec.name;
        se += (got[i] - want[i]) * (got[i] - want[i]);
        ss += want[i] * want[i];
      }
    }
    double rel = std::sqrt(se / std::max(ss, 1e-30));
    if (t->type == GgmlType::F32) {
      EXPECT_EQ(se, 0.0) << spec.name;
    } else {
      EXPECT_LE(rel, bound(t->type)) << spec.name << " " << type_name(t->type);
    }
  }
}

class SynthRoundTrip : public ::testing::TestWithParam<std::tuple<Arch, GgmlType>> {};

TEST_P(SynthRoundTrip, ReopensParsesValidatesAndMatches) {
  auto [arch, type] = GetParam();
  SynthOptions o = small(arch, type);
  auto want = synth_config(o);
  ASSERT_TRUE(want.ok()) << want.error().message;
  auto f = synth_in_memory(o);
  ASSERT_NE(f, nullptr);
  auto c = ModelConfig::from_gguf(*f);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->arch, arch);
  EXPECT_EQ(c->n_embd, want->n_embd);
  EXPECT_EQ(c->n_layer, 2);
  EXPECT_EQ(c->n_head, want->n_head);
  EXPECT_EQ(c->n_head_kv, want->n_head_kv);
  EXPECT_EQ(c->head_dim_k, want->head_dim_k);
  EXPECT_EQ(c->head_dim_v, want->head_dim_v);
  EXPECT_EQ(c->n_rot, want->n_rot);
  EXPECT_EQ(c->n_expert, want->n_expert);
  EXPECT_EQ(c->n_expert_used, want->n_expert_used);
  EXPECT_EQ(c->n_expert_shared, want->n_expert_shared);
  EXPECT_EQ(c->n_ff_exp, want->n_ff_exp);
  EXPECT_EQ(c->n_ff_shexp, want->n_ff_shexp);
  EXPECT_EQ(c->n_layer_dense_lead, want->n_layer_dense_lead);
  EXPECT_EQ(c->rope_type, want->rope_type);
  EXPECT_EQ(c->rope_scaling, want->rope_scaling);
  EXPECT_EQ(c->expert_weights_norm, want->expert_weights_norm);
  EXPECT_EQ(c->kv_lora_rank, want->kv_lora_rank);
  EXPECT_EQ(c->n_vocab, o.n_vocab);
  EXPECT_EQ(c->n_ctx_train, 128);
  EXPECT_EQ(f->get_arr_str("tokenizer.ggml.tokens")->size(), static_cast<size_t>(o.n_vocab));
  Status v = validate_tensors(*c, *f);
  ASSERT_TRUE(v.ok()) << v.error().message;
  expect_tensors_match(*f, *c, o);
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<Arch, GgmlType>>& info) {
  return std::string(arch_name(std::get<0>(info.param))) + "_" + type_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllArchsAllTypes, SynthRoundTrip,
                         ::testing::Combine(::testing::Values(Arch::LLAMA, Arch::QWEN2MOE, Arch::QWEN3MOE, Arch::OLMOE,
                                                              Arch::DEEPSEEK2, Arch::BERT),
                                            ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::Q8_0,
                                                              GgmlType::Q4_0, GgmlType::Q4_K)),
                         case_name);

TEST(Synth, DeterministicForASeedAndThreadCount) {
  SynthOptions o = small(Arch::DEEPSEEK2, GgmlType::Q4_K);
  o.sigmoid_gating = true;
  o.n_expert = 8;
  GgufWriter a, b, d;
  ASSERT_TRUE(build_synth(o, a).ok());
  o.n_threads = 1;
  ASSERT_TRUE(build_synth(o, b).ok());
  o.seed = 12;
  ASSERT_TRUE(build_synth(o, d).ok());
  auto ba = a.to_bytes(), bb = b.to_bytes(), bd = d.to_bytes();
  EXPECT_TRUE(*ba == *bb);
  EXPECT_FALSE(*ba == *bd);
  auto f = GgufFile::open_memory(std::move(ba.value()));
  auto c = ModelConfig::from_gguf(**f);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->gating, GatingFunc::SIGMOID);
  EXPECT_EQ(c->n_expert_groups, 4);
  EXPECT_EQ(c->n_group_used, 2);
  EXPECT_NE((*f)->find_tensor("blk.1.exp_probs_b.bias"), nullptr);
  EXPECT_EQ((*f)->find_tensor("blk.0.exp_probs_b.bias"), nullptr);  // layer 0 is the dense lead
  EXPECT_NE((*f)->find_tensor("blk.0.ffn_gate.weight"), nullptr);
  EXPECT_TRUE(validate_tensors(*c, **f).ok());
}

TEST(Synth, DenseLlamaToFileWithRealVocab) {
  std::string vocab = testing::shared_data("llama-cpp-vocab/ggml-vocab-llama-spm.gguf");
  SynthOptions o = small(Arch::LLAMA, GgmlType::Q8_0);
  o.n_expert = -1;  // dense
  if (!vocab.empty() && std::filesystem::exists(vocab)) o.vocab_from = vocab;
  testing::TempDir dir;
  auto s = synth_model(o, dir.file("m.gguf"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_GT(s->file_bytes, 0u);
  auto f = GgufFile::open(dir.file("m.gguf"));
  ASSERT_TRUE(f.ok());
  auto c = ModelConfig::from_gguf(**f);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->n_expert, 0);
  EXPECT_EQ(c->n_vocab, o.vocab_from.empty() ? 320 : 32000);
  EXPECT_NE((*f)->find_tensor("blk.1.ffn_gate.weight"), nullptr);
  EXPECT_EQ((*f)->find_tensor("blk.1.ffn_gate_inp.weight"), nullptr);
  EXPECT_TRUE(validate_tensors(*c, **f).ok());
  EXPECT_EQ(s->n_params, c->n_params());
}

// Builds a file from a config with zero-filled F32 tensors, optionally dropping or
// reshaping one, for validation errors.
std::unique_ptr<GgufFile> file_from(const ModelConfig& c, const std::string& drop = "",
                                    const std::string& reshape = "") {
  GgufWriter w;
  c.write_gguf(w);
  for (const auto& s : expected_tensors(c)) {
    if (s.name == drop) continue;
    auto shape = s.shape;
    if (s.name == reshape) shape.back() *= 2;
    uint64_t n = 1;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    EXPECT_TRUE(w.add_tensor_f32(s.name, shape, std::vector<float>(n, 0.0f)).ok());
  }
  return std::move(GgufFile::open_memory(std::move(w.to_bytes().value())).value());
}

TEST(ModelConfig, ValidationNamesMissingAndMisshapenTensors) {
  SynthOptions o = small(Arch::QWEN2MOE, GgmlType::F32);
  o.n_embd = 64;
  auto c = synth_config(o);
  ASSERT_TRUE(c.ok());
  auto good = file_from(*c);
  EXPECT_TRUE(validate_tensors(*c, *good).ok());
  auto missing = file_from(*c, "blk.1.ffn_up_exps.weight");
  Status st = validate_tensors(*c, *missing);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("missing tensor 'blk.1.ffn_up_exps.weight' (expected shape [4,"), std::string::npos)
      << st.error().message;
  auto wrong = file_from(*c, "", "blk.0.attn_k.bias");
  st = validate_tensors(*c, *wrong);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("tensor 'blk.0.attn_k.bias' has shape [128], expected [64]"), std::string::npos)
      << st.error().message;
  auto no_output = file_from(*c, "output.weight");  // optional: tied embeddings
  EXPECT_TRUE(validate_tensors(*c, *no_output).ok());
}

TEST(ModelConfig, SplitMlaDeepseekFiles) {
  SynthOptions o = small(Arch::DEEPSEEK2, GgmlType::F32);
  o.n_embd = 64;
  o.q_lora_rank = 32;
  auto c = synth_config(o);
  ASSERT_TRUE(c.ok());
  ModelConfig split = *c;
  split.mla_split_kv_b = true;
  GgufWriter w;
  split.write_gguf(w);
  // Newer converts: key/value_length describe the latent cache, _mla the heads.
  w.set_u32("deepseek2.attention.key_length", static_cast<uint32_t>(c->kv_lora_rank + c->n_rot));
  w.set_u32("deepseek2.attention.value_length", static_cast<uint32_t>(c->kv_lora_rank));
  w.set_u32("deepseek2.attention.key_length_mla", static_cast<uint32_t>(c->head_dim_k));
  w.set_u32("deepseek2.attention.value_length_mla", static_cast<uint32_t>(c->head_dim_v));
  w.set_u32("deepseek2.attention.head_count_kv", 1);
  for (const auto& s : expected_tensors(split)) {
    uint64_t n = 1;
    for (auto d : s.shape) n *= static_cast<uint64_t>(d);
    ASSERT_TRUE(w.add_tensor_f32(s.name, s.shape, std::vector<float>(n, 0.0f)).ok());
  }
  auto f = GgufFile::open_memory(std::move(w.to_bytes().value()));
  ASSERT_TRUE(f.ok());
  auto got = ModelConfig::from_gguf(**f);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->mla_split_kv_b);
  EXPECT_EQ(got->head_dim_k, 96);
  EXPECT_EQ(got->head_dim_v, 64);
  EXPECT_EQ(got->n_head_kv, got->n_head);
  EXPECT_EQ(got->q_lora_rank, 32);
  EXPECT_EQ((*f)->find_tensor("blk.0.attn_k_b.weight")->shape, (std::vector<int64_t>{1, c->kv_lora_rank, 64}));
  EXPECT_TRUE(validate_tensors(*got, **f).ok());
}

Result<ModelConfig> config_with(const std::function<void(GgufWriter&)>& edit) {
  SynthOptions o = small(Arch::QWEN3MOE, GgmlType::F32);
  ModelConfig c = synth_config(o).value();
  GgufWriter w;
  c.write_gguf(w);
  edit(w);
  auto f = GgufFile::open_memory(std::move(w.to_bytes().value()));
  return ModelConfig::from_gguf(**f);
}

TEST(ModelConfig, MetadataErrorsNameTheKey) {
  struct Case {
    const char* name;
    std::function<void(GgufWriter&)> edit;
    const char* expect;
  };
  const Case cases[] = {
      {"no arch", [](GgufWriter& w) { w.erase("general.architecture"); }, "general.architecture"},
      {"unsupported arch", [](GgufWriter& w) { w.set_str("general.architecture", "mamba"); }, "unsupported architecture 'mamba'"},
      {"no block_count", [](GgufWriter& w) { w.erase("qwen3moe.block_count"); }, "missing metadata key 'qwen3moe.block_count'"},
      {"string block_count", [](GgufWriter& w) { w.set_str("qwen3moe.block_count", "2"); }, "'qwen3moe.block_count' holds string"},
      {"top-k > experts", [](GgufWriter& w) { w.set_u32("qwen3moe.expert_used_count", 9); }, "qwen3moe.expert_used_count = 9"},
      {"no experts", [](GgufWriter& w) { w.erase("qwen3moe.expert_count"); }, "missing qwen3moe.expert_count"},
      {"kv heads", [](GgufWriter& w) { w.set_u32("qwen3moe.attention.head_count_kv", 3); }, "head_count_kv = 3"},
      {"odd rope", [](GgufWriter& w) { w.set_u32("qwen3moe.rope.dimension_count", 63); }, "rope.dimension_count = 63"},
      {"no expert ff", [](GgufWriter& w) { w.erase("qwen3moe.expert_feed_forward_length"); }, "expert_feed_forward_length"},
      {"bad gating", [](GgufWriter& w) { w.set_u32("qwen3moe.expert_gating_func", 7); }, "expert_gating_func = 7"},
      {"bad rope scaling", [](GgufWriter& w) { w.set_str("qwen3moe.rope.scaling.type", "longrope"); }, "'longrope'"},
      {"huge layers", [](GgufWriter& w) { w.set_u32("qwen3moe.block_count", 100000); }, "block_count = 100000"},
  };
  for (const auto& c : cases) {
    auto r = config_with(c.edit);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::INVALID_INPUT) << c.name;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << c.name << ": " << r.error().message;
  }
  EXPECT_TRUE(config_with([](GgufWriter&) {}).ok());
}

TEST(ModelConfig, RealVocabFilesHyperParameters) {
  std::string dir = testing::shared_data("llama-cpp-vocab");
  if (dir.empty()) GTEST_SKIP() << "shared data absent";
  auto spm = GgufFile::open(dir + "/ggml-vocab-llama-spm.gguf");
  auto c = ModelConfig::from_gguf(**spm);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->arch, Arch::LLAMA);
  EXPECT_EQ(c->n_layer, 32);
  EXPECT_EQ(c->n_embd, 4096);
  EXPECT_EQ(c->n_vocab, 32000);
  EXPECT_EQ(c->head_dim_k, 128);
  EXPECT_EQ(c->n_rot, 128);
  // A real file with no tensors fails validation with the first missing tensor.
  Status v = validate_tensors(*c, **spm);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("missing tensor 'token_embd.weight' (expected shape [32000, 4096])"),
            std::string::npos);
  auto bge = GgufFile::open(dir + "/ggml-vocab-bert-bge.gguf");
  auto b = ModelConfig::from_gguf(**bge);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->arch, Arch::BERT);
  EXPECT_EQ(b->n_embd, 384);
  EXPECT_EQ(b->n_token_types, 2);
  EXPECT_FALSE(b->causal);
  EXPECT_FLOAT_EQ(b->norm_eps, 1e-12f);
  auto coder = GgufFile::open(dir + "/ggml-vocab-deepseek-coder.gguf");
  auto dc = ModelConfig::from_gguf(**coder);
  ASSERT_TRUE(dc.ok());
  EXPECT_EQ(dc->rope_scaling, RopeScaling::LINEAR);
  EXPECT_FLOAT_EQ(dc->rope_scaling_factor, 4.0f);
}

}  // namespace
}  // namespace moerag::engine
