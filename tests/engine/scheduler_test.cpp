// The scheduler on its own (chunked prefill beside decodes, admission by KV budget,
// preemption) and the Engine step loop on a tiny synthetic MoE model: concurrent
// requests equal solo runs, the prefix cache is hit across requests, cancellation
// and deadlines free every KV block, and a full queue answers OVERLOADED.
#include <gtest/gtest.h>

#include <thread>

#include "engine/engine.h"
#include "engine/synth.h"
#include "tests/support/test_support.h"

namespace moerag::engine {
namespace {

struct KvFixture {
  ModelConfig c;
  std::unique_ptr<Backend> be = make_cpu_backend(1);
  std::unique_ptr<KvCache> kv;
  explicit KvFixture(int64_t n_blocks) {
    c.arch = Arch::LLAMA, c.n_layer = 1, c.n_head = c.n_head_kv = 1, c.head_dim_k = c.head_dim_v = 32;
    KvCacheOptions ko;
    ko.block_size = 4, ko.n_ctx = n_blocks * 4, ko.n_seq = 1;
    kv = std::move(KvCache::create(c, *be, ko)).value();
  }
};

Sequence make_seq(int64_t id, int n_prompt) {
  Sequence s;
  s.id = id;
  for (int i = 0; i < n_prompt; ++i) s.tokens.push_back(static_cast<int32_t>(id * 100 + i));
  s.n_prompt = n_prompt;
  return s;
}

// Applies a step as the engine would: mark computed, commit K/V, append a sampled token.
void run_step(KvCache& kv, const SchedulerOutput& out) {
  for (const auto& c : out.chunks) {
    kv.commit(c.seq->slot, c.seq->tokens.data() + c.pos0, c.n);
    Scheduler::computed(c);
    if (c.sample) c.seq->tokens.push_back(7);
  }
}

TEST(Scheduler, ChunkedPrefillKeepsDecodesFlowing) {
  KvFixture fx(64);
  SchedulerOptions so;
  so.max_batch_tokens = 8;
  Scheduler s(so, *fx.kv);
  Sequence a = make_seq(1, 3), b = make_seq(2, 30);
  s.add(&a);
  run_step(*fx.kv, s.schedule());  // a's prompt
  s.add(&b);
  int b_steps = 0;
  while (b.n_computed < b.n_prompt) {
    SchedulerOutput out = s.schedule();
    ASSERT_EQ(out.chunks.size(), 2u);
    EXPECT_EQ(out.chunks[0].seq, &a);  // a decodes every step
    EXPECT_EQ(out.chunks[0].n, 1);
    EXPECT_TRUE(out.chunks[0].sample);
    EXPECT_LE(out.n_tokens, 8);
    EXPECT_EQ(out.chunks[1].sample, b.n_computed + out.chunks[1].n == 30);
    run_step(*fx.kv, out);
    ++b_steps;
  }
  EXPECT_EQ(b_steps, 5);  // 30 prompt tokens in chunks of 7
  s.remove(&a);
  s.remove(&b);
  EXPECT_EQ(fx.kv->n_free_blocks(), fx.kv->n_blocks());
}

TEST(Scheduler, AdmissionWaitsForKvAndPreemptsNewest) {
  KvFixture fx(10);  // 40 token positions
  SchedulerOptions so;
  so.max_batch_tokens = 64;
  Scheduler s(so, *fx.kv);
  Sequence a = make_seq(1, 14), b = make_seq(2, 14), c = make_seq(3, 14);
  s.add(&a), s.add(&b), s.add(&c);
  SchedulerOutput first = s.schedule();
  EXPECT_EQ(first.chunks.size(), 2u);  // a and b fit (4 blocks + headroom each); c waits
  EXPECT_EQ(s.n_waiting(), 1u);
  run_step(*fx.kv, first);
  int preempted = 0;
  for (int i = 0; i < 12 && preempted == 0; ++i) {  // decodes grow until the cache is full
    SchedulerOutput out = s.schedule();
    preempted += out.n_preempted;
    run_step(*fx.kv, out);
  }
  EXPECT_EQ(preempted, 1);
  EXPECT_EQ(b.slot, -1);  // the newest went back to the queue, to be recomputed
  EXPECT_EQ(b.n_computed, 0);
  EXPECT_GT(a.n_computed, 14);
  s.remove(&a), s.remove(&b), s.remove(&c);
  EXPECT_EQ(fx.kv->n_free_blocks(), fx.kv->n_blocks());
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    SynthOptions o;
    o.arch = Arch::QWEN2MOE, o.n_layer = 2, o.n_embd = 64, o.n_vocab = 400, o.n_threads = 1;
    ASSERT_TRUE(synth_model(o, dir_->file("m.gguf")).ok());
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::shared_ptr<Engine> open(SchedulerOptions so = {}) {
    EngineOptions eo;
    eo.n_threads = 1, eo.n_ctx = 512, eo.kv_block_size = 8, eo.kv_tokens = 4096, eo.scheduler = so;
    auto e = open_engine(dir_->file("m.gguf"), eo);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return e.ok() ? *e : nullptr;
  }
  static GenerateRequest request(int i, int max_tokens = 24) {
    GenerateRequest r;
    r.prompt = "the system prompt shared by every request of this test, then question " + std::to_string(i);
    r.max_tokens = max_tokens;
    r.sampling.temperature = 0.9f;
    r.sampling.seed = static_cast<uint64_t>(1000 + i);
    return r;
  }
  static testing::TempDir* dir_;
};
testing::TempDir* EngineTest::dir_ = nullptr;

TEST_F(EngineTest, ConcurrentRequestsEqualSoloRuns) {
  auto solo = open();
  std::vector<GenerateResult> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(*solo->generate(request(i), {}));
  SchedulerOptions so;
  so.max_batch_tokens = 40;  // forces chunked prefill across the batch
  auto engine = open(so);
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < 12; ++i) streams.push_back(*engine->submit(request(i)));
  for (int i = 0; i < 12; ++i) {
    StreamEvent ev;
    std::string streamed;
    while (streams[i]->next(&ev, std::chrono::milliseconds(1000)) != RequestStream::Next::DONE) streamed += ev.text;
    ASSERT_TRUE(streams[i]->result().ok());
    EXPECT_EQ(streams[i]->result()->ids, expected[i].ids) << "request " << i;
    EXPECT_EQ(streamed, streams[i]->result()->text);
  }
  for (int i = 0; i < 100 && engine->stats().kv_blocks_used != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const EngineStats st = engine->stats();
  EXPECT_GT(st.prompt_tokens_cached, 0u) << "the shared system prompt should hit the prefix cache";
  EXPECT_EQ(st.generated_tokens, [&] {
    uint64_t n = 0;
    for (const auto& r : expected) n += r.ids.size() + (r.finish_reason == "stop" ? 1 : 0);
    return n;
  }());
  EXPECT_GE(st.ttft.count, 12u);
  EXPECT_EQ(st.kv_blocks_used, 0);
  uint64_t routed = 0;
  for (const auto& l : st.expert_load)
    for (uint64_t x : l) routed += x;
  EXPECT_GT(routed, 0u);
}

TEST_F(EngineTest, CancelAndDeadlineFreeBlocks) {
  auto engine = open();
  // At least 1000 letters: the grammar cannot end (no EOS) before max_tokens, so the
  // only ways out are the cancel and the deadline under test.
  std::string at_least = "root ::=";
  for (int i = 0; i < 1000; ++i) at_least += " [a-z]";
  auto letters = *Grammar::parse(at_least + " [a-z]*");
  CancelHandle cancel;
  GenerateRequest long_one = request(1, 200);
  long_one.grammar = letters;
  auto s = *engine->submit(long_one, cancel);
  GenerateRequest late = request(2, 220);
  late.grammar = letters;
  late.timeout_ms = 5;
  auto t = *engine->submit(late);
  StreamEvent ev;
  ASSERT_EQ(s->next(&ev, std::chrono::milliseconds(5000)), RequestStream::Next::TOKEN);
  cancel.cancel();
  while (s->next(&ev, std::chrono::milliseconds(1000)) != RequestStream::Next::DONE) {
  }
  while (t->next(&ev, std::chrono::milliseconds(1000)) != RequestStream::Next::DONE) {
  }
  EXPECT_EQ(s->result()->finish_reason, "cancelled");
  EXPECT_EQ(t->result()->finish_reason, "timeout");
  for (int i = 0; i < 100 && engine->stats().kv_blocks_used != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(engine->stats().kv_blocks_used, 0);
}

TEST_F(EngineTest, FullQueueIsOverloaded) {
  SchedulerOptions so;
  so.max_running = 1, so.max_waiting = 1;
  auto engine = open(so);
  int rejected = 0;
  std::vector<std::shared_ptr<RequestStream>> ok;
  for (int i = 0; i < 6; ++i) {
    auto s = engine->submit(request(i, 100));
    if (s.ok()) ok.push_back(*s);
    else if (s.error().code == ErrorCode::OVERLOADED) ++rejected;
  }
  EXPECT_GE(rejected, 3);
  EXPECT_EQ(engine->stats().n_rejected, static_cast<uint64_t>(rejected));
  for (auto& s : ok) s->cancel();
  GenerateRequest too_long = request(0, 10000);
  EXPECT_EQ(engine->submit(too_long).error().code, ErrorCode::CONTEXT_TOO_LONG);
  GenerateRequest empty;
  empty.prompt_ids = {};
  empty.prompt = "";
  empty.add_bos = false;
  EXPECT_FALSE(engine->submit(empty).ok());
}

}  // namespace
}  // namespace moerag::engine
