// Batch invariance and prefix-cache reuse of the forward pass, sliding-window
// eviction, the sampler, and the Generator / Embedder front door on tiny synthetic
// models.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.h"
#include "engine/forward.h"
#include "engine/synth.h"
#include "tests/support/test_support.h"

namespace moerag::engine {
namespace {

struct Fixture {
  std::unique_ptr<Backend> be = make_cpu_backend(2);
  std::unique_ptr<Model> model;
  std::unique_ptr<KvCache> kv;
  Fixture(Arch arch, GgmlType type, GgmlType kv_type = GgmlType::F16) {
    SynthOptions o;
    o.arch = arch, o.n_layer = 2, o.n_embd = 128, o.n_vocab = 400, o.type = type, o.n_threads = 1;
    if (arch == Arch::LLAMA) o.n_expert = 4;
    GgufWriter w;
    EXPECT_TRUE(build_synth(o, w).ok());
    auto f = GgufFile::open_memory(std::move(w.to_bytes()).value());
    model = std::move(Model::from_file(std::move(f).value(), *be)).value();
    KvCacheOptions ko;
    ko.type = kv_type, ko.block_size = 8, ko.n_ctx = 64, ko.n_seq = 4;
    kv = std::move(KvCache::create(model->config(), *be, ko)).value();
  }
};

std::vector<BatchToken> seq_batch(const std::vector<int32_t>& toks, int32_t seq, int32_t pos0) {
  std::vector<BatchToken> b;
  for (size_t i = 0; i < toks.size(); ++i) b.push_back({toks[i], seq, static_cast<int32_t>(pos0 + i), i + 1 == toks.size()});
  return b;
}

double rel(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return std::sqrt(num / den);
}

TEST(Generation, BatchInvarianceAndPrefixReuse) {
  for (Arch arch : {Arch::LLAMA, Arch::DEEPSEEK2}) {
    for (GgmlType kv_type : {GgmlType::F16, GgmlType::Q8_0}) {
      Fixture fx(arch, GgmlType::Q8_0, kv_type);
      Forward fwd(*fx.model, *fx.be, fx.kv.get());
      const int64_t V = fx.model->config().n_vocab;
      const std::vector<int32_t> a = {5, 9, 33, 2, 71, 8, 99, 100, 3, 4, 17, 250, 6, 7, 11, 12, 13, 14, 15};
      const std::vector<int32_t> b = {40, 41, 42};
      std::vector<float> alone, mixed, reused;
      ASSERT_TRUE(fx.kv->add_sequence(0).ok());
      ASSERT_TRUE(fwd.decode(seq_batch(a, 0, 0), &alone).ok());
      // The same sequence batched with another one.
      ASSERT_TRUE(fx.kv->add_sequence(1).ok());
      ASSERT_TRUE(fx.kv->add_sequence(2).ok());
      auto batch = seq_batch(b, 2, 0);
      auto ba = seq_batch(a, 1, 0);
      batch.insert(batch.begin() + 1, ba.begin(), ba.end());
      ASSERT_TRUE(fwd.decode(batch, &mixed).ok());
      ASSERT_EQ(mixed.size(), static_cast<size_t>(2 * V));
      EXPECT_LT(rel(mixed.data(), alone.data(), V), 1e-5);  // a's logits come first (its last token is earlier)
      // A new sequence starting with a's tokens reuses their full blocks.
      fx.kv->remove_sequence(0);
      ASSERT_TRUE(fx.kv->add_sequence(3).ok());
      const int64_t n = fx.kv->attach_prefix(3, a);
      EXPECT_EQ(n, 16);
      std::vector<int32_t> rest(a.begin() + n, a.end());
      ASSERT_TRUE(fwd.decode(seq_batch(rest, 3, static_cast<int32_t>(n)), &reused).ok());
      EXPECT_LT(rel(reused.data(), alone.data(), V), 1e-5);
      EXPECT_GT(fx.kv->n_prefix_hits(), 0u);
    }
  }
}

TEST(Generation, SlidingWindowEvictionFreesBlocks) {
  ModelConfig c;
  c.arch = Arch::LLAMA, c.n_layer = 1, c.n_head = c.n_head_kv = 1, c.head_dim_k = c.head_dim_v = 32;
  auto be = make_cpu_backend(1);
  KvCacheOptions ko;
  ko.block_size = 4, ko.n_ctx = 32, ko.n_seq = 1, ko.prefix_reuse = false;
  auto kv = std::move(KvCache::create(c, *be, ko)).value();
  ASSERT_TRUE(kv->add_sequence(0).ok());
  ASSERT_TRUE(kv->reserve(0, 20).ok());
  std::vector<int32_t> toks(20, 1);
  kv->commit(0, toks.data(), 20);
  const int64_t before = kv->n_free_blocks();
  kv->evict_window(0, 6);  // the next query (pos 20) needs keys 15..19: blocks 0..2 go
  EXPECT_EQ(kv->n_free_blocks(), before + 3);
}

TEST(Generation, SamplerGreedySeededPenalties) {
  std::vector<float> l = {0.1f, 2.0f, 1.9f, -1.0f};
  SamplingParams g;
  EXPECT_EQ(Sampler(g).sample(std::vector<float>(l).data(), 4), 1);
  SamplingParams p;
  p.presence_penalty = 1.0f;
  Sampler s(p);
  s.accept(1);
  EXPECT_EQ(s.sample(std::vector<float>(l).data(), 4), 2);
  SamplingParams t;
  t.temperature = 1.0f, t.seed = 9, t.top_k = 2;
  std::vector<int32_t> r1, r2;
  Sampler s1(t), s2(t);
  for (int i = 0; i < 20; ++i) {
    r1.push_back(s1.sample(std::vector<float>(l).data(), 4));
    r2.push_back(s2.sample(std::vector<float>(l).data(), 4));
    EXPECT_TRUE(r1.back() == 1 || r1.back() == 2);
  }
  EXPECT_EQ(r1, r2);
  SamplingParams m;
  m.temperature = 1.0f, m.min_p = 0.5f;
  Sampler sm(m);
  for (int i = 0; i < 20; ++i) EXPECT_NE(sm.sample(std::vector<float>(l).data(), 4), 3);
}

// pick_checked (constrained decoding without a mask): greedy takes the best token the
// check accepts; temperature draws from the distribution renormalised over accepted
// tokens (what the mask would give); truncating samplers refuse to check lazily.
TEST(Generation, SamplerCheckedPickMatchesTheMaskedDistribution) {
  const std::vector<float> l = {0.1f, 2.0f, 1.9f, -1.0f, 0.5f};
  auto not12 = [](int32_t t) { return t != 1 && t != 2; };
  {
    Sampler g{SamplingParams{}};
    std::vector<float> x = l;
    EXPECT_EQ(g.pick_checked(x.data(), 5, not12, 8), 4);
    std::vector<float> y = l;
    EXPECT_EQ(g.pick_checked(y.data(), 5, not12, 2), -1);  // two refusals used up the tries
    std::vector<float> z = l;
    EXPECT_EQ(g.pick_checked(z.data(), 5, [](int32_t) { return false; }, 99), -1);
  }
  SamplingParams t;
  t.temperature = 1.0f, t.seed = 3;
  Sampler s(t);
  ASSERT_TRUE(s.can_check_lazily());
  std::vector<int> hits(5, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::vector<float> x = l;
    int32_t id = s.pick_checked(x.data(), 5, not12, 16);
    ASSERT_TRUE(id == 0 || id == 3 || id == 4) << id;
    ++hits[static_cast<size_t>(id)];
  }
  double z = std::exp(0.1) + std::exp(-1.0) + std::exp(0.5);
  EXPECT_NEAR(hits[0] / double(n), std::exp(0.1) / z, 0.015);
  EXPECT_NEAR(hits[3] / double(n), std::exp(-1.0) / z, 0.015);
  EXPECT_NEAR(hits[4] / double(n), std::exp(0.5) / z, 0.015);
  SamplingParams k = t;
  k.top_k = 2;
  Sampler sk(k);
  EXPECT_FALSE(sk.can_check_lazily());
  std::vector<float> x = l;
  EXPECT_EQ(sk.pick_checked(x.data(), 5, not12, 8), -1);
}

TEST(Generation, GeneratorStreamsStopsAndCancels) {
  testing::TempDir dir;
  SynthOptions o;
  o.arch = Arch::QWEN2MOE, o.n_layer = 1, o.n_embd = 64, o.n_vocab = 400, o.n_threads = 1;
  ASSERT_TRUE(synth_model(o, dir.file("m.gguf")).ok());
  auto gen = open_generator(dir.file("m.gguf"));
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  GenerateRequest req;
  req.prompt = "hello there";
  req.max_tokens = 12;
  std::string streamed;
  auto r = (*gen)->generate(req, [&](int32_t, const std::string& t) { streamed += t; return true; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish_reason == "length", r->ids.size() == 12u);
  EXPECT_EQ(streamed, r->text);
  // Same prompt again: greedy is deterministic, and the prompt's full blocks are reused.
  auto r2 = (*gen)->generate(req, {});
  EXPECT_EQ(r2->ids, r->ids);
  CancelHandle cancel;
  cancel.cancel();
  auto r3 = (*gen)->generate(req, {}, cancel);
  EXPECT_EQ(r3->finish_reason, "cancelled");
  int64_t routed = 0;
  for (const auto& layer : (*gen)->expert_load())
    for (uint64_t x : layer) routed += static_cast<int64_t>(x);
  EXPECT_GT(routed, 0);
  if (!r->text.empty()) {  // a stop string cuts the output before it
    GenerateRequest s = req;
    s.stop = {r->text.substr(r->text.size() / 2)};
    auto rs = (*gen)->generate(s, {});
    EXPECT_EQ(rs->finish_reason, "stop");
    EXPECT_EQ(rs->text.find(s.stop[0]), std::string::npos);
  }
}

TEST(Generation, BertEmbedderIsNormalised) {
  testing::TempDir dir;
  SynthOptions o;
  o.arch = Arch::BERT, o.n_layer = 1, o.n_embd = 64, o.n_threads = 1;
  ASSERT_TRUE(synth_model(o, dir.file("b.gguf")).ok());
  auto emb = open_embedder(dir.file("b.gguf"));
  ASSERT_TRUE(emb.ok()) << emb.error().message;
  auto v = (*emb)->embed({"hello world", "", "another text"});
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 3 * (*emb)->dim());
  for (int i : {0, 2}) {
    double ss = 0;
    for (size_t d = 0; d < (*emb)->dim(); ++d) ss += (*v)[i * (*emb)->dim() + d] * (*v)[i * (*emb)->dim() + d];
    EXPECT_NEAR(ss, 1.0, 1e-5);
  }
  EXPECT_EQ((*v)[(*emb)->dim()], 0.0f);
}

}  // namespace
}  // namespace moerag::engine
