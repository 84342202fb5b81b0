// Rendering the parser's Query to SQL: the tables it touches are connected along
// the shortest foreign-key paths (T1, T2, ... aliases when more than one), then
// SELECT / WHERE / GROUP BY / HAVING / ORDER BY / LIMIT, and an English summary.
#include "apps/sql_assist/query_ir.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "apps/sql_assist/words.h"

namespace moerag::sql_assist {
namespace {

struct Edge {
  int to;
  int from_col, to_col;  // column in this table, column in `to`
};

std::vector<std::vector<Edge>> fk_graph(const Catalog& cat) {
  std::vector<std::vector<Edge>> g(cat.info.tables.size());
  for (const auto& fk : cat.info.foreign_keys) {
    int a = cat.table_index(fk.from_table), b = cat.table_index(fk.to_table);
    int ac = cat.column_index(a, fk.from_column), bc = cat.column_index(b, fk.to_column);
    if (a < 0 || b < 0 || ac < 0 || bc < 0 || a == b) continue;
    g[a].push_back({b, ac, bc});
    g[b].push_back({a, bc, ac});
  }
  return g;
}

// Shortest path from any table in `have` to `target`; the edges to add, in order.
std::vector<std::pair<int, Edge>> path_to(const std::vector<std::vector<Edge>>& g, const std::vector<int>& have, int target) {
  std::map<int, std::pair<int, Edge>> prev;
  std::deque<int> q(have.begin(), have.end());
  std::set<int> seen(have.begin(), have.end());
  while (!q.empty()) {
    int u = q.front();
    q.pop_front();
    if (u == target) break;
    for (const auto& e : g[u])
      if (seen.insert(e.to).second) {
        prev[e.to] = {u, e};
        q.push_back(e.to);
      }
  }
  std::vector<std::pair<int, Edge>> out;
  if (!seen.count(target)) return out;
  for (int v = target; prev.count(v); v = prev[v].first) out.push_back(prev[v]);
  std::reverse(out.begin(), out.end());
  return out;
}

const char* agg_name(Agg a) {
  switch (a) {
    case Agg::COUNT: return "count";
    case Agg::SUM: return "sum";
    case Agg::AVG: return "avg";
    case Agg::MIN: return "min";
    case Agg::MAX: return "max";
    default: return "";
  }
}

const char* agg_words(Agg a) {
  switch (a) {
    case Agg::COUNT: return "the number of";
    case Agg::SUM: return "the total";
    case Agg::AVG: return "the average";
    case Agg::MIN: return "the minimum";
    case Agg::MAX: return "the maximum";
    default: return "";
  }
}

bool plain_ident(const std::string& s) {
  static const std::set<std::string> kReserved = {"order", "group", "select", "from", "where", "by", "limit", "table",
                                                  "join", "on", "as", "and", "or", "not", "in", "is", "like", "between",
                                                  "having", "union", "values", "default", "check", "index", "key"};
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !kReserved.count(l);
}

std::string ident(const std::string& s) { return plain_ident(s) ? s : quote_ident(s); }

}  // namespace

std::string quote_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string sql_literal(const ColumnInfo& c, const std::string& value) {
  if (c.numeric) {
    if (auto n = parse_number(value)) {
      char buf[64];
      if (*n == static_cast<double>(static_cast<int64_t>(*n))) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(*n));
      else std::snprintf(buf, sizeof buf, "%g", *n);
      return buf;
    }
  }
  return quote_string(value);
}

