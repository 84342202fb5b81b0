// train_model and evaluate (see tools.h) over the dataset, trainer and metric internals.
#include "safety/tools.h"

#include <filesystem>

#include "core/hash.h"
#include "safety/dataset.h"
#include "safety/evaluate.h"
#include "safety/normalize.h"
#include "safety/rules.h"
#include "safety/trainer.h"

namespace moerag::safety {
namespace {

// Splits examples by the same hash the dataset builder uses (10% test, 10% valid).
Dataset split_examples(std::vector<Example> all) {
  Dataset ds;
  for (auto& e : all) {
    uint64_t bucket = (fnv1a64(normalize_text(e.text)) >> 7) % 10;
    (bucket == 0 ? ds.test : bucket == 1 ? ds.valid : ds.train).push_back(std::move(e));
  }
  return ds;
}

Result<Dataset> load_data(const std::string& data, const std::string& seeds) {
  if (std::filesystem::is_directory(data)) return build_dataset(data, seeds);
  MOERAG_ASSIGN_OR_RETURN(auto all, read_examples_jsonl(data));
  return split_examples(std::move(all));
}

}  // namespace

Result<TrainReport> train_model(const TrainRequest& r) {
  MOERAG_ASSIGN_OR_RETURN(Dataset ds, load_data(r.data, r.seeds));
  TrainReport report;
  for (const auto& l : ds.log) report.log.push_back("data: " + l);
  // The model learns from text with PII as placeholders, exactly as the filter will
  // show it: the embedded default rules, or rules_dir.
  MOERAG_ASSIGN_OR_RETURN(auto config, load_rule_config(r.rules_dir));
  MOERAG_ASSIGN_OR_RETURN(auto rules, Rules::compile(std::move(config)));
  TrainOptions o;
  o.n_bits = r.n_bits;
  o.epochs = r.epochs;
  o.seed = r.seed;
  o.max_valid_fpr = r.max_valid_fpr;
  std::vector<std::string> log;
  auto model = train_classifier(ds, o, *rules, &log);
  for (const auto& l : log) report.log.push_back("train: " + l);
  if (!model.ok()) return model.error();
  report.model_bytes = (*model)->serialize();
  report.sha256 = sha256_hex(report.model_bytes);
  return report;
}

Result<EvalReport> evaluate(const Filter& filter, const EvalRequest& r) {
  EvalReport report;
  std::vector<Example> examples;
  const bool dir = std::filesystem::is_directory(r.data);
  if (dir) {
    MOERAG_ASSIGN_OR_RETURN(Dataset ds, build_dataset(r.data, r.seeds));
    examples = std::move(ds.test);
    report.description = "held-out test split of the training recipe: " + std::to_string(examples.size()) + " texts";
  } else {
    MOERAG_ASSIGN_OR_RETURN(examples, read_examples_jsonl(r.data));
    report.description = r.data + ": " + std::to_string(examples.size()) + " texts";
  }
  for (const auto& m : evaluate_model(filter, examples))
    report.categories.push_back({m.category, m.n_pos, m.threshold, m.precision, m.recall, m.f1, m.auprc});
  if (dir)
    for (const auto& set : build_eval_sets(r.data)) {
      SetResult s = evaluate_set(filter, set);
      report.sets.push_back({s.name, s.unsafe, s.n, s.flagged, s.by_rules});
    }
  return report;
}

std::string format_category_table(const std::vector<CategoryRow>& rows) {
  std::vector<CategoryMetrics> ms;
  for (const auto& r : rows) {
    CategoryMetrics m;
    m.category = r.category;
    m.n_pos = r.n_pos;
    m.threshold = r.threshold;
    m.precision = r.precision;
    m.recall = r.recall;
    m.f1 = r.f1;
    m.auprc = r.auprc;
    ms.push_back(m);
  }
  return format_metrics(ms);
}

}  // namespace moerag::safety
