// Internal: the schema catalog of one database as the linker and parser use it:
// SchemaInfo plus each name split into stemmed words and an index of cell values.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "apps/sql_assist/readonly_db.h"
#include "apps/sql_assist/sql_assist.h"

namespace moerag::sql_assist {

/// Where a cell value occurs.
struct ValueSite {
  int table = 0;
  int column = 0;
  std::string value;  ///< exactly as stored
};

/// SchemaInfo plus what linking needs.
struct Catalog {
  SchemaInfo info;
  /// Stemmed words of each table's name: [n_table][n_word].
  std::vector<std::vector<std::string>> table_words;
  /// Stemmed words of each column's name: [n_table][n_column][n_word].
  std::vector<std::vector<std::vector<std::string>>> column_words;
  /// Case-folded text value -> where it occurs (text columns, capped in size).
  std::unordered_map<std::string, std::vector<ValueSite>> values;
  size_t max_value_words = 1;  ///< longest indexed value, in words

  int table_index(const std::string& name) const;  ///< case-insensitive; -1 when absent
  int column_index(int table, const std::string& name) const;
  const ColumnInfo& column(int t, int c) const { return info.tables[t].columns[c]; }
};

/// Reads tables, columns, keys, samples and the value index through `db`.
Result<Catalog> load_catalog(ReadOnlyDb& db, const std::string& db_name, const AssistOptions& options);

/// Applies annotations (descriptions, synonyms); unknown tables/columns are an error.
Status apply_annotation(Catalog& c, const Annotation& a);

/// Double-quoted SQL identifier.
std::string quote_ident(const std::string& name);

}  // namespace moerag::sql_assist
