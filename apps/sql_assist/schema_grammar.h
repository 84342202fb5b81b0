// Internal: the SELECT-only grammar of a live schema, as data. Rules are built from
// the catalog (only its tables and columns, numeric columns compared with numbers,
// text columns with strings), printed as GBNF for the engine's constrained decoder,
// and checked by a recogniser over SQL tokens.
#pragma once

#include <string>
#include <vector>

#include "apps/sql_assist/catalog.h"

namespace moerag::sql_assist {

/// One grammar symbol: a terminal token (keyword, punctuation, identifier), a
/// token class (NUMBER, INTEGER, STRING) or a rule reference.
struct GSymbol {
  enum class Kind { TERMINAL, NUMBER, STRING, RULE, INTEGER };
  Kind kind = Kind::TERMINAL;
  std::string text;   ///< terminal text (case-folded) or rule name
  std::string shown;  ///< identifiers: the name as written into SQL (quoted when needed); empty for keywords
};

/// A rule: alternatives, each a sequence of symbols (empty sequence = epsilon).
struct GRule {
  std::string name;
  std::vector<std::vector<GSymbol>> alternatives;
};

/// A context-free grammar without left recursion; rules[0] is the start rule.
struct Grammar {
  std::vector<GRule> rules;
  int find(const std::string& name) const;  ///< -1 when absent
};

/// The grammar of SELECT statements over this catalog's tables and columns.
Grammar build_schema_grammar(const Catalog& cat);

/// GBNF text (llama.cpp-style) of the grammar.
std::string to_gbnf(const Grammar& g);

/// SQL split into tokens (keywords/identifiers case-folded, quotes removed from
/// identifiers, strings and numbers as classes); false when it cannot be lexed.
struct SqlToken {
  enum class Kind { WORD, NUMBER, STRING, PUNCT };
  Kind kind;
  std::string text;
};
bool lex_sql(const std::string& sql, std::vector<SqlToken>& out);

/// Whether the whole SQL text is a sentence of the grammar.
bool grammar_accepts(const Grammar& g, const std::string& sql);

}  // namespace moerag::sql_assist
