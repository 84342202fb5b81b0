// FifoGate (see gate.h).
#include "core/gate.h"

#include <algorithm>
#include <thread>

namespace moerag {

FifoGate::FifoGate(size_t slots)
    : slots_(slots > 0 ? slots : std::max<size_t>(1, std::thread::hardware_concurrency())) {}

size_t FifoGate::per_core(size_t per_core) {
  return per_core * std::max<size_t>(1, std::thread::hardware_concurrency());
}

FifoGate::Pass FifoGate::enter() {
  std::unique_lock<std::mutex> lk(mu_);
  if (active_ < slots_ && queue_.empty()) {
    ++active_;
    return Pass(this);
  }
  Waiter w;
  queue_.push_back(&w);
  w.cv.wait(lk, [&] { return w.ready; });  // exit() handed its slot over (active_ unchanged)
  return Pass(this);
}

void FifoGate::exit() {
  std::lock_guard<std::mutex> lk(mu_);
  if (queue_.empty()) {
    --active_;
    return;
  }
  Waiter* w = queue_.front();
  queue_.pop_front();
  w->ready = true;
  w->cv.notify_one();  // under the lock: w lives on its waiter's stack until it sees ready
}

size_t FifoGate::waiting() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size();
}

size_t FifoGate::active() const {
  std::lock_guard<std::mutex> lk(mu_);
  return active_;
}

}  // namespace moerag
