// The filter: limits, then rules (layer 1), then the model (layer 2), then one
// decision; counters and the audit trail for every non-allow decision.
#include "safety/filter.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <tuple>

#include "core/log.h"
#include "safety/audit.h"
#include "safety/classifier.h"
#include "safety/model_input.h"
#include "safety/rules.h"

namespace moerag::safety {

struct Counters {
  std::atomic<uint64_t> checks[3] = {0, 0, 0};     // by Direction
  std::atomic<uint64_t> decisions[3] = {0, 0, 0};  // by Decision
  std::atomic<uint64_t> audit_errors{0};
  std::mutex mu;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, uint64_t> rows;  // guarded by mu
};

namespace {

constexpr const char* kNeutralised = "[REMOVED: INSTRUCTION]";

// Model categories that decide for a direction: passages only carry injections;
// an answer that quotes an injection phrase is not itself an attack.
bool model_category_applies(const std::string& cat, Direction dir) {
  if (dir == Direction::PASSAGE) return cat == "prompt_injection";
  if (dir == Direction::OUTPUT) return cat != "prompt_injection";
  return true;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

Verdict limit_block(const std::string& category, const std::string& reason) {
  Verdict v;
  v.decision = Decision::BLOCK;
  v.categories = {category};
  v.layer = "limits";
  v.reason = reason;
  return v;
}

}  // namespace

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::INPUT: return "input";
    case Direction::OUTPUT: return "output";
    case Direction::PASSAGE: return "passage";
  }
  return "input";
}

Result<Direction> parse_direction(std::string_view name) {
  if (name == "input") return Direction::INPUT;
  if (name == "output") return Direction::OUTPUT;
  if (name == "passage") return Direction::PASSAGE;
  return make_error(ErrorCode::INVALID_INPUT,
                    "direction must be input, output or passage, not '" + std::string(name) + "'");
}

const char* decision_name(Decision d) {
  switch (d) {
    case Decision::ALLOW: return "allow";
    case Decision::REDACT: return "redact";
    case Decision::BLOCK: return "block";
  }
  return "allow";
}

Filter::~Filter() = default;

Result<std::unique_ptr<Filter>> Filter::create(const SafetyOptions& options, std::shared_ptr<sql::Database> audit_db) {
  std::unique_ptr<Filter> f(new Filter());
  f->options_ = options;
  f->counters_ = std::make_unique<Counters>();
  MOERAG_ASSIGN_OR_RETURN(auto config, load_rule_config(options.rules_dir));
  MOERAG_ASSIGN_OR_RETURN(f->rules_, Rules::compile(std::move(config)));
  if (options.model_enabled) {
    auto model = options.model_path.empty() ? Classifier::load_embedded() : Classifier::load_file(options.model_path);
    if (!model.ok()) return model.error().with_context("safety model");
    f->model_ = std::move(model).value();
    for (const auto& c : f->model_->categories()) {
      auto it = options.thresholds.find(c.name);
      float t = it != options.thresholds.end() ? it->second : c.threshold;
      if (!(t > 0 && t <= 1))
        return make_error(ErrorCode::INVALID_INPUT, "safety threshold for " + c.name + " must be in (0, 1]");
      f->thresholds_.push_back(t);
    }
    for (const auto& [name, t] : options.thresholds) {
      const auto& cats = f->model_->categories();
      if (std::none_of(cats.begin(), cats.end(), [&](const ModelCategory& c) { return c.name == name; }))
        return make_error(ErrorCode::INVALID_INPUT, "safety threshold for unknown category '" + name + "'");
    }
  }
  if (audit_db) {
    MOERAG_ASSIGN_OR_RETURN(f->audit_, AuditLog::open(std::move(audit_db), options.audit_store_text));
  }
  log::get("safety")->info("safety filter ready: {} rules, model {}", f->rules_->n_rules(),
                           f->model_ ? "loaded" : "off");
  return f;
}

Verdict Filter::check(std::string_view text, Direction dir, const std::string& kb) const {
  Verdict v = check_uncounted(text, dir, kb);
  record(v, dir, kb, text);
  return v;
}

Verdict Filter::check_rules(std::string_view text, Direction dir, const std::string& kb) const {
  Verdict v = check_uncounted(text, dir, kb, false);
  record(v, dir, kb, text);
  return v;
}

