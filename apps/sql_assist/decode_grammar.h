// Internal: the grammar a model decodes under. Unlike the schema-wide recogniser
// grammar it is scoped and finite: each alternative of the root fixes a FROM clause
// (one table, or two or three joined along foreign keys, always aliased t1..t3), so
// the SELECT list, conditions, grouping and ordering can only name columns of the
// tables in that FROM clause (numbers compared with numeric columns, strings with
// text ones); lists, joins and subqueries are bounded, so every sentence has a known
// maximum length and a token budget of that many bytes always ends in a complete
// statement. Printed for the engine with one canonical spacing.
#pragma once

#include <string>
#include <vector>

#include "apps/sql_assist/catalog.h"
#include "apps/sql_assist/schema_grammar.h"
#include "engine/grammar.h"

namespace moerag::sql_assist {

/// Bounds of the decoding grammar (documented defaults).
struct DecodeLimits {
  int max_items = 3;          ///< SELECT list entries
  int max_conditions = 2;     ///< WHERE conditions (joined by AND/OR)
  int max_group_columns = 2;  ///< GROUP BY columns
  int max_string_chars = 32;  ///< characters inside a string literal
  int max_scopes = 24;        ///< FROM clauses (single tables and join paths) offered
};

/// The decoding grammar over the tables in `tables` (indexes into the catalog; empty:
/// every table), with joins along foreign keys that touch them. Tables without
/// columns are left out. The result is a token-level grammar (grammar_accepts works
/// on it) without recursion.
Grammar build_decoding_grammar(const Catalog& cat, const std::vector<int>& tables,
                               const DecodeLimits& limits);

/// The same grammar as engine rules ("root" first): keywords upper case, identifiers
/// as written (double-quoted when not plain words or when SQL keywords), exactly
/// one space between tokens except after "(" "." "-" and before ")" "," "." and a
/// function's "(".
engine::GrammarRules to_engine_rules(const Grammar& g, const DecodeLimits& limits);

/// Most bytes any sentence of the grammar (as printed by to_engine_rules) can take;
/// INTERNAL when the grammar is recursive (a bug).
Result<int> max_sentence_bytes(const Grammar& g, const DecodeLimits& limits);

/// An identifier as SQL needs it written: bare when it is a plain word that is not
/// an SQLite keyword, double-quoted otherwise.
std::string sql_identifier(const std::string& name);

}  // namespace moerag::sql_assist
