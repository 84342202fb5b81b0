// `moerag serve` start-up steps of the chat app: "chat" (order 40) builds the
// ChatService over retrieval, safety and (when model.path is set) the engine's
// Generator, and adds its routes; "demo" (order 45)
// ingests the demo knowledge base (docs/ and the COVID FAQ) when demo.enabled is on
// and the knowledge base does not exist yet, so `make run` can be asked at once.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/chat/chat.h"
#include "cli/common.h"
#include "cli/serve_modules.h"
#include "core/log.h"
#include "engine/generator.h"
#include "retrieval/retriever.h"
#include "safety/filter.h"
#include "web/routes_chat.h"

namespace moerag::cli {

namespace {
using json = nlohmann::json;

// The value at a dotted key of the merged settings, or `fallback` while the key is not
// in config/moerag.json yet.
template <typename T>
T raw_value(const config::Settings& s, const std::string& dotted, T fallback) {
  json::json_pointer ptr("/" + [&] {
    std::string p = dotted;
    for (auto& ch : p)
      if (ch == '.') ch = '/';
    return p;
  }());
  if (!s.raw.is_object() || !s.raw.contains(ptr)) return fallback;
  try {
    return s.raw.at(ptr).get<T>();
  } catch (const std::exception&) {
    return fallback;
  }
}
}  // namespace

chat::ChatOptions chat_options(const config::Settings& s);

/// The model's sampling for chat answers (`chat.temperature`, `chat.top_p`,
/// `chat.repetition_penalty`, `chat.seed`, `chat.generation_timeout_ms`).
chat::GenerationOptions generation_options(const config::Settings& s) {
  chat::GenerationOptions o;
  o.temperature = raw_value(s, "chat.temperature", o.temperature);
  o.top_p = raw_value(s, "chat.top_p", o.top_p);
  o.repetition_penalty = raw_value(s, "chat.repetition_penalty", o.repetition_penalty);
  o.seed = raw_value(s, "chat.seed", o.seed);
  o.timeout_ms = raw_value(s, "chat.generation_timeout_ms", o.timeout_ms);
  return o;
}

namespace {

// The chat.* knobs are checked when settings load (exit 2 with one line naming the key).
config::RegisterCheck check("chat", [](const config::Settings& s) -> Status {
  auto bad = [&](const std::string& key, const std::string& allowed) {
    return Error(ErrorCode::INVALID_INPUT, key + " must be " + allowed + " (set by " + s.source_of(key) + ")");
  };
  const json c = s.raw.is_object() ? s.raw.value("chat", json::object()) : json::object();
  for (const char* k : {"temperature", "top_p", "repetition_penalty", "history_share", "passage_share", "answer_share",
                        "min_confidence", "escalate_below"})
    if (c.contains(k) && !c[k].is_number()) return bad(std::string("chat.") + k, "a number");
  for (const char* k : {"context_tokens", "recent_turns", "passages", "max_answer_sentences", "max_message_chars",
                        "parallel_turns", "seed", "generation_timeout_ms"})
    if (c.contains(k) && !c[k].is_number_integer()) return bad(std::string("chat.") + k, "an integer");
  const chat::GenerationOptions g = generation_options(s);
  if (!(g.temperature >= 0.0f && g.temperature <= 2.0f)) return bad("chat.temperature", "between 0 (greedy) and 2");
  if (!(g.top_p > 0.0f && g.top_p <= 1.0f)) return bad("chat.top_p", "in (0, 1] (1 = off)");
  if (!(g.repetition_penalty >= 1.0f && g.repetition_penalty <= 2.0f)) return bad("chat.repetition_penalty", "between 1 (off) and 2");
  if (g.timeout_ms < 0) return bad("chat.generation_timeout_ms", ">= 0 (0 = no limit)");
  const chat::ChatOptions o = chat_options(s);
  if (o.parallel_turns < 0) return bad("chat.parallel_turns", ">= 0 (0 = two per CPU core)");
  if (o.passages < 1 || o.passages > 50) return bad("chat.passages", "1..50");
  return ok_status();
});

}  // namespace

/// The `chat.*` settings (defaults from ChatOptions for keys not present).
chat::ChatOptions chat_options(const config::Settings& s) {
  chat::ChatOptions o;
  o.context_tokens = raw_value(s, "chat.context_tokens", o.context_tokens);
  o.history_share = raw_value(s, "chat.history_share", o.history_share);
  o.passage_share = raw_value(s, "chat.passage_share", o.passage_share);
  o.answer_share = raw_value(s, "chat.answer_share", o.answer_share);
  o.recent_turns = raw_value(s, "chat.recent_turns", o.recent_turns);
  o.passages = raw_value(s, "chat.passages", o.passages);
  o.max_answer_sentences = raw_value(s, "chat.max_answer_sentences", o.max_answer_sentences);
  o.min_confidence = raw_value(s, "chat.min_confidence", o.min_confidence);
  o.escalate_below = raw_value(s, "chat.escalate_below", o.escalate_below);
  o.max_message_chars = raw_value(s, "chat.max_message_chars", o.max_message_chars);
  o.parallel_turns = raw_value(s, "chat.parallel_turns", o.parallel_turns);
  return o;
}

/// The demo knowledge base's settings (`demo.*`).
struct DemoOptions {
  bool enabled = false;           ///< ingest the demo KB at start-up when missing (make run turns it on)
  std::string kb = "demo";        ///< its name
  std::string docs_dir = "docs";  ///< project docs (*.md)
  std::string faq_csv = "../shared/data/covid-faq-deepset/faq_covidbert.csv";  ///< deepset COVID-QA FAQ (Apache-2.0)
};

DemoOptions demo_options(const config::Settings& s) {
  DemoOptions o;
  o.enabled = raw_value(s, "demo.enabled", o.enabled);
  o.kb = raw_value(s, "demo.kb", o.kb);
  o.docs_dir = raw_value(s, "demo.docs_dir", o.docs_dir);
  o.faq_csv = raw_value(s, "demo.faq_csv", o.faq_csv);
  return o;
}

/// Creates and fills the demo knowledge base (docs + FAQ); a missing source is skipped with a warning.
Status load_demo(retrieval::Retriever& rt, chat::ChatService* chat, const DemoOptions& o) {
  auto log = log::get("cli");
  if (rt.get_kb(o.kb).ok()) return {};
  retrieval::KnowledgeBase spec;
  spec.name = o.kb;
  spec.description = "Demo: the moerag docs and the COVID-19 FAQ of deepset COVID-QA (Apache-2.0; texts from CDC, "
                     "ECDC, WHO, BMG and US state health departments, March 2020).";
  MOERAG_TRY(rt.create_kb(spec));
  if (std::filesystem::is_directory(o.docs_dir)) {
    auto rep = rt.ingest_path(o.kb, o.docs_dir, {});
    if (!rep.ok()) log->warn("demo: {}: {}", o.docs_dir, rep.error().message);
    else log->info("demo: {} documents from {}", rep->n_added, o.docs_dir);
  } else {
    log->warn("demo: no folder {} (run from the repository root)", o.docs_dir);
  }
  std::ifstream in(o.faq_csv, std::ios::binary);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    retrieval::DocumentInput d;
    d.source = "covid-faq.csv";
    d.format = "csv";
    d.content = ss.str();
    d.text_field = "answer";
    d.title_field = "question";
    d.metadata_json = R"({"dataset":"deepset COVID-QA faq_covidbert.csv","license":"Apache-2.0"})";
    auto rep = rt.ingest(o.kb, {d});
    if (!rep.ok()) log->warn("demo: {}: {}", o.faq_csv, rep.error().message);
    else log->info("demo: {} FAQ entries from {}", rep->n_added, o.faq_csv);
  } else {
    log->warn("demo: no FAQ file {}; the demo has the docs only", o.faq_csv);
  }
  if (chat) {
    chat::Profile p;
    p.kb = o.kb;
    p.greeting = "Hi! I answer from the moerag docs and a COVID-19 FAQ. Try “How do I start moerag?” or “How long "
                 "does the virus survive on surfaces?”";
    (void)chat->set_profile(p);
  }
  return rt.flush();
}

