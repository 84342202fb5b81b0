// RetrievalOptions from the `retrieval` settings section.
#include "retrieval/settings.h"

#include <filesystem>

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
  return o;
}

Result<std::shared_ptr<Retriever>> open_retriever(const config::Settings& settings, std::shared_ptr<sql::Database> db) {
  MOERAG_ASSIGN_OR_RETURN(auto o, options_from_settings(settings));
  if (!settings.model.embed_path.empty())
    return Error(ErrorCode::UNAVAILABLE, "model.embed_path (--embed-model) needs the engine's BERT embedder, which this "
                                         "build does not have yet; leave it empty to use the built-in embedder");
  MOERAG_ASSIGN_OR_RETURN(auto r, Retriever::create(std::move(db), o));
  return std::shared_ptr<Retriever>(std::move(r));
}

}  // namespace moerag::retrieval
