// `moerag serve` start-up step for the safety filter (order 10: every app uses it).
#include "cli/serve_modules.h"
#include "safety/filter.h"
#include "web/routes_safety.h"

namespace moerag::cli {

/// Maps the typed `safety` settings onto the filter's options.
safety::SafetyOptions safety_options(const config::Settings& s) {
  safety::SafetyOptions o;
  o.enabled = s.safety.enabled;
  o.model_enabled = s.safety.model_enabled;
  o.model_path = s.safety.model_path;
  o.rules_dir = s.safety.rules_dir;
  o.thresholds = s.safety.thresholds;
  o.max_bytes = static_cast<size_t>(s.safety.max_bytes);
  o.redact_pii = s.safety.redact_pii;
  o.reversible_redaction = s.safety.reversible_redaction;
  o.passage_policy = s.safety.passage_policy == "drop" ? safety::PassagePolicy::DROP : safety::PassagePolicy::NEUTRALISE;
  o.audit_store_text = s.safety.audit_store_text;
  return o;
}

namespace {
RegisterServeModule reg(10, "safety", [](ServeContext& ctx) -> Status {
  MOERAG_ASSIGN_OR_RETURN(auto filter, safety::Filter::create(safety_options(ctx.settings), ctx.db));
  std::shared_ptr<safety::Filter> shared = std::move(filter);
  ctx.modules["safety"] = shared;
  ctx.services.route_sets.push_back(web::safety_routes(shared));
  return {};
});
}  // namespace

}  // namespace moerag::cli
