// Internal: schema linking. Question spans (English n-grams, Chinese substrings via
// synonyms and a glossary, numbers, quoted values) matched to tables, columns and
// cell values with scores; the parser and the response both use the result.
#pragma once

#include <string>
#include <vector>

#include "apps/sql_assist/catalog.h"
#include "apps/sql_assist/words.h"

namespace moerag::sql_assist {

/// One thing a span may refer to.
struct Candidate {
  enum class Kind { TABLE, COLUMN, VALUE };
  Kind kind = Kind::COLUMN;
  int table = -1;
  int column = -1;    ///< -1 for TABLE
  std::string value;  ///< VALUE: the stored cell value
  double score = 0;   ///< 1 exact name, lower for partial matches
};

/// A linked span of tokens [start, end) with its candidates, best first.
struct Mention {
  int start = 0, end = 0;
  std::vector<Candidate> cands;
  bool number = false;  ///< a number token (no candidates)
  double num = 0;
  std::string phrase;
};

/// Tokens and the chosen, non-overlapping mentions in question order.
struct Linking {
  std::vector<Token> tokens;
  std::vector<Mention> mentions;
  /// Index into mentions covering token i, or -1: [n_token].
  std::vector<int> mention_at;
};

Linking link_question(const std::string& question, const Catalog& cat);

/// The links as the response shows them (the best candidate of each mention first).
std::vector<SchemaLink> describe_links(const Linking& l, const Catalog& cat);

}  // namespace moerag::sql_assist
