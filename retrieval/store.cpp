// Retrieval tables and queries. FTS5 holds analysed terms (folded words, CJK
// bigrams) keyed by chunk id; filters are compiled to SQL so they apply inside
// the BM25 query and the candidate set of the vector search, never after top-k.
#include "retrieval/store.h"

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

namespace moerag::retrieval::store {
namespace {

using json = nlohmann::json;

const std::vector<sql::Migration> kMigrations = {
    {1, "knowledge bases, documents, chunks, fts5",
     R"(CREATE TABLE retrieval_kbs(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT NOT NULL UNIQUE,
          description TEXT NOT NULL DEFAULT '',
          lexical_weight REAL NOT NULL DEFAULT 1,
          dense_weight REAL NOT NULL DEFAULT 1,
          generation INTEGER NOT NULL DEFAULT 0,
          fit_n INTEGER NOT NULL DEFAULT 0,
          fit_df BLOB,
          created_at TEXT NOT NULL DEFAULT (datetime('now')));
        CREATE TABLE retrieval_documents(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          kb_id INTEGER NOT NULL,
          doc_key TEXT NOT NULL,
          source TEXT NOT NULL,
          content_hash TEXT NOT NULL,
          metadata TEXT NOT NULL DEFAULT '{}',
          owner TEXT NOT NULL DEFAULT '',
          allowed TEXT NOT NULL DEFAULT '[]',
          n_chunks INTEGER NOT NULL DEFAULT 0,
          n_pages INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL DEFAULT (datetime('now')),
          updated_at TEXT NOT NULL DEFAULT (datetime('now')),
          UNIQUE(kb_id, doc_key));
        CREATE TABLE retrieval_chunks(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          doc_id INTEGER NOT NULL,
          kb_id INTEGER NOT NULL,
          position INTEGER NOT NULL,
          page INTEGER NOT NULL DEFAULT 0,
          heading_path TEXT NOT NULL DEFAULT '',
          text TEXT NOT NULL,
          n_tokens INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX retrieval_chunks_doc ON retrieval_chunks(doc_id);
        CREATE INDEX retrieval_chunks_kb ON retrieval_chunks(kb_id);)"},
    // The fitted embedder (a blob of up to megabytes) moves out of the KB row: reading
    // any column stored after it (created_at) walked its overflow pages on every search.
    {2, "fitted embedder blobs in their own table",
     R"(CREATE TABLE retrieval_kb_fits(
          kb_id INTEGER PRIMARY KEY,
          fit_df BLOB NOT NULL);
        INSERT INTO retrieval_kb_fits(kb_id, fit_df) SELECT id, fit_df FROM retrieval_kbs WHERE fit_df IS NOT NULL;
        UPDATE retrieval_kbs SET fit_df = NULL;)"},
    // The text analysis (stemmer) a KB's FTS terms and embedder fit were made with;
    // '' = before tags (the light suffix stemmer). Retriever::create re-analyses a KB
    // whose tag differs from the running analyzer's.
    {3, "analyzer tag per knowledge base",
     R"(ALTER TABLE retrieval_kbs ADD COLUMN analyzer TEXT NOT NULL DEFAULT '';)"},
};

KnowledgeBase kb_from(sql::Stmt& s) {
  KnowledgeBase k;
  k.id = s.col_int(0);
  k.name = s.col_text(1);
  k.description = s.col_text(2);
  k.lexical_weight = s.col_double(3);
  k.dense_weight = s.col_double(4);
  k.created_at = s.col_text(5);
  k.n_documents = s.col_int(8);
  k.n_chunks = s.col_int(9);
  return k;
}

#define MOERAG_KB_COLUMNS \
  "SELECT k.id, k.name, k.description, k.lexical_weight, k.dense_weight, k.created_at, k.generation, k.fit_n, "
const char* kKbSelect = MOERAG_KB_COLUMNS
    "(SELECT count(*) FROM retrieval_documents d WHERE d.kb_id = k.id), "
    "(SELECT count(*) FROM retrieval_chunks c WHERE c.kb_id = k.id) FROM retrieval_kbs k ";
// The same columns without the two counts (each a scan of the KB's rows): -1 there.
const char* kKbSelectUncounted = MOERAG_KB_COLUMNS "-1, -1 FROM retrieval_kbs k ";
#undef MOERAG_KB_COLUMNS

Result<KbRow> one_kb(sql::Connection& c, const std::string& where, const std::function<void(sql::Stmt&)>& bind,
                     const std::string& what, const char* select = kKbSelect) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached(std::string(select) + where));
  bind(*st);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  if (!row) return Error(ErrorCode::NOT_FOUND, "no knowledge base " + what);
  KbRow r{kb_from(*st), st->col_int(6), st->col_int(7)};
  st->reset();
  return r;
}

