// Chat commands: `moerag ask --kb NAME "question"` (one answer with its sources),
// `moerag chat --kb NAME` (interactive, multi-turn) and `moerag eval chat --faq FILE`
// (ingests FAQ answers into a temporary knowledge base, asks every question and
// reports how often the top citation is the right answer).
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/chat/chat.h"
#include "apps/chat/faq.h"
#include "cli/common.h"
#include "core/hash.h"
#include "core/text.h"
#include "retrieval/settings.h"
#include "safety/filter.h"

namespace moerag::cli {

chat::ChatOptions chat_options(const config::Settings& s);  // serve_chat.cpp

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Filter options from the `safety` keys of the merged settings (read from the raw
// JSON so this file does not depend on how the typed section is laid out).
safety::SafetyOptions filter_options(const config::Settings& s) {
  safety::SafetyOptions o;
  const json* sec = s.raw.is_object() && s.raw.contains("safety") ? &s.raw["safety"] : nullptr;
  if (!sec || !sec->is_object()) return o;
  o.enabled = sec->value("enabled", o.enabled);
  o.model_enabled = sec->value("model_enabled", o.model_enabled);
  o.model_path = sec->value("model_path", o.model_path);
  o.rules_dir = sec->value("rules_dir", o.rules_dir);
  o.max_bytes = sec->value("max_bytes", o.max_bytes);
  o.redact_pii = sec->value("redact_pii", o.redact_pii);
  o.reversible_redaction = sec->value("reversible_redaction", o.reversible_redaction);
  o.audit_store_text = sec->value("audit_store_text", o.audit_store_text);
  if (sec->value("passage_policy", std::string("neutralise")) == "drop") o.passage_policy = safety::PassagePolicy::DROP;
  return o;
}

struct Stack {
  std::shared_ptr<retrieval::Retriever> retriever;
  std::shared_ptr<chat::ChatService> chat;
};

Result<Stack> open_stack(const config::Settings& s) {
  MOERAG_ASSIGN_OR_RETURN(auto db, open_main_db(s));
  Stack st;
  MOERAG_ASSIGN_OR_RETURN(st.retriever, retrieval::open_retriever(s, db));
  MOERAG_ASSIGN_OR_RETURN(auto filter, safety::Filter::create(filter_options(s), db));
  auto rt = st.retriever;
  chat::SearchFn search = [rt](const retrieval::SearchRequest& r) { return rt->search(r); };
  MOERAG_ASSIGN_OR_RETURN(st.chat, chat::ChatService::create(db, chat_options(s), search, std::move(filter)));
  return st;
}

void print_answer(const chat::ChatResponse& r) {
  std::cout << "\n";
  for (const auto& c : r.citations) {
    std::cout << "  [" << c.n << "] " << c.source;
    if (!c.heading.empty()) std::cout << " > " << c.heading;
    if (c.page > 0) std::cout << " (page " << c.page << ")";
    std::cout << "\n";
  }
  if (r.escalate) std::cout << "  (escalate: " << r.escalate_reason << ")\n";
}

// Prints a response, streaming the text; returns an exit code.
int ask_once(chat::ChatService& svc, chat::ChatRequest req, std::string* session_id, bool as_json) {
  req.session_id = *session_id;
  chat::TokenSink sink = nullptr;
  if (!as_json) sink = [](std::string_view piece) {
    std::cout << piece << std::flush;
    return true;
  };
  auto r = svc.ask(req, sink);
  if (!r.ok()) return fail(r.error().message);
  if (r->blocked) {
    std::cout << "\n";
    std::string cats;
    for (const auto& c : r->blocked_categories) cats += (cats.empty() ? "" : ", ") + c;
    return fail("blocked by the safety filter (" + r->blocked_direction + ": " + cats + ")");
  }
  *session_id = r->session_id;
  if (as_json) {
    json cites = json::array();
    for (const auto& c : r->citations)
      cites.push_back({{"n", c.n}, {"document_id", c.document_id}, {"source", c.source}, {"heading", c.heading},
                       {"page", c.page}, {"snippet", c.snippet}});
    std::cout << json{{"answer", r->answer}, {"citations", cites}, {"session_id", r->session_id},
                      {"escalate", r->escalate}, {"confidence", r->confidence}, {"query", r->query}}
                     .dump(2)
              << "\n";
  } else {
    print_answer(*r);
  }
  return 0;
}

struct AskArgs {
  std::string kb, question, session;
  bool json = false;
};

int run_ask(const SettingsFlags& flags, const AskArgs& a) {
  auto s = flags.load();
  if (!s) return 2;
  auto st = open_stack(*s);
  if (!st.ok()) return fail(st.error().message);
  chat::ChatRequest req{a.kb, "", a.question, "cli", {}};
  std::string session = a.session;
  return ask_once(*st->chat, req, &session, a.json);
}

int run_chat(const SettingsFlags& flags, const AskArgs& a) {
  auto s = flags.load();
  if (!s) return 2;
  auto st = open_stack(*s);
  if (!st.ok()) return fail(st.error().message);
  auto profile = st->chat->profile(a.kb);
  if (profile.ok()) std::cout << profile->greeting << "\n(empty line or Ctrl-D to quit)\n";
  std::string session = a.session, line;
  while (true) {
    std::cout << "\n> " << std::flush;
    if (!std::getline(std::cin, line) || text::trim(line).empty()) break;
    chat::ChatRequest req{a.kb, "", line, "cli", {}};
    if (int rc = ask_once(*st->chat, req, &session, false); rc != 0) std::cerr << "(turn failed)\n";
  }
  if (!session.empty()) std::cout << "session " << session << "\n";
  return 0;
}

struct EvalArgs {
  std::string faq;
  int limit = 0;
  bool with_questions = false;
};

bool contains_normalised(const std::string& hay, const std::string& needle) {
  auto norm = [](const std::string& s) {
    std::string o;
    for (char c : s)
      if (!std::isspace(static_cast<unsigned char>(c))) o += c;
    return o;
  };
  return norm(hay).find(norm(needle)) != std::string::npos;
}

int run_eval_chat(const SettingsFlags& flags, const EvalArgs& a) {
  auto s = flags.load();
  if (!s) return 2;
  auto pairs = chat::read_faq_csv(a.faq);
  if (!pairs.ok()) return fail(pairs.error().message, 2);
  if (a.limit > 0 && pairs->size() > static_cast<size_t>(a.limit)) pairs->resize(a.limit);
  // A temporary data folder: the evaluation never touches the configured database.
  std::string work = (fs::temp_directory_path() / ("moerag-eval-chat-" + random_hex(6))).string();
  config::Settings tmp = *s;
  tmp.data_dir = work;
  int rc = [&]() -> int {
    auto st = open_stack(tmp);
    if (!st.ok()) return fail(st.error().message);
    retrieval::KnowledgeBase spec;
    spec.name = "faq";
    if (auto k = st->retriever->create_kb(spec); !k.ok()) return fail(k.error().message);
    std::vector<retrieval::DocumentInput> docs;
    for (size_t i = 0; i < pairs->size(); ++i) {
      retrieval::DocumentInput d;
      d.id = "faq-" + std::to_string(i);
      d.source = d.id + (a.with_questions ? ".md" : ".txt");
      d.content = a.with_questions ? "# " + (*pairs)[i].question + "\n\n" + (*pairs)[i].answer : (*pairs)[i].answer;
      docs.push_back(std::move(d));
    }
    auto rep = st->retriever->ingest("faq", docs);
    if (!rep.ok()) return fail(rep.error().message);
    int top_ok = 0, first_sentence = 0, answered = 0, escalated = 0, blocked = 0;
    double total_ms = 0;
    for (size_t i = 0; i < pairs->size(); ++i) {
      chat::ChatRequest req{"faq", "", (*pairs)[i].question, "eval", {}};
      auto t0 = std::chrono::steady_clock::now();
      auto r = st->chat->ask(req);
      total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (!r.ok()) return fail(r.error().message);
      if (r->blocked) {
        ++blocked;
        std::cerr << "blocked by safety (" << r->blocked_reason << "): " << (*pairs)[i].question << "\n";
      }
      std::string want = "faq-" + std::to_string(i);
      if (!r->citations.empty() && r->citations[0].document_id == want) ++top_ok;
      auto sentences = text::split_sentences((*pairs)[i].answer);
      if (!sentences.empty() && contains_normalised(r->answer, std::string(sentences[0]))) ++first_sentence;
      answered += r->answered ? 1 : 0;
      escalated += r->escalate ? 1 : 0;
    }
    double n = static_cast<double>(pairs->size());
    std::cout << std::fixed << std::setprecision(1) << "FAQ pairs: " << pairs->size() << " (documents: answers"
              << (a.with_questions ? " with their question as heading" : " only") << ", no model)\n"
              << "top citation is the right answer: " << top_ok << " (" << 100.0 * top_ok / n << "%)\n"
              << "answer contains the answer's first sentence: " << first_sentence << " ("
              << 100.0 * first_sentence / n << "%)\n"
              << "answered: " << answered << " (" << 100.0 * answered / n << "%), escalated: " << escalated << " ("
              << 100.0 * escalated / n << "%), blocked by safety: " << blocked << "\n"
              << std::setprecision(2) << "mean latency: " << total_ms / n << " ms/question\n";
    return 0;
  }();
  std::error_code ec;
  fs::remove_all(work, ec);
  return rc;
}

RegisterCommand reg(35, [](CLI::App& app) {
  {
    auto* cmd = app.add_subcommand("ask", "Ask a knowledge base one question; prints the answer and its sources");
    auto flags = std::make_shared<SettingsFlags>();
    auto a = std::make_shared<AskArgs>();
    cmd->add_option("--kb", a->kb, "Knowledge base")->required();
    cmd->add_option("question", a->question, "The question")->required();
    cmd->add_option("--session", a->session, "Continue this session id");
    cmd->add_flag("--json", a->json, "Print the response as JSON");
    flags->add_to(cmd, false);
    on_run(cmd, [flags, a] { return run_ask(*flags, *a); });
  }
  {
    auto* cmd = app.add_subcommand("chat", "Chat with a knowledge base in the terminal (multi-turn)");
    auto flags = std::make_shared<SettingsFlags>();
    auto a = std::make_shared<AskArgs>();
    cmd->add_option("--kb", a->kb, "Knowledge base")->required();
    cmd->add_option("--session", a->session, "Continue this session id");
    flags->add_to(cmd, false);
    on_run(cmd, [flags, a] { return run_chat(*flags, *a); });
  }
  {
    auto* grp = group(app, "eval", "Evaluate retrieval, recommendations, SQL");
    auto* cmd = grp->add_subcommand("chat", "FAQ answers as documents, every question asked: top-citation accuracy");
    auto flags = std::make_shared<SettingsFlags>();
    auto a = std::make_shared<EvalArgs>();
    cmd->add_option("--faq", a->faq, "CSV with question and answer columns (e.g. faq_covidbert.csv)")->required();
    cmd->add_option("--limit", a->limit, "Use only the first N pairs");
    cmd->add_flag("--with-questions", a->with_questions, "Store each answer under its question as a heading");
    flags->add_to(cmd, false);
    on_run(cmd, [flags, a] { return run_eval_chat(*flags, *a); });
  }
});

}  // namespace
}  // namespace moerag::cli
