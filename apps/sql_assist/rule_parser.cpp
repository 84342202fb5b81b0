// The rule-based NL-to-SQL parser. Passes over the linked question, each giving
// roles to mentions: limits ("top 5"), numeric comparisons and ranges, value
// filters, "than the average" subqueries, counts and aggregates, superlatives,
// grouping, ordering and negation; then the main table and defaults are settled.
#include "apps/sql_assist/rule_parser.h"

#include <algorithm>
#include <initializer_list>
#include <set>

namespace moerag::sql_assist {
namespace {

using Kind = Candidate::Kind;

bool in(const std::string& w, std::initializer_list<const char*> set) {
  for (const char* s : set)
    if (w == s) return true;
  return false;
}

// Superlative / comparative words: direction and, for adjectives, the column words they imply.
struct Degree {
  bool desc = true;
  std::vector<std::string> implied;  // column words when no column is named
};

bool degree_of(const std::string& w, Degree& d) {
  static const std::vector<std::tuple<std::vector<std::string>, bool, std::vector<std::string>>> kTable = {
      {{"highest", "largest", "biggest", "greatest", "most", "maximum", "max", "top", "best"}, true, {}},
      {{"lowest", "smallest", "least", "fewest", "minimum", "min", "worst"}, false, {}},
      {{"oldest", "older", "eldest"}, true, {"age"}},
      {{"youngest", "younger"}, false, {"age"}},
      {{"tallest", "taller"}, true, {"height"}},
      {{"shortest", "shorter"}, false, {"height", "length", "duration"}},
      {{"longest", "longer"}, true, {"length", "duration"}},
      {{"heaviest", "heavier"}, true, {"weight"}},
      {{"lightest", "lighter"}, false, {"weight"}},
      {{"cheapest", "cheaper"}, false, {"price", "cost"}},
      {{"expensive"}, true, {"price", "cost"}},
      {{"latest", "newest", "recent"}, true, {"year", "date"}},
      {{"earliest"}, false, {"year", "date"}},
      {{"richest", "richer"}, true, {"money", "wealth", "worth"}},
      {{"larger", "bigger"}, true, {"size", "area", "capacity", "population"}},
      {{"smaller"}, false, {"size", "area", "capacity", "population"}}};
  for (const auto& [words, desc, implied] : kTable)
    if (std::find(words.begin(), words.end(), w) != words.end()) {
      d.desc = desc;
      d.implied = implied;
      if (implied.empty() && in(w, {"largest", "biggest", "smallest"})) d.implied = {"size", "area", "capacity", "population"};
      return true;
    }
  return false;
}

// Comparison words before a number: the operator, and how many tokens they take.
std::string comparator(const std::string& w) {
  if (in(w, {"more", "greater", "larger", "bigger", "higher", "over", "above", "exceed", "exceeding", "after", "older",
             "taller", "longer", "heavier", "later", "beyond"}))
    return ">";
  if (in(w, {"less", "fewer", "smaller", "lower", "below", "under", "before", "younger", "shorter", "lighter", "cheaper",
             "earlier"}))
    return "<";
  return "";
}

struct Parser {
  const Linking& L;
  const Catalog& cat;
  int n = 0;
  std::vector<Kind> kind;        // [n_mention] chosen kind (VALUE for numbers too)
  std::vector<bool> used;        // [n_mention] a role was given
  std::vector<int> tables_named; // tables mentioned by name
  Query q;
  int count_table = -1;
  int head_end = 0;
  bool group_count = false;      // superlative over the number of rows of a table
  bool group_desc = true;
  std::string decline;

  const std::string& w(int i) const {
    static const std::string kEmpty;
    return i >= 0 && i < n ? L.tokens[i].stem : kEmpty;
  }
  std::vector<int> at;  // [n_token] mention index or -1; aggregate words freed from column links
  int mention(int i) const { return i >= 0 && i < n ? at[i] : -1; }
  bool is_num(int mi) const { return mi >= 0 && L.mentions[mi].number; }
  bool is_kind(int mi, Kind k) const { return mi >= 0 && !is_num(mi) && kind[mi] == k; }

