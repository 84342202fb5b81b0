// POST /v1/safety/check and the safety counters exported on /metrics.
#include "web/routes_safety.h"

#include "safety/filter.h"
#include "web/routes.h"

namespace moerag::web {

static json verdict_json(const safety::Verdict& v) {
  json j = {{"decision", safety::decision_name(v.decision)},
            {"categories", v.categories},
            {"scores", v.scores},
            {"reason", v.reason},
            {"layer", v.layer},
            {"rules", v.rules}};
  if (v.decision == safety::Decision::REDACT) j["redacted_text"] = v.redacted_text;
  return j;
}

static void render_safety_metrics(const safety::Filter& f, std::string& out) {
  auto st = f.stats();
  out += "# HELP moerag_safety_checks_total Safety checks by direction.\n# TYPE moerag_safety_checks_total counter\n";
  for (const auto& [dir, n] : st.checks)
    out += "moerag_safety_checks_total" + format_labels({{"direction", dir}}) + " " + std::to_string(n) + "\n";
  out += "# HELP moerag_safety_decisions_total Non-allow safety decisions by category, layer, decision and direction.\n"
         "# TYPE moerag_safety_decisions_total counter\n";
  for (const auto& r : st.rows)
    out += "moerag_safety_decisions_total" +
           format_labels({{"category", r.category}, {"layer", r.layer}, {"decision", r.decision}, {"direction", r.direction}}) +
           " " + std::to_string(r.count) + "\n";
  out += "# HELP moerag_safety_audit_errors_total Audit rows that could not be written.\n"
         "# TYPE moerag_safety_audit_errors_total counter\nmoerag_safety_audit_errors_total " +
         std::to_string(st.audit_errors) + "\n";
}

RouteSet safety_routes(std::shared_ptr<safety::Filter> filter) {
  return [filter](WebState& s) {
    s.metrics.add_collector([filter](std::string& out) { render_safety_metrics(*filter, out); });
    s.router.add(
        {"POST", "/v1/safety/check", Role::USER, "safety",
         "Check a text with both safety layers: allow, redact (PII replaced) or block, with categories and scores.",
         {{"type", "object"},
          {"required", {"text"}},
          {"properties",
           {{"text", {{"type", "string"}}},
            {"direction", {{"type", "string"}, {"enum", {"input", "output", "passage"}}, {"default", "input"}}},
            {"kb", {{"type", "string"}, {"description", "knowledge base whose block/allow lists apply"}}}}}},
         {{"type", "object"},
          {"properties",
           {{"decision", {{"type", "string"}, {"enum", {"allow", "redact", "block"}}}},
            {"categories", {{"type", "array"}, {"items", {{"type", "string"}}}}},
            {"scores", {{"type", "object"}, {"additionalProperties", {{"type", "number"}}}}},
            {"reason", {{"type", "string"}}},
            {"layer", {{"type", "string"}}},
            {"redacted_text", {{"type", "string"}}}}}},
         [filter](Ctx& c) {
           auto body = c.json_body();
           if (!body.ok()) return c.fail(body.error());
           if (!body->contains("text") || !(*body)["text"].is_string())
             return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'text' (string) is required"));
           auto dir = safety::parse_direction(body->value("direction", "input"));
           if (!dir.ok()) return c.fail(dir.error());
           std::string kb = body->contains("kb") && (*body)["kb"].is_string() ? (*body)["kb"].get<std::string>() : "";
           c.send(verdict_json(filter->check((*body)["text"].get<std::string>(), *dir, kb)));
         }});
  };
}

}  // namespace moerag::web
