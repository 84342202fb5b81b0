// The built-in embedder once a knowledge base is fitted: latent semantic analysis
// (TF-IDF over the hashed word / CJK / n-gram features of HashedEmbedder,
// truncated SVD by a randomized range finder) concatenated with the hashed
// TF-IDF projection, so texts sharing no feature can still be close. The fitted
// model is one blob stored with the knowledge base; no model file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engine/embedder.h"
#include "retrieval/hashed_embedder.h"

namespace moerag::retrieval {

class LsaEmbedder : public engine::Embedder {
 public:
  /// Fits a model on `texts` (a sample of the KB's chunks; up to kMaxFitTexts are
  /// used, evenly spaced) and returns its blob. `dim` is the embedding size; the
  /// latent part has min(dim * 2 / 3, 256) of it, the hashed part the rest.
  static std::string fit(const std::vector<std::string>& texts, size_t dim);
  /// True when `blob` was written by fit().
  static bool is_model(const std::string& blob);
  /// The embedder of a blob written by fit(); INVALID_INPUT when it is damaged.
  static Result<std::shared_ptr<LsaEmbedder>> load(const std::string& blob);

  size_t dim() const override { return n_latent_ + hashed_->dim(); }
  std::string id() const override { return id_; }
  Result<std::vector<float>> embed(const std::vector<std::string>& texts) override;
  /// Writes the unit vector of one text into out[0..dim).
  void embed_one(std::string_view text, float* out) const;

  static constexpr size_t kMaxFitTexts = 20000;   ///< chunks the SVD is fitted on
  static constexpr size_t kMaxFeatures = 32768;   ///< most frequent features kept (df >= 2)

 private:
  LsaEmbedder() = default;
  size_t n_latent_ = 0;                    // k
  std::unique_ptr<HashedEmbedder> hashed_;  // the lexical part, IDF-weighted
  std::vector<int32_t> row_of_;             // [kBuckets] feature row in proj_, -1 = not kept
  std::vector<float> idf_;                  // [m]
  std::vector<float> proj_;                 // [m, k] right singular vectors scaled by sigma^-1/2
  std::string id_;
};

}  // namespace moerag::retrieval
