// A fixed-size thread pool: submit tasks for futures, or split an index range
// across the workers and the calling thread with parallel_for.
//
// parallel_for is built for the engine's hot loop (hundreds of short parallel
// regions per generated token): the range is published as one lock-free job that
// the caller and the workers take chunks of through a single atomic ticket, and
// workers spin for a short while after their last piece of work before they sleep,
// so back-to-back regions cost no futex wake-ups. A region started while another
// caller's region is running falls back to queued tasks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace moerag {

class ThreadPool {
 public:
  /// n_threads = 0 means std::thread::hardware_concurrency(). Idle workers spin for
  /// `spin` after their last task or chunk before they block (0: block at once).
  explicit ThreadPool(size_t n_threads = 0, std::chrono::microseconds spin = std::chrono::microseconds(1000));
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
  /// the calling thread; returns when all chunks are done and rethrows the first
  /// exception a chunk threw. Must not be called from a worker of the same pool.
  void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)>& f);

 private:
  void enqueue(std::function<void()> fn);
  void worker_loop();
  bool job_open() const;
  bool help_job();  ///< runs chunks of the current job until none is left; true if it ran any
  void parallel_for_queued(size_t n, const std::function<void(size_t, size_t)>& f);

  std::vector<std::thread> workers_;
  std::chrono::microseconds spin_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::queue<std::function<void()>> tasks_;  // guarded by mu_
  std::atomic<size_t> queued_{0};            // tasks_.size(), readable without mu_
  std::atomic<int> sleepers_{0};             // workers blocked (or about to block) on cv_
  bool stopping_ = false;                    // guarded by mu_

  // The current parallel_for job. ticket_ packs [generation:32][chunks:16][next:16];
  // a chunk is claimed by a compare-exchange of the whole ticket, so a worker that
  // read a stale ticket can never claim a chunk of a later job, and the job's fields
  // (written before the ticket is published) stay valid while a claimed chunk runs.
  std::mutex job_mu_;  // one job at a time
  std::atomic<uint64_t> ticket_{0};
  std::atomic<size_t> pending_{0};  // claimed-or-not chunks not yet finished
  uint32_t generation_ = 0;         // guarded by job_mu_
  const std::function<void(size_t, size_t)>* job_f_ = nullptr;
  size_t job_n_ = 0, job_chunk_ = 0;
  std::mutex error_mu_;
  std::exception_ptr job_error_;  // guarded by error_mu_
};

}  // namespace moerag
