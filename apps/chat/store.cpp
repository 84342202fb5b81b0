// Chat persistence (see store.h). Every method leases its own connection, so the
// store is safe to use from many threads.
#include "apps/chat/store.h"

#include <nlohmann/json.hpp>

#include "core/hash.h"

namespace moerag::chat {
namespace {

using json = nlohmann::json;

const std::vector<sql::Migration>& migrations() {
  static const std::vector<sql::Migration> m = {
      {1, "sessions, turns, feedback, profiles", R"(
CREATE TABLE chat_sessions (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  kb TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT '',
  n_turns INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX chat_sessions_owner ON chat_sessions(owner, updated_at);
CREATE TABLE chat_turns (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  query TEXT NOT NULL DEFAULT '',
  citations TEXT NOT NULL DEFAULT '[]',
  escalate INTEGER NOT NULL DEFAULT 0,
  confidence REAL NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX chat_turns_session ON chat_turns(session_id, id);
CREATE TABLE chat_feedback (
  turn_id INTEGER PRIMARY KEY REFERENCES chat_turns(id) ON DELETE CASCADE,
  owner TEXT NOT NULL,
  rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
  comment TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE chat_profiles (
  kb TEXT PRIMARY KEY,
  persona TEXT NOT NULL DEFAULT '',
  greeting TEXT NOT NULL DEFAULT '',
  fallback TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
)"}};
  return m;
}

SessionInfo read_session(sql::Stmt& st) {
  SessionInfo s;
  s.id = st.col_text(0);
  s.owner = st.col_text(1);
  s.kb = st.col_text(2);
  s.title = st.col_text(3);
  s.summary = st.col_text(4);
  s.n_turns = st.col_int(5);
  s.created_at = st.col_text(6);
  s.updated_at = st.col_text(7);
  return s;
}

constexpr const char* kSessionCols = "id, owner, kb, title, summary, n_turns, created_at, updated_at";

}  // namespace

std::string citations_to_json(const std::vector<Citation>& citations) {
  json arr = json::array();
  for (const auto& c : citations)
    arr.push_back({{"n", c.n}, {"document_id", c.document_id}, {"chunk_id", c.chunk_id}, {"source", c.source},
                   {"heading", c.heading}, {"page", c.page}, {"snippet", c.snippet}, {"passage", c.passage},
                   {"score", c.score}});
  return arr.dump();
}

std::vector<Citation> citations_from_json(const std::string& text) {
  std::vector<Citation> out;
  json arr = json::parse(text, nullptr, false);
  if (!arr.is_array()) return out;
  for (const auto& j : arr) {
    Citation c;
    c.n = j.value("n", 0);
    c.document_id = j.value("document_id", "");
    c.chunk_id = j.value("chunk_id", int64_t{0});
    c.source = j.value("source", "");
    c.heading = j.value("heading", "");
    c.page = j.value("page", 0);
    c.snippet = j.value("snippet", "");
    c.passage = j.value("passage", "");
    c.score = j.value("score", 0.0);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::unique_ptr<Store>> Store::create(std::shared_ptr<sql::Database> db) {
  MOERAG_ASSIGN_OR_RETURN(auto lease, db->lease());
  MOERAG_TRY(sql::migrate(*lease, "chat", migrations()));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Result<SessionInfo> Store::create_session(const std::string& owner, const std::string& kb, const std::string& title) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  std::string id = random_hex(16);
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached("INSERT INTO chat_sessions(id, owner, kb, title) VALUES (?, ?, ?, ?)"));
    MOERAG_TRY(st->bind_all(id, owner, kb, title).run());
  }
  return session(owner, id);
}

Result<SessionInfo> Store::session(const std::string& owner, const std::string& id) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached(std::string("SELECT ") + kSessionCols +
                                              " FROM chat_sessions WHERE id = ? AND owner = ?"));
  st->bind_all(id, owner);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  if (!row) return Error(ErrorCode::NOT_FOUND, "no chat session '" + id + "' for this caller");
  SessionInfo s = read_session(*st);
  st->reset();
  return s;
}

Result<std::vector<SessionInfo>> Store::sessions(const std::string& owner, const std::string& kb, int limit) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached(std::string("SELECT ") + kSessionCols +
                                              " FROM chat_sessions WHERE owner = ? AND (? = '' OR kb = ?)"
                                              " ORDER BY updated_at DESC, rowid DESC LIMIT ?"));
  st->bind_all(owner, kb, kb, static_cast<int64_t>(limit));
  std::vector<SessionInfo> out;
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
    if (!row) break;
    out.push_back(read_session(*st));
  }
  st->reset();
  return out;
}

Status Store::delete_session(const std::string& owner, const std::string& id) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  sql::Transaction tx(*c);
  MOERAG_TRY(tx.begun());
  // Explicit deletes: foreign-key cascades depend on a pragma the pool may not set.
  MOERAG_ASSIGN_OR_RETURN(auto* fb, c->cached("DELETE FROM chat_feedback WHERE turn_id IN "
                                              "(SELECT t.id FROM chat_turns t JOIN chat_sessions s ON s.id = t.session_id"
                                              " WHERE s.id = ? AND s.owner = ?)"));
  MOERAG_TRY(fb->bind_all(id, owner).run());
  MOERAG_ASSIGN_OR_RETURN(auto* tu, c->cached("DELETE FROM chat_turns WHERE session_id IN "
                                              "(SELECT id FROM chat_sessions WHERE id = ? AND owner = ?)"));
  MOERAG_TRY(tu->bind_all(id, owner).run());
  MOERAG_ASSIGN_OR_RETURN(auto* se, c->cached("DELETE FROM chat_sessions WHERE id = ? AND owner = ?"));
  MOERAG_TRY(se->bind_all(id, owner).run());
  if (c->changes() == 0) return Error(ErrorCode::NOT_FOUND, "no chat session '" + id + "' for this caller");
  return tx.commit();
}

