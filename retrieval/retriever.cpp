// Retriever: knowledge bases, documents and the lifecycle of each KB's vector
// index (load from file when current, rebuild from SQLite when missing or stale,
// save atomically). Ingestion and search live in retriever_ingest/_search.cpp.
#include "retrieval/retriever.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/log.h"
#include "retrieval/analyzer.h"
#include "retrieval/hashed_embedder.h"
#include "retrieval/lsa_embedder.h"
#include "retrieval/retriever_impl.h"
#include "retrieval/stemmer.h"

namespace moerag::retrieval {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::shared_ptr<KbState> Retriever::Impl::state(int64_t kb_id) {
  std::lock_guard<std::mutex> lock(states_mu);
  auto& s = states[kb_id];
  if (!s) s = std::make_shared<KbState>();
  return s;
}

std::string Retriever::Impl::index_path(int64_t kb_id) const {
  return (fs::path(options.index_dir) / ("kb-" + std::to_string(kb_id) + ".faiss")).string();
}

Result<std::shared_ptr<engine::Embedder>> Retriever::Impl::embedder_for(sql::Connection& c, int64_t kb_id,
                                                                        int64_t fit_n) {
  if (external) return external;
  MOERAG_ASSIGN_OR_RETURN(auto blob, store::fit_blob(c, kb_id));
  if (LsaEmbedder::is_model(blob)) {
    auto lsa = LsaEmbedder::load(blob);
    if (lsa.ok() && static_cast<int>((*lsa)->dim()) == options.embed_dim)
      return std::shared_ptr<engine::Embedder>(std::move(lsa).value());
    blob.clear();  // damaged, or fitted at another embed_dim: hashed until the next refit
  }
  // Unfitted, or a document-frequency table from before the LSA model.
  std::vector<uint32_t> df(blob.size() == HashedEmbedder::kBuckets * sizeof(uint32_t) ? HashedEmbedder::kBuckets : 0);
  std::memcpy(df.data(), blob.data(), df.size() * sizeof(uint32_t));
  return std::shared_ptr<engine::Embedder>(std::make_shared<HashedEmbedder>(options.embed_dim, std::move(df), fit_n));
}

Status Retriever::Impl::rebuild(sql::Connection& c, int64_t kb_id, KbState& st) {
  MOERAG_ASSIGN_OR_RETURN(auto row, store::kb_by_id(c, kb_id));
  MOERAG_ASSIGN_OR_RETURN(st.embedder, embedder_for(c, kb_id, row.fit_n));
  st.fit_n = row.fit_n;
  std::vector<int64_t> ids;
  std::vector<std::string> texts;
  MOERAG_TRY(store::for_each_chunk(c, kb_id, [&](int64_t id, const std::string& t) {
    ids.push_back(id);
    texts.push_back(t);
  }));
  MOERAG_ASSIGN_OR_RETURN(auto vecs, st.embedder->embed(texts));
  int dim = static_cast<int>(st.embedder->dim());
  MOERAG_ASSIGN_OR_RETURN(st.index, DenseIndex::create(dim, options.index_factory, static_cast<int64_t>(ids.size()),
                                                       options.large_index_vectors));
  MOERAG_TRY(check_vectors(row.kb.name, st, texts.size(), vecs.size()));
  MOERAG_TRY(st.index->add(ids.size(), vecs.data(), ids.data()));
  st.generation = row.generation;
  st.dirty = true;
  log::get("retrieval")->info("rebuilt vector index of '{}': {} chunks, embedder {}", row.kb.name, ids.size(),
                              st.embedder->id());
  return {};
}

Status Retriever::Impl::sync(sql::Connection& c, int64_t kb_id, KbState& st) {
  MOERAG_ASSIGN_OR_RETURN(int64_t gen, store::generation(c, kb_id));
  if (st.index && st.generation == gen) return {};
  // The file is current when its sidecar names this generation and embedder.
  std::string path = index_path(kb_id);
  std::ifstream meta_in(path + ".json");
  json meta = json::parse(meta_in, nullptr, false);
  MOERAG_ASSIGN_OR_RETURN(auto row, store::kb_by_id(c, kb_id));
  MOERAG_ASSIGN_OR_RETURN(auto emb, embedder_for(c, kb_id, row.fit_n));
  const std::string built_by = meta.is_object() ? meta.value("embedder", std::string()) : std::string();
  if (meta.is_object() && meta.value("generation", int64_t(-2)) == row.generation && built_by == emb->id()) {
    auto loaded = DenseIndex::load(path);
    // A file of another dimension than the embedder's (copied or damaged) is rebuilt, never searched.
    if (loaded.ok() && (*loaded)->size() == meta.value("n", int64_t(-1)) &&
        (*loaded)->dim() == static_cast<int>(emb->dim())) {
      st.index = std::move(loaded).value();
      st.embedder = emb;
      st.fit_n = row.fit_n;
      st.generation = row.generation;
      st.dirty = false;
      return {};
    }
  }
  // The embedding model changed (e.g. --embed-model added or removed): say so, the rebuild re-embeds every chunk.
  auto is_model = [](const std::string& id) { return id.rfind("gguf:", 0) == 0; };
  if (!st.index && !built_by.empty() && built_by != emb->id() && (is_model(built_by) || is_model(emb->id())))
    log::get("retrieval")->warn("knowledge base '{}' was indexed by {} ({} dimensions); re-embedding its {} chunks with {} "
                                "({} dimensions)", row.kb.name, built_by, meta.value("dim", 0), row.kb.n_chunks,
                                emb->id(), emb->dim());
  return rebuild(c, kb_id, st);
}

Status Retriever::Impl::check_vectors(const std::string& kb, const KbState& st, size_t n_texts, size_t n_floats) const {
  const size_t dim = st.index ? static_cast<size_t>(st.index->dim()) : 0;
  if (st.index && st.embedder && st.embedder->dim() == dim && n_floats == n_texts * dim) return {};
  return Error(ErrorCode::INVALID_INPUT,
               "knowledge base '" + kb + "': the embedder " + (st.embedder ? st.embedder->id() : "(none)") +
                   " gives " + std::to_string(n_texts ? n_floats / n_texts : (st.embedder ? st.embedder->dim() : 0)) +
                   "-dimensional vectors but the vector index has " + std::to_string(dim) +
                   " dimensions; use the embedder it was built with, or delete and re-ingest the knowledge base");
}

void Retriever::Impl::describe(KnowledgeBase& kb) {
  std::shared_ptr<KbState> st;
  {
    std::lock_guard<std::mutex> l(states_mu);
    auto it = states.find(kb.id);
    if (it != states.end()) st = it->second;
  }
  if (st) {
    std::shared_lock<std::shared_mutex> lock(st->mu, std::try_to_lock);
    if (lock.owns_lock() && st->index && st->embedder) {
      kb.embedder = st->embedder->id();
      kb.embed_dim = st->index->dim();
      return;
    }
  }
  // Not loaded by this process (or a writer holds it): what the saved index says.
  std::ifstream in(index_path(kb.id) + ".json");
  json meta = json::parse(in, nullptr, false);
  if (!meta.is_object()) return;
  kb.embedder = meta.value("embedder", std::string());
  kb.embed_dim = meta.value("dim", 0);
}

Status Retriever::Impl::refit(sql::Connection& c, int64_t kb_id, KbState& st) {
  if (external) return {};
  std::vector<std::string> texts;
  MOERAG_TRY(store::for_each_chunk(c, kb_id, [&](int64_t, const std::string& t) { texts.push_back(t); }));
  return fit_and_rebuild(c, kb_id, st, texts);
}

Status Retriever::Impl::fit_and_rebuild(sql::Connection& c, int64_t kb_id, KbState& st,
                                        const std::vector<std::string>& texts) {
  std::string blob = LsaEmbedder::fit(texts, static_cast<size_t>(options.embed_dim));
  {
    sql::Transaction tx(c);
    MOERAG_TRY(tx.begun());
    MOERAG_TRY(store::set_fit(c, kb_id, blob, static_cast<int64_t>(texts.size())));
    MOERAG_TRY(tx.commit());
  }
  return rebuild(c, kb_id, st);
}

Status Retriever::Impl::save(int64_t kb_id, KbState& st) {
  if (!st.index || !st.dirty) return {};
  std::string path = index_path(kb_id);
  MOERAG_TRY(st.index->save(path));
  json meta = {{"generation", st.generation}, {"embedder", st.embedder->id()}, {"dim", st.index->dim()},
               {"n", st.index->size()}};
  std::string tmp = path + ".json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << meta.dump();
    if (!out) return Error(ErrorCode::IO, "cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path + ".json", ec);
  if (ec) return Error(ErrorCode::IO, "cannot rename " + tmp + ": " + ec.message());
  st.dirty = false;
  return {};
}

std::string Retriever::Impl::analyzer_tag() const {
  return options.stem_english ? kAnalyzerVersion : std::string(kAnalyzerVersion) + "-nostem";
}

Status Retriever::Impl::reanalyze_stale(sql::Connection& c) {
  const std::string tag = analyzer_tag();
  MOERAG_ASSIGN_OR_RETURN(auto kbs, store::kb_analyzers(c));
  for (const auto& [kb_id, had] : kbs) {
    if (had == tag) continue;
    sql::Transaction tx(c);
    MOERAG_TRY(tx.begun());
    // Another process opening the same database may have re-analysed it meanwhile.
    MOERAG_ASSIGN_OR_RETURN(auto now, store::kb_analyzers(c));
    if (std::find(now.begin(), now.end(), std::make_pair(kb_id, tag)) != now.end()) continue;
    MOERAG_ASSIGN_OR_RETURN(auto row, store::kb_by_id(c, kb_id));
    std::vector<int64_t> ids;
    std::vector<std::string> texts;
    MOERAG_TRY(store::for_each_chunk(c, kb_id, [&](int64_t id, const std::string& t) {
      ids.push_back(id);
      texts.push_back(t);
    }));
    for (size_t i = 0; i < ids.size(); ++i)
      MOERAG_TRY(store::replace_terms(c, kb_id, ids[i], index_text(texts[i], options.stem_english)));
    // The vector index follows the new generation on its next sync (rebuilt, not loaded).
    if (!external && row.fit_n > 0)
      MOERAG_TRY(store::set_fit(c, kb_id, LsaEmbedder::fit(texts, static_cast<size_t>(options.embed_dim)),
                                static_cast<int64_t>(texts.size())));
    MOERAG_TRY(store::set_analyzer(c, kb_id, tag));
    MOERAG_TRY(tx.commit());
    log::get("retrieval")->info("re-analysed knowledge base '{}' ({} chunks): analyzer '{}' -> '{}'", row.kb.name,
                                ids.size(), had.empty() ? "light" : had, tag);
  }
  return {};
}

Retriever::Retriever(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Retriever::~Retriever() {
  if (!impl_) return;
  auto st = flush();
  if (!st.ok()) log::get("retrieval")->warn("saving vector indexes at exit: {}", st.error().message);
}

Result<std::unique_ptr<Retriever>> Retriever::create(std::shared_ptr<sql::Database> db, RetrievalOptions options,
                                                     std::shared_ptr<engine::Embedder> embedder) {
  if (options.index_dir.empty()) options.index_dir = (fs::path(db->path()).parent_path() / "indexes").string();
  std::error_code ec;
  fs::create_directories(options.index_dir, ec);
  if (ec) return Error(ErrorCode::IO, "cannot create index folder " + options.index_dir + ": " + ec.message());
  if (options.chunk_tokens < 16 || options.chunk_tokens > 4096)
    return Error(ErrorCode::INVALID_INPUT, "retrieval.chunk_tokens must be 16..4096");
  if (options.embed_dim < 16 || options.embed_dim > 4096)
    return Error(ErrorCode::INVALID_INPUT, "retrieval.embed_dim must be 16..4096");
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(db);
  impl->options = std::move(options);
  impl->external = std::move(embedder);
  {
    MOERAG_ASSIGN_OR_RETURN(auto c, impl->db->lease());
    MOERAG_TRY(store::migrate(*c));
    MOERAG_TRY(impl->reanalyze_stale(*c));
  }
  return std::unique_ptr<Retriever>(new Retriever(std::move(impl)));
}

const RetrievalOptions& Retriever::options() const { return impl_->options; }

Result<KnowledgeBase> Retriever::create_kb(const KnowledgeBase& spec) {
  static const std::regex kName("[A-Za-z0-9_.-]{1,64}");
  if (!std::regex_match(spec.name, kName))
    return Error(ErrorCode::INVALID_INPUT, "knowledge-base name '" + spec.name + "' must be 1-64 of A-Z a-z 0-9 _ . -");
  if (spec.lexical_weight < 0 || spec.dense_weight < 0 || spec.lexical_weight + spec.dense_weight <= 0)
    return Error(ErrorCode::INVALID_INPUT, "lexical_weight and dense_weight must be >= 0 and not both 0");
  MOERAG_ASSIGN_OR_RETURN(auto c, impl_->db->lease());
  if (store::find_kb(*c, spec.name).ok())
    return Error(ErrorCode::CONFLICT, "knowledge base '" + spec.name + "' exists already");
  MOERAG_ASSIGN_OR_RETURN(auto st, c->prepare(
      "INSERT INTO retrieval_kbs(name, description, lexical_weight, dense_weight, analyzer) VALUES(?,?,?,?,?)"));
  st.bind_all(spec.name, spec.description, spec.lexical_weight, spec.dense_weight, impl_->analyzer_tag());
  {
    sql::Transaction tx(*c);
    MOERAG_TRY(tx.begun());
    MOERAG_TRY(st.run());
    MOERAG_TRY(store::create_fts(*c, c->last_insert_rowid()));
    MOERAG_TRY(tx.commit());
  }
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb(*c, spec.name));
  impl_->describe(row.kb);
  return row.kb;
}

Result<std::vector<KnowledgeBase>> Retriever::list_kbs() {
  MOERAG_ASSIGN_OR_RETURN(auto c, impl_->db->lease());
  MOERAG_ASSIGN_OR_RETURN(auto st, c->prepare("SELECT name FROM retrieval_kbs ORDER BY name"));
  std::vector<std::string> names;
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    names.push_back(st.col_text(0));
  }
  std::vector<KnowledgeBase> out;
  for (const auto& n : names) {
    auto r = store::find_kb(*c, n);
    if (!r.ok()) continue;
    impl_->describe(r->kb);
    out.push_back(r->kb);
  }
  return out;
}

Result<KnowledgeBase> Retriever::get_kb(const std::string& name) {
  MOERAG_ASSIGN_OR_RETURN(auto c, impl_->db->lease());
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb(*c, name));
  impl_->describe(row.kb);
  return row.kb;
}

