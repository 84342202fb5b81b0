// Training the fused model: hold out each user's latest interactions, train one
// skip-gram view per meta-path on the rest (views in parallel, each deterministic),
// build the path-count views, fit the fusion on the held-out items (fusion.cpp),
// then rebuild every view on all data, keeping the fitted gains and attention.
#include "apps/recsys/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>
#include <random>

#include "apps/recsys/baselines.h"
#include "apps/recsys/skipgram.h"
#include "core/thread_pool.h"

namespace moerag::recsys {
namespace {

// Splits data into (views data, per-user held-out items).
Dataset split_holdout(const Dataset& data, double frac, std::vector<std::vector<int32_t>>& holdout) {
  std::vector<std::vector<size_t>> by_user(data.n_users());
  for (size_t e = 0; e < data.events.size(); ++e) by_user[data.events[e].user].push_back(e);
  std::vector<bool> held(data.events.size(), false);
  holdout.assign(data.n_users(), {});
  for (auto& evs : by_user) {
    std::stable_sort(evs.begin(), evs.end(), [&](size_t a, size_t b) { return data.events[a].time < data.events[b].time; });
    if (evs.size() < 3) continue;
    size_t n_hold = static_cast<size_t>(std::ceil(frac * static_cast<double>(evs.size())));
    n_hold = std::min(n_hold, evs.size() - 1);
    for (size_t t = evs.size() - n_hold; t < evs.size(); ++t) held[evs[t]] = true;
  }
  Dataset fit = data;
  fit.events.clear();
  for (size_t e = 0; e < data.events.size(); ++e) {
    if (held[e]) holdout[data.events[e].user].push_back(data.events[e].item);
    else fit.events.push_back(data.events[e]);
  }
  fit.reindex();
  return fit;
}

View train_embedding_view(const Graph& g, const Dataset& d, const MetaPath& p, const RecsysOptions& o, uint64_t seed,
                          const std::function<void(double)>& progress) {
  View v;
  v.name = "emb:" + p.text;
  v.kind = ViewKind::EMBEDDING;
  v.meta_path = p.text;
  v.dim = o.dim;
  const int32_t n_nodes = g.n_users + g.n_items + g.n_attrs;
  std::vector<uint8_t> type(n_nodes, 0);
  for (int32_t i = g.n_users; i < n_nodes; ++i) type[i] = i < g.n_users + g.n_items ? 1 : 2;
  auto walks = meta_path_walks(g, p, o.walks_per_node, o.walk_length, seed);
  SkipGramOptions so{o.dim, o.window, o.negatives, o.epochs, o.learning_rate, seed};
  auto emb = train_skipgram(walks, o.walk_length, n_nodes, type, so, progress);
  const size_t dd = static_cast<size_t>(o.dim);
  v.item_emb.assign(emb.begin() + g.n_users * dd, emb.begin() + (g.n_users + g.n_items) * dd);
  if (p.has('U')) v.user_emb.assign(emb.begin(), emb.begin() + g.n_users * dd);
  // Attribute centroids of item vectors give cold items a place in this view.
  v.attr_mean.assign(static_cast<size_t>(d.n_attrs()) * dd, 0.0f);
  for (int32_t i = 0; i < g.n_items; ++i)
    for (int32_t a : d.item_attrs[i])
      for (size_t k = 0; k < dd; ++k) v.attr_mean[a * dd + k] += v.item_emb[i * dd + k];
  for (int32_t a = 0; a < d.n_attrs(); ++a) {
    double n = 0;
    for (size_t k = 0; k < dd; ++k) n += v.attr_mean[a * dd + k] * v.attr_mean[a * dd + k];
    float s = n > 0 ? static_cast<float>(1 / std::sqrt(n)) : 0.0f;
    for (size_t k = 0; k < dd; ++k) v.attr_mean[a * dd + k] *= s;
  }
  return v;
}

// Path-count neighbours, attribute idf and popularity from `d`.
void build_counts(Model& m, const Dataset& d, const RecsysOptions& o) {
  Graph g(d);
  auto nb = item_cosine_neighbors(g, o.knn_neighbors, 0.0, std::max(1, o.threads));
  m.nb_off = std::move(nb.off);
  m.nb_idx = std::move(nb.idx);
  m.nb_sim = std::move(nb.sim);
  m.attr_idf.assign(d.n_attrs(), 0.0f);
  for (int32_t a = 0; a < d.n_attrs(); ++a)
    m.attr_idf[a] = static_cast<float>(std::log(1.0 + static_cast<double>(d.n_items()) / std::max<int64_t>(1, g.attr_items.degree(a))));
  int64_t mx = 1;
  for (int32_t i = 0; i < d.n_items(); ++i) mx = std::max(mx, g.item_users.degree(i));
  m.popularity.assign(d.n_items(), 0.0f);
  for (int32_t i = 0; i < d.n_items(); ++i)
    m.popularity[i] = static_cast<float>(std::log1p(static_cast<double>(g.item_users.degree(i))) / std::log1p(static_cast<double>(mx)));
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

Result<Model> train_model(const Dataset& data, const RecsysOptions& o, const ModelPlan& plan, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  MOERAG_ASSIGN_OR_RETURN(auto paths, parse_meta_paths(o.meta_paths));
  if (data.events.empty()) return Error(ErrorCode::INVALID_INPUT, "no interactions to train on; import some first");
  std::mutex progress_mu;
  auto report = [&](const std::string& phase, double f) {
    if (!progress) return;
    std::lock_guard<std::mutex> lock(progress_mu);
    progress(phase, f);
  };
  Model m;
  m.trained_at = now_iso();
  m.half_life_days = o.half_life_days;
  m.item_ids = data.item_ids;
  m.user_ids = data.user_ids;
  for (const auto& p : paths) m.meta_paths.push_back(p.text);
  // Builds the views from `d` into m.views (same order every time), then the counts.
  auto build_views = [&](const Dataset& d, double p0, double p1) {
    m.views.clear();
    report("walks and skip-gram", p0);
    if (plan.embeddings) {
      Graph g(d);
      std::vector<View> views(paths.size());
      std::vector<double> done(paths.size(), 0);
      auto work = [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i)
          views[i] = train_embedding_view(g, d, paths[i], o, o.seed + 1000003ULL * i, [&, i](double f) {
            std::lock_guard<std::mutex> lock(progress_mu);
            done[i] = f;
            double sum = 0;
            for (double x : done) sum += x;
            if (progress) progress("walks and skip-gram", p0 + (p1 - p0) * sum / paths.size());
          });
      };
      if (o.threads > 1 && paths.size() > 1) {
        ThreadPool pool(std::min<size_t>(o.threads, paths.size()) - 1);
        pool.parallel_for(paths.size(), work);
      } else {
        work(0, paths.size());
      }
      for (auto& v : views) m.views.push_back(std::move(v));
    }
    if (plan.path_counts) {
      bool cf = false, content = false;
      for (const auto& p : paths) {
        for (size_t i = 0; i + 1 < p.types.size(); ++i)
          if ((p.types[i] == 'U' && p.types[i + 1] == 'I') || (p.types[i] == 'I' && p.types[i + 1] == 'U')) cf = true;
        if (p.has('A')) content = true;
      }
      if (cf) m.views.push_back({"paths:I-U-I", ViewKind::ITEM_CF, "I-U-I", 0, {}, {}, {}, {}, {}});
      if (content) m.views.push_back({"paths:U-I-A-I", ViewKind::CONTENT, "U-I-A-I", 0, {}, {}, {}, {}, {}});
    }
    if (plan.popularity) m.views.push_back({"popularity", ViewKind::POPULARITY, "", 0, {}, {}, {}, {}, {}});
    report("path counts", p1);
    build_counts(m, d, o);
    compute_calibration(m, o.seed);
  };
  std::vector<std::vector<int32_t>> holdout;
  if (plan.fit_fusion) {
    Dataset fit = split_holdout(data, o.holdout_fraction, holdout);
    build_views(fit, 0.0, 0.35);
    if (m.views.empty()) return Error(ErrorCode::INVALID_INPUT, "the model plan has no views");
    m.attention.assign(static_cast<size_t>(m.n_views()) * kFeatures, 0.0f);
    m.gain.assign(m.n_views(), 1.0f);
    report("fusion fit on held-out items", 0.4);
    fit_fusion(m, fit, holdout, o);
    // The final views see everything; the fitted gains and attention carry over.
    auto gain = m.gain;
    auto attention = m.attention;
    build_views(data, 0.5, 0.95);
    m.gain = std::move(gain);
    m.attention = std::move(attention);
  } else {
    build_views(data, 0.0, 0.95);
    if (m.views.empty()) return Error(ErrorCode::INVALID_INPUT, "the model plan has no views");
    m.attention.assign(static_cast<size_t>(m.n_views()) * kFeatures, 0.0f);
    m.gain.assign(m.n_views(), 1.0f);
  }
  m.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report("done", 1.0);
  return m;
}

}  // namespace moerag::recsys
