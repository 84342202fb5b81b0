// `moerag model generate|logits|embed`: run a GGUF model from the command line.
// generate streams text (or prints {"ids":[...]} with --json); logits prints the top
// logits of the last position and can write all of them as little-endian float32;
// embed prints a bert model's L2-normalised vector. `model bench` is in
// cmd_model_bench.cpp.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "engine/engine.h"
#include "engine/forward.h"

namespace moerag::cli {
namespace {

Result<std::vector<int32_t>> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      ids.push_back(static_cast<int32_t>(std::stol(item)));
    } catch (...) {
      return Error(ErrorCode::INVALID_INPUT, "--ids wants comma-separated integers, got '" + item + "'");
    }
  }
  if (ids.empty()) return Error(ErrorCode::INVALID_INPUT, "--ids is empty");
  return ids;
}

struct GenArgs {
  std::string model, prompt, ids;
  int n = 64;
  float temp = 0.0f, top_p = 1.0f, min_p = 0.0f, repeat = 1.0f;
  int top_k = 0;
  uint64_t seed = 0;
  int threads = 0;
  bool json = false;
};

int run_generate(const GenArgs& a) {
  if (a.prompt.empty() == a.ids.empty()) return fail("give exactly one of --prompt and --ids", 2);
  engine::EngineOptions eo;
  eo.n_threads = static_cast<size_t>(a.threads);
  eo.n_ctx = 4096;
  auto gen = engine::open_generator(a.model, eo);
  if (!gen.ok()) return fail(gen.error().message);
  engine::GenerateRequest req;
  req.prompt = a.prompt;
  if (!a.ids.empty()) {
    auto ids = parse_ids(a.ids);
    if (!ids.ok()) return fail(ids.error().message, 2);
    req.prompt_ids = *ids;
  }
  req.max_tokens = a.n;
  req.sampling.temperature = a.temp;
  req.sampling.top_k = a.top_k;
  req.sampling.top_p = a.top_p;
  req.sampling.min_p = a.min_p;
  req.sampling.repetition_penalty = a.repeat;
  req.sampling.seed = a.seed;
  auto res = (*gen)->generate(req, [&](int32_t, const std::string& text) {
    if (!a.json) std::cout << text << std::flush;
    return true;
  });
  if (!res.ok()) return fail(res.error().message);
  if (a.json) {
    std::cout << nlohmann::json{{"ids", res->ids}}.dump() << "\n";
  } else {
    std::cout << "\n";
    std::cerr << res->ids.size() << " tokens, finish: " << res->finish_reason << "\n";
  }
  return 0;
}

struct LogitsArgs {
  std::string model, ids, out;
  int top = 10;
  int threads = 0;
  bool json = false;
};

int run_logits(const LogitsArgs& a) {
  auto ids = parse_ids(a.ids);
  if (!ids.ok()) return fail(ids.error().message, 2);
  auto backend = engine::make_cpu_backend(static_cast<size_t>(a.threads));
  auto model = engine::Model::load(a.model, *backend);
  if (!model.ok()) return fail(model.error().message);
  engine::KvCacheOptions ko;
  ko.n_ctx = static_cast<int64_t>(ids->size());
  auto kv = engine::KvCache::create((*model)->config(), *backend, ko);
  if (!kv.ok()) return fail(kv.error().message);
  (void)(*kv)->add_sequence(0);
  engine::Forward fwd(**model, *backend, kv->get());
  std::vector<engine::BatchToken> batch;
  for (size_t i = 0; i < ids->size(); ++i) batch.push_back({(*ids)[i], 0, static_cast<int32_t>(i), i + 1 == ids->size()});
  std::vector<float> logits;
  if (auto st = fwd.decode(batch, &logits); !st.ok()) return fail(st.error().message);
  if (!a.out.empty()) {
    std::ofstream f(a.out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
    if (!f) return fail("cannot write " + a.out);
  }
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min(order.size(), static_cast<size_t>(std::max(0, a.top)));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](int32_t x, int32_t y) { return logits[x] > logits[y]; });
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < k; ++i) top.push_back({order[i], logits[static_cast<size_t>(order[i])]});
  if (a.json) {
    std::cout << nlohmann::json{{"top", top}}.dump() << "\n";
  } else {
    for (size_t i = 0; i < k; ++i) std::cout << order[i] << "\t" << logits[static_cast<size_t>(order[i])] << "\n";
  }
  return 0;
}

