// Training and evaluation data for the classifier: a small CSV reader, labelled
// JSON Lines, and the recipe that assembles the training set from the public sets
// under ../shared/data (only sets whose licences allow shipping a model trained on
// them; see safety/MODEL.md) plus the project's own seed examples.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace moerag::safety {

/// One labelled text. Bit c of `labels` = category c of default_categories().
struct Example {
  std::string text;
  uint32_t labels = 0;  ///< 0 = safe
  std::string source;   ///< e.g. "cold-zh-offensive/train.csv"
};

/// Rows of RFC 4180 CSV (quoted fields may hold separators, quotes and newlines);
/// a leading UTF-8 BOM is skipped. `sep` may be '\t' with quoting off for TSV.
std::vector<std::vector<std::string>> parse_csv(std::string_view content, char sep = ',', bool quoting = true);

/// Bit mask for category names; INVALID_INPUT for a name the model does not know.
Result<uint32_t> labels_from_names(const std::vector<std::string>& names);
/// Category names of a bit mask.
std::vector<std::string> names_from_labels(uint32_t labels);

/// Reads JSON Lines {"text": "...", "labels": ["violence", ...]} (labels may be empty).
Result<std::vector<Example>> read_examples_jsonl(const std::string& path);

/// The assembled training data, split by a hash of the normalised text
/// (10% test, 10% validation for calibration and thresholds, 80% train).
struct Dataset {
  std::vector<Example> train, valid, test;
  std::vector<std::string> log;  ///< one line per source: path, rows, positives
};

/// Project-written contrast examples (safety/contrast.cpp): question frames around
/// benign actions with violent words in a safe sense and around harmful actions,
/// English and Chinese, plus single ordinary words labelled safe.
std::vector<Example> contrast_examples();

/// Project-written safe questions that look risky (safety/contrast_topics.cpp):
/// definitions of sensitive terms, idioms, games and fiction, history of violence,
/// fictional characters' private details; English and Chinese, with harmful contrast rows.
std::vector<Example> topic_examples();

/// Builds the dataset from `shared_dir` (../shared/data) and the seeds file
/// (JSON Lines as above). Deterministic: fixed source order, hash split, dedupe.
Result<Dataset> build_dataset(const std::string& shared_dir, const std::string& seeds_path);

/// A labelled evaluation set that is never trained on (XSTest, Dolly, jailbreaks...).
struct EvalSet {
  std::string name;
  bool unsafe = false;  ///< true: every row should be flagged (recall); false: none (FPR)
  std::vector<std::string> texts;
};

/// The external evaluation sets found under shared_dir (missing ones are skipped).
std::vector<EvalSet> build_eval_sets(const std::string& shared_dir);

}  // namespace moerag::safety