Result<Rendered> render_query(const Query& q, const Catalog& cat) {
  // Tables: the main one, then every table a column refers to, joined along FK paths.
  std::vector<int> need = q.tables;
  auto add = [&](const ColRef& c) {
    if (c.table >= 0 && std::find(need.begin(), need.end(), c.table) == need.end()) need.push_back(c.table);
  };
  for (const auto& s : q.select) add(s.col);
  for (const auto& c : q.where) add(c.col);
  for (const auto& c : q.having) add(c.col);
  for (const auto& c : q.group_by) add(c);
  if (q.has_order) add(q.order.col);
  if (need.empty()) return Error(ErrorCode::INVALID_INPUT, "no table to query");
  auto g = fk_graph(cat);
  std::vector<int> have = {need[0]};
  std::vector<std::pair<int, Edge>> joins;  // (existing table, edge to new table)
  for (size_t i = 1; i < need.size(); ++i) {
    if (std::find(have.begin(), have.end(), need[i]) != have.end()) continue;
    auto p = path_to(g, have, need[i]);
    if (p.empty())
      return Error(ErrorCode::INVALID_INPUT, "tables " + cat.info.tables[need[0]].name + " and " +
                                                 cat.info.tables[need[i]].name + " are not connected by foreign keys");
    for (auto& step : p) {
      if (std::find(have.begin(), have.end(), step.second.to) != have.end()) continue;
      have.push_back(step.second.to);
      joins.push_back(step);
    }
  }
  const bool multi = have.size() > 1;
  std::map<int, std::string> alias;
  for (size_t i = 0; i < have.size(); ++i) alias[have[i]] = "T" + std::to_string(i + 1);
  auto col = [&](const ColRef& c) -> std::string {
    if (c.column < 0) return "*";
    std::string name = ident(cat.column(c.table, c.column).name);
    return multi ? alias[c.table] + "." + name : name;
  };
  auto item = [&](const SelectItem& s) {
    if (s.agg == Agg::NONE) return col(s.col);
    return std::string(agg_name(s.agg)) + "(" + (s.distinct ? "DISTINCT " : "") + col(s.col) + ")";
  };
  auto cond = [&](const Cond& c) {
    std::string lhs = c.agg == Agg::NONE ? col(c.col) : item(SelectItem{c.agg, c.col, false});
    if (!c.sub_sql.empty()) return lhs + " " + c.op + " (" + c.sub_sql + ")";
    if (c.op == "BETWEEN") return lhs + " BETWEEN " + c.lit + " AND " + c.lit2;
    return lhs + " " + c.op + " " + c.lit;
  };
  auto conds = [&](const std::vector<Cond>& cs) {
    std::string out;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (i) out += cs[i].or_prev ? " OR " : " AND ";
      out += cond(cs[i]);
    }
    return out;
  };
  std::string sql = "SELECT ";
  if (q.distinct) sql += "DISTINCT ";
  for (size_t i = 0; i < q.select.size(); ++i) sql += (i ? ", " : "") + item(q.select[i]);
  sql += " FROM " + ident(cat.info.tables[have[0]].name) + (multi ? " AS T1" : "");
  for (const auto& [from, e] : joins) {
    int to = e.to;
    sql += " JOIN " + ident(cat.info.tables[to].name) + " AS " + alias[to] + " ON " + alias[from] + "." +
           ident(cat.column(from, e.from_col).name) + " = " + alias[to] + "." + ident(cat.column(to, e.to_col).name);
  }
  if (!q.where.empty()) sql += " WHERE " + conds(q.where);
  if (!q.group_by.empty()) {
    sql += " GROUP BY ";
    for (size_t i = 0; i < q.group_by.size(); ++i) sql += (i ? ", " : "") + col(q.group_by[i]);
  }
  if (!q.having.empty()) sql += " HAVING " + conds(q.having);
  if (q.has_order) sql += " ORDER BY " + item(q.order) + (q.desc ? " DESC" : " ASC");
  if (q.limit > 0) sql += " LIMIT " + std::to_string(q.limit);

  // Explanation in plain words.
  auto name_of = [&](const SelectItem& s) {
    std::string n = s.col.column < 0 ? "rows" : cat.column(s.col.table, s.col.column).name;
    return s.agg == Agg::NONE ? n : std::string(agg_words(s.agg)) + " " + (s.distinct ? "distinct " : "") + n;
  };
  std::string ex = "Finds ";
  for (size_t i = 0; i < q.select.size(); ++i) ex += (i ? ", " : "") + name_of(q.select[i]);
  ex += " from " + cat.info.tables[have[0]].name;
  for (size_t i = 1; i < have.size(); ++i) ex += (i + 1 == have.size() ? " joined with " : ", ") + cat.info.tables[have[i]].name;
  if (!q.where.empty()) ex += " where " + conds(q.where);
  if (!q.group_by.empty()) ex += ", for each " + col(q.group_by[0]);
  if (!q.having.empty()) ex += " keeping groups where " + conds(q.having);
  if (q.has_order) ex += std::string(", ") + (q.limit == 1 ? (q.desc ? "taking the highest " : "taking the lowest ")
                                                          : (q.desc ? "sorted descending by " : "sorted ascending by ")) +
                         name_of(q.order);
  if (q.limit > 1) ex += ", first " + std::to_string(q.limit);
  ex += ".";
  return Rendered{sql, ex};
}

}  // namespace moerag::sql_assist
