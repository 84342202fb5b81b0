// Fitting the fusion of the model's views on held-out items: every view's scores
// are z-scored per user (model_score.cpp), so one gain per view is comparable
// across views; gains and the attention over views (softmax of user features) are
// chosen by coordinate ascent on Recall@20 + NDCG@20 of each user's held-out items,
// ranked within a pool of every view's top candidates. Also the calibration moments.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_set>

#include "apps/recsys/model.h"
#include "core/thread_pool.h"

namespace moerag::recsys {
namespace {

constexpr int kTopK = 20;           // the metric's cut-off
constexpr int kPoolPerView = 200;   // each view's best unseen items join the pool
constexpr int kMaxFitUsers = 3000;  // users sampled for the fit (cost bound on big data)
constexpr int kMinFitUsers = 100;   // fewer held-out users: keep equal gains

// One held-out user: the candidate pool, its calibrated view scores and labels.
struct UserPool {
  std::vector<float> z;      // [n_cand, n_views] calibrated scores
  std::vector<uint8_t> rel;  // [n_cand] 1 = held-out item
  int n_rel = 0;             // all held-out items (the recall denominator)
  float f[kFeatures] = {1, 0, 0};
};

std::vector<UserPool> build_pools(const Model& m, const Dataset& fit, const std::vector<std::vector<int32_t>>& holdout,
                                  const RecsysOptions& o) {
  const int V = m.n_views();
  const int32_t n = fit.n_items();
  std::vector<int32_t> users;
  for (int32_t u = 0; u < fit.n_users(); ++u)
    if (!holdout[u].empty() && !fit.histories()[u].empty()) users.push_back(u);
  if (users.size() > static_cast<size_t>(kMaxFitUsers)) {
    std::mt19937_64 rng(o.seed);
    std::shuffle(users.begin(), users.end(), rng);
    users.resize(kMaxFitUsers);
    std::sort(users.begin(), users.end());
  }
  std::vector<UserPool> pools(users.size());
  auto work = [&](size_t b, size_t e) {
    std::vector<float> vs;
    std::vector<int32_t> idx;
    for (size_t k = b; k < e; ++k) {
      int32_t u = users[k];
      UserProfile p = make_profile(m, fit, u);
      dense_view_scores(m, fit, p, vs);
      std::vector<uint8_t> seen(n, 0), in(n, 0);
      for (const auto& h : fit.histories()[u]) seen[h.item] = 1;
      std::unordered_set<int32_t> pos;
      for (int32_t i : holdout[u])
        if (!seen[i]) pos.insert(i);
      UserPool& pool = pools[k];
      pool.n_rel = static_cast<int>(pos.size());
      std::copy(p.features, p.features + kFeatures, pool.f);
      if (pos.empty()) continue;
      std::vector<int32_t> cand;
      for (int v = 0; v < V; ++v) {
        const float* s = vs.data() + static_cast<size_t>(v) * n;
        idx.clear();
        for (int32_t i = 0; i < n; ++i)
          if (!seen[i]) idx.push_back(i);
        size_t top = std::min<size_t>(idx.size(), kPoolPerView);
        std::partial_sort(idx.begin(), idx.begin() + top, idx.end(),
                          [&](int32_t a, int32_t c) { return s[a] > s[c] || (s[a] == s[c] && a < c); });
        for (size_t t = 0; t < top; ++t)
          if (!in[idx[t]]) in[idx[t]] = 1, cand.push_back(idx[t]);
      }
      pool.z.resize(cand.size() * V);
      pool.rel.resize(cand.size());
      for (size_t c = 0; c < cand.size(); ++c) {
        pool.rel[c] = pos.count(cand[c]) ? 1 : 0;
        for (int v = 0; v < V; ++v) pool.z[c * V + v] = vs[static_cast<size_t>(v) * n + cand[c]];
      }
    }
  };
  if (o.threads > 1) {
    ThreadPool tp(o.threads - 1);
    tp.parallel_for(users.size(), work);
  } else {
    work(0, users.size());
  }
  pools.erase(std::remove_if(pools.begin(), pools.end(), [](const UserPool& p) { return p.n_rel == 0; }), pools.end());
  return pools;
}

// Mean Recall@20 and NDCG@20 over the pools for gains g [V] and attention W [V, kFeatures].
std::pair<double, double> metrics(const std::vector<UserPool>& pools, int V, const std::vector<double>& g,
                                  const std::vector<double>& W) {
  double rec = 0, nd = 0;
  std::vector<double> w(V);
  std::vector<float> score;
  std::vector<int32_t> idx;
  for (const auto& p : pools) {
    // Softmax attention times gain; the softmax denominator does not change a ranking.
    for (int v = 0; v < V; ++v) {
      double z = 0;
      for (int f = 0; f < kFeatures; ++f) z += W[v * kFeatures + f] * p.f[f];
      w[v] = g[v] * std::exp(z);
    }
    const size_t nc = p.rel.size();
    score.assign(nc, 0.0f);
    for (size_t c = 0; c < nc; ++c) {
      double x = 0;
      for (int v = 0; v < V; ++v) x += w[v] * p.z[c * V + v];
      score[c] = static_cast<float>(x);
    }
    idx.resize(nc);
    std::iota(idx.begin(), idx.end(), 0);
    size_t k = std::min<size_t>(kTopK, nc);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int32_t a, int32_t b) { return score[a] > score[b] || (score[a] == score[b] && a < b); });
    double hits = 0, dcg = 0, idcg = 0;
    for (size_t r = 0; r < k; ++r)
      if (p.rel[idx[r]]) hits += 1, dcg += 1 / std::log2(r + 2.0);
    for (int r = 0; r < std::min(kTopK, p.n_rel); ++r) idcg += 1 / std::log2(r + 2.0);
    rec += hits / p.n_rel;
    nd += dcg / idcg;
  }
  double n = std::max<size_t>(1, pools.size());
  return {rec / n, nd / n};
}

}  // namespace

