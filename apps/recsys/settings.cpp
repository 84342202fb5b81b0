// RecsysOptions from the `recsys` settings section; meta-paths validated against
// the graph schema (apps/recsys/graph.h) with the key and its source in the message.
#include "apps/recsys/settings.h"

#include "apps/recsys/graph.h"

namespace moerag::recsys {

Status check_settings(const config::Settings& settings) {
  for (const auto& text : settings.recsys.meta_paths) {
    auto p = parse_meta_path(text);
    if (p.ok()) continue;
    // "meta-path 'X': why (schema)" -> "recsys.meta_paths entry 'X': why (schema; set by ...)".
    std::string why = p.error().message;
    const std::string prefix = "meta-path '" + text + "': ";
    if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
    const std::string set_by = "set by " + settings.source_of("recsys.meta_paths");
    why = !why.empty() && why.back() == ')' ? why.substr(0, why.size() - 1) + "; " + set_by + ")" : why + " (" + set_by + ")";
    return Error(ErrorCode::INVALID_INPUT, "config: recsys.meta_paths entry '" + text + "': " + why);
  }
  return ok_status();
}

Result<RecsysOptions> options_from_settings(const config::Settings& settings) {
  MOERAG_TRY(check_settings(settings));
  const config::RecsysSettings& r = settings.recsys;
  RecsysOptions o;
  o.meta_paths = r.meta_paths;
  o.dim = r.dim;
  o.walks_per_node = r.walks_per_node;
  o.walk_length = r.walk_length;
  o.window = r.window;
  o.negatives = r.negatives;
  o.epochs = r.epochs;
  o.learning_rate = r.learning_rate;
  o.knn_neighbors = r.knn_neighbors;
  o.half_life_days = r.half_life_days;
  o.holdout_fraction = r.holdout_fraction;
  o.fusion_epochs = r.fusion_epochs;
  o.threads = r.threads;
  o.seed = r.seed;
  o.candidates = r.candidates;
  o.default_k = r.default_k;
  o.max_k = r.max_k;
  o.explanations = r.explanations;
  return o;
}

}  // namespace moerag::recsys
