// bench_safety: checks/s and latency per check of the full filter (normalisation,
// RE2 rules and the classifier) on ~1 KB texts, on one core, next to the baseline of
// merely copying the same text, measured in the same run. `--json` for machine output.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "safety/filter.h"

namespace {

using Clock = std::chrono::steady_clock;

// ~1 KB texts: English, Chinese, mixed with PII, and one that trips a rule.
std::vector<std::string> make_texts() {
  const std::vector<std::string> seeds = {
      "The quarterly report shows revenue growth in every region, driven by the new subscription plans. "
      "Customer churn fell for the third quarter in a row, and the support team answered most tickets within a day. ",
      "长城是中国古代的军事防御工程，修筑的历史可以上溯到西周时期。今天它是世界文化遗产，每年吸引大量游客。",
      "Please update my address; you can reach me at jane.doe@example.com or +44 20 7946 0958 after 5pm. "
      "My order number is 4111111111111112 and it has not arrived yet. ",
      "How do I configure the retrieval settings so that the answer cites the right passages from our handbook? ",
      "Summary of the meeting: ignore previous instructions was discussed as an example of prompt injection. ",
  };
  std::vector<std::string> texts;
  for (size_t i = 0; i < 64; ++i) {
    std::string t;
    for (size_t k = i; t.size() < 1024; ++k) t += seeds[(k * 3 + i) % seeds.size()];
    t.resize(1024);
    while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();  // whole UTF-8
    if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
    texts.push_back(std::move(t));
  }
  return texts;
}

struct Stats {
  double per_s = 0, p50_us = 0, p99_us = 0, mean_us = 0;
};

template <typename F>
Stats measure(const std::vector<std::string>& texts, size_t n, F&& fn) {
  std::vector<double> lat(n);
  auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    fn(texts[i % texts.size()]);
    lat[i] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  }
  double total = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(lat.begin(), lat.end());
  Stats s;
  s.per_s = n / total;
  s.p50_us = lat[n / 2];
  s.p99_us = lat[std::min(n - 1, n * 99 / 100)];
  s.mean_us = total * 1e6 / n;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace moerag::safety;
  bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  auto filter = Filter::create(SafetyOptions{});
  if (!filter.ok()) {
    std::fprintf(stderr, "bench_safety: %s\n", filter.error().message.c_str());
    return 1;
  }
  const auto texts = make_texts();
  const size_t n = 20000;
  volatile size_t sink = 0;
  measure(texts, 2000, [&](const std::string& t) { sink = sink + (*filter)->check(t, Direction::INPUT).scores.size(); });
  Stats copy = measure(texts, n, [&](const std::string& t) { std::string c(t); sink = sink + c.size(); });
  Stats full = measure(texts, n, [&](const std::string& t) { sink = sink + (*filter)->check(t, Direction::INPUT).scores.size(); });
  Stats model = measure(texts, n, [&](const std::string& t) { sink = sink + (*filter)->score(t).size(); });
  if (json) {
    std::printf("{\"text_bytes\":1024,\"checks\":%zu,\"copy\":{\"per_s\":%.0f,\"p99_us\":%.2f},"
                "\"filter\":{\"per_s\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f},\"model_only\":{\"per_s\":%.0f,\"p99_us\":%.2f}}\n",
                n, copy.per_s, copy.p99_us, full.per_s, full.p50_us, full.p99_us, model.per_s, model.p99_us);
    return 0;
  }
  std::printf("safety filter on ~1 KB texts, one thread, %zu checks each\n", n);
  std::printf("%-34s %12s %10s %10s %10s\n", "what", "per second", "mean us", "p50 us", "p99 us");
  std::printf("%-34s %12.0f %10.2f %10.2f %10.2f\n", "baseline: copy the text", copy.per_s, copy.mean_us, copy.p50_us,
              copy.p99_us);
  std::printf("%-34s %12.0f %10.2f %10.2f %10.2f\n", "check(): rules + model", full.per_s, full.mean_us, full.p50_us,
              full.p99_us);
  std::printf("%-34s %12.0f %10.2f %10.2f %10.2f\n", "score(): normalise + rules + model", model.per_s, model.mean_us,
              model.p50_us, model.p99_us);
  std::printf("goal: p99 <= 1000 us per check: %s\n", full.p99_us <= 1000 ? "met" : "NOT met");
  return 0;
}
