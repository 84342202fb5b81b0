// Scoring with a trained Model: user profiles from (possibly newer) histories,
// per-view scores calibrated per user (z-scores over the catalogue), the fusion
// (gain x attention per view), and the binary model file format.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "apps/recsys/model.h"

namespace moerag::recsys {
namespace {

void normalize(std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += x * x;
  if (n <= 0) return;
  float s = static_cast<float>(1.0 / std::sqrt(n));
  for (float& x : v) x *= s;
}

bool zero_row(const float* r, int d) {
  for (int k = 0; k < d; ++k)
    if (r[k] != 0) return false;
  return true;
}

float idf_of(const Model& m, int32_t a) {
  return a < static_cast<int32_t>(m.attr_idf.size()) ? m.attr_idf[a]
                                                      : static_cast<float>(std::log(1.0 + m.n_items()));
}

}  // namespace

// The trained row of a warm item, or nullptr for a cold one (no allocation: hot path).
const float* warm_row(const Model& m, const View& v, int32_t item) {
  if (item >= m.n_items()) return nullptr;
  const float* r = v.item_emb.data() + static_cast<size_t>(item) * v.dim;
  return zero_row(r, v.dim) ? nullptr : r;
}

std::vector<float> item_vector(const Model& m, const View& v, const Dataset& data, int32_t item) {
  const int d = v.dim;
  std::vector<float> out(d, 0.0f);
  if (item < m.n_items()) {
    const float* r = v.item_emb.data() + static_cast<size_t>(item) * d;
    if (!zero_row(r, d)) return std::vector<float>(r, r + d);
  }
  // Cold item: the mean of its attributes' item centroids.
  if (item < data.n_items()) {
    int32_t n_attr_rows = static_cast<int32_t>(v.attr_mean.size() / std::max(1, d));
    for (int32_t a : data.item_attrs[item]) {
      if (a >= n_attr_rows) continue;
      const float* r = v.attr_mean.data() + static_cast<size_t>(a) * d;
      for (int k = 0; k < d; ++k) out[k] += r[k];
    }
  }
  normalize(out);
  return out;
}

UserProfile make_profile(const Model& m, const Dataset& data, int32_t user) {
  return make_profile_from(m, data, data.histories()[user], user);
}

namespace {

// Sparse I-U-I path counts of a weighted history, sorted by item.
std::vector<std::pair<int32_t, float>> cf_scores(const Model& m, const Dataset& data,
                                                 const std::vector<std::pair<int32_t, float>>& history) {
  std::vector<float> acc(data.n_items(), 0.0f);
  std::vector<int32_t> touched;
  for (const auto& [h, w] : history) {
    if (h >= m.n_items()) continue;
    for (int64_t j = m.nb_off[h]; j < m.nb_off[h + 1]; ++j) {
      int32_t i = m.nb_idx[j];
      if (acc[i] == 0) touched.push_back(i);
      acc[i] += w * m.nb_sim[j];
    }
  }
  std::sort(touched.begin(), touched.end());
  std::vector<std::pair<int32_t, float>> out;
  out.reserve(touched.size());
  for (int32_t i : touched)
    if (acc[i] != 0) out.emplace_back(i, acc[i]);
  return out;
}

float cf_lookup(const UserProfile& p, int32_t item) {
  auto it = std::lower_bound(p.cf.begin(), p.cf.end(), std::make_pair(item, -1e30f));
  return it != p.cf.end() && it->first == item ? it->second : 0.0f;
}

// Cosine of the user's idf-weighted attribute profile and the item's attributes.
float content_score(const Model& m, const Dataset& data, const UserProfile& p, const std::vector<float>& attr_dense,
                    int32_t item) {
  if (p.attr_norm <= 0) return 0;
  double dot = 0, nn = 0;
  for (int32_t a : data.item_attrs[item]) {
    float idf = idf_of(m, a);
    dot += attr_dense[a] * idf;
    nn += idf * idf;
  }
  return nn > 0 ? static_cast<float>(dot / (std::sqrt(nn) * p.attr_norm)) : 0.0f;
}

std::vector<float> attr_dense_of(const Dataset& data, const UserProfile& p) {
  std::vector<float> d(data.n_attrs(), 0.0f);
  for (const auto& [a, x] : p.attrs) d[a] = x;
  return d;
}

float raw_score(const Model& m, const Dataset& data, const UserProfile& p, const std::vector<float>& attr_dense, int v,
                int32_t item) {
  const View& view = m.views[v];
  switch (view.kind) {
    case ViewKind::EMBEDDING: {
      if (p.history.empty()) return 0;
      const float* r = warm_row(m, view, item);
      auto cold = r ? std::vector<float>() : item_vector(m, view, data, item);
      if (!r) r = cold.data();
      float dot = 0;
      for (int k = 0; k < view.dim; ++k) dot += p.query[v][k] * r[k];
      return dot;
    }
    case ViewKind::ITEM_CF: return cf_lookup(p, item);
    case ViewKind::CONTENT: return content_score(m, data, p, attr_dense, item);
    case ViewKind::POPULARITY: return item < m.n_items() ? m.popularity[item] : 0.0f;
  }
  return 0;
}

float inv_or_zero(double var) { return var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 0.0f; }

// Per-view mean and 1/sd of the user's scores over the catalogue: exact for the
// embedding views (q.mean, q'Cq), the sparse path counts and popularity; on the
// reference sample for the attribute view.
void calibrate(const Model& m, const Dataset& data, UserProfile& p) {
  const int V = m.n_views();
  p.mu.assign(V, 0.0f);
  p.inv_sd.assign(V, 0.0f);
  std::vector<float> attr_dense;
  for (int v = 0; v < V; ++v) {
    const View& view = m.views[v];
    switch (view.kind) {
      case ViewKind::EMBEDDING: {
        if (p.history.empty() || view.mean.empty()) break;
        const float* q = p.query[v].data();
        double mu = 0, var = 0;
        for (int a = 0; a < view.dim; ++a) {
          mu += q[a] * view.mean[a];
          double row = 0;
          for (int b = 0; b < view.dim; ++b) row += view.cov[static_cast<size_t>(a) * view.dim + b] * q[b];
          var += q[a] * row;
        }
        p.mu[v] = static_cast<float>(mu);
        p.inv_sd[v] = inv_or_zero(var);
        break;
      }
      case ViewKind::ITEM_CF: {
        double n = std::max(1, data.n_items()), s = 0, sq = 0;
        for (const auto& [i, x] : p.cf) s += x, sq += static_cast<double>(x) * x;
        p.mu[v] = static_cast<float>(s / n);
        p.inv_sd[v] = inv_or_zero(sq / n - (s / n) * (s / n));
        break;
      }
      case ViewKind::CONTENT: {
        if (p.attr_norm <= 0 || m.ref_items.empty()) break;
        if (attr_dense.empty()) attr_dense = attr_dense_of(data, p);
        double s = 0, sq = 0, n = 0;
        for (int32_t i : m.ref_items) {
          if (i >= data.n_items()) continue;
          double x = content_score(m, data, p, attr_dense, i);
          s += x, sq += x * x, n += 1;
        }
        if (n > 0) {
          p.mu[v] = static_cast<float>(s / n);
          p.inv_sd[v] = inv_or_zero(sq / n - (s / n) * (s / n));
        }
        break;
      }
      case ViewKind::POPULARITY:
        p.mu[v] = m.pop_mean;
        p.inv_sd[v] = m.pop_sd > 0 ? 1.0f / m.pop_sd : 0.0f;
        break;
    }
  }
}

}  // namespace

UserProfile make_profile_from(const Model& m, const Dataset& data, const std::vector<HistoryEntry>& h, int32_t user) {
  UserProfile p;
  int64_t t_max = h.empty() ? 0 : h.back().time;
  double total = 0;
  for (const auto& e : h) {
    float w = e.weight * decay_weight(t_max - e.time, m.half_life_days);
    p.history.emplace_back(e.item, w);
    total += w;
  }
  if (total > 0)
    for (auto& [i, w] : p.history) w = static_cast<float>(w / total);
  p.query.resize(m.views.size());
  double mean_pop = 0;
  for (const auto& [i, w] : p.history) mean_pop += w * (i < m.n_items() ? m.popularity[i] : 0.0f);
  std::vector<float> attr_dense(data.n_attrs(), 0.0f);
  for (const auto& [i, w] : p.history)
    for (int32_t a : data.item_attrs[i]) attr_dense[a] += w * idf_of(m, a);
  double an = 0;
  for (int32_t a = 0; a < data.n_attrs(); ++a)
    if (attr_dense[a] > 0) {
      p.attrs.emplace_back(a, attr_dense[a]);
      an += attr_dense[a] * attr_dense[a];
    }
  p.attr_norm = static_cast<float>(std::sqrt(an));
  for (int v = 0; v < m.n_views(); ++v) {
    const View& view = m.views[v];
    if (view.kind == ViewKind::ITEM_CF && p.cf.empty()) p.cf = cf_scores(m, data, p.history);
    if (view.kind != ViewKind::EMBEDDING) continue;
    std::vector<float> q(view.dim, 0.0f);
    for (const auto& [i, w] : p.history) {
      const float* r = warm_row(m, view, i);
      auto cold = r ? std::vector<float>() : item_vector(m, view, data, i);
      if (!r) r = cold.data();
      for (int k = 0; k < view.dim; ++k) q[k] += w * r[k];
    }
    normalize(q);
    // Known users also carry their trained vector; new users rely on fold-in alone.
    if (!view.user_emb.empty() && user >= 0 && user < static_cast<int32_t>(m.user_ids.size())) {
      const float* u = view.user_emb.data() + static_cast<size_t>(user) * view.dim;
      for (int k = 0; k < view.dim; ++k) q[k] += 0.5f * u[k];
      normalize(q);
    }
    p.query[v] = std::move(q);
  }
  calibrate(m, data, p);
  p.features[0] = 1;
  p.features[1] = static_cast<float>(std::log1p(static_cast<double>(h.size())) / std::log1p(1000.0));
  p.features[2] = static_cast<float>(mean_pop);
  p.attention.assign(m.views.size(), 0.0f);
  float mx = -1e30f;
  for (int v = 0; v < m.n_views(); ++v) {
    float z = 0;
    for (int f = 0; f < kFeatures; ++f) z += m.attention[v * kFeatures + f] * p.features[f];
    p.attention[v] = z;
    mx = std::max(mx, z);
  }
  double s = 0;
  for (auto& a : p.attention) s += (a = std::exp(a - mx));
  for (auto& a : p.attention) a = static_cast<float>(a / s);
  return p;
}

void dense_view_scores(const Model& m, const Dataset& data, const UserProfile& p, std::vector<float>& out) {
  const int32_t n = data.n_items();
  out.assign(static_cast<size_t>(m.n_views()) * n, 0.0f);
  std::vector<float> attr_dense = attr_dense_of(data, p);
  for (int v = 0; v < m.n_views(); ++v) {
    const View& view = m.views[v];
    float* o = out.data() + static_cast<size_t>(v) * n;
    switch (view.kind) {
      case ViewKind::EMBEDDING: {
        if (p.history.empty()) break;
        const float* q = p.query[v].data();
        for (int32_t i = 0; i < n; ++i) {
          const float* r = i < m.n_items() ? view.item_emb.data() + static_cast<size_t>(i) * view.dim : nullptr;
          if (r && !zero_row(r, view.dim)) {
            float dot = 0;
            for (int k = 0; k < view.dim; ++k) dot += q[k] * r[k];
            o[i] = dot;
          } else {
            o[i] = raw_score(m, data, p, attr_dense, v, i);
          }
        }
        break;
      }
      case ViewKind::ITEM_CF:
        for (const auto& [i, x] : p.cf) o[i] = x;
        break;
      case ViewKind::CONTENT:
        if (p.attr_norm <= 0) break;
        for (int32_t i = 0; i < n; ++i) o[i] = content_score(m, data, p, attr_dense, i);
        break;
      case ViewKind::POPULARITY:
        for (int32_t i = 0; i < std::min(n, m.n_items()); ++i) o[i] = m.popularity[i];
        break;
    }
    for (int32_t i = 0; i < n; ++i) o[i] = (o[i] - p.mu[v]) * p.inv_sd[v];
  }
}

void candidate_view_scores(const Model& m, const Dataset& data, const UserProfile& p,
                           const std::vector<int32_t>& items, std::vector<float>& out) {
  const int V = m.n_views();
  out.assign(items.size() * V, 0.0f);
  std::vector<float> attr_dense = attr_dense_of(data, p);
  for (size_t c = 0; c < items.size(); ++c)
    for (int v = 0; v < V; ++v)
      out[c * V + v] = (raw_score(m, data, p, attr_dense, v, items[c]) - p.mu[v]) * p.inv_sd[v];
}

float fuse(const Model& m, const UserProfile& p, const float* s) {
  float x = 0;
  for (int v = 0; v < m.n_views(); ++v) x += p.attention[v] * m.gain[v] * s[v];
  return x;
}

std::vector<float> fused_scores(const Model& m, const Dataset& data, const UserProfile& p) {
  std::vector<float> vs;
  dense_view_scores(m, data, p, vs);
  const int32_t n = data.n_items();
  std::vector<float> out(n, 0.0f), s(m.n_views());
  for (int32_t i = 0; i < n; ++i) {
    for (int v = 0; v < m.n_views(); ++v) s[v] = vs[static_cast<size_t>(v) * n + i];
    out[i] = fuse(m, p, s.data());
  }
  return out;
}

// ---- file format: "MRRSYS02" then length-prefixed fields in a fixed order ----
namespace {

struct Writer {
  std::ofstream f;
  void u64(uint64_t x) { f.write(reinterpret_cast<const char*>(&x), 8); }
  void f64(double x) { f.write(reinterpret_cast<const char*>(&x), 8); }
  void str(const std::string& s) { u64(s.size()); f.write(s.data(), static_cast<std::streamsize>(s.size())); }
  void strs(const std::vector<std::string>& v) { u64(v.size()); for (const auto& s : v) str(s); }
  template <typename T>
  void vec(const std::vector<T>& v) {
    u64(v.size());
    f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  }
};

struct Reader {
  std::ifstream f;
  bool bad = false;
  uint64_t u64() { uint64_t x = 0; if (!f.read(reinterpret_cast<char*>(&x), 8)) bad = true; return x; }
  double f64() { double x = 0; if (!f.read(reinterpret_cast<char*>(&x), 8)) bad = true; return x; }
  std::string str() {
    uint64_t n = u64();
    if (bad || n > (1ULL << 30)) { bad = true; return {}; }
    std::string s(n, '\0');
    if (!f.read(s.data(), static_cast<std::streamsize>(n))) bad = true;
    return s;
  }
  std::vector<std::string> strs() {
    uint64_t n = u64();
    std::vector<std::string> v;
    for (uint64_t i = 0; i < n && !bad; ++i) v.push_back(str());
    return v;
  }
  template <typename T>
  std::vector<T> vec() {
    uint64_t n = u64();
    if (bad || n > (1ULL << 34) / sizeof(T)) { bad = true; return {}; }
    std::vector<T> v(n);
    if (!f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)))) bad = true;
    return v;
  }
};

