// ThreadPool implementation.
#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>

namespace moerag {

ThreadPool::ThreadPool(size_t n_threads) {
  if (n_threads == 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(n_threads);
  for (size_t i = 0; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    tasks_.push(std::move(fn));
  }
  cv_.notify_one();
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop();
    }
    task();
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& f) {
  if (n == 0) return;
  size_t parts = std::min(n, workers_.size() + 1);
  if (parts == 1) {
    f(0, n);
    return;
  }
  size_t chunk = (n + parts - 1) / parts;
  std::vector<std::future<void>> futs;
  futs.reserve(parts - 1);
  for (size_t p = 1; p < parts; ++p) {
    size_t b = p * chunk, e = std::min(n, b + chunk);
    if (b >= e) break;
    futs.push_back(submit([&f, b, e] { f(b, e); }));
  }
  f(0, std::min(n, chunk));
  for (auto& fu : futs) fu.get();
}

}  // namespace moerag
