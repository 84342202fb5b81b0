// OpenAI-compatible routes. A request body becomes an engine::GenerateRequest
// (sampling, stop, seed, max_tokens, response_format -> grammar); the engine's
// RequestStream is then read either to the end (JSON) or chunk by chunk inside an
// httplib content provider (SSE). A client that goes away cancels its sequence: the
// provider's write fails or the provider is released unfinished. With a safety filter,
// input texts are checked before the engine or embedder sees them, and generated text
// passes a StreamChecker (per sentence window) before any of it is sent: a blocked
// window cancels the sequence and ends the answer with finish_reason "content_filter".
#include "web/routes_openai.h"

#include <chrono>
#include <optional>
#include <random>

#include "core/hash.h"
#include "engine/engine.h"
#include "safety/filter.h"
#include "web/routes.h"

namespace moerag::web {
namespace {

using engine::Engine;
using engine::Embedder;
using engine::GenerateRequest;
using engine::RequestStream;
using engine::StreamEvent;
using Clock = std::chrono::system_clock;

int64_t now_s() { return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count(); }

// OpenAI's error shape, with the status and Retry-After of the project's table.
void oai_fail(Ctx& c, const Error& e, const std::string& param = "") {
  const int status = http_status(e.code);
  std::string type = status >= 500 ? "server_error" : "invalid_request_error";
  std::string code;
  if (e.code == ErrorCode::CONTEXT_TOO_LONG) code = "context_length_exceeded";
  if (e.code == ErrorCode::OVERLOADED) code = "overloaded";
  if (e.code == ErrorCode::UNAVAILABLE) code = "model_not_loaded";
  if (e.code == ErrorCode::BLOCKED) code = "content_filter";
  std::string message = e.message;
  if (status >= 500 && e.code != ErrorCode::OVERLOADED && e.code != ErrorCode::UNAVAILABLE) {
    message = "internal error; the server log has details under request id " + c.request_id;
  }
  if (status == 503) c.res.set_header("Retry-After", "1");
  c.send({{"error", {{"message", message}, {"type", type}, {"param", param.empty() ? json(nullptr) : json(param)},
                     {"code", code.empty() ? json(nullptr) : json(code)}}}},
         status);
}

Error bad(const std::string& msg) { return Error(ErrorCode::INVALID_INPUT, msg); }

std::string map_finish(const std::string& r) {
  if (r == "timeout") return "length";  // cut short by the server's deadline
  if (r == "cancelled") return "stop";
  return r;
}

// Fields shared by chat and text completions.
Status parse_common(const json& b, const Engine& eng, GenerateRequest& req, int32_t default_max) {
  auto num = [&](const char* k, double lo, double hi, float& out) -> Status {
    if (!b.contains(k) || b[k].is_null()) return ok_status();
    if (!b[k].is_number() || b[k].get<double>() < lo || b[k].get<double>() > hi) {
      return bad(std::string("'") + k + "' must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    out = b[k].get<float>();
    return ok_status();
  };
  req.sampling.temperature = 1.0f;  // OpenAI's default
  MOERAG_TRY(num("temperature", 0, 2, req.sampling.temperature));
  MOERAG_TRY(num("top_p", 0, 1, req.sampling.top_p));
  MOERAG_TRY(num("frequency_penalty", -2, 2, req.sampling.frequency_penalty));
  MOERAG_TRY(num("presence_penalty", -2, 2, req.sampling.presence_penalty));
  if (b.contains("seed") && !b["seed"].is_null()) {
    if (!b["seed"].is_number_integer()) return bad("'seed' must be an integer");
    req.sampling.seed = static_cast<uint64_t>(b["seed"].get<int64_t>());
  } else {
    req.sampling.seed = std::random_device{}();
  }
  if (b.value("n", 1) != 1) return bad("only 'n': 1 is supported");
  if (b.contains("stop") && !b["stop"].is_null()) {
    if (b["stop"].is_string()) {
      req.stop = {b["stop"].get<std::string>()};
    } else if (b["stop"].is_array() && b["stop"].size() <= 4) {
      for (const auto& s : b["stop"]) {
        if (!s.is_string()) return bad("'stop' must be a string or up to 4 strings");
        req.stop.push_back(s.get<std::string>());
      }
    } else {
      return bad("'stop' must be a string or up to 4 strings");
    }
  }
  MOERAG_ASSIGN_OR_RETURN(int64_t n_prompt, eng.count_prompt_tokens(req));
  const int64_t room = eng.n_ctx() - n_prompt;
  if (room < 1) {
    return Error(ErrorCode::CONTEXT_TOO_LONG, "the prompt has " + std::to_string(n_prompt) +
                                                  " tokens; the context holds " + std::to_string(eng.n_ctx()));
  }
  req.max_tokens = static_cast<int32_t>(std::min<int64_t>(room, default_max));
  for (const char* k : {"max_tokens", "max_completion_tokens"}) {
    if (!b.contains(k) || b[k].is_null()) continue;
    if (!b[k].is_number_integer() || b[k].get<int64_t>() < 1) return bad(std::string("'") + k + "' must be a positive integer");
    req.max_tokens = static_cast<int32_t>(std::min<int64_t>(b[k].get<int64_t>(), 1 << 30));
  }
  // response_format (json_object / json_schema) or a GBNF `grammar` (llama.cpp's extension).
  std::string gbnf;
  if (b.contains("grammar") && b["grammar"].is_string()) gbnf = b["grammar"].get<std::string>();
  if (b.contains("response_format") && b["response_format"].is_object()) {
    const json& rf = b["response_format"];
    const std::string type = rf.value("type", "text");
    if (type == "json_object") {
      gbnf = engine::json_object_gbnf();
    } else if (type == "json_schema") {
      if (!rf.contains("json_schema") || !rf["json_schema"].contains("schema")) {
        return bad("response_format json_schema needs json_schema.schema");
      }
      MOERAG_ASSIGN_OR_RETURN(gbnf, engine::json_schema_to_gbnf(rf["json_schema"]["schema"].dump()));
    } else if (type != "text") {
      return bad("response_format.type must be text, json_object or json_schema");
    }
  }
  if (!gbnf.empty()) {
    MOERAG_ASSIGN_OR_RETURN(req.grammar, engine::Grammar::parse(gbnf));
  }
  return ok_status();
}

Result<GenerateRequest> parse_chat(const json& b, const Engine& eng) {
  GenerateRequest req;
  if (!b.contains("messages") || !b["messages"].is_array() || b["messages"].empty()) {
    return bad("'messages' must be a non-empty array");
  }
  for (const auto& m : b["messages"]) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) return bad("each message needs a 'role'");
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";
    if (role != "system" && role != "user" && role != "assistant") return bad("unsupported message role '" + role + "'");
    std::string content;
    const json& c = m.contains("content") ? m["content"] : json(nullptr);
    if (c.is_string()) {
      content = c.get<std::string>();
    } else if (c.is_array()) {
      for (const auto& part : c) {
        if (!part.is_object() || part.value("type", "") != "text") return bad("only text content parts are supported");
        content += part.value("text", "");
      }
    } else if (!c.is_null()) {
      return bad("message 'content' must be a string or an array of text parts");
    }
    req.messages.push_back({role, content});
  }
  MOERAG_TRY(parse_common(b, eng, req, 4096));
  return req;
}

Result<GenerateRequest> parse_completion(const json& b, const Engine& eng) {
  GenerateRequest req;
  const json& p = b.contains("prompt") ? b["prompt"] : json(nullptr);
  if (p.is_string()) {
    req.prompt = p.get<std::string>();
  } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
    req.prompt = p[0].get<std::string>();
  } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
    for (const auto& t : p) {
      if (!t.is_number_integer()) return bad("'prompt' token arrays must hold integers");
      req.prompt_ids.push_back(t.get<int32_t>());
    }
  } else {
    return bad("'prompt' must be a string (or one string, or an array of token ids)");
  }
  if (req.prompt.empty() && req.prompt_ids.empty()) return bad("'prompt' is empty");
  if (b.value("echo", false)) return bad("'echo' is not supported");
  MOERAG_TRY(parse_common(b, eng, req, 16));
  return req;
}

