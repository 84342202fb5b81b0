// The decoding grammar: scopes (FROM clauses along foreign keys), per-table column
// rules, bounded lists unrolled into chains of rules, and the translation to engine
// rules with canonical spacing (each rule in two variants: with and without a space
// before its first token) plus the longest-sentence bound used as the token budget.
#include "apps/sql_assist/decode_grammar.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "core/text.h"

namespace moerag::sql_assist {
namespace {

using K = GSymbol::Kind;
using Seq = std::vector<GSymbol>;
using Alts = std::vector<Seq>;

GSymbol t(const std::string& s) {
  return {K::TERMINAL, s, ""};
}
GSymbol r(const std::string& s) {
  return {K::RULE, s, ""};
}
GSymbol ident(const std::string& name) {
  return {K::TERMINAL, text::fold_case(name), sql_identifier(name)};
}
const GSymbol kNumber{K::NUMBER, "", ""};
const GSymbol kInteger{K::INTEGER, "", ""};
const GSymbol kString{K::STRING, "", ""};

Seq cat_seq(std::initializer_list<Seq> parts) {
  Seq out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// One FROM clause: its tables (aliased t1.. when more than one) and join keys.
struct Scope {
  std::vector<int> tables;
  std::vector<std::pair<int, int>> keys;  // per join: (column in previous table, column in this table)
};

struct Edge {
  int a, ac, b, bc;  // a.ac = b.bc
};

std::vector<Edge> fk_edges(const Catalog& cat) {
  std::vector<Edge> out;
  for (const auto& fk : cat.info.foreign_keys) {
    int a = cat.table_index(fk.from_table), b = cat.table_index(fk.to_table);
    if (a < 0 || b < 0) continue;
    int ac = cat.column_index(a, fk.from_column), bc = cat.column_index(b, fk.to_column);
    if (ac < 0 || bc < 0) continue;
    out.push_back({a, ac, b, bc});
  }
  return out;
}

// Single tables first, then two-table joins touching a wanted table, then
// three-table chains whose ends are both wanted (bridge tables); at most max_scopes.
std::vector<Scope> make_scopes(const Catalog& cat, const std::vector<int>& wanted, int max_scopes) {
  std::set<int> want(wanted.begin(), wanted.end());
  auto usable = [&](int ti) { return !cat.info.tables[ti].columns.empty(); };
  std::vector<Scope> out;
  for (int ti : wanted)
    if (usable(ti)) out.push_back({{ti}, {}});
  std::vector<Edge> edges = fk_edges(cat);
  std::vector<Edge> both;  // each edge in both directions
  for (const auto& e : edges) {
    both.push_back(e);
    if (e.a != e.b) both.push_back({e.b, e.bc, e.a, e.ac});
  }
  for (const auto& e : both)
    if ((want.count(e.a) || want.count(e.b)) && usable(e.a) && usable(e.b))
      out.push_back({{e.a, e.b}, {{e.ac, e.bc}}});
  for (const auto& e1 : both)
    for (const auto& e2 : both) {
      if (e1.b != e2.a || e2.b == e1.a || e1.a == e1.b || e2.a == e2.b) continue;
      if (!want.count(e1.a) || !want.count(e2.b) || !usable(e1.b)) continue;
      out.push_back({{e1.a, e1.b, e2.b}, {{e1.ac, e1.bc}, {e2.ac, e2.bc}}});
    }
  if (static_cast<int>(out.size()) > max_scopes) out.resize(static_cast<size_t>(std::max(1, max_scopes)));
  return out;
}

struct Builder {
  Grammar g;
  std::set<std::string> names;
  void add(const std::string& name, Alts alts) {
    if (names.insert(name).second) g.rules.push_back({name, std::move(alts)});
  }
  // name ::= first rest1; rest_k ::= sep item rest_{k+1} | ε, at most max items in all.
  void bounded_list(const std::string& name, const Seq& first, const std::vector<Seq>& seps, const Seq& item,
                    int max) {
    add(name, {cat_seq({first, max > 1 ? Seq{r(name + "+1")} : Seq{}})});
    for (int k = 1; k < max; ++k) {
      Alts alts;
      for (const auto& sep : seps)
        alts.push_back(
            cat_seq({sep, item, k + 1 < max ? Seq{r(name + "+" + std::to_string(k + 1))} : Seq{}}));
      alts.push_back({});
      add(name + "+" + std::to_string(k), alts);
    }
  }
};

}  // namespace

std::string sql_identifier(const std::string& name) {
  bool plain = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (plain && !sqlite3_keyword_check(name.data(), static_cast<int>(name.size()))) return name;
  return quote_ident(name);
}

Grammar build_decoding_grammar(const Catalog& cat, const std::vector<int>& tables, const DecodeLimits& lim) {
  std::vector<int> wanted = tables;
  if (wanted.empty())
    for (size_t i = 0; i < cat.info.tables.size(); ++i) wanted.push_back(static_cast<int>(i));
  const std::vector<Scope> scopes = make_scopes(cat, wanted, lim.max_scopes);
  Builder b;
  Alts root;
  for (size_t si = 0; si < scopes.size(); ++si)
    root.push_back({t("select"), r("distinct?"), r("s" + std::to_string(si) + "-items"), t("from"),
                    r("s" + std::to_string(si) + "-from"), r("s" + std::to_string(si) + "-where"),
                    r("s" + std::to_string(si) + "-tail"), r("limit?")});
  b.add("root", root);
  b.add("distinct?", {{t("distinct")}, {}});
  b.add("limit?", {{t("limit"), kInteger}, {}});
  b.add("cmp", {{t("=")}, {t("!=")}, {t("<")}, {t(">")}, {t("<=")}, {t(">=")}});
  b.add("number", {{kNumber}, {t("-"), kNumber}});
  b.add("dir?", {{t("asc")}, {t("desc")}, {}});

  // Per table: all, numeric and text columns, unqualified; flat conditions and
  // subqueries over that table alone.
  std::set<int> in_scope;
  for (const auto& s : scopes) in_scope.insert(s.tables.begin(), s.tables.end());
  auto tn = [](int ti) { return "tab" + std::to_string(ti); };
  std::map<int, bool> has_num, has_text;
  Alts sub_num, sub_text;
  for (int ti : in_scope) {
    Alts all, num, text_cols;
    for (const auto& c : cat.info.tables[ti].columns) {
      all.push_back({ident(c.name)});
      (c.numeric ? num : text_cols).push_back({ident(c.name)});
    }
    has_num[ti] = !num.empty();
    has_text[ti] = !text_cols.empty();
    b.add(tn(ti) + "-col", all);
    if (has_num[ti]) b.add(tn(ti) + "-num", num);
    if (has_text[ti]) b.add(tn(ti) + "-text", text_cols);
    Alts flat;
    if (has_num[ti]) flat.push_back({r(tn(ti) + "-num"), r("cmp"), r("number")});
    if (has_text[ti]) {
      flat.push_back({r(tn(ti) + "-text"), r("cmp"), kString});
      flat.push_back({r(tn(ti) + "-text"), t("like"), kString});
    }
    if (flat.empty()) {
      b.add(tn(ti) + "-subwhere", {{}});
    } else {
      b.add(tn(ti) + "-flat", flat);
      b.add(tn(ti) + "-subwhere", {{t("where"), r(tn(ti) + "-flat")}, {}});
    }
    const GSymbol table = ident(cat.info.tables[ti].name);
    sub_num.push_back(
        {t("select"), t("count"), t("("), t("*"), t(")"), t("from"), table, r(tn(ti) + "-subwhere")});
    if (has_num[ti])
      for (const char* fn : {"avg", "min", "max", "sum"})
        sub_num.push_back({t("select"), t(fn), t("("), r(tn(ti) + "-num"), t(")"), t("from"), table,
                           r(tn(ti) + "-subwhere")});
    if (has_text[ti])
      sub_text.push_back({t("select"), r(tn(ti) + "-text"), t("from"), table, r(tn(ti) + "-subwhere")});
  }
  b.add("sub-num", sub_num);
  if (!sub_text.empty()) b.add("sub-text", sub_text);

  for (size_t si = 0; si < scopes.size(); ++si) {
    const Scope& s = scopes[si];
    const std::string p = "s" + std::to_string(si) + "-";
    const bool joined = s.tables.size() > 1;
    auto alias = [](size_t i) { return t("t" + std::to_string(i + 1)); };
    // Columns of this scope, qualified by alias when tables are joined.
    Alts col, num, text_cols;
    for (size_t i = 0; i < s.tables.size(); ++i) {
      int ti = s.tables[i];
      Seq q = joined ? Seq{alias(i), t(".")} : Seq{};
      col.push_back(cat_seq({q, {r(tn(ti) + "-col")}}));
      if (has_num[ti]) num.push_back(cat_seq({q, {r(tn(ti) + "-num")}}));
      if (has_text[ti]) text_cols.push_back(cat_seq({q, {r(tn(ti) + "-text")}}));
    }
    b.add(p + "col", col);
    if (!num.empty()) b.add(p + "num", num);
    if (!text_cols.empty()) b.add(p + "text", text_cols);
    Alts agg = {{t("count"), t("("), t("*"), t(")")},
                {t("count"), t("("), r(p + "col"), t(")")},
                {t("count"), t("("), t("distinct"), r(p + "col"), t(")")},
                {t("min"), t("("), r(p + "col"), t(")")},
                {t("max"), t("("), r(p + "col"), t(")")}};
    if (!num.empty())
      for (const char* fn : {"sum", "avg"}) agg.push_back({t(fn), t("("), r(p + "num"), t(")")});
    b.add(p + "agg", agg);
    b.add(p + "item", {{r(p + "agg")}, {r(p + "col")}, {t("*")}});
    b.bounded_list(p + "items", {r(p + "item")}, {{t(",")}}, {r(p + "item")}, lim.max_items);
    // FROM t1 JOIN t2 ON t1.a = t2.b ...
    Seq from = {ident(cat.info.tables[s.tables[0]].name)};
    if (joined) from.insert(from.end(), {t("as"), alias(0)});
    for (size_t i = 1; i < s.tables.size(); ++i) {
      const auto& prev = cat.info.tables[s.tables[i - 1]];
      const auto& cur = cat.info.tables[s.tables[i]];
      from.insert(from.end(), {t("join"), ident(cur.name), t("as"), alias(i), t("on"), alias(i - 1), t("."),
                               ident(prev.columns[s.keys[i - 1].first].name), t("="), alias(i), t("."),
                               ident(cur.columns[s.keys[i - 1].second].name)});
    }
    b.add(p + "from", {from});
    Alts cond;
    if (!num.empty()) {
      cond.push_back({r(p + "num"), r("cmp"), r("number")});
      cond.push_back({r(p + "num"), t("between"), r("number"), t("and"), r("number")});
      cond.push_back({r(p + "num"), r("cmp"), t("("), r("sub-num"), t(")")});
    }
    if (!text_cols.empty()) {
      cond.push_back({r(p + "text"), r("cmp"), kString});
      cond.push_back({r(p + "text"), t("like"), kString});
      cond.push_back({r(p + "text"), t("not"), t("like"), kString});
      if (!sub_text.empty()) {
        cond.push_back({r(p + "text"), t("in"), t("("), r("sub-text"), t(")")});
        cond.push_back({r(p + "text"), t("not"), t("in"), t("("), r("sub-text"), t(")")});
      }
    }
    if (cond.empty()) {
      b.add(p + "where", {{}});
    } else {
      b.add(p + "cond", cond);
      b.bounded_list(p + "conds", {r(p + "cond")}, {{t("and")}, {t("or")}}, {r(p + "cond")},
                     lim.max_conditions);
      b.add(p + "where", {{t("where"), r(p + "conds")}, {}});
    }
    b.bounded_list(p + "gcols", {r(p + "col")}, {{t(",")}}, {r(p + "col")}, lim.max_group_columns);
    // GROUP BY, then ORDER BY; ordering by an aggregate only in a grouped query
    // (SQLite refuses it in a query without aggregates: "misuse of aggregate").
    b.add(p + "tail", {{t("group"), t("by"), r(p + "gcols"), t("having"), r(p + "agg"), r("cmp"), r("number"),
                        r(p + "order-any")},
                       {t("group"), t("by"), r(p + "gcols"), r(p + "order-any")},
                       {r(p + "order-col")}});
    b.add(
        p + "order-any",
        {{t("order"), t("by"), r(p + "agg"), r("dir?")}, {t("order"), t("by"), r(p + "col"), r("dir?")}, {}});
    b.add(p + "order-col", {{t("order"), t("by"), r(p + "col"), r("dir?")}, {}});
  }
  return b.g;
}

namespace {

bool no_space_before(const std::string& tok) {
  return tok == ")" || tok == "," || tok == ".";
}
bool no_space_after(const GSymbol& s) {
  return s.kind == K::TERMINAL && (s.text == "(" || s.text == "." || s.text == "-");
}
bool function_word(const GSymbol& s) {
  return s.kind == K::TERMINAL && s.shown.empty() &&
         (s.text == "count" || s.text == "sum" || s.text == "avg" || s.text == "min" || s.text == "max");
}

std::string printed(const GSymbol& s) {
  if (!s.shown.empty()) return s.shown;
  std::string out = s.text;
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Whether the symbol at position i of `seq` is written without a leading space,
// given whether the sequence itself starts without one.
bool tight_at(const Seq& seq, size_t i, bool tight_start) {
  if (i == 0) return tight_start;
  return no_space_after(seq[i - 1]) ||
         (seq[i].kind == K::TERMINAL && seq[i].text == "(" && function_word(seq[i - 1]));
}

}  // namespace

engine::GrammarRules to_engine_rules(const Grammar& g, const DecodeLimits& lim) {
  namespace gb = engine::gbnf;
  engine::GrammarRules out;
  std::set<std::string> done;
  std::vector<std::pair<int, bool>> todo = {{0, true}};  // (rule, tight): the root starts without a space
  auto variant = [](const std::string& name, bool tight) { return tight ? name + "~tight" : name; };
  while (!todo.empty()) {
    auto [ri, tight] = todo.back();
    todo.pop_back();
    const GRule& rule = g.rules[static_cast<size_t>(ri)];
    const std::string name = ri == 0 ? "root" : variant(rule.name, tight);
    if (!done.insert(name).second) continue;
    std::vector<engine::GrammarExpr> alts;
    for (const Seq& seq : rule.alternatives) {
      std::vector<engine::GrammarExpr> items;
      for (size_t i = 0; i < seq.size(); ++i) {
        const GSymbol& s = seq[i];
        const bool tight_i = tight_at(seq, i, tight);
        const std::string space = tight_i ? "" : " ";
        switch (s.kind) {
          case K::TERMINAL:
            items.push_back(gb::lit((no_space_before(s.text) ? "" : space) + printed(s)));
            break;
          case K::NUMBER:
          case K::INTEGER:
          case K::STRING:
            if (!space.empty()) items.push_back(gb::lit(space));
            items.push_back(gb::ref(s.kind == K::NUMBER ? "num" : s.kind == K::INTEGER ? "int" : "str"));
            break;
          case K::RULE: {
            int target = g.find(s.text);
            items.push_back(gb::ref(variant(s.text, tight_i)));
            todo.push_back({target, tight_i});
            break;
          }
        }
      }
      alts.push_back(gb::seq(std::move(items)));
    }
    out.push_back({name, gb::alt(std::move(alts))});
  }
  std::reverse(out.begin() + 1, out.end());  // definition order does not matter; keep root first
  out.push_back({"num", gb::seq({gb::rep(gb::chars({{'0', '9'}}), 1, 9),
                                 gb::opt(gb::seq({gb::lit("."), gb::rep(gb::chars({{'0', '9'}}), 1, 4)}))})});
  out.push_back({"int", gb::seq({gb::chars({{'1', '9'}}), gb::rep(gb::chars({{'0', '9'}}), 0, 2)})});
  out.push_back({"str", gb::seq({gb::lit("'"),
                                 gb::rep(gb::alt({gb::chars({{'\'', '\''}, {0, 0x1f}}, true), gb::lit("''")}),
                                         0, lim.max_string_chars),
                                 gb::lit("'")})});
  return out;
}

Result<int> max_sentence_bytes(const Grammar& g, const DecodeLimits& lim) {
  // Every symbol is counted with a leading space: an upper bound of the printed form.
  std::map<int, int> memo;
  std::set<int> active;
  std::function<Result<int>(int)> rule_max = [&](int ri) -> Result<int> {
    if (auto it = memo.find(ri); it != memo.end()) return it->second;
    if (!active.insert(ri).second)
      return Error(ErrorCode::INTERNAL,
                   "decoding grammar: rule '" + g.rules[static_cast<size_t>(ri)].name + "' is recursive");
    int best = 0;
    for (const Seq& seq : g.rules[static_cast<size_t>(ri)].alternatives) {
      int n = 0;
      for (const GSymbol& s : seq) {
        switch (s.kind) {
          case K::TERMINAL:
            n += 1 + static_cast<int>(printed(s).size());
            break;
          case K::NUMBER:
            n += 1 + 9 + 1 + 4;
            break;
          case K::INTEGER:
            n += 1 + 3;
            break;
          case K::STRING:
            n += 1 + 2 + 4 * lim.max_string_chars;
            break;  // a character is at most 4 bytes ("''" is 2)
          case K::RULE: {
            int target = g.find(s.text);
            if (target < 0) return Error(ErrorCode::INTERNAL, "decoding grammar: no rule '" + s.text + "'");
            MOERAG_ASSIGN_OR_RETURN(int m, rule_max(target));
            n += m;
            break;
          }
        }
      }
      best = std::max(best, n);
    }
    active.erase(ri);
    memo[ri] = best;
    return best;
  };
  return rule_max(0);
}

}  // namespace moerag::sql_assist
