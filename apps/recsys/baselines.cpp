// Popularity, ItemKNN and BPR-MF baselines (see baselines.h).
#include "apps/recsys/baselines.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/thread_pool.h"

namespace moerag::recsys {

ItemNeighbors item_cosine_neighbors(const Graph& g, int k, double shrink, int n_threads) {
  const int32_t n = g.n_items;
  std::vector<std::vector<std::pair<int32_t, float>>> rows(n);
  auto work = [&](size_t b, size_t e) {
    std::vector<float> co(n, 0.0f);
    std::vector<int32_t> touched;
    std::vector<std::pair<float, int32_t>> cand;
    for (size_t i = b; i < e; ++i) {
      touched.clear();
      for (const int32_t* u = g.item_users.begin(i); u != g.item_users.end(i); ++u)
        for (const int32_t* j = g.user_items.begin(*u); j != g.user_items.end(*u); ++j) {
          if (*j == static_cast<int32_t>(i)) continue;
          if (co[*j] == 0) touched.push_back(*j);
          co[*j] += 1;
        }
      cand.clear();
      double ni = static_cast<double>(g.item_users.degree(i));
      for (int32_t j : touched) {
        double s = co[j] / (std::sqrt(ni * g.item_users.degree(j)) + shrink);
        cand.emplace_back(static_cast<float>(s), j);
        co[j] = 0;
      }
      size_t keep = std::min<size_t>(cand.size(), static_cast<size_t>(k));
      std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(),
                        [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
      auto& row = rows[i];
      for (size_t t = 0; t < keep; ++t) row.emplace_back(cand[t].second, cand[t].first);
      std::sort(row.begin(), row.end());
    }
  };
  if (n_threads > 1) {
    ThreadPool pool(n_threads - 1);
    pool.parallel_for(n, work);
  } else {
    work(0, n);
  }
  ItemNeighbors nb;
  nb.off.assign(n + 1, 0);
  for (int32_t i = 0; i < n; ++i) {
    nb.off[i + 1] = nb.off[i] + static_cast<int64_t>(rows[i].size());
    for (const auto& [j, s] : rows[i]) {
      nb.idx.push_back(j);
      nb.sim.push_back(s);
    }
  }
  return nb;
}

PopularityScorer::PopularityScorer(const Graph& g) : pop_(g.n_items) {
  for (int32_t i = 0; i < g.n_items; ++i) pop_[i] = static_cast<float>(g.item_users.degree(i));
}

void PopularityScorer::score(int32_t, std::vector<float>& out) const { out = pop_; }

ItemKnnScorer::ItemKnnScorer(const Graph& g, int k, double shrink, int n_threads)
    : g_(g), nb_(item_cosine_neighbors(g, k, shrink, n_threads)) {}

void ItemKnnScorer::score(int32_t user, std::vector<float>& out) const {
  out.assign(g_.n_items, 0.0f);
  if (user >= g_.n_users) return;
  for (const int32_t* h = g_.user_items.begin(user); h != g_.user_items.end(user); ++h)
    for (int64_t j = nb_.off[*h]; j < nb_.off[*h + 1]; ++j) out[nb_.idx[j]] += nb_.sim[j];
}

BprMfScorer::BprMfScorer(const Graph& g, const BprOptions& o) : d_(o.dim), n_items_(g.n_items) {
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> init(0.0f, 0.1f);
  p_.resize(static_cast<size_t>(g.n_users) * d_);
  q_.resize(static_cast<size_t>(g.n_items) * d_);
  b_.assign(g.n_items, 0.0f);
  for (auto& x : p_) x = init(rng);
  for (auto& x : q_) x = init(rng);
  std::vector<std::pair<int32_t, int32_t>> pairs;
  for (int32_t u = 0; u < g.n_users; ++u)
    for (const int32_t* i = g.user_items.begin(u); i != g.user_items.end(u); ++i) pairs.emplace_back(u, *i);
  if (pairs.empty() || n_items_ < 2) return;
  const float lr = static_cast<float>(o.learning_rate), reg = static_cast<float>(o.reg);
  for (int ep = 0; ep < o.epochs; ++ep) {
    std::shuffle(pairs.begin(), pairs.end(), rng);
    for (const auto& [u, i] : pairs) {
      int32_t j;
      do {
        j = static_cast<int32_t>(rng() % n_items_);
      } while (g.has_edge('U', u, 'I', j));
      float* pu = &p_[static_cast<size_t>(u) * d_];
      float* qi = &q_[static_cast<size_t>(i) * d_];
      float* qj = &q_[static_cast<size_t>(j) * d_];
      float x = b_[i] - b_[j];
      for (int k = 0; k < d_; ++k) x += pu[k] * (qi[k] - qj[k]);
      float gsig = 1.0f / (1.0f + std::exp(x));  // d(-log sigmoid(x))/dx = -(1 - sigmoid(x))
      b_[i] += lr * (gsig - reg * b_[i]);
      b_[j] += lr * (-gsig - reg * b_[j]);
      for (int k = 0; k < d_; ++k) {
        float pk = pu[k];
        pu[k] += lr * (gsig * (qi[k] - qj[k]) - reg * pk);
        qi[k] += lr * (gsig * pk - reg * qi[k]);
        qj[k] += lr * (-gsig * pk - reg * qj[k]);
      }
    }
  }
}

void BprMfScorer::score(int32_t user, std::vector<float>& out) const {
  out.assign(n_items_, 0.0f);
  const float* pu = &p_[static_cast<size_t>(user) * d_];
  for (int32_t i = 0; i < n_items_; ++i) {
    const float* qi = &q_[static_cast<size_t>(i) * d_];
    float s = b_[i];
    for (int k = 0; k < d_; ++k) s += pu[k] * qi[k];
    out[i] = s;
  }
}

}  // namespace moerag::recsys
