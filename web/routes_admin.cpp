// Admin routes: API keys (create, list, revoke) and who-am-I for any key.
#include "web/routes.h"

namespace moerag::web {
namespace {

json key_json(const ApiKeyInfo& k) {
  json j = {{"id", k.id}, {"name", k.name}, {"prefix", k.prefix}, {"role", role_name(k.role)},
            {"created_at", k.created_at}};
  j["revoked_at"] = k.revoked_at.empty() ? json(nullptr) : json(k.revoked_at);
  return j;
}

const json kKeySchema = {{"type", "object"},
                         {"properties",
                          {{"id", {{"type", "integer"}}},
                           {"name", {{"type", "string"}}},
                           {"prefix", {{"type", "string"}}},
                           {"role", {{"type", "string"}, {"enum", {"user", "admin"}}}},
                           {"created_at", {{"type", "string"}}},
                           {"revoked_at", {{"type", "string"}, {"nullable", true}}}}}};

}  // namespace

void register_admin_routes(WebState& s) {
  s.router.add({"GET", "/v1/whoami", Role::USER, "system", "The caller's key name and role.", nullptr,
                {{"type", "object"}},
                [](Ctx& c) {
                  c.send({{"name", c.principal.name}, {"role", role_name(c.principal.role)}, {"key_id", c.principal.key_id}});
                }});

  s.router.add({"GET", "/v1/admin/keys", Role::ADMIN, "admin", "List API keys (never the keys themselves).", nullptr,
                {{"type", "object"}, {"properties", {{"keys", {{"type", "array"}, {"items", kKeySchema}}}}}},
                [&s](Ctx& c) {
                  auto keys = s.keys->list();
                  if (!keys.ok()) return c.fail(keys.error());
                  json arr = json::array();
                  for (const auto& k : *keys) arr.push_back(key_json(k));
                  c.send({{"keys", arr}});
                }});

  s.router.add({"POST", "/v1/admin/keys", Role::ADMIN, "admin",
                "Create an API key; the response holds the key, shown this once.",
                {{"type", "object"},
                 {"required", {"name"}},
                 {"properties", {{"name", {{"type", "string"}}}, {"role", {{"type", "string"}, {"enum", {"user", "admin"}}}}}}},
                kKeySchema,
                [&s](Ctx& c) {
                  auto body = c.json_body();
                  if (!body.ok()) return c.fail(body.error());
                  if (!body->contains("name") || !(*body)["name"].is_string())
                    return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'name' (string) is required"));
                  std::string role_text = body->value("role", "user");
                  auto role = parse_role(role_text);
                  if (!role.ok()) return c.fail(role.error());
                  ApiKeyInfo info;
                  auto key = s.keys->create_key((*body)["name"].get<std::string>(), *role, &info);
                  if (!key.ok()) return c.fail(key.error());
                  json j = key_json(info);
                  j["key"] = *key;
                  c.send(j, 201);
                }});

  s.router.add({"DELETE", "/v1/admin/keys/{id}", Role::ADMIN, "admin", "Revoke an API key by id or name.", nullptr,
                {{"type", "object"}},
                [&s](Ctx& c) {
                  auto st = s.keys->revoke(c.params["id"]);
                  if (!st.ok()) return c.fail(st.error());
                  c.send({{"revoked", c.params["id"]}});
                }});
}

}  // namespace moerag::web
