// Serving: FAISS candidates + path-count neighbours + popular items, filters,
// re-scoring with the fused model, MMR diversity, cold start (popular within the
// requested attributes), and explanations built from concrete meta-path instances.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "apps/recsys/recommender_impl.h"

namespace moerag::recsys {
namespace {

// Request filters resolved to indexes.
struct Filters {
  std::vector<bool> deny;      // [n_items]
  std::vector<bool> allow;     // [n_items] empty = everything allowed
  std::unordered_set<int32_t> require;  // attribute indexes (any of)
  bool require_any = false;
  bool pass(const Dataset& d, int32_t i) const {
    if (deny[i] || (!allow.empty() && !allow[i])) return false;
    if (!require_any) return true;
    for (int32_t a : d.item_attrs[i])
      if (require.count(a)) return true;
    return false;
  }
};

Filters make_filters(const Dataset& d, const RecommendRequest& r, const std::vector<HistoryEntry>* seen) {
  Filters f;
  f.deny.assign(d.n_items(), false);
  if (seen && r.exclude_seen)
    for (const auto& h : *seen) f.deny[h.item] = true;
  for (const auto& id : r.deny_items)
    if (int32_t i = d.find_item(id); i >= 0) f.deny[i] = true;
  if (!r.allow_items.empty()) {
    f.allow.assign(d.n_items(), false);
    for (const auto& id : r.allow_items)
      if (int32_t i = d.find_item(id); i >= 0) f.allow[i] = true;
  }
  f.require_any = !r.require_attrs.empty();
  for (const auto& a : r.require_attrs)
    if (int32_t ai = d.find_attr(a); ai >= 0) f.require.insert(ai);
  return f;
}

PathNode item_node(const Dataset& d, int32_t i) { return {'I', d.item_ids[i], d.item_titles[i]}; }
PathNode user_node(const Dataset& d, int32_t u) { return {'U', d.user_ids[u], d.user_ids[u]}; }
PathNode attr_node(const Dataset& d, int32_t a) {
  const std::string& n = d.attr_names[a];
  auto c = n.find(':');
  return {'A', n, c == std::string::npos ? n : n.substr(c + 1)};
}

std::string attr_phrase(const Dataset& d, int32_t a) {
  const std::string& n = d.attr_names[a];
  auto c = n.find(':');
  return c == std::string::npos ? n : n.substr(0, c) + " " + n.substr(c + 1);
}

// A user other than `not_user` who interacted with both items, or -1.
int32_t co_user(const Dataset& d, int32_t a, int32_t b, int32_t not_user, int* n_common) {
  const auto& ua = d.item_users()[a];
  const auto& ub = d.item_users()[b];
  std::unordered_set<int32_t> sa(ua.begin(), ua.end());
  int32_t found = -1;
  std::unordered_set<int32_t> common;
  for (int32_t u : ub)
    if (u != not_user && sa.count(u)) {
      common.insert(u);
      if (found < 0) found = u;
    }
  *n_common = static_cast<int>(common.size());
  return found;
}

// Explanations of `item` for a start node (user or query item) with history `hist`.
std::vector<Explanation> explain(const Dataset& d, const std::vector<HistoryEntry>& hist, int32_t user, int32_t item) {
  std::vector<Explanation> out;
  // Newest history first: recent interactions make the most natural reasons.
  std::vector<int32_t> recent;
  for (auto it = hist.rbegin(); it != hist.rend() && recent.size() < 200; ++it)
    if (it->item != item && std::find(recent.begin(), recent.end(), it->item) == recent.end()) recent.push_back(it->item);
  // Shared attributes (U-I-A-I, or I-A-I from an item).
  int32_t best_h = -1;
  std::vector<int32_t> best_shared;
  for (int32_t h : recent) {
    std::vector<int32_t> shared;
    for (int32_t a : d.item_attrs[h])
      if (std::find(d.item_attrs[item].begin(), d.item_attrs[item].end(), a) != d.item_attrs[item].end()) shared.push_back(a);
    if (shared.size() > best_shared.size()) best_h = h, best_shared = shared;
  }
  // Co-interaction (U-I-U-I, or I-U-I from an item): the item's users sorted once,
  // then each history item's users looked up in them (this runs per result row).
  int32_t co_h = -1, co_v = -1, co_n = 0;
  std::vector<int32_t> item_users = d.item_users()[item], common;
  std::sort(item_users.begin(), item_users.end());
  for (int32_t h : recent) {
    common.clear();
    for (int32_t u : d.item_users()[h])
      if (u != user && std::binary_search(item_users.begin(), item_users.end(), u)) common.push_back(u);
    std::sort(common.begin(), common.end());
    int n = static_cast<int>(std::unique(common.begin(), common.end()) - common.begin());
    if (n > co_n) co_h = h, co_v = common[0], co_n = n;
  }
  const bool from_user = user >= 0;
  if (co_h >= 0) {
    Explanation e;
    e.meta_path = from_user ? "U-I-U-I" : "I-U-I";
    if (from_user) e.path.push_back(user_node(d, user));
    e.path.push_back(item_node(d, co_h));
    e.path.push_back(user_node(d, co_v));
    e.path.push_back(item_node(d, item));
    e.text = std::to_string(co_n) + (co_n == 1 ? " person" : " people") + " who interacted with " + d.item_titles[co_h] +
             " also interacted with " + d.item_titles[item];
    out.push_back(std::move(e));
  }
  if (best_h >= 0) {
    Explanation e;
    e.meta_path = from_user ? "U-I-A-I" : "I-A-I";
    if (from_user) e.path.push_back(user_node(d, user));
    e.path.push_back(item_node(d, best_h));
    e.path.push_back(attr_node(d, best_shared[0]));
    e.path.push_back(item_node(d, item));
    std::string shared;
    for (size_t k = 0; k < best_shared.size() && k < 3; ++k)
      shared += (k == 0 ? "" : k + 1 == std::min<size_t>(best_shared.size(), 3) ? " and " : ", ") + attr_phrase(d, best_shared[k]);
    e.text = from_user ? "because you liked " + d.item_titles[best_h] + ", which shares " + shared
                       : "shares " + shared + " with " + d.item_titles[best_h];
    out.push_back(std::move(e));
  }
  if (out.empty() && !d.item_users()[item].empty()) {
    // Popular fallback: a real I-U edge.
    Explanation e;
    e.meta_path = "I-U";
    e.path = {item_node(d, item), user_node(d, d.item_users()[item][0])};
    e.text = "popular: " + std::to_string(d.item_users()[item].size()) + " interactions";
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<float> live_popularity(const Dataset& d) {
  std::vector<float> p(d.n_items());
  for (int32_t i = 0; i < d.n_items(); ++i) p[i] = static_cast<float>(d.item_users()[i].size());
  return p;
}

}  // namespace

Result<std::vector<Recommendation>> Recommender::recommend(const RecommendRequest& r) const {
  if (r.k < 1 || r.k > impl_->options.max_k)
    return Error(ErrorCode::INVALID_INPUT, "k must be between 1 and " + std::to_string(impl_->options.max_k));
  if (r.diversity < 0 || r.diversity > 1) return Error(ErrorCode::INVALID_INPUT, "diversity must be in [0, 1]");
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  const Dataset& d = impl_->data;
  int32_t user = d.find_user(r.user_id);
  if (user < 0) return Error(ErrorCode::NOT_FOUND, "unknown user '" + r.user_id + "'");
  const auto& hist = d.histories()[user];
  Filters f = make_filters(d, r, &hist);
  std::vector<int32_t> cand;
  std::vector<float> score;
  const Serving* s = impl_->serving.get();
  if (!s || hist.empty()) {
    // Cold start (or no model yet): popular items within the requested attributes.
    auto pop = live_popularity(d);
    for (int32_t i = 0; i < d.n_items(); ++i)
      if (f.pass(d, i)) cand.push_back(i);
    for (int32_t i : cand) score.push_back(pop[i]);
  } else {
    const Model& m = s->model;
    UserProfile p = make_profile(m, d, user);
    std::vector<bool> in(d.n_items(), false);
    auto add = [&](int32_t i) {
      if (i >= 0 && i < d.n_items() && !in[i] && f.pass(d, i)) in[i] = true, cand.push_back(i);
    };
    if (s->index && s->index->ntotal > 0) {
      std::vector<float> q;
      // Inner product = the embedding views' share of the fused score (up to a per-user constant).
      for (int v : s->emb_views)
        for (float x : p.query[v]) q.push_back(x * p.attention[v] * m.gain[v] * p.inv_sd[v]);
      int64_t want = std::min<int64_t>(s->index->ntotal, impl_->options.candidates + static_cast<int64_t>(hist.size()));
      std::vector<float> dist(want);
      std::vector<faiss::Index::idx_t> labels(want);
      s->index->search(1, q.data(), want, dist.data(), labels.data());
      for (auto l : labels) add(static_cast<int32_t>(l));
    }
    // Path-count neighbours of the most recent items and the popular head.
    for (size_t k = 0; k < hist.size() && k < 50; ++k) {
      int32_t h = hist[hist.size() - 1 - k].item;
      if (h < m.n_items())
        for (int64_t j = m.nb_off[h]; j < m.nb_off[h + 1]; ++j) add(m.nb_idx[j]);
    }
    std::vector<int32_t> by_pop(m.n_items());
    for (int32_t i = 0; i < m.n_items(); ++i) by_pop[i] = i;
    size_t top = std::min<size_t>(by_pop.size(), 100);
    std::partial_sort(by_pop.begin(), by_pop.begin() + top, by_pop.end(),
                      [&](int32_t a, int32_t b) { return m.popularity[a] > m.popularity[b]; });
    for (size_t k = 0; k < top; ++k) add(by_pop[k]);
    // Narrow filters can leave too few candidates: then score every item that passes.
    if (static_cast<int>(cand.size()) < r.k)
      for (int32_t i = 0; i < d.n_items(); ++i) add(i);
    std::vector<float> vs;
    candidate_view_scores(m, d, p, cand, vs);
    score.resize(cand.size());
    for (size_t c = 0; c < cand.size(); ++c) score[c] = fuse(m, p, vs.data() + c * m.n_views());
  }
  // Rank; with diversity, maximal marginal relevance over item vectors.
  std::vector<size_t> order(cand.size());
  for (size_t c = 0; c < cand.size(); ++c) order[c] = c;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b] || (score[a] == score[b] && cand[a] < cand[b]); });
  std::vector<size_t> picked;
  if (r.diversity > 0 && s && s->dim_total > 0) {
    size_t pool = std::min<size_t>(order.size(), static_cast<size_t>(r.k) * 5);
    std::vector<std::vector<float>> vec(pool);
    for (size_t t = 0; t < pool; ++t) vec[t] = impl_->faiss_vector(*s, cand[order[t]]);
    float lo = score[order[pool ? pool - 1 : 0]], hi = pool ? score[order[0]] : 0;
    std::vector<bool> used(pool, false);
    while (picked.size() < std::min<size_t>(pool, r.k)) {
      double best = -1e30;
      size_t bt = 0;
      for (size_t t = 0; t < pool; ++t) {
        if (used[t]) continue;
        double rel = hi > lo ? (score[order[t]] - lo) / (hi - lo) : 1.0, red = 0;
        for (size_t pk : picked) {
          double dot = 0;
          for (int k = 0; k < s->dim_total; ++k) dot += vec[t][k] * vec[pk][k];
          red = std::max(red, dot / std::max<size_t>(1, s->emb_views.size()));
        }
        double mmr = (1 - r.diversity) * rel - r.diversity * red;
        if (mmr > best) best = mmr, bt = t;
      }
      used[bt] = true;
      picked.push_back(bt);
    }
    for (auto& pk : picked) pk = order[pk];
  } else {
    for (size_t t = 0; t < order.size() && picked.size() < static_cast<size_t>(r.k); ++t) picked.push_back(order[t]);
  }
  std::vector<Recommendation> out;
  for (size_t c : picked) {
    Recommendation rec{d.item_ids[cand[c]], d.item_titles[cand[c]], score[c], {}};
    if (r.explain && impl_->options.explanations) rec.explanations = explain(d, hist, user, cand[c]);
    out.push_back(std::move(rec));
  }
  return out;
}

