// AdaGrad logistic regression over hashed features, then calibration (see trainer.h).
#include "safety/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "safety/evaluate.h"
#include "safety/model_input.h"

namespace moerag::safety {
namespace {

// One example as sorted unique (feature, value) pairs, values L2-normalised.
struct Sparse {
  std::vector<uint32_t> idx;
  std::vector<float> val;
  uint32_t labels = 0;
};

Sparse featurize(const Example& e, const Rules& rules, uint32_t n_bits) {
  std::vector<uint32_t> raw;
  extract_features(model_input(e.text, rules), n_bits, raw);
  Sparse s;
  s.labels = e.labels;
  if (raw.empty()) return s;
  float unit = feature_value(raw.size());
  std::sort(raw.begin(), raw.end());
  for (size_t i = 0; i < raw.size();) {
    size_t j = i;
    while (j < raw.size() && raw[j] == raw[i]) ++j;
    s.idx.push_back(raw[i]);
    s.val.push_back(unit * static_cast<float>(j - i));
    i = j;
  }
  return s;
}

// Fits p = sigmoid(a*z + b) by Newton's method on Platt's smoothed targets, with a
// backtracking line search so nearly separable data cannot make it diverge.
std::pair<float, float> fit_platt(const std::vector<float>& z, const std::vector<bool>& y) {
  double n_pos = 0, n_neg = 0;
  for (bool v : y) (v ? n_pos : n_neg) += 1;
  if (n_pos == 0 || n_neg == 0) return {1.0f, 0.0f};
  const double t_pos = (n_pos + 1) / (n_pos + 2), t_neg = 1 / (n_neg + 2);
  auto loss = [&](double a, double b) {
    double l = 0;
    for (size_t i = 0; i < z.size(); ++i) {
      double f = a * z[i] + b, t = y[i] ? t_pos : t_neg;
      // -(t log p + (1-t) log(1-p)), written stably
      l += (f >= 0) ? t * std::log1p(std::exp(-f)) + (1 - t) * (f + std::log1p(std::exp(-f)))
                    : t * (-f + std::log1p(std::exp(f))) + (1 - t) * std::log1p(std::exp(f));
    }
    return l;
  };
  double a = 1, b = 0, cur = loss(a, b);
  for (int it = 0; it < 100; ++it) {
    double g_a = 0, g_b = 0, h_aa = 1e-6, h_ab = 0, h_bb = 1e-6;
    for (size_t i = 0; i < z.size(); ++i) {
      double p = 1 / (1 + std::exp(-(a * z[i] + b)));
      double d = p - (y[i] ? t_pos : t_neg), w = p * (1 - p);
      g_a += d * z[i];
      g_b += d;
      h_aa += w * z[i] * z[i];
      h_ab += w * z[i];
      h_bb += w;
    }
    double det = h_aa * h_bb - h_ab * h_ab;
    if (!(det > 1e-12)) break;
    double da = (h_bb * g_a - h_ab * g_b) / det, db = (h_aa * g_b - h_ab * g_a) / det;
    double step = 1;
    while (step > 1e-6 && !(loss(a - step * da, b - step * db) < cur)) step /= 2;
    if (step <= 1e-6) break;
    a -= step * da;
    b -= step * db;
    double next = loss(a, b);
    if (cur - next < 1e-9 * (1 + cur)) break;
    cur = next;
  }
  return {static_cast<float>(a), static_cast<float>(b)};
}

// The threshold in [0.5, 0.95] with the best F0.5 (precision counts double) on the
// validation split among those that flag at most max_fpr of its negatives: out-of-domain
// benign text scores higher than in-domain negatives, so the margin is deliberate.
float pick_threshold(const std::vector<float>& p, const std::vector<bool>& y, double max_fpr) {
  float best_t = 0.95f;
  double best_f = -1, n_neg = 0;
  for (bool v : y) n_neg += !v;
  for (int k = 50; k <= 95; ++k) {
    float t = k / 100.0f;
    double tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      bool flag = p[i] >= t;
      tp += flag && y[i];
      fp += flag && !y[i];
      fn += !flag && y[i];
    }
    if (n_neg > 0 && fp / n_neg > max_fpr) continue;
    double f = tp ? 1.25 * tp / (1.25 * tp + 0.25 * fn + fp) : 0;
    if (f > best_f + 1e-9) { best_f = f; best_t = t; }
  }
  return best_t;
}

}  // namespace

