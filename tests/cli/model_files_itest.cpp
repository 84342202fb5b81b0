// `moerag model synth|info|quantize` through the real binary: a synthesised file is
// described by `info --json`, re-quantised by `quantize`, and bad input gives the
// documented exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using namespace moerag::testing;

namespace {

TEST(ModelFiles, SynthInfoQuantize) {
  TempDir dir;
  const std::string m = moerag_binary();
  auto s = run_command(m + " model synth " + dir.file("a.gguf") +
                       " --arch deepseek2 --layers 2 --dim 256 --experts 4 --type q8_0 --seed 3");
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_NE(s.output.find("deepseek2, 2 layers"), std::string::npos) << s.output;

  auto info = run_command(m + " model info --json " + dir.file("a.gguf"));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  auto j = nlohmann::json::parse(info.output);
  EXPECT_EQ(j["architecture"], "deepseek2");
  EXPECT_EQ(j["validation"], "ok");
  EXPECT_EQ(j["config"]["moe"]["n_expert"], 4);
  EXPECT_EQ(j["config"]["moe"]["n_layer_dense_lead"], 1);
  EXPECT_EQ(j["config"]["rope_scaling"], "yarn");
  EXPECT_EQ(j["tokenizer"]["model"], "gpt2");
  bool saw_kv_b = false;
  for (const auto& t : j["tensors"]) {
    if (t["name"] == "blk.1.attn_kv_b.weight") saw_kv_b = true;
    if (t["name"] == "blk.1.ffn_gate_exps.weight") EXPECT_EQ(t["type"], "q8_0");
    if (t["name"] == "blk.1.attn_norm.weight") EXPECT_EQ(t["type"], "f32");
  }
  EXPECT_TRUE(saw_kv_b);

  auto q = run_command(m + " model quantize " + dir.file("a.gguf") + " " + dir.file("b.gguf") + " q4_0 --threads 2");
  ASSERT_EQ(q.exit_code, 0) << q.output;
  auto info_b = run_command(m + " model info --json " + dir.file("b.gguf"));
  ASSERT_EQ(info_b.exit_code, 0);
  auto jb = nlohmann::json::parse(info_b.output);
  EXPECT_EQ(jb["validation"], "ok");
  for (const auto& t : jb["tensors"]) {
    if (t["name"] == "blk.1.ffn_up_exps.weight") EXPECT_EQ(t["type"], "q4_0");
    if (t["name"] == "blk.1.ffn_gate_inp.weight") EXPECT_EQ(t["type"], "f32");  // routers stay F32
  }

  auto text = run_command(m + " model info " + dir.file("b.gguf"));
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.output.find("tensor check: ok"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("mla: q_lora_rank 0"), std::string::npos);
}

TEST(ModelFiles, ErrorsAndExitCodes) {
  TempDir dir;
  const std::string m = moerag_binary();
  EXPECT_EQ(run_command(m + " model synth " + dir.file("x.gguf") + " --arch gpt9").exit_code, 2);
  EXPECT_EQ(run_command(m + " model synth " + dir.file("x.gguf") + " --type q3_k").exit_code, 2);
  auto heads = run_command(m + " model synth " + dir.file("x.gguf") + " --dim 100 --heads 3");
  EXPECT_EQ(heads.exit_code, 2);
  EXPECT_NE(heads.output.find("not a multiple of --heads 3"), std::string::npos) << heads.output;
  write_file(dir.file("bad.gguf"), "GGUF\x03");
  auto bad = run_command(m + " model info " + dir.file("bad.gguf"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("header version"), std::string::npos) << bad.output;
  EXPECT_EQ(run_command(m + " model quantize " + dir.file("bad.gguf") + " " + dir.file("o.gguf") + " q9_9").exit_code, 2);
  std::string vocab = shared_data("llama-cpp-vocab");
  if (!vocab.empty()) {  // a vocab-only file: info works, hyper-parameters fail the tensor check
    auto v = run_command(m + " model info " + vocab + "/ggml-vocab-bert-bge.gguf");
    ASSERT_EQ(v.exit_code, 0) << v.output;
    EXPECT_NE(v.output.find("tokenizer: bert"), std::string::npos);
    EXPECT_NE(v.output.find("missing tensor 'token_embd.weight'"), std::string::npos);
  }
}

}  // namespace

// `model bench --json` reports its figures and the ceilings they are measured against,
// each ceiling being its bandwidth over the bytes read per token.
TEST(ModelFiles, BenchReportsSpeedAgainstBothCeilings) {
  TempDir dir;
  const std::string m = moerag_binary();
  ASSERT_EQ(run_command(m + " model synth " + dir.file("b.gguf") + " --arch deepseek2 --layers 2 --dim 256 --type q8_0")
                .exit_code,
            0);
  auto r = run_command(m + " model bench --model " + dir.file("b.gguf") + " -p 8 -n 8 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  for (const char* k : {"prefill_tok_s", "decode_tok_s", "bandwidth_gb_s", "read_bandwidth_gb_s", "decode_ceiling_tok_s",
                        "prefill_gflop_s", "openblas_sgemm_1t_gflop_s"}) {
    EXPECT_GT(j[k].get<double>(), 0) << k;
  }
  const double per_token = j["active_weight_bytes"].get<double>();  // + KV read, which is small here
  EXPECT_NEAR(j["decode_ceiling_tok_s"].get<double>(), j["bandwidth_gb_s"].get<double>() * 1e9 / per_token,
              0.05 * j["decode_ceiling_tok_s"].get<double>());
  const double pct = j["decode_pct_of_ceiling"], read_pct = j["decode_pct_of_read_ceiling"];
  EXPECT_NEAR(read_pct / pct, j["bandwidth_gb_s"].get<double>() / j["read_bandwidth_gb_s"].get<double>(), 1e-6 * read_pct / pct);
}
