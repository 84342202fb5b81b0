// Text analysis shared by the lexical index, the built-in embedder and snippets:
// Latin words are case-folded (and Porter-stemmed), CJK runs become overlapping
// character bigrams, so FTS5's unicode61 tokenizer sees one term per token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moerag::retrieval {

/// One analysed term and the byte range of the source text it came from.
struct Token {
  std::string term;
  size_t begin = 0;  ///< byte offset in the analysed text
  size_t end = 0;    ///< one past the last byte
  bool cjk = false;  ///< a CJK bigram (or a lone CJK character)
};

/// Terms of `text` in order. CJK runs of n >= 2 characters give n-1 bigrams; a lone
/// CJK character gives itself. `stem` applies the Porter stemmer.
std::vector<Token> analyze(std::string_view text, bool stem);

/// The terms joined by single spaces: what is stored in the FTS5 column.
std::string index_text(std::string_view text, bool stem);

/// An FTS5 MATCH expression: the distinct query terms quoted and OR-ed, English
/// stop words dropped unless nothing else is left; empty when the query has no terms.
std::string fts_query(std::string_view query, bool stem);

/// The distinct query terms BM25 scores, in query order: English stop words
/// dropped unless nothing else is left.
std::vector<std::string> query_terms(std::string_view query, bool stem);

/// An FTS5 MATCH expression: the terms quoted and OR-ed; empty for no terms.
std::string fts_match(const std::vector<std::string>& terms);

/// Query planning for BM25 top-k: indexes (into df) of the terms to score. Terms
/// absent from the index are dropped; then, while the summed document frequency
/// exceeds `max_postings`, the most common term is dropped if its df exceeds
/// `common_df` (its IDF is small, so it reorders little but costs most). The
/// rarest term is always kept. max_postings <= 0 keeps every term.
std::vector<size_t> prune_common_terms(const std::vector<int64_t>& df, int64_t max_postings, int64_t common_df);

/// Approximate token count for chunk budgets: words plus CJK characters.
int count_tokens(std::string_view text);

/// English stemmer of the index (porter_stem); input is lower-case ASCII.
std::string stem_word(std::string_view w);

/// True for common English function words.
bool is_stop_word(std::string_view w);

/// A window of about `max_chars` characters of `text` holding the most query-term
/// matches, HTML-escaped, matches wrapped in <mark>…</mark>; "…" marks cuts.
std::string make_snippet(std::string_view text, std::string_view query, bool stem, size_t max_chars);

}  // namespace moerag::retrieval