Result<std::unique_ptr<Classifier>> train_classifier(const Dataset& ds, const TrainOptions& o, const Rules& rules,
                                                     std::vector<std::string>* log) {
  auto say = [&](const std::string& s) { if (log) log->push_back(s); };
  const auto& names = default_categories();
  const size_t n_cat = names.size(), n_feat = size_t{1} << o.n_bits;
  if (ds.train.empty()) return make_error(ErrorCode::INVALID_INPUT, "no training examples");

  std::vector<Sparse> train;
  train.reserve(ds.train.size());
  for (const auto& e : ds.train) train.push_back(featurize(e, rules, o.n_bits));

  // The bias is fixed at the weighted prior log-odds, not learnt: a text with no
  // features (or few: see feature_value) then scores the prior. A learnt bias drifted
  // far above it (its weight moved to frequent words), so "hello" scored as an attack.
  std::vector<float> pos_weight(n_cat), bias(n_cat);
  for (size_t c = 0; c < n_cat; ++c) {
    double n_pos = 0;
    for (const auto& s : train) n_pos += (s.labels >> c) & 1;
    double n_neg = static_cast<double>(train.size()) - n_pos;
    double ratio = n_pos > 0 ? std::sqrt(n_neg / n_pos) : 1.0;
    pos_weight[c] = static_cast<float>(std::clamp(ratio, 1.0, static_cast<double>(o.max_pos_weight)));
    bias[c] = static_cast<float>(std::log((pos_weight[c] * n_pos + 0.5) / (n_neg + 0.5)));
    char buf[160];
    std::snprintf(buf, sizeof buf, "category %-16s train positives %6.0f  positive weight %.2f  prior logit %.2f",
                  names[c].c_str(), n_pos, pos_weight[c], bias[c]);
    say(buf);
  }

  std::vector<float> w(n_feat * n_cat, 0.0f), g2(n_feat * n_cat, 1e-6f);  // [n_feat][n_cat]
  std::vector<uint32_t> order(train.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  SplitMix64 rng(o.seed);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);  // Fisher-Yates
    double loss = 0;
    for (uint32_t ex : order) {
      const Sparse& s = train[ex];
      float z[64];
      for (size_t c = 0; c < n_cat; ++c) z[c] = bias[c];
      for (size_t k = 0; k < s.idx.size(); ++k) {
        const float* wf = &w[static_cast<size_t>(s.idx[k]) * n_cat];
        for (size_t c = 0; c < n_cat; ++c) z[c] += wf[c] * s.val[k];
      }
      float g[64];
      for (size_t c = 0; c < n_cat; ++c) {
        bool y = (s.labels >> c) & 1;
        float p = sigmoid(z[c]);
        float weight = y ? pos_weight[c] : 1.0f;
        g[c] = weight * (p - (y ? 1.0f : 0.0f));
        loss -= weight * std::log(std::max(1e-7f, y ? p : 1 - p));
      }
      for (size_t k = 0; k < s.idx.size(); ++k) {
        float* wf = &w[static_cast<size_t>(s.idx[k]) * n_cat];
        float* gf = &g2[static_cast<size_t>(s.idx[k]) * n_cat];
        for (size_t c = 0; c < n_cat; ++c) {
          float gc = g[c] * s.val[k] + o.l2 * wf[c];
          gf[c] += gc * gc;
          wf[c] -= o.learning_rate * gc / std::sqrt(gf[c]);
        }
      }
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "epoch %2d  mean weighted log-loss %.4f", epoch + 1, loss / train.size());
    say(buf);
  }

  std::vector<ModelCategory> cats(n_cat);
  for (size_t c = 0; c < n_cat; ++c) {
    cats[c].name = names[c];
    cats[c].bias = bias[c];
  }
  auto model = Classifier::from_float(o.n_bits, std::move(cats), w);

  // Calibration and thresholds on the validation split, with the quantised weights.
  std::vector<std::vector<float>> z(n_cat);
  std::vector<std::vector<bool>> y(n_cat);
  for (const auto& e : ds.valid) {
    auto lz = model->logits(model_input(e.text, rules));
    for (size_t c = 0; c < n_cat; ++c) {
      z[c].push_back(lz[c]);
      y[c].push_back((e.labels >> c) & 1);
    }
  }
  for (size_t c = 0; c < n_cat; ++c) {
    auto& mc = model->mutable_categories()[c];
    std::tie(mc.platt_a, mc.platt_b) = fit_platt(z[c], y[c]);
    std::vector<float> p(z[c].size());
    for (size_t i = 0; i < p.size(); ++i) p[i] = sigmoid(mc.platt_a * z[c][i] + mc.platt_b);
    mc.threshold = pick_threshold(p, y[c], o.max_valid_fpr);
    char buf[160];
    std::snprintf(buf, sizeof buf, "category %-16s platt a=%.3f b=%.3f threshold %.2f", mc.name.c_str(), mc.platt_a,
                  mc.platt_b, mc.threshold);
    say(buf);
  }
  return model;
}

}  // namespace moerag::safety
