// Rule files -> RE2::Set per knowledge base -> findings with checksums applied.
#include "safety/rules.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <re2/re2.h>
#include <re2/set.h>

#include "core/embedded.h"
#include "safety/validators.h"

namespace moerag {
extern const EmbeddedFiles moerag_safety_rules;
}

namespace moerag::safety {
namespace {

using nlohmann::json;

RE2::Options re2_options() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(256 << 20);
  return o;
}

// A literal phrase from a block/allow list as a pattern over normalised text;
// word boundaries are added where the phrase starts or ends with a letter/digit.
std::string literal_pattern(const std::string& phrase) {
  std::string n = normalize_text(phrase);
  auto wordy = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  std::string p;
  if (!n.empty() && wordy(n.front())) p += "\\b";
  p += RE2::QuoteMeta(n);
  if (!n.empty() && wordy(n.back())) p += "\\b";
  return p;
}

Result<Rule> parse_rule(const json& j, const std::string& where) {
  Rule r;
  r.id = j.value("id", "");
  r.category = j.value("category", "");
  r.pattern = j.value("pattern", "");
  r.placeholder = j.value("placeholder", "");
  r.validator = j.value("validator", "");
  std::string action = j.value("action", "block");
  if (r.id.empty() || r.category.empty() || r.pattern.empty())
    return make_error(ErrorCode::INVALID_INPUT, where + ": a rule needs \"id\", \"category\" and \"pattern\"");
  if (action == "block") {
    r.action = RuleAction::BLOCK;
  } else if (action == "redact") {
    r.action = RuleAction::REDACT;
    if (r.placeholder.empty()) r.placeholder = "[" + r.category + "]";
  } else {
    return make_error(ErrorCode::INVALID_INPUT, where + ": rule " + r.id + ": action must be block or redact, not " + action);
  }
  if (!validator_known(r.validator))
    return make_error(ErrorCode::INVALID_INPUT, where + ": rule " + r.id + ": unknown validator " + r.validator +
                                                    " (use luhn, cn_id, iban, ipv4, ipv6 or phone)");
  if (j.contains("directions")) {
    for (const auto& d : j["directions"]) {
      auto dir = parse_direction(d.get<std::string>());
      if (!dir.ok()) return dir.error().with_context(where + ": rule " + r.id);
      r.directions.push_back(*dir);
    }
  }
  return r;
}

bool applies(const Rule& r, Direction d) {
  return r.directions.empty() || std::find(r.directions.begin(), r.directions.end(), d) != r.directions.end();
}

}  // namespace

Status parse_rule_file(std::string_view text, const std::string& name, RuleConfig& config) {
  json j;
  try {
    j = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::INVALID_INPUT, "safety rule file " + name + ": " + e.what());
  }
  if (!j.is_object()) return make_error(ErrorCode::INVALID_INPUT, "safety rule file " + name + ": not a JSON object");
  try {
    RuleScope& scope = config.scopes[j.value("knowledge_base", "")];
    for (const auto& r : j.value("rules", json::array())) {
      MOERAG_ASSIGN_OR_RETURN(Rule rule, parse_rule(r, name));
      scope.rules.push_back(std::move(rule));
    }
    int i = 0;
    for (const auto& phrase : j.value("block", json::array())) {
      Rule r;
      r.id = "blocklist." + name + "." + std::to_string(i++);
      r.category = "blocklist";
      r.pattern = literal_pattern(phrase.get<std::string>());
      scope.rules.push_back(std::move(r));
    }
    for (const auto& p : j.value("block_patterns", json::array())) {
      Rule r;
      r.id = "blocklist." + name + "." + std::to_string(i++);
      r.category = "blocklist";
      r.pattern = p.get<std::string>();
      scope.rules.push_back(std::move(r));
    }
    for (const auto& phrase : j.value("allow", json::array()))
      scope.allow_patterns.push_back(literal_pattern(phrase.get<std::string>()));
    for (const auto& p : j.value("allow_patterns", json::array())) scope.allow_patterns.push_back(p.get<std::string>());
  } catch (const json::exception& e) {
    return make_error(ErrorCode::INVALID_INPUT, "safety rule file " + name + ": " + e.what());
  }
  return ok_status();
}

Result<RuleConfig> load_rule_config(const std::string& dir) {
  RuleConfig config;
  if (dir.empty()) {
    std::vector<const EmbeddedFile*> files;
    for (const auto& f : moerag_safety_rules) files.push_back(&f);
    std::sort(files.begin(), files.end(), [](auto* a, auto* b) { return std::string_view(a->path) < b->path; });
    for (const auto* f : files) MOERAG_TRY(parse_rule_file(f->view(), f->path, config));
    return config;
  }
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") paths.push_back(e.path());
  if (ec) return make_error(ErrorCode::NOT_FOUND, "safety rules folder " + dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return make_error(ErrorCode::IO, "cannot read safety rule file " + p.string());
    MOERAG_TRY(parse_rule_file(ss.str(), p.filename().string(), config));
  }
  return config;
}

