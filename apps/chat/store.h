// Chat persistence in the main database: sessions (per owner and knowledge base),
// turns with their citations, feedback on answers and per-knowledge-base support
// profiles. Migrations run under the component name "chat".
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apps/chat/chat.h"

namespace moerag::chat {

class Store {
 public:
  /// Runs the chat migrations on `db`.
  static Result<std::unique_ptr<Store>> create(std::shared_ptr<sql::Database> db);

  /// A new session with a random 32-hex-character id.
  Result<SessionInfo> create_session(const std::string& owner, const std::string& kb, const std::string& title);
  /// NOT_FOUND unless the session exists and belongs to `owner`.
  Result<SessionInfo> session(const std::string& owner, const std::string& id);
  /// Most recently updated first; `kb` empty = all.
  Result<std::vector<SessionInfo>> sessions(const std::string& owner, const std::string& kb, int limit);
  Status delete_session(const std::string& owner, const std::string& id);
  Status set_summary(const std::string& id, const std::string& summary);

  /// Appends a turn; returns its id.
  Result<int64_t> add_turn(const std::string& session_id, const Turn& turn);
  /// Appends a question and its answer in one transaction; returns the answer's id.
  Result<int64_t> add_exchange(const std::string& session_id, const Turn& question, const Turn& answer);
  /// Every turn of the session, oldest first (with feedback ratings).
  Result<std::vector<Turn>> turns(const std::string& session_id);

  /// Stores (or replaces) the owner's rating of an assistant turn of their own session.
  Status add_feedback(const Feedback& f);

  /// The stored profile, or NOT_FOUND.
  Result<Profile> profile(const std::string& kb);
  Status set_profile(const Profile& p);

 private:
  explicit Store(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}
  /// Inserts one turn inside the caller's transaction on `c`; returns its id.
  Result<int64_t> insert_turn(sql::Connection& c, const std::string& session_id, const Turn& t);
  std::shared_ptr<sql::Database> db_;
  // Chat writes queue here rather than in SQLite's busy handler, which sleeps
  // (milliseconds at a time) when concurrent requests all write their turns.
  std::mutex write_mu_;
};

/// Citations as the JSON array stored with a turn (and sent by the API).
std::string citations_to_json(const std::vector<Citation>& citations);
std::vector<Citation> citations_from_json(const std::string& json_text);

}  // namespace moerag::chat
