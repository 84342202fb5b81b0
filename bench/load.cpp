// Load benchmark: an in-process moerag web server with the OpenAI routes over a
// synthesised MoE model, and a client firing N concurrent streaming
// /v1/chat/completions requests at it on loopback. Baseline (same run): the same
// requests one at a time (N = 1), which also give each request's solo output; every
// concurrent stream must equal its solo run (same seed), so nothing is lost or mixed.
// Prints aggregate decode tokens/s and p50/p99 time-to-first-token per N. The model is
// synthesised (qwen2moe, 4 layers, 8 experts top-2 + shared; --type, --dim) unless --model
// names one. On a CPU a batch step is compute-bound while one token is memory-bound, so the
// N = 16 gain is at most about (weight bytes per multiply-add) x (batched compute rate) /
// (read bandwidth): formats with more bytes per weight (F16) gain more than Q8_0 or Q4_K.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "config/settings.h"
#include "core/sqlite.h"
#include "engine/engine.h"
#include "engine/synth.h"
#include "web/routes_openai.h"
#include "web/server.h"

using namespace moerag;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Outcome {
  std::string text;
  int64_t tokens = 0;
  double ttft_s = 0;
  bool ok = false;
};

Outcome stream_one(int port, int i, int max_tokens) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(600, 0);
  json body = {{"model", "bench"},
               {"messages", {{{"role", "system"}, {"content", "You are a helpful assistant for the load test."}},
                             {{"role", "user"}, {"content", "request number " + std::to_string(i)}}}},
               {"max_tokens", max_tokens}, {"temperature", 0.8}, {"seed", 1000 + i}, {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  Outcome o;
  std::string buf;
  const auto t0 = Clock::now();
  bool first = true;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    buf.append(data, len);
    size_t at;
    while ((at = buf.find("\n\n")) != std::string::npos) {
      std::string ev = buf.substr(0, at);
      buf.erase(0, at + 2);
      if (ev.rfind("data: ", 0) != 0) continue;
      ev = ev.substr(6);
      if (ev == "[DONE]") {
        o.ok = true;
        continue;
      }
      json j = json::parse(ev, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("usage") && j["usage"].is_object()) o.tokens = j["usage"].value("completion_tokens", int64_t{0});
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const json& d = j["choices"][0]["delta"];
      if (d.contains("role")) continue;
      if (first) {
        o.ttft_s = std::chrono::duration<double>(Clock::now() - t0).count();
        first = false;
      }
      if (d.contains("content")) o.text += d["content"].get<std::string>();
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err;
  if (!cli.send(req, res, err) || res.status != 200) o.ok = false;
  return o;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::min<double>(static_cast<double>(v.size() - 1), p * static_cast<double>(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string model;
  int max_tokens = 32, threads = 2;
  bool as_json = false;
  std::vector<int> levels = {1, 4, 16, 64};
  std::string type_name = "q8_0";
  int64_t dim = 512;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model = argv[++i];
    else if (a == "--max-tokens" && i + 1 < argc) max_tokens = std::stoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (a == "--json") as_json = true;
    else if (a == "--type" && i + 1 < argc) type_name = argv[++i];
    else if (a == "--dim" && i + 1 < argc) dim = std::stoll(argv[++i]);
    else if (a == "--levels" && i + 1 < argc) {
      levels = {1};  // the one-at-a-time baseline always runs first
      for (std::string_view v = argv[++i]; !v.empty();) {
        const size_t c = std::min(v.find(','), v.size());
        if (const int n = std::atoi(std::string(v.substr(0, c)).c_str()); n > 1) levels.push_back(n);
        v.remove_prefix(std::min(c + 1, v.size()));
      }
    } else {
      std::fprintf(stderr, "usage: bench_load [--model FILE.gguf | --type q8_0|f16|q4_k|... --dim N] [--max-tokens N] [--threads N]\n"
                   "                  [--levels 4,16,64] [--json]\n");
      return 2;
    }
  }
  const auto tmp = std::filesystem::temp_directory_path() / ("moerag-load-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  if (model.empty()) {
    engine::SynthOptions o;
    const auto type = engine::parse_type_name(type_name);
    if (!type) return std::fprintf(stderr, "unknown --type %s\n", type_name.c_str()), 2;
    o.arch = engine::Arch::QWEN2MOE, o.n_layer = 4, o.n_embd = dim, o.n_expert = 8, o.n_expert_used = 2;
    o.type = *type, o.n_vocab = 2048;
    model = (tmp / "moe.gguf").string();
    auto s = engine::synth_model(o, model);
    if (!s.ok()) return std::fprintf(stderr, "synth: %s\n", s.error().message.c_str()), 1;
    std::printf("model: synthesised qwen2moe, 4 layers, n_embd %lld, 8 experts (top-2) + shared, %s, %.1f MB\n",
                static_cast<long long>(dim), type_name.c_str(), static_cast<double>(s->file_bytes) / 1e6);
  }
  engine::EngineOptions eo;
  eo.n_threads = static_cast<size_t>(threads), eo.n_ctx = 1024, eo.kv_tokens = 64 * 256;
  eo.scheduler.max_running = 64, eo.scheduler.max_waiting = 1024;
  auto eng = engine::open_engine(model, eo);
  if (!eng.ok()) return std::fprintf(stderr, "engine: %s\n", eng.error().message.c_str()), 1;
  config::LoadOptions lo;
  lo.use_environment = false;
  lo.overrides = {{"server.port", "0", "bench"}, {"server.threads", "160", "bench"},
                  {"limits.rate_per_second", "0", "bench"}, {"data_dir", tmp.string(), "bench"},
                  {"log.level", "warn", "bench"}};
  auto settings = config::load(lo);
  if (!settings.ok()) return std::fprintf(stderr, "settings: %s\n", settings.error().message.c_str()), 1;
  auto db = sql::Database::open((tmp / "moerag.db").string());
  if (!db.ok()) return std::fprintf(stderr, "db: %s\n", db.error().message.c_str()), 1;
  web::Services services{*db, {web::openai_routes(*eng, nullptr)}};
  auto server = web::Server::create(*settings, services);
  if (!server.ok()) return std::fprintf(stderr, "server: %s\n", server.error().message.c_str()), 1;
  const int port = *(*server)->bind();
  std::thread serving([&] { (void)(*server)->serve(); });

  json rows = json::array();
  std::vector<Outcome> solo;
  bool all_match = true;
  double base_tps = 0;
  std::printf("%4s %8s %14s %12s %12s %8s %s\n", "N", "tokens", "decode tok/s", "TTFT p50 ms", "TTFT p99 ms", "vs N=1", "streams == solo");
  for (int n : levels) {
    std::vector<Outcome> out(static_cast<size_t>(n == 1 ? *std::max_element(levels.begin(), levels.end()) : n));
    const auto t0 = Clock::now();
    if (n == 1) {  // baseline: one at a time; also the solo reference of every request
      for (size_t i = 0; i < out.size(); ++i) out[i] = stream_one(port, static_cast<int>(i), max_tokens);
      solo = out;
    } else {
      std::vector<std::thread> th;
      for (int i = 0; i < n; ++i) th.emplace_back([&, i] { out[static_cast<size_t>(i)] = stream_one(port, i, max_tokens); });
      for (auto& t : th) t.join();
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    int64_t tokens = 0;
    std::vector<double> ttft;
    int match = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      tokens += out[i].tokens;
      ttft.push_back(out[i].ttft_s * 1000);
      match += out[i].ok && out[i].text == solo[i].text && out[i].tokens == solo[i].tokens;
    }
    all_match = all_match && match == static_cast<int>(out.size());
    const double tps = static_cast<double>(tokens) / wall;
    if (n == 1) base_tps = tps;
    std::printf("%4d %8lld %14.1f %12.1f %12.1f %7.2fx %d/%zu\n", n, static_cast<long long>(tokens), tps, pct(ttft, 0.5),
                pct(ttft, 0.99), tps / base_tps, match, out.size());
    rows.push_back({{"n", n}, {"tokens", tokens}, {"wall_s", wall}, {"decode_tokens_per_s", tps},
                    {"ttft_p50_ms", pct(ttft, 0.5)}, {"ttft_p99_ms", pct(ttft, 0.99)}, {"speedup", tps / base_tps},
                    {"streams_equal_solo", match}});
  }
  const auto st = (*eng)->stats();
  std::printf("engine: %llu steps, %.2f s in steps (forward %.2f s), prefix-cache hit %.0f%%\n",
              static_cast<unsigned long long>(st.n_steps), st.step_seconds, st.forward_seconds,
              100.0 * static_cast<double>(st.prompt_tokens_cached) / std::max<double>(1, static_cast<double>(st.prompt_tokens)));
  if (as_json) std::printf("%s\n", json{{"rows", rows}, {"all_streams_equal_solo", all_match}}.dump().c_str());
  (*server)->stop();
  serving.join();
  std::filesystem::remove_all(tmp);
  return all_match ? 0 : 1;
}