namespace {

RegisterServeModule reg_chat(40, "chat", [](ServeContext& ctx) -> Status {
  auto retriever = ctx.get<retrieval::Retriever>("retrieval");
  if (!retriever) {
    log::get("cli")->warn("chat: retrieval is not started; /v1/chat is not available");
    return {};
  }
  auto filter = ctx.get<safety::Filter>("safety");  // null: answers go unchecked
  if (!filter) log::get("cli")->warn("chat: no safety filter; chat input and output are not checked");
  chat::SearchFn search = [retriever](const retrieval::SearchRequest& r) { return retriever->search(r); };
  // With a model loaded (step "engine"), answers are generated with [n] citations,
  // follow-ups rewritten and older turns summarised by it; without one, extractive.
  auto generator = chat::model_answer_generator(ctx.get<engine::Generator>("generator"), generation_options(ctx.settings));
  log::get("cli")->info("chat: {} answers", generator ? "generated (model)" : "extractive (no model)");
  MOERAG_ASSIGN_OR_RETURN(auto chat_db, open_chat_db(ctx.settings));
  MOERAG_ASSIGN_OR_RETURN(auto svc,
                          chat::ChatService::create(chat_db, chat_options(ctx.settings), search, filter, generator));
  std::shared_ptr<chat::ChatService> shared = std::move(svc);
  ctx.modules["chat"] = shared;
  ctx.services.route_sets.push_back(web::chat_routes(shared));
  return {};
});

RegisterServeModule reg_demo(45, "demo", [](ServeContext& ctx) -> Status {
  DemoOptions o = demo_options(ctx.settings);
  auto retriever = ctx.get<retrieval::Retriever>("retrieval");
  if (!o.enabled || !retriever) return {};
  return load_demo(*retriever, ctx.get<chat::ChatService>("chat").get(), o);
});

}  // namespace
}  // namespace moerag::cli
