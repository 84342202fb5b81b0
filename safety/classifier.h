// Layer 2: a multi-label linear classifier over hashed word and character n-grams
// (Han characters are tokens of their own, so Chinese needs no segmenter), with
// int8 weights, Platt-calibrated probabilities and a threshold per category.
// The same feature extraction serves training (trainer.h) and scoring.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace moerag::safety {

/// The categories the shipped model scores, in model order.
const std::vector<std::string>& default_categories();

/// Per-category parameters stored in the model file.
struct ModelCategory {
  std::string name;
  float scale = 1;      ///< int8 weight -> float
  float bias = 0;       ///< added to the raw logit
  float platt_a = 1;    ///< calibrated p = sigmoid(platt_a * logit + platt_b)
  float platt_b = 0;
  float threshold = 0.5f;  ///< block at p >= threshold
};

/// Hashed features of normalised text (the model input of model_input.h): indices into
/// [0, 2^n_bits), one entry per occurrence (duplicates allowed); each counts
/// feature_value(idx.size()). A placeholder such as "[email]" is one token of its own.
void extract_features(std::string_view normalised, uint32_t n_bits, std::vector<uint32_t>& idx);

/// Value of one feature occurrence in a text with n occurrences: L2 normalisation,
/// except that texts shorter than 16 features count as 16, so a greeting's two or
/// three features cannot push a score far from the prior (little text, little evidence).
inline float feature_value(size_t n) { return 1.0f / __builtin_sqrtf(static_cast<float>(n < 16 ? 16 : n)); }

/// A loaded model. Immutable and thread-safe.
class Classifier {
 public:
  /// Parses model bytes (the file format is described in classifier.cpp).
  static Result<std::unique_ptr<Classifier>> parse(std::string_view bytes);
  /// Reads and parses a model file.
  static Result<std::unique_ptr<Classifier>> load_file(const std::string& path);
  /// The model embedded at build time (safety/model/safety-model.bin).
  static Result<std::unique_ptr<Classifier>> load_embedded();

  /// Builds a model from float weights w: [2^n_bits][n_cat] (feature-major);
  /// quantises them to int8 per category.
  static std::unique_ptr<Classifier> from_float(uint32_t n_bits, std::vector<ModelCategory> cats,
                                                const std::vector<float>& w);
  /// The model file bytes.
  std::string serialize() const;

  /// Raw logits for normalised text, one per category.
  std::vector<float> logits(std::string_view normalised) const;
  /// Calibrated probabilities in [0,1], one per category.
  std::vector<float> probabilities(std::string_view normalised) const;

  const std::vector<ModelCategory>& categories() const { return cats_; }
  std::vector<ModelCategory>& mutable_categories() { return cats_; }
  uint32_t n_bits() const { return n_bits_; }

 private:
  Classifier() = default;
  uint32_t n_bits_ = 0;
  std::vector<ModelCategory> cats_;
  std::vector<int8_t> w_;  // int8 [2^n_bits][n_cat]
};

/// Logistic function.
inline float sigmoid(float z) { return 1.0f / (1.0f + __builtin_expf(-z)); }

}  // namespace moerag::safety
