// Scheduler: running sequences first (oldest first, so a preemption hits the newest),
// then admissions from the head of the queue while the budget and cache allow.
#include "engine/scheduler.h"

#include <algorithm>

namespace moerag::engine {

Scheduler::Scheduler(const SchedulerOptions& options, KvCache& kv) : opt_(options), kv_(kv) {
  opt_.max_running = std::max(1, opt_.max_running);
  opt_.max_batch_tokens = std::max(1, opt_.max_batch_tokens);
  for (int32_t s = opt_.max_running - 1; s >= 0; --s) free_slots_.push_back(s);
}

void Scheduler::add(Sequence* seq) { waiting_.push_back(seq); }

void Scheduler::remove(Sequence* seq) {
  auto it = std::find(running_.begin(), running_.end(), seq);
  if (it != running_.end()) running_.erase(it);
  auto wt = std::find(waiting_.begin(), waiting_.end(), seq);
  if (wt != waiting_.end()) waiting_.erase(wt);
  if (seq->slot >= 0) {
    kv_.remove_sequence(seq->slot);
    free_slots_.push_back(seq->slot);
    seq->slot = -1;
  }
}

void Scheduler::preempt(Sequence* seq) {
  remove(seq);
  seq->n_computed = 0;
  waiting_.push_front(seq);
}

// Admits `seq` when the cache can hold its uncomputed tokens plus one block of
// headroom for decodes; attaches cached prefix blocks first.
bool Scheduler::admit(Sequence* seq) {
  const int32_t slot = free_slots_.back();
  if (!kv_.add_sequence(slot).ok()) return false;
  const int64_t cached = kv_.attach_prefix(slot, seq->tokens);
  const int64_t bs = kv_.block_size();
  const int64_t need = (static_cast<int64_t>(seq->tokens.size()) - cached + bs - 1) / bs + 1;
  if (kv_.n_free_blocks() < need && !running_.empty()) {
    kv_.remove_sequence(slot);  // wait for running sequences to finish
    return false;
  }
  free_slots_.pop_back();
  seq->slot = slot;
  seq->n_computed = cached;
  if (!seq->admitted_once) seq->n_cached = cached;
  seq->admitted_once = true;
  running_.push_back(seq);
  return true;
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  int64_t budget = opt_.max_batch_tokens;
  const std::vector<Sequence*> order = running_;
  for (Sequence* seq : order) {
    if (budget == 0) break;
    if (seq->slot < 0) continue;  // preempted earlier in this loop
    const int64_t remaining = static_cast<int64_t>(seq->tokens.size()) - seq->n_computed;
    const int64_t n = std::min(remaining, budget);
    if (n <= 0) continue;
    bool ok = true;
    while (!kv_.reserve(seq->slot, n).ok()) {
      Sequence* victim = running_.back();
      preempt(victim);
      ++out.n_preempted;
      if (victim == seq) {
        ok = false;
        break;
      }
      // A victim scheduled earlier in this step gives its tokens back.
      for (auto it = out.chunks.begin(); it != out.chunks.end(); ++it) {
        if (it->seq == victim) {
          budget += it->n;
          out.n_tokens -= it->n;
          out.chunks.erase(it);
          break;
        }
      }
    }
    if (!ok) continue;
    out.chunks.push_back({seq, seq->n_computed, static_cast<int32_t>(n), seq->n_computed + n == static_cast<int64_t>(seq->tokens.size())});
    out.n_tokens += n;
    budget -= n;
  }
  while (budget > 0 && !waiting_.empty() && !free_slots_.empty() && out.n_preempted == 0) {
    Sequence* seq = waiting_.front();
    if (!admit(seq)) break;
    waiting_.pop_front();
    const int64_t n = std::min(static_cast<int64_t>(seq->tokens.size()) - seq->n_computed, budget);
    if (!kv_.reserve(seq->slot, n).ok()) {  // cannot happen after admit's check; be safe
      preempt(seq);
      break;
    }
    out.chunks.push_back({seq, seq->n_computed, static_cast<int32_t>(n), seq->n_computed + n == static_cast<int64_t>(seq->tokens.size())});
    out.n_tokens += n;
    budget -= n;
  }
  return out;
}

}  // namespace moerag::engine
