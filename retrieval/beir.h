// Retrieval evaluation on BEIR-format folders (corpus.jsonl, queries.jsonl,
// qrels/SPLIT.tsv): loading, SQuAD-style → BEIR conversion, the metrics
// (nDCG@10, Recall@5/10/100, MRR@10) and TREC run files.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "retrieval/retriever.h"

namespace moerag::retrieval {

struct BeirData {
  std::vector<DocumentInput> corpus;  ///< one jsonl row each (id = _id)
  std::vector<std::pair<std::string, std::string>> queries;  ///< (qid, text) that have qrels
  std::map<std::string, std::map<std::string, int>> qrels;   ///< qid -> docid -> relevance
};

/// Reads DIR/corpus.jsonl, DIR/queries.jsonl and DIR/qrels/SPLIT.tsv.
Result<BeirData> load_beir(const std::string& dir, const std::string& split);

/// Writes a SQuAD-style JSON file (SQuAD v1.1, CMRC 2018) as a BEIR folder: each
/// context a document, each question a query whose relevant document is its context.
Status squad_to_beir(const std::string& squad_json, const std::string& out_dir);

/// Mean metrics over queries.
struct Metrics {
  double ndcg10 = 0, recall5 = 0, recall10 = 0, recall100 = 0, mrr10 = 0;
  int n_queries = 0;
};

/// Metrics of one ranking list per query (doc ids, best first).
Metrics score_run(const std::map<std::string, std::vector<std::string>>& run,
                  const std::map<std::string, std::map<std::string, int>>& qrels);

/// Runs every query in `mode` (k=100, one passage per document) and returns the ranking.
Result<std::map<std::string, std::vector<std::pair<std::string, double>>>> run_queries(
    Retriever& r, const std::string& kb, const BeirData& data, SearchMode mode, int threads);

/// Writes a TREC run file: "qid Q0 docid rank score tag" per line.
Status write_trec_run(const std::string& path, const std::map<std::string, std::vector<std::pair<std::string, double>>>& run,
                      const std::string& tag);

}  // namespace moerag::retrieval