struct EmbedArgs {
  std::string model, text;
  int threads = 0;
  bool json = false;
};

int run_embed(const EmbedArgs& a) {
  engine::EngineOptions eo;
  eo.n_threads = static_cast<size_t>(a.threads);
  auto emb = engine::open_embedder(a.model, eo);
  if (!emb.ok()) return fail(emb.error().message);
  auto v = (*emb)->embed({a.text});
  if (!v.ok()) return fail(v.error().message);
  if (a.json) {
    std::cout << nlohmann::json{{"embedding", *v}}.dump() << "\n";
  } else {
    for (float x : *v) std::cout << x << "\n";
  }
  return 0;
}

RegisterCommand reg(43, [](CLI::App& app) {
  auto* model = group(app, "model", "GGUF models: inspect, synthesise, quantise, run");
  {
    auto* sub = model->add_subcommand("generate", "Generate text from a prompt (or token ids) with a GGUF model");
    auto a = std::make_shared<GenArgs>();
    sub->add_option("--model", a->model, "GGUF model file")->required();
    sub->add_option("--prompt", a->prompt, "Prompt text");
    sub->add_option("--ids", a->ids, "Prompt token ids, comma-separated");
    sub->add_option("-n,--max-tokens", a->n, "Tokens to generate at most")->capture_default_str();
    sub->add_option("--temp", a->temp, "Temperature (0 = greedy)")->capture_default_str();
    sub->add_option("--top-k", a->top_k, "Top-k (0 = off)");
    sub->add_option("--top-p", a->top_p, "Top-p (1 = off)");
    sub->add_option("--min-p", a->min_p, "Min-p (0 = off)");
    sub->add_option("--repeat-penalty", a->repeat, "Repetition penalty (1 = off)");
    sub->add_option("--seed", a->seed, "Random seed");
    sub->add_option("-t,--threads", a->threads, "CPU threads (0 = all)");
    sub->add_flag("--json", a->json, "Print {\"ids\":[generated ids]} instead of streaming text");
    on_run(sub, [a] { return run_generate(*a); });
  }
  {
    auto* sub = model->add_subcommand("logits", "Print the largest logits of the last position of a token sequence");
    auto a = std::make_shared<LogitsArgs>();
    sub->add_option("--model", a->model, "GGUF model file")->required();
    sub->add_option("--ids", a->ids, "Token ids, comma-separated")->required();
    sub->add_option("--top", a->top, "How many of the largest logits to print")->capture_default_str();
    sub->add_option("--out", a->out, "Write all logits of the last position here (little-endian float32)");
    sub->add_option("-t,--threads", a->threads, "CPU threads (0 = all)");
    sub->add_flag("--json", a->json, "Print {\"top\":[[id,logit],...]}");
    on_run(sub, [a] { return run_logits(*a); });
  }
  {
    auto* sub = model->add_subcommand("embed", "Print the L2-normalised embedding of a text (bert GGUF)");
    auto a = std::make_shared<EmbedArgs>();
    sub->add_option("--model", a->model, "GGUF embedding model (bert)")->required();
    sub->add_option("--text", a->text, "Text to embed")->required();
    sub->add_option("-t,--threads", a->threads, "CPU threads (0 = all)");
    sub->add_flag("--json", a->json, "Print {\"embedding\":[...]}");
    on_run(sub, [a] { return run_embed(*a); });
  }
});

}  // namespace
}  // namespace moerag::cli