Status Retriever::delete_kb(const std::string& name) {
  std::lock_guard<std::mutex> w(impl_->write_mu);
  MOERAG_ASSIGN_OR_RETURN(auto c, impl_->db->lease());
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb(*c, name));
  int64_t id = row.kb.id;
  auto st = impl_->state(id);
  std::unique_lock<std::shared_mutex> lock(st->mu);
  {
    sql::Transaction tx(*c);
    MOERAG_TRY(tx.begun());
    MOERAG_TRY(c->exec("DROP TABLE IF EXISTS " + store::fts_table(id)));
    for (const char* q : {"DELETE FROM retrieval_chunks WHERE kb_id = ?", "DELETE FROM retrieval_documents WHERE kb_id = ?",
                          "DELETE FROM retrieval_kb_fits WHERE kb_id = ?", "DELETE FROM retrieval_kbs WHERE id = ?"}) {
      MOERAG_ASSIGN_OR_RETURN(auto s, c->prepare(q));
      s.bind(1, id);
      MOERAG_TRY(s.run());
    }
    MOERAG_TRY(tx.commit());
  }
  st->index.reset();
  st->generation = -1;
  st->dirty = false;
  std::error_code ec;
  fs::remove(impl_->index_path(id), ec);
  fs::remove(impl_->index_path(id) + ".json", ec);
  std::lock_guard<std::mutex> l(impl_->states_mu);
  impl_->states.erase(id);
  return {};
}

