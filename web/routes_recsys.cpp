// /v1/recsys routes over apps/recsys: GET recommendations and similar items, POST
// interactions (batch, also users and items), POST train (background), GET status.
#include "web/routes_recsys.h"

#include "apps/recsys/recsys.h"
#include "web/routes.h"

namespace moerag::web {
namespace {

using recsys::Recommendation;

json recs_json(const std::vector<Recommendation>& recs) {
  json arr = json::array();
  for (const auto& r : recs) {
    json ex = json::array();
    for (const auto& e : r.explanations) {
      json path = json::array();
      for (const auto& n : e.path) path.push_back({{"type", std::string(1, n.type)}, {"id", n.id}, {"label", n.label}});
      ex.push_back({{"meta_path", e.meta_path}, {"text", e.text}, {"path", path}});
    }
    json j = {{"item_id", r.item_id}, {"title", r.title}, {"score", r.score}};
    if (!r.explanations.empty()) j["explanations"] = ex;
    arr.push_back(j);
  }
  return arr;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += s[i];
    }
  }
  return out;
}

// k from the query; absent = the configured recsys.default_k.
Result<int> parse_k(const Ctx& c, const recsys::Recommender& rec) {
  std::string k = c.query("k", std::to_string(rec.options().default_k));
  char* end = nullptr;
  long v = std::strtol(k.c_str(), &end, 10);
  if (k.empty() || *end != '\0') return Error(ErrorCode::INVALID_INPUT, "k must be an integer");
  return static_cast<int>(v);
}

std::vector<std::string> strings(const json& j, const std::string& key) {
  std::vector<std::string> out;
  if (j.contains(key) && j[key].is_array())
    for (const auto& x : j[key])
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

std::string id_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : ""; }

const json kRecsSchema = {{"type", "object"}, {"properties", {{"items", {{"type", "array"}}}}}};

}  // namespace

RouteSet recsys_routes(std::shared_ptr<recsys::Recommender> rec) {
  return [rec](WebState& s) {
    s.router.add({"GET", "/v1/recsys/users/{id}/recommendations", Role::USER, "recsys",
                  "Top-k items for a user. Query: k (default recsys.default_k), filter (attributes kind:value, comma-separated, any of), "
                  "allow, deny (item ids), exclude_seen, diversity (0..1, MMR), explain.",
                  nullptr, kRecsSchema, [rec](Ctx& c) {
                    auto k = parse_k(c, *rec);
                    if (!k.ok()) return c.fail(k.error());
                    recsys::RecommendRequest r;
                    r.user_id = c.params["id"];
                    r.k = *k;
                    r.require_attrs = split_list(c.query("filter"));
                    r.allow_items = split_list(c.query("allow"));
                    r.deny_items = split_list(c.query("deny"));
                    r.exclude_seen = c.query("exclude_seen", "true") != "false";
                    r.explain = c.query("explain", "false") == "true";
                    try {
                      r.diversity = std::stod(c.query("diversity", "0"));
                    } catch (...) {
                      return c.fail(Error(ErrorCode::INVALID_INPUT, "diversity must be a number in [0,1]"));
                    }
                    auto recs = rec->recommend(r);
                    if (!recs.ok()) return c.fail(recs.error());
                    c.send({{"user_id", r.user_id}, {"items", recs_json(*recs)}});
                  }});
    s.router.add({"GET", "/v1/recsys/items/{id}/similar", Role::USER, "recsys",
                  "Items most similar to an item. Query: k (default recsys.default_k), explain.", nullptr, kRecsSchema, [rec](Ctx& c) {
                    auto k = parse_k(c, *rec);
                    if (!k.ok()) return c.fail(k.error());
                    auto recs = rec->similar(c.params["id"], *k, c.query("explain", "false") == "true");
                    if (!recs.ok()) return c.fail(recs.error());
                    c.send({{"item_id", c.params["id"]}, {"items", recs_json(*recs)}});
                  }});
    s.router.add({"POST", "/v1/recsys/interactions", Role::ADMIN, "recsys",
                  "Batch import: {users:[{id,attributes}], items:[{id,title,attributes}], "
                  "interactions:[{user,item,kind,weight,time}]}; visible to recommendations at once.",
                  {{"type", "object"},
                   {"properties", {{"users", {{"type", "array"}}}, {"items", {{"type", "array"}}},
                                   {"interactions", {{"type", "array"}}}}}},
                  {{"type", "object"}}, [rec](Ctx& c) {
                    auto body = c.json_body();
                    if (!body.ok()) return c.fail(body.error());
                    std::vector<recsys::UserRecord> users;
                    std::vector<recsys::ItemRecord> items;
                    std::vector<recsys::InteractionRecord> xs;
                    std::vector<std::string> errors;
                    for (const auto& u : body->value("users", json::array()))
                      if (u.is_object()) users.push_back({id_text(u.value("id", json())), strings(u, "attributes")});
                    for (const auto& i : body->value("items", json::array()))
                      if (i.is_object())
                        items.push_back({id_text(i.value("id", json())), i.value("title", ""), strings(i, "attributes")});
                    size_t n = 0;
                    for (const auto& x : body->value("interactions", json::array())) {
                      std::string where = "interactions[" + std::to_string(n++) + "]: ";
                      if (!x.is_object()) {
                        errors.push_back(where + "not an object");
                        continue;
                      }
                      recsys::InteractionRecord r;
                      r.user = id_text(x.value("user", json()));
                      r.item = id_text(x.value("item", json()));
                      auto kind = recsys::parse_kind(x.value("kind", "view"));
                      if (!kind.ok()) {
                        errors.push_back(where + kind.error().message);
                        continue;
                      }
                      r.kind = *kind;
                      r.weight = x.value("weight", 1.0);
                      r.time = x.value("time", int64_t{0});
                      xs.push_back(r);
                    }
                    auto rep = rec->import(users, items, xs);
                    if (!rep.ok()) return c.fail(rep.error());
                    errors.insert(errors.end(), rep->errors.begin(), rep->errors.end());
                    c.send({{"users", rep->users}, {"items", rep->items}, {"interactions", rep->interactions},
                            {"errors", errors}});
                  }});
    s.router.add({"POST", "/v1/recsys/train", Role::ADMIN, "recsys",
                  "Start training in the background; the new model replaces the old one atomically (202). The body is "
                  "ignored; send none or {} (curl: -d '{}'; a POST with no Content-Length is refused by the HTTP layer).",
                  nullptr,
                  {{"type", "object"}}, [rec](Ctx& c) {
                    auto st = rec->start_training();
                    if (!st.ok()) return c.fail(st.error());
                    c.send({{"state", "training"}}, 202);
                  }});
    s.router.add({"GET", "/v1/recsys/status", Role::USER, "recsys", "Training state, progress, model version, sizes.",
                  nullptr, {{"type", "object"}}, [rec](Ctx& c) {
                    auto st = rec->status();
                    json w = json::object();
                    for (const auto& [name, x] : st.view_weights) w[name] = x;
                    c.send({{"state", st.state}, {"phase", st.phase}, {"progress", st.progress},
                            {"model_version", st.model_version}, {"trained_at", st.trained_at},
                            {"train_seconds", st.train_seconds}, {"last_error", st.last_error},
                            {"users", st.n_users}, {"items", st.n_items}, {"attributes", st.n_attrs},
                            {"interactions", st.n_interactions}, {"meta_paths", st.meta_paths}, {"view_weights", w}});
                  }});
  };
}

}  // namespace moerag::web