std::vector<std::string> parse_list(const std::string& s) {
  std::vector<std::string> out;
  auto j = json::parse(s, nullptr, false);
  if (j.is_array())
    for (auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

DocumentInfo doc_from(sql::Stmt& s, int first) {
  DocumentInfo d;
  d.id = s.col_text(first);
  d.source = s.col_text(first + 1);
  d.content_hash = s.col_text(first + 2);
  d.metadata_json = s.col_text(first + 3);
  d.owner = s.col_text(first + 4);
  d.allowed = parse_list(s.col_text(first + 5));
  d.n_chunks = s.col_int(first + 6);
  d.n_pages = static_cast<int>(s.col_int(first + 7));
  d.created_at = s.col_text(first + 8);
  d.updated_at = s.col_text(first + 9);
  return d;
}

const char* kDocCols =
    "doc_key, source, content_hash, metadata, owner, allowed, n_chunks, n_pages, created_at, updated_at";

bool valid_field(const std::string& f) {
  if (f.empty() || f.size() > 128) return false;
  for (char ch : f)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.')) return false;
  return true;
}

void bind_filter(sql::Stmt& st, int first, const Filter& f) {
  int i = first;
  for (const auto& b : f.binds) {
    if (std::holds_alternative<double>(b)) st.bind(i++, std::get<double>(b));
    else st.bind(i++, std::get<std::string>(b));
  }
}

}  // namespace

Status migrate(sql::Connection& c) { return sql::migrate(c, "retrieval", kMigrations); }

std::string fts_table(int64_t kb_id) { return "retrieval_fts_" + std::to_string(kb_id); }

Status create_fts(sql::Connection& c, int64_t kb_id) {
  return c.exec("CREATE VIRTUAL TABLE IF NOT EXISTS " + fts_table(kb_id) +
                " USING fts5(terms, tokenize = 'unicode61 remove_diacritics 2')");
}

Result<KbRow> find_kb(sql::Connection& c, const std::string& name) {
  return one_kb(c, "WHERE k.name = ?", [&](sql::Stmt& s) { s.bind(1, name); }, "named '" + name + "'");
}

Result<KbRow> find_kb_uncounted(sql::Connection& c, const std::string& name) {
  return one_kb(c, "WHERE k.name = ?", [&](sql::Stmt& s) { s.bind(1, name); }, "named '" + name + "'",
                kKbSelectUncounted);
}

Result<int64_t> count_chunks(sql::Connection& c, int64_t kb_id) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached("SELECT count(*) FROM retrieval_chunks WHERE kb_id = ?"));
  st->bind(1, kb_id);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  const int64_t n = row ? st->col_int(0) : 0;
  st->reset();
  return n;
}

Result<KbRow> kb_by_id(sql::Connection& c, int64_t id) {
  return one_kb(c, "WHERE k.id = ?", [&](sql::Stmt& s) { s.bind(1, id); }, "with id " + std::to_string(id));
}

Result<int64_t> generation(sql::Connection& c, int64_t kb_id) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached("SELECT generation FROM retrieval_kbs WHERE id = ?"));
  st->bind(1, kb_id);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  if (!row) return Error(ErrorCode::NOT_FOUND, "knowledge base was deleted");
  int64_t g = st->col_int(0);
  st->reset();
  return g;
}

Result<std::string> fit_blob(sql::Connection& c, int64_t kb_id) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached("SELECT fit_df FROM retrieval_kb_fits WHERE kb_id = ?"));
  st->bind(1, kb_id);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  std::string blob;
  if (row && !st->col_null(0)) blob = st->col_blob(0);
  st->reset();
  return blob;
}

