// `moerag model bench`: prefill and decode speed of a GGUF model on this machine, and
// beside them the baselines measured in the same run: memory bandwidth (a parallel
// copy) and the decode ceiling it implies (bandwidth / bytes of active weights + KV
// read per token), the same with a read-only bandwidth (decode only reads, and on some
// machines reads alone reach well under a copy's read + write bytes), and a
// single-threaded OpenBLAS SGEMM of a prefill-sized shape.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "engine/forward.h"

namespace moerag::cli {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Bandwidth {
  double copy_gb_s = 0;  ///< the ceiling's bandwidth: bytes read + written by a parallel memcpy
  double read_gb_s = 0;  ///< reading alone (what decode does), for comparison
};

// Best-of-3 bandwidths with n_threads threads over 512 MB buffers (well above any cache):
// a copy, counting bytes read + written, and a read-only sum of the same source.
Bandwidth measure_bandwidth(int n_threads) {
  const size_t bytes = size_t{512} << 20;
  std::vector<uint64_t> src(bytes / 8, 1), dst(bytes / 8, 0);
  const size_t part = src.size() / static_cast<size_t>(n_threads);
  auto parallel = [&](auto&& body) {
    const auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int i = 0; i < n_threads; ++i) ts.emplace_back([&, i] { body(static_cast<size_t>(i) * part); });
    for (auto& t : ts) t.join();
    return seconds_since(t0);
  };
  Bandwidth bw;
  std::vector<uint64_t> sums(static_cast<size_t>(n_threads));
  for (int rep = 0; rep < 3; ++rep) {
    const double copy_s = parallel([&](size_t b) { std::memcpy(dst.data() + b, src.data() + b, part * 8); });
    bw.copy_gb_s = std::max(bw.copy_gb_s, 2.0 * static_cast<double>(bytes) / copy_s / 1e9);
    const double read_s = parallel([&](size_t b) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four chains: the adds keep up with the loads
      for (size_t i = b; i + 4 <= b + part; i += 4) s0 += src[i], s1 += src[i + 1], s2 += src[i + 2], s3 += src[i + 3];
      sums[b / part] = s0 + s1 + s2 + s3;
    });
    bw.read_gb_s = std::max(bw.read_gb_s, static_cast<double>(bytes) / read_s / 1e9);
  }
  if (sums[0] != part) bw.read_gb_s = 0;  // the sum is used, so the reads are not optimised away
  return bw;
}

