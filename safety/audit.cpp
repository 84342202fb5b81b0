// Audit rows in SQLite (see audit.h). The schema is the "safety" component's migrations.
#include "safety/audit.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/log.h"
#include "core/sqlite.h"

namespace moerag::safety {
namespace {

const std::vector<sql::Migration>& migrations() {
  static const std::vector<sql::Migration> m = {
      {1, "safety_audit",
       "CREATE TABLE safety_audit (\n"
       "  id INTEGER PRIMARY KEY,\n"
       "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),\n"
       "  request_id TEXT NOT NULL DEFAULT '',\n"
       "  direction TEXT NOT NULL,            -- input | output | passage\n"
       "  knowledge_base TEXT NOT NULL DEFAULT '',\n"
       "  decision TEXT NOT NULL,             -- redact | block\n"
       "  layer TEXT NOT NULL,                -- limits | rules | model\n"
       "  categories TEXT NOT NULL,           -- comma-separated\n"
       "  rules TEXT NOT NULL,                -- comma-separated rule ids\n"
       "  reason TEXT NOT NULL,\n"
       "  scores TEXT NOT NULL,               -- JSON object category -> probability\n"
       "  text_sha256 TEXT NOT NULL,\n"
       "  text_bytes INTEGER NOT NULL,\n"
       "  text TEXT                           -- NULL unless safety.audit_store_text\n"
       ");\n"
       "CREATE INDEX safety_audit_created ON safety_audit(created_at);\n"},
  };
  return m;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(std::shared_ptr<sql::Database> db, bool store_text) {
  MOERAG_ASSIGN_OR_RETURN(auto lease, db->lease());
  MOERAG_TRY(sql::migrate(*lease, "safety", migrations()));
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(db), store_text));
}

Status AuditLog::write(const Verdict& v, Direction dir, const std::string& kb, std::string_view text) const {
  nlohmann::json scores = nlohmann::json::object();
  for (const auto& [k, p] : v.scores) scores[k] = std::round(p * 10000) / 10000;
  MOERAG_ASSIGN_OR_RETURN(auto lease, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(sql::Stmt * st,
                          lease->cached("INSERT INTO safety_audit (request_id, direction, knowledge_base, decision, layer, "
                                        "categories, rules, reason, scores, text_sha256, text_bytes, text) "
                                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
  st->bind_all(log::current_request_id(), direction_name(dir), kb, decision_name(v.decision), v.layer, join(v.categories),
               join(v.rules), v.reason, scores.dump(), sha256_hex(text), static_cast<int64_t>(text.size()));
  if (store_text_) st->bind(12, text);
  else st->bind(12, nullptr);
  return st->run();
}

}  // namespace moerag::safety
