// The Porter stemmer, written from the published description of the algorithm
// (M. F. Porter, "An algorithm for suffix stripping", Program 14(3):130-137, 1980):
// a word is [C](VC)^m[V]; each step strips or rewrites the longest suffix of its list
// that matches, when the measure m of what is left meets the rule's condition.
#include "retrieval/stemmer.h"

#include <algorithm>

namespace moerag::retrieval {
namespace {

struct Rule {
  std::string_view suffix;
  std::string_view replacement;
};

// s[i] is a consonant: not a vowel, and not a 'y' that follows a consonant.
bool consonant(const std::string& s, size_t i) {
  switch (s[i]) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return false;
    case 'y': return i == 0 || !consonant(s, i - 1);
    default: return true;
  }
}

// m of s[0, len): the number of vowel-consonant sequences.
int measure(const std::string& s, size_t len) {
  int m = 0;
  size_t i = 0;
  while (i < len && consonant(s, i)) ++i;
  while (i < len) {
    while (i < len && !consonant(s, i)) ++i;
    if (i >= len) break;
    while (i < len && consonant(s, i)) ++i;
    ++m;
  }
  return m;
}

bool has_vowel(const std::string& s, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (!consonant(s, i)) return true;
  return false;
}

// *d: s[0, len) ends in a double consonant.
bool double_consonant(const std::string& s, size_t len) {
  return len >= 2 && s[len - 1] == s[len - 2] && consonant(s, len - 1);
}

// *o: s[0, len) ends consonant-vowel-consonant, the last not w, x or y (hop, not hoy).
bool cvc(const std::string& s, size_t len) {
  if (len < 3 || !consonant(s, len - 3) || consonant(s, len - 2) || !consonant(s, len - 1)) return false;
  char c = s[len - 1];
  return c != 'w' && c != 'x' && c != 'y';
}

bool ends_with(const std::string& s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// The rule with the longest suffix that s ends with, or nullptr.
const Rule* longest_match(const std::string& s, const Rule* rules, size_t n) {
  const Rule* best = nullptr;
  for (size_t i = 0; i < n; ++i)
    if (ends_with(s, rules[i].suffix) && (!best || rules[i].suffix.size() > best->suffix.size())) best = &rules[i];
  return best;
}

// Applies the longest matching rule when m(stem) > min_m (and, for -ion, the stem ends in s or t).
void apply(std::string& s, const Rule* rules, size_t n, int min_m) {
  const Rule* r = longest_match(s, rules, n);
  if (!r) return;
  size_t stem = s.size() - r->suffix.size();
  if (measure(s, stem) <= min_m) return;
  if (r->suffix == "ion" && (stem == 0 || (s[stem - 1] != 's' && s[stem - 1] != 't'))) return;
  s.resize(stem);
  s += r->replacement;
}

void step1a(std::string& s) {
  if (ends_with(s, "sses") || ends_with(s, "ies")) s.resize(s.size() - 2);
  else if (ends_with(s, "ss")) return;
  else if (ends_with(s, "s")) s.pop_back();
}

void step1b(std::string& s) {
  if (ends_with(s, "eed")) {
    if (measure(s, s.size() - 3) > 0) s.pop_back();
    return;
  }
  size_t cut = 0;
  if (ends_with(s, "ed") && has_vowel(s, s.size() - 2)) cut = 2;
  else if (ends_with(s, "ing") && has_vowel(s, s.size() - 3)) cut = 3;
  if (cut == 0) return;
  s.resize(s.size() - cut);
  // Restore what the stripped ending had changed: hoping -> hope, hopping -> hop.
  if (ends_with(s, "at") || ends_with(s, "bl") || ends_with(s, "iz")) s += 'e';
  else if (double_consonant(s, s.size()) && s.back() != 'l' && s.back() != 's' && s.back() != 'z') s.pop_back();
  else if (measure(s, s.size()) == 1 && cvc(s, s.size())) s += 'e';
}

void step1c(std::string& s) {
  if (ends_with(s, "y") && has_vowel(s, s.size() - 1)) s.back() = 'i';
}

constexpr Rule kStep2[] = {
    {"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"},  {"anci", "ance"},   {"izer", "ize"},
    {"abli", "able"},   {"alli", "al"},     {"entli", "ent"},  {"eli", "e"},       {"ousli", "ous"},
    {"ization", "ize"}, {"ation", "ate"},   {"ator", "ate"},   {"alism", "al"},    {"iveness", "ive"},
    {"fulness", "ful"}, {"ousness", "ous"}, {"aliti", "al"},   {"iviti", "ive"},   {"biliti", "ble"}};

constexpr Rule kStep3[] = {{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"},
                           {"ical", "ic"},  {"ful", ""},   {"ness", ""}};

constexpr Rule kStep4[] = {{"al", ""},   {"ance", ""}, {"ence", ""}, {"er", ""},  {"ic", ""},  {"able", ""},
                           {"ible", ""}, {"ant", ""},  {"ement", ""}, {"ment", ""}, {"ent", ""}, {"ion", ""},
                           {"ou", ""},   {"ism", ""},  {"ate", ""},  {"iti", ""}, {"ous", ""}, {"ive", ""},
                           {"ize", ""}};

void step5(std::string& s) {
  if (ends_with(s, "e")) {
    int m = measure(s, s.size() - 1);
    if (m > 1 || (m == 1 && !cvc(s, s.size() - 1))) s.pop_back();
  }
  if (measure(s, s.size()) > 1 && double_consonant(s, s.size()) && s.back() == 'l') s.pop_back();
}

}  // namespace

std::string porter_stem(std::string_view word) {
  std::string s(word);
  if (s.size() <= 2 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; })) return s;
  step1a(s);
  step1b(s);
  step1c(s);
  apply(s, kStep2, std::size(kStep2), 0);
  apply(s, kStep3, std::size(kStep3), 0);
  apply(s, kStep4, std::size(kStep4), 1);
  step5(s);
  return s;
}

}  // namespace moerag::retrieval