Status set_fit(sql::Connection& c, int64_t kb_id, const std::string& blob, int64_t n) {
  MOERAG_ASSIGN_OR_RETURN(auto put, c.prepare("INSERT OR REPLACE INTO retrieval_kb_fits(kb_id, fit_df) VALUES(?, ?)"));
  put.bind(1, kb_id);
  put.bind_blob(2, blob.data(), blob.size());
  MOERAG_TRY(put.run());
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare("UPDATE retrieval_kbs SET fit_n = ?, generation = generation + 1 WHERE id = ?"));
  st.bind(1, n);
  st.bind(2, kb_id);
  return st.run();
}

Result<int64_t> bump_generation(sql::Connection& c, int64_t kb_id) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached("UPDATE retrieval_kbs SET generation = generation + 1 WHERE id = ?"));
  st->bind(1, kb_id);
  MOERAG_TRY(st->run());
  return generation(c, kb_id);
}

Result<std::vector<std::pair<int64_t, std::string>>> kb_analyzers(sql::Connection& c) {
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT id, analyzer FROM retrieval_kbs ORDER BY id"));
  std::vector<std::pair<int64_t, std::string>> out;
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.emplace_back(st.col_int(0), st.col_text(1));
  }
  return out;
}

Status set_analyzer(sql::Connection& c, int64_t kb_id, const std::string& tag) {
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare("UPDATE retrieval_kbs SET analyzer = ? WHERE id = ?"));
  st.bind(1, tag);
  st.bind(2, kb_id);
  return st.run();
}

Status replace_terms(sql::Connection& c, int64_t kb_id, int64_t chunk_id, const std::string& terms) {
  MOERAG_ASSIGN_OR_RETURN(auto* del, c.cached("DELETE FROM " + fts_table(kb_id) + " WHERE rowid = ?"));
  del->bind(1, chunk_id);
  MOERAG_TRY(del->run());
  MOERAG_ASSIGN_OR_RETURN(auto* ins, c.cached("INSERT INTO " + fts_table(kb_id) + "(rowid, terms) VALUES(?, ?)"));
  ins->bind(1, chunk_id).bind(2, terms);
  return ins->run();
}

Status for_each_chunk(sql::Connection& c, int64_t kb_id, const std::function<void(int64_t, const std::string&)>& f) {
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT id, heading_path, text FROM retrieval_chunks WHERE kb_id = ? ORDER BY id"));
  st.bind(1, kb_id);
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    f(st.col_int(0), indexed_text(st.col_text(1), st.col_text(2)));
  }
  return {};
}

Result<std::optional<DocRow>> find_doc(sql::Connection& c, int64_t kb_id, const std::string& key) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached(std::string("SELECT id, ") + kDocCols +
                                             " FROM retrieval_documents WHERE kb_id = ? AND doc_key = ?"));
  st->bind(1, kb_id).bind(2, key);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  std::optional<DocRow> out;
  if (row) out = DocRow{st->col_int(0), doc_from(*st, 1)};
  st->reset();
  return out;
}

Result<std::vector<DocumentInfo>> list_docs(sql::Connection& c, int64_t kb_id, int limit, int offset) {
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare(std::string("SELECT ") + kDocCols +
                                             " FROM retrieval_documents WHERE kb_id = ? ORDER BY id LIMIT ? OFFSET ?"));
  st.bind_all(kb_id, static_cast<int64_t>(limit), static_cast<int64_t>(offset));
  std::vector<DocumentInfo> out;
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(doc_from(st, 0));
  }
  return out;
}

Result<std::vector<int64_t>> delete_chunks(sql::Connection& c, int64_t doc_rowid) {
  std::vector<int64_t> ids;
  int64_t kb_id = 0;
  {
    MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached("SELECT id, kb_id FROM retrieval_chunks WHERE doc_id = ?"));
    st->bind(1, doc_rowid);
    while (true) {
      MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
      if (!row) break;
      ids.push_back(st->col_int(0));
      kb_id = st->col_int(1);
    }
    st->reset();
  }
  if (ids.empty()) return ids;
  MOERAG_ASSIGN_OR_RETURN(auto* fts, c.cached("DELETE FROM " + fts_table(kb_id) + " WHERE rowid = ?"));
  for (int64_t id : ids) {
    fts->bind(1, id);
    MOERAG_TRY(fts->run());
  }
  MOERAG_ASSIGN_OR_RETURN(auto* del, c.cached("DELETE FROM retrieval_chunks WHERE doc_id = ?"));
  del->bind(1, doc_rowid);
  MOERAG_TRY(del->run());
  return ids;
}

