// Placeholder substitution before feature extraction (see model_input.h).
#include "safety/model_input.h"

namespace moerag::safety {

std::string model_input(const Normalized& n, const std::vector<RuleHit>& hits, bool drop_blocked) {
  std::string out;
  out.reserve(n.text.size());
  size_t at = 0;
  for (const auto& h : hits) {
    bool block = h.rule->action == RuleAction::BLOCK;
    if (block && !drop_blocked) continue;
    if (h.begin < at) continue;  // defensive: hits are documented as non-overlapping
    out.append(n.text, at, h.begin - at);
    if (block) {
      out.push_back(' ');
    } else {
      for (char c : h.rule->placeholder) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    }
    at = h.end;
  }
  out.append(n.text, at);
  return out;
}

std::string model_input(std::string_view raw, const Rules& rules) {
  Normalized n = normalize(raw);
  return model_input(n, rules.match(n, Direction::INPUT, ""), false);
}

}  // namespace moerag::safety