Verdict Filter::check_uncounted(std::string_view text, Direction dir, const std::string& kb, bool use_model) const {
  if (!options_.enabled) return {};
  if (text.size() > options_.max_bytes)
    return limit_block("limit_length", "text is " + std::to_string(text.size()) + " bytes, over the limit of " +
                                           std::to_string(options_.max_bytes));
  Normalized n = normalize(text);
  if (n.n_control > options_.max_control_chars)
    return limit_block("limit_control", std::to_string(n.n_control) + " control or bidi characters, over the limit of " +
                                            std::to_string(options_.max_control_chars));
  Verdict v;
  // Layer 1.
  std::vector<RuleHit> hits = rules_->match(n, dir, kb);
  const RuleHit* first_block = nullptr;
  for (const auto& h : hits) {
    add_unique(v.categories, h.rule->category);
    add_unique(v.rules, h.rule->id);
    if (h.rule->action == RuleAction::BLOCK && !first_block) first_block = &h;
  }
  // Layer 2 scores the text as layer 1 leaves it: PII and secrets as placeholders, and
  // a passage whose injected spans will be neutralised without those spans.
  bool neutralise = dir == Direction::PASSAGE && options_.passage_policy == PassagePolicy::NEUTRALISE;
  std::vector<std::string> model_fired;
  std::string model_reason;
  if (model_ && use_model) {
    std::vector<float> p = model_->probabilities(model_input(n, hits, neutralise && first_block));
    const auto& cats = model_->categories();
    for (size_t c = 0; c < cats.size(); ++c) {
      v.scores[cats[c].name] = p[c];
      if (p[c] >= thresholds_[c] && model_category_applies(cats[c].name, dir)) {
        model_fired.push_back(cats[c].name);
        char buf[128];
        std::snprintf(buf, sizeof buf, "%s%s %.2f >= %.2f", model_reason.empty() ? "model: " : ", ", cats[c].name.c_str(),
                      p[c], thresholds_[c]);
        model_reason += buf;
      }
    }
  }
  for (const auto& c : model_fired) add_unique(v.categories, c);
  std::sort(v.categories.begin(), v.categories.end());

  if (first_block && !neutralise) {
    v.decision = Decision::BLOCK;
    v.layer = "rules";
    v.reason = "rule " + first_block->rule->id + " (" + first_block->rule->category + ")";
    return v;
  }
  if (!model_fired.empty()) {
    v.decision = Decision::BLOCK;
    v.layer = first_block ? "rules" : "model";
    v.reason = model_reason;
    return v;
  }
  // Redaction: PII and secrets (and injected spans of a passage being neutralised).
  std::string out;
  size_t copied = 0;
  for (const auto& h : hits) {
    bool is_block = h.rule->action == RuleAction::BLOCK;
    if (!is_block && !options_.redact_pii) continue;
    auto [b, e] = n.original_span(h.begin, h.end);
    Redaction r;
    r.placeholder = is_block ? kNeutralised : h.rule->placeholder;
    r.rule = h.rule->id;
    out.append(text.substr(copied, b - copied));
    r.begin = out.size();
    out += r.placeholder;
    r.end = out.size();
    if (options_.reversible_redaction) r.original = std::string(text.substr(b, e - b));
    copied = e;
    v.redactions.push_back(std::move(r));
    if (v.reason.empty()) v.reason = "rule " + h.rule->id + " (" + h.rule->category + ")";
  }
  if (!v.redactions.empty()) {
    out.append(text.substr(copied));
    v.decision = Decision::REDACT;
    v.layer = "rules";
    v.redacted_text = std::move(out);
  } else if (!hits.empty()) {
    v.reason = "findings reported, redaction off";
  }
  return v;
}

std::optional<std::string> Filter::screen_passage(std::string_view passage, const std::string& kb) const {
  Verdict v = check(passage, Direction::PASSAGE, kb);
  if (v.decision == Decision::BLOCK) return std::nullopt;
  if (v.decision == Decision::REDACT) return v.redacted_text;
  return std::string(passage);
}

std::map<std::string, float> Filter::score(std::string_view text) const {
  std::map<std::string, float> out;
  if (!model_) return out;
  Normalized n = normalize(text);
  std::vector<float> p = model_->probabilities(model_input(n, rules_->match(n, Direction::INPUT, ""), false));
  for (size_t c = 0; c < p.size(); ++c) out[model_->categories()[c].name] = p[c];
  return out;
}

std::unique_ptr<StreamChecker> Filter::stream(Direction dir, const std::string& kb) const {
  return std::make_unique<StreamChecker>(*this, dir, kb);
}

std::vector<std::string> Filter::categories() const {
  std::vector<std::string> out;
  if (model_)
    for (const auto& c : model_->categories()) out.push_back(c.name);
  return out;
}

std::map<std::string, float> Filter::thresholds() const {
  std::map<std::string, float> out;
  if (model_)
    for (size_t c = 0; c < thresholds_.size(); ++c) out[model_->categories()[c].name] = thresholds_[c];
  return out;
}

void Filter::record(const Verdict& v, Direction dir, const std::string& kb, std::string_view text) const {
  Counters& k = *counters_;
  k.checks[static_cast<int>(dir)].fetch_add(1, std::memory_order_relaxed);
  k.decisions[static_cast<int>(v.decision)].fetch_add(1, std::memory_order_relaxed);
  if (v.decision == Decision::ALLOW) return;
  {
    std::lock_guard<std::mutex> lock(k.mu);
    if (v.categories.empty()) ++k.rows[{"none", v.layer, decision_name(v.decision), direction_name(dir)}];
    for (const auto& c : v.categories) ++k.rows[{c, v.layer, decision_name(v.decision), direction_name(dir)}];
  }
  log::get("safety")->debug("safety {} {}: {}", direction_name(dir), decision_name(v.decision), v.reason);
  if (audit_) {
    Status s = audit_->write(v, dir, kb, text);
    if (!s.ok()) {
      k.audit_errors.fetch_add(1, std::memory_order_relaxed);
      log::get("safety")->warn("safety audit row not written: {}", s.error().message);
    }
  }
}

SafetyStats Filter::stats() const {
  SafetyStats s;
  const Counters& k = *counters_;
  for (int d = 0; d < 3; ++d) s.checks[direction_name(static_cast<Direction>(d))] = k.checks[d].load();
  for (int d = 0; d < 3; ++d) s.decisions[decision_name(static_cast<Decision>(d))] = k.decisions[d].load();
  s.audit_errors = k.audit_errors.load();
  std::lock_guard<std::mutex> lock(counters_->mu);
  for (const auto& [key, n] : k.rows)
    s.rows.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), n});
  return s;
}

std::string Filter::restore(std::string_view redacted, const std::vector<Redaction>& redactions) {
  std::string out;
  size_t copied = 0;
  for (const auto& r : redactions) {
    if (r.begin < copied || r.end > redacted.size()) break;
    out.append(redacted.substr(copied, r.begin - copied));
    out += r.original.empty() ? r.placeholder : r.original;
    copied = r.end;
  }
  out.append(redacted.substr(std::min(copied, redacted.size())));
  return out;
}

}  // namespace moerag::safety
