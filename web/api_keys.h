// API keys: created once (the plain key is shown only then), stored as SHA-256
// hashes in SQLite with a role, listed by prefix, revoked by id or name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/sqlite.h"
#include "web/http.h"

namespace moerag::web {

/// A stored key as listed (never the key itself).
struct ApiKeyInfo {
  int64_t id = 0;
  std::string name;
  std::string prefix;  ///< first characters of the key, to recognise it
  Role role = Role::USER;
  std::string created_at;
  std::string revoked_at;  ///< empty while active
};

class KeyStore {
 public:
  /// Uses `db` (migrations applied here).
  static Result<std::unique_ptr<KeyStore>> create(std::shared_ptr<sql::Database> db);

  /// Creates a key; returns the plain key ("mrk_" + 40 hex) — shown once, never stored.
  Result<std::string> create_key(const std::string& name, Role role, ApiKeyInfo* info = nullptr);
  /// The active key matching `plain`, or UNAUTHORIZED.
  Result<ApiKeyInfo> verify(const std::string& plain) const;
  Result<std::vector<ApiKeyInfo>> list() const;
  /// Revokes by numeric id or by name; NOT_FOUND when no active key matches.
  Status revoke(const std::string& id_or_name);

 private:
  explicit KeyStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}
  std::shared_ptr<sql::Database> db_;
};

/// Schema migrations of the web component (api_keys).
const std::vector<sql::Migration>& web_migrations();

}  // namespace moerag::web
