// ChatService: one question = safety check of the input, session and memory,
// query rewrite, retrieval, passage screening, an extractive or generated answer
// with checked citations, safety check of the output, then both turns stored.
#include "apps/chat/chat.h"

#include <algorithm>

#include "apps/chat/answer.h"
#include "apps/chat/memory.h"
#include "apps/chat/store.h"
#include "apps/chat/terms.h"
#include "core/gate.h"
#include "core/log.h"
#include "core/text.h"
#include "safety/filter.h"

namespace moerag::chat {
namespace {

std::string shorten(std::string_view s, size_t max_chars) {
  std::u32string u = text::to_u32(text::trim(s));
  if (u.size() <= max_chars) return text::from_u32(u);
  return text::from_u32(u.substr(0, max_chars - 1)) + "…";
}

Profile default_profile(const std::string& kb) {
  Profile p;
  p.kb = kb;
  p.persona = "You are the support assistant for the '" + kb +
              "' knowledge base. Be brief and friendly, answer only from the passages you are given, and cite them.";
  p.greeting = "Hi! Ask me anything about '" + kb + "'. I answer from its documents and show my sources.";
  p.fallback = "Sorry, I could not find an answer to that in the '" + kb +
               "' documents. Try rephrasing it, or ask to talk to a person.";
  return p;
}

constexpr const char* kFallbackZh = "抱歉，资料库中没有找到与这个问题相关的答案。您可以换个说法再问，或者转人工客服。";

// Streams already-known text in small pieces: a word (with its space) or a few CJK characters.
bool stream_text(const std::string& s, const TokenSink& sink) {
  if (!sink) return true;
  size_t start = 0, pos = 0, n_cjk = 0;
  while (pos < s.size()) {
    char32_t c;
    size_t len = text::utf8_decode(s, pos, c);
    pos += len ? len : 1;
    if (text::is_cjk(c)) ++n_cjk;
    bool cut = c == U' ' || c == U'\n' || n_cjk >= 3;
    if (cut) {
      if (!sink(std::string_view(s).substr(start, pos - start))) return false;
      start = pos;
      n_cjk = 0;
    }
  }
  if (start < s.size()) return sink(std::string_view(s).substr(start));
  return true;
}

void mark_blocked(ChatResponse& r, const safety::Verdict& v, const char* direction) {
  r.blocked = true;
  r.blocked_direction = direction;
  r.blocked_categories = v.categories;
  r.blocked_reason = v.reason;
}

}  // namespace

struct ChatService::Impl {
  std::shared_ptr<sql::Database> db;
  std::unique_ptr<Store> store;
  ChatOptions options;
  SearchFn search;
  std::shared_ptr<safety::Filter> filter;
  std::shared_ptr<AnswerGenerator> generator;
  std::unique_ptr<FifoGate> gate;  // bounds the turns computed at once (ChatOptions::parallel_turns)
  std::shared_ptr<spdlog::logger> log = log::get("chat");

  Result<Profile> profile_of(const std::string& kb) {
    auto p = store->profile(kb);
    if (p.ok()) {
      Profile d = default_profile(kb);
      if (p->persona.empty()) p->persona = d.persona;
      if (p->greeting.empty()) p->greeting = d.greeting;
      if (p->fallback.empty()) p->fallback = d.fallback;
      return p;
    }
    if (p.error().code != ErrorCode::NOT_FOUND) return p.error();
    return default_profile(kb);
  }

  std::string rewrite(const std::string& message, const std::vector<Turn>& history) {
    std::string previous;
    for (auto it = history.rbegin(); it != history.rend(); ++it)
      if (it->role == "user") {
        previous = it->query.empty() ? it->content : it->query;
        break;
      }
    if (generator && !previous.empty() && is_follow_up(message)) {
      std::string prompt = "Previous question: " + previous + "\nFollow-up: " + message +
                           "\nRewrite the follow-up as one self-contained question. Reply with the question only.";
      auto r = generator->generate("You rewrite follow-up questions.", prompt, 64, nullptr);
      if (r.ok()) {
        std::string q = usable_rewrite(*r, message, previous);
        if (!q.empty()) return q;
      } else {
        log->warn("chat: query rewrite by the model failed ({}); using the previous turn's key terms", r.error().message);
      }
    }
    return carry_forward(message, previous);
  }

