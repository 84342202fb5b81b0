// Front door of retrieval/: knowledge bases of documents split into chunks, kept in
// the main SQLite database (FTS5 for BM25) with one FAISS index per knowledge base
// under <data_dir>/indexes, searched lexically, densely or by reciprocal-rank
// fusion of both. Plain-data structs in and out; FAISS and SQLite stay inside.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/sqlite.h"
#include "engine/embedder.h"

namespace moerag::retrieval {

/// Every retrieval knob, with its default (the lead maps these to `retrieval.*`).
struct RetrievalOptions {
  std::string index_dir;              ///< FAISS files; empty = <dir of the database>/indexes
  int chunk_tokens = 200;             ///< token budget of a chunk (a word or a CJK character = 1)
  int chunk_overlap = 40;             ///< tokens of the previous chunk repeated at the start of the next
  int embed_dim = 384;                ///< dimension of the built-in embedder
  bool stem_english = true;           ///< Porter stemming of English in the lexical index (a change re-analyses KBs on open)
  std::string index_factory = "Flat"; ///< FAISS factory string used at or above large_index_vectors
  int64_t large_index_vectors = 50000;///< below this many vectors a plain Flat index is used
  int candidates = 100;               ///< passages taken from each list before fusion
  int64_t lexical_max_postings = 8000;///< BM25 plan: drop the commonest query terms while their summed df exceeds this (0 = exhaustive)
  double lexical_common_share = 0.01; ///< ... but only terms in more than this share of the KB's chunks
  int rrf_k = 20;                     ///< reciprocal-rank fusion constant: score = w / (rrf_k + rank); tuned on SQuAD dev queries 1-2000
  int64_t max_file_bytes = 64ll << 20;///< larger files are refused with TOO_LARGE
  int snippet_chars = 240;            ///< approximate snippet length in characters
};

/// A knowledge base (collection) and its counts.
struct KnowledgeBase {
  int64_t id = 0;
  std::string name;             ///< unique; [A-Za-z0-9_.-], 1..64 chars
  std::string description;
  double lexical_weight = 1.0;  ///< weight of the BM25 list in fusion
  double dense_weight = 0.2;    ///< weight of the vector list in fusion (built-in LSA embedder: 0.2 tuned with rrf_k 20)
  int64_t n_documents = 0;
  int64_t n_chunks = 0;
  std::string created_at;       ///< UTC, "YYYY-MM-DD HH:MM:SS"
  /// Id of the embedder its vector index was built with ("lsa-v1/...", "hashed-...",
  /// "gguf:NAME:BYTES" for a model); empty while it has no index. Read-only.
  std::string embedder;
  int embed_dim = 0;            ///< that index's dimension; 0 while it has no index. Read-only.
};

/// One document to ingest. `content` is the raw file (or text) in `format`.
struct DocumentInput {
  std::string id;             ///< stable id; empty = `source` (or source#row for table rows)
  std::string source;         ///< file name or path; its extension picks the format
  std::string format;         ///< txt|md|html|pdf|json|jsonl|csv; empty = from `source`
  std::string content;        ///< raw bytes
  std::string metadata_json = "{}";  ///< a JSON object of filterable fields
  std::string owner;          ///< tenant / owner; empty = shared
  std::vector<std::string> allowed;  ///< roles or groups that may see it; empty = everyone
  std::string text_field = "text";   ///< json/jsonl/csv: the field holding the text
  std::string title_field = "title"; ///< json/jsonl/csv: field used as the heading
};

/// A stored document (no chunks).
struct DocumentInfo {
  std::string id;
  std::string source;
  std::string content_hash;   ///< SHA-256 hex of the parsed text and metadata
  std::string metadata_json;
  std::string owner;
  std::vector<std::string> allowed;
  int64_t n_chunks = 0;
  int n_pages = 0;            ///< PDF page count, 0 for other formats
  std::string created_at, updated_at;
};

/// Why one input was not ingested.
struct FileError {
  std::string source;
  ErrorCode code = ErrorCode::INVALID_INPUT;
  std::string message;
};

/// Outcome of an ingestion batch; a bad file is an entry in `errors`, never an abort.
struct IngestReport {
  int n_added = 0;            ///< new documents
  int n_updated = 0;          ///< changed documents whose chunks were replaced
  int n_skipped = 0;          ///< unchanged documents (same content hash)
  int n_failed = 0;
  int64_t n_chunks = 0;       ///< chunks written
  std::vector<std::string> document_ids;  ///< added or updated, in commit order
  std::vector<FileError> errors;
  double seconds = 0;
};

/// Called after each committed group: the document ids just made durable, and
/// how many inputs are done out of how many.
using IngestProgress = std::function<void(const std::vector<std::string>& committed, size_t done, size_t total)>;

/// A metadata condition evaluated inside the search. `field` names a key of the
/// document's metadata object (dots for nested keys).
struct MetadataFilter {
  enum class Op { EQ, NE, LT, LE, GT, GE, HAS_TAG };
  std::string field;
  Op op = Op::EQ;
  std::string value;    ///< compared as text, or as a number when `numeric`
  bool numeric = false;
};

/// Who is searching: a document is visible when `all`, or when its `allowed` list
/// is empty or shares a group, and its owner is empty or equals `tenant`.
struct Access {
  bool all = true;
  std::string tenant;
  std::vector<std::string> groups;
};

enum class SearchMode { HYBRID, LEXICAL, DENSE };

struct SearchRequest {
  std::string kb;                ///< knowledge-base name
  std::string query;
  int k = 10;                    ///< passages returned, 1..1000
  SearchMode mode = SearchMode::HYBRID;
  std::vector<MetadataFilter> filters;
  Access access;
  bool one_per_document = false; ///< keep only the best passage of each document
};

/// One ranked passage.
struct Passage {
  int64_t chunk_id = 0;
  std::string document_id;
  std::string source;
  std::string text;
  std::string snippet;        ///< ~snippet_chars around the matches; HTML-escaped, matches in <mark>
  std::string heading_path;   ///< "Guide > Install > Linux"
  int page = 0;               ///< 1-based PDF page, 0 when not paged
  int position = 0;           ///< chunk ordinal within its document
  double score = 0;           ///< fused (hybrid), BM25 (lexical, higher is better) or cosine (dense)
  int lexical_rank = 0;       ///< 1-based rank in the lexical list, 0 = absent
  int dense_rank = 0;         ///< 1-based rank in the dense list, 0 = absent
  std::string metadata_json;
};

/// Ingestion options for files and folders.
struct IngestPathOptions {
  std::string metadata_json = "{}";
  std::string owner;
  std::vector<std::string> allowed;
  std::string text_field = "text";
};

/// Knowledge bases, ingestion and search. Thread-safe: any number of concurrent
/// searches plus writers (writes are serialised inside).
class Retriever {
 public:
  /// `embedder` null = the built-in embedder (LSA fitted per knowledge base); else a
  /// model embedder (e.g. the engine's BERT) used for every knowledge base. An index
  /// built by another embedder is rebuilt from SQLite on first use.
  static Result<std::unique_ptr<Retriever>> create(std::shared_ptr<sql::Database> db, RetrievalOptions options,
                                                   std::shared_ptr<engine::Embedder> embedder = nullptr);
  ~Retriever();  ///< saves dirty indexes
  Retriever(const Retriever&) = delete;
  Retriever& operator=(const Retriever&) = delete;