json usage_json(const engine::GenerateResult& r) {
  const int64_t out = static_cast<int64_t>(r.ids.size());
  return {{"prompt_tokens", r.n_prompt}, {"completion_tokens", out}, {"total_tokens", r.n_prompt + out},
          {"prompt_tokens_details", {{"cached_tokens", r.n_prompt_cached}}}};
}

// Azure's per-choice shape for a filtered answer: {"<category>": {"filtered": true}}.
json filter_results(const safety::Verdict& v) {
  json out = json::object();
  for (const auto& k : v.categories) out[k] = {{"filtered", true}};
  return out;
}

// Reads a (cancelled) stream to its end so its result is valid.
void drain(RequestStream& s) {
  StreamEvent ev;
  while (s.next(&ev, std::chrono::milliseconds(500)) != RequestStream::Next::DONE) {
  }
}

// Streams one request as SSE. The provider is called repeatedly on the HTTP worker
// thread; it forwards what the engine produced and ends with `data: [DONE]`.
void stream_sse(Ctx& c, std::shared_ptr<RequestStream> stream, bool chat, const std::string& model,
                bool include_usage, std::unique_ptr<safety::StreamChecker> checker) {
  struct State {
    std::shared_ptr<RequestStream> stream;
    std::unique_ptr<safety::StreamChecker> checker;  // null: output goes unchecked
    std::string id, model;
    int64_t created = 0;
    bool chat = true, include_usage = false, started = false, finished = false;
  };
  auto st = std::make_shared<State>();
  st->stream = std::move(stream);
  st->checker = std::move(checker);
  st->id = (chat ? "chatcmpl-" : "cmpl-") + random_hex(12);
  st->model = model;
  st->created = now_s();
  st->chat = chat;
  st->include_usage = include_usage;
  c.res.set_header("Cache-Control", "no-cache");
  c.res.set_header("X-Accel-Buffering", "no");
  auto chunk = [st](const json& choice) {
    json j = {{"id", st->id}, {"object", st->chat ? "chat.completion.chunk" : "text_completion"},
              {"created", st->created}, {"model", st->model}, {"choices", json::array({choice})}};
    return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
  };
  auto delta = [st, chunk](const std::string& text, const json& finish) {
    json choice = {{"index", 0}, {"finish_reason", finish}};
    if (st->chat) choice["delta"] = text.empty() && !finish.is_null() ? json::object() : json{{"content", text}};
    else choice["text"] = text, choice["logprobs"] = nullptr;
    return chunk(choice);
  };
  c.res.set_chunked_content_provider(
      "text/event-stream",
      [st, chunk, delta](size_t, httplib::DataSink& sink) {
        auto send = [&](const std::string& s) {
          if (sink.write(s.data(), s.size())) return true;
          st->stream->cancel();  // the client went away
          return false;
        };
        if (!st->started) {
          st->started = true;
          if (st->chat) {
            return send(chunk({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}));
          }
        }
        StreamEvent ev;
        std::string text;
        auto next = st->stream->next(&ev, std::chrono::milliseconds(100));
        while (next == RequestStream::Next::TOKEN) {
          text += ev.text;
          next = st->stream->next(&ev, std::chrono::milliseconds(0));
        }
        // Only checked text leaves: the checker holds back an unfinished sentence.
        std::optional<safety::Verdict> blocked;
        if (st->checker && !text.empty()) {
          auto step = st->checker->feed(text);
          text = std::move(step.release);
          if (step.stop) blocked = std::move(step.verdict);
        }
        if (!text.empty() && !send(delta(text, nullptr))) return false;
        if (blocked) {
          st->stream->cancel();
          drain(*st->stream);
        } else if (next == RequestStream::Next::TIMEOUT) {
          if (!sink.is_writable()) {
            st->stream->cancel();
            return false;
          }
          return true;
        }
        const auto& res = st->stream->result();
        if (!blocked && res.ok() && st->checker) {
          auto step = st->checker->finish();
          if (step.stop) blocked = std::move(step.verdict);
          else if (!step.release.empty() && !send(delta(step.release, nullptr))) return false;
        }
        std::string tail;
        if (blocked) {
          // OpenAI's and Azure's convention: the answer ends here, nothing more of it is sent.
          json choice = {{"index", 0}, {"finish_reason", "content_filter"},
                         {"content_filter_results", filter_results(*blocked)}};
          if (st->chat) choice["delta"] = json::object();
          else choice["text"] = "", choice["logprobs"] = nullptr;
          tail = chunk(choice);
        } else if (!res.ok()) {
          tail = "data: " + json{{"error", {{"message", res.error().message}, {"type", "server_error"}, {"param", nullptr},
                                            {"code", nullptr}}}}.dump() + "\n\n";
        } else {
          tail = delta("", map_finish(res->finish_reason));
        }
        if (st->include_usage && res.ok()) {
          json j = {{"id", st->id}, {"object", st->chat ? "chat.completion.chunk" : "text_completion"},
                    {"created", st->created}, {"model", st->model}, {"choices", json::array()},
                    {"usage", usage_json(*res)}};
          tail += "data: " + j.dump() + "\n\n";
        }
        tail += "data: [DONE]\n\n";
        if (!send(tail)) return false;
        st->finished = true;
        sink.done();
        return true;
      },
      [st](bool success) {
        if (!success || !st->finished) st->stream->cancel();
      });
}