  // The model's rewrite when it reads as a question about the same thing: its first
  // line, sharing a content term with the follow-up or the previous query, and not
  // much longer than both together. Anything else (chatter, an invented topic) is
  // dropped and the follow-up carries the previous turn's key terms instead.
  static std::string usable_rewrite(const std::string& out, const std::string& message, const std::string& previous) {
    std::string_view line = text::trim(out);
    line = text::trim(line.substr(0, line.find('\n')));
    if (line.empty()) return "";
    if (count_tokens(line) > 2 * (count_tokens(message) + count_tokens(previous)) + 4) return "";
    auto have = content_terms(line);
    auto known = content_terms(message + " " + previous);
    for (const auto& t : have)
      if (std::find(known.begin(), known.end(), t) != known.end()) return text::utf8_sanitize(line);
    return "";
  }

  std::vector<retrieval::Passage> screen(std::vector<retrieval::Passage> passages, const std::string& kb) {
    if (!filter) return passages;
    std::vector<retrieval::Passage> kept;
    for (auto& p : passages) {
      auto text = filter->screen_passage(p.text, kb);
      if (!text) continue;
      p.text = std::move(*text);
      kept.push_back(std::move(p));
    }
    return kept;
  }

  Status generated_answer(const ChatRequest& req, const Profile& profile, SessionInfo& session,
                          const std::vector<Turn>& history, const std::vector<Candidate>& cands, ChatResponse& r,
                          const TokenSink& sink, bool* streamed);
};

ChatService::ChatService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatService::~ChatService() = default;

Result<std::unique_ptr<ChatService>> ChatService::create(std::shared_ptr<sql::Database> db, ChatOptions options,
                                                         SearchFn search, std::shared_ptr<safety::Filter> filter,
                                                         std::shared_ptr<AnswerGenerator> generator) {
  if (!db || !search) return Error(ErrorCode::INTERNAL, "chat needs a database and a search function");
  auto impl = std::make_unique<Impl>();
  MOERAG_ASSIGN_OR_RETURN(impl->store, Store::create(db));
  impl->db = std::move(db);
  impl->options = options;
  impl->search = std::move(search);
  impl->filter = std::move(filter);
  impl->generator = std::move(generator);
  impl->gate = std::make_unique<FifoGate>(options.parallel_turns > 0 ? static_cast<size_t>(options.parallel_turns)
                                                                      : FifoGate::per_core(2));
  return std::unique_ptr<ChatService>(new ChatService(std::move(impl)));
}

Status ChatService::Impl::generated_answer(const ChatRequest& req, const Profile& profile, SessionInfo& session,
                                           const std::vector<Turn>& history, const std::vector<Candidate>& cands,
                                           ChatResponse& r, const TokenSink& sink, bool* streamed_out) {
  r.mode = "generated";
  // Nothing relevant retrieved: the model is not asked (the caller says the fallback).
  if (cands.empty() || cands[0].coverage < options.min_confidence) return {};
  Budget b = split_budget(options);
  int summary_tokens = count_tokens(session.summary);
  Window w = fit_window(history, b.history, options.recent_turns, summary_tokens);
  if (!w.dropped.empty()) {
    // Older turns leave the window: fold them into the session summary.
    std::vector<const Turn*> old;
    for (size_t i : w.dropped) old.push_back(&history[i]);
    auto s = generator->generate("You summarise conversations.", summary_prompt(session.summary, old), 128, nullptr);
    if (s.ok() && !text::trim(*s).empty()) {
      session.summary = text::utf8_sanitize(text::trim(*s));
      (void)store->set_summary(session.id, session.summary);
    } else if (!s.ok()) {
      log->warn("chat: summarising earlier turns failed: {}", s.error().message);
    }
  }
  std::string hist;
  if (!session.summary.empty()) hist += "(Summary of earlier turns) " + session.summary + "\n";
  for (size_t i : w.kept) hist += (history[i].role == "user" ? "User: " : "Assistant: ") + history[i].content + "\n";
  r.history_turns = static_cast<int>(w.kept.size());
  std::unique_ptr<safety::StreamChecker> checker = filter ? filter->stream(safety::Direction::OUTPUT, req.kb) : nullptr;
  safety::Verdict stop_verdict;
  bool streamed = false;
  TokenSink checked = [&](std::string_view piece) {
    streamed = true;
    if (!checker) return sink ? sink(piece) : true;
    auto step = checker->feed(piece);
    if (step.stop) {
      stop_verdict = step.verdict;
      return false;
    }
    return step.release.empty() || !sink || sink(step.release);
  };
  // The budgets count words; a model's tokens are more. When the prompt does not fit
  // the model's context, try again with half the passages, then without the history.
  size_t n_used = 0, limit = cands.size();
  bool with_history = true;
  std::string text;
  for (;;) {
    std::vector<Candidate> use(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(limit));
    std::string prompt = rag_prompt(req.message, use, with_history ? hist : "", b.passages, &n_used);
    auto g = generator->generate(profile.persona, prompt, b.answer, checked);
    if (g.ok()) {
      text = std::move(*g);
      break;
    }
    if (g.error().code != ErrorCode::CONTEXT_TOO_LONG || streamed) return g.error();
    if (n_used > 1) limit = n_used / 2;
    else if (with_history && !hist.empty()) with_history = false;
    else return g.error();
  }
  if (checker && !checker->stopped()) {
    auto step = checker->finish();
    if (step.stop) stop_verdict = step.verdict;
    else if (!step.release.empty() && sink) sink(step.release);
  }
  if (checker && checker->stopped()) {
    mark_blocked(r, stop_verdict, "output");
    return {};
  }
  std::vector<size_t> cited;
  r.answer = check_citations(text::utf8_sanitize(text), cands, n_used, &cited);
  // Renumbering would change the streamed text; keep the prompt's numbers.
  for (size_t i : cited) r.citations.push_back(make_citation(cands[i], static_cast<int>(i + 1), cands[i].passage.snippet));
  r.answered = !text::trim(r.answer).empty();
  r.confidence = cands[0].coverage;
  // An answer that cites none of its passages is not backed by the knowledge base.
  if (r.answered && cited.empty()) r.confidence = std::min(r.confidence, 0.5 * options.escalate_below);
  *streamed_out = streamed;
  return {};
}

Result<ChatResponse> ChatService::ask(const ChatRequest& req_in, const TokenSink& sink) {
  Impl& m = *impl_;
  ChatRequest req = req_in;
  std::string_view trimmed = text::trim(req.message);
  if (trimmed.empty()) return Error(ErrorCode::INVALID_INPUT, "field 'message' must not be empty");
  if (static_cast<int>(text::utf8_length(trimmed)) > m.options.max_message_chars)
    return Error(ErrorCode::INVALID_INPUT, "message is longer than " + std::to_string(m.options.max_message_chars) +
                                               " characters (chat.max_message_chars)");
  req.message = text::utf8_sanitize(trimmed);

  // CPU-bound from here to the answer: take a slot (queued first come, first served).
  // The model's generation and the streaming of the answer happen outside it.
  FifoGate::Pass pass = m.gate->enter();
  ChatResponse r;
  SessionInfo session;
  if (!req.session_id.empty()) {
    MOERAG_ASSIGN_OR_RETURN(session, m.store->session(req.owner, req.session_id));
    if (req.kb.empty()) req.kb = session.kb;
    if (req.kb != session.kb)
      return Error(ErrorCode::INVALID_INPUT, "session '" + session.id + "' belongs to knowledge base '" + session.kb + "'");
    r.session_id = session.id;
  }
  if (req.kb.empty()) return Error(ErrorCode::INVALID_INPUT, "field 'kb' (knowledge base name) is required");

  if (m.filter) {
    auto v = m.filter->check(req.message, safety::Direction::INPUT, req.kb);
    if (v.decision == safety::Decision::BLOCK) {
      mark_blocked(r, v, "input");
      return r;
    }
    if (v.decision == safety::Decision::REDACT) req.message = v.redacted_text;
  }

  std::vector<Turn> history;
  if (!session.id.empty()) {
    MOERAG_ASSIGN_OR_RETURN(history, m.store->turns(session.id));
  }
  MOERAG_ASSIGN_OR_RETURN(Profile profile, m.profile_of(req.kb));

  r.query = m.rewrite(req.message, history);
  r.history_turns = history.empty() ? 0 : 1;
  retrieval::SearchRequest sr;
  sr.kb = req.kb;
  sr.query = r.query;
  sr.k = std::max(1, m.options.passages);
  sr.access = req.access;
  MOERAG_ASSIGN_OR_RETURN(auto passages, m.search(sr));
  auto cands = rank_candidates(r.query, m.screen(std::move(passages), req.kb), req.message);

  if (session.id.empty()) {
    MOERAG_ASSIGN_OR_RETURN(session, m.store->create_session(req.owner, req.kb, shorten(req.message, 80)));
  }
  r.session_id = session.id;

  bool streamed = false;  // the generated text already went to the sink
  bool extractive = !m.generator;
  if (m.generator) {
    pass.leave();  // the engine's scheduler batches and orders generation itself
    Status g = m.generated_answer(req, profile, session, history, cands, r, sink, &streamed);
    if (!g.ok() && g.error().code == ErrorCode::CONTEXT_TOO_LONG) {
      // Not even one passage fits the model's context: answer from the passages themselves.
      m.log->warn("chat: {}; answering extractively", g.error().message);
      std::string query = std::move(r.query);
      r = ChatResponse{};
      r.session_id = session.id;
      r.query = std::move(query);
      extractive = true;
    } else if (!g.ok()) {
      return g.error();
    }
    if (r.blocked) return r;
  }
  if (extractive) {
    Budget b = split_budget(m.options);
    Extract ex = extractive_answer(r.query, cands, m.options.max_answer_sentences, b.answer, m.options.min_confidence,
                                   req.message);
    r.mode = "extractive";
    r.answered = ex.answered;
    r.answer = ex.answer;
    r.citations = std::move(ex.citations);
    r.confidence = ex.confidence;
  }
  if (!r.answered) {
    bool default_fallback = profile.fallback == default_profile(req.kb).fallback;
    r.answer = default_fallback && text::has_cjk(req.message) ? kFallbackZh : profile.fallback;
    r.citations.clear();
  }
  if (asks_for_human(req.message)) {
    r.escalate = true;
    r.escalate_reason = "user_request";
  } else if (!r.answered || r.confidence < m.options.escalate_below) {
    r.escalate = true;
    r.escalate_reason = "low_confidence";
  }

  if (m.filter && r.mode == "extractive") {
    auto v = m.filter->check(r.answer, safety::Direction::OUTPUT, req.kb);
    if (v.decision == safety::Decision::BLOCK) {
      mark_blocked(r, v, "output");
      return r;
    }
    if (v.decision == safety::Decision::REDACT) r.answer = v.redacted_text;
  }
  pass.leave();
  if (!streamed || !r.answered) stream_text(r.answer, sink);

  Turn user;
  user.role = "user";
  user.content = req.message;
  user.query = r.query;
  Turn bot;
  bot.role = "assistant";
  bot.content = r.answer;
  bot.citations = r.citations;
  bot.escalate = r.escalate;
  bot.confidence = r.confidence;
  MOERAG_ASSIGN_OR_RETURN(r.message_id, m.store->add_exchange(session.id, user, bot));
  m.log->debug("chat kb={} session={} answered={} confidence={:.2f} citations={}", req.kb, session.id, r.answered,
               r.confidence, r.citations.size());
  return r;
}

Result<std::vector<SessionInfo>> ChatService::list_sessions(const std::string& owner, const std::string& kb) {
  return impl_->store->sessions(owner, kb, impl_->options.max_sessions_listed);
}

Result<SessionInfo> ChatService::get_session(const std::string& owner, const std::string& id) {
  return impl_->store->session(owner, id);
}

Result<std::vector<Turn>> ChatService::turns(const std::string& owner, const std::string& id) {
  MOERAG_TRY(impl_->store->session(owner, id));
  return impl_->store->turns(id);
}

Status ChatService::delete_session(const std::string& owner, const std::string& id) {
  return impl_->store->delete_session(owner, id);
}

Status ChatService::feedback(const Feedback& f) { return impl_->store->add_feedback(f); }

Result<Profile> ChatService::profile(const std::string& kb) { return impl_->profile_of(kb); }

Status ChatService::set_profile(const Profile& p) {
  if (p.kb.empty()) return Error(ErrorCode::INVALID_INPUT, "profile needs a knowledge base name");
  return impl_->store->set_profile(p);
}

const ChatOptions& ChatService::options() const { return impl_->options; }
bool ChatService::has_generator() const { return impl_->generator != nullptr; }

}  // namespace moerag::chat
