// FifoGate: at most N holders at a time, the rest wait in arrival order.
//
// Used in front of CPU-bound request work (a chat turn without a model: retrieval,
// ranking, the extractive answer). With one server thread per connection, fifty
// concurrent requests on two cores otherwise share the cores round-robin: every
// request is slowed by all the others and the slowest finish far behind the median.
// Letting as many in as there are cores and queueing the rest first-come-first-
// served keeps the same throughput with a much shorter tail, and fewer context
// switches. Each leaving holder hands its slot to the oldest waiter directly (one
// wake-up, no thundering herd).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace moerag {

class FifoGate {
 public:
  /// slots = 0 means std::thread::hardware_concurrency().
  explicit FifoGate(size_t slots = 0);
  /// `per_core` slots for each core: request work also waits on SQLite and sockets, so
  /// two per core keep the cores busy (bench_chat: 671 req/s vs 570 with one per core).
  static size_t per_core(size_t per_core);
  FifoGate(const FifoGate&) = delete;
  FifoGate& operator=(const FifoGate&) = delete;

  /// RAII hold of one slot; leave() gives it back early.
  class Pass {
   public:
    explicit Pass(FifoGate* g) : g_(g) {}
    Pass(Pass&& o) noexcept : g_(o.g_) { o.g_ = nullptr; }
    Pass& operator=(Pass&&) = delete;
    ~Pass() { leave(); }
    void leave() {
      if (g_ != nullptr) g_->exit();
      g_ = nullptr;
    }

   private:
    FifoGate* g_;
  };

  /// Waits for a slot (in arrival order) and holds it until the Pass goes.
  Pass enter();

  size_t slots() const { return slots_; }
  size_t waiting() const;  ///< callers queued now
  size_t active() const;   ///< slots held now

 private:
  struct Waiter {
    std::condition_variable cv;
    bool ready = false;
  };
  void exit();

  const size_t slots_;
  mutable std::mutex mu_;
  size_t active_ = 0;            // guarded by mu_
  std::deque<Waiter*> queue_;    // guarded by mu_; oldest first
};

}  // namespace moerag
