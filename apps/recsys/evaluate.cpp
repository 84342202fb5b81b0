// The evaluation protocol of evaluate.h: split, validation tuning of the
// baselines, scoring loops and the metrics.
#include "apps/recsys/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_set>

#include "apps/recsys/baselines.h"
#include "apps/recsys/model.h"
#include "core/thread_pool.h"

namespace moerag::recsys {
namespace {

using ScoreFn = std::function<void(int32_t user, std::vector<float>& out)>;

struct Split {
  Dataset train;
  std::vector<std::vector<int32_t>> test;  // [n_users] held-out items not seen in train
};

// Per user, the latest `frac` of interactions (by time) go to the test side.
Split temporal_split(const Dataset& all, double frac) {
  Split s;
  s.train = all;
  s.train.events.clear();
  s.test.assign(all.n_users(), {});
  const auto& hist = all.histories();
  std::vector<std::vector<size_t>> by_user(all.n_users());
  for (size_t e = 0; e < all.events.size(); ++e) by_user[all.events[e].user].push_back(e);
  for (int32_t u = 0; u < all.n_users(); ++u) {
    auto& evs = by_user[u];
    std::stable_sort(evs.begin(), evs.end(), [&](size_t a, size_t b) { return all.events[a].time < all.events[b].time; });
    size_t n_test = evs.size() >= 2 ? static_cast<size_t>(std::ceil(frac * static_cast<double>(evs.size()))) : 0;
    n_test = std::min(n_test, evs.size() - (evs.empty() ? 0 : 1));
    std::unordered_set<int32_t> train_items;
    for (size_t t = 0; t < evs.size() - n_test; ++t) {
      s.train.events.push_back(all.events[evs[t]]);
      train_items.insert(all.events[evs[t]].item);
    }
    for (size_t t = evs.size() - n_test; t < evs.size(); ++t) {
      int32_t i = all.events[evs[t]].item;
      if (!train_items.count(i) && std::find(s.test[u].begin(), s.test[u].end(), i) == s.test[u].end())
        s.test[u].push_back(i);
    }
  }
  (void)hist;
  s.train.reindex();
  return s;
}

// Tags become item attributes unless they come from a held-out (user, item) pair.
void attach_tags(Dataset& d, const std::vector<MovieLens::Tag>& tags, const std::vector<std::vector<int32_t>>& held) {
  for (const auto& t : tags) {
    const auto& h = held[t.user];
    if (std::find(h.begin(), h.end(), t.item) != h.end()) continue;
    d.add_item_attr(t.item, "tag:" + t.tag);
  }
}

struct Metrics {
  double recall20 = 0, ndcg20 = 0, hr10 = 0, ndcg10 = 0;
};

Metrics full_ranking(const Dataset& train, const std::vector<std::vector<int32_t>>& test, const ScoreFn& score,
                     int n_threads) {
  const int32_t n_users = train.n_users();
  std::vector<double> rec(n_users, -1), ndcg(n_users, -1);
  auto work = [&](size_t b, size_t e) {
    std::vector<float> s;
    std::vector<int32_t> idx;
    for (size_t u = b; u < e; ++u) {
      if (test[u].empty() || train.histories()[u].empty()) continue;
      score(static_cast<int32_t>(u), s);
      for (const auto& h : train.histories()[u]) s[h.item] = -std::numeric_limits<float>::infinity();
      idx.resize(s.size());
      for (size_t i = 0; i < s.size(); ++i) idx[i] = static_cast<int32_t>(i);
      size_t k = std::min<size_t>(20, idx.size());
      std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t c) { return s[a] > s[c] || (s[a] == s[c] && a < c); });
      std::unordered_set<int32_t> rel(test[u].begin(), test[u].end());
      double hits = 0, dcg = 0, idcg = 0;
      for (size_t r = 0; r < k; ++r)
        if (rel.count(idx[r])) {
          hits += 1;
          dcg += 1 / std::log2(r + 2.0);
        }
      for (size_t r = 0; r < std::min<size_t>(k, rel.size()); ++r) idcg += 1 / std::log2(r + 2.0);
      rec[u] = hits / rel.size();
      ndcg[u] = dcg / idcg;
    }
  };
  ThreadPool pool(std::max(0, n_threads - 1));
  pool.parallel_for(n_users, work);
  Metrics m;
  double n = 0;
  for (int32_t u = 0; u < n_users; ++u)
    if (rec[u] >= 0) {
      m.recall20 += rec[u];
      m.ndcg20 += ndcg[u];
      n += 1;
    }
  if (n > 0) {
    m.recall20 /= n;
    m.ndcg20 /= n;
  }
  return m;
}

