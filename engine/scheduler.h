// Scheduler: decides what the next engine step computes (vLLM v1 style: the engine
// step is schedule -> run model -> update, and these plain structs pass between
// them). Continuous batching: running sequences each get their next token (a decode)
// or their next prompt chunk, then waiting sequences are admitted while the step's
// token budget, the running limit and the KV cache allow. Long prompts are split
// into chunks so decodes of other sequences keep flowing. Admission attaches cached
// prefix blocks first. When the cache runs out mid-decode, the newest sequence is
// preempted (its blocks freed; it is recomputed later, mostly from the prefix cache).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/kv_cache.h"

namespace moerag::engine {

/// Limits of one engine step and of the queue.
struct SchedulerOptions {
  int32_t max_running = 64;        ///< sequences in the running batch
  int32_t max_batch_tokens = 512;  ///< tokens computed per step (decodes + prefill chunks)
  int32_t max_waiting = 256;       ///< queued requests before new ones get OVERLOADED
};

/// A sequence as the scheduler sees it: its tokens and how many are in the cache.
struct Sequence {
  int64_t id = 0;
  int32_t slot = -1;             ///< KV cache sequence id while running, else -1
  std::vector<int32_t> tokens;   ///< prompt + generated so far
  int64_t n_prompt = 0;
  int64_t n_computed = 0;        ///< leading tokens whose K/V are cached
  int64_t n_cached = 0;          ///< prompt tokens attached from the prefix cache at first admission
  bool admitted_once = false;
  std::chrono::steady_clock::time_point arrival;
};

/// One sequence's share of a step: tokens[pos0, pos0 + n) are computed.
struct ScheduledChunk {
  Sequence* seq = nullptr;
  int64_t pos0 = 0;
  int32_t n = 0;
  bool sample = false;  ///< the chunk reaches the last known token: sample the next one
};

/// What one step computes.
struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;  ///< in batch order
  int64_t n_tokens = 0;
  int32_t n_preempted = 0;             ///< sequences sent back to the queue this step
};

class Scheduler {
 public:
  Scheduler(const SchedulerOptions& options, KvCache& kv);

  /// Queues a sequence (the engine checks max_waiting before).
  void add(Sequence* seq);
  /// Plans the next step and reserves its KV space.
  SchedulerOutput schedule();
  /// Marks a chunk as computed (after the model ran).
  static void computed(const ScheduledChunk& c) { c.seq->n_computed = c.pos0 + c.n; }
  /// Removes a sequence (finished, cancelled, failed) and frees its blocks; full
  /// blocks stay in the prefix cache.
  void remove(Sequence* seq);

  size_t n_waiting() const { return waiting_.size(); }
  size_t n_running() const { return running_.size(); }
  const std::deque<Sequence*>& waiting() const { return waiting_; }
  const std::vector<Sequence*>& running() const { return running_; }
  const SchedulerOptions& options() const { return opt_; }

 private:
  bool admit(Sequence* seq);
  void preempt(Sequence* seq);

  SchedulerOptions opt_;
  KvCache& kv_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // admission order (oldest first)
  std::vector<int32_t> free_slots_;
};

}  // namespace moerag::engine
