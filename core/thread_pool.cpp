// ThreadPool implementation. See thread_pool.h for the design of parallel_for.
#include "core/thread_pool.h"

#include <algorithm>

namespace moerag {
namespace {

using Clock = std::chrono::steady_clock;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

constexpr uint64_t kField = 0xFFFF;  // chunks and next are 16-bit fields of the ticket
inline uint64_t ticket_next(uint64_t t) { return t & kField; }
inline uint64_t ticket_chunks(uint64_t t) { return (t >> 16) & kField; }

}  // namespace

ThreadPool::ThreadPool(size_t n_threads, std::chrono::microseconds spin) : spin_(spin) {
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
    queued_.fetch_add(1);
  }
  cv_.notify_one();
}

bool ThreadPool::job_open() const {
  const uint64_t t = ticket_.load();
  return ticket_next(t) < ticket_chunks(t);
}

bool ThreadPool::help_job() {
  bool ran = false;
  uint64_t t = ticket_.load(std::memory_order_acquire);
  while (ticket_next(t) < ticket_chunks(t)) {
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    const size_t b = static_cast<size_t>(ticket_next(t)) * job_chunk_, e = std::min(job_n_, b + job_chunk_);
    try {
      (*job_f_)(b, e);
    } catch (...) {
      std::lock_guard lock(error_mu_);
      if (!job_error_) job_error_ = std::current_exception();
    }
    pending_.fetch_sub(1, std::memory_order_release);
    ran = true;
    t = ticket_.load(std::memory_order_acquire);
  }
  return ran;
}

void ThreadPool::worker_loop() {
  auto last_work = Clock::now();
  for (unsigned idle = 0;; ++idle) {
    if (help_job()) {
      last_work = Clock::now(), idle = 0;
      continue;
    }
    if (queued_.load(std::memory_order_relaxed) > 0) {
      std::function<void()> task;
      {
        std::lock_guard lock(mu_);
        if (!tasks_.empty()) {
          task = std::move(tasks_.front());
          tasks_.pop();
          queued_.fetch_sub(1);
        }
      }
      if (task) {
        task();
        last_work = Clock::now(), idle = 0;
        continue;
      }
    }
    // Spin a while (a decode step starts its next region within microseconds),
    // checking the clock only every 64 rounds; then block until there is work.
    if ((idle & 63) != 0 || Clock::now() - last_work < spin_) {
      cpu_relax();
      continue;
    }
    std::unique_lock lock(mu_);
    sleepers_.fetch_add(1);
    cv_.wait(lock, [this] { return stopping_ || !tasks_.empty() || job_open(); });
    sleepers_.fetch_sub(1);
    if (stopping_ && tasks_.empty() && !job_open()) return;
    last_work = Clock::now(), idle = 0;
  }
}

void ThreadPool::parallel_for_queued(size_t n, const std::function<void(size_t, size_t)>& f) {
  const size_t parts = std::min(n, workers_.size() + 1), chunk = (n + parts - 1) / parts;
  std::vector<std::future<void>> futs;
  futs.reserve(parts - 1);
  for (size_t p = 1; p < parts; ++p) {
    const size_t b = p * chunk, e = std::min(n, b + chunk);
    if (b >= e) break;
    futs.push_back(submit([&f, b, e] { f(b, e); }));
  }
  std::exception_ptr err;
  try {
    f(0, std::min(n, chunk));
  } catch (...) {
    err = std::current_exception();
  }
  for (auto& fu : futs) {
    try {
      fu.get();
    } catch (...) {
      if (!err) err = std::current_exception();
    }
  }
  if (err) std::rethrow_exception(err);
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& f) {
  if (n == 0) return;
  if (workers_.empty() || n == 1) {
    f(0, n);
    return;
  }
  std::unique_lock job_lock(job_mu_, std::try_to_lock);
  if (!job_lock.owns_lock()) {  // another caller's region is running
    parallel_for_queued(n, f);
    return;
  }
  // A few chunks per thread, so a thread that is descheduled or slow does not hold
  // up the region; claimed dynamically, so faster threads take more.
  const size_t threads = workers_.size() + 1;
  size_t chunks = std::min<size_t>({n, threads * 4, kField});
  const size_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
  job_f_ = &f;
  job_n_ = n;
  job_chunk_ = chunk;
  job_error_ = nullptr;
  pending_.store(chunks, std::memory_order_relaxed);
  ++generation_;
  ticket_.store(static_cast<uint64_t>(generation_) << 32 | static_cast<uint64_t>(chunks) << 16);
  if (sleepers_.load() > 0) {
    std::lock_guard lock(mu_);  // orders the wake-up after a sleeper's predicate check
    cv_.notify_all();
  }
  help_job();
  for (unsigned spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 4096) {
      cpu_relax();
    } else {
      std::this_thread::yield();  // a worker holding a chunk was descheduled
    }
  }
  std::exception_ptr err;
  {
    std::lock_guard lock(error_mu_);
    err = job_error_;
    job_error_ = nullptr;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace moerag
