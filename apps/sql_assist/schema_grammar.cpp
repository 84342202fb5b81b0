// The schema grammar: rules built from the catalog (table and column names as
// terminals, numeric vs text columns compared with numbers vs strings), GBNF output
// for the engine, and a memoised recogniser (end-position sets per rule and token
// position; the grammar has no left recursion, so it terminates).
#include "apps/sql_assist/schema_grammar.h"

#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "core/text.h"

namespace moerag::sql_assist {
namespace {

using K = GSymbol::Kind;

GSymbol t(const std::string& s) { return {K::TERMINAL, s}; }
GSymbol r(const std::string& s) { return {K::RULE, s}; }

struct Builder {
  Grammar g;
  void add(const std::string& name, std::vector<std::vector<GSymbol>> alts) { g.rules.push_back({name, std::move(alts)}); }
};

bool plain(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

}  // namespace

int Grammar::find(const std::string& name) const {
  for (size_t i = 0; i < rules.size(); ++i)
    if (rules[i].name == name) return static_cast<int>(i);
  return -1;
}

Grammar build_schema_grammar(const Catalog& cat) {
  Builder b;
  b.add("root", {{r("select"), r("order-opt"), r("limit-opt")}});
  b.add("select", {{t("select"), r("distinct-opt"), r("items"), t("from"), r("from"), r("where-opt"), r("group-opt")}});
  b.add("distinct-opt", {{t("distinct")}, {}});
  b.add("items", {{r("item"), r("items-more")}});
  b.add("items-more", {{t(","), r("item"), r("items-more")}, {}});
  b.add("item", {{r("agg")}, {r("col")}, {t("*")}});
  b.add("agg", {{t("count"), t("("), t("*"), t(")")},
                {r("aggfn"), t("("), r("distinct-opt"), r("col"), t(")")}});
  b.add("aggfn", {{t("count")}, {t("sum")}, {t("avg")}, {t("min")}, {t("max")}});
  b.add("from", {{r("table-ref"), r("joins")}});
  b.add("table-ref", {{r("table"), r("alias-opt")}});
  b.add("alias-opt", {{t("as"), r("alias")}, {}});
  std::vector<std::vector<GSymbol>> aliases;
  for (int i = 1; i <= 9; ++i) aliases.push_back({t("t" + std::to_string(i))});
  b.add("alias", aliases);
  b.add("joins", {{t("join"), r("table-ref"), t("on"), r("col"), t("="), r("col"), r("joins")}, {}});
  b.add("qual", {{r("alias"), t(".")}, {r("table"), t(".")}, {}});
  b.add("col", {{r("qual"), r("column")}});
  b.add("num-col", {{r("qual"), r("num-column")}});
  b.add("text-col", {{r("qual"), r("text-column")}});
  b.add("where-opt", {{t("where"), r("cond"), r("cond-more")}, {}});
  b.add("cond-more", {{t("and"), r("cond"), r("cond-more")}, {t("or"), r("cond"), r("cond-more")}, {}});
  b.add("cmp", {{t("=")}, {t("!=")}, {t("<>")}, {t("<")}, {t(">")}, {t("<=")}, {t(">=")}});
  b.add("number", {{{K::NUMBER, ""}}, {t("-"), {K::NUMBER, ""}}});
  b.add("cond", {{r("num-col"), r("cmp"), r("number")},
                 {r("num-col"), t("between"), r("number"), t("and"), r("number")},
                 {r("text-col"), r("cmp"), {K::STRING, ""}},
                 {r("text-col"), t("like"), {K::STRING, ""}},
                 {r("text-col"), t("not"), t("like"), {K::STRING, ""}},
                 {r("col"), r("cmp"), t("("), r("subquery"), t(")")},
                 {r("col"), t("in"), t("("), r("subquery"), t(")")},
                 {r("col"), t("not"), t("in"), t("("), r("subquery"), t(")")}});
  b.add("subquery", {{t("select"), r("distinct-opt"), r("item"), t("from"), r("from"), r("where-opt"), r("group-opt")}});
  b.add("group-opt", {{t("group"), t("by"), r("col"), r("group-more"), r("having-opt")}, {}});
  b.add("group-more", {{t(","), r("col"), r("group-more")}, {}});
  b.add("having-opt", {{t("having"), r("agg"), r("cmp"), r("number")}, {}});
  b.add("order-opt", {{t("order"), t("by"), r("order-item"), r("dir-opt")}, {}});
  b.add("order-item", {{r("agg")}, {r("col")}});
  b.add("dir-opt", {{t("asc")}, {t("desc")}, {}});
  b.add("limit-opt", {{t("limit"), {K::NUMBER, ""}}, {}});
  // The schema itself: only these names can appear.
  std::vector<std::vector<GSymbol>> tables, cols, num_cols, text_cols;
  std::set<std::string> seen_col, seen_num, seen_text;
  for (size_t ti = 0; ti < cat.info.tables.size(); ++ti) {
    tables.push_back({t(text::fold_case(cat.info.tables[ti].name))});
    for (const auto& c : cat.info.tables[ti].columns) {
      std::string n = text::fold_case(c.name);
      if (seen_col.insert(n).second) cols.push_back({t(n)});
      if (c.numeric && seen_num.insert(n).second) num_cols.push_back({t(n)});
      if (!c.numeric && seen_text.insert(n).second) text_cols.push_back({t(n)});
    }
  }
  b.add("table", tables);
  b.add("column", cols);
  b.add("num-column", num_cols.empty() ? std::vector<std::vector<GSymbol>>{{t("\x01none")}} : num_cols);
  b.add("text-column", text_cols.empty() ? std::vector<std::vector<GSymbol>>{{t("\x01none")}} : text_cols);
  return b.g;
}

std::string to_gbnf(const Grammar& g) {
  auto term = [](const std::string& s) {
    bool word = std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_' || static_cast<unsigned char>(s[0]) >= 0x80;
    std::string shown = word && !plain(s) ? "\"" + s + "\"" : s;
    std::string out = "\"";
    for (char c : shown) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::string out;
  for (const auto& rule : g.rules) {
    out += rule.name + " ::= ";
    for (size_t a = 0; a < rule.alternatives.size(); ++a) {
      if (a) out += " | ";
      const auto& seq = rule.alternatives[a];
      if (seq.empty()) out += "\"\"";
      for (size_t i = 0; i < seq.size(); ++i) {
        if (i) out += " ws ";
        const auto& s = seq[i];
        out += s.kind == K::RULE      ? s.text
               : s.kind == K::NUMBER  ? "num"
               : s.kind == K::INTEGER ? "int"
               : s.kind == K::STRING  ? "str"
                                      : term(s.text);
      }
    }
    out += "\n";
  }
  out += "num ::= [0-9]+ (\".\" [0-9]+)?\n";
  out += "int ::= [0-9]+\n";
  out += "str ::= \"'\" ([^'] | \"''\")* \"'\"\n";
  out += "ws ::= [ \\t\\n]*\n";
  return out;
}

bool lex_sql(const std::string& s, std::vector<SqlToken>& out) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (std::isspace(c)) { ++i; continue; }
    if (s.compare(i, 2, "--") == 0) { size_t e = s.find('\n', i); i = e == std::string::npos ? s.size() : e; continue; }
    if (s.compare(i, 2, "/*") == 0) { size_t e = s.find("*/", i + 2); if (e == std::string::npos) return false; i = e + 2; continue; }
    if (std::isalpha(c) || c == '_' || c >= 0x80) {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || static_cast<unsigned char>(s[j]) >= 0x80)) ++j;
      out.push_back({SqlToken::Kind::WORD, text::fold_case(s.substr(i, j - i))});
      i = j;
      continue;
    }
    if (c == '"' || c == '`' || c == '[' || c == '\'') {
      char close = c == '[' ? ']' : static_cast<char>(c);
      std::string v;
      size_t j = i + 1;
      while (true) {
        if (j >= s.size()) return false;
        if (s[j] == close) {
          if (close != ']' && j + 1 < s.size() && s[j + 1] == close) { v += close; j += 2; continue; }
          break;
        }
        v += s[j++];
      }
      out.push_back({c == '\'' ? SqlToken::Kind::STRING : SqlToken::Kind::WORD, c == '\'' ? v : text::fold_case(v)});
      i = j + 1;
      continue;
    }
    if (std::isdigit(c) || (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      out.push_back({SqlToken::Kind::NUMBER, s.substr(i, j - i)});
      i = j;
      continue;
    }
    for (const char* two : {"<=", ">=", "!=", "<>", "=="}) {
      if (s.compare(i, 2, two) == 0) {
        out.push_back({SqlToken::Kind::PUNCT, std::string(two) == "==" ? "=" : two});
        i += 2;
        goto next;
      }
    }
    out.push_back({SqlToken::Kind::PUNCT, std::string(1, static_cast<char>(c))});
    ++i;
  next:;
  }
  return true;
}

