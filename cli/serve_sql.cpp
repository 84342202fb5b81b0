// Joins the NL-to-SQL assistant to `moerag serve`: databases registered through
// the API persist in the main database; `sql_assist.*` settings configure it. When
// the engine step loaded a model (module "generator"), the model writes the SQL
// under the schema grammar; otherwise the rule-based parser does.
#include "apps/sql_assist/sql_assist.h"
#include "cli/serve_modules.h"
#include "core/log.h"
#include "engine/generator.h"
#include "safety/filter.h"
#include "web/routes_sql.h"

namespace moerag::cli {
namespace {

sql_assist::AssistOptions options_from(const config::Settings& s) {
  sql_assist::AssistOptions o;
  const auto& c = s.sql_assist;
  o.max_rows = c.max_rows;
  o.time_limit_ms = c.time_limit_ms;
  o.sample_values = c.sample_values;
  o.value_index_rows = c.value_index_rows;
  o.max_sql_bytes = c.max_sql_bytes;
  o.model_examples = c.model_examples;
  o.model_timeout_ms = c.model_timeout_ms;
  for (const auto& [name, path] : c.databases) o.databases.push_back({name, path});
  return o;
}

RegisterServeModule reg(50, "sql_assist", [](ServeContext& ctx) -> Status {
  auto generator = ctx.get<engine::Generator>("generator");
  auto a = sql_assist::Assistant::create(options_from(ctx.settings), ctx.db, generator);
  if (!a.ok()) return a.error().with_context("sql_assist");
  log::get("cli")->info("sql_assist: SQL written by {}", generator ? "the model under the schema grammar" : "the rule-based parser");
  ctx.modules["sql_assist"] = *a;
  ctx.services.route_sets.push_back(web::sql_routes(*a, ctx.get<safety::Filter>("safety")));
  return ok_status();
});

}  // namespace
}  // namespace moerag::cli
