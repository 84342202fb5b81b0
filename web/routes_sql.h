// The NL-to-SQL routes: list and register databases, read a schema, ask a
// question (or run validated SQL). Installed by cli/serve_sql.cpp.
#pragma once

#include <memory>

#include "web/server.h"

namespace moerag::sql_assist {
class Assistant;
}

namespace moerag::web {

/// /v1/sql/query, /v1/sql/databases (GET user, POST/DELETE admin), /v1/sql/databases/{db}/schema,
/// /v1/sql/databases/{db}/annotations and /examples (admin), /v1/sql/databases/{db}/grammar.
RouteSet sql_routes(std::shared_ptr<sql_assist::Assistant> assistant);

}  // namespace moerag::web
