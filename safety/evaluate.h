// Evaluation of the filter and its model: precision, recall, F1 and AUPRC per
// category on labelled examples, and flag rates on the external sets (false-positive
// rate on benign sets, recall on harmful and jailbreak sets).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "safety/dataset.h"
#include "safety/filter.h"

namespace moerag::safety {

/// Average precision (area under the precision-recall curve, step-wise) of
/// (score, is_positive) pairs; 0 when there is no positive.
double average_precision(std::vector<std::pair<float, bool>> scored);

/// Metrics of one category (or "unsafe": any category, scored by the maximum).
struct CategoryMetrics {
  std::string category;
  size_t n = 0, n_pos = 0;
  double precision = 0, recall = 0, f1 = 0, auprc = 0;
  float threshold = 0;
};

/// Model-only metrics on labelled examples, using the filter's thresholds.
std::vector<CategoryMetrics> evaluate_model(const Filter& filter, const std::vector<Example>& examples);

/// Flag rate of the full filter (both layers, direction input) on one set.
struct SetResult {
  std::string name;
  bool unsafe = false;
  size_t n = 0, flagged = 0;
  size_t by_rules = 0;  ///< flagged by layer 1
  double rate() const { return n ? static_cast<double>(flagged) / n : 0; }
};
SetResult evaluate_set(const Filter& filter, const EvalSet& set);

/// A table of metrics as text (fixed-width columns).
std::string format_metrics(const std::vector<CategoryMetrics>& m);

}  // namespace moerag::safety
