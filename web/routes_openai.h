// OpenAI-compatible routes over the engine: POST /v1/chat/completions and
// /v1/completions (JSON or SSE streams ending in `data: [DONE]`), POST
// /v1/embeddings, GET /v1/models, plus the engine's Prometheus metrics (queue,
// running sequences, tokens/s, TTFT and inter-token histograms, KV use, prefix-cache
// hit rate, per-expert load). Errors use OpenAI's shape
// {"error":{"message","type","param","code"}}; the dispatcher's own 401/404/429 keep
// the project's shape. Without a model the generation routes answer 503. With a safety
// filter, input is checked before the engine or embedder sees it (422, code
// "content_filter") and output per sentence window (finish_reason "content_filter").
#pragma once

#include <memory>

#include "web/server.h"

namespace moerag::engine {
class Engine;
class Embedder;
}  // namespace moerag::engine
namespace moerag::safety {
class Filter;
}

namespace moerag::web {

/// The OpenAI routes; `engine` and `embedder` may each be null (503 on their routes).
/// With `filter`, every message (chat), the prompt (completions) or every input
/// (embeddings) is checked as input first; a blocked request answers 422 and never
/// reaches the engine or the embedder. Generated text is checked as output per sentence
/// window before it is sent (redactions applied); a blocked window cancels the sequence
/// and the answer ends with finish_reason "content_filter" without the blocked text.
RouteSet openai_routes(std::shared_ptr<engine::Engine> engine, std::shared_ptr<engine::Embedder> embedder,
                       std::shared_ptr<safety::Filter> filter = nullptr);

}  // namespace moerag::web
