// Schema introspection: tables from sqlite_master, columns and keys from PRAGMA
// table_info / foreign_key_list (admitted only while introspecting), sample values
// and an index of text values for linking.
#include "apps/sql_assist/catalog.h"

#include <algorithm>

#include "apps/sql_assist/words.h"
#include "core/text.h"

namespace moerag::sql_assist {
namespace {

bool numeric_type(std::string t) {
  t = text::fold_case(t);
  for (const char* k : {"int", "real", "floa", "doub", "num", "dec", "bool"})
    if (t.find(k) != std::string::npos) return true;
  return false;
}

bool case_equal(const std::string& a, const std::string& b) { return text::fold_case(a) == text::fold_case(b); }

Status load_columns(sql::Connection& c, TableInfo& t) {
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare("PRAGMA table_info(" + quote_ident(t.name) + ")"));
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    ColumnInfo col;
    col.name = st.col_text(1);
    col.type = st.col_text(2);
    col.primary_key = st.col_int(5) > 0;
    col.numeric = numeric_type(col.type);
    t.columns.push_back(std::move(col));
  }
  return ok_status();
}

Status load_foreign_keys(sql::Connection& c, const Catalog& cat, const TableInfo& t, std::vector<ForeignKey>& out) {
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare("PRAGMA foreign_key_list(" + quote_ident(t.name) + ")"));
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    ForeignKey fk{t.name, st.col_text(3), st.col_text(2), st.col_null(4) ? "" : st.col_text(4)};
    int to = cat.table_index(fk.to_table);
    if (to < 0) continue;  // dangling reference in the file's schema
    fk.to_table = cat.info.tables[to].name;
    if (fk.to_column.empty()) {  // REFERENCES t without a column means its primary key
      for (const auto& col : cat.info.tables[to].columns)
        if (col.primary_key) fk.to_column = col.name;
    }
    int fc = cat.column_index(cat.table_index(t.name), fk.from_column);
    int tc = cat.column_index(to, fk.to_column);
    if (fc < 0 || tc < 0) continue;
    fk.from_column = t.columns[fc].name;
    fk.to_column = cat.info.tables[to].columns[tc].name;
    out.push_back(std::move(fk));
  }
  return ok_status();
}

// Samples and value index of one column; numeric-looking text columns count as numeric.
Status load_values(sql::Connection& c, Catalog& cat, int ti, int ci, const AssistOptions& o, int& budget) {
  TableInfo& t = cat.info.tables[ti];
  ColumnInfo& col = t.columns[ci];
  if (col.numeric || budget <= 0) return ok_status();
  std::string q = "SELECT DISTINCT " + quote_ident(col.name) + " FROM " + quote_ident(t.name) + " WHERE " +
                  quote_ident(col.name) + " IS NOT NULL LIMIT " + std::to_string(std::max(budget, 1));
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare(q));
  int n = 0, n_numeric = 0;
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    std::string v = st.col_text(0);
    ++n;
    if (parse_number(v)) ++n_numeric;
    if (static_cast<int>(col.samples.size()) < o.sample_values && v.size() <= 80) col.samples.push_back(v);
    std::string key = text::fold_case(text::trim(v));
    if (key.empty() || key.size() > 120) continue;
    cat.values[key].push_back({ti, ci, v});
    cat.max_value_words = std::max(cat.max_value_words, split_identifier(key).size() + 1);
  }
  budget -= n;
  if (n > 0 && n_numeric == n) col.numeric = true;
  return ok_status();
}

}  // namespace

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

int Catalog::table_index(const std::string& name) const {
  for (size_t i = 0; i < info.tables.size(); ++i)
    if (case_equal(info.tables[i].name, name)) return static_cast<int>(i);
  return -1;
}

int Catalog::column_index(int table, const std::string& name) const {
  if (table < 0) return -1;
  const auto& cols = info.tables[table].columns;
  for (size_t i = 0; i < cols.size(); ++i)
    if (case_equal(cols[i].name, name)) return static_cast<int>(i);
  return -1;
}

Result<Catalog> load_catalog(ReadOnlyDb& db, const std::string& db_name, const AssistOptions& options) {
  Catalog cat;
  cat.info.db = db_name;
  sql::Connection& c = db.introspect_begin();
  struct End {
    ReadOnlyDb& d;
    ~End() { d.introspect_end(); }
  } end{db};
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE "
                                             "'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"));
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    TableInfo t;
    t.name = st.col_text(0);
    cat.info.tables.push_back(std::move(t));
  }
  for (auto& t : cat.info.tables) {
    MOERAG_TRY(load_columns(c, t));
    MOERAG_ASSIGN_OR_RETURN(auto cnt, c.prepare("SELECT count(*) FROM " + quote_ident(t.name)));
    MOERAG_ASSIGN_OR_RETURN(bool has, cnt.step());
    t.n_rows = has ? cnt.col_int(0) : 0;
  }
  for (const auto& t : cat.info.tables) MOERAG_TRY(load_foreign_keys(c, cat, t, cat.info.foreign_keys));
  int budget = options.value_index_rows;
  for (size_t ti = 0; ti < cat.info.tables.size(); ++ti)
    for (size_t ci = 0; ci < cat.info.tables[ti].columns.size(); ++ci)
      MOERAG_TRY(load_values(c, cat, static_cast<int>(ti), static_cast<int>(ci), options, budget));
  for (const auto& t : cat.info.tables) {
    cat.table_words.push_back(stem_words(t.name));
    std::vector<std::vector<std::string>> cols;
    for (const auto& col : t.columns) cols.push_back(stem_words(col.name));
    cat.column_words.push_back(std::move(cols));
  }
  return cat;
}

Status apply_annotation(Catalog& c, const Annotation& a) {
  int t = c.table_index(a.table);
  if (t < 0) return Error(ErrorCode::NOT_FOUND, "no table '" + a.table + "' in database '" + c.info.db + "'");
  if (a.column.empty()) {
    if (!a.description.empty()) c.info.tables[t].description = a.description;
    for (const auto& s : a.synonyms) c.info.tables[t].synonyms.push_back(s);
    return ok_status();
  }
  int col = c.column_index(t, a.column);
  if (col < 0) return Error(ErrorCode::NOT_FOUND, "no column '" + a.column + "' in table '" + a.table + "'");
  auto& ci = c.info.tables[t].columns[col];
  if (!a.description.empty()) ci.description = a.description;
  for (const auto& s : a.synonyms) ci.synonyms.push_back(s);
  return ok_status();
}

}  // namespace moerag::sql_assist
