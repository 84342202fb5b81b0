// Building answers from passages: relevance of passages to a query (weighted term
// coverage), the extractive answer (best sentences of the best passages with their
// citations), the RAG prompt with numbered passages, and the check that drops
// citations of a generated answer that its passages do not support.
#pragma once

#include <string>
#include <vector>

#include "apps/chat/chat.h"

namespace moerag::chat {

/// A retrieved passage after safety screening, with its relevance to the query.
struct Candidate {
  retrieval::Passage passage;  ///< passage.text is the screened text
  double coverage = 0;         ///< weighted share of query terms it contains, 0..1
};

/// Scores passages against the query's content terms (IDF-like weights computed over
/// the candidates) and orders them by coverage, retrieval rank breaking near-ties.
/// `message` is the user's own words when `query` carries terms of earlier turns
/// (those weigh less); empty = every query term is the user's.
std::vector<Candidate> rank_candidates(const std::string& query, std::vector<retrieval::Passage> passages,
                                       const std::string& message = "");

/// An answer made of passage sentences.
struct Extract {
  bool answered = false;
  std::string answer;               ///< sentences with "[n]" markers; empty when !answered
  std::vector<Citation> citations;  ///< numbered 1..n in the order first used
  double confidence = 0;            ///< coverage of the best passage
};

/// The extractive answer: from the best candidate, its lead sentence (first chunk of a
/// document) and the sentences that share most query terms; one more passage when it
/// covers the query nearly as well. Nothing when the best coverage < min_confidence.
Extract extractive_answer(const std::string& query, const std::vector<Candidate>& candidates,
                          int max_sentences, int max_tokens, double min_confidence, const std::string& message = "");

/// The user part of the RAG prompt: numbered passages ("[1] source > heading: text")
/// that fit `passage_tokens`, earlier turns, then the question and the citing rule.
/// `used` receives how many candidates were put in.
std::string rag_prompt(const std::string& question, const std::vector<Candidate>& candidates,
                       const std::string& history, int passage_tokens, size_t* used);

/// Checks the "[n]" markers of a generated answer against the `n_passages` passages
/// in the prompt: a marker out of range, or on a sentence sharing no content term
/// with its passage, is removed. Returns the cleaned answer; `cited` gets the
/// supported passage indexes (0-based), in order of first use.
std::string check_citations(const std::string& answer, const std::vector<Candidate>& candidates, size_t n_passages,
                            std::vector<size_t>* cited);

/// A Citation for candidate `c`, numbered `n`, quoting `snippet`.
Citation make_citation(const Candidate& c, int n, const std::string& snippet);

}  // namespace moerag::chat
