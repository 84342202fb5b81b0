// System routes: liveness, readiness, metrics, the OpenAPI document, the version,
// and the UI files embedded at build time.
#include <cstring>

#include "core/embedded.h"
#include "web/routes.h"

namespace moerag {
extern const EmbeddedFiles moerag_ui;
}

namespace moerag::web {
namespace {

const char* mime_type(const std::string& path) {
  auto ends = [&](const char* ext) {
    size_t n = std::strlen(ext);
    return path.size() >= n && path.compare(path.size() - n, n, ext) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

void add_ui_file(WebState& s, const std::string& url, const EmbeddedFile& f) {
  std::string type = mime_type(f.path);
  s.router.add({"GET", url, Role::PUBLIC, "ui", std::string("UI file ") + f.path, nullptr, nullptr,
                [&f, type](Ctx& c) {
                  c.res.set_header("Cache-Control", "no-cache");
                  c.res.set_content(f.data, f.size, type.c_str());
                },
                type});
}

}  // namespace

void register_system_routes(WebState& s) {
  s.router.add({"GET", "/healthz", Role::PUBLIC, "system", "Liveness: 200 while the process serves requests.",
                nullptr, {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}},
                [](Ctx& c) { c.send({{"status", "ok"}}); }});

  s.router.add({"GET", "/readyz", Role::PUBLIC, "system",
                "Readiness: 200 when the database answers and the server is not shutting down, else 503.",
                nullptr, {{"type", "object"}},
                [&s](Ctx& c) {
                  if (s.draining) return c.fail(Error(ErrorCode::OVERLOADED, "shutting down"));
                  auto conn = s.services.db->lease();
                  Status st = conn.ok() ? (*conn)->exec("SELECT 1") : Status(conn.error());
                  if (!st.ok()) return c.fail(Error(ErrorCode::UNAVAILABLE, "database not ready: " + st.error().message));
                  c.send({{"status", "ready"}});
                }});

  s.router.add({"GET", "/metrics", Role::PUBLIC, "system",
                "Prometheus metrics (text format 0.0.4): requests and latency by route and status, and module metrics.",
                nullptr, nullptr,
                [&s](Ctx& c) { c.res.set_content(s.metrics.render(), "text/plain; version=0.0.4; charset=utf-8"); },
                "text/plain"});

  s.router.add({"GET", "/openapi.json", Role::PUBLIC, "system", "This API described as OpenAPI 3.0.", nullptr,
                {{"type", "object"}}, [&s](Ctx& c) { c.send(openapi_document(s.router)); }});

  s.router.add({"GET", "/v1/version", Role::PUBLIC, "system", "Server version and build features.", nullptr,
                {{"type", "object"},
                 {"properties", {{"version", {{"type", "string"}}}, {"cuda", {{"type", "boolean"}}}}}},
                [](Ctx& c) {
#ifdef MOERAG_HAVE_CUDA
                  bool cuda = true;
#else
                  bool cuda = false;
#endif
                  c.send({{"name", "moerag"}, {"version", MOERAG_VERSION}, {"cuda", cuda}});
                }});

  for (const auto& f : moerag_ui) {
    add_ui_file(s, std::string("/") + f.path, f);
    if (std::strcmp(f.path, "index.html") == 0) add_ui_file(s, "/", f);
  }
}

json openapi_document(const Router& router) {
  json paths = json::object();
  for (const auto& r : router.routes()) {
    std::string method = r.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    json op = {{"summary", r.summary}, {"tags", {r.tag}}, {"operationId", method + r.pattern}};
    json params = json::array();
    for (size_t i = r.pattern.find('{'); i != std::string::npos; i = r.pattern.find('{', i + 1)) {
      size_t j = r.pattern.find('}', i);
      params.push_back({{"name", r.pattern.substr(i + 1, j - i - 1)}, {"in", "path"}, {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.request_schema.is_null())
      op["requestBody"] = {{"required", true}, {"content", {{"application/json", {{"schema", r.request_schema}}}}}};
    json ok = {{"description", "Success"}};
    if (!r.response_schema.is_null()) ok["content"] = {{r.content_type, {{"schema", r.response_schema}}}};
    else ok["content"] = {{r.content_type, json::object()}};
    op["responses"] = {{"200", ok}, {"default", {{"description", "Error"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
    if (r.role != Role::PUBLIC) {
      op["security"] = json::array({{{"bearerAuth", json::array()}}});
      op["x-moerag-role"] = role_name(r.role);
    }
    paths[r.pattern][method] = op;
  }
  json error_schema = {
      {"type", "object"},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"properties",
           {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}, {"request_id", {{"type", "string"}}}}}}}}}};
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "moerag"}, {"version", MOERAG_VERSION},
                    {"description", "Self-hosted RAG platform: knowledge-base Q&A, chat, recommendations, NL-to-SQL."}}},
          {"paths", paths},
          {"components",
           {{"schemas", {{"Error", error_schema}}},
            {"securitySchemes", {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace moerag::web
