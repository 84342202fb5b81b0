// Term analysis for BM25, the hashed embedder and snippet highlighting: one pass
// over the code points, words folded and stemmed, CJK runs cut into bigrams.
#include "retrieval/analyzer.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "core/text.h"
#include "retrieval/stemmer.h"

namespace moerag::retrieval {
namespace {

bool is_cjk_letter(char32_t c) {
  return text::is_han(c) || (c >= 0x3041 && c <= 0x30FA) || (c >= 0xAC00 && c <= 0xD7AF);
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  // Latin-1 letters through the general-punctuation block: Latin, Greek, Cyrillic, ...
  return c >= 0xC0 && c < 0x2000 && c != 0xD7 && c != 0xF7;
}

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

}  // namespace

std::string stem_word(std::string_view w) { return porter_stem(w); }

bool is_stop_word(std::string_view w) {
  static const char* const kWords[] = {
      "a",     "an",   "and",  "are",  "as",    "at",    "be",   "by",    "did",   "do",    "does", "for",
      "from",  "had",  "has",  "have", "he",    "her",   "his",  "how",   "i",     "in",    "is",   "it",
      "its",   "of",   "on",   "or",   "she",   "that",  "the",  "their", "them",  "they",  "this", "to",
      "was",   "were", "what", "when", "where", "which", "who",  "whom",  "whose", "why",   "will", "with",
      "you",   "your", "we",   "our",  "not",   "no",    "can",  "could", "would", "should", "than", "then",
      "there", "these", "those", "been", "being", "into", "about", "also", "but",  "if",    "so",   "such"};
  // Query terms arrive stemmed: the set holds each word and its stem (was -> wa, this -> thi).
  static const std::unordered_set<std::string> kStop = [] {
    std::unordered_set<std::string> s;
    for (const char* w : kWords) s.insert(w), s.insert(porter_stem(w));
    return s;
  }();
  return kStop.count(std::string(w)) > 0;
}

std::vector<Token> analyze(std::string_view s, bool stem) {
  std::vector<Token> out;
  size_t i = 0;
  std::string word;
  size_t word_begin = 0;
  // CJK run: start offsets of its characters, plus the end of the last one.
  std::vector<size_t> run;
  auto flush_word = [&](size_t end) {
    if (word.empty()) return;
    out.push_back({stem ? stem_word(word) : word, word_begin, end, false});
    word.clear();
  };
  auto flush_run = [&]() {
    if (run.size() == 2) {
      out.push_back({std::string(s.substr(run[0], run[1] - run[0])), run[0], run[1], true});
    } else {
      for (size_t k = 0; k + 2 < run.size(); ++k)
        out.push_back({std::string(s.substr(run[k], run[k + 2] - run[k])), run[k], run[k + 2], true});
    }
    run.clear();
  };
  while (i < s.size()) {
    char32_t cp;
    size_t n = text::utf8_decode(s, i, cp);
    if (n == 0) n = 1;
    cp = text::to_halfwidth(cp);
    if (is_cjk_letter(cp)) {
      flush_word(i);
      if (run.empty()) run.push_back(i);
      run.push_back(i + n);
    } else if (is_word_char(cp)) {
      if (!run.empty()) flush_run();
      if (word.empty()) word_begin = i;
      text::utf8_append(word, text::fold_case(cp));
    } else {
      flush_word(i);
      if (!run.empty()) flush_run();
    }
    i += n;
  }
  flush_word(s.size());
  if (!run.empty()) flush_run();
  return out;
}

std::string index_text(std::string_view text, bool stem) {
  std::string out;
  for (const auto& t : analyze(text, stem)) {
    if (!out.empty()) out += ' ';
    out += t.term;
  }
  return out;
}

std::vector<std::string> query_terms(std::string_view query, bool stem) {
  std::vector<std::string> all, content;
  std::set<std::string> seen;
  for (auto& t : analyze(query, stem)) {
    if (!seen.insert(t.term).second) continue;
    all.push_back(t.term);
    if (t.cjk || !is_stop_word(t.term)) content.push_back(t.term);
  }
  return content.empty() ? all : content;
}

std::string fts_match(const std::vector<std::string>& terms) {
  std::string q;
  for (const auto& t : terms) {
    if (!q.empty()) q += " OR ";
    q += '"' + t + '"';  // terms never contain quotes: only word and CJK characters
  }
  return q;
}

std::string fts_query(std::string_view query, bool stem) { return fts_match(query_terms(query, stem)); }

std::vector<size_t> prune_common_terms(const std::vector<int64_t>& df, int64_t max_postings, int64_t common_df) {
  std::vector<size_t> keep;
  int64_t total = 0;
  for (size_t i = 0; i < df.size(); ++i)
    if (df[i] > 0 || max_postings <= 0) keep.push_back(i), total += df[i];
  if (max_postings <= 0) return keep;
  // Most common first; ties by position so the plan is deterministic.
  std::sort(keep.begin(), keep.end(), [&](size_t a, size_t b) { return df[a] != df[b] ? df[a] > df[b] : a > b; });
  size_t first = 0;
  while (total > max_postings && keep.size() - first > 1 && df[keep[first]] > common_df) total -= df[keep[first++]];
  keep.erase(keep.begin(), keep.begin() + static_cast<std::ptrdiff_t>(first));
  std::sort(keep.begin(), keep.end());
  return keep;
}

int count_tokens(std::string_view s) {
  int n = 0;
  bool in_word = false;
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    size_t len = text::utf8_decode(s, i, cp);
    if (len == 0) len = 1;
    if (is_cjk_letter(cp)) {
      ++n;
      in_word = false;
    } else if (is_word_char(cp)) {
      if (!in_word) ++n;
      in_word = true;
    } else {
      in_word = false;
    }
    i += len;
  }
  return n;
}

