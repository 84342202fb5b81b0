// `moerag serve` start-up step for retrieval: builds the Retriever over the main
// database, shares it as ctx.modules["retrieval"] and adds the /v1/kbs routes.
#include "cli/serve_modules.h"
#include "retrieval/settings.h"
#include "web/routes_kb.h"

namespace moerag::cli {
namespace {

RegisterServeModule reg(20, "retrieval", [](ServeContext& ctx) -> Status {
  MOERAG_ASSIGN_OR_RETURN(auto r, retrieval::open_retriever(ctx.settings, ctx.db));
  ctx.modules["retrieval"] = r;
  ctx.services.route_sets.push_back(web::kb_routes(r));
  return {};
});

}  // namespace
}  // namespace moerag::cli