  void classify() {
    for (const auto& m : L.mentions) {
      Kind k = m.cands.empty() ? Kind::VALUE : m.cands[0].kind;
      kind.push_back(k);
      if (k == Kind::TABLE && m.cands[0].score >= 0.7) tables_named.push_back(m.cands[0].table);
    }
    used.assign(L.mentions.size(), false);
    at = L.mention_at;
    // "average age": a column literally named Average must not swallow the aggregate word.
    for (size_t mi = 0; mi < L.mentions.size(); ++mi) {
      const Mention& m = L.mentions[mi];
      if (m.end - m.start != 1 || !in(w(m.start), {"average", "mean", "total", "sum", "maximum", "minimum", "count"})) continue;
      int next = -1;
      for (int j = m.end; j < n && j <= m.end + 2; ++j)
        if (at[j] >= 0) { next = at[j]; break; }
      if (next >= 0 && !L.mentions[next].number && kind[next] == Kind::COLUMN) at[m.start] = -1, used[mi] = true;
    }
  }

  bool preferred(int t) const {
    return std::find(tables_named.begin(), tables_named.end(), t) != tables_named.end() ||
           std::find(q.tables.begin(), q.tables.end(), t) != q.tables.end() || t == count_table;
  }

  ColRef resolve_column(int mi, bool want_numeric = false) const {
    const auto& cs = L.mentions[mi].cands;
    const Candidate* best = nullptr;
    double best_key = -1;
    for (const auto& c : cs) {
      if (c.kind != Kind::COLUMN) continue;
      double key = c.score + (preferred(c.table) ? 0.5 : 0) + (want_numeric && cat.column(c.table, c.column).numeric ? 0.3 : 0);
      if (key > best_key) { best_key = key; best = &c; }
    }
    return best ? ColRef{best->table, best->column} : ColRef{};
  }

  int resolve_table(int mi) const { return L.mentions[mi].cands[0].table; }

  // The next mention starting within `window` tokens after position i (skipping filler words).
  int next_mention(int i, int window) const {
    for (int j = i + 1; j < n && j <= i + window; ++j)
      if (mention(j) >= 0) return mention(j);
    return -1;
  }

  int name_column(int t) const {
    const auto& cols = cat.info.tables[t].columns;
    for (int pass = 0; pass < 3; ++pass)
      for (size_t c = 0; c < cols.size(); ++c) {
        const auto& ws = cat.column_words[t][c];
        bool has_name = std::find(ws.begin(), ws.end(), "name") != ws.end() || std::find(ws.begin(), ws.end(), "title") != ws.end();
        if ((pass == 0 && has_name && ws.size() == 1) || (pass == 1 && has_name) ||
            (pass == 2 && !cols[c].numeric && !cols[c].primary_key))
          return static_cast<int>(c);
      }
    return 0;
  }

  int pk_column(int t) const {
    const auto& cols = cat.info.tables[t].columns;
    for (size_t c = 0; c < cols.size(); ++c)
      if (cols[c].primary_key) return static_cast<int>(c);
    return name_column(t);
  }

  // A numeric column whose words include one of `words`, in the named tables first.
  ColRef implied_column(const std::vector<std::string>& words) const {
    std::vector<int> order = tables_named;
    for (int t : q.tables) order.push_back(t);
    for (size_t t = 0; t < cat.info.tables.size(); ++t) order.push_back(static_cast<int>(t));
    for (int t : order)
      for (size_t c = 0; c < cat.column_words[t].size(); ++c) {
        if (!cat.column(t, static_cast<int>(c)).numeric && !in(words.empty() ? "" : words[0], {"year", "date"})) continue;
        for (const auto& cw : cat.column_words[t][c])
          if (std::find(words.begin(), words.end(), cw) != words.end()) return {t, static_cast<int>(c)};
      }
    return {};
  }

