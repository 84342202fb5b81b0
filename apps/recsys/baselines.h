// The baselines the fused model is measured against: popularity, ItemKNN (cosine
// over user sets, top-k neighbours, optional shrinkage) and BPR matrix
// factorisation. Each scores every item for a user given the training histories.
#pragma once

#include <cstdint>
#include <vector>

#include "apps/recsys/dataset.h"
#include "apps/recsys/graph.h"

namespace moerag::recsys {

/// Top-k cosine neighbours of every item: row i is idx/sim[off[i] .. off[i+1]),
/// sorted by neighbour index. sim = co(i,j) / (sqrt(n_i n_j) + shrink).
struct ItemNeighbors {
  std::vector<int64_t> off;  ///< [n_items + 1]
  std::vector<int32_t> idx;  ///< [nnz]
  std::vector<float> sim;    ///< [nnz]
};
ItemNeighbors item_cosine_neighbors(const Graph& g, int k, double shrink, int n_threads);

/// Something that scores all items for a user: out [n_items].
class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual void score(int32_t user, std::vector<float>& out) const = 0;
};

/// Items by number of distinct training users.
class PopularityScorer : public Scorer {
 public:
  explicit PopularityScorer(const Graph& g);
  void score(int32_t user, std::vector<float>& out) const override;

 private:
  std::vector<float> pop_;  // [n_items]
};

/// Sum of neighbour similarities over the user's training items.
class ItemKnnScorer : public Scorer {
 public:
  ItemKnnScorer(const Graph& g, int k, double shrink, int n_threads);
  void score(int32_t user, std::vector<float>& out) const override;

 private:
  const Graph& g_;
  ItemNeighbors nb_;
};

/// BPR-MF options.
struct BprOptions {
  int dim = 64;
  int epochs = 30;
  double learning_rate = 0.05;
  double reg = 0.005;
  uint64_t seed = 42;
};

/// Matrix factorisation trained with BPR on uniform negatives (with item bias).
class BprMfScorer : public Scorer {
 public:
  BprMfScorer(const Graph& g, const BprOptions& o);
  void score(int32_t user, std::vector<float>& out) const override;

 private:
  int d_;
  int32_t n_items_;
  std::vector<float> p_, q_, b_;  // [n_users, d], [n_items, d], [n_items]
};

}  // namespace moerag::recsys
