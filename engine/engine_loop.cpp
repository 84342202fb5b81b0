// Engine: the continuous-batching step loop. One thread owns the model, KV cache,
// forward pass and scheduler; submit() tokenises on the caller's thread and hands the
// request over through a guarded queue. Each step: take new requests, end cancelled
// and overdue ones, schedule -> run the model on one batch -> update (sample each
// sequence that reached its last token, under its grammar mask; stream the text;
// finish on EOS, stop string, grammar end, max_tokens).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <optional>
#include <thread>

#include "engine/engine.h"
#include "engine/forward.h"
#include "engine/tokenizer.h"

namespace moerag::engine {
namespace {

using Clock = std::chrono::steady_clock;

// A request inside the engine: the scheduler's Sequence plus the output side.
struct Request : Sequence {
  Request(const Tokenizer& tok, const GenerateRequest& r, std::shared_ptr<RequestStream> s)
      : max_tokens(r.max_tokens), sampler(r.sampling), text(tok, r.stop), stream(std::move(s)) {
    if (r.grammar) gstate.emplace(r.grammar);
  }
  int32_t max_tokens;
  Sampler sampler;
  std::optional<GrammarState> gstate;
  TextAssembler text;
  std::shared_ptr<RequestStream> stream;
  GenerateResult res;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point last_token;
  bool done = false;
  bool counted = false;  // prompt tokens added to the statistics
};

}  // namespace

LatencyHistogram::LatencyHistogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}

void LatencyHistogram::observe(double s) {
  const size_t i = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), s) - bounds.begin());
  ++counts[i];
  sum += s;
  ++count;
}

struct Engine::Impl {
  EngineOptions opt;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tok;
  std::unique_ptr<ChatTemplate> tmpl;
  std::unique_ptr<KvCache> kv;
  std::unique_ptr<Forward> fwd;
  std::unique_ptr<Scheduler> sched;
  std::unique_ptr<TokenTrie> trie;
  std::string name;
  int64_t n_ctx = 0;

  std::mutex in_mu;
  std::condition_variable in_cv;
  std::deque<std::unique_ptr<Request>> incoming;  // guarded by in_mu
  bool stopping = false;                          // guarded by in_mu
  std::atomic<int64_t> n_sched_waiting{0};        // the scheduler's queue, published each step
  int64_t next_id = 1;                            // guarded by in_mu

  std::vector<std::unique_ptr<Request>> live;  // step-loop thread only
  std::vector<float> logits;                   // F32 [n_sampled, n_vocab]
  MaskCache masks;  // step-loop thread only
  std::vector<float> masked;  // step-loop thread only: the masked logits, kept for its capacity

  mutable std::mutex stats_mu;
  EngineStats stats;                                   // guarded by stats_mu
  std::deque<std::pair<Clock::time_point, uint64_t>> rate;  // guarded by stats_mu: (step end, tokens)
  std::thread loop;

  Status init(const std::string& path, const EngineOptions& o);
  Result<std::vector<int32_t>> prompt_ids(const GenerateRequest& req) const;
  void run();
  void step();
  uint64_t sample(Request& r, float* lg);
  void finish(Request& r, const std::string& reason, bool flush = true);
  void fail(Request& r, const Error& e);
  void publish(const SchedulerOutput& out, double step_s, double fwd_s, double mask_s, uint64_t n_gen);
};

Status Engine::Impl::init(const std::string& path, const EngineOptions& o) {
  opt = o;
  backend = make_cpu_backend(o.n_threads);
  MOERAG_ASSIGN_OR_RETURN(model, Model::load(path, *backend));
  if (model->config().arch == Arch::BERT) {
    return Error(ErrorCode::INVALID_INPUT, path + " is a bert encoder; use it as an embedding model");
  }
  MOERAG_ASSIGN_OR_RETURN(tok, Tokenizer::from_gguf(model->file()));
  auto t = ChatTemplate::for_vocab(tok->vocab(), o.chat_template);
  if (t.ok()) tmpl = std::make_unique<ChatTemplate>(*t);
  KvCacheOptions ko;
  ko.type = o.kv_type;
  ko.block_size = o.kv_block_size;
  ko.n_ctx = std::min(o.n_ctx, model->config().n_ctx_train);
  const int64_t tokens = o.kv_tokens > 0 ? o.kv_tokens : std::max<int64_t>(1, o.n_cached_seqs) * ko.n_ctx;
  ko.n_seq = std::max<int64_t>(1, (tokens + ko.n_ctx - 1) / ko.n_ctx);
  n_ctx = ko.n_ctx;
  MOERAG_ASSIGN_OR_RETURN(kv, KvCache::create(model->config(), *backend, ko));
  fwd = std::make_unique<Forward>(*model, *backend, kv.get());
  sched = std::make_unique<Scheduler>(o.scheduler, *kv);
  trie = std::make_unique<TokenTrie>(*tok);
  name = model->config().name.empty() ? std::filesystem::path(path).stem().string() : model->config().name;
  stats.kv_blocks_total = kv->n_blocks();
  stats.expert_load = fwd->expert_load();
  loop = std::thread([this] { run(); });
  return ok_status();
}

