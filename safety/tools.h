// Second front door of the safety module, for offline tooling (`moerag safety train`
// and `eval`): train the layer-2 model from a data folder or a labelled file, and
// evaluate a filter on the held-out split and the external sets. Plain data in and
// out; the dataset, trainer and metric internals stay behind it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "safety/filter.h"

namespace moerag::safety {

/// What to train on and how; the defaults produced the shipped model.
struct TrainRequest {
  std::string data;       ///< the ../shared/data folder (built-in recipe) or a labelled JSONL file
  std::string seeds = "safety/data/seeds.jsonl";  ///< project seed examples (with a data folder)
  std::string rules_dir;  ///< rule files whose PII findings become placeholders; empty = built-in
  uint32_t n_bits = 17;   ///< log2 of the hashed feature count (model size = 2^n_bits * 6 bytes)
  int epochs = 10;        ///< passes over the training split
  uint64_t seed = 8;      ///< shuffle seed
  double max_valid_fpr = 0.02;  ///< thresholds flag at most this share of validation negatives
};

/// A trained model: its file bytes and what happened.
struct TrainReport {
  std::string model_bytes;       ///< the model file (Classifier format, see classifier.cpp)
  std::string sha256;            ///< hex digest of model_bytes
  std::vector<std::string> log;  ///< "data: ..." lines per source, then "train: ..." progress lines
};

/// Builds the dataset and trains deterministically (same request + data = same bytes).
Result<TrainReport> train_model(const TrainRequest& request);

/// Metrics of one category on labelled texts ("unsafe (any)" = any category, max score).
struct CategoryRow {
  std::string category;
  size_t n_pos = 0;
  float threshold = 0;
  double precision = 0, recall = 0, f1 = 0, auprc = 0;
};

/// Flag rate of the whole filter (direction input) on one external set.
struct SetRow {
  std::string name;
  bool unsafe = false;  ///< true: rate is recall; false: rate is the false-positive rate
  size_t n = 0, flagged = 0, by_rules = 0;
};

/// Where to evaluate: a labelled JSONL file (every row scored) or a data folder (the
/// held-out test split of the training recipe, then the external sets).
struct EvalRequest {
  std::string data;
  std::string seeds = "safety/data/seeds.jsonl";
};

struct EvalReport {
  std::string description;  ///< what was scored, e.g. "held-out test split ...: 7297 texts"
  std::vector<CategoryRow> categories;  ///< model only, one row per category, then "unsafe (any)"
  std::vector<SetRow> sets;             ///< empty for a JSONL file
};

/// Scores the request's data with `filter` (its model and thresholds).
Result<EvalReport> evaluate(const Filter& filter, const EvalRequest& request);

/// The category rows as a fixed-width text table.
std::string format_category_table(const std::vector<CategoryRow>& rows);

}  // namespace moerag::safety
