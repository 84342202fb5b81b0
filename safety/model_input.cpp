// Placeholder substitution before feature extraction (see model_input.h).
#include "safety/model_input.h"

namespace moerag::safety {
namespace {

// Replaces each web address ("http://...", "https://...", "www....", up to the next
// space) by "[url]". Host and path words are not evidence: the injection sets use the
// reserved documentation domain (https://www.example.com/...) so often that the bare
// word "example" was learnt as an attack.
std::string replace_urls(std::string s) {
  static const char* const kStarts[] = {"https://", "http://", "www."};
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    bool at_url = false;
    if (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\n' || s[i - 1] == '(' || s[i - 1] == '"' || s[i - 1] == '\'' ||
        s[i - 1] == '<' || s[i - 1] == '=')
      for (const char* k : kStarts)
        if (s.compare(i, std::char_traits<char>::length(k), k) == 0) at_url = true;
    if (!at_url) {
      out.push_back(s[i++]);
      continue;
    }
    while (i < s.size() && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '"' && s[i] != '\'' && s[i] != '<' &&
           s[i] != '>' && s[i] != ')')
      ++i;
    out += "[url]";
  }
  return out;
}

}  // namespace

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
  return replace_urls(std::move(out));
}

std::string model_input(std::string_view raw, const Rules& rules) {
  Normalized n = normalize(raw);
  return model_input(n, rules.match(n, Direction::INPUT, ""), false);
}

}  // namespace moerag::safety
