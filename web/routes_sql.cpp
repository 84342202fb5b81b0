// NL-to-SQL routes over the Assistant: users query and read schemas; admins
// register databases and add annotations and examples. Errors map through the
// one table (unknown db 404, refused or broken SQL 400).
#include "web/routes_sql.h"

#include "apps/sql_assist/sql_assist.h"
#include "web/routes.h"
#include "web/safety_gate.h"

namespace moerag::web {
namespace {

using namespace moerag::sql_assist;

json schema_json(const SchemaInfo& s) {
  json tables = json::array();
  for (const auto& t : s.tables) {
    json cols = json::array();
    for (const auto& c : t.columns)
      cols.push_back({{"name", c.name}, {"type", c.type}, {"primary_key", c.primary_key}, {"numeric", c.numeric},
                      {"samples", c.samples}, {"description", c.description}, {"synonyms", c.synonyms}});
    tables.push_back({{"name", t.name}, {"rows", t.n_rows}, {"description", t.description},
                      {"synonyms", t.synonyms}, {"columns", cols}});
  }
  json fks = json::array();
  for (const auto& f : s.foreign_keys)
    fks.push_back({{"from_table", f.from_table}, {"from_column", f.from_column}, {"to_table", f.to_table},
                   {"to_column", f.to_column}});
  json ex = json::array();
  for (const auto& e : s.examples) ex.push_back({{"question", e.question}, {"sql", e.sql}});
  return {{"db", s.db}, {"tables", tables}, {"foreign_keys", fks}, {"examples", ex}};
}

Result<std::string> string_field(const json& body, const char* name, bool required) {
  if (!body.contains(name)) {
    if (required) return Error(ErrorCode::INVALID_INPUT, std::string("field '") + name + "' (string) is required");
    return std::string();
  }
  if (!body[name].is_string()) return Error(ErrorCode::INVALID_INPUT, std::string("field '") + name + "' must be a string");
  return body[name].get<std::string>();
}

const json kQuerySchema = {{"type", "object"},
                           {"required", {"db"}},
                           {"properties",
                            {{"db", {{"type", "string"}}},
                             {"question", {{"type", "string"}}},
                             {"sql", {{"type", "string"}}},
                             {"execute", {{"type", "boolean"}}}}}};

void add_query_route(Router& router, std::shared_ptr<Assistant> a, std::shared_ptr<safety::Filter> filter) {
  router.add({"POST", "/v1/sql/query", Role::USER, "sql",
              "Turn a question into validated read-only SQL over a registered database, and run it. The SQL is "
              "written by the loaded model decoding under the database's schema grammar, or by the rule-based parser "
              "when no model is loaded; the response's generator field says which (\"model\", \"rules\", or "
              "\"user\" for given SQL). A question is checked by the safety filter first (blocked: 422).", kQuerySchema,
              {{"type", "object"}}, [a, filter](Ctx& c) {
                auto body = c.json_body();
                if (!body.ok()) return c.fail(body.error());
                QueryRequest r;
                auto db = string_field(*body, "db", true);
                if (!db.ok()) return c.fail(db.error());
                auto q = string_field(*body, "question", false);
                if (!q.ok()) return c.fail(q.error());
                auto s = string_field(*body, "sql", false);
                if (!s.ok()) return c.fail(s.error());
                if (body->contains("execute") && !(*body)["execute"].is_boolean())
                  return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'execute' must be true or false"));
                // Before the database lookup, so a blocked question is refused the same way everywhere.
                if (refuse_blocked_input(c, filter.get(), *q)) return;
                r.db = *db;
                r.question = *q;
                r.sql = *s;
                r.execute = body->value("execute", true);
                auto resp = a->query(r);
                if (!resp.ok()) return c.fail(resp.error());
                c.send(sql_response_json(*resp));
              }});
}

void add_database_routes(Router& router, std::shared_ptr<Assistant> a) {
  router.add({"GET", "/v1/sql/databases", Role::USER, "sql", "List registered databases.", nullptr, {{"type", "object"}},
              [a](Ctx& c) {
                json arr = json::array();
                for (const auto& d : a->databases()) {
                  json j = {{"name", d.name}, {"tables", d.n_tables}};
                  if (c.principal.role == Role::ADMIN) j["path"] = d.path;
                  if (!d.error.empty()) j["error"] = d.error;
                  arr.push_back(j);
                }
                c.send({{"databases", arr}});
              }});
  router.add({"POST", "/v1/sql/databases", Role::ADMIN, "sql", "Register a SQLite file (opened read-only) under a name.",
              {{"type", "object"}, {"required", {"name", "path"}},
               {"properties", {{"name", {{"type", "string"}}}, {"path", {{"type", "string"}}}}}},
              {{"type", "object"}}, [a](Ctx& c) {
                auto body = c.json_body();
                if (!body.ok()) return c.fail(body.error());
                auto name = string_field(*body, "name", true);
                if (!name.ok()) return c.fail(name.error());
                auto path = string_field(*body, "path", true);
                if (!path.ok()) return c.fail(path.error());
                if (auto st = a->register_db(*name, *path); !st.ok()) return c.fail(st.error());
                c.send({{"name", *name}, {"registered", true}}, 201);
              }});
  router.add({"DELETE", "/v1/sql/databases/{db}", Role::ADMIN, "sql", "Forget a registered database (the file stays).",
              nullptr, {{"type", "object"}}, [a](Ctx& c) {
                if (auto st = a->unregister_db(c.params["db"]); !st.ok()) return c.fail(st.error());
                c.send({{"name", c.params["db"]}, {"registered", false}});
              }});
  router.add({"GET", "/v1/sql/databases/{db}/schema", Role::USER, "sql",
              "Tables, columns, keys, sample values, descriptions and examples of a database.", nullptr,
              {{"type", "object"}}, [a](Ctx& c) {
                auto s = a->schema(c.params["db"]);
                if (!s.ok()) return c.fail(s.error());
                c.send(schema_json(*s));
              }});
  router.add({"GET", "/v1/sql/databases/{db}/grammar", Role::USER, "sql",
              "The SELECT-only GBNF grammar of the live schema: every table and column, numbers compared with "
              "numeric columns and strings with text ones. A loaded model decodes under a stricter, bounded form of it "
              "(columns only of the tables in its FROM clause, joins along foreign keys).", nullptr,
              {{"type", "object"}}, [a](Ctx& c) {
                auto g = a->grammar_gbnf(c.params["db"]);
                if (!g.ok()) return c.fail(g.error());
                c.send({{"db", c.params["db"]}, {"gbnf", *g}});
              }});
}

void add_annotation_routes(Router& router, std::shared_ptr<Assistant> a) {
  router.add({"POST", "/v1/sql/databases/{db}/annotations", Role::ADMIN, "sql",
              "Add a description and synonyms (any language) to a table or column.",
              {{"type", "object"}, {"required", {"table"}},
               {"properties", {{"table", {{"type", "string"}}}, {"column", {{"type", "string"}}},
                               {"description", {{"type", "string"}}},
                               {"synonyms", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}},
              {{"type", "object"}}, [a](Ctx& c) {
                auto body = c.json_body();
                if (!body.ok()) return c.fail(body.error());
                Annotation an;
                auto t = string_field(*body, "table", true);
                if (!t.ok()) return c.fail(t.error());
                an.table = *t;
                an.column = body->value("column", "");
                an.description = body->value("description", "");
                if (body->contains("synonyms")) {
                  if (!(*body)["synonyms"].is_array())
                    return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'synonyms' must be an array of strings"));
                  for (const auto& s : (*body)["synonyms"])
                    if (s.is_string()) an.synonyms.push_back(s.get<std::string>());
                }
                if (auto st = a->annotate(c.params["db"], an); !st.ok()) return c.fail(st.error());
                c.send({{"annotated", true}}, 201);
              }});
  router.add({"POST", "/v1/sql/databases/{db}/examples", Role::ADMIN, "sql",
              "Add an example question with its SQL (the SQL must validate).",
              {{"type", "object"}, {"required", {"question", "sql"}},
               {"properties", {{"question", {{"type", "string"}}}, {"sql", {{"type", "string"}}}}}},
              {{"type", "object"}}, [a](Ctx& c) {
                auto body = c.json_body();
                if (!body.ok()) return c.fail(body.error());
                auto q = string_field(*body, "question", true);
                if (!q.ok()) return c.fail(q.error());
                auto s = string_field(*body, "sql", true);
                if (!s.ok()) return c.fail(s.error());
                if (auto st = a->add_example(c.params["db"], {*q, *s}); !st.ok()) return c.fail(st.error());
                c.send({{"added", true}}, 201);
              }});
}

}  // namespace

RouteSet sql_routes(std::shared_ptr<Assistant> assistant, std::shared_ptr<safety::Filter> filter) {
  return [assistant, filter](WebState& s) {
    add_query_route(s.router, assistant, filter);
    add_database_routes(s.router, assistant);
    add_annotation_routes(s.router, assistant);
  };
}

json sql_cell_json(const sql_assist::Cell& c) {
  switch (c.kind) {
    case sql_assist::Cell::Kind::NUL: return nullptr;
    case sql_assist::Cell::Kind::INTEGER: return c.i;
    case sql_assist::Cell::Kind::REAL: return c.d;
    case sql_assist::Cell::Kind::TEXT: return c.s;
  }
  return nullptr;
}

json sql_response_json(const sql_assist::QueryResponse& r) {
  json rows = json::array();
  for (const auto& row : r.rows) {
    json jr = json::array();
    for (const auto& c : row) jr.push_back(sql_cell_json(c));
    rows.push_back(std::move(jr));
  }
  json links = json::array();
  for (const auto& l : r.links)
    links.push_back({{"phrase", l.phrase}, {"kind", l.kind}, {"table", l.table}, {"column", l.column},
                     {"value", l.value}, {"score", l.score}});
  return {{"sql", r.sql.empty() ? json(nullptr) : json(r.sql)}, {"explanation", r.explanation},
          {"generator", r.generator}, {"declined", r.declined}, {"executed", r.executed}, {"columns", r.columns},
          {"rows", rows}, {"truncated", r.truncated}, {"links", links}, {"elapsed_ms", r.elapsed_ms}};
}

}  // namespace moerag::web