  void find_head_end() {
    head_end = n;
    for (int i = 1; i < n; ++i)
      if (in(w(i), {"who", "that", "whose", "where", "with", "having", "than", "whom", "when", "if", "has", "have",
                    "had", "in", "from", "by", "after", "before", "without", "between", "above", "below", "order",
                    "sorted", "ordered"})) {
        head_end = i;
        return;
      }
  }

  void add_cond(Cond c, int at) {
    // "2014 or 2015": OR when an "or" sits between this and the previous condition.
    if (!q.where.empty())
      for (int j = at - 1; j >= 0 && j >= at - 3; --j)
        if (w(j) == "or") c.or_prev = true;
    q.where.push_back(std::move(c));
  }

  void pass_limits() {
    for (int i = 0; i + 1 < n; ++i) {
      if (!in(w(i), {"top", "first"})) continue;
      int mi = mention(i + 1);
      if (is_num(mi) && !used[mi]) {
        q.limit = static_cast<int>(L.mentions[mi].num);
        used[mi] = true;
      }
    }
    for (int i = 0; i + 1 < n; ++i) {  // "the 3 oldest", "5 most populous"
      int mi = mention(i);
      Degree d;
      if (is_num(mi) && !used[mi] && (degree_of(w(i + 1), d) || (w(i + 1) == "most" || w(i + 1) == "least"))) {
        q.limit = static_cast<int>(L.mentions[mi].num);
        used[mi] = true;
      }
    }
  }

  ColRef column_near(int from, int to, bool numeric) {
    for (int j = to; j >= from; --j) {
      int mi = mention(j);
      if (is_kind(mi, Kind::COLUMN)) {
        ColRef c = resolve_column(mi, numeric);
        if (c.table >= 0 && (!numeric || cat.column(c.table, c.column).numeric)) {
          used[mi] = true;
          return c;
        }
      }
    }
    return {};
  }

  ColRef column_for_number(int k, double v, const std::string& adjective) {
    ColRef c = column_near(std::max(0, k - 5), k - 1, true);
    if (c.table < 0) {
      int mi = next_mention(k, 2);
      if (is_kind(mi, Kind::COLUMN)) {
        c = resolve_column(mi, true);
        if (c.table >= 0) used[mi] = true;
      }
    }
    Degree d;
    if (c.table < 0 && degree_of(adjective, d) && !d.implied.empty()) c = implied_column(d.implied);
    if (c.table < 0 && v >= 1000 && v <= 2100 && v == static_cast<int>(v)) c = implied_column({"year", "date"});
    return c;
  }

  void pass_numbers() {
    for (int k = 0; k < n; ++k) {
      int mi = mention(k);
      if (!is_num(mi) || used[mi]) continue;
      double v = L.mentions[mi].num;
      // "between A and B"
      bool between = w(k - 1) == "between" || w(k - 2) == "between" || w(k - 3) == "between";
      if (between && w(k + 1) == "and" && is_num(mention(k + 2))) {
        ColRef c = column_for_number(k, v, "");
        if (c.table < 0) { decline = "found a range but not which column it limits"; return; }
        Cond cd{c, Agg::NONE, "BETWEEN", L.tokens[k].lower, L.tokens[k + 2].lower, "", false};
        add_cond(cd, k);
        used[mi] = used[mention(k + 2)] = true;
        continue;
      }
      // A count condition: "more than 2 concerts" -> HAVING count(*) > 2.
      std::string op, adjective;
      int stop = std::max(0, k - 4);
      for (int j = k - 1; j >= stop; --j) {
        std::string c = comparator(w(j));
        if (!c.empty()) { op = c; adjective = w(j); break; }
        if (in(w(j), {"least"}) && w(j - 1) == "at") { op = ">="; break; }
        if (in(w(j), {"most"}) && w(j - 1) == "at") { op = "<="; break; }
        if (is_num(mention(j)) || is_kind(mention(j), Kind::VALUE)) break;
      }
      if (w(k + 1) == "or" && in(w(k + 2), {"more", "greater", "higher", "above", "older", "later", "after"})) op = ">=";
      if (w(k + 1) == "or" && in(w(k + 2), {"less", "fewer", "lower", "below", "younger", "earlier", "before"})) op = "<=";
      if (op.empty() && in(w(k + 1), {"above"})) op = ">";
      if (op.empty() && in(w(k + 1), {"below"})) op = "<";
      if (w(k - 1) == "not" || w(k - 2) == "not") op = op == ">" ? "<=" : op == "<" ? ">=" : "!=";
      int after = mention(k + 1);
      if (is_kind(after, Kind::TABLE) && !op.empty()) {
        q.having.push_back({ColRef{-1, -1}, Agg::COUNT, op, L.tokens[k].lower, "", "", false});
        count_table = count_table < 0 ? resolve_table(after) : count_table;
        used[mi] = used[after] = true;
        continue;
      }
      if (op.empty()) op = "=";
      ColRef c = column_for_number(k, v, adjective);
      if (c.table < 0) { decline = "found the number " + L.tokens[k].text + " but not which column it refers to"; return; }
      add_cond({c, Agg::NONE, op, sql_literal(cat.column(c.table, c.column), L.tokens[k].lower), "", "", false}, k);
      used[mi] = true;
    }
  }

