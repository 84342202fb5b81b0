// Joins the recommender to `moerag serve`: opens it over the main database with
// model files under <data_dir>/recsys/ and adds the /v1/recsys routes. A bad
// meta-path stops start-up with a clear message.
#include <filesystem>

#include "apps/recsys/recsys.h"
#include "cli/serve_modules.h"
#include "web/routes_recsys.h"

namespace moerag::cli {
namespace {

RegisterServeModule reg(60, "recsys", [](ServeContext& ctx) -> Status {
  // TODO(issue 10): read recsys.* from settings once the lead adds the keys.
  recsys::RecsysOptions o;
  auto dir = (std::filesystem::path(ctx.settings.data_dir) / "recsys").string();
  auto rec = recsys::Recommender::create(ctx.db, dir, o);
  if (!rec.ok()) return rec.error().with_context("recsys");
  ctx.modules["recsys"] = *rec;
  ctx.services.route_sets.push_back(web::recsys_routes(*rec));
  return ok_status();
});

}  // namespace
}  // namespace moerag::cli