// A non-streamed answer after the output check.
struct CheckedAnswer {
  std::string text;                      // what may be returned (redacted; cut before a blocked window)
  std::optional<safety::Verdict> blocked;  // set when the check stopped the answer
};

// Waits for the whole result (non-streaming requests), feeding the text to `checker`
// as it arrives so a blocked answer stops generating early.
Result<CheckedAnswer> wait(RequestStream& s, safety::StreamChecker* checker) {
  CheckedAnswer out;
  StreamEvent ev;
  for (;;) {
    auto next = s.next(&ev, std::chrono::milliseconds(500));
    if (next == RequestStream::Next::DONE) break;
    if (next != RequestStream::Next::TOKEN || !checker || out.blocked) continue;
    auto step = checker->feed(ev.text);
    out.text += step.release;
    if (step.stop) {
      out.blocked = std::move(step.verdict);
      s.cancel();
    }
  }
  if (out.blocked) return out;
  if (!s.result().ok()) return s.result().error();
  if (!checker) {
    out.text = s.result()->text;
    return out;
  }
  auto step = checker->finish();
  out.text += step.release;
  if (step.stop) out.blocked = std::move(step.verdict);
  return out;
}

// The safety gate on input texts; the first block wins. With `redact`, texts the
// filter redacts (PII) are replaced by their redacted form before anything reads them.
std::optional<Error> blocked_input(const safety::Filter& filter, const std::vector<std::string*>& texts, bool redact) {
  for (std::string* t : texts) {
    safety::Verdict v = filter.check(*t, safety::Direction::INPUT);
    if (v.decision == safety::Decision::REDACT && redact) *t = v.redacted_text;
    if (v.decision != safety::Decision::BLOCK) continue;
    std::string cats;
    for (const auto& k : v.categories) cats += (cats.empty() ? "" : ", ") + k;
    return Error(ErrorCode::BLOCKED, "the safety filter blocked the input (" + cats + ")");
  }
  return std::nullopt;
}