  void pass_values() {
    for (size_t mi = 0; mi < L.mentions.size(); ++mi) {
      if (used[mi] || is_num(static_cast<int>(mi)) || kind[mi] != Kind::VALUE) continue;
      const Mention& m = L.mentions[mi];
      const Candidate* best = nullptr;
      for (const auto& c : m.cands)
        if (c.kind == Kind::VALUE && (!best || (preferred(c.table) && !preferred(best->table)))) best = &c;
      if (!best) continue;
      int s = m.start;
      bool neg = false, like = false;
      for (int j = s - 1; j >= 0 && j >= s - 3; --j) {
        if (in(w(j), {"not", "except", "other", "isn't", "aren't", "excluding", "n't"})) neg = true;
        if (in(w(j), {"contain", "containing", "include", "including", "like", "substring", "word"})) like = true;
      }
      ColRef col{best->table, best->column};
      if (col.table < 0) {  // quoted text not found in the index: a LIKE on a name column
        int t = !tables_named.empty() ? tables_named[0] : -1;
        if (t < 0) continue;
        col = {t, name_column(t)};
        like = true;
      }
      Cond c;
      c.col = col;
      c.op = like ? (neg ? "NOT LIKE" : "LIKE") : (neg ? "!=" : "=");
      c.lit = like ? quote_string("%" + best->value + "%") : sql_literal(cat.column(col.table, col.column), best->value);
      add_cond(c, s);
      used[mi] = true;
    }
  }

  void pass_average_subquery() {
    for (int i = 0; i + 1 < n; ++i) {
      std::string op = comparator(w(i));
      if (op.empty()) continue;
      int j = i + 1;
      while (j < n && in(w(j), {"than", "the", "that", "of", "an", "a"})) ++j;
      if (!in(w(j), {"average", "mean"})) continue;
      Degree d;
      ColRef c = column_near(std::max(0, i - 4), i - 1, true);
      if (c.table < 0) {
        int mi = next_mention(j, 3);
        if (is_kind(mi, Kind::COLUMN)) { c = resolve_column(mi, true); used[mi] = true; }
      }
      if (c.table < 0 && degree_of(w(i), d)) c = implied_column(d.implied);
      if (c.table < 0) continue;
      const auto& col = cat.column(c.table, c.column);
      std::string sub = "SELECT avg(" + quote_ident(col.name) + ") FROM " + quote_ident(cat.info.tables[c.table].name);
      add_cond({c, Agg::NONE, op, "", "", sub, false}, i);
      L_avg_used.insert(j);
    }
  }
  std::set<int> L_avg_used;  // "average" tokens consumed by a subquery

