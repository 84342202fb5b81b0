// SQLite RAII implementation: error mapping, statement helpers, migrations, pool.
#include "core/sqlite.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <sqlite3.h>

namespace moerag::sql {

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_CONSTRAINT) return Error(ErrorCode::CONFLICT, msg);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return Error(ErrorCode::OVERLOADED, msg + " (database busy; try again)");
  if (primary == SQLITE_ERROR || primary == SQLITE_AUTH || primary == SQLITE_RANGE || primary == SQLITE_MISMATCH)
    return Error(ErrorCode::INVALID_INPUT, msg);
  return Error(ErrorCode::IO, msg);
}

// ---- Stmt ----
Stmt::Stmt(Stmt&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }
Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (st_) sqlite3_finalize(st_);
    db_ = o.db_;
    st_ = o.st_;
    o.st_ = nullptr;
  }
  return *this;
}
Stmt::~Stmt() {
  if (st_) sqlite3_finalize(st_);
}

Stmt& Stmt::bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); return *this; }
Stmt& Stmt::bind(int i, double v) { sqlite3_bind_double(st_, i, v); return *this; }
Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind(int i, std::nullptr_t) { sqlite3_bind_null(st_, i); return *this; }
Stmt& Stmt::bind_blob(int i, const void* data, size_t n) {
  sqlite3_bind_blob(st_, i, data, static_cast<int>(n), SQLITE_TRANSIENT);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = sqlite_error(db_, rc, "sqlite step");
  sqlite3_reset(st_);
  return e;
}

Status Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r.ok()) return r.error();
    if (!*r) break;
  }
  reset();
  return {};
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

int64_t Stmt::col_int(int c) const { return sqlite3_column_int64(st_, c); }
double Stmt::col_double(int c) const { return sqlite3_column_double(st_, c); }
std::string Stmt::col_text(int c) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
  return p ? std::string(p, sqlite3_column_bytes(st_, c)) : std::string();
}
std::string Stmt::col_blob(int c) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(st_, c));
  return p ? std::string(p, sqlite3_column_bytes(st_, c)) : std::string();
}
bool Stmt::col_null(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
int Stmt::col_count() const { return sqlite3_column_count(st_); }
std::string Stmt::col_name(int c) const {
  const char* n = sqlite3_column_name(st_, c);
  return n ? n : "";
}
std::string Stmt::sql() const {
  const char* s = sqlite3_sql(st_);
  return s ? s : "";
}

// ---- Connection ----
namespace {

std::atomic<uint64_t> g_busy_waits{0};

// Busy handler. SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5, 10, 15, 20, 25,
// ... 100 ms between tries; with many short concurrent writers (a chat turn is one
// sub-millisecond write) those sleeps, not the work, made the latency tail: a writer
// that lost five races had slept 33 ms. This one retries after 20 us, doubling up to
// 1 ms, until busy_timeout_ms have been slept in total. `n` counts the earlier tries
// for the same lock.
int busy_handler(void* arg, int n) {
  const int64_t timeout_us = static_cast<int64_t>(reinterpret_cast<intptr_t>(arg)) * 1000;
  const int64_t slept_us = n <= 6 ? 20 * ((int64_t{1} << n) - 1) : 1260 + int64_t{n - 6} * 1000;
  if (slept_us >= timeout_us) return 0;  // give up: the caller gets SQLITE_BUSY
  g_busy_waits.fetch_add(1, std::memory_order_relaxed);
  std::this_thread::sleep_for(std::chrono::microseconds(n < 6 ? 20 << n : 1000));
  return 1;
}

}  // namespace

uint64_t busy_waits() { return g_busy_waits.load(std::memory_order_relaxed); }

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, const OpenOptions& o) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= o.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (o.create ? SQLITE_OPEN_CREATE : 0));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e(ErrorCode::IO, "cannot open database '" + path + "': " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<Connection> c(new Connection(db, path));
  sqlite3_busy_handler(db, busy_handler, reinterpret_cast<void*>(static_cast<intptr_t>(std::max(0, o.busy_timeout_ms))));
  sqlite3_extended_result_codes(db, 1);
  if (!o.read_only) {
    if (o.wal) MOERAG_TRY(c->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
    MOERAG_TRY(c->exec("PRAGMA foreign_keys=ON;"));
    if (o.mmap_bytes > 0) MOERAG_TRY(c->exec("PRAGMA mmap_size=" + std::to_string(o.mmap_bytes) + ";"));
  }
  if (o.cache_kib > 0) MOERAG_TRY(c->exec("PRAGMA cache_size=-" + std::to_string(o.cache_kib) + ";"));
  return c;
}

Connection::~Connection() {
  cache_.clear();  // finalise statements before closing
  sqlite3_close_v2(db_);
}

Status Connection::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Error e = sqlite_error(nullptr, rc, "sqlite exec");
    e.message = "sqlite exec: " + msg;
    return e;
  }
  return {};
}