void generation_route(Ctx& c, const std::shared_ptr<Engine>& eng, const std::shared_ptr<safety::Filter>& filter,
                      bool chat) {
  if (!eng) {
    return oai_fail(c, Error(ErrorCode::UNAVAILABLE,
                             "no generative model is loaded; start the server with --model FILE.gguf"));
  }
  auto body = c.json_body();
  if (!body.ok()) return oai_fail(c, body.error());
  auto req = chat ? parse_chat(*body, *eng) : parse_completion(*body, *eng);
  if (!req.ok()) return oai_fail(c, req.error());
  if (filter) {
    // Every message (or the prompt); token-id prompts carry no text to check.
    // PII is redacted as on /v1/chat, so the model never sees it.
    std::vector<std::string*> texts;
    for (auto& m : req->messages) texts.push_back(&m.content);
    if (!req->prompt.empty()) texts.push_back(&req->prompt);
    if (auto e = blocked_input(*filter, texts, true)) return oai_fail(c, *e);
  }
  auto stream = eng->submit(*req);
  if (!stream.ok()) return oai_fail(c, stream.error());
  const std::string model = eng->model_id();
  auto checker = filter ? filter->stream(safety::Direction::OUTPUT) : nullptr;
  if (body->value("stream", false)) {
    bool usage = body->contains("stream_options") && (*body)["stream_options"].is_object() &&
                 (*body)["stream_options"].value("include_usage", false);
    return stream_sse(c, *stream, chat, model, usage, std::move(checker));
  }
  auto answer = wait(**stream, checker.get());
  if (!answer.ok()) return oai_fail(c, answer.error());
  const auto& res = (*stream)->result();
  json choice = {{"index", 0}, {"logprobs", nullptr}};
  if (answer->blocked) {
    choice["finish_reason"] = "content_filter";
    choice["content_filter_results"] = filter_results(*answer->blocked);
  } else {
    choice["finish_reason"] = map_finish(res->finish_reason);
  }
  if (chat) choice["message"] = {{"role", "assistant"}, {"content", answer->text}};
  else choice["text"] = answer->text;
  json usage = res.ok() ? usage_json(*res) : json{{"prompt_tokens", 0}, {"completion_tokens", 0}, {"total_tokens", 0}};
  c.send({{"id", (chat ? "chatcmpl-" : "cmpl-") + random_hex(12)},
          {"object", chat ? "chat.completion" : "text_completion"},
          {"created", now_s()},
          {"model", model},
          {"choices", json::array({choice})},
          {"usage", usage}});
}

