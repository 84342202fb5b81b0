// The built-in embedder: hashed word, CJK bigram/unigram and character-trigram
// features, weighted by a corpus-fitted IDF table, folded into `dim` dimensions by
// a signed sparse random projection. No model file; fitted per knowledge base.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/embedder.h"

namespace moerag::retrieval {

class HashedEmbedder : public engine::Embedder {
 public:
  /// Feature buckets of the document-frequency table.
  static constexpr uint32_t kBuckets = 1u << 18;

  /// `df`: document frequency per bucket (size kBuckets) over `n_docs` texts; empty =
  /// unfitted (every feature weighs the same).
  HashedEmbedder(size_t dim, std::vector<uint32_t> df, int64_t n_docs);

  size_t dim() const override { return dim_; }
  std::string id() const override { return id_; }
  Result<std::vector<float>> embed(const std::vector<std::string>& texts) override;

  /// Writes the L2-normalised vector of one text into out[0..dim).
  void embed_one(std::string_view text, float* out) const;

  /// Adds one text's distinct feature buckets to df (size kBuckets).
  static void count_df(std::string_view text, std::vector<uint32_t>& df);

  /// Feature bucket hashes and raw weights of a text (exposed for tests).
  static std::vector<std::pair<uint64_t, float>> features(std::string_view text);

 private:
  size_t dim_;
  std::vector<float> idf_;  // [kBuckets], empty when unfitted
  std::string id_;
};

}  // namespace moerag::retrieval