  void select_agg(Agg a, int mi, bool distinct) {
    ColRef c = resolve_column(mi, a != Agg::COUNT);
    if (c.table < 0) return;
    q.select.push_back({a, c, distinct});
    used[mi] = true;
  }

  void pass_aggregates_and_superlatives() {
    std::vector<Agg> pending;
    for (int i = 0; i < n; ++i) {
      if (mention(i) >= 0 || L_avg_used.count(i)) continue;
      const std::string& t = w(i);
      bool count_cue = (t == "how" && w(i + 1) == "many") || t == "count" || (t == "number" && w(i + 1) == "of");
      if (count_cue) {
        int skip = (t == "count") ? i : i + 1;
        bool distinct = false;
        int j = skip + 1;
        while (j < n && mention(j) < 0 && j <= skip + 3) {
          if (in(w(j), {"different", "distinct", "unique"})) distinct = true;
          ++j;
        }
        int mi = j < n ? mention(j) : -1;
        if (is_kind(mi, Kind::TABLE) && !used[mi]) {
          count_table = resolve_table(mi);
          used[mi] = true;
          q.select.push_back({Agg::COUNT, {-1, -1}, false});
        } else if (is_kind(mi, Kind::COLUMN) && distinct) {
          select_agg(Agg::COUNT, mi, true);
        } else {
          q.select.push_back({Agg::COUNT, {-1, -1}, false});
        }
        i = skip;
        continue;
      }
      Agg a = Agg::NONE;
      if (in(t, {"average", "mean", "avg"})) a = Agg::AVG;
      else if (in(t, {"total", "sum", "combined"})) a = Agg::SUM;
      Degree d;
      bool sup = degree_of(t, d) && !in(t, {"older", "younger", "taller", "shorter", "longer", "heavier", "lighter",
                                            "cheaper", "richer", "larger", "bigger", "smaller"});
      bool relative = i >= head_end;
      for (int j = std::max(0, i - 3); j < i; ++j)
        if (in(w(j), {"with", "has", "have", "had", "whose", "who", "that", "which"}) && j > 0) relative = true;
      if (sup && !relative && in(t, {"maximum", "max", "highest", "largest", "biggest", "greatest", "minimum", "min",
                                     "lowest", "smallest"})) {
        int mi = next_mention(i, 3);
        if (is_kind(mi, Kind::COLUMN)) a = d.desc ? Agg::MAX : Agg::MIN;
      }
      if (a != Agg::NONE) {
        pending.push_back(a);
        int mi = -1;
        for (int j = i + 1; j < n && j <= i + 6; ++j) {
          if (mention(j) >= 0) { mi = mention(j); break; }
          if (!in(w(j), {"and", "the", "of", ",", "average", "mean", "total", "sum", "maximum", "max", "minimum", "min",
                         "highest", "lowest", "number", "all"}))
            break;
        }
        if (is_kind(mi, Kind::COLUMN) && !used[mi]) {
          for (Agg p : pending) select_agg(p, mi, false), used[mi] = false;
          used[mi] = true;
          pending.clear();
        }
        continue;
      }
      if (sup) superlative(i, d);
    }
  }

  void superlative(int i, const Degree& d) {
    int j = i + 1;
    while (j < n && in(w(j), {"number", "of", "amount", "the", "count", "total"}) && mention(j) < 0) ++j;
    int mi = j < n ? mention(j) : -1;
    if (j - i > 3) mi = -1;
    if (is_kind(mi, Kind::COLUMN) && !used[mi]) {
      ColRef c = resolve_column(mi, true);
      if (c.table >= 0 && cat.column(c.table, c.column).numeric) {
        q.has_order = true;
        q.order = {Agg::NONE, c, false};
        q.desc = d.desc;
        if (q.limit == 0) q.limit = 1;
        used[mi] = true;
        return;
      }
    }
    if (is_kind(mi, Kind::TABLE) && !used[mi] && !d.implied.empty()) {  // "the oldest singer"
      int tb = resolve_table(mi);
      ColRef c = implied_column(d.implied);
      if (c.table == tb || c.table < 0) {
        if (c.table >= 0) {
          q.has_order = true;
          q.order = {Agg::NONE, c, false};
          q.desc = d.desc;
          if (q.limit == 0) q.limit = 1;
        }
        return;
      }
    }
    if (is_kind(mi, Kind::TABLE) && !used[mi]) {
      group_count = true;
      group_desc = d.desc;
      count_table = count_table < 0 ? resolve_table(mi) : count_table;
      used[mi] = true;
      return;
    }
    if (!d.implied.empty() && !q.has_order) {
      ColRef c = implied_column(d.implied);
      if (c.table >= 0) {
        q.has_order = true;
        q.order = {Agg::NONE, c, false};
        q.desc = d.desc;
        if (q.limit == 0) q.limit = 1;
      }
    }
  }

