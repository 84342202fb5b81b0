// RetrievalOptions from the `retrieval` settings section.
#include "retrieval/settings.h"

#include <algorithm>
#include <filesystem>

#include "core/log.h"
#include "engine/engine.h"

namespace moerag::retrieval {

Result<RetrievalOptions> options_from_settings(const config::Settings& settings) {
  RetrievalOptions o;
  o.index_dir = (std::filesystem::path(settings.data_dir) / "indexes").string();
  if (!settings.raw.is_object() || !settings.raw.contains("retrieval")) return o;
  const auto& r = settings.raw["retrieval"];
  if (!r.is_object()) return Error(ErrorCode::INVALID_INPUT, "retrieval: must be an object");
  try {
    auto get = [&](const char* k, auto& v) {
      if (r.contains(k)) v = r[k].get<std::decay_t<decltype(v)>>();
    };
    get("chunk_tokens", o.chunk_tokens);
    get("chunk_overlap", o.chunk_overlap);
    get("embed_dim", o.embed_dim);
    get("stem_english", o.stem_english);
    get("index_factory", o.index_factory);
    get("large_index_vectors", o.large_index_vectors);
    get("candidates", o.candidates);
    get("lexical_max_postings", o.lexical_max_postings);
    get("lexical_common_share", o.lexical_common_share);
    get("rrf_k", o.rrf_k);
    get("max_file_bytes", o.max_file_bytes);
    get("snippet_chars", o.snippet_chars);
  } catch (const std::exception& e) {
    return Error(ErrorCode::INVALID_INPUT, std::string("retrieval settings: ") + e.what());
  }
  if (o.lexical_max_postings < 0)
    return Error(ErrorCode::INVALID_INPUT, "config: retrieval.lexical_max_postings = " +
                                               std::to_string(o.lexical_max_postings) +
                                               " is out of range (allowed: 0 = exhaustive, or more; set by " +
                                               settings.source_of("retrieval.lexical_max_postings") + ")");
  if (!(o.lexical_common_share >= 0 && o.lexical_common_share <= 1))
    return Error(ErrorCode::INVALID_INPUT, "config: retrieval.lexical_common_share = " + r["lexical_common_share"].dump() +
                                               " is out of range (allowed: 0..1; set by " +
                                               settings.source_of("retrieval.lexical_common_share") + ")");
  return o;
}

Result<std::shared_ptr<Retriever>> open_retriever(const config::Settings& settings, std::shared_ptr<sql::Database> db,
                                                  std::shared_ptr<engine::Embedder> embedder) {
  MOERAG_ASSIGN_OR_RETURN(auto o, options_from_settings(settings));
  if (!embedder && !settings.model.embed_path.empty()) {
    engine::EngineOptions eo;
    eo.n_threads = static_cast<size_t>(std::max(0, settings.model.threads));
    auto e = engine::open_embedder(settings.model.embed_path, eo);
    if (!e.ok()) return e.error().with_context("model.embed_path '" + settings.model.embed_path + "'");
    embedder = std::move(e).value();
    log::get("retrieval")->info("embedder {} ({} dimensions) from {}", embedder->id(), embedder->dim(),
                                settings.model.embed_path);
  }
  MOERAG_ASSIGN_OR_RETURN(auto r, Retriever::create(std::move(db), o, std::move(embedder)));
  return std::shared_ptr<Retriever>(std::move(r));
}

}  // namespace moerag::retrieval
