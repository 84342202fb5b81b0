// The SQLite side of retrieval: schema migrations, knowledge-base and document
// rows, chunk rows with their FTS5 terms, and the SQL that applies metadata and
// access filters inside BM25 queries. Internal to retrieval/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "core/sqlite.h"
#include "retrieval/chunker.h"
#include "retrieval/retriever.h"

namespace moerag::retrieval::store {

/// Creates or upgrades the retrieval tables (component "retrieval").
Status migrate(sql::Connection& c);

/// Name of the KB's FTS5 table (one per KB, created with the KB).
std::string fts_table(int64_t kb_id);
Status create_fts(sql::Connection& c, int64_t kb_id);

/// A knowledge-base row plus its index state.
struct KbRow {
  KnowledgeBase kb;
  int64_t generation = 0;  ///< bumped by every commit that changes its chunks
  int64_t fit_n = 0;       ///< texts the built-in embedder's IDF was fitted on, 0 = unfitted
};

Result<KbRow> find_kb(sql::Connection& c, const std::string& name);  ///< NOT_FOUND
/// find_kb without n_documents / n_chunks (left -1): no scan of the KB's rows.
Result<KbRow> find_kb_uncounted(sql::Connection& c, const std::string& name);
Result<int64_t> count_chunks(sql::Connection& c, int64_t kb_id);
Result<KbRow> kb_by_id(sql::Connection& c, int64_t id);
Result<int64_t> generation(sql::Connection& c, int64_t kb_id);
/// The built-in embedder's stored fit: an LSA model blob, or (databases from before
/// it) a uint32 document-frequency table; empty when unfitted.
Result<std::string> fit_blob(sql::Connection& c, int64_t kb_id);
/// Stores a new fit of `n` texts and bumps the generation (call inside a transaction).
Status set_fit(sql::Connection& c, int64_t kb_id, const std::string& blob, int64_t n);
Result<int64_t> bump_generation(sql::Connection& c, int64_t kb_id);

/// (kb id, analyzer tag) of every knowledge base; '' = made before analyzer tags.
Result<std::vector<std::pair<int64_t, std::string>>> kb_analyzers(sql::Connection& c);
Status set_analyzer(sql::Connection& c, int64_t kb_id, const std::string& tag);
/// Replaces the FTS5 terms of one chunk (re-analysis; call inside a transaction).
Status replace_terms(sql::Connection& c, int64_t kb_id, int64_t chunk_id, const std::string& terms);

/// Calls f(chunk_id, index_text) for every chunk of the KB, in id order.
Status for_each_chunk(sql::Connection& c, int64_t kb_id,
                      const std::function<void(int64_t, const std::string&)>& f);

/// A document row as stored.
struct DocRow {
  int64_t rowid = 0;
  DocumentInfo info;
};
Result<std::optional<DocRow>> find_doc(sql::Connection& c, int64_t kb_id, const std::string& key);
Result<std::vector<DocumentInfo>> list_docs(sql::Connection& c, int64_t kb_id, int limit, int offset);

/// Removes a document's chunks (and FTS rows); returns the removed chunk ids.
Result<std::vector<int64_t>> delete_chunks(sql::Connection& c, int64_t doc_rowid);
Status delete_doc_row(sql::Connection& c, int64_t doc_rowid);

/// Inserts or updates the document row; returns its rowid.
Result<int64_t> upsert_doc(sql::Connection& c, int64_t kb_id, const DocumentInfo& d, std::optional<int64_t> existing);
/// Inserts a chunk and its FTS row; returns the chunk id.
Result<int64_t> insert_chunk(sql::Connection& c, int64_t kb_id, int64_t doc_rowid, const Chunk& ch,
                             const std::string& terms);

/// "heading path \n text": what is indexed (lexically and densely) for a chunk.
std::string indexed_text(const std::string& heading_path, const std::string& text);

/// A compiled WHERE fragment over aliases c (chunks) and d (documents).
struct Filter {
  std::string sql;  ///< starts with " AND " or is empty
  std::vector<std::variant<std::string, double>> binds;
};
Result<Filter> compile_filter(const std::vector<MetadataFilter>& filters, const Access& access);

/// Document frequency of each term in the KB's FTS5 index (0 when absent), read
/// from a per-connection fts5vocab table.
Result<std::vector<int64_t>> term_df(sql::Connection& c, int64_t kb_id, const std::vector<std::string>& terms);

/// BM25 top-n (chunk id, -bm25: higher is better) for an FTS5 MATCH expression.
Result<std::vector<std::pair<int64_t, double>>> lexical(sql::Connection& c, int64_t kb_id, const std::string& match,
                                                        const Filter& f, int n);
/// Chunk ids of the KB that pass the filter.
Result<std::unordered_set<int64_t>> allowed_chunks(sql::Connection& c, int64_t kb_id, const Filter& f);

/// Fills a passage (text, document, page, ...) for a chunk; nullopt when it is gone.
Result<std::optional<Passage>> load_passage(sql::Connection& c, int64_t chunk_id);

}  // namespace moerag::retrieval::store