  void pass_group_order_negation() {
    for (int i = 0; i < n; ++i) {
      if (mention(i) >= 0) continue;
      const std::string& t = w(i);
      if (in(t, {"each", "per", "every"}) || (t == "by" && !in(w(i - 1), {"order", "ordered", "sort", "sorted", "rank", "ranked"}) &&
                                            !q.select.empty() && q.select[0].agg != Agg::NONE)) {
        int mi = next_mention(i, 2);
        if (mi < 0 || used[mi]) continue;
        if (is_kind(mi, Kind::COLUMN)) {
          ColRef c = resolve_column(mi);
          if (c.table >= 0) q.group_by.push_back(c), q.select.insert(q.select.begin(), {Agg::NONE, c, false});
          used[mi] = true;
        } else if (is_kind(mi, Kind::TABLE)) {
          int tb = resolve_table(mi);
          q.group_by.push_back({tb, pk_column(tb)});
          q.select.insert(q.select.begin(), {Agg::NONE, {tb, name_column(tb)}, false});
          used[mi] = true;
        }
      } else if (in(t, {"order", "ordered", "sort", "sorted", "rank", "ranked", "arrange", "arranged"})) {
        for (int j = i + 1; j < n && j <= i + 7; ++j) {
          int mi = mention(j);
          if (is_kind(mi, Kind::COLUMN)) {
            ColRef c = resolve_column(mi);
            if (c.table < 0) break;
            q.has_order = true;
            q.order = {Agg::NONE, c, false};
            used[mi] = true;
            break;
          }
          if (w(j) == "number" || w(j) == "count") {
            q.has_order = true;
            q.order = {Agg::COUNT, {-1, -1}, false};
            break;
          }
        }
        q.desc = false;
        for (int j = 0; j < n; ++j)
          if (in(w(j), {"descending", "desc", "decreasing", "reverse"}) ||
              (w(j) == "from" && in(w(j + 1) == "the" ? w(j + 2) : w(j + 1), {"highest", "most", "largest", "oldest", "biggest", "high", "greatest", "latest", "newest"})))
            q.desc = true;
      } else if (in(t, {"without", "no", "not", "never"})) {
        int mi = next_mention(i, 4);
        if (!is_kind(mi, Kind::TABLE) || used[mi]) continue;
        negation_ = resolve_table(mi);
        used[mi] = true;
      }
    }
  }
  int negation_ = -1;

  // "stadiums without concerts": main.key NOT IN (SELECT fk FROM other).
  void apply_negation(int main) {
    if (negation_ < 0 || negation_ == main) return;
    for (const auto& fk : cat.info.foreign_keys) {
      int from = cat.table_index(fk.from_table), to = cat.table_index(fk.to_table);
      if (from == negation_ && to == main) {
        Cond c;
        c.col = {main, cat.column_index(main, fk.to_column)};
        c.op = "NOT IN";
        c.sub_sql = "SELECT " + quote_ident(fk.from_column) + " FROM " + quote_ident(fk.from_table);
        q.where.push_back(c);
        return;
      }
    }
  }

