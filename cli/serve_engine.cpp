// `moerag serve` start-up step "engine" (order 30): loads model.path as the
// continuous-batching Engine and model.embed_path as an Embedder when set, stores them
// as modules "engine", "generator" (engine::Generator) and "embedder"
// (engine::Embedder) for the apps, and always adds the OpenAI-compatible routes
// (503 on the generation routes without a model; /v1/embeddings falls back to the
// built-in hashed n-gram embedder, unfitted, when no embedding model is given).
#include "cli/serve_modules.h"
#include "core/log.h"
#include "engine/engine.h"
#include "retrieval/hashed_embedder.h"
#include "safety/filter.h"
#include "web/routes_openai.h"

namespace moerag::cli {
namespace {

using json = nlohmann::json;

// The value at a dotted key of the merged settings, or `fallback` while the key is absent.
template <typename T>
T setting(const config::Settings& s, const std::string& dotted, T fallback) {
  std::string p = "/" + dotted;
  for (auto& ch : p)
    if (ch == '.') ch = '/';
  const json::json_pointer ptr(p);
  if (!s.raw.is_object() || !s.raw.contains(ptr)) return fallback;
  try {
    return s.raw.at(ptr).get<T>();
  } catch (const std::exception&) {
    return fallback;
  }
}

/// The `engine.*` settings (defaults from EngineOptions for keys not present).
engine::EngineOptions engine_options(const config::Settings& s) {
  engine::EngineOptions o;
  o.n_threads = static_cast<size_t>(std::max(0, s.model.threads));
  o.n_ctx = setting(s, "engine.n_ctx", o.n_ctx);
  o.kv_block_size = setting(s, "engine.kv_block_size", o.kv_block_size);
  o.kv_tokens = setting(s, "engine.kv_tokens", int64_t{65536});
  o.chat_template = setting(s, "engine.chat_template", o.chat_template);
  const std::string kv_type = setting(s, "engine.kv_type", std::string("f16"));
  o.kv_type = kv_type == "f32" ? engine::GgmlType::F32 : kv_type == "q8_0" ? engine::GgmlType::Q8_0 : engine::GgmlType::F16;
  o.scheduler.max_running = setting(s, "engine.max_running", o.scheduler.max_running);
  o.scheduler.max_batch_tokens = setting(s, "engine.max_batch_tokens", o.scheduler.max_batch_tokens);
  o.scheduler.max_waiting = setting(s, "engine.max_waiting", o.scheduler.max_waiting);
  return o;
}

RegisterServeModule reg_engine(30, "engine", [](ServeContext& ctx) -> Status {
  auto log = log::get("cli");
  std::shared_ptr<engine::Engine> eng;
  std::shared_ptr<engine::Embedder> emb;
  if (!ctx.settings.model.path.empty()) {
    const engine::EngineOptions o = engine_options(ctx.settings);
    MOERAG_ASSIGN_OR_RETURN(eng, engine::open_engine(ctx.settings.model.path, o));
    log->info("engine: {} loaded (context {}, up to {} sequences per batch)", eng->model_id(), eng->n_ctx(),
              o.scheduler.max_running);
    ctx.modules["engine"] = eng;
    ctx.modules["generator"] = std::shared_ptr<engine::Generator>(eng);
  } else {
    log->info("engine: no model (--model FILE.gguf); /v1/chat/completions and /v1/completions answer 503");
  }
  if (!ctx.settings.model.embed_path.empty()) {
    engine::EngineOptions o;
    o.n_threads = static_cast<size_t>(std::max(0, ctx.settings.model.threads));
    MOERAG_ASSIGN_OR_RETURN(auto e, engine::open_embedder(ctx.settings.model.embed_path, o));
    emb = std::move(e);
    log->info("engine: embedder {} loaded ({} dimensions)", emb->id(), emb->dim());
    ctx.modules["embedder"] = emb;
  } else {
    emb = std::make_shared<retrieval::HashedEmbedder>(384, std::vector<uint32_t>{}, 0);
  }
  // Safety starts first (order 10); without it the routes run unchecked.
  ctx.services.route_sets.push_back(web::openai_routes(eng, emb, ctx.get<safety::Filter>("safety")));
  return {};
});

}  // namespace
}  // namespace moerag::cli
