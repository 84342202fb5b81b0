// Sampler implementation: penalties, then greedy or the truncation chain and a draw.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moerag::engine {

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}

void Sampler::accept(int32_t token) { ++counts_[token]; }

size_t Sampler::draw(const double* w, size_t n) {
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += w[i];
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) * total;
  double cum = 0;
  size_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    if (w[i] <= 0) continue;
    cum += w[i];
    last = i;
    if (u < cum) return i;
  }
  return last;  // u landed on the rounding slack at the end
}

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
  std::vector<double>& w = prob_;
  w.resize(static_cast<size_t>(n));
  double total = 0;
  const float inv_t = 1.0f / p_.temperature;
  for (int64_t i = 0; i < n; ++i) total += w[static_cast<size_t>(i)] = static_cast<double>(std::exp((logits[i] - mx) * inv_t));
  for (int t = 0; t < max_tries && total > 0; ++t) {
    const size_t id = draw(w.data(), w.size());
    if (w[id] <= 0) return -1;
    if (ok(static_cast<int32_t>(id))) return static_cast<int32_t>(id);
    total -= w[id];
    w[id] = 0;
    logits[id] = -INFINITY;
  }
  return -1;
}

int32_t Sampler::pick(float* logits, int64_t n) {
  if (p_.temperature <= 0.0f) return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
  // Only as much of the vocabulary is put in order as the truncation needs: the top k
  // for top-k, growing blocks of the best tokens until top-p's mass is reached, and
  // nothing for plain temperature or min-p (a full sort of a 100k vocabulary costs
  // milliseconds per token). The kept set and its probabilities are those of a full
  // sort; only the order of the draw's table differs.
  const float mx = *std::max_element(logits, logits + n);
  const float inv_t = 1.0f / p_.temperature;  // float exp: 1e-7 relative, a fraction of a double's cost
  const auto weight = [&](int32_t i) { return static_cast<double>(std::exp((logits[i] - mx) * inv_t)); };
  const auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b]; };
  std::vector<int32_t>& idx = idx_;  // scratch kept between calls (no page faults per token)
  idx.resize(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  size_t keep = idx.size();
  bool sorted = false;
  if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < keep) {
    keep = static_cast<size_t>(p_.top_k);
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(keep), idx.end(), better);
    sorted = true;
  }
  std::vector<double>& prob = prob_;
  prob.resize(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += prob[i] = weight(idx[i]);
  if (p_.top_p < 1.0f) {
    const double target = static_cast<double>(p_.top_p) * sum;
    double cum = 0;
    size_t done = 0, block = 64;
    bool reached = false;
    while (!reached && done < keep) {
      size_t end = std::min(keep, done + block);
      if (!sorted)
        std::partial_sort(idx.begin() + static_cast<std::ptrdiff_t>(done), idx.begin() + static_cast<std::ptrdiff_t>(end),
                          idx.begin() + static_cast<std::ptrdiff_t>(keep), better);
      for (; done < end; ++done) {
        prob[done] = weight(idx[done]);
        cum += prob[done];
        if (cum >= target) {
          reached = true;
          ++done;
          break;
        }
      }
      block *= 4;
    }
    keep = done;
  }
  size_t k = 0;
  for (size_t i = 0; i < keep; ++i)  // min-p against the best token, whose weight is 1
    if (prob[i] >= p_.min_p) prob[k] = prob[i], idx[k] = idx[i], ++k;
  if (k == 0) return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
  return idx[draw(prob.data(), k)];
}

}  // namespace moerag::engine
