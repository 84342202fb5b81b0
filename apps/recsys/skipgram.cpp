// SGNS training loop: per walk token, every context in the window is a positive
// pair plus `negatives` sampled pairs of the context's type; the step size decays
// linearly over the run (as in word2vec).
#include "apps/recsys/skipgram.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace moerag::recsys {
namespace {

// Unigram^0.75 sampling table of one node type.
struct NegTable {
  std::vector<int32_t> table;
  int32_t draw(uint64_t r) const { return table[r % table.size()]; }
};

std::vector<NegTable> build_tables(const std::vector<int32_t>& walks, int32_t n_nodes,
                                   const std::vector<uint8_t>& node_type) {
  std::vector<double> freq(n_nodes, 0);
  for (int32_t v : walks)
    if (v >= 0) freq[v] += 1;
  int n_types = 0;
  for (auto t : node_type) n_types = std::max(n_types, t + 1);
  std::vector<double> total(n_types, 0);
  for (int32_t v = 0; v < n_nodes; ++v) total[node_type[v]] += std::pow(freq[v], 0.75);
  std::vector<NegTable> tables(n_types);
  const double size = 1 << 20;
  for (int32_t v = 0; v < n_nodes; ++v) {
    if (freq[v] == 0) continue;
    int t = node_type[v];
    int64_t n = std::max<int64_t>(1, std::llround(size * std::pow(freq[v], 0.75) / total[t]));
    tables[t].table.insert(tables[t].table.end(), n, v);
  }
  return tables;
}

inline float sigmoid(float x) {
  if (x > 8) return 1;
  if (x < -8) return 0;
  return 1.0f / (1.0f + std::exp(-x));
}

}  // namespace

std::vector<float> train_skipgram(const std::vector<int32_t>& walks, int walk_length, int32_t n_nodes,
                                  const std::vector<uint8_t>& node_type, const SkipGramOptions& o,
                                  const std::function<void(double)>& progress) {
  const int d = o.dim;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<float> init(-0.5f / d, 0.5f / d);
  std::vector<float> in(static_cast<size_t>(n_nodes) * d), out(static_cast<size_t>(n_nodes) * d, 0.0f);  // [n_nodes, d]
  for (auto& x : in) x = init(rng);
  auto tables = build_tables(walks, n_nodes, node_type);
  const size_t n_walks = walks.size() / walk_length;
  const double total_steps = static_cast<double>(n_walks) * o.epochs;
  std::vector<float> grad(d);
  // Visit walks in a shuffled order so early and late learning rates are spread evenly.
  std::vector<uint32_t> order(n_walks);
  for (size_t i = 0; i < n_walks; ++i) order[i] = static_cast<uint32_t>(i);
  double step = 0;
  for (int ep = 0; ep < o.epochs; ++ep) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t wi = 0; wi < n_walks; ++wi, step += 1) {
      float lr = static_cast<float>(o.learning_rate * std::max(0.0001, 1.0 - step / total_steps));
      if (progress && (wi & 4095) == 0) progress(step / total_steps);
      const int32_t* walk = walks.data() + static_cast<size_t>(order[wi]) * walk_length;
      for (int t = 0; t < walk_length && walk[t] >= 0; ++t) {
        float* vin = in.data() + static_cast<size_t>(walk[t]) * d;
        int lo = std::max(0, t - o.window), hi = std::min(walk_length - 1, t + o.window);
        for (int c = lo; c <= hi; ++c) {
          if (c == t || walk[c] < 0) continue;
          int32_t ctx = walk[c];
          std::fill(grad.begin(), grad.end(), 0.0f);
          const auto& tab = tables[node_type[ctx]];
          for (int n = 0; n <= o.negatives; ++n) {
            int32_t target = ctx;
            float label = 1;
            if (n > 0) {
              target = tab.draw(rng());
              if (target == ctx) continue;
              label = 0;
            }
            float* vout = out.data() + static_cast<size_t>(target) * d;
            float dot = 0;
            for (int k = 0; k < d; ++k) dot += vin[k] * vout[k];
            float g = (label - sigmoid(dot)) * lr;
            for (int k = 0; k < d; ++k) {
              grad[k] += g * vout[k];
              vout[k] += g * vin[k];
            }
          }
          for (int k = 0; k < d; ++k) vin[k] += grad[k];
        }
      }
    }
  }
  // Normalise; nodes that never appeared in a walk get zero vectors.
  std::vector<bool> seen(n_nodes, false);
  for (int32_t v : walks)
    if (v >= 0) seen[v] = true;
  for (int32_t v = 0; v < n_nodes; ++v) {
    float* x = in.data() + static_cast<size_t>(v) * d;
    double nn = 0;
    for (int k = 0; k < d; ++k) nn += x[k] * x[k];
    float s = (seen[v] && nn > 0) ? static_cast<float>(1.0 / std::sqrt(nn)) : 0.0f;
    for (int k = 0; k < d; ++k) x[k] *= s;
  }
  if (progress) progress(1.0);
  return in;
}

}  // namespace moerag::recsys
