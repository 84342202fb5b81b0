// Joins the recommender to `moerag serve`: opens it over the main database with
// model files under <data_dir>/recsys/ and the `recsys.*` settings, and adds the
// /v1/recsys routes. A meta-path that breaks the graph schema fails settings
// loading (the registered check below), so every command exits 2 with one line.
#include <filesystem>

#include "apps/recsys/recsys.h"
#include "apps/recsys/settings.h"
#include "cli/serve_modules.h"
#include "web/routes_recsys.h"

namespace moerag::cli {
namespace {

config::RegisterCheck check("recsys.meta_paths", recsys::check_settings);

RegisterServeModule reg(60, "recsys", [](ServeContext& ctx) -> Status {
  auto o = recsys::options_from_settings(ctx.settings);
  if (!o.ok()) return o.error();
  auto dir = (std::filesystem::path(ctx.settings.data_dir) / "recsys").string();
  auto rec = recsys::Recommender::create(ctx.db, dir, *o);
  if (!rec.ok()) return rec.error().with_context("recsys");
  ctx.modules["recsys"] = *rec;
  ctx.services.route_sets.push_back(web::recsys_routes(*rec));
  return ok_status();
});

}  // namespace
}  // namespace moerag::cli
