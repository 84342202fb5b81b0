// Front door of apps/chat: knowledge-base Q&A and support chat. Sessions and turns
// in SQLite, a sliding-window memory that fits a token budget, follow-up questions
// rewritten into self-contained queries, answers with citations (extractive with no
// model, generated behind AnswerGenerator when one is loaded), support-bot profiles
// per knowledge base, escalation and feedback. Plain data in and out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/sqlite.h"
#include "retrieval/retriever.h"

namespace moerag::safety {
class Filter;
}
namespace moerag::engine {
class Generator;
}

namespace moerag::chat {

/// Every chat knob with its default (the lead maps these to `chat.*`).
struct ChatOptions {
  int context_tokens = 4096;       ///< total prompt + answer budget (words + CJK characters)
  double history_share = 0.25;     ///< share of context_tokens for earlier turns
  double passage_share = 0.50;     ///< share for retrieved passages
  double answer_share = 0.25;      ///< share for the answer itself
  int recent_turns = 6;            ///< at most this many recent turns are kept verbatim
  int passages = 6;                ///< passages retrieved per question
  int max_answer_sentences = 3;    ///< extractive answer: sentences at most
  double min_confidence = 0.30;    ///< below this, no answer: the fallback message instead
  double escalate_below = 0.45;    ///< below this, the response sets escalate
  int max_message_chars = 4000;    ///< longer user messages are refused (INVALID_INPUT)
  int max_sessions_listed = 100;   ///< GET /v1/chat/sessions returns at most this many
  int parallel_turns = 0;          ///< turns computed at once (retrieval, ranking, extractive answer;
                                   ///< not the model's generation); 0 = two per CPU core; more wait in order
};

/// A knowledge base's support-bot profile.
struct Profile {
  std::string kb;
  std::string persona;   ///< system prompt for the model path
  std::string greeting;  ///< first message shown by the UI and the widget
  std::string fallback;  ///< said when nothing relevant is found
};

/// One question of a conversation.
struct ChatRequest {
  std::string kb;
  std::string session_id;  ///< empty = start a new session
  std::string message;
  std::string owner;       ///< caller (API key name); sessions are scoped to it
  retrieval::Access access;
};

/// A passage an answer cites; `n` is the number used in the answer text ("[n]").
struct Citation {
  int n = 0;
  std::string document_id;
  int64_t chunk_id = 0;
  std::string source;
  std::string heading;   ///< heading path of the chunk
  int page = 0;          ///< 1-based PDF page, 0 when not paged
  std::string snippet;   ///< the cited sentences (plain text)
  std::string passage;   ///< the full passage text (as screened by safety)
  double score = 0;      ///< retrieval score
};

/// The answer to one ChatRequest. When `blocked`, nothing else is meaningful.
struct ChatResponse {
  std::string session_id;
  int64_t message_id = 0;       ///< the assistant turn (for feedback)
  std::string answer;
  std::vector<Citation> citations;
  std::string query;            ///< the self-contained query that was searched
  bool answered = false;        ///< false: nothing relevant found (fallback said)
  bool escalate = false;        ///< low confidence or the user asked for a person
  std::string escalate_reason;  ///< "low_confidence" | "user_request" | ""
  double confidence = 0;        ///< 0..1
  std::string mode;             ///< "extractive" | "generated"
  int history_turns = 0;        ///< earlier turns used (rewrite / prompt)
  bool blocked = false;         ///< the safety filter refused the input or the output
  std::string blocked_direction;  ///< "input" | "output"
  std::vector<std::string> blocked_categories;
  std::string blocked_reason;
};

/// Called with each piece of answer text as it becomes available; return false to stop.
using TokenSink = std::function<bool(std::string_view)>;

/// A language model behind the chat: model_answer_generator() over the engine's
/// Generator in production; any implementation in tests.
class AnswerGenerator {
 public:
  virtual ~AnswerGenerator() = default;
  /// Generates at most max_tokens after `prompt` (system + user text), streaming
  /// pieces to `sink` when given (a sink returning false ends generation early; the
  /// text so far is returned); returns the whole text. CONTEXT_TOO_LONG when the
  /// prompt does not fit the model (the caller retries with fewer passages).
  virtual Result<std::string> generate(const std::string& system, const std::string& prompt, int max_tokens,
                                       const TokenSink& sink) = 0;
};

/// How model_answer_generator() samples.
struct GenerationOptions {
  float temperature = 0.0f;          ///< 0 = greedy: the same passages give the same answer
  float top_p = 1.0f;                ///< nucleus sampling when temperature > 0 (1 = off)
  float repetition_penalty = 1.1f;   ///< discourages loops in long answers
  uint64_t seed = 0;                 ///< for temperature > 0
  int64_t timeout_ms = 60000;        ///< per generation (0 = none); a timed-out answer ends where it got to
};

/// An AnswerGenerator over the engine's Generator: system + prompt rendered with the
/// model's chat template, tokens streamed to the sink as they are decoded,
/// max_tokens capped to a quarter of the model's context.
std::shared_ptr<AnswerGenerator> model_answer_generator(std::shared_ptr<engine::Generator> generator,
                                                        GenerationOptions options = {});

/// A stored session (no turns).
struct SessionInfo {
  std::string id;
  std::string kb;
  std::string owner;
  std::string title;       ///< the first question, shortened
  std::string summary;     ///< summary of dropped turns (model path)
  int64_t n_turns = 0;
  std::string created_at, updated_at;  ///< UTC "YYYY-MM-DD HH:MM:SS"
};

/// One stored turn.
struct Turn {
  int64_t id = 0;
  std::string role;        ///< "user" | "assistant"
  std::string content;
  std::string query;       ///< user turns: the rewritten query
  std::vector<Citation> citations;  ///< assistant turns
  bool escalate = false;
  double confidence = 0;
  int rating = 0;          ///< feedback: +1, -1, 0 = none
  std::string created_at;
};

/// Thumbs up/down on an assistant turn.
struct Feedback {
  int64_t message_id = 0;
  int rating = 0;          ///< +1 or -1
  std::string comment;
  std::string owner;
};

/// Passage search used by the service (the retriever's search in production).
using SearchFn = std::function<Result<std::vector<retrieval::Passage>>(const retrieval::SearchRequest&)>;

/// The chat service. Thread-safe: any number of concurrent ask() calls.
class ChatService {
 public:
  /// `filter` and `generator` may be null (no safety checks / extractive answers).
  static Result<std::unique_ptr<ChatService>> create(std::shared_ptr<sql::Database> db, ChatOptions options,
                                                     SearchFn search, std::shared_ptr<safety::Filter> filter,
                                                     std::shared_ptr<AnswerGenerator> generator = nullptr);
  ~ChatService();
  ChatService(const ChatService&) = delete;
  ChatService& operator=(const ChatService&) = delete;

  /// Answers one message, storing both turns. NOT_FOUND for an unknown session of
  /// this owner; `sink` receives the answer text as it is produced.
  Result<ChatResponse> ask(const ChatRequest& request, const TokenSink& sink = nullptr);

  Result<std::vector<SessionInfo>> list_sessions(const std::string& owner, const std::string& kb = "");
  Result<SessionInfo> get_session(const std::string& owner, const std::string& id);
  Result<std::vector<Turn>> turns(const std::string& owner, const std::string& id);
  Status delete_session(const std::string& owner, const std::string& id);
  Status feedback(const Feedback& f);

  /// The profile of `kb` (defaults filled in when none is stored).
  Result<Profile> profile(const std::string& kb);
  Status set_profile(const Profile& p);

  const ChatOptions& options() const;
  bool has_generator() const;

 private:
  struct Impl;
  explicit ChatService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moerag::chat