struct Rules::Compiled {
  std::unique_ptr<RE2::Set> set;
  std::vector<const Rule*> rules;             // set index -> rule
  std::vector<std::unique_ptr<RE2>> singles;  // set index -> the same pattern alone
  std::vector<std::unique_ptr<RE2>> allow;
};

Rules::~Rules() = default;

Result<std::unique_ptr<Rules>> Rules::compile(RuleConfig config) {
  std::unique_ptr<Rules> r(new Rules());
  r->config_ = std::move(config);
  const RuleScope empty;
  const RuleScope& global = r->config_.scopes.count("") ? r->config_.scopes.at("") : empty;
  for (const auto& [kb, scope] : r->config_.scopes) {
    auto c = std::make_unique<Compiled>();
    c->set = std::make_unique<RE2::Set>(re2_options(), RE2::UNANCHORED);
    std::vector<const Rule*> all;
    for (const auto& rule : global.rules) all.push_back(&rule);
    if (!kb.empty())
      for (const auto& rule : scope.rules) all.push_back(&rule);
    for (const Rule* rule : all) {
      std::string err;
      auto single = std::make_unique<RE2>(rule->pattern, re2_options());
      if (!single->ok() || c->set->Add(rule->pattern, &err) < 0)
        return make_error(ErrorCode::INVALID_INPUT, "safety rule " + rule->id + ": bad pattern: " + single->error());
      c->rules.push_back(rule);
      c->singles.push_back(std::move(single));
    }
    if (!c->set->Compile())
      return make_error(ErrorCode::INVALID_INPUT, "safety rules for knowledge base '" + kb + "' do not compile (too large)");
    std::vector<std::string> allow = global.allow_patterns;
    if (!kb.empty()) allow.insert(allow.end(), scope.allow_patterns.begin(), scope.allow_patterns.end());
    for (const auto& p : allow) {
      auto re = std::make_unique<RE2>(p, re2_options());
      if (!re->ok()) return make_error(ErrorCode::INVALID_INPUT, "safety allow pattern '" + p + "': " + re->error());
      c->allow.push_back(std::move(re));
    }
    r->compiled_[kb] = std::move(c);
  }
  if (!r->compiled_.count("")) {  // no global file: an empty set still answers
    auto c = std::make_unique<Compiled>();
    c->set = std::make_unique<RE2::Set>(re2_options(), RE2::UNANCHORED);
    c->set->Compile();
    r->compiled_[""] = std::move(c);
  }
  return r;
}

size_t Rules::n_rules() const {
  size_t n = 0;
  for (const auto& [kb, s] : config_.scopes) n += s.rules.size();
  return n;
}

std::vector<RuleHit> Rules::match(const Normalized& n, Direction dir, const std::string& kb) const {
  auto it = compiled_.find(kb);
  if (it == compiled_.end()) it = compiled_.find("");
  const Compiled& c = *it->second;
  std::vector<RuleHit> hits;
  if (c.rules.empty()) return hits;
  std::vector<int> ids;
  re2::StringPiece text(n.text);
  if (!c.set->Match(text, &ids)) return hits;
  for (int id : ids) {
    const Rule* rule = c.rules[id];
    if (!applies(*rule, dir)) continue;
    const RE2& re = *c.singles[id];
    int n_groups = std::min(re.NumberOfCapturingGroups(), 1);
    re2::StringPiece m[2];
    size_t pos = 0;
    while (pos <= text.size() && re.Match(text, pos, text.size(), RE2::UNANCHORED, m, n_groups + 1)) {
      const re2::StringPiece& span = (n_groups == 1 && m[1].data() != nullptr) ? m[1] : m[0];
      size_t b = span.data() - text.data();
      if (run_validator(rule->validator, std::string_view(span.data(), span.size())))
        hits.push_back({rule, b, b + span.size()});
      size_t end0 = (m[0].data() - text.data()) + m[0].size();
      pos = end0 > pos ? end0 : pos + 1;
    }
  }
  if (hits.empty()) return hits;
  // Allow lists: a finding overlapping an allowed span is not a finding.
  for (const auto& re : c.allow) {
    re2::StringPiece m;
    size_t pos = 0;
    while (pos < text.size() && re->Match(text, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
      size_t b = m.data() - text.data(), e = b + m.size();
      hits.erase(std::remove_if(hits.begin(), hits.end(), [&](const RuleHit& h) { return h.begin < e && b < h.end; }),
                 hits.end());
      pos = e > pos ? e : pos + 1;
    }
  }
  // Overlaps: block beats redact, then the longer span, then the earlier rule.
  std::sort(hits.begin(), hits.end(), [](const RuleHit& a, const RuleHit& b) { return a.begin < b.begin; });
  std::vector<RuleHit> out;
  for (const auto& h : hits) {
    if (!out.empty() && h.begin < out.back().end) {
      RuleHit& k = out.back();
      bool h_block = h.rule->action == RuleAction::BLOCK, k_block = k.rule->action == RuleAction::BLOCK;
      if ((h_block && !k_block) || (h_block == k_block && h.end - h.begin > k.end - k.begin)) k = h;
      continue;
    }
    out.push_back(h);
  }
  return out;
}

}  // namespace moerag::safety