Status Store::set_summary(const std::string& id, const std::string& summary) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  std::lock_guard<std::mutex> lock(write_mu_);
  MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached("UPDATE chat_sessions SET summary = ? WHERE id = ?"));
  return st->bind_all(summary, id).run();
}

Result<int64_t> Store::insert_turn(sql::Connection& c, const std::string& session_id, const Turn& t) {
  MOERAG_ASSIGN_OR_RETURN(auto* ins, c.cached("INSERT INTO chat_turns(session_id, role, content, query, citations,"
                                              " escalate, confidence) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  MOERAG_TRY(ins->bind_all(session_id, t.role, t.content, t.query, citations_to_json(t.citations),
                           static_cast<int64_t>(t.escalate ? 1 : 0), t.confidence)
                 .run());
  int64_t id = c.last_insert_rowid();
  MOERAG_ASSIGN_OR_RETURN(auto* up, c.cached("UPDATE chat_sessions SET n_turns = n_turns + 1,"
                                             " updated_at = datetime('now') WHERE id = ?"));
  MOERAG_TRY(up->bind_all(session_id).run());
  return id;
}

Result<int64_t> Store::add_turn(const std::string& session_id, const Turn& t) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  std::lock_guard<std::mutex> lock(write_mu_);
  sql::Transaction tx(*c);
  MOERAG_TRY(tx.begun());
  MOERAG_ASSIGN_OR_RETURN(int64_t id, insert_turn(*c, session_id, t));
  MOERAG_TRY(tx.commit());
  return id;
}

Result<int64_t> Store::add_exchange(const std::string& session_id, const Turn& question, const Turn& answer) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  std::lock_guard<std::mutex> lock(write_mu_);
  sql::Transaction tx(*c);
  MOERAG_TRY(tx.begun());
  MOERAG_TRY(insert_turn(*c, session_id, question));
  MOERAG_ASSIGN_OR_RETURN(int64_t id, insert_turn(*c, session_id, answer));
  MOERAG_TRY(tx.commit());
  return id;
}

Result<std::vector<Turn>> Store::turns(const std::string& session_id) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached("SELECT t.id, t.role, t.content, t.query, t.citations, t.escalate,"
                                              " t.confidence, t.created_at, COALESCE(f.rating, 0) FROM chat_turns t"
                                              " LEFT JOIN chat_feedback f ON f.turn_id = t.id"
                                              " WHERE t.session_id = ? ORDER BY t.id"));
  st->bind_all(session_id);
  std::vector<Turn> out;
  while (true) {
    MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
    if (!row) break;
    Turn t;
    t.id = st->col_int(0);
    t.role = st->col_text(1);
    t.content = st->col_text(2);
    t.query = st->col_text(3);
    t.citations = citations_from_json(st->col_text(4));
    t.escalate = st->col_int(5) != 0;
    t.confidence = st->col_double(6);
    t.created_at = st->col_text(7);
    t.rating = static_cast<int>(st->col_int(8));
    out.push_back(std::move(t));
  }
  st->reset();
  return out;
}

Status Store::add_feedback(const Feedback& f) {
  if (f.rating != 1 && f.rating != -1) return Error(ErrorCode::INVALID_INPUT, "rating must be \"up\" or \"down\" (1 or -1)");
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto* chk, c->cached("SELECT 1 FROM chat_turns t JOIN chat_sessions s ON s.id = t.session_id"
                                               " WHERE t.id = ? AND t.role = 'assistant' AND s.owner = ?"));
  chk->bind_all(f.message_id, f.owner);
  MOERAG_ASSIGN_OR_RETURN(bool found, chk->step());
  chk->reset();
  if (!found) return Error(ErrorCode::NOT_FOUND, "no answer with message_id " + std::to_string(f.message_id) + " for this caller");
  MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached("INSERT INTO chat_feedback(turn_id, owner, rating, comment) VALUES (?, ?, ?, ?)"
                                              " ON CONFLICT(turn_id) DO UPDATE SET rating = excluded.rating,"
                                              " comment = excluded.comment, created_at = datetime('now')"));
  return st->bind_all(f.message_id, f.owner, static_cast<int64_t>(f.rating), f.comment).run();
}

Result<Profile> Store::profile(const std::string& kb) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached("SELECT persona, greeting, fallback FROM chat_profiles WHERE kb = ?"));
  st->bind_all(kb);
  MOERAG_ASSIGN_OR_RETURN(bool row, st->step());
  if (!row) return Error(ErrorCode::NOT_FOUND, "no chat profile for '" + kb + "'");
  Profile p{kb, st->col_text(0), st->col_text(1), st->col_text(2)};
  st->reset();
  return p;
}

Status Store::set_profile(const Profile& p) {
  MOERAG_ASSIGN_OR_RETURN(auto c, db_->lease());
  MOERAG_ASSIGN_OR_RETURN(auto* st, c->cached("INSERT INTO chat_profiles(kb, persona, greeting, fallback) VALUES (?, ?, ?, ?)"
                                              " ON CONFLICT(kb) DO UPDATE SET persona = excluded.persona,"
                                              " greeting = excluded.greeting, fallback = excluded.fallback,"
                                              " updated_at = datetime('now')"));
  return st->bind_all(p.kb, p.persona, p.greeting, p.fallback).run();
}

}  // namespace moerag::chat
