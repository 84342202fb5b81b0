// The `safety_audit` table: one row per non-allow decision with its categories,
// rules, scores and a SHA-256 of the text; the raw text only when configured.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "safety/filter.h"

namespace moerag::sql {
class Database;
}

namespace moerag::safety {

/// Writes audit rows through a pooled database (one connection per writing thread).
class AuditLog {
 public:
  /// Applies the "safety" migrations to db.
  static Result<std::unique_ptr<AuditLog>> open(std::shared_ptr<sql::Database> db, bool store_text);
  /// Inserts one row; safe from many threads.
  Status write(const Verdict& v, Direction dir, const std::string& kb, std::string_view text) const;

 private:
  AuditLog(std::shared_ptr<sql::Database> db, bool store_text) : db_(std::move(db)), store_text_(store_text) {}
  std::shared_ptr<sql::Database> db_;
  bool store_text_;
};

}  // namespace moerag::safety