std::string base64_floats(const float* v, size_t n) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const uint8_t*>(v);  // little-endian float32, as OpenAI sends
  const size_t len = n * sizeof(float);
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  for (size_t i = 0; i < len; i += 3) {
    uint32_t x = static_cast<uint32_t>(p[i]) << 16;
    if (i + 1 < len) x |= static_cast<uint32_t>(p[i + 1]) << 8;
    if (i + 2 < len) x |= p[i + 2];
    out += tbl[(x >> 18) & 63];
    out += tbl[(x >> 12) & 63];
    out += i + 1 < len ? tbl[(x >> 6) & 63] : '=';
    out += i + 2 < len ? tbl[x & 63] : '=';
  }
  return out;
}

void embeddings_route(Ctx& c, const std::shared_ptr<Embedder>& emb, const std::shared_ptr<safety::Filter>& filter) {
  if (!emb) {
    return oai_fail(c, Error(ErrorCode::UNAVAILABLE,
                             "no embedding model is loaded; start the server with --embed-model FILE.gguf"));
  }
  auto body = c.json_body();
  if (!body.ok()) return oai_fail(c, body.error());
  std::vector<std::string> texts;
  const json& in = body->contains("input") ? (*body)["input"] : json(nullptr);
  if (in.is_string()) {
    texts.push_back(in.get<std::string>());
  } else if (in.is_array() && !in.empty()) {
    for (const auto& t : in) {
      if (!t.is_string()) return oai_fail(c, bad("'input' must be a string or an array of strings"), "input");
      texts.push_back(t.get<std::string>());
    }
  } else {
    return oai_fail(c, bad("'input' must be a string or a non-empty array of strings"), "input");
  }
  if (texts.size() > 2048) return oai_fail(c, bad("at most 2048 inputs per request"), "input");
  const std::string format = body->value("encoding_format", "float");
  if (format != "float" && format != "base64") return oai_fail(c, bad("encoding_format must be float or base64"));
  if (filter) {
    // Blocks only: a vector of a redacted text would not find the original in a search.
    std::vector<std::string*> refs;
    for (auto& t : texts) refs.push_back(&t);
    if (auto e = blocked_input(*filter, refs, false)) return oai_fail(c, *e, "input");
  }
  auto vecs = emb->embed(texts);
  if (!vecs.ok()) return oai_fail(c, vecs.error());
  const size_t dim = emb->dim();
  json data = json::array();
  int64_t n_tok = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const float* v = vecs->data() + i * dim;
    json e = {{"object", "embedding"}, {"index", i}};
    if (format == "base64") e["embedding"] = base64_floats(v, dim);
    else e["embedding"] = std::vector<float>(v, v + dim);
    data.push_back(std::move(e));
    n_tok += static_cast<int64_t>((texts[i].size() + 3) / 4);  // estimate: the Embedder does not count tokens
  }
  c.send({{"object", "list"}, {"data", data}, {"model", emb->id()},
          {"usage", {{"prompt_tokens", n_tok}, {"total_tokens", n_tok}}}});
}