namespace {

void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
}

// Moves a byte offset back to the start of a UTF-8 character.
size_t char_start(std::string_view s, size_t p) {
  while (p > 0 && p < s.size() && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
  return p;
}

}  // namespace

std::string make_snippet(std::string_view text, std::string_view query, bool stem, size_t max_chars) {
  std::unordered_set<std::string> terms;
  for (auto& t : analyze(query, stem))
    if (t.cjk || !is_stop_word(t.term)) terms.insert(t.term);
  // Matched byte ranges, merged where they overlap (CJK bigrams do).
  std::vector<std::pair<size_t, size_t>> hits;
  for (auto& t : analyze(text, stem)) {
    if (!terms.count(t.term)) continue;
    if (!hits.empty() && t.begin <= hits.back().second) hits.back().second = std::max(hits.back().second, t.end);
    else hits.push_back({t.begin, t.end});
  }
  // Window (in bytes, ~3 bytes per CJK character) with the most hits.
  size_t width = max_chars * (text::has_cjk(text) ? 3 : 1);
  size_t best_begin = 0, best_count = 0;
  for (size_t a = 0, b = 0; a < hits.size(); ++a) {
    while (b < hits.size() && hits[b].second <= hits[a].first + width) ++b;
    if (b - a > best_count) best_count = b - a, best_begin = hits[a].first;
  }
  size_t begin = best_count ? char_start(text, best_begin > width / 4 ? best_begin - width / 4 : 0) : 0;
  size_t end = std::min(text.size(), begin + width);
  end = end < text.size() ? char_start(text, end) : end;
  std::string out;
  if (begin > 0) out += "…";
  size_t p = begin;
  for (auto& h : hits) {
    if (h.second <= begin || h.first >= end) continue;
    size_t hb = std::max(h.first, begin), he = std::min(h.second, end);
    append_escaped(out, text.substr(p, hb - p));
    out += "<mark>";
    append_escaped(out, text.substr(hb, he - hb));
    out += "</mark>";
    p = he;
  }
  append_escaped(out, text.substr(p, end - p));
  if (end < text.size()) out += "…";
  return out;
}

}  // namespace moerag::retrieval