  Result<KnowledgeBase> create_kb(const KnowledgeBase& spec);  ///< CONFLICT when the name exists
  Result<std::vector<KnowledgeBase>> list_kbs();
  Result<KnowledgeBase> get_kb(const std::string& name);
  Status delete_kb(const std::string& name);  ///< removes documents, chunks and index files

  /// Ingests inputs (json/jsonl/csv inputs expand to one document per row).
  Result<IngestReport> ingest(const std::string& kb, const std::vector<DocumentInput>& inputs,
                              const IngestProgress& progress = nullptr);
  /// Ingests a file or a folder (recursively, supported extensions only).
  Result<IngestReport> ingest_path(const std::string& kb, const std::string& path, const IngestPathOptions& options,
                                   const IngestProgress& progress = nullptr);

  Result<DocumentInfo> get_document(const std::string& kb, const std::string& id);
  Result<std::vector<DocumentInfo>> list_documents(const std::string& kb, int limit = 100, int offset = 0);
  /// Removes the document from SQLite, FTS and the vector index at once.
  Status delete_document(const std::string& kb, const std::string& id);

  Result<std::vector<Passage>> search(const SearchRequest& request);

  /// Writes every changed vector index to disk (atomically).
  Status flush();
  const RetrievalOptions& options() const;

 private:
  struct Impl;
  explicit Retriever(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Formats the parser knows, by extension without the dot.
const std::vector<std::string>& supported_formats();

}  // namespace moerag::retrieval
