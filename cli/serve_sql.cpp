// Joins the NL-to-SQL assistant to `moerag serve`: databases registered through
// the API persist in the main database; `sql_assist.*` settings are read from the
// merged configuration when present (defaults otherwise).
#include "apps/sql_assist/sql_assist.h"
#include "cli/serve_modules.h"
#include "web/routes_sql.h"

namespace moerag::cli {
namespace {

// TODO(issue 11): replace with typed settings once the lead adds sql_assist.* to config/.
Result<sql_assist::AssistOptions> options_from(const config::Settings& s) {
  sql_assist::AssistOptions o;
  if (!s.raw.is_object() || !s.raw.contains("sql_assist")) return o;
  const auto& j = s.raw["sql_assist"];
  try {
    o.max_rows = j.value("max_rows", o.max_rows);
    o.time_limit_ms = j.value("time_limit_ms", o.time_limit_ms);
    o.sample_values = j.value("sample_values", o.sample_values);
    o.value_index_rows = j.value("value_index_rows", o.value_index_rows);
    o.max_sql_bytes = j.value("max_sql_bytes", o.max_sql_bytes);
    if (j.contains("databases"))
      for (const auto& d : j["databases"]) o.databases.push_back({d.at("name").get<std::string>(), d.at("path").get<std::string>()});
  } catch (const std::exception& e) {
    return Error(ErrorCode::INVALID_INPUT, std::string("sql_assist settings: ") + e.what());
  }
  return o;
}

RegisterServeModule reg(50, "sql_assist", [](ServeContext& ctx) -> Status {
  MOERAG_ASSIGN_OR_RETURN(auto o, options_from(ctx.settings));
  auto a = sql_assist::Assistant::create(o, ctx.db);
  if (!a.ok()) return a.error().with_context("sql_assist");
  ctx.modules["sql_assist"] = *a;
  ctx.services.route_sets.push_back(web::sql_routes(*a));
  return ok_status();
});

}  // namespace
}  // namespace moerag::cli
