// A fixed-size thread pool: submit tasks for futures, or split an index range
// across the workers and the calling thread with parallel_for.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace moerag {

class ThreadPool {
 public:
  /// n_threads = 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(size_t n_threads = 0);
  ~ThreadPool();  ///< finishes queued tasks, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  /// Runs f on a worker; the future carries its result or exception.
  template <typename F>
  auto submit(F&& f) -> std::future<decltype(f())> {
    using R = decltype(f());
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
    auto fut = task->get_future();
    enqueue([task] { (*task)(); });
    return fut;
  }

  /// Calls f(begin, end) on disjoint chunks covering [0, n), using the workers and
  /// the calling thread; returns when all chunks are done. Must not be called from
  /// a worker of the same pool.
  void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)>& f);

 private:
  void enqueue(std::function<void()> fn);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::queue<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
};

}  // namespace moerag
