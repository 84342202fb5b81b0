// The recsys tables and their load/write paths (see store.h).
#include "apps/recsys/store.h"

#include <ctime>

#include <nlohmann/json.hpp>

namespace moerag::recsys {
namespace {

const std::vector<sql::Migration> kMigrations = {
    {1, "recsys tables",
     "CREATE TABLE recsys_users(id INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,"
     " attributes TEXT NOT NULL DEFAULT '[]');"
     "CREATE TABLE recsys_items(id INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
     " attributes TEXT NOT NULL DEFAULT '[]');"
     "CREATE TABLE recsys_interactions(id INTEGER PRIMARY KEY,"
     " user_id INTEGER NOT NULL REFERENCES recsys_users(id), item_id INTEGER NOT NULL REFERENCES recsys_items(id),"
     " kind TEXT NOT NULL, weight REAL NOT NULL, time INTEGER NOT NULL);"
     "CREATE INDEX recsys_interactions_user ON recsys_interactions(user_id, time);"},
};

std::vector<std::string> parse_list(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

bool valid_attr(const std::string& a) {
  auto c = a.find(':');
  return c != std::string::npos && c > 0 && c + 1 < a.size();
}

}  // namespace

Status migrate_store(sql::Connection& c) { return sql::migrate(c, "recsys", kMigrations); }

Result<Dataset> load_store(sql::Connection& c) {
  Dataset d;
  MOERAG_ASSIGN_OR_RETURN(auto us, c.prepare("SELECT ext_id, attributes FROM recsys_users ORDER BY id"));
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, us.step());
    if (!row) break;
    int32_t u = d.add_user(us.col_text(0));
    for (const auto& a : parse_list(us.col_text(1))) d.add_user_attr(u, a);
  }
  MOERAG_ASSIGN_OR_RETURN(auto is, c.prepare("SELECT ext_id, title, attributes FROM recsys_items ORDER BY id"));
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, is.step());
    if (!row) break;
    int32_t i = d.add_item(is.col_text(0));
    d.item_titles[i] = is.col_text(1);
    for (const auto& a : parse_list(is.col_text(2))) d.add_item_attr(i, a);
  }
  MOERAG_ASSIGN_OR_RETURN(auto es, c.prepare("SELECT u.ext_id, i.ext_id, x.kind, x.weight, x.time FROM recsys_interactions x"
                                             " JOIN recsys_users u ON u.id = x.user_id JOIN recsys_items i ON i.id = x.item_id"
                                             " ORDER BY x.id"));
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, es.step());
    if (!row) break;
    Event e;
    e.user = d.find_user(es.col_text(0));
    e.item = d.find_item(es.col_text(1));
    e.kind = parse_kind(es.col_text(2)).value_or(InteractionKind::VIEW);
    e.weight = static_cast<float>(es.col_double(3));
    e.time = es.col_int(4);
    d.events.push_back(e);
  }
  d.reindex();
  return d;
}

Result<ImportReport> write_records(sql::Connection& c, Dataset& data, const std::vector<UserRecord>& users,
                                   const std::vector<ItemRecord>& items,
                                   const std::vector<InteractionRecord>& interactions) {
  ImportReport rep;
  Dataset next = data;  // applied only after the commit
  sql::Transaction tx(c);
  MOERAG_TRY(tx.begun());
  MOERAG_ASSIGN_OR_RETURN(auto* up_user, c.cached("INSERT INTO recsys_users(ext_id, attributes) VALUES(?1, ?2)"
                                                  " ON CONFLICT(ext_id) DO UPDATE SET attributes = excluded.attributes"));
  MOERAG_ASSIGN_OR_RETURN(auto* add_user, c.cached("INSERT OR IGNORE INTO recsys_users(ext_id) VALUES(?1)"));
  MOERAG_ASSIGN_OR_RETURN(auto* up_item, c.cached("INSERT INTO recsys_items(ext_id, title, attributes) VALUES(?1, ?2, ?3)"
                                                  " ON CONFLICT(ext_id) DO UPDATE SET title = excluded.title,"
                                                  " attributes = excluded.attributes"));
  MOERAG_ASSIGN_OR_RETURN(auto* add_item, c.cached("INSERT OR IGNORE INTO recsys_items(ext_id, title) VALUES(?1, ?1)"));
  MOERAG_ASSIGN_OR_RETURN(auto* add_event, c.cached(
      "INSERT INTO recsys_interactions(user_id, item_id, kind, weight, time) VALUES("
      "(SELECT id FROM recsys_users WHERE ext_id = ?1), (SELECT id FROM recsys_items WHERE ext_id = ?2), ?3, ?4, ?5)"));
  for (size_t k = 0; k < users.size(); ++k) {
    const auto& u = users[k];
    std::vector<std::string> attrs;
    for (const auto& a : u.attributes)
      if (valid_attr(a)) attrs.push_back(a);
      else rep.errors.push_back("users[" + std::to_string(k) + "]: attribute '" + a + "' is not kind:value");
    if (u.id.empty()) {
      rep.errors.push_back("users[" + std::to_string(k) + "]: empty id");
      continue;
    }
    up_user->bind_all(u.id, nlohmann::json(attrs).dump());
    MOERAG_TRY(up_user->run());
    int32_t ui = next.add_user(u.id);
    next.user_attrs[ui].clear();
    for (const auto& a : attrs) next.add_user_attr(ui, a);
    ++rep.users;
  }
  for (size_t k = 0; k < items.size(); ++k) {
    const auto& it = items[k];
    std::vector<std::string> attrs;
    for (const auto& a : it.attributes)
      if (valid_attr(a)) attrs.push_back(a);
      else rep.errors.push_back("items[" + std::to_string(k) + "]: attribute '" + a + "' is not kind:value");
    if (it.id.empty()) {
      rep.errors.push_back("items[" + std::to_string(k) + "]: empty id");
      continue;
    }
    std::string title = it.title.empty() ? it.id : it.title;
    up_item->bind_all(it.id, title, nlohmann::json(attrs).dump());
    MOERAG_TRY(up_item->run());
    int32_t ii = next.add_item(it.id);
    next.item_titles[ii] = title;
    next.item_attrs[ii].clear();
    for (const auto& a : attrs) next.add_item_attr(ii, a);
    ++rep.items;
  }
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (size_t k = 0; k < interactions.size(); ++k) {
    const auto& x = interactions[k];
    if (x.user.empty() || x.item.empty() || !(x.weight >= 0)) {
      rep.errors.push_back("interactions[" + std::to_string(k) + "]: needs user, item and a weight >= 0");
      continue;
    }
    if (next.find_user(x.user) < 0) {
      add_user->bind_all(x.user);
      MOERAG_TRY(add_user->run());
      next.add_user(x.user);
    }
    if (next.find_item(x.item) < 0) {
      add_item->bind_all(x.item);
      MOERAG_TRY(add_item->run());
      next.add_item(x.item);
    }
    int64_t t = x.time > 0 ? x.time : now;
    add_event->bind_all(x.user, x.item, std::string(kind_name(x.kind)), x.weight, t);
    MOERAG_TRY(add_event->run());
    next.add_event({next.find_user(x.user), next.find_item(x.item), x.kind, static_cast<float>(x.weight), t});
    ++rep.interactions;
  }
  MOERAG_TRY(tx.commit());
  data = std::move(next);
  return rep;
}

}  // namespace moerag::recsys
