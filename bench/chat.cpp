// bench_chat: POST /v1/chat (no model: extractive answers, safety filter on) through
// the real HTTP server under N concurrent clients (default 50): p50/p95/p99/max
// latency, throughput and failures, beside two baselines measured in the same run
// at the same concurrency: GET /healthz (the HTTP stack alone) and the knowledge
// base's search route (retrieval alone). Corpus: the COVID FAQ (213 answers under
// their questions) when ../shared/data is present, else a synthetic FAQ.
// Usage: bench_chat [--clients 50] [--requests 20] [--threads 64] [--json]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "apps/chat/chat.h"
#include "apps/chat/faq.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/sqlite.h"
#include "retrieval/settings.h"
#include "safety/filter.h"
#include "web/routes_chat.h"
#include "web/routes_kb.h"
#include "web/server.h"

using namespace moerag;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  std::string name;
  std::vector<double> ms;
  int failures = 0;  ///< transport errors and statuses other than 200/422
  int blocked = 0;   ///< 422: the safety filter refused the question
  double seconds = 0;
  uint64_t lock_waits = 0;  ///< SQLite busy-handler waits during the run
  double pct(double p) const {
    if (ms.empty()) return 0;
    size_t i = std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size() - 1) + 0.5));
    return ms[i];
  }
};

// n_clients threads, each with its own keep-alive connection, send n_requests each.
Stats run(const std::string& name, int port, int n_clients, int n_requests, const std::vector<std::string>& questions,
          const std::function<httplib::Result(httplib::Client&, const std::string&)>& send) {
  Stats st;
  st.name = name;
  const uint64_t waits_before = sql::busy_waits();
  std::vector<std::vector<double>> per(n_clients);
  std::atomic<int> failures{0}, blocked{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < n_clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // no Nagle wait between a request's header and body writes
      cli.set_read_timeout(30, 0);
      for (int i = 0; i < n_requests; ++i) {
        const std::string& q = questions[(static_cast<size_t>(c) * 7 + i) % questions.size()];
        auto s = Clock::now();
        auto r = send(cli, q);
        per[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        if (r && r->status == 422) {
          ++blocked;  // a safety decision, answered correctly: counted apart from failures
        } else if (!r || r->status != 200) {
          if (failures++ == 0)
            std::fprintf(stderr, "%s: first failure: %s\n", name.c_str(),
                         r ? (std::to_string(r->status) + " " + r->body).c_str() : httplib::to_string(r.error()).c_str());
        }
      }
    });
  for (auto& t : threads) t.join();
  st.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& v : per) st.ms.insert(st.ms.end(), v.begin(), v.end());
  std::sort(st.ms.begin(), st.ms.end());
  st.failures = failures;
  st.blocked = blocked;
  st.lock_waits = sql::busy_waits() - waits_before;
  return st;
}