  void pass_select_columns() {
    for (size_t mi = 0; mi < L.mentions.size(); ++mi) {
      if (used[mi] || is_num(static_cast<int>(mi)) || L.mentions[mi].start >= head_end) continue;
      if (kind[mi] == Kind::COLUMN) {
        ColRef c = resolve_column(static_cast<int>(mi));
        if (c.table < 0) continue;
        bool dup = false;
        for (const auto& s : q.select) dup = dup || (s.agg == Agg::NONE && s.col == c);
        if (!dup) q.select.push_back({Agg::NONE, c, false});
        used[mi] = true;
      } else if (kind[mi] == Kind::TABLE && q.select.empty()) {
        int t = resolve_table(static_cast<int>(mi));
        q.tables.insert(q.tables.begin(), t);
      }
    }
  }

  bool finish() {
    int main = count_table;
    if (main < 0 && !q.tables.empty()) main = q.tables[0];
    if (main < 0)
      for (const auto& s : q.select)
        if (s.col.table >= 0) { main = s.col.table; break; }
    if (main < 0 && !tables_named.empty()) main = tables_named[0];
    if (main < 0 && !q.where.empty()) main = q.where[0].col.table;
    if (main < 0) {
      decline = "could not tell which table the question is about";
      return false;
    }
    q.tables.erase(std::remove(q.tables.begin(), q.tables.end(), main), q.tables.end());
    q.tables.insert(q.tables.begin(), main);
    if (count_table >= 0 && count_table != main) q.tables.push_back(count_table);
    apply_negation(main);
    bool any_plain = false, any_agg = false;
    for (const auto& s : q.select) (s.agg == Agg::NONE ? any_plain : any_agg) = true;
    if (q.select.empty() || (!any_plain && !any_agg)) {
      int t = main;
      q.select.push_back({Agg::NONE, {t, name_column(t)}, false});
      any_plain = true;
    }
    if (group_count) {
      if (q.group_by.empty()) {
        for (const auto& s : q.select)
          if (s.agg == Agg::NONE) q.group_by.push_back(s.col);
        if (q.group_by.empty()) q.group_by.push_back({main, pk_column(main)});
      }
      q.has_order = true;
      q.order = {Agg::COUNT, {-1, -1}, false};
      q.desc = group_desc;
      if (q.limit == 0) q.limit = 1;
    }
    if (!q.having.empty() && q.group_by.empty()) {
      for (const auto& s : q.select)
        if (s.agg == Agg::NONE) q.group_by.push_back(s.col);
      if (q.group_by.empty()) q.group_by.push_back({main, pk_column(main)});
    }
    if (!any_agg && !group_count && q.having.empty()) q.group_by.clear();
    if (any_plain && any_agg && q.group_by.empty())
      for (const auto& s : q.select)
        if (s.agg == Agg::NONE) q.group_by.push_back(s.col);
    if (q.has_order && q.order.agg == Agg::COUNT && q.group_by.empty() && !any_agg) q.has_order = false;
    for (int i = 0; i < n; ++i)
      if (in(w(i), {"distinct", "different", "unique"}) && !any_agg) q.distinct = true;
    return true;
  }

  ParseOutcome run() {
    n = static_cast<int>(L.tokens.size());
    classify();
    find_head_end();
    for (int i = 0; i < n; ++i)
      if (in(w(i), {"both", "intersect", "union"}) || (w(i) == "but" && w(i + 1) == "not"))
        return {false, {}, "questions that combine two result sets (both / but not) are beyond the rule parser"};
    pass_limits();
    pass_average_subquery();
    pass_numbers();
    if (!decline.empty()) return {false, {}, decline};
    pass_values();
    pass_aggregates_and_superlatives();
    pass_group_order_negation();
    pass_select_columns();
    if (!finish()) return {false, {}, decline};
    return {true, q, ""};
  }
};

}  // namespace

ParseOutcome parse_question(const Linking& linking, const Catalog& cat) {
  Parser p{linking, cat};
  return p.run();
}

}  // namespace moerag::sql_assist
