// KeyStore over SQLite; keys are random 160-bit tokens hashed with SHA-256.
#include "web/api_keys.h"

#include "core/hash.h"

namespace moerag::web {

const std::vector<sql::Migration>& web_migrations() {
  static const std::vector<sql::Migration> m = {
      {1, "api keys",
       "CREATE TABLE api_keys ("
       " id INTEGER PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL,"
       " hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL CHECK (role IN ('user','admin')),"
       " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
       " revoked_at TEXT);"
       "CREATE UNIQUE INDEX api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL;"},
  };
  return m;
}

Result<std::unique_ptr<KeyStore>> KeyStore::create(std::shared_ptr<sql::Database> db) {
  MOERAG_ASSIGN_OR_RETURN(auto conn, db->lease());
  MOERAG_TRY(sql::migrate(*conn, "web", web_migrations()));
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(db)));
}

static ApiKeyInfo row_to_info(const sql::Stmt& st) {
  ApiKeyInfo k;
  k.id = st.col_int(0);
  k.name = st.col_text(1);
  k.prefix = st.col_text(2);
  k.role = st.col_text(3) == "admin" ? Role::ADMIN : Role::USER;
  k.created_at = st.col_text(4);
  k.revoked_at = st.col_text(5);
  return k;
}

Result<std::string> KeyStore::create_key(const std::string& name, Role role, ApiKeyInfo* info) {
  if (name.empty() || name.size() > 100)
    return Error(ErrorCode::INVALID_INPUT, "key name must be 1..100 characters");
  if (role == Role::PUBLIC) return Error(ErrorCode::INVALID_INPUT, "role must be user or admin");
  std::string plain = "mrk_" + random_hex(20);
  MOERAG_ASSIGN_OR_RETURN(auto conn, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto st, conn->prepare("INSERT INTO api_keys(name, prefix, hash, role) VALUES (?,?,?,?)"));
  st.bind_all(name, plain.substr(0, 12), sha256_hex(plain), std::string(role_name(role)));
  auto r = st.run();
  if (!r.ok()) {
    if (r.error().code == ErrorCode::CONFLICT)
      return Error(ErrorCode::CONFLICT, "an active key named '" + name + "' exists; revoke it or pick another name");
    return r.error();
  }
  if (info) {
    MOERAG_ASSIGN_OR_RETURN(auto q, conn->prepare("SELECT id,name,prefix,role,created_at,revoked_at FROM api_keys WHERE id=?"));
    q.bind(1, conn->last_insert_rowid());
    MOERAG_ASSIGN_OR_RETURN(bool row, q.step());
    if (row) *info = row_to_info(q);
  }
  return plain;
}

Result<ApiKeyInfo> KeyStore::verify(const std::string& plain) const {
  if (plain.size() < 8 || plain.size() > 200) return Error(ErrorCode::UNAUTHORIZED, "API key is not valid");
  MOERAG_ASSIGN_OR_RETURN(auto conn, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto* st, conn->cached(
      "SELECT id,name,prefix,role,created_at,revoked_at FROM api_keys WHERE hash=? AND revoked_at IS NULL"));
  st->bind(1, sha256_hex(plain));
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  if (!row) return Error(ErrorCode::UNAUTHORIZED, "API key is not valid or was revoked");
  auto info = row_to_info(*st);
  st->reset();
  return info;
}

Result<std::vector<ApiKeyInfo>> KeyStore::list() const {
  MOERAG_ASSIGN_OR_RETURN(auto conn, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto st, conn->prepare("SELECT id,name,prefix,role,created_at,revoked_at FROM api_keys ORDER BY id"));
  std::vector<ApiKeyInfo> out;
  for (;;) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(row_to_info(st));
  }
  return out;
}

Status KeyStore::revoke(const std::string& id_or_name) {
  MOERAG_ASSIGN_OR_RETURN(auto conn, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto st, conn->prepare(
      "UPDATE api_keys SET revoked_at=strftime('%Y-%m-%dT%H:%M:%SZ','now')"
      " WHERE revoked_at IS NULL AND (CAST(id AS TEXT)=? OR name=?)"));
  st.bind_all(id_or_name, id_or_name);
  MOERAG_TRY(st.run());
  if (conn->changes() == 0) return Error(ErrorCode::NOT_FOUND, "no active key with id or name '" + id_or_name + "'");
  return {};
}

}  // namespace moerag::web