std::vector<chat::FaqPair> corpus() {
  std::string path = std::string(MOERAG_SHARED_DATA) + "/covid-faq-deepset/faq_covidbert.csv";
  auto faq = chat::read_faq_csv(path);
  if (faq.ok() && !faq->empty()) return *faq;
  std::vector<chat::FaqPair> out;
  const char* topics[] = {"billing", "shipping", "returns", "passwords", "accounts", "invoices", "warranty", "repairs"};
  for (int i = 0; i < 200; ++i) {
    std::string t = topics[i % 8];
    out.push_back({"How does " + t + " rule " + std::to_string(i) + " work?",
                   "For " + t + ", rule " + std::to_string(i) + " applies within " + std::to_string(i % 30 + 1) +
                       " days. Contact support about " + t + " if it does not."});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int n_clients = 50, n_requests = 20, threads = 64, parallel_turns = 0;
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--clients" && i + 1 < argc) n_clients = std::atoi(argv[++i]);
    else if (a == "--requests" && i + 1 < argc) n_requests = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--parallel-turns" && i + 1 < argc) parallel_turns = std::atoi(argv[++i]);
    else if (a == "--json") as_json = true;
    else {
      std::fprintf(stderr, "usage: bench_chat [--clients N] [--requests N] [--threads N] [--parallel-turns N (chat.parallel_turns; 0 = two per core)] [--json]\n");
      return 2;
    }
  }
  log::init({"warn", false});
  std::string dir = (std::filesystem::temp_directory_path() / ("moerag-bench-chat-" + random_hex(6))).string();
  config::LoadOptions lo;
  lo.use_environment = false;
  lo.overrides = {{"data_dir", dir, "bench"},
                  {"server.port", "0", "bench"},
                  {"server.threads", std::to_string(threads), "bench"},
                  {"limits.rate_per_second", "0", "bench"}};
  auto settings = config::load(lo);
  if (!settings.ok()) return std::fprintf(stderr, "%s\n", settings.error().message.c_str()), 1;
  std::filesystem::create_directories(dir);
  auto db = sql::Database::open(dir + "/moerag.db");
  auto rt = retrieval::open_retriever(*settings, *db);
  auto filter = safety::Filter::create(safety::SafetyOptions{}, *db);
  if (!db.ok() || !rt.ok() || !filter.ok()) return std::fprintf(stderr, "set-up failed\n"), 1;
  std::shared_ptr<retrieval::Retriever> retriever = *rt;
  auto pairs = corpus();
  retrieval::KnowledgeBase spec;
  spec.name = "faq";
  (void)retriever->create_kb(spec);
  std::vector<retrieval::DocumentInput> docs;
  std::vector<std::string> questions;
  for (size_t i = 0; i < pairs.size(); ++i) {
    retrieval::DocumentInput d;
    d.id = "faq-" + std::to_string(i);
    d.source = d.id + ".md";
    d.content = "# " + pairs[i].question + "\n\n" + pairs[i].answer;
    docs.push_back(std::move(d));
    questions.push_back(pairs[i].question);
  }
  if (auto rep = retriever->ingest("faq", docs); !rep.ok()) return std::fprintf(stderr, "%s\n", rep.error().message.c_str()), 1;
  chat::SearchFn search = [retriever](const retrieval::SearchRequest& r) { return retriever->search(r); };
  std::shared_ptr<safety::Filter> f = std::move(*filter);
  auto chat_db = sql::Database::open(dir + "/chat.db");  // as serve: chat in its own file
  if (!chat_db.ok()) return std::fprintf(stderr, "set-up failed\n"), 1;
  chat::ChatOptions chat_options;
  chat_options.parallel_turns = parallel_turns;
  auto svc = chat::ChatService::create(*chat_db, chat_options, search, f);
  if (!svc.ok()) return std::fprintf(stderr, "%s\n", svc.error().message.c_str()), 1;
  std::shared_ptr<chat::ChatService> chat_svc = std::move(*svc);
  web::Services services{*db, {web::kb_routes(retriever), web::chat_routes(chat_svc)}};
  auto server = web::Server::create(*settings, services);
  if (!server.ok()) return std::fprintf(stderr, "%s\n", server.error().message.c_str()), 1;
  auto port = (*server)->bind();
  if (!port.ok()) return std::fprintf(stderr, "%s\n", port.error().message.c_str()), 1;
  std::thread serving([&] { (void)(*server)->serve(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  auto chat_req = [](bool stream) {
    return [stream](httplib::Client& c, const std::string& q) {
      json body = {{"kb", "faq"}, {"message", q}};
      if (stream) body["stream"] = true;
      return c.Post("/v1/chat", body.dump(), "application/json");
    };
  };
  run("warm-up", *port, 8, 10, questions, chat_req(false));
  std::vector<Stats> all;
  all.push_back(run("GET /healthz (baseline)", *port, n_clients, n_requests, questions,
                    [](httplib::Client& c, const std::string&) { return c.Get("/healthz"); }));
  all.push_back(run("search only (baseline)", *port, n_clients, n_requests, questions, [](httplib::Client& c, const std::string& q) {
    return c.Post("/v1/kbs/faq/search", json{{"query", q}, {"k", 6}}.dump(), "application/json");
  }));
  all.push_back(run("POST /v1/chat", *port, n_clients, n_requests, questions, chat_req(false)));
  all.push_back(run("POST /v1/chat stream", *port, n_clients, n_requests, questions, chat_req(true)));

  std::printf("bench_chat: %d concurrent clients x %d requests, %zu FAQ documents, server.threads=%d, "
              "chat.parallel_turns=%d, %u cores, no model\n",
              n_clients, n_requests, docs.size(), threads, parallel_turns, std::thread::hardware_concurrency());
  std::printf("%-26s %8s %8s %8s %8s %9s %8s %8s %10s\n", "route", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s", "failed",
              "blocked", "lock waits");
  json out = json::array();
  for (const auto& s : all) {
    double rps = s.seconds > 0 ? static_cast<double>(s.ms.size()) / s.seconds : 0;
    std::printf("%-26s %8.1f %8.1f %8.1f %8.1f %9.1f %8d %8d %10llu\n", s.name.c_str(), s.pct(0.5), s.pct(0.95),
                s.pct(0.99), s.ms.empty() ? 0 : s.ms.back(), rps, s.failures, s.blocked,
                static_cast<unsigned long long>(s.lock_waits));
    out.push_back({{"route", s.name}, {"p50_ms", s.pct(0.5)}, {"p95_ms", s.pct(0.95)}, {"p99_ms", s.pct(0.99)},
                   {"max_ms", s.ms.empty() ? 0 : s.ms.back()}, {"rps", rps}, {"failed", s.failures}, {"blocked", s.blocked}, {"lock_waits", s.lock_waits}, {"n", s.ms.size()}});
  }
  if (as_json) std::printf("%s\n", out.dump(2).c_str());
  (*server)->stop();
  serving.join();
  server->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  const Stats& c = all[2];
  return c.failures == 0 && c.pct(0.99) < 200 ? 0 : 1;
}
