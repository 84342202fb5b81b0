// Internal: SQL written by a language model. The prompt shows the linked part of
// the schema (tables the question's words point at, with types, keys and sample
// values), what each linked phrase matched, and the closest example pairs; decoding
// runs under the scoped, bounded decoding grammar of those tables with a token
// budget no sentence can exceed, so a finished generation is always a complete
// statement naming only real tables and columns.
#pragma once

#include <string>
#include <vector>

#include "apps/sql_assist/catalog.h"
#include "apps/sql_assist/decode_grammar.h"
#include "apps/sql_assist/linker.h"
#include "engine/generator.h"

namespace moerag::sql_assist {

/// Tables the prompt and the grammar cover: those the linking points at (best
/// candidates first, at most max_tables); empty when nothing was linked.
std::vector<int> linked_tables(const Linking& linking, const Catalog& cat, size_t max_tables = 6);

/// The user part of the prompt: schema of `tables` (every table when empty),
/// linked phrases, up to n_examples closest examples, then the question.
std::string model_prompt(const Catalog& cat, const std::vector<int>& tables, const Linking& linking,
                         const std::string& question, int n_examples);

/// What the model produced.
struct ModelSql {
  std::string sql;            ///< the complete statement (empty when generation did not finish)
  std::string finish_reason;  ///< the engine's ("stop", "length", "timeout", ...)
  int budget_tokens = 0;      ///< the max_tokens it ran under
};

/// Writes the SQL for `question` with `gen` under the decoding grammar. Engine
/// errors (OVERLOADED, CONTEXT_TOO_LONG even without examples, ...) are returned.
Result<ModelSql> model_sql(engine::Generator& gen, const Catalog& cat, const Linking& linking,
                           const std::string& question, const AssistOptions& options,
                           const DecodeLimits& limits = {});

/// One line saying what a SELECT statement does, read from its tokens.
std::string explain_sql(const std::string& sql);

}  // namespace moerag::sql_assist
