// bench_kernels: speed of the CPU matrix-vector product (the whole of batch-1 decode)
// for each weight format, beside a plain streaming read of the same bytes measured in
// the same run. Reports GB/s of weight bytes per thread count, out of cache (a matrix
// far larger than L3: what decode sees) and from cache (the kernel's compute limit),
// and how much cheaper per token a product with 8 tokens at once is (batched decode).
//
//   bench_kernels [--threads N] [--mb MB] [--k COLUMNS] [--simd scalar|avx2] [--json]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "engine/kernels/kernels.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace moerag;
using namespace moerag::engine;

double secs(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of the calling thread: unlike wall time, not inflated when the thread
// is descheduled on a busy machine.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Sum of all 64-bit words of [p, p + n): a read stream the compiler cannot drop.
uint64_t read_sum(const uint8_t* p, size_t n) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const auto* q = reinterpret_cast<const uint64_t*>(p);
  for (size_t i = 0; i + 4 <= n / 8; i += 4) s0 += q[i], s1 += q[i + 1], s2 += q[i + 2], s3 += q[i + 3];
  return s0 + s1 + s2 + s3;
}

// Best-of-5 GB/s of reading `bytes` from buf with `threads` threads.
double read_gb_s(const uint8_t* buf, size_t bytes, int threads) {
  double best = 0;
  std::vector<uint64_t> sink(static_cast<size_t>(threads));
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    std::vector<std::thread> ts;
    const size_t part = bytes / static_cast<size_t>(threads);
    for (int i = 0; i < threads; ++i) ts.emplace_back([&, i] { sink[i] = read_sum(buf + i * part, part); });
    for (auto& t : ts) t.join();
    best = std::max(best, static_cast<double>(bytes) / secs(t0) / 1e9);
  }
  return best + static_cast<double>(sink[0] & 1) * 1e-12;
}

struct Row {
  std::string type;
  int threads;
  double mem_gb_s, cache_gb_s, read_gb_s;
  double cpu_gb_s;    // one thread, cached, per CPU-second
  double batch8_x;    // one thread, cached: 8 tokens at once vs 8 single-token products
};

}  // namespace

