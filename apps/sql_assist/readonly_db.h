// Internal: a registered database opened read-only with every guard on: an
// authorizer that admits reads only, a progress-handler time limit, length limits
// and no extension loading. Validation (single SELECT statement) and capped execution.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apps/sql_assist/sql_assist.h"
#include "core/sqlite.h"

namespace moerag::sql_assist {

/// Result table of one statement.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
  bool truncated = false;
};

/// One read-only connection with guards; not thread-safe (one per request).
class ReadOnlyDb {
 public:
  /// Opens `path` read-only (the file must exist) and installs the guards.
  static Result<std::unique_ptr<ReadOnlyDb>> open(const std::string& path, const AssistOptions& options);
  ~ReadOnlyDb();

  /// Checks that `sql` is exactly one read-only SELECT that SQLite can prepare.
  Status validate(const std::string& sql);
  /// Validates, then runs with the time limit, keeping at most max_rows rows
  /// (max_rows < 0: the option's row cap).
  Result<Table> execute(const std::string& sql, int max_rows = -1);
  /// Catalog queries (PRAGMA table_info etc.) are admitted only inside this scope.
  sql::Connection& introspect_begin();
  void introspect_end();
  sql::Connection& connection() { return *conn_; }

  struct Guard;  // authorizer / progress state, defined in the .cpp

 private:
  ReadOnlyDb() = default;
  std::unique_ptr<sql::Connection> conn_;
  std::unique_ptr<Guard> guard_;
  AssistOptions options_;
};

/// A cell as display text ("NULL" for NULL; numbers as SQLite prints them).
std::string cell_text(const Cell& c);

}  // namespace moerag::sql_assist