// HR@10 / NDCG@10 of each test item against `n_neg` unseen items drawn with a fixed seed.
void sampled_ranking(const Dataset& train, const std::vector<std::vector<int32_t>>& test, const ScoreFn& score,
                     int n_neg, int n_threads, Metrics& m) {
  const int32_t n_users = train.n_users(), n_items = train.n_items();
  std::vector<double> hr(n_users, 0), nd(n_users, 0), cnt(n_users, 0);
  auto work = [&](size_t b, size_t e) {
    std::vector<float> s;
    for (size_t u = b; u < e; ++u) {
      if (test[u].empty() || train.histories()[u].empty()) continue;
      score(static_cast<int32_t>(u), s);
      std::unordered_set<int32_t> seen(test[u].begin(), test[u].end());
      for (const auto& h : train.histories()[u]) seen.insert(h.item);
      std::mt19937_64 rng(7919 * u + 17);
      for (int32_t i : test[u]) {
        int rank = 0;
        for (int t = 0; t < n_neg; ++t) {
          int32_t j;
          do j = static_cast<int32_t>(rng() % n_items);
          while (seen.count(j));
          if (s[j] >= s[i]) ++rank;  // ties count against the item (no free wins for constant scores)
        }
        if (rank < 10) {
          hr[u] += 1;
          nd[u] += 1 / std::log2(rank + 2.0);
        }
        cnt[u] += 1;
      }
    }
  };
  ThreadPool pool(std::max(0, n_threads - 1));
  pool.parallel_for(n_users, work);
  double h = 0, d = 0, n = 0;
  for (int32_t u = 0; u < n_users; ++u) {
    h += hr[u];
    d += nd[u];
    n += cnt[u];
  }
  m.hr10 = n > 0 ? h / n : 0;
  m.ndcg10 = n > 0 ? d / n : 0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Result<std::vector<MethodResult>> evaluate_recsys(const MovieLens& ml, const EvalOptions& o,
                                                  const std::function<void(const std::string&)>& log) {
  if (o.protocol != "full" && o.protocol != "sampled" && o.protocol != "both")
    return Error(ErrorCode::INVALID_INPUT, "--protocol must be full, sampled or both");
  const int threads = std::max(1, o.model.threads);
  Split split = temporal_split(ml.data, o.test_fraction);
  attach_tags(split.train, ml.tags, split.test);
  // Validation: the latest part of each user's training interactions (for tuning only).
  Split val = temporal_split(split.train, o.test_fraction);
  log("split: " + std::to_string(split.train.events.size()) + " training interactions, " +
      std::to_string(ml.data.n_users()) + " users, " + std::to_string(ml.data.n_items()) + " items");

  std::vector<MethodResult> results;
  auto run = [&](MethodResult r, const Dataset& train, const ScoreFn& fn) {
    Metrics m{};
    if (o.protocol != "sampled") {
      Metrics f = full_ranking(train, split.test, fn, threads);
      r.recall20 = f.recall20;
      r.ndcg20 = f.ndcg20;
    }
    if (o.protocol != "full") {
      sampled_ranking(train, split.test, fn, o.sampled_negatives, threads, m);
      r.hr10 = m.hr10;
      r.ndcg10 = m.ndcg10;
    }
    log(r.name + ": recall@20 " + std::to_string(r.recall20) + ", ndcg@20 " + std::to_string(r.ndcg20) + " (" +
        std::to_string(r.train_seconds) + " s to train)");
    results.push_back(r);
  };

  Graph g_train(split.train), g_val(val.train);
  {
    auto t0 = std::chrono::steady_clock::now();
    PopularityScorer pop(g_train);
    run({"popularity", -1, -1, -1, -1, seconds_since(t0), ""}, split.train, [&](int32_t u, auto& out) { pop.score(u, out); });
  }
  {
    // ItemKNN: neighbourhood size and shrinkage tuned on the validation split.
    auto t0 = std::chrono::steady_clock::now();
    double best = -1;
    int best_k = 100;
    double best_shrink = 0;
    for (int k : {10, 20, 50, 100, 200, 400})
      for (double shrink : {0.0, 10.0}) {
        ItemKnnScorer knn(g_val, k, shrink, threads);
        double r = full_ranking(val.train, val.test, [&](int32_t u, auto& out) { knn.score(u, out); }, threads).recall20;
        if (r > best) best = r, best_k = k, best_shrink = shrink;
      }
    ItemKnnScorer knn(g_train, best_k, best_shrink, threads);
    run({"itemknn", -1, -1, -1, -1, seconds_since(t0), "k=" + std::to_string(best_k) + " shrink=" + std::to_string(static_cast<int>(best_shrink))},
        split.train, [&](int32_t u, auto& out) { knn.score(u, out); });
  }
  {
    // BPR-MF: epochs and regularisation tuned on the validation split.
    auto t0 = std::chrono::steady_clock::now();
    double best = -1;
    BprOptions bo_best;
    for (int ep : {20, 50})
      for (double reg : {0.001, 0.01}) {
        BprOptions bo;
        bo.epochs = ep;
        bo.reg = reg;
        bo.seed = o.model.seed;
        BprMfScorer mf(g_val, bo);
        double r = full_ranking(val.train, val.test, [&](int32_t u, auto& out) { mf.score(u, out); }, threads).recall20;
        if (r > best) best = r, bo_best = bo;
      }
    BprMfScorer mf(g_train, bo_best);
    run({"bpr-mf", -1, -1, -1, -1, seconds_since(t0), "epochs=" + std::to_string(bo_best.epochs) + " reg=" + std::to_string(bo_best.reg)},
        split.train, [&](int32_t u, auto& out) { mf.score(u, out); });
  }
  {
    // One meta-path (U-I-U) alone: its skip-gram embeddings, no fusion.
    RecsysOptions single = o.model;
    single.meta_paths = {"U-I-U"};
    ModelPlan plan{true, false, false, false};
    auto t0 = std::chrono::steady_clock::now();
    MOERAG_ASSIGN_OR_RETURN(auto m, train_model(split.train, single, plan));
    run({"metapath-single", -1, -1, -1, -1, seconds_since(t0), "U-I-U"}, split.train,
        [&](int32_t u, auto& out) { out = fused_scores(m, split.train, make_profile(m, split.train, u)); });
  }
  {
    auto t0 = std::chrono::steady_clock::now();
    MOERAG_ASSIGN_OR_RETURN(auto m, train_model(split.train, o.model, ModelPlan{}, [&](const std::string& ph, double f) {
      static thread_local std::string last;
      if (ph != last) log("metapath: " + ph + " (" + std::to_string(static_cast<int>(f * 100)) + "%)");
      last = ph;
    }));
    std::string params;
    for (int v = 0; v < m.n_views(); ++v) {
      char g[32];
      std::snprintf(g, sizeof g, "=%.2f", m.gain[v]);
      params += (v ? " " : "") + m.views[v].name + g;
    }
    for (int v = 0; v < m.n_views(); ++v) {
      char line[160];
      std::snprintf(line, sizeof line, "metapath fusion %-16s gain %.3f attention (history length %+.2f, mean popularity %+.2f)",
                    m.views[v].name.c_str(), m.gain[v], m.attention[v * kFeatures + 1], m.attention[v * kFeatures + 2]);
      log(line);
    }
    // The fit holdout is the validation split carved from training: each view alone there.
    for (const auto& f : m.fit) {
      char line[160];
      std::snprintf(line, sizeof line, "metapath validation %-16s recall@20 %.4f ndcg@20 %.4f", f.name.c_str(),
                    f.recall20, f.ndcg20);
      log(line);
    }
    run({"metapath", -1, -1, -1, -1, seconds_since(t0), params}, split.train,
        [&](int32_t u, auto& out) { out = fused_scores(m, split.train, make_profile(m, split.train, u)); });
  }
  return results;
}

}  // namespace moerag::recsys
