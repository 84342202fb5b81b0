// Sampler implementation: penalties, then greedy or the truncation chain and a draw.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moerag::engine {

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}

void Sampler::accept(int32_t token) { ++counts_[token]; }

int32_t Sampler::sample(float* logits, int64_t n) {
  apply_penalties(logits, n);
  return pick(logits, n);
}

void Sampler::apply_penalties(float* logits, int64_t n) {
  for (const auto& [tok, cnt] : counts_) {
    if (tok < 0 || tok >= n) continue;
    float& l = logits[tok];
    if (p_.repetition_penalty != 1.0f) l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
    l -= static_cast<float>(cnt) * p_.frequency_penalty + p_.presence_penalty;
  }
}

bool Sampler::can_check_lazily() const {
  return p_.temperature <= 0.0f || (p_.top_k <= 0 && p_.top_p >= 1.0f && p_.min_p <= 0.0f);
}

int32_t Sampler::pick_checked(float* logits, int64_t n, const std::function<bool(int32_t)>& ok, int max_tries) {
  if (n <= 0 || !can_check_lazily()) return -1;
  if (p_.temperature <= 0.0f) {
    for (int t = 0; t < max_tries; ++t) {
      const auto id = static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
      if (std::isinf(logits[id]) && logits[id] < 0) return -1;  // everything left is masked
      if (ok(id)) return id;
      logits[id] = -INFINITY;  // refused: as the mask would have it
    }
    return -1;
  }
  // Temperature: the softmax weights once, then inverse-CDF draws over the weights
  // not yet refused (a refused token's weight leaves the total).
  const float mx = *std::max_element(logits, logits + n);
  std::vector<double> w(static_cast<size_t>(n));
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += w[static_cast<size_t>(i)] = std::exp((logits[i] - mx) / p_.temperature);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  for (int t = 0; t < max_tries && total > 0; ++t) {
    double u = u01(rng_) * total, cum = 0;
    int64_t id = n - 1;
    for (int64_t i = 0; i < n; ++i) {
      cum += w[static_cast<size_t>(i)];
      if (u < cum) {
        id = i;
        break;
      }
    }
    while (id > 0 && w[static_cast<size_t>(id)] == 0) --id;  // rounding at the end of the scan
    if (w[static_cast<size_t>(id)] == 0) return -1;
    if (ok(static_cast<int32_t>(id))) return static_cast<int32_t>(id);
    total -= w[static_cast<size_t>(id)];
    w[static_cast<size_t>(id)] = 0;
    logits[id] = -INFINITY;
  }
  return -1;
}

int32_t Sampler::pick(float* logits, int64_t n) {
  if (p_.temperature <= 0.0f) return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);

  std::vector<int32_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  size_t keep = idx.size();
  if (p_.top_k > 0) keep = std::min(keep, static_cast<size_t>(p_.top_k));
  std::vector<double> prob(keep);
  const double mx = logits[idx[0]];
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += prob[i] = std::exp((logits[idx[i]] - mx) / p_.temperature);
  for (double& v : prob) v /= sum;
  if (p_.top_p < 1.0f) {
    double cum = 0;
    for (size_t i = 0; i < keep; ++i) {
      cum += prob[i];
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0.0f) {
    size_t k = 1;
    while (k < keep && prob[k] >= p_.min_p * prob[0]) ++k;
    keep = k;
  }
  std::discrete_distribution<size_t> d(prob.begin(), prob.begin() + static_cast<std::ptrdiff_t>(keep));
  return idx[d(rng_)];
}

}  // namespace moerag::engine
