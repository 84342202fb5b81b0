// Layer 1: rules compiled once with RE2. All patterns of a knowledge base (the
// global ones plus its own block/allow lists) form one RE2::Set, so one pass over
// the normalised text says which rules can fire; only those are then run alone to
// find spans and apply checksums. Rule files are JSON (see config/safety/README.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "safety/filter.h"
#include "safety/normalize.h"

namespace moerag::safety {

/// What a rule does when it fires.
enum class RuleAction { BLOCK, REDACT };

/// One rule as read from a rule file.
struct Rule {
  std::string id;           ///< unique, e.g. "pii.email"
  std::string category;     ///< e.g. "pii_email", "secret", "prompt_injection", "blocklist"
  std::string pattern;      ///< RE2 syntax over normalised (lower-case, half-width) text
  RuleAction action = RuleAction::BLOCK;
  std::string placeholder;  ///< REDACT: replacement text, e.g. "[EMAIL]"
  std::string validator;    ///< "" | "luhn" | "cn_id" | "iban" | "ipv4" | "ipv6"
  std::vector<Direction> directions;  ///< where it applies; empty = everywhere
};

/// Rules and lists of one scope: global (kb "") or one knowledge base.
struct RuleScope {
  std::vector<Rule> rules;
  std::vector<std::string> allow_patterns;  ///< RE2; a finding overlapping a match is ignored
};

/// Every rule file, by knowledge base ("" = applies to all).
struct RuleConfig {
  std::map<std::string, RuleScope> scopes;
};

/// Parses one rule file's JSON text (comments allowed) into config; `name` is for errors.
Status parse_rule_file(std::string_view json_text, const std::string& name, RuleConfig& config);

/// Reads every *.json in dir (sorted by name); empty dir = the embedded defaults.
Result<RuleConfig> load_rule_config(const std::string& dir);

/// One finding on normalised text.
struct RuleHit {
  const Rule* rule = nullptr;
  size_t begin = 0;  ///< normalised byte offsets of the span to act on
  size_t end = 0;
};

/// Compiled rules: one RE2::Set per knowledge base. Immutable, thread-safe.
class Rules {
 public:
  /// Compiles config; INVALID_INPUT names the rule whose pattern does not compile.
  static Result<std::unique_ptr<Rules>> compile(RuleConfig config);
  ~Rules();

  /// Findings for text going `dir` in knowledge base `kb` (unknown kb = global
  /// rules only), in text order, overlaps resolved (block beats redact, then longer).
  std::vector<RuleHit> match(const Normalized& n, Direction dir, const std::string& kb) const;

  /// Number of compiled rules over all scopes.
  size_t n_rules() const;

 private:
  struct Compiled;
  Rules() = default;
  RuleConfig config_;
  std::map<std::string, std::unique_ptr<Compiled>> compiled_;  // kb -> set
};

}  // namespace moerag::safety