bool grammar_accepts(const Grammar& g, const std::string& sql) {
  std::vector<SqlToken> toks;
  if (!lex_sql(sql, toks)) return false;
  std::map<std::string, int> index;
  for (size_t i = 0; i < g.rules.size(); ++i) index[g.rules[i].name] = static_cast<int>(i);
  std::map<std::pair<int, size_t>, std::set<size_t>> memo;
  std::function<std::set<size_t>(int, size_t)> rule_ends;
  auto symbol_ends = [&](const GSymbol& s, size_t pos) -> std::set<size_t> {
    if (s.kind == K::RULE) return rule_ends(index.at(s.text), pos);
    if (pos >= toks.size()) return {};
    const SqlToken& tk = toks[pos];
    bool ok = s.kind == K::NUMBER    ? tk.kind == SqlToken::Kind::NUMBER
              : s.kind == K::INTEGER ? tk.kind == SqlToken::Kind::NUMBER && tk.text.find('.') == std::string::npos
              : s.kind == K::STRING ? tk.kind == SqlToken::Kind::STRING
                                    : (tk.kind == SqlToken::Kind::WORD || tk.kind == SqlToken::Kind::PUNCT) && tk.text == s.text;
    return ok ? std::set<size_t>{pos + 1} : std::set<size_t>{};
  };
  rule_ends = [&](int ri, size_t pos) -> std::set<size_t> {
    auto key = std::make_pair(ri, pos);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
    std::set<size_t> result;
    for (const auto& alt : g.rules[ri].alternatives) {
      std::set<size_t> cur = {pos};
      for (const auto& sym : alt) {
        std::set<size_t> nxt;
        for (size_t p : cur)
          for (size_t e : symbol_ends(sym, p)) nxt.insert(e);
        cur = std::move(nxt);
        if (cur.empty()) break;
      }
      result.insert(cur.begin(), cur.end());
    }
    memo[key] = result;
    return result;
  };
  return rule_ends(0, 0).count(toks.size()) > 0;
}

}  // namespace moerag::sql_assist
