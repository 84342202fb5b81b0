// `moerag serve` start-up step for retrieval (order 35, after the engine step so a
// configured embedding model is loaded once and shared): builds the Retriever over
// the main database, shares it as ctx.modules["retrieval"] and adds the /v1/kbs
// routes. The retrieval.* knobs are checked when settings load (exit 2).
#include "cli/serve_modules.h"
#include "engine/embedder.h"
#include "retrieval/settings.h"
#include "safety/filter.h"
#include "web/routes_kb.h"

namespace moerag::cli {
namespace {

config::RegisterCheck check("retrieval", [](const config::Settings& s) -> Status {
  auto o = retrieval::options_from_settings(s);
  if (!o.ok()) return o.error();
  return ok_status();
});

RegisterServeModule reg(35, "retrieval", [](ServeContext& ctx) -> Status {
  MOERAG_ASSIGN_OR_RETURN(auto r, retrieval::open_retriever(ctx.settings, ctx.db, ctx.get<engine::Embedder>("embedder")));
  ctx.modules["retrieval"] = r;
  ctx.services.route_sets.push_back(web::kb_routes(r, ctx.get<safety::Filter>("safety")));
  return {};
});

}  // namespace
}  // namespace moerag::cli
