// Internal: the rule-based semantic parser (the no-model generator). It reads cue
// words (counts, aggregates, comparisons, superlatives, grouping, ordering,
// negation, "than the average") around the linked spans and builds a Query, or
// declines with the reason when the question is beyond its rules.
#pragma once

#include <string>

#include "apps/sql_assist/linker.h"
#include "apps/sql_assist/query_ir.h"

namespace moerag::sql_assist {

struct ParseOutcome {
  bool ok = false;
  Query query;
  std::string reason;  ///< why it declined (when !ok)
};

ParseOutcome parse_question(const Linking& linking, const Catalog& cat);

}  // namespace moerag::sql_assist
