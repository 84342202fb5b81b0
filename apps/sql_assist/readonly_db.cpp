// Read-only execution with guards: the authorizer admits SELECT, reads, functions
// (minus a deny list) and recursive CTEs only; a progress handler stops statements
// past the time limit; length limits stop blob/string bombs; rows are capped.
#include "apps/sql_assist/readonly_db.h"

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <filesystem>

namespace moerag::sql_assist {

struct ReadOnlyDb::Guard {
  bool introspecting = false;
  std::string denied;  // why the authorizer refused, for a plain-words error
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool timed_out = false;
};

namespace {

// Functions that reach outside the database or change global state.
bool function_denied(const char* name) {
  static const char* const kDenied[] = {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit",
                                        "sqlite_offset", "zipfile", "fsdir"};
  if (!name) return false;
  for (const char* d : kDenied)
    if (sqlite3_stricmp(name, d) == 0) return true;
  return false;
}

bool pragma_for_catalog(const char* name) {
  if (!name) return false;
  for (const char* p : {"table_info", "table_xinfo", "foreign_key_list", "index_list"})
    if (sqlite3_stricmp(name, p) == 0) return true;
  return false;
}

int authorize(void* user, int action, const char* a3, const char* a4, const char*, const char*) {
  auto* g = static_cast<ReadOnlyDb::Guard*>(user);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (function_denied(a4)) {
        g->denied = std::string("the function ") + a4 + "() is not allowed";
        return SQLITE_DENY;
      }
      return SQLITE_OK;
    case SQLITE_PRAGMA:
      if (g->introspecting && pragma_for_catalog(a3)) return SQLITE_OK;
      g->denied = std::string("PRAGMA ") + (a3 ? a3 : "") + " is not allowed; only SELECT statements run here";
      return SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      g->denied = "ATTACH/DETACH is not allowed; queries see only the registered database";
      return SQLITE_DENY;
    default:
      g->denied = "only SELECT statements run here; writes, schema changes and transactions are refused";
      return SQLITE_DENY;
  }
}

int progress(void* user) {
  auto* g = static_cast<ReadOnlyDb::Guard*>(user);
  if (std::chrono::steady_clock::now() > g->deadline) {
    g->timed_out = true;
    return 1;
  }
  return 0;
}

// First keyword after white space and comments, upper-cased.
std::string first_keyword(const std::string& sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (isspace(static_cast<unsigned char>(sql[i]))) { ++i; continue; }
    if (sql.compare(i, 2, "--") == 0) { i = sql.find('\n', i); if (i == std::string::npos) return ""; continue; }
    if (sql.compare(i, 2, "/*") == 0) { i = sql.find("*/", i + 2); if (i == std::string::npos) return ""; i += 2; continue; }
    break;
  }
  std::string w;
  while (i < sql.size() && isalpha(static_cast<unsigned char>(sql[i]))) w += static_cast<char>(toupper(sql[i++]));
  return w;
}

}  // namespace

std::string cell_text(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::NUL: return "NULL";
    case Cell::Kind::INTEGER: return std::to_string(c.i);
    case Cell::Kind::REAL: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.15g", c.d);
      return buf;
    }
    case Cell::Kind::TEXT: return c.s;
  }
  return "";
}

Result<std::unique_ptr<ReadOnlyDb>> ReadOnlyDb::open(const std::string& path, const AssistOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return Error(ErrorCode::NOT_FOUND, "database file '" + path + "' does not exist");
  sql::OpenOptions o;
  o.read_only = true;
  o.wal = false;
  o.busy_timeout_ms = 1000;
  MOERAG_ASSIGN_OR_RETURN(auto conn, sql::Connection::open(path, o));
  std::unique_ptr<ReadOnlyDb> db(new ReadOnlyDb());
  db->conn_ = std::move(conn);
  db->guard_ = std::make_unique<Guard>();
  db->options_ = options;
  sqlite3* h = db->conn_->handle();
  sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_limit(h, SQLITE_LIMIT_LENGTH, 10'000'000);
  sqlite3_limit(h, SQLITE_LIMIT_SQL_LENGTH, std::max(1000, options.max_sql_bytes));
  sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(h, SQLITE_LIMIT_COMPOUND_SELECT, 50);
  sqlite3_set_authorizer(h, authorize, db->guard_.get());
  sqlite3_progress_handler(h, 1000, progress, db->guard_.get());
  return db;
}

ReadOnlyDb::~ReadOnlyDb() = default;