Result<DocumentInfo> Retriever::get_document(const std::string& kb, const std::string& id) {
  MOERAG_ASSIGN_OR_RETURN(auto c, impl_->db->lease());
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb(*c, kb));
  MOERAG_ASSIGN_OR_RETURN(auto doc, store::find_doc(*c, row.kb.id, id));
  if (!doc) return Error(ErrorCode::NOT_FOUND, "no document '" + id + "' in knowledge base '" + kb + "'");
  return doc->info;
}

Result<std::vector<DocumentInfo>> Retriever::list_documents(const std::string& kb, int limit, int offset) {
  MOERAG_ASSIGN_OR_RETURN(auto c, impl_->db->lease());
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb(*c, kb));
  return store::list_docs(*c, row.kb.id, std::clamp(limit, 1, 1000), std::max(offset, 0));
}

Status Retriever::delete_document(const std::string& kb, const std::string& id) {
  std::lock_guard<std::mutex> w(impl_->write_mu);
  MOERAG_ASSIGN_OR_RETURN(auto c, impl_->db->lease());
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb(*c, kb));
  MOERAG_ASSIGN_OR_RETURN(auto doc, store::find_doc(*c, row.kb.id, id));
  if (!doc) return Error(ErrorCode::NOT_FOUND, "no document '" + id + "' in knowledge base '" + kb + "'");
  auto st = impl_->state(row.kb.id);
  std::unique_lock<std::shared_mutex> lock(st->mu);
  MOERAG_TRY(impl_->sync(*c, row.kb.id, *st));
  std::vector<int64_t> removed;
  int64_t gen = 0;
  {
    sql::Transaction tx(*c);
    MOERAG_TRY(tx.begun());
    MOERAG_ASSIGN_OR_RETURN(removed, store::delete_chunks(*c, doc->rowid));
    MOERAG_TRY(store::delete_doc_row(*c, doc->rowid));
    MOERAG_ASSIGN_OR_RETURN(gen, store::bump_generation(*c, row.kb.id));
    MOERAG_TRY(tx.commit());
  }
  st->index->remove(removed);
  st->generation = gen;
  st->dirty = true;
  return impl_->save(row.kb.id, *st);
}

Status Retriever::flush() {
  std::vector<std::pair<int64_t, std::shared_ptr<KbState>>> all;
  {
    std::lock_guard<std::mutex> l(impl_->states_mu);
    all.assign(impl_->states.begin(), impl_->states.end());
  }
  for (auto& [id, st] : all) {
    std::unique_lock<std::shared_mutex> lock(st->mu);
    MOERAG_TRY(impl_->save(id, *st));
  }
  return {};
}

}  // namespace moerag::retrieval
