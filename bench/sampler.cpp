// bench_sampler: cost of picking one token from the logits of a large vocabulary
// (DeepSeek's 102,400 by default), for the sampling settings a server sees, against
// the baseline of merely sorting the vocabulary by logit (what a sampler that orders
// every token before truncating pays at least), measured in the same run.
//
//   bench_sampler [--vocab N] [--tokens N] [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sampler.h"

using namespace moerag::engine;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int vocab = 102400, tokens = 200;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--vocab" && i + 1 < argc) vocab = std::atoi(argv[++i]);
    else if (a == "--tokens" && i + 1 < argc) tokens = std::atoi(argv[++i]);
    else if (a == "--json") json = true;
    else {
      std::fprintf(stderr, "usage: bench_sampler [--vocab N] [--tokens N] [--json]\n");
      return 2;
    }
  }
  if (vocab < 2 || tokens < 1) return std::fprintf(stderr, "--vocab >= 2 and --tokens >= 1\n"), 2;
  // Logits shaped like a language model's: a few strong candidates over a broad tail.
  std::mt19937 g(7);
  std::normal_distribution<float> tail(-4.0f, 2.5f);
  std::vector<std::vector<float>> rows(16, std::vector<float>(static_cast<size_t>(vocab)));
  for (auto& r : rows) {
    for (float& x : r) x = tail(g);
    for (int k = 0; k < 8; ++k) r[g() % static_cast<unsigned>(vocab)] = 6.0f + static_cast<float>(k);
  }
  struct Case {
    const char* name;
    SamplingParams p;
  };
  std::vector<Case> cases(5);
  cases[0].name = "greedy";
  cases[1].name = "temperature 0.8";
  cases[1].p.temperature = 0.8f;
  cases[2].name = "temperature 0.8, top-p 0.95";
  cases[2].p.temperature = 0.8f, cases[2].p.top_p = 0.95f;
  cases[3].name = "temperature 0.8, top-k 40";
  cases[3].p.temperature = 0.8f, cases[3].p.top_k = 40;
  cases[4].name = "temperature 0.8, min-p 0.05";
  cases[4].p.temperature = 0.8f, cases[4].p.min_p = 0.05f;
  std::vector<float> work(static_cast<size_t>(vocab));
  auto time_ms = [&](auto&& one) {
    auto t0 = Clock::now();
    for (int i = 0; i < tokens; ++i) {
      const auto& r = rows[static_cast<size_t>(i) % rows.size()];
      std::copy(r.begin(), r.end(), work.begin());
      one();
    }
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / tokens;
  };
  std::vector<int32_t> idx(static_cast<size_t>(vocab));
  long sink = 0;
  const double sort_ms = time_ms([&] {
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return work[a] > work[b]; });
    sink += idx[0];
  });
  const double copy_ms = time_ms([&] { sink += static_cast<long>(work[0]); });
  nlohmann::json out = {{"vocab", vocab}, {"tokens", tokens}, {"sort_baseline_ms", sort_ms}, {"copy_ms", copy_ms}};
  if (!json)
    std::printf("sampling one token from %d logits (%d tokens per case; logits copied in each time: %.3f ms)\n"
                "%-30s %10s %16s\n%-30s %10.3f %16s\n",
                vocab, tokens, copy_ms, "case", "ms/token", "vs full sort", "full sort by logit (baseline)", sort_ms, "1.00x");
  for (auto& c : cases) {
    Sampler s(c.p);
    const double ms = time_ms([&] { sink += s.sample(work.data(), vocab); });
    out[c.name] = ms;
    if (!json) std::printf("%-30s %10.3f %15.1fx\n", c.name, ms, sort_ms / ms);
  }
  if (json) std::printf("%s\n", out.dump().c_str());
  volatile long keep = sink;  // the picks are used, so none is optimised away
  (void)keep;
  return 0;
}