Result<Stmt> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* st = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, &tail);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, "sqlite prepare");
  Stmt stmt(db_, st);
  if (!st) return Error(ErrorCode::INVALID_INPUT, "sqlite prepare: empty statement");
  // Anything after the first statement must be whitespace or comments.
  if (tail && tail < sql.data() + sql.size()) {
    sqlite3_stmt* next = nullptr;
    int rc2 = sqlite3_prepare_v2(db_, tail, static_cast<int>(sql.data() + sql.size() - tail), &next, nullptr);
    bool extra = rc2 != SQLITE_OK || next != nullptr;
    sqlite3_finalize(next);
    if (extra) return Error(ErrorCode::INVALID_INPUT, "sqlite prepare: more than one statement");
  }
  return stmt;
}

Result<Stmt*> Connection::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto st = prepare(sql);
    if (!st.ok()) return st.error();
    it = cache_.emplace(sql, std::move(st).value()).first;
  }
  it->second.reset();
  return &it->second;
}

int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int64_t Connection::changes() const { return sqlite3_changes64(db_); }

// ---- Transaction ----
Transaction::Transaction(Connection& c, bool immediate)
    : c_(c), begun_(c.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN")) {
  done_ = !begun_.ok();
}
Transaction::~Transaction() {
  if (!done_) (void)c_.exec("ROLLBACK");
}
Status Transaction::commit() {
  if (done_) return Error(ErrorCode::INTERNAL, "transaction already finished or never began");
  auto s = c_.exec("COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

// ---- migrations ----
Status migrate(Connection& c, std::string_view component, const std::vector<Migration>& migrations) {
  MOERAG_TRY(c.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
      " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
      " PRIMARY KEY (component, version))"));
  int64_t current = 0;
  {
    MOERAG_ASSIGN_OR_RETURN(Stmt st, c.prepare("SELECT COALESCE(MAX(version),0) FROM schema_migrations WHERE component=?"));
    st.bind(1, component);
    MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) current = st.col_int(0);
  }
  int64_t latest = 0;
  for (const auto& m : migrations) latest = std::max<int64_t>(latest, m.version);
  if (current > latest)
    return Error(ErrorCode::IO, "database '" + c.path() + "' has " + std::string(component) + " schema version " +
                                    std::to_string(current) + " but this build knows only up to " +
                                    std::to_string(latest) + "; use a newer moerag");
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    Transaction tx(c);
    MOERAG_TRY(tx.begun());
    auto applied = c.exec(m.sql);
    if (!applied.ok())
      return applied.error().with_context(std::string(component) + " migration " + std::to_string(m.version) + " (" + m.name + ")");
    MOERAG_ASSIGN_OR_RETURN(Stmt ins, c.prepare("INSERT INTO schema_migrations(component, version, name) VALUES (?,?,?)"));
    ins.bind_all(component, static_cast<int64_t>(m.version), m.name);
    MOERAG_TRY(ins.run());
    MOERAG_TRY(tx.commit());
  }
  return {};
}

// ---- pool ----
Lease::~Lease() {
  if (owner_ && c_) owner_->give_back(std::move(c_));
}

Result<std::shared_ptr<Database>> Database::open(const std::string& path, const OpenOptions& options) {
  std::shared_ptr<Database> db(new Database(path, options));
  // Open one connection now so a bad path fails at start-up, not at first use.
  MOERAG_ASSIGN_OR_RETURN(auto first, Connection::open(path, options));
  db->give_back(std::move(first));
  return db;
}

Result<Lease> Database::lease() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  MOERAG_ASSIGN_OR_RETURN(auto c, Connection::open(path_, options_));
  return Lease(this, std::move(c));
}

void Database::give_back(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(c));
}

size_t Database::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace moerag::sql
