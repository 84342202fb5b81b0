// Skip-gram with negative sampling over random walks (metapath2vec-style: negatives
// are drawn from the same node type as the context node). Single-threaded per call
// so a seed fixes the result; callers train several meta-path views in parallel.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace moerag::recsys {

struct SkipGramOptions {
  int dim = 64;
  int window = 4;
  int negatives = 5;
  int epochs = 1;
  double learning_rate = 0.025;
  uint64_t seed = 42;
};

/// Trains embeddings from walks [n_walks, walk_length] of global node ids (-1 =
/// padding). node_type: [n_nodes] small integers; negatives for a context node
/// come from the unigram^0.75 distribution of its type. Returns the input vectors
/// [n_nodes, dim], L2-normalised (zero rows for nodes never seen). `progress`
/// gets the fraction done now and then.
std::vector<float> train_skipgram(const std::vector<int32_t>& walks, int walk_length, int32_t n_nodes,
                                  const std::vector<uint8_t>& node_type, const SkipGramOptions& o,
                                  const std::function<void(double)>& progress = nullptr);

}  // namespace moerag::recsys