Status delete_doc_row(sql::Connection& c, int64_t doc_rowid) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached("DELETE FROM retrieval_documents WHERE id = ?"));
  st->bind(1, doc_rowid);
  return st->run();
}

Result<int64_t> upsert_doc(sql::Connection& c, int64_t kb_id, const DocumentInfo& d, std::optional<int64_t> existing) {
  std::string allowed = json(d.allowed).dump();
  if (existing) {
    MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached(
        "UPDATE retrieval_documents SET source=?, content_hash=?, metadata=?, owner=?, allowed=?, n_chunks=?, "
        "n_pages=?, updated_at=datetime('now') WHERE id=?"));
    st->bind_all(d.source, d.content_hash, d.metadata_json, d.owner, allowed, d.n_chunks,
                 static_cast<int64_t>(d.n_pages), *existing);
    MOERAG_TRY(st->run());
    return *existing;
  }
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached(
      "INSERT INTO retrieval_documents(kb_id, doc_key, source, content_hash, metadata, owner, allowed, n_chunks, "
      "n_pages) VALUES(?,?,?,?,?,?,?,?,?)"));
  st->bind_all(kb_id, d.id, d.source, d.content_hash, d.metadata_json, d.owner, allowed, d.n_chunks,
               static_cast<int64_t>(d.n_pages));
  MOERAG_TRY(st->run());
  return c.last_insert_rowid();
}

Result<int64_t> insert_chunk(sql::Connection& c, int64_t kb_id, int64_t doc_rowid, const Chunk& ch,
                             const std::string& terms) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached(
      "INSERT INTO retrieval_chunks(doc_id, kb_id, position, page, heading_path, text, n_tokens) VALUES(?,?,?,?,?,?,?)"));
  st->bind_all(doc_rowid, kb_id, static_cast<int64_t>(ch.position), static_cast<int64_t>(ch.page), ch.heading_path,
               ch.text, static_cast<int64_t>(ch.n_tokens));
  MOERAG_TRY(st->run());
  int64_t id = c.last_insert_rowid();
  MOERAG_ASSIGN_OR_RETURN(auto* fts, c.cached("INSERT INTO " + fts_table(kb_id) + "(rowid, terms) VALUES(?, ?)"));
  fts->bind(1, id).bind(2, terms);
  MOERAG_TRY(fts->run());
  return id;
}

std::string indexed_text(const std::string& heading_path, const std::string& text) {
  return heading_path.empty() ? text : heading_path + "\n" + text;
}

Result<Filter> compile_filter(const std::vector<MetadataFilter>& filters, const Access& access) {
  Filter f;
  for (const auto& m : filters) {
    if (!valid_field(m.field))
      return Error(ErrorCode::INVALID_INPUT, "filter field '" + m.field + "' must be letters, digits, _ - or .");
    std::string path = "$." + m.field;
    if (m.op == MetadataFilter::Op::HAS_TAG) {
      f.sql += " AND EXISTS (SELECT 1 FROM json_each(d.metadata, ?) WHERE CAST(value AS TEXT) = ?)";
      f.binds.push_back(path);
      f.binds.push_back(m.value);
      continue;
    }
    const char* op = "=";
    switch (m.op) {
      case MetadataFilter::Op::NE: op = "!="; break;
      case MetadataFilter::Op::LT: op = "<"; break;
      case MetadataFilter::Op::LE: op = "<="; break;
      case MetadataFilter::Op::GT: op = ">"; break;
      case MetadataFilter::Op::GE: op = ">="; break;
      default: break;
    }
    if (m.numeric) {
      char* end = nullptr;
      double v = std::strtod(m.value.c_str(), &end);
      if (m.value.empty() || *end != '\0')
        return Error(ErrorCode::INVALID_INPUT, "filter on '" + m.field + "': '" + m.value + "' is not a number");
      f.sql += std::string(" AND CAST(json_extract(d.metadata, ?) AS REAL) ") + op + " ?";
      f.binds.push_back(path);
      f.binds.push_back(v);
    } else {
      f.sql += std::string(" AND CAST(json_extract(d.metadata, ?) AS TEXT) ") + op + " ?";
      f.binds.push_back(path);
      f.binds.push_back(m.value);
    }
  }
  if (!access.all) {
    f.sql += " AND (d.owner = '' OR d.owner = ?) AND (d.allowed = '[]' OR EXISTS (SELECT 1 FROM json_each(d.allowed) a "
             "WHERE a.value IN (SELECT value FROM json_each(?))))";
    f.binds.push_back(access.tenant);
    f.binds.push_back(json(access.groups).dump());
  }
  return f;
}

