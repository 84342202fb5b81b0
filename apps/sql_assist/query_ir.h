// Internal: the small query structure the rule parser builds (select items,
// conditions, grouping, ordering) and its rendering to SQLite SQL with joins along
// foreign-key paths, plus the one-line English explanation of what it does.
#pragma once

#include <string>
#include <vector>

#include "apps/sql_assist/catalog.h"

namespace moerag::sql_assist {

enum class Agg { NONE, COUNT, SUM, AVG, MIN, MAX };

/// A column of a table; column -1 means `*` (only with COUNT).
struct ColRef {
  int table = -1;
  int column = -1;
  bool operator==(const ColRef& o) const { return table == o.table && column == o.column; }
};

struct SelectItem {
  Agg agg = Agg::NONE;
  ColRef col;
  bool distinct = false;  ///< count(DISTINCT col)
};

/// col op literal; op is = != < > <= >= LIKE BETWEEN or NOT IN / IN with sub_sql.
struct Cond {
  ColRef col;
  Agg agg = Agg::NONE;  ///< HAVING conditions aggregate (COUNT with col.column -1: count(*))
  std::string op = "=";
  std::string lit, lit2;  ///< SQL literals (already quoted)
  std::string sub_sql;    ///< a scalar or list subquery instead of lit
  bool or_prev = false;   ///< joined to the previous condition with OR
};

struct Query {
  std::vector<SelectItem> select;
  bool distinct = false;
  std::vector<int> tables;  ///< tables that must be in FROM (main table first)
  std::vector<Cond> where;
  std::vector<ColRef> group_by;
  std::vector<Cond> having;
  bool has_order = false;
  SelectItem order;
  bool desc = false;
  int limit = 0;  ///< 0: none
};

/// SQL text and explanation.
struct Rendered {
  std::string sql;
  std::string explanation;
};

/// Renders q; INVALID_INPUT when its tables cannot be joined along foreign keys.
Result<Rendered> render_query(const Query& q, const Catalog& cat);

/// A literal for comparing with column c: numbers bare on numeric columns, else quoted.
std::string sql_literal(const ColumnInfo& c, const std::string& value);
/// A quoted SQL string literal.
std::string quote_string(const std::string& s);

}  // namespace moerag::sql_assist