Result<std::vector<int32_t>> Engine::Impl::prompt_ids(const GenerateRequest& req) const {
  if (!req.prompt_ids.empty()) {
    for (int32_t id : req.prompt_ids) {
      if (id < 0 || id >= model->config().n_vocab) {
        return Error(ErrorCode::INVALID_INPUT, "token id " + std::to_string(id) + " is outside the vocabulary");
      }
    }
    return req.prompt_ids;
  }
  if (!req.messages.empty()) {
    if (!tmpl) return Error(ErrorCode::INVALID_INPUT, "the model has no chat template we recognise");
    MOERAG_ASSIGN_OR_RETURN(std::string text, tmpl->render(req.messages, true));
    return tok->encode(text, false, true);
  }
  return tok->encode(req.prompt, req.add_bos, true);
}

void Engine::Impl::run() {
  for (;;) {
    {
      std::unique_lock lock(in_mu);
      if (live.empty()) in_cv.wait(lock, [&] { return stopping || !incoming.empty(); });
      if (stopping) break;
      while (!incoming.empty()) {
        sched->add(incoming.front().get());
        live.push_back(std::move(incoming.front()));
        incoming.pop_front();
      }
    }
    const auto now = Clock::now();
    for (auto& r : live) {
      if (r->stream->cancel_handle().cancelled()) finish(*r, "cancelled");
      else if (now >= r->deadline) finish(*r, "timeout");
    }
    live.erase(std::remove_if(live.begin(), live.end(), [](const auto& r) { return r->done; }), live.end());
    if (!live.empty()) step();
    live.erase(std::remove_if(live.begin(), live.end(), [](const auto& r) { return r->done; }), live.end());
    n_sched_waiting = static_cast<int64_t>(sched->n_waiting());
    std::lock_guard lock(stats_mu);
    stats.n_running = static_cast<int64_t>(sched->n_running());
    stats.n_waiting = static_cast<int64_t>(sched->n_waiting());
    stats.kv_blocks_used = kv->n_blocks() - kv->n_free_blocks();
  }
  std::lock_guard lock(in_mu);
  for (auto& r : incoming) live.push_back(std::move(r));
  for (auto& r : live) {
    if (!r->done) fail(*r, Error(ErrorCode::UNAVAILABLE, "the engine is shutting down"));
  }
}

void Engine::Impl::step() {
  const auto t0 = Clock::now();
  SchedulerOutput out = sched->schedule();
  if (out.chunks.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return;
  }
  std::vector<BatchToken> batch;
  batch.reserve(static_cast<size_t>(out.n_tokens));
  for (const ScheduledChunk& c : out.chunks) {
    for (int32_t i = 0; i < c.n; ++i) {
      const int64_t pos = c.pos0 + i;
      batch.push_back({c.seq->tokens[static_cast<size_t>(pos)], c.seq->slot, static_cast<int32_t>(pos),
                       c.sample && i + 1 == c.n});
    }
  }
  logits.clear();
  Status st = fwd->decode(batch, &logits);
  const auto t1 = Clock::now();
  if (!st.ok()) {
    for (const ScheduledChunk& c : out.chunks) fail(*static_cast<Request*>(c.seq), st.error());
    return;
  }
  const int64_t V = model->config().n_vocab;
  size_t row = 0;
  double mask_s = 0;
  uint64_t n_gen = 0;
  for (const ScheduledChunk& c : out.chunks) {
    Scheduler::computed(c);
    if (!c.sample) continue;
    auto& r = *static_cast<Request*>(c.seq);
    const auto m0 = Clock::now();
    n_gen += sample(r, logits.data() + row * static_cast<size_t>(V));
    mask_s += r.gstate ? std::chrono::duration<double>(Clock::now() - m0).count() : 0.0;
    ++row;
  }
  publish(out, std::chrono::duration<double>(Clock::now() - t0).count(),
          std::chrono::duration<double>(t1 - t0).count(), mask_s, n_gen);
}