int main(int argc, char** argv) {
  int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  size_t mb = 512;
  bool json = false;
  int64_t K = 4096;  // columns: a typical n_ff / n_embd
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      max_threads = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--mb" && i + 1 < argc) {
      mb = std::max<size_t>(16, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--k" && i + 1 < argc) {
      K = std::max<int64_t>(256, std::atoll(argv[++i]) / 256 * 256);
    } else if (a == "--simd" && i + 1 < argc) {
      kernels::cpu::force_simd_level(argv[++i]);  // a lower instruction set than the CPU's
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "usage: bench_kernels [--threads N] [--mb MB] [--k COLUMNS] [--simd scalar|avx2] [--json]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> x(K), src(K);
  for (auto& v : x) v = nd(rng);

  std::vector<Row> rows;
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::F16}) {
    const size_t row_bytes = type_traits(type).type_size * static_cast<size_t>(K / type_traits(type).block_size);
    const int64_t n_rows = static_cast<int64_t>((mb << 20) / row_bytes);
    std::unique_ptr<uint8_t, decltype(&std::free)> w(
        static_cast<uint8_t*>(std::aligned_alloc(64, (row_bytes * n_rows + 63) / 64 * 64)), &std::free);
    for (int64_t r = 0; r < 256; ++r) {  // 256 random rows, repeated (content does not change the speed)
      for (auto& v : src) v = nd(rng);
      if (!quantize_row(type, src.data(), w.get() + r * row_bytes, K).ok()) return 1;
    }
    for (int64_t r = 256; r < n_rows; ++r) std::memcpy(w.get() + r * row_bytes, w.get() + (r % 256) * row_bytes, row_bytes);
    std::vector<float> y(static_cast<size_t>(n_rows));
    for (int threads = 1; threads <= max_threads; threads *= 2) {
      std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads - 1) : nullptr;
      auto run = [&](int64_t nr, int reps) {
        const kernels::MatView m{type, w.get(), nr, K, row_bytes};
        double best = 1e30;
        for (int i = 0; i < reps; ++i) {
          const auto t0 = Clock::now();
          kernels::cpu::matmul(m, x.data(), 1, y.data(), pool.get());
          best = std::min(best, secs(t0));
        }
        return static_cast<double>(row_bytes * nr) / best / 1e9;
      };
      Row row{type_traits(type).name, threads, 0, 0, 0, 0, 0};
      row.mem_gb_s = run(n_rows, 5);
      const int64_t cache_rows = std::max<int64_t>(16, (512 << 10) / static_cast<int64_t>(row_bytes)) * threads;
      row.cache_gb_s = run(cache_rows, 200);
      row.read_gb_s = read_gb_s(w.get(), row_bytes * n_rows, threads);
      if (threads == 1) {
        const kernels::MatView m{type, w.get(), cache_rows, K, row_bytes};
        double best = 1e30;
        for (int i = 0; i < 200; ++i) {
          const double t0 = thread_cpu_s();
          kernels::cpu::matmul(m, x.data(), 1, y.data(), nullptr);
          const double dt = thread_cpu_s() - t0;
          if (dt > 0) best = std::min(best, dt);
        }
        row.cpu_gb_s = static_cast<double>(row_bytes * cache_rows) / best / 1e9;
        std::vector<float> x8(static_cast<size_t>(8 * K)), y8(static_cast<size_t>(8 * cache_rows));
        for (int64_t i = 0; i < 8 * K; ++i) x8[static_cast<size_t>(i)] = x[static_cast<size_t>(i % K)] * (1 + i / K);
        double best8 = 1e30;
        for (int i = 0; i < 100; ++i) {
          const double t0 = thread_cpu_s();
          kernels::cpu::matmul(m, x8.data(), 8, y8.data(), nullptr);
          const double dt = thread_cpu_s() - t0;
          if (dt > 0) best8 = std::min(best8, dt);
        }
        row.batch8_x = 8 * best / best8;
      }
      rows.push_back(row);
      if (threads * 2 > max_threads && threads != max_threads) threads = max_threads / 2;  // always end at max
    }
  }
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows) {
      j.push_back({{"type", r.type}, {"threads", r.threads}, {"matvec_gb_s", r.mem_gb_s},
                   {"matvec_cached_gb_s", r.cache_gb_s}, {"read_gb_s", r.read_gb_s},
                   {"matvec_cached_gb_per_cpu_s", r.cpu_gb_s}, {"batch8_speedup", r.batch8_x},
                   {"pct_of_read", 100.0 * r.mem_gb_s / r.read_gb_s}});
    }
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("matrix-vector product, K = %lld, %zu MB of weights per type (simd: %s)\n", static_cast<long long>(K), mb,
              kernels::cpu::simd_level());
  std::printf("%-6s %7s %14s %14s %16s %8s %18s %13s\n", "type", "threads", "matvec GB/s", "cached GB/s", "read GB/s (base)",
              "% read", "cached GB/cpu-s", "8-token gain");
  for (const auto& r : rows) {
    char cpu[32] = "", gain[32] = "";
    if (r.threads == 1) {
      std::snprintf(cpu, sizeof cpu, "%.1f", r.cpu_gb_s);
      std::snprintf(gain, sizeof gain, "%.2fx", r.batch8_x);
    }
    std::printf("%-6s %7d %14.1f %14.1f %16.1f %7.0f%% %18s %13s\n", r.type.c_str(), r.threads, r.mem_gb_s,
                r.cache_gb_s, r.read_gb_s, 100.0 * r.mem_gb_s / r.read_gb_s, cpu, gain);
  }
  return 0;
}