// GFLOP/s of one-threaded SGEMM C[m, n] = A[m, k] B[n, k]^T (the matmul shape of prefill).
double sgemm_gflops(int m, int n, int k) {
  openblas_set_num_threads(1);
  std::vector<float> a(static_cast<size_t>(m) * k, 0.01f), b(static_cast<size_t>(n) * k, 0.02f),
      c(static_cast<size_t>(m) * n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
  auto t0 = Clock::now();
  int reps = 0;
  do {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
    ++reps;
  } while (seconds_since(t0) < 1.0);
  return 2.0 * m * n * k * reps / seconds_since(t0) / 1e9;
}

struct BenchArgs {
  std::string model;
  int p = 512, n = 128, threads = 0;
  std::string kv_type = "f16";
  bool json = false;
};

int run_bench(const BenchArgs& a) {
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto backend = engine::make_cpu_backend(static_cast<size_t>(threads));
  auto model = engine::Model::load(a.model, *backend);
  if (!model.ok()) return fail(model.error().message);
  const engine::ModelConfig& c = (*model)->config();
  if (c.arch == engine::Arch::BERT) return fail("model bench measures decoder models");
  engine::KvCacheOptions ko;
  if (auto t = engine::parse_type_name(a.kv_type)) ko.type = *t;
  ko.n_ctx = a.p + a.n + 1;
  ko.prefix_reuse = false;
  auto kv = engine::KvCache::create(c, *backend, ko);
  if (!kv.ok()) return fail(kv.error().message);
  engine::Forward fwd(**model, *backend, kv->get());
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(c.n_vocab - 1));

  // Prefill: one batch of p tokens (also pages the weights in).
  (void)(*kv)->add_sequence(0);
  std::vector<engine::BatchToken> batch;
  for (int i = 0; i < a.p; ++i) batch.push_back({tok(rng), 0, i, i + 1 == a.p});
  std::vector<float> logits;
  auto t0 = Clock::now();
  if (auto st = fwd.decode(batch, &logits); !st.ok()) return fail(st.error().message);
  const double prefill_s = seconds_since(t0);
  uint64_t active_elems = 0;
  const uint64_t active_bytes = (*model)->active_weights(&active_elems);
  const double prefill_gflops = 2.0 * static_cast<double>(active_elems) * a.p / prefill_s / 1e9;

  // Decode: n single-token steps of the same sequence.
  t0 = Clock::now();
  for (int i = 0; i < a.n; ++i) {
    logits.clear();
    const std::vector<engine::BatchToken> one = {{tok(rng), 0, a.p + i, true}};
    if (auto st = fwd.decode(one, &logits); !st.ok()) return fail(st.error().message);
  }
  const double decode_s = seconds_since(t0);
  const double decode_tok_s = a.n / decode_s;
  const double kv_read = static_cast<double>((*kv)->bytes_per_token()) * (a.p + a.n / 2.0);  // mean context
  const Bandwidth mem = measure_bandwidth(threads);
  const double bw = mem.copy_gb_s, per_token = static_cast<double>(active_bytes) + kv_read;
  const double ceiling = bw * 1e9 / per_token, read_ceiling = mem.read_gb_s * 1e9 / per_token;
  const int ff = static_cast<int>(c.n_expert > 0 ? c.n_ff_exp : c.n_ff);
  const double blas = sgemm_gflops(a.p, ff, static_cast<int>(c.n_embd));

  nlohmann::json j = {{"prefill_tok_s", a.p / prefill_s},
                      {"decode_tok_s", decode_tok_s},
                      {"bandwidth_gb_s", bw},
                      {"decode_ceiling_tok_s", ceiling},
                      {"decode_pct_of_ceiling", 100.0 * decode_tok_s / ceiling},
                      {"read_bandwidth_gb_s", mem.read_gb_s},
                      {"decode_pct_of_read_ceiling", 100.0 * decode_tok_s / read_ceiling},
                      {"prefill_gflop_s", prefill_gflops},
                      {"openblas_sgemm_1t_gflop_s", blas},
                      {"active_weight_bytes", active_bytes},
                      {"kv_bytes_per_token", (*kv)->bytes_per_token()},
                      {"threads", threads},
                      {"huge_page_share", (*model)->file().huge_page_share()},
                      {"simd", backend->name()}};
  if (a.json) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::printf("model %s (%s), %d threads, %s\n", a.model.c_str(), engine::arch_name(c.arch), threads,
              backend->name().c_str());
  if (double h = (*model)->file().huge_page_share(); h >= 0)
    std::printf("weights mapped from the file, %.0f%% of the sampled pages through 2 MiB entries\n", 100.0 * h);
  std::printf("%-28s %12s %s\n", "measure", "value", "baseline (same run)");
  std::printf("%-28s %12.1f %.1f GFLOP/s vs OpenBLAS SGEMM 1 thread [%d x %d x %lld]: %.1f GFLOP/s\n",
              "prefill tok/s", a.p / prefill_s, prefill_gflops, a.p, ff, static_cast<long long>(c.n_embd), blas);
  std::printf("%-28s %12.2f ceiling %.2f tok/s = %.1f GB/s copy / %.1f MB per token: %.1f%%\n", "decode tok/s",
              decode_tok_s, ceiling, bw, per_token / 1e6, 100.0 * decode_tok_s / ceiling);
  std::printf("%-28s %12s %.2f tok/s = %.1f GB/s read-only sum: %.1f%%\n", "", "read ceiling", read_ceiling,
              mem.read_gb_s, 100.0 * decode_tok_s / read_ceiling);
  return 0;
}

RegisterCommand reg(44, [](CLI::App& app) {
  auto* model = group(app, "model", "GGUF models: inspect, synthesise, quantise, run");
  auto* sub = model->add_subcommand("bench", "Prefill/decode speed against the memory-bandwidth ceiling");
  auto a = std::make_shared<BenchArgs>();
  sub->add_option("--model", a->model, "GGUF model file")->required();
  sub->add_option("-p", a->p, "Prompt tokens (prefill batch)")->capture_default_str();
  sub->add_option("-n", a->n, "Decoded tokens")->capture_default_str();
  sub->add_option("-t,--threads", a->threads, "CPU threads (0 = all)");
  sub->add_option("--kv-type", a->kv_type, "KV cache type: f16, f32, q8_0")->capture_default_str();
  sub->add_flag("--json", a->json, "Print one JSON object");
  on_run(sub, [a] { return run_bench(*a); });
});

}  // namespace
}  // namespace moerag::cli