// Samples the next token of `r` from its logits F32 [n_vocab] and streams it;
// returns the number of tokens sampled (0 or 1).
uint64_t Engine::Impl::sample(Request& r, float* lg) {
  const int64_t V = model->config().n_vocab;
  int32_t id = -1;
  if (r.gstate) {
    // First ask the grammar about the sampler's own choices (a trained model's first
    // choice almost always fits); only when kLazyTries are refused build the mask of
    // the whole vocabulary (memoised per grammar state). Which path runs depends only
    // on this request's logits and state, so a seed still reproduces a run.
    constexpr int kLazyTries = 8;
    r.sampler.apply_penalties(lg, V);
    id = r.sampler.pick_checked(
        lg, V, [&](int32_t t) { return token_allowed(*r.gstate, *tok, t); }, kLazyTries);
    if (id < 0) {
      const std::vector<int32_t>& allowed = masks.allowed(*r.gstate, *trie);
      if (allowed.empty()) {  // the grammar cannot go on with this vocabulary
        finish(r, "stop");
        return 0;
      }
      masked.assign(static_cast<size_t>(V), -INFINITY);
      for (int32_t a : allowed) masked[static_cast<size_t>(a)] = lg[a];
      std::copy(masked.begin(), masked.end(), lg);
      id = r.sampler.pick(lg, V);
    }
  } else {
    id = r.sampler.sample(lg, V);
  }
  r.sampler.accept(id);
  const auto now = Clock::now();
  {
    std::lock_guard lock(stats_mu);
    if (r.res.ids.empty()) {
      r.res.ttft_s = std::chrono::duration<double>(now - r.arrival).count();
      stats.ttft.observe(r.res.ttft_s);
    } else {
      stats.itl.observe(std::chrono::duration<double>(now - r.last_token).count());
    }
  }
  r.last_token = now;
  if (tok->is_eog(id)) {
    finish(r, "stop");
    return 1;
  }
  if (r.gstate) r.gstate->advance(tok->piece(id, false));
  r.res.ids.push_back(id);
  r.tokens.push_back(id);
  bool stopped = false;
  std::string text = r.text.push(id, &stopped);
  r.stream->push({id, std::move(text)});
  if (stopped) {
    finish(r, "stop", false);
  } else if (r.gstate && r.gstate->accepting() && !r.gstate->can_continue()) {
    finish(r, "stop");
  } else if (static_cast<int32_t>(r.res.ids.size()) >= r.max_tokens || static_cast<int64_t>(r.tokens.size()) >= n_ctx) {
    finish(r, "length");
  }
  return 1;
}

void Engine::Impl::finish(Request& r, const std::string& reason, bool flush) {
  if (r.done) return;
  if (flush) {
    std::string tail = r.text.flush();
    if (!tail.empty()) r.stream->push({-1, std::move(tail)});
  }
  r.res.text = r.text.text();
  r.res.finish_reason = reason;
  r.res.n_prompt = r.n_prompt;
  r.res.n_prompt_cached = r.n_cached;
  sched->remove(&r);
  r.done = true;
  r.stream->finish(std::move(r.res));
}

void Engine::Impl::fail(Request& r, const Error& e) {
  if (r.done) return;
  sched->remove(&r);
  r.done = true;
  r.stream->finish(e);
}

void Engine::Impl::publish(const SchedulerOutput& out, double step_s, double fwd_s, double mask_s, uint64_t n_gen) {
  const auto now = Clock::now();
  uint64_t prompt = 0, cached = 0;
  for (const ScheduledChunk& c : out.chunks) {
    auto& r = *static_cast<Request*>(c.seq);
    if (r.counted) continue;
    r.counted = true;
    prompt += static_cast<uint64_t>(r.n_prompt);
    cached += static_cast<uint64_t>(r.n_cached);
  }
  std::lock_guard lock(stats_mu);
  stats.n_preempted += static_cast<uint64_t>(out.n_preempted);
  stats.prompt_tokens += prompt;
  stats.prompt_tokens_cached += cached;
  stats.generated_tokens += n_gen;
  ++stats.n_steps;
  stats.step_seconds += step_s;
  stats.forward_seconds += fwd_s;
  stats.mask_seconds += mask_s;
  stats.expert_load = fwd->expert_load();
  rate.emplace_back(now, n_gen);
  while (!rate.empty() && now - rate.front().first > std::chrono::seconds(5)) rate.pop_front();
  uint64_t sum = 0;
  for (const auto& [t, n] : rate) sum += n;
  const double span = rate.size() > 1 ? std::chrono::duration<double>(now - rate.front().first).count() : 0.0;
  stats.tokens_per_second = span > 0 ? static_cast<double>(sum) / span : 0.0;
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  {
    std::lock_guard lock(impl_->in_mu);
    impl_->stopping = true;
  }
  impl_->in_cv.notify_all();
  if (impl_->loop.joinable()) impl_->loop.join();
}