// Prometheus lines for the engine's counters.
void render_metrics(const Engine& eng, std::string& out) {
  const engine::EngineStats s = eng.stats();
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto line = [&](const std::string& name, double v, const std::string& labels = "") {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    out += name + labels + " " + buf + "\n";
  };
  auto gauge = [&](const char* name, const char* help, double v) { family(name, "gauge", help), line(name, v); };
  auto counter = [&](const char* name, const char* help, double v) { family(name, "counter", help), line(name, v); };
  gauge("moerag_engine_queue_length", "Requests waiting for admission.", static_cast<double>(s.n_waiting));
  gauge("moerag_engine_running_sequences", "Sequences in the running batch.", static_cast<double>(s.n_running));
  gauge("moerag_engine_tokens_per_second", "Generated tokens per second over the last 5 s.", s.tokens_per_second);
  gauge("moerag_engine_kv_blocks_total", "KV cache blocks.", static_cast<double>(s.kv_blocks_total));
  gauge("moerag_engine_kv_blocks_used", "KV cache blocks held by live sequences.", static_cast<double>(s.kv_blocks_used));
  gauge("moerag_engine_kv_usage_ratio", "Share of KV cache blocks held by live sequences.",
        s.kv_blocks_total ? static_cast<double>(s.kv_blocks_used) / static_cast<double>(s.kv_blocks_total) : 0.0);
  gauge("moerag_engine_prefix_cache_hit_ratio", "Prompt tokens served from the prefix cache / prompt tokens.",
        s.prompt_tokens ? static_cast<double>(s.prompt_tokens_cached) / static_cast<double>(s.prompt_tokens) : 0.0);
  counter("moerag_engine_prompt_tokens_total", "Prompt tokens of admitted requests.", static_cast<double>(s.prompt_tokens));
  counter("moerag_engine_prompt_tokens_cached_total", "Prompt tokens taken from the prefix cache.",
          static_cast<double>(s.prompt_tokens_cached));
  counter("moerag_engine_generated_tokens_total", "Generated tokens.", static_cast<double>(s.generated_tokens));
  counter("moerag_engine_requests_total", "Accepted generation requests.", static_cast<double>(s.n_requests));
  counter("moerag_engine_rejected_total", "Requests refused because the queue was full.", static_cast<double>(s.n_rejected));
  counter("moerag_engine_preempted_total", "Sequences preempted for KV space.", static_cast<double>(s.n_preempted));
  counter("moerag_engine_steps_total", "Engine steps.", static_cast<double>(s.n_steps));
  counter("moerag_engine_step_seconds_total", "Time in engine steps.", s.step_seconds);
  counter("moerag_engine_forward_seconds_total", "Time in the forward pass.", s.forward_seconds);
  counter("moerag_engine_grammar_mask_seconds_total", "Time computing grammar masks and sampling constrained tokens.",
          s.mask_seconds);
  auto hist = [&](const char* name, const char* help, const engine::LatencyHistogram& h) {
    family(name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i < h.counts.size(); ++i) {
      cum += h.counts[i];
      char le[32];
      if (i < h.bounds.size()) std::snprintf(le, sizeof le, "%g", h.bounds[i]);
      line(std::string(name) + "_bucket", static_cast<double>(cum),
           std::string("{le=\"") + (i < h.bounds.size() ? le : "+Inf") + "\"}");
    }
    line(std::string(name) + "_sum", h.sum);
    line(std::string(name) + "_count", static_cast<double>(h.count));
  };
  hist("moerag_engine_time_to_first_token_seconds", "Time from submission to the first token.", s.ttft);
  hist("moerag_engine_inter_token_latency_seconds", "Time between consecutive tokens of a sequence.", s.itl);
  family("moerag_engine_expert_tokens_total", "counter", "Tokens routed to each expert, per layer.");
  for (size_t l = 0; l < s.expert_load.size(); ++l) {
    for (size_t e = 0; e < s.expert_load[l].size(); ++e) {
      if (s.expert_load[l][e] == 0) continue;
      line("moerag_engine_expert_tokens_total", static_cast<double>(s.expert_load[l][e]),
           "{layer=\"" + std::to_string(l) + "\",expert=\"" + std::to_string(e) + "\"}");
    }
  }
}

