// Trains the layer-2 classifier: one-vs-rest logistic regression per category over
// the hashed features of classifier.h, AdaGrad SGD in a fixed example order (seeded
// shuffle) with the bias fixed at the prior, int8 quantisation, then Platt calibration
// and per-category thresholds fitted on the validation split. Same data + options =
// byte-identical model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "safety/classifier.h"
#include "safety/dataset.h"
#include "safety/rules.h"

namespace moerag::safety {

/// Training knobs; the defaults produced the shipped model.
struct TrainOptions {
  uint32_t n_bits = 17;        ///< 2^n_bits hashed features (model size = 2^n_bits * 6 bytes)
  int epochs = 10;             ///< passes over the training split
  float learning_rate = 0.3f;  ///< AdaGrad base step
  float l2 = 2e-6f;            ///< L2 penalty on touched weights, per step
  float max_pos_weight = 6.0f; ///< cap on sqrt(n_neg / n_pos) class weighting
  uint64_t seed = 8;           ///< shuffle seed
  double max_valid_fpr = 0.02; ///< thresholds flag at most this share of validation negatives
};

/// Trains on ds.train, calibrates on ds.valid. Texts are featurised as the filter
/// scores them (model_input.h: `rules` replace PII by placeholders); train with the
/// rules the filter will run. `log` receives progress lines.
Result<std::unique_ptr<Classifier>> train_classifier(const Dataset& ds, const TrainOptions& options, const Rules& rules,
                                                     std::vector<std::string>* log = nullptr);

/// Deterministic 64-bit generator (splitmix64) for shuffles that do not depend on
/// the standard library's distribution algorithms.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t s_;
};

}  // namespace moerag::safety
