// OpenAI-compatible routes over the engine: POST /v1/chat/completions and
// /v1/completions (JSON or SSE streams ending in `data: [DONE]`), POST
// /v1/embeddings, GET /v1/models, plus the engine's Prometheus metrics (queue,
// running sequences, tokens/s, TTFT and inter-token histograms, KV use, prefix-cache
// hit rate, per-expert load). Errors use OpenAI's shape
// {"error":{"message","type","param","code"}}; the dispatcher's own 401/404/429 keep
// the project's shape. Without a model the generation routes answer 503.
#pragma once

#include <memory>

#include "web/server.h"

namespace moerag::engine {
class Engine;
class Embedder;
}  // namespace moerag::engine

namespace moerag::web {

/// The OpenAI routes; `engine` and `embedder` may each be null (503 on their routes).
RouteSet openai_routes(std::shared_ptr<engine::Engine> engine, std::shared_ptr<engine::Embedder> embedder);

}  // namespace moerag::web
