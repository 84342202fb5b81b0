// The NL-to-SQL routes: list and register databases, read a schema, ask a
// question (or run validated SQL). Installed by cli/serve_sql.cpp.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "web/server.h"

namespace moerag::sql_assist {
class Assistant;
struct Cell;
struct QueryResponse;
}

namespace moerag::safety {
class Filter;
}

namespace moerag::web {

/// /v1/sql/query, /v1/sql/databases (GET user, POST/DELETE admin), /v1/sql/databases/{db}/schema,
/// /v1/sql/databases/{db}/annotations and /examples (admin), /v1/sql/databases/{db}/grammar.
/// With `filter`, a question is checked as input before schema linking or the model sees
/// it; a blocked one answers 422 (code "blocked", with the categories).
RouteSet sql_routes(std::shared_ptr<sql_assist::Assistant> assistant, std::shared_ptr<safety::Filter> filter = nullptr);

/// One result cell as JSON (null, integer, number or string).
nlohmann::json sql_cell_json(const sql_assist::Cell& c);
/// The body of POST /v1/sql/query; `moerag sql --json` prints the same object.
nlohmann::json sql_response_json(const sql_assist::QueryResponse& r);

}  // namespace moerag::web
