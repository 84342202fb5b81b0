// Schema linking: Chinese runs are segmented (longest match over synonyms, cell
// values, the glossary and question cue words, which become English stems), then
// every n-gram is matched against table and column names, synonyms and the value
// index; the best non-overlapping spans win.
#include "apps/sql_assist/linker.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/text.h"

namespace moerag::sql_assist {
namespace {

// Chinese question words mapped to the English cue the parser understands.
const std::map<std::string, std::string>& han_cues() {
  static const std::map<std::string, std::string> kCues = {
      {"多少", "count"}, {"几个", "count"}, {"几", "count"}, {"数量", "count"}, {"个数", "count"},
      {"平均", "average"}, {"总和", "total"}, {"总共", "total"}, {"总", "total"}, {"最大", "highest"},
      {"最高", "highest"}, {"最多", "most"}, {"最小", "lowest"}, {"最低", "lowest"}, {"最少", "least"},
      {"最年轻", "youngest"}, {"最老", "oldest"}, {"每个", "each"}, {"每", "each"}, {"各", "each"},
      {"大于", "above"}, {"超过", "above"}, {"高于", "above"}, {"多于", "above"}, {"以上", "above"},
      {"小于", "below"}, {"低于", "below"}, {"少于", "below"}, {"以下", "below"}, {"之间", "between"},
      {"不是", "not"}, {"不", "not"}, {"没有", "without"}, {"降序", "descending"}, {"升序", "ascending"},
      {"排序", "order"}, {"按", "by"}, {"前", "top"}, {"和", "and"}, {"与", "and"}, {"或", "or"}, {"或者", "or"},
      {"的", "of"}, {"哪些", "which"}, {"哪个", "which"}, {"什么", "what"}, {"列出", "list"}, {"显示", "show"},
      {"所有", "all"}, {"不同", "different"}, {"在", "in"}, {"是", "is"}, {"有", "have"}, {"删除", "delete"}};
  return kCues;
}

int han_digit(const std::string& s) {
  static const char* const kDigits[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};
  for (int i = 0; i <= 10; ++i)
    if (s == kDigits[i]) return i;
  return -1;
}

// Splits each Han token into pieces: synonyms, Han cell values, glossary words and cues.
std::vector<Token> segment_han(const std::vector<Token>& in, const Catalog& cat) {
  std::set<std::string> dict;
  for (const auto& t : cat.info.tables) {
    for (const auto& s : t.synonyms) dict.insert(text::fold_case(s));
    for (const auto& c : t.columns)
      for (const auto& s : c.synonyms) dict.insert(text::fold_case(s));
  }
  for (const auto& [k, v] : cat.values)
    if (text::has_cjk(k) && text::utf8_length(k) <= 12) dict.insert(k);
  for (const auto& [k, v] : han_cues()) dict.insert(k);
  std::vector<Token> out;
  for (const Token& t : in) {
    if (!t.han) { out.push_back(t); continue; }
    const std::string& s = t.text;
    auto gl = glossary_scan(s);
    size_t i = 0;
    while (i < s.size()) {
      size_t best = 0;
      for (const auto& w : dict)
        if (w.size() > best && s.compare(i, w.size(), w) == 0) best = w.size();
      std::string english;
      for (const auto& h : gl)
        if (h.start == i && h.length > best) { best = h.length; english = h.english; }
      if (best == 0) {
        char32_t cp;
        best = std::max<size_t>(1, text::utf8_decode(s, i, cp));
      }
      Token p;
      p.text = p.lower = s.substr(i, best);
      p.han = true;
      if (auto it = han_cues().find(p.text); it != han_cues().end() && english.empty()) english = it->second;
      if (int d = han_digit(p.text); d >= 0) { p.number = true; p.value = d; english = std::to_string(d); }
      p.stem = english.empty() ? p.text : english;
      out.push_back(std::move(p));
      i += best;
    }
  }
  return out;
}

bool same(const std::vector<std::string>& a, const std::vector<std::string>& b) { return a == b; }

// Table-name words removed from the front of a column's words ("singer_name" in singer -> "name").
std::vector<std::string> without_table_prefix(const std::vector<std::string>& col, const std::vector<std::string>& tab) {
  if (col.size() > tab.size() && std::equal(tab.begin(), tab.end(), col.begin()))
    return std::vector<std::string>(col.begin() + tab.size(), col.end());
  return col;
}

void match_names(const std::vector<std::string>& span, const std::string& phrase, const Catalog& cat,
                 std::vector<Candidate>& out) {
  const bool single = span.size() == 1;
  const bool stop = single && is_stopword(span[0]);
  for (size_t t = 0; t < cat.info.tables.size(); ++t) {
    const auto& tw = cat.table_words[t];
    double s = 0;
    if (same(span, tw)) s = 1.0;
    for (const auto& syn : cat.info.tables[t].synonyms)
      if (text::fold_case(syn) == phrase || stem_words(syn) == span) s = 1.0;
    if (s == 0 && single && !stop && tw.size() > 1 && tw.back() == span[0]) s = 0.7;
    else if (s == 0 && single && !stop && std::find(tw.begin(), tw.end(), span[0]) != tw.end()) s = 0.5;
    if (s > 0) out.push_back({Candidate::Kind::TABLE, static_cast<int>(t), -1, "", s});
    for (size_t c = 0; c < cat.column_words[t].size(); ++c) {
      const auto& cw = cat.column_words[t][c];
      double cs = 0;
      if (same(span, cw)) cs = 1.0;
      else if (same(span, without_table_prefix(cw, tw))) cs = 0.9;
      for (const auto& syn : cat.info.tables[t].columns[c].synonyms)
        if (text::fold_case(syn) == phrase || stem_words(syn) == span) cs = 1.0;
      if (cs == 0 && span.size() < cw.size() && !stop &&
          std::equal(span.rbegin(), span.rend(), cw.rbegin()) && cw.back() != "id")
        cs = 0.55 + 0.1 * static_cast<double>(span.size() - 1);
      else if (cs == 0 && single && !stop && span[0] != "id" &&
               std::find(cw.begin(), cw.end(), span[0]) != cw.end())
        cs = 0.4;
      if (cs > 0) out.push_back({Candidate::Kind::COLUMN, static_cast<int>(t), static_cast<int>(c), "", cs});
    }
  }
}

void match_values(const std::vector<Token>& toks, int i, int j, const Catalog& cat, std::vector<Candidate>& out) {
  std::string key;
  bool han = true, any_upper = false;
  for (int k = i; k < j; ++k) {
    if (!key.empty() && !(toks[k].han && toks[k - 1].han)) key += ' ';
    key += toks[k].lower;
    han = han && toks[k].han;
    any_upper = any_upper || (!toks[k].text.empty() && std::isupper(static_cast<unsigned char>(toks[k].text[0])));
  }
  if (j - i == 1 && (toks[i].number || is_stopword(toks[i].stem)) && !toks[i].quoted) return;
  auto it = cat.values.find(key);
  if (it == cat.values.end()) return;
  double s = toks[i].quoted ? 1.0 : (any_upper || han || j - i > 1) ? 0.95 : 0.75;
  for (const auto& site : it->second) out.push_back({Candidate::Kind::VALUE, site.table, site.column, site.value, s});
}

}  // namespace

Linking link_question(const std::string& question, const Catalog& cat) {
  Linking L;
  L.tokens = segment_han(tokenize_question(question), cat);
  const int n = static_cast<int>(L.tokens.size());
  const int max_len = std::max<int>(4, static_cast<int>(cat.max_value_words));
  std::vector<Mention> all;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j <= std::min(n, i + max_len); ++j) {
      Mention m;
      m.start = i;
      m.end = j;
      std::vector<std::string> span;
      for (int k = i; k < j; ++k) {
        if (!m.phrase.empty() && !(L.tokens[k].han && L.tokens[k - 1].han)) m.phrase += ' ';
        m.phrase += L.tokens[k].text;
        for (auto& w : split_identifier(L.tokens[k].stem)) span.push_back(stem(w));
      }
      if (L.tokens[i].quoted) {
        match_values(L.tokens, i, j, cat, m.cands);
        if (m.cands.empty() && j == i + 1) {  // a quoted value not in the index: still a value
          m.cands.push_back({Candidate::Kind::VALUE, -1, -1, L.tokens[i].text, 0.6});
        }
      } else {
        if (j - i <= 4) match_names(span, text::fold_case(m.phrase), cat, m.cands);
        match_values(L.tokens, i, j, cat, m.cands);
      }
      if (m.cands.empty() && j == i + 1 && L.tokens[i].number) {
        m.number = true;
        m.num = L.tokens[i].value;
      }
      if (m.cands.empty() && !m.number) continue;
      std::stable_sort(m.cands.begin(), m.cands.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
      double best = m.cands.empty() ? 0 : m.cands[0].score;
      std::erase_if(m.cands, [&](const Candidate& c) { return c.score < best - 0.3; });
      all.push_back(std::move(m));
    }
  }
  auto weight = [](const Mention& m) {
    double s = m.cands.empty() ? 0.5 : m.cands[0].score;
    return s * (1.0 + 0.6 * (m.end - m.start - 1));
  };
  std::stable_sort(all.begin(), all.end(), [&](const Mention& a, const Mention& b) { return weight(a) > weight(b); });
  L.mention_at.assign(n, -1);
  std::vector<Mention> chosen;
  for (auto& m : all) {
    bool free = true;
    for (int k = m.start; k < m.end; ++k) free = free && L.mention_at[k] < 0;
    if (!free) continue;
    for (int k = m.start; k < m.end; ++k) L.mention_at[k] = 0;
    chosen.push_back(std::move(m));
  }
  std::sort(chosen.begin(), chosen.end(), [](const Mention& a, const Mention& b) { return a.start < b.start; });
  for (size_t mi = 0; mi < chosen.size(); ++mi)
    for (int k = chosen[mi].start; k < chosen[mi].end; ++k) L.mention_at[k] = static_cast<int>(mi);
  L.mentions = std::move(chosen);
  return L;
}

std::vector<SchemaLink> describe_links(const Linking& l, const Catalog& cat) {
  std::vector<SchemaLink> out;
  for (const auto& m : l.mentions) {
    if (m.number) {
      out.push_back({m.phrase, "number", "", "", m.phrase, 1.0});
      continue;
    }
    for (const auto& c : m.cands) {
      SchemaLink s;
      s.phrase = m.phrase;
      s.score = c.score;
      if (c.table >= 0) s.table = cat.info.tables[c.table].name;
      if (c.column >= 0) s.column = cat.column(c.table, c.column).name;
      s.kind = c.kind == Candidate::Kind::TABLE ? "table" : c.kind == Candidate::Kind::COLUMN ? "column" : "value";
      s.value = c.value;
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace moerag::sql_assist