Result<std::vector<Recommendation>> Recommender::similar(const std::string& item_id, int k, bool want_explain) const {
  if (k < 1 || k > impl_->options.max_k)
    return Error(ErrorCode::INVALID_INPUT, "k must be between 1 and " + std::to_string(impl_->options.max_k));
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  const Dataset& d = impl_->data;
  int32_t item = d.find_item(item_id);
  if (item < 0) return Error(ErrorCode::NOT_FOUND, "unknown item '" + item_id + "'");
  std::vector<HistoryEntry> hist{{item, 1.0f, 0}};
  std::vector<int32_t> cand;
  for (int32_t i = 0; i < d.n_items(); ++i)
    if (i != item) cand.push_back(i);
  std::vector<float> score(cand.size(), 0.0f);
  if (const Serving* s = impl_->serving.get()) {
    const Model& m = s->model;
    UserProfile p = make_profile_from(m, d, hist, -1);
    std::vector<float> vs;
    candidate_view_scores(m, d, p, cand, vs);
    // Similarity, not preference: leave the popularity view out.
    for (size_t c = 0; c < cand.size(); ++c)
      for (int v = 0; v < m.n_views(); ++v)
        if (m.views[v].kind != ViewKind::POPULARITY) score[c] += p.attention[v] * m.gain[v] * vs[c * m.n_views() + v];
  } else {
    // No model yet: shared attributes, then co-interactions.
    for (size_t c = 0; c < cand.size(); ++c) {
      int n = 0;
      co_user(d, item, cand[c], -1, &n);
      for (int32_t a : d.item_attrs[cand[c]])
        if (std::find(d.item_attrs[item].begin(), d.item_attrs[item].end(), a) != d.item_attrs[item].end()) score[c] += 1;
      score[c] += 0.5f * n;
    }
  }
  std::vector<size_t> order(cand.size());
  for (size_t c = 0; c < cand.size(); ++c) order[c] = c;
  size_t top = std::min<size_t>(order.size(), k);
  std::partial_sort(order.begin(), order.begin() + top, order.end(),
                    [&](size_t a, size_t b) { return score[a] > score[b] || (score[a] == score[b] && cand[a] < cand[b]); });
  std::vector<Recommendation> out;
  for (size_t t = 0; t < top; ++t) {
    size_t c = order[t];
    Recommendation rec{d.item_ids[cand[c]], d.item_titles[cand[c]], score[c], {}};
    if (want_explain && impl_->options.explanations) rec.explanations = explain(d, hist, -1, cand[c]);
    out.push_back(std::move(rec));
  }
  return out;
}

bool Recommender::path_exists(const std::vector<PathNode>& path) const {
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  const Dataset& d = impl_->data;
  auto index = [&](const PathNode& n) {
    return n.type == 'U' ? d.find_user(n.id) : n.type == 'I' ? d.find_item(n.id) : d.find_attr(n.id);
  };
  for (const auto& n : path)
    if (index(n) < 0) return false;
  for (size_t k = 0; k + 1 < path.size(); ++k) {
    char ta = path[k].type, tb = path[k + 1].type;
    int32_t a = index(path[k]), b = index(path[k + 1]);
    if (ta > tb) std::swap(ta, tb), std::swap(a, b);  // order: A < I < U
    bool ok = false;
    if (ta == 'I' && tb == 'U') {
      for (const auto& h : d.histories()[b]) ok = ok || h.item == a;
    } else if (ta == 'A' && tb == 'I') {
      ok = std::find(d.item_attrs[b].begin(), d.item_attrs[b].end(), a) != d.item_attrs[b].end();
    } else if (ta == 'A' && tb == 'U') {
      ok = std::find(d.user_attrs[b].begin(), d.user_attrs[b].end(), a) != d.user_attrs[b].end();
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace moerag::recsys
