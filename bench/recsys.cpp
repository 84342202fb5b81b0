// bench_recsys: latency of Recommender::recommend at k = 10 (p50/p99/mean, with and
// without explanations) on MovieLens ml-latest-small imported through the front
// door, or a synthetic set of the same size when the data is absent; next to the
// baseline of a brute-force dot-product scan over every item (128-d, the size of
// the model's concatenated embedding views), measured in the same run. Wall time and
// the calling thread's CPU time are both reported: on a shared, oversubscribed
// machine the wall-time tail is mostly waiting for a core. `--json`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "apps/recsys/recsys.h"
#include "core/sqlite.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace moerag;

struct Stats {
  double p50_ms = 0, p99_ms = 0, mean_ms = 0, cpu_p50_ms = 0, cpu_p99_ms = 0;
};

// This thread's CPU time in ms (excludes time spent waiting for a core).
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

Stats summarise(std::vector<double> lat, std::vector<double> cpu) {
  std::sort(lat.begin(), lat.end());
  std::sort(cpu.begin(), cpu.end());
  auto p99 = [](const std::vector<double>& v) { return v[std::min(v.size() - 1, v.size() * 99 / 100)]; };
  Stats s;
  s.p50_ms = lat[lat.size() / 2];
  s.p99_ms = p99(lat);
  s.cpu_p50_ms = cpu[cpu.size() / 2];
  s.cpu_p99_ms = p99(cpu);
  double sum = 0;
  for (double x : lat) sum += x;
  s.mean_ms = sum / lat.size();
  return s;
}