sql::Connection& ReadOnlyDb::introspect_begin() {
  guard_->introspecting = true;
  return *conn_;
}

void ReadOnlyDb::introspect_end() { guard_->introspecting = false; }

namespace {
struct StmtDeleter {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;
}  // namespace

// Prepares exactly one statement; anything but white space or comments after it is refused.
static Result<StmtPtr> prepare_one(sqlite3* h, const std::string& sql, ReadOnlyDb::Guard& g) {
  g.denied.clear();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(h, sql.c_str(), static_cast<int>(sql.size()), &raw, &tail);
  StmtPtr st(raw);
  if (rc != SQLITE_OK) {
    if (!g.denied.empty()) return Error(ErrorCode::INVALID_INPUT, "refused: " + g.denied);
    return Error(ErrorCode::INVALID_INPUT, std::string("the SQL is not valid for this database: ") + sqlite3_errmsg(h));
  }
  if (!st) return Error(ErrorCode::INVALID_INPUT, "the SQL is empty");
  if (tail && *tail) {
    sqlite3_stmt* next = nullptr;
    int rc2 = sqlite3_prepare_v2(h, tail, -1, &next, nullptr);
    bool extra = rc2 != SQLITE_OK || next != nullptr;
    sqlite3_finalize(next);
    if (extra) return Error(ErrorCode::INVALID_INPUT, "refused: exactly one statement is allowed (found more after ';')");
  }
  if (!sqlite3_stmt_readonly(st.get()))
    return Error(ErrorCode::INVALID_INPUT, "refused: only read-only SELECT statements run here");
  return st;
}

Status ReadOnlyDb::validate(const std::string& sql) {
  if (sql.size() > static_cast<size_t>(options_.max_sql_bytes))
    return Error(ErrorCode::INVALID_INPUT, "the SQL is longer than " + std::to_string(options_.max_sql_bytes) + " bytes");
  std::string kw = first_keyword(sql);
  if (kw != "SELECT" && kw != "WITH")
    return Error(ErrorCode::INVALID_INPUT,
                 "refused: only SELECT statements run here" + (kw.empty() ? std::string() : " (this one starts with " + kw + ")"));
  MOERAG_ASSIGN_OR_RETURN(auto st, prepare_one(conn_->handle(), sql, *guard_));
  return ok_status();
}

Result<Table> ReadOnlyDb::execute(const std::string& sql, int max_rows) {
  MOERAG_TRY(validate(sql));
  if (max_rows < 0) max_rows = options_.max_rows;
  sqlite3* h = conn_->handle();
  MOERAG_ASSIGN_OR_RETURN(auto st, prepare_one(h, sql, *guard_));
  Table t;
  int n_col = sqlite3_column_count(st.get());
  for (int c = 0; c < n_col; ++c) t.columns.push_back(sqlite3_column_name(st.get(), c));
  guard_->timed_out = false;
  guard_->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.time_limit_ms);
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    if (static_cast<int>(t.rows.size()) >= max_rows) {
      t.truncated = true;
      break;
    }
    std::vector<Cell> row(n_col);
    for (int c = 0; c < n_col; ++c) {
      Cell& cell = row[c];
      switch (sqlite3_column_type(st.get(), c)) {
        case SQLITE_INTEGER: cell.kind = Cell::Kind::INTEGER; cell.i = sqlite3_column_int64(st.get(), c); break;
        case SQLITE_FLOAT: cell.kind = Cell::Kind::REAL; cell.d = sqlite3_column_double(st.get(), c); break;
        case SQLITE_TEXT: {
          cell.kind = Cell::Kind::TEXT;
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), c));
          cell.s.assign(p, sqlite3_column_bytes(st.get(), c));
          break;
        }
        case SQLITE_BLOB:
          cell.kind = Cell::Kind::TEXT;
          cell.s = "<blob " + std::to_string(sqlite3_column_bytes(st.get(), c)) + " bytes>";
          break;
        default: break;
      }
    }
    t.rows.push_back(std::move(row));
  }
  guard_->deadline = std::chrono::steady_clock::time_point::max();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    if (guard_->timed_out)
      return Error(ErrorCode::INVALID_INPUT, "the query ran longer than the time limit of " +
                                                 std::to_string(options_.time_limit_ms) + " ms and was stopped");
    return Error(ErrorCode::INVALID_INPUT, std::string("the query failed while running: ") + sqlite3_errmsg(h));
  }
  return t;
}

}  // namespace moerag::sql_assist