void fit_fusion(Model& m, const Dataset& fit, const std::vector<std::vector<int32_t>>& holdout, const RecsysOptions& o) {
  const int V = m.n_views();
  auto pools = build_pools(m, fit, holdout, o);
  if (pools.empty()) return;
  // With few held-out users the fit chases noise (one view wins by chance); equal
  // gains over calibrated scores are the safer choice there.
  const bool too_few = pools.size() < static_cast<size_t>(kMinFitUsers);
  std::vector<double> g(V, 1.0), W(static_cast<size_t>(V) * kFeatures, 0.0);
  // A tiny floor keeps every view in play as a tie-breaker (a new item has no path
  // counts; only the embedding and attribute views can place it); the fit sees it.
  auto floored = [&](std::vector<double> x) {
    double mx = *std::max_element(x.begin(), x.end());
    for (auto& y : x) y = std::max(y, 0.002 * mx);
    return x;
  };
  auto objective = [&] {
    auto [r, nd] = metrics(pools, V, floored(g), W);
    return r + nd;
  };
  // Each view alone: the diagnostic the fit is judged against.
  m.fit.clear();
  for (int v = 0; v < V; ++v) {
    std::vector<double> one(V, 0.0);
    one[v] = 1;
    auto [r, nd] = metrics(pools, V, one, W);
    m.fit.push_back({m.views[v].name, r, nd, 0});
  }
  {
    auto [r, nd] = metrics(pools, V, g, W);
    m.fit.push_back({"equal gains", r, nd, 0});
  }
  double best = objective();
  // Start from the best single view when it beats equal gains, so the fit can only
  // match or improve on its strongest view.
  for (int v = 0; v < V && !too_few; ++v) {
    std::vector<double> keep = g;
    std::fill(g.begin(), g.end(), 0.0);
    g[v] = 1;
    if (double s = objective(); s > best) best = s;
    else g = keep;
  }
  // Coordinate ascent: gains on a multiplicative grid (0 switches a view off), then
  // the attention's feature weights (history length, mean popularity) additively.
  for (int round = 0; round < (too_few ? 0 : o.fusion_epochs); ++round) {
    bool improved = false;
    auto try_value = [&](double& x, double value) {
      double old = x;
      x = value;
      double s = objective();
      if (s > best + 1e-7) {
        best = s;
        improved = true;
      } else {
        x = old;
      }
    };
    for (int v = 0; v < V; ++v) {
      double cur = g[v];
      for (double f : {0.0, 0.25, 0.5, 0.8, 1.25, 2.0, 4.0}) try_value(g[v], cur > 0 ? cur * f : f);
      if (g[v] == 0) try_value(g[v], 0.25), try_value(g[v], 1.0);
    }
    for (int v = 0; v < V; ++v)
      for (int f = 1; f < kFeatures; ++f) {
        double cur = W[v * kFeatures + f];
        for (double d : {-2.0, -1.0, -0.5, 0.5, 1.0, 2.0}) try_value(W[v * kFeatures + f], cur + d);
      }
    if (!improved) break;
  }
  g = floored(g);
  for (int v = 0; v < V; ++v) {
    m.gain[v] = static_cast<float>(g[v] * V);  // the uniform attention divides by V
    for (int f = 0; f < kFeatures; ++f) m.attention[v * kFeatures + f] = static_cast<float>(W[v * kFeatures + f]);
    m.fit[v].gain = m.gain[v];
  }
  auto [r, nd] = metrics(pools, V, g, W);
  m.fit.push_back({"fused", r, nd, 0});
}

