// Building a Retriever from the typed settings: RetrievalOptions from the
// optional `retrieval` section (defaults otherwise), indexes under
// <data_dir>/indexes, and the embedder choice (built-in unless model.embed_path,
// whose GGUF is loaded with the engine's BERT embedder).
#pragma once

#include <memory>

#include "config/settings.h"
#include "retrieval/retriever.h"

namespace moerag::retrieval {

/// Options from settings.raw["retrieval"] (keys as in RetrievalOptions); INVALID_INPUT
/// names a bad key.
Result<RetrievalOptions> options_from_settings(const config::Settings& settings);

/// A Retriever over the main database with the configured embedder: `embedder` when
/// given (serve shares the one the engine step loaded), else model.embed_path opened
/// here, else the built-in embedder.
Result<std::shared_ptr<Retriever>> open_retriever(const config::Settings& settings, std::shared_ptr<sql::Database> db,
                                                  std::shared_ptr<engine::Embedder> embedder = nullptr);

}  // namespace moerag::retrieval