const json kObject = {{"type", "object"}};

}  // namespace

RouteSet openai_routes(std::shared_ptr<Engine> eng, std::shared_ptr<Embedder> emb,
                       std::shared_ptr<safety::Filter> filter) {
  return [eng, emb, filter](WebState& s) {
    if (eng) s.metrics.add_collector([eng](std::string& out) { render_metrics(*eng, out); });
    s.router.add({"POST", "/v1/chat/completions", Role::USER, "openai",
                  "OpenAI-compatible chat completion (JSON, or SSE with stream: true). Messages are checked by the "
                  "safety filter (blocked: 422, code content_filter); the answer is checked per sentence window and "
                  "a blocked one ends with finish_reason content_filter, without the blocked text.",
                  {{"type", "object"}, {"required", {"messages"}}}, kObject,
                  [eng, filter](Ctx& c) { generation_route(c, eng, filter, true); }});
    s.router.add({"POST", "/v1/completions", Role::USER, "openai",
                  "OpenAI-compatible text completion (JSON, or SSE with stream: true). The prompt is checked by the "
                  "safety filter (blocked: 422, code content_filter); the completion is checked per sentence window "
                  "and a blocked one ends with finish_reason content_filter, without the blocked text.",
                  {{"type", "object"}, {"required", {"prompt"}}}, kObject,
                  [eng, filter](Ctx& c) { generation_route(c, eng, filter, false); }});
    s.router.add({"POST", "/v1/embeddings", Role::USER, "openai",
                  "OpenAI-compatible embeddings (float or base64). Every input is checked by the safety filter "
                  "first: a blocked one answers 422 (code content_filter) and nothing is embedded.",
                  {{"type", "object"}, {"required", {"input"}}}, kObject,
                  [emb, filter](Ctx& c) { embeddings_route(c, emb, filter); }});
    s.router.add({"GET", "/v1/models", Role::USER, "openai", "Models this server serves.", nullptr, kObject,
                  [eng, emb](Ctx& c) {
                    json data = json::array();
                    const int64_t created = now_s();
                    if (eng) data.push_back({{"id", eng->model_id()}, {"object", "model"}, {"created", created}, {"owned_by", "moerag"}});
                    if (emb) data.push_back({{"id", emb->id()}, {"object", "model"}, {"created", created}, {"owned_by", "moerag"}});
                    c.send({{"object", "list"}, {"data", data}});
                  }});
  };
}

}  // namespace moerag::web
