// Web internals shared by route files: the request context handed to handlers, the
// route table (method + pattern + role + OpenAPI description) and the error table.
// Route files include this; the front door (web/server.h) does not leak httplib.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/result.h"

namespace moerag::web {

using json = nlohmann::json;

/// Who may call a route. PUBLIC routes never need a key (also auth.public_routes).
enum class Role { PUBLIC = 0, USER = 1, ADMIN = 2 };
const char* role_name(Role r);
Result<Role> parse_role(const std::string& s);

/// The caller, resolved from an API key (or ADMIN when auth is disabled).
struct Principal {
  int64_t key_id = 0;       ///< 0 when auth is disabled or the route is public
  std::string name;         ///< key name, or "anonymous"
  Role role = Role::ADMIN;  ///< effective role
};

/// HTTP status for an error code: the one table (CONVENTIONS.md 4).
int http_status(ErrorCode code);

/// One request as a handler sees it.
struct Ctx {
  const httplib::Request& req;
  httplib::Response& res;
  std::map<std::string, std::string> params;  ///< {name} segments of the route pattern
  std::string request_id;
  Principal principal;

  /// The body parsed as a JSON object; INVALID_INPUT with the parser's position otherwise.
  Result<json> json_body() const;
  /// Query parameter or `fallback`.
  std::string query(const std::string& name, const std::string& fallback = "") const;
  /// Sends `body` as JSON with `status`.
  void send(const json& body, int status = 200);
  /// Sends the error body {"error":{"code","message","request_id", ...extra}} with the
  /// mapped status; a 500 never shows internal text (it is logged instead).
  void fail(const Error& e, const json& extra = json::object());
};

using Handler = std::function<void(Ctx&)>;

/// A route: matched on method and pattern ("/v1/kbs/{kb}/documents/{id}").
struct Route {
  std::string method;        ///< GET|POST|PUT|PATCH|DELETE
  std::string pattern;
  Role role = Role::USER;
  std::string tag;           ///< OpenAPI tag (system, admin, ui, ...)
  std::string summary;       ///< one line for /openapi.json
  json request_schema;       ///< JSON Schema of the body, or null
  json response_schema;      ///< JSON Schema of a 200 body, or null
  Handler handler;
  std::string content_type = "application/json";  ///< of a 200 response
};

/// Route table with {param} matching and method-not-allowed detection.
class Router {
 public:
  void add(Route r);
  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  ///< methods that match the path (for 405)
  };
  Match match(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace moerag::web