Result<std::shared_ptr<Engine>> Engine::create(const std::string& path, const EngineOptions& options) {
  auto impl = std::make_unique<Impl>();
  MOERAG_TRY(impl->init(path, options));
  return std::shared_ptr<Engine>(new Engine(std::move(impl)));
}

Result<std::shared_ptr<RequestStream>> Engine::submit(const GenerateRequest& req, const CancelHandle& cancel) {
  Impl& m = *impl_;
  MOERAG_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, m.prompt_ids(req));
  if (prompt.empty()) return Error(ErrorCode::INVALID_INPUT, "the prompt is empty");
  if (req.max_tokens <= 0) return Error(ErrorCode::INVALID_INPUT, "max_tokens must be at least 1");
  if (static_cast<int64_t>(prompt.size()) + req.max_tokens > m.n_ctx) {
    return Error(ErrorCode::CONTEXT_TOO_LONG, "the prompt (" + std::to_string(prompt.size()) + " tokens) plus max_tokens (" +
                                                  std::to_string(req.max_tokens) + ") exceed the context of " +
                                                  std::to_string(m.n_ctx) + " tokens");
  }
  auto stream = std::make_shared<RequestStream>(cancel);
  auto r = std::make_unique<Request>(*m.tok, req, stream);
  r->n_prompt = static_cast<int64_t>(prompt.size());
  r->tokens = std::move(prompt);
  for (int32_t t : r->tokens) r->sampler.accept(t);
  r->arrival = Clock::now();
  if (req.timeout_ms > 0) r->deadline = r->arrival + std::chrono::milliseconds(req.timeout_ms);
  {
    std::lock_guard lock(m.in_mu);
    if (m.stopping) return Error(ErrorCode::UNAVAILABLE, "the engine is shutting down");
    const int64_t queued = static_cast<int64_t>(m.incoming.size()) + m.n_sched_waiting.load();
    if (queued >= m.sched->options().max_waiting) {
      std::lock_guard s(m.stats_mu);
      ++m.stats.n_rejected;
      return Error(ErrorCode::OVERLOADED, "the engine queue is full (" + std::to_string(queued) +
                                              " requests waiting); retry shortly");
    }
    r->id = m.next_id++;
    m.incoming.push_back(std::move(r));
  }
  {
    std::lock_guard s(m.stats_mu);
    ++m.stats.n_requests;
  }
  m.in_cv.notify_all();
  return stream;
}

Result<GenerateResult> Engine::generate(const GenerateRequest& req, const TokenCallback& on_token,
                                        const CancelHandle& cancel) {
  MOERAG_ASSIGN_OR_RETURN(auto stream, submit(req, cancel));
  StreamEvent ev;
  bool stop_calling = false;
  for (;;) {
    const auto n = stream->next(&ev, std::chrono::milliseconds(100));
    if (n == RequestStream::Next::DONE) break;
    if (n != RequestStream::Next::TOKEN || !on_token || stop_calling) continue;
    if (!on_token(ev.id, ev.text)) {
      stop_calling = true;
      stream->cancel();
    }
  }
  return stream->result();
}

std::string Engine::model_id() const { return impl_->name; }
int64_t Engine::n_ctx() const { return impl_->n_ctx; }
const Tokenizer& Engine::tokenizer() const { return *impl_->tok; }

std::vector<std::vector<uint64_t>> Engine::expert_load() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats.expert_load;
}

EngineStats Engine::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

Result<int64_t> Engine::count_prompt_tokens(const GenerateRequest& request) const {
  MOERAG_ASSIGN_OR_RETURN(std::vector<int32_t> ids, impl_->prompt_ids(request));
  return static_cast<int64_t>(ids.size());
}

Result<std::shared_ptr<Engine>> open_engine(const std::string& path, const EngineOptions& options) {
  return Engine::create(path, options);
}

}  // namespace moerag::engine