Result<std::vector<int64_t>> term_df(sql::Connection& c, int64_t kb_id, const std::vector<std::string>& terms) {
  std::vector<int64_t> df(terms.size(), 0);
  if (terms.empty()) return df;
  // In the temp schema: one per connection, nothing persisted, no migration; it
  // reads the FTS5 table's term index directly (no row is visited).
  std::string v = "temp.retrieval_vocab_" + std::to_string(kb_id);
  std::string q = "SELECT doc FROM " + v + " WHERE term = ?";
  auto prepared = c.cached(q);
  if (!prepared.ok()) {  // first use on this connection
    MOERAG_TRY(c.exec("CREATE VIRTUAL TABLE IF NOT EXISTS " + v + " USING fts5vocab(main, " + fts_table(kb_id) + ", row)"));
    prepared = c.cached(q);
  }
  MOERAG_ASSIGN_OR_RETURN(auto* st, std::move(prepared));
  for (size_t i = 0; i < terms.size(); ++i) {
    st->bind(1, terms[i]);
    auto row = st->step();
    if (!row.ok()) {
      st->reset();
      return row.error();
    }
    if (*row) df[i] = st->col_int(0);
    st->reset();
  }
  return df;
}

Result<std::vector<std::pair<int64_t, double>>> lexical(sql::Connection& c, int64_t kb_id, const std::string& match,
                                                        const Filter& f, int n) {
  std::vector<std::pair<int64_t, double>> out;
  if (match.empty()) return out;
  // One FTS5 table per KB: BM25 statistics are the KB's own, and an unfiltered
  // query touches nothing but the full-text index.
  std::string t = fts_table(kb_id);
  std::string q = f.sql.empty()
                      ? "SELECT rowid, bm25(" + t + ") AS s FROM " + t + " WHERE " + t + " MATCH ? ORDER BY s LIMIT ?"
                      : "SELECT c.id, bm25(" + t + ") AS s FROM " + t + " JOIN retrieval_chunks c ON c.id = " + t +
                            ".rowid JOIN retrieval_documents d ON d.id = c.doc_id WHERE " + t + " MATCH ?" + f.sql +
                            " ORDER BY s LIMIT ?";
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached(q));
  st->bind(1, match);
  bind_filter(*st, 2, f);
  st->bind(2 + static_cast<int>(f.binds.size()), static_cast<int64_t>(n));
  while (true) {
    auto row = st->step();
    if (!row.ok()) {
      st->reset();
      return row.error();
    }
    if (!*row) break;
    out.push_back({st->col_int(0), -st->col_double(1)});
  }
  st->reset();
  return out;
}

Result<std::unordered_set<int64_t>> allowed_chunks(sql::Connection& c, int64_t kb_id, const Filter& f) {
  std::string q = "SELECT c.id FROM retrieval_chunks c JOIN retrieval_documents d ON d.id = c.doc_id WHERE c.kb_id = ?" + f.sql;
  MOERAG_ASSIGN_OR_RETURN(auto st, c.prepare(q));
  st.bind(1, kb_id);
  bind_filter(st, 2, f);
  std::unordered_set<int64_t> out;
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.insert(st.col_int(0));
  }
  return out;
}

Result<std::optional<Passage>> load_passage(sql::Connection& c, int64_t chunk_id) {
  MOERAG_ASSIGN_OR_RETURN(auto* st, c.cached(
      "SELECT c.position, c.page, c.heading_path, c.text, d.doc_key, d.source, d.metadata FROM retrieval_chunks c "
      "JOIN retrieval_documents d ON d.id = c.doc_id WHERE c.id = ?"));
  st->bind(1, chunk_id);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  std::optional<Passage> p;
  if (row) {
    p.emplace();
    p->chunk_id = chunk_id;
    p->position = static_cast<int>(st->col_int(0));
    p->page = static_cast<int>(st->col_int(1));
    p->heading_path = st->col_text(2);
    p->text = st->col_text(3);
    p->document_id = st->col_text(4);
    p->source = st->col_text(5);
    p->metadata_json = st->col_text(6);
  }
  st->reset();
  return p;
}

}  // namespace moerag::retrieval::store
