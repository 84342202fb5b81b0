// SQLite RAII layer: connections (WAL, busy timeout), prepared statements,
// transactions, numbered per-component migrations, and a pool that gives each
// thread its own connection. Front doors never expose sqlite3.h; this header does
// only through an opaque pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace moerag::sql {

/// How to open a database file.
struct OpenOptions {
  bool read_only = false;     ///< SQLITE_OPEN_READONLY; no WAL switch, no migrations
  bool create = true;         ///< create the file when missing (ignored when read_only)
  int busy_timeout_ms = 5000; ///< wait this long on a locked database before failing
  bool wal = true;            ///< journal_mode=WAL, synchronous=NORMAL
  /// Reads through a memory map of up to this many bytes (PRAGMA mmap_size) instead of
  /// a pread + copy per page: searches touch many index pages. 0 = off. Only for
  /// databases we own (read_only opens of foreign files keep plain reads).
  int64_t mmap_bytes = int64_t{1} << 30;
  int cache_kib = 16384;      ///< page cache per connection (PRAGMA cache_size)
};

/// A prepared statement; finalised on destruction. Parameter indexes start at 1,
/// column indexes at 0 (as in SQLite).
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, std::nullptr_t);
  Stmt& bind_blob(int i, const void* data, size_t n);
  /// Binds every argument in order, starting at parameter 1.
  template <typename... A>
  Stmt& bind_all(A&&... args) {
    int i = 1;
    (bind(i++, std::forward<A>(args)), ...);
    return *this;
  }

  /// Advances one row: true when a row is available, false when done.
  Result<bool> step();
  /// Runs to completion (for INSERT/UPDATE/DELETE); then resets for reuse.
  Status run();
  /// Resets the statement and clears its bindings.
  void reset();

  int64_t col_int(int c) const;
  double col_double(int c) const;
  std::string col_text(int c) const;
  std::string col_blob(int c) const;
  bool col_null(int c) const;
  int col_count() const;
  std::string col_name(int c) const;
  /// The expanded SQL text (for error messages).
  std::string sql() const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

/// One database connection. Not thread-safe: one thread uses it at a time.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& path, const OpenOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one or more statements with no results.
  Status exec(std::string_view sql);
  /// Prepares exactly one statement; trailing text other than whitespace/comments is an error.
  Result<Stmt> prepare(std::string_view sql);
  /// A statement prepared once per connection and reset before each use.
  Result<Stmt*> cached(const std::string& sql);

  int64_t last_insert_rowid() const;
  int64_t changes() const;
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, Stmt> cache_;
};

/// Times, since start, that a connection waited for another's lock (each wait 20 us
/// to 1 ms; see busy_timeout_ms).
uint64_t busy_waits();

/// Error from the connection's last failure, with the operation named.
Error sqlite_error(sqlite3* db, int rc, std::string_view what);

/// BEGIN (IMMEDIATE when writing) on construction; ROLLBACK unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& c, bool immediate = true);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  /// The BEGIN's own result: check before doing work.
  const Status& begun() const { return begun_; }
  Status commit();

 private:
  Connection& c_;
  Status begun_;
  bool done_ = false;
};

/// One numbered schema change of a component. Versions start at 1 and only grow.
struct Migration {
  int version;
  std::string name;
  std::string sql;
};

/// Applies the component's migrations not yet recorded in `schema_migrations`,
/// each in its own transaction. A database newer than the code is an error.
Status migrate(Connection& c, std::string_view component, const std::vector<Migration>& migrations);

class Database;

/// A connection borrowed from a Database pool; returned on destruction.
class Lease {
 public:
  Lease(Database* owner, std::unique_ptr<Connection> c) : owner_(owner), c_(std::move(c)) {}
  Lease(Lease&&) = default;
  Lease& operator=(Lease&&) = default;
  ~Lease();
  Connection& operator*() { return *c_; }
  Connection* operator->() { return c_.get(); }

 private:
  Database* owner_;
  std::unique_ptr<Connection> c_;
};

/// A database file with a pool of connections (one per thread at a time).
class Database {
 public:
  static Result<std::shared_ptr<Database>> open(const std::string& path, const OpenOptions& options = {});
  /// A connection for the calling thread; opens a new one when the pool is empty.
  Result<Lease> lease();
  const std::string& path() const { return path_; }
  /// Connections currently idle in the pool (for tests).
  size_t idle() const;

 private:
  friend class Lease;
  Database(std::string path, OpenOptions o) : path_(std::move(path)), options_(o) {}
  void give_back(std::unique_ptr<Connection> c);
  std::string path_;
  OpenOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

}  // namespace moerag::sql
