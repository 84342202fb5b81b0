// Word-level helpers for chat (see terms.h). The word lists are small on purpose:
// they decide what a question is "about", not a full linguistic analysis.
#include "apps/chat/terms.h"

#include <algorithm>
#include <unordered_set>

#include "core/text.h"
#include "retrieval/stemmer.h"

namespace moerag::chat {
namespace {

const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> s = {
      "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
      "because", "been", "before", "being", "between", "both", "but", "by", "can", "could", "did", "do", "does",
      "doing", "down", "during", "each", "either", "else", "ever", "few", "for", "from", "further", "get", "gets",
      "got", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in",
      "into", "is", "it", "its", "itself", "just", "let", "me", "might", "more", "most", "much", "must", "my", "no",
      "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or", "other", "our", "ours", "out", "over",
      "own", "please", "same", "shall", "she", "should", "so", "some", "such", "tell", "than", "that", "the",
      "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
      "until", "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
      "why", "will", "with", "would", "you", "your", "yours", "s", "t", "know", "want", "need", "thing", "things",
      "ok", "okay", "thanks", "thank", "hi", "hello", "there", "anyone", "someone", "something", "way", "ways",
      "many", "like", "well", "really", "yes", "don't", "doesn't", "didn't", "isn't", "aren't", "won't", "i'm",
      "i've", "what's", "how's", "there's"};
  return s;
}

// Pronouns and openers that make an English message depend on the previous turn.
const std::unordered_set<std::string>& anaphora() {
  static const std::unordered_set<std::string> s = {"it", "its", "it's", "itself", "they", "them", "their", "this",
                                                    "that", "these", "those", "he", "she", "him", "her", "there",
                                                    "one", "ones", "same"};
  return s;
}

// Chinese question and function words removed before terms are taken.
const std::vector<std::u32string>& zh_function_words() {
  static const std::vector<std::u32string> w = [] {
    std::vector<std::string> utf8 = {"为什么", "怎么样", "怎么办", "是什么", "有没有", "是不是", "什么", "怎么", "如何", "多少", "哪些",
                                     "哪里", "哪个", "哪儿", "请问", "可以", "能否", "是否", "我们", "你们", "他们",
                                     "她们", "它们", "这个", "那个", "这些", "那些", "这种", "那种", "还有", "另外",
                                     "那么", "的话", "如果", "要是", "一下", "需要", "应该", "告诉", "知道", "吗", "呢", "吧", "啊",
                                     "的", "了", "是", "有", "在", "和", "与", "及", "或", "我", "你", "他", "她", "它",
                                     "这", "那", "个", "么", "还", "也", "都", "就", "对", "于", "会", "能", "要", "被",
                                     "把", "给", "让", "请", "其", "该", "此", "得", "地", "着", "过", "又", "多", "长",
                                     "久"};
    std::vector<std::u32string> out;
    for (const auto& s : utf8) out.push_back(text::to_u32(s));
    return out;
  }();
  return w;
}

bool is_word_char(char32_t c) { return (c < 128 && (std::isalnum(static_cast<int>(c)) != 0)); }

struct Piece {
  std::u32string text;
  bool cjk = false;
};

// Splits into ASCII words (apostrophes inside kept) and runs of Han characters.
std::vector<Piece> pieces(std::string_view s) {
  std::u32string u = text::to_u32(text::fold_case(text::to_halfwidth(s)));
  std::vector<Piece> out;
  Piece cur;
  auto flush = [&] {
    if (!cur.text.empty()) out.push_back(cur);
    cur = {};
  };
  for (size_t i = 0; i < u.size(); ++i) {
    char32_t c = u[i];
    if (is_word_char(c) || (c == U'\'' && !cur.cjk && !cur.text.empty() && i + 1 < u.size() && is_word_char(u[i + 1]))) {
      if (cur.cjk) flush();
      cur.text.push_back(c);
    } else if (text::is_han(c)) {
      if (!cur.cjk) flush();
      cur.cjk = true;
      cur.text.push_back(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

// Han run with function words replaced by breaks: the content runs that remain.
std::vector<std::u32string> zh_content_runs(const std::u32string& run) {
  std::u32string marked = run;
  for (const auto& w : zh_function_words()) {
    for (size_t pos = marked.find(w); pos != std::u32string::npos; pos = marked.find(w, pos + w.size()))
      for (size_t k = 0; k < w.size(); ++k) marked[pos + k] = U' ';
  }
  std::vector<std::u32string> out;
  std::u32string cur;
  for (char32_t c : marked) {
    if (c == U' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}


}  // namespace

// The same stemmer as the lexical index, so coverage and BM25 agree on word families.
std::string stem(std::string_view w) { return retrieval::porter_stem(w); }

int count_tokens(std::string_view s) {
  int n = 0;
  bool in_word = false;
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t c;
    size_t len = text::utf8_decode(s, pos, c);
    pos += len ? len : 1;
    if (text::is_cjk(c)) {
      ++n;
      in_word = false;
    } else if (c < 128 && std::isalnum(static_cast<int>(c))) {
      if (!in_word) ++n;
      in_word = true;
    } else {
      in_word = false;
    }
  }
  return n;
}

std::vector<std::string> content_terms(std::string_view s) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  auto add = [&](std::string t) {
    if (seen.insert(t).second) out.push_back(std::move(t));
  };
  for (const auto& p : pieces(s)) {
    if (!p.cjk) {
      std::string w = text::from_u32(p.text);
      if (w == "can't" || w == "cant") w = "cannot";  // the negation is what such questions are about
      if (w.size() < 2 && !std::isdigit(static_cast<unsigned char>(w[0]))) continue;
      if (stop_words().count(w)) continue;
      add(stem(w));
      continue;
    }
    for (const auto& run : zh_content_runs(p.text)) {
      if (run.size() == 1) add(text::from_u32(run));
      for (size_t i = 0; i + 1 < run.size(); ++i) add(text::from_u32(run.substr(i, 2)));
    }
  }
  return out;
}

std::string key_terms(std::string_view s, int max_terms) {
  std::vector<std::string> terms;
  std::unordered_set<std::string> seen;
  for (const auto& p : pieces(s)) {
    if ((int)terms.size() >= max_terms) break;
    if (!p.cjk) {
      std::string w = text::from_u32(p.text);
      if (w.size() < 2 || stop_words().count(w) || anaphora().count(w)) continue;
      if (seen.insert(stem(w)).second) terms.push_back(w);
      continue;
    }
    for (const auto& run : zh_content_runs(p.text)) {
      std::string w = text::from_u32(run);
      if ((int)terms.size() < max_terms && seen.insert(w).second) terms.push_back(w);
    }
  }
  std::string out;
  for (const auto& t : terms) out += (out.empty() ? "" : " ") + t;
  return out;
}

bool is_follow_up(std::string_view message) {
  auto ps = pieces(message);
  if (ps.empty()) return false;
  int n_content = 0;
  bool has_cjk = false;
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    if (p.cjk) {
      has_cjk = true;
      continue;
    }
    std::string w = text::from_u32(p.text);
    if (anaphora().count(w) && w != "one" && w != "there") return true;
    if (i == 0 && (w == "and" || w == "also" || w == "but" || w == "so")) return true;
    if (i + 1 < ps.size() && (w == "what" || w == "how") && text::from_u32(ps[i + 1].text) == "about") return true;
    if (!stop_words().count(w) && w.size() > 1) ++n_content;
  }
  if (has_cjk) {
    std::u32string all;
    for (const auto& p : ps)
      if (p.cjk) all += p.text;
    for (const char* cue : {"它", "这个", "那个", "这种", "那种", "其", "该", "此", "他们", "她们"})
      if (all.find(text::to_u32(cue)) != std::u32string::npos) return true;
    for (const char* lead : {"那", "还有", "另外", "那么", "而且"})
      if (all.rfind(text::to_u32(lead), 0) == 0) return true;
    if (all.back() == U'呢') return true;
    size_t n_han = 0;
    for (const auto& r : zh_content_runs(all)) n_han += r.size();
    return n_han <= 3 && n_content == 0;
  }
  return n_content <= 2;
}

std::string carry_forward(std::string_view message, std::string_view previous_query) {
  std::string query(text::trim(message));
  if (previous_query.empty() || !is_follow_up(message)) return query;
  auto have_v = content_terms(message);
  std::unordered_set<std::string> have(have_v.begin(), have_v.end());
  std::string carried;
  for (const auto& p : pieces(key_terms(previous_query))) {
    std::string w = text::from_u32(p.text);
    auto terms = content_terms(w);
    bool all_there = !terms.empty();
    for (const auto& t : terms) all_there = all_there && have.count(t) > 0;
    if (all_there) continue;
    carried += (carried.empty() ? "" : " ") + w;
  }
  if (carried.empty()) return query;
  return query + (text::has_cjk(query) ? " " : " ") + carried;
}

bool asks_for_human(std::string_view message) {
  std::string m = text::fold_case(message);
  for (const char* cue : {"human", "real person", "live agent", "an agent", "operator", "speak to someone",
                          "talk to someone", "speak with someone", "talk to a person", "speak to a person",
                          "customer service", "support staff", "人工", "客服", "真人", "转接"})
    if (m.find(cue) != std::string::npos) return true;
  return false;
}

}  // namespace moerag::chat