constexpr char kMagic[] = "MRRSYS02";

}  // namespace

Status save_model(const Model& m, const std::string& path) {
  std::string tmp = path + ".tmp";
  {
    Writer w;
    w.f.open(tmp, std::ios::binary | std::ios::trunc);
    if (!w.f) return Error(ErrorCode::IO, "cannot write " + tmp);
    w.f.write(kMagic, 8);
    w.u64(static_cast<uint64_t>(m.version));
    w.str(m.trained_at);
    w.strs(m.meta_paths);
    w.strs(m.item_ids);
    w.strs(m.user_ids);
    w.u64(m.views.size());
    for (const auto& v : m.views) {
      w.str(v.name);
      w.u64(static_cast<uint64_t>(v.kind));
      w.str(v.meta_path);
      w.u64(static_cast<uint64_t>(v.dim));
      w.vec(v.item_emb);
      w.vec(v.user_emb);
      w.vec(v.attr_mean);
      w.vec(v.mean);
      w.vec(v.cov);
    }
    w.vec(m.nb_off);
    w.vec(m.nb_idx);
    w.vec(m.nb_sim);
    w.vec(m.attr_idf);
    w.vec(m.popularity);
    w.vec(m.attention);
    w.vec(m.gain);
    w.vec(m.ref_items);
    w.f64(m.pop_mean);
    w.f64(m.pop_sd);
    w.u64(m.fit.size());
    for (const auto& f : m.fit) {
      w.str(f.name);
      w.f64(f.recall20);
      w.f64(f.ndcg20);
      w.f64(f.gain);
    }
    w.f64(m.half_life_days);
    w.f64(m.train_seconds);
    w.f.flush();
    if (!w.f) return Error(ErrorCode::IO, "write failed: " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error(ErrorCode::IO, "cannot rename " + tmp + " to " + path + ": " + ec.message());
  return ok_status();
}

Result<Model> load_model(const std::string& path) {
  Reader r;
  r.f.open(path, std::ios::binary);
  if (!r.f) return Error(ErrorCode::NOT_FOUND, "no model file " + path);
  char magic[8];
  if (!r.f.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    return Error(ErrorCode::IO, path + ": not a moerag recsys model (bad magic)");
  Model m;
  m.version = static_cast<int64_t>(r.u64());
  m.trained_at = r.str();
  m.meta_paths = r.strs();
  m.item_ids = r.strs();
  m.user_ids = r.strs();
  uint64_t nv = r.u64();
  for (uint64_t i = 0; i < nv && !r.bad && nv < 1000; ++i) {
    View v;
    v.name = r.str();
    v.kind = static_cast<ViewKind>(r.u64());
    v.meta_path = r.str();
    v.dim = static_cast<int>(r.u64());
    v.item_emb = r.vec<float>();
    v.user_emb = r.vec<float>();
    v.attr_mean = r.vec<float>();
    v.mean = r.vec<float>();
    v.cov = r.vec<float>();
    m.views.push_back(std::move(v));
  }
  m.nb_off = r.vec<int64_t>();
  m.nb_idx = r.vec<int32_t>();
  m.nb_sim = r.vec<float>();
  m.attr_idf = r.vec<float>();
  m.popularity = r.vec<float>();
  m.attention = r.vec<float>();
  m.gain = r.vec<float>();
  m.ref_items = r.vec<int32_t>();
  m.pop_mean = static_cast<float>(r.f64());
  m.pop_sd = static_cast<float>(r.f64());
  uint64_t n_fit = r.u64();
  for (uint64_t i = 0; i < n_fit && !r.bad && n_fit < 1000; ++i) {
    ViewFit f;
    f.name = r.str();
    f.recall20 = r.f64();
    f.ndcg20 = r.f64();
    f.gain = r.f64();
    m.fit.push_back(std::move(f));
  }
  m.half_life_days = r.f64();
  m.train_seconds = r.f64();
  if (r.bad || m.gain.size() != m.views.size() || m.attention.size() != m.views.size() * kFeatures ||
      m.popularity.size() != m.item_ids.size() || m.nb_off.size() != m.item_ids.size() + 1)
    return Error(ErrorCode::IO, path + ": truncated or inconsistent model file");
  return m;
}

}  // namespace moerag::recsys