void compute_calibration(Model& m, uint64_t seed) {
  for (auto& v : m.views) {
    if (v.kind != ViewKind::EMBEDDING) continue;
    const int d = v.dim;
    const size_t rows = v.item_emb.size() / std::max(1, d);
    std::vector<double> mean(d, 0.0), cov(static_cast<size_t>(d) * d, 0.0);
    double n = 0;
    for (size_t i = 0; i < rows; ++i) {
      const float* x = v.item_emb.data() + i * d;
      if (std::all_of(x, x + d, [](float a) { return a == 0; })) continue;
      for (int a = 0; a < d; ++a) mean[a] += x[a];
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) cov[static_cast<size_t>(a) * d + b] += static_cast<double>(x[a]) * x[b];
      n += 1;
    }
    v.mean.assign(d, 0.0f);
    v.cov.assign(static_cast<size_t>(d) * d, 0.0f);
    if (n == 0) continue;
    for (int a = 0; a < d; ++a) v.mean[a] = static_cast<float>(mean[a] / n);
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b)
        v.cov[static_cast<size_t>(a) * d + b] =
            static_cast<float>(cov[static_cast<size_t>(a) * d + b] / n - (mean[a] / n) * (mean[b] / n));
  }
  double s = 0, sq = 0, n = std::max<size_t>(1, m.popularity.size());
  for (float x : m.popularity) s += x, sq += static_cast<double>(x) * x;
  m.pop_mean = static_cast<float>(s / n);
  m.pop_sd = static_cast<float>(std::sqrt(std::max(0.0, sq / n - (s / n) * (s / n))));
  constexpr int32_t kRef = 4096;
  m.ref_items.resize(m.n_items());
  std::iota(m.ref_items.begin(), m.ref_items.end(), 0);
  if (m.n_items() > kRef) {
    std::mt19937_64 rng(seed ^ 0x5eedULL);
    for (int32_t i = 0; i < kRef; ++i) std::swap(m.ref_items[i], m.ref_items[i + rng() % (m.n_items() - i)]);
    m.ref_items.resize(kRef);
    std::sort(m.ref_items.begin(), m.ref_items.end());
  }
}

}  // namespace moerag::recsys
