// Internal state of a Retriever shared by retriever*.cpp: the database, options,
// the writer lock and one vector-index state per knowledge base.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "core/sqlite.h"
#include "engine/embedder.h"
#include "retrieval/dense_index.h"
#include "retrieval/retriever.h"
#include "retrieval/store.h"

namespace moerag::retrieval {

/// The vector side of one knowledge base. Searches hold mu shared; the writer
/// holds it exclusively from its commit until the index matches the commit.
struct KbState {
  std::shared_mutex mu;
  std::unique_ptr<DenseIndex> index;                ///< guarded by mu
  std::shared_ptr<engine::Embedder> embedder;       ///< guarded by mu
  int64_t generation = -1;                          ///< guarded by mu; what `index` reflects
  int64_t fit_n = 0;                                ///< guarded by mu
  bool dirty = false;                               ///< guarded by mu; index differs from its file
  std::mutex count_mu;                              ///< guards the two below
  int64_t counted_generation = -1;                  ///< generation n_chunks was counted at
  int64_t n_chunks = 0;
};

struct Retriever::Impl {
  std::shared_ptr<sql::Database> db;
  RetrievalOptions options;
  std::shared_ptr<engine::Embedder> external;  ///< null = built-in per-KB embedder
  std::mutex write_mu;                         ///< one writer at a time
  std::mutex states_mu;
  std::map<int64_t, std::shared_ptr<KbState>> states;  // guarded by states_mu

  std::shared_ptr<KbState> state(int64_t kb_id);
  std::string index_path(int64_t kb_id) const;
  /// Brings st up to the database's generation (load the file or rebuild); caller holds st.mu exclusively.
  Status sync(sql::Connection& c, int64_t kb_id, KbState& st);
  /// Re-embeds every chunk of the KB into a fresh index; caller holds st.mu exclusively.
  Status rebuild(sql::Connection& c, int64_t kb_id, KbState& st);
  /// Fits the built-in embedder on all chunks, stores the model and rebuilds.
  Status refit(sql::Connection& c, int64_t kb_id, KbState& st);
  /// Fits the built-in embedder on `texts`, stores the model and rebuilds; caller holds st.mu exclusively.
  Status fit_and_rebuild(sql::Connection& c, int64_t kb_id, KbState& st, const std::vector<std::string>& texts);
  /// The embedder for this KB's stored fit.
  Result<std::shared_ptr<engine::Embedder>> embedder_for(sql::Connection& c, int64_t kb_id, int64_t fit_n);
  Status save(int64_t kb_id, KbState& st);
  /// INVALID_INPUT naming both embedders and dimensions unless `n_floats` vectors of
  /// the KB's index dimension came back for `n_texts` texts; caller holds st.mu.
  Status check_vectors(const std::string& kb, const KbState& st, size_t n_texts, size_t n_floats) const;
  /// Tag of the analysis the running options give (stemmer on or off).
  std::string analyzer_tag() const;
  /// Re-analyses every KB whose stored analyzer tag differs from analyzer_tag(): new
  /// FTS terms, and a refit of the built-in embedder (its features are stemmed terms).
  Status reanalyze_stale(sql::Connection& c);
  /// Fills kb.embedder / kb.embed_dim from the loaded index, else from its saved sidecar.
  void describe(KnowledgeBase& kb);
};

}  // namespace moerag::retrieval