// A MovieLens-sized synthetic set: 610 users, 9742 items in 20 genres, 100k
// interactions with a Zipf-like item popularity and a genre preference per user.
void synthetic(std::vector<recsys::ItemRecord>& items, std::vector<recsys::InteractionRecord>& xs) {
  const int n_users = 610, n_items = 9742, n_genres = 20, n_x = 100836;
  std::mt19937_64 rng(7);
  for (int i = 0; i < n_items; ++i)
    items.push_back({"m" + std::to_string(i), "Movie " + std::to_string(i),
                     {"genre:g" + std::to_string(i % n_genres), "genre:g" + std::to_string((i * 7 + 3) % n_genres)}});
  std::vector<double> w(n_items);
  for (int i = 0; i < n_items; ++i) w[i] = 1.0 / std::pow(i + 1.0, 0.9);
  std::discrete_distribution<int> pop(w.begin(), w.end());
  for (int k = 0; k < n_x; ++k) {
    int u = static_cast<int>(rng() % n_users);
    int i = pop(rng);
    if (rng() % 2) i = (i / n_genres) * n_genres + u % n_genres;  // half the time the user's genre
    xs.push_back({"u" + std::to_string(u), "m" + std::to_string(std::min(i, n_items - 1)),
                  recsys::InteractionKind::RATING, 1.0 + rng() % 5, 1000000 + k});
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  const std::string ml = std::string(MOERAG_SHARED_DATA) + "/movielens-latest-small";
  auto tmp = std::filesystem::temp_directory_path() / ("bench_recsys_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  auto db = sql::Database::open((tmp / "moerag.db").string());
  if (!db.ok()) return std::fprintf(stderr, "bench_recsys: %s\n", db.error().message.c_str()), 1;
  auto rec = recsys::Recommender::create(*db, (tmp / "recsys").string());
  if (!rec.ok()) return std::fprintf(stderr, "bench_recsys: %s\n", rec.error().message.c_str()), 1;
  std::string dataset;
  if (std::filesystem::exists(ml + "/ratings.csv")) {
    recsys::ColumnMap c;
    c.item_id = "movieId";
    c.user_id = "userId";
    c.weight = "rating";
    c.time = "timestamp";
    c.default_kind = "rating";
    auto rep = (*rec)->import_files("", ml + "/movies.csv", ml + "/ratings.csv", c);
    if (!rep.ok()) return std::fprintf(stderr, "bench_recsys: %s\n", rep.error().message.c_str()), 1;
    dataset = "movielens-latest-small";
  } else {
    std::vector<recsys::ItemRecord> items;
    std::vector<recsys::InteractionRecord> xs;
    synthetic(items, xs);
    if (auto rep = (*rec)->import({}, items, xs); !rep.ok())
      return std::fprintf(stderr, "bench_recsys: %s\n", rep.error().message.c_str()), 1;
    dataset = "synthetic (MovieLens-sized)";
  }
  auto t0 = Clock::now();
  if (auto st = (*rec)->train(); !st.ok()) return std::fprintf(stderr, "bench_recsys: %s\n", st.error().message.c_str()), 1;
  double train_s = std::chrono::duration<double>(Clock::now() - t0).count();
  auto status = (*rec)->status();

  // The same request stream for every row: random users, k = 10.
  std::vector<std::string> users;
  {
    // User ids are not listed by the front door; MovieLens ids are 1..610, synthetic u0..u609.
    std::mt19937_64 rng(11);
    for (int k = 0; k < 3000; ++k) {
      int u = static_cast<int>(rng() % status.n_users);
      users.push_back(dataset[0] == 'm' ? std::to_string(u + 1) : "u" + std::to_string(u));
    }
  }
  auto run = [&](bool explain, size_t n) {
    std::vector<double> lat, cpu;
    for (size_t k = 0; k < n; ++k) {
      recsys::RecommendRequest r;
      r.user_id = users[k % users.size()];
      r.k = 10;
      r.explain = explain;
      auto s = Clock::now();
      double c0 = cpu_ms();
      auto out = (*rec)->recommend(r);
      cpu.push_back(cpu_ms() - c0);
      lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      if (!out.ok()) std::fprintf(stderr, "bench_recsys: %s\n", out.error().message.c_str());
    }
    return summarise(lat, cpu);
  };
  // Baseline: score every item by a 128-d dot product and keep the top 10.
  const int dim = 128;
  const int32_t n_items = static_cast<int32_t>(status.n_items);
  std::vector<float> item_vecs(static_cast<size_t>(n_items) * dim), q(dim);
  std::mt19937_64 rng(5);
  std::normal_distribution<float> nd;
  for (auto& x : item_vecs) x = nd(rng);
  auto scan = [&](size_t n) {
    std::vector<double> lat, cpu;
    std::vector<float> score(n_items);
    std::vector<int32_t> idx(n_items);
    volatile int32_t sink = 0;
    for (size_t k = 0; k < n; ++k) {
      for (auto& x : q) x = nd(rng);
      auto s = Clock::now();
      double c0 = cpu_ms();
      for (int32_t i = 0; i < n_items; ++i) {
        const float* v = item_vecs.data() + static_cast<size_t>(i) * dim;
        float d = 0;
        for (int j = 0; j < dim; ++j) d += q[j] * v[j];
        score[i] = d;
        idx[i] = i;
      }
      std::partial_sort(idx.begin(), idx.begin() + 10, idx.end(), [&](int32_t a, int32_t b) { return score[a] > score[b]; });
      sink = idx[0];
      cpu.push_back(cpu_ms() - c0);
      lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    }
    (void)sink;
    return summarise(lat, cpu);
  };
  run(false, 200);  // warm-up
  Stats base = scan(3000), plain = run(false, 3000), explained = run(true, 1000);
  std::filesystem::remove_all(tmp);
  auto row_json = [](const Stats& x) {
    char b[200];
    std::snprintf(b, sizeof b, "{\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"mean_ms\":%.3f,\"cpu_p50_ms\":%.3f,\"cpu_p99_ms\":%.3f}",
                  x.p50_ms, x.p99_ms, x.mean_ms, x.cpu_p50_ms, x.cpu_p99_ms);
    return std::string(b);
  };
  if (json) {
    std::printf("{\"dataset\":\"%s\",\"users\":%lld,\"items\":%lld,\"interactions\":%lld,\"train_seconds\":%.1f,\"k\":10,"
                "\"rows\":{\"baseline_bruteforce_dot128\":%s,\"recommend\":%s,\"recommend_explain\":%s}}\n",
                dataset.c_str(), static_cast<long long>(status.n_users), static_cast<long long>(status.n_items),
                static_cast<long long>(status.n_interactions), train_s, row_json(base).c_str(), row_json(plain).c_str(),
                row_json(explained).c_str());
    return 0;
  }
  std::printf("dataset %s: %lld users, %lld items, %lld interactions; trained in %.1f s\n", dataset.c_str(),
              static_cast<long long>(status.n_users), static_cast<long long>(status.n_items),
              static_cast<long long>(status.n_interactions), train_s);
  std::printf("%-34s %9s %9s %9s %11s %11s\n", "k = 10, one thread", "p50 ms", "p99 ms", "mean ms", "cpu p50 ms",
              "cpu p99 ms");
  auto row = [](const char* name, const Stats& x) {
    std::printf("%-34s %9.3f %9.3f %9.3f %11.3f %11.3f\n", name, x.p50_ms, x.p99_ms, x.mean_ms, x.cpu_p50_ms,
                x.cpu_p99_ms);
  };
  row("baseline: brute-force 128-d scan", base);
  row("recommend", plain);
  row("recommend + explanations", explained);
  return 0;
}
