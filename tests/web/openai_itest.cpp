// The OpenAI routes on a real `moerag serve --model` (synthesised MoE model): SSE
// headers and framing, a client that disconnects mid-stream gets its sequence
// cancelled and every KV block freed (read back from /metrics), and a server without
// a model answers 503 in OpenAI's error shape.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "engine/synth.h"
#include "tests/support/test_support.h"

namespace moerag {
namespace {

using json = nlohmann::json;
using testing::ServerProcess;

double metric(httplib::Client& cli, const std::string& name) {
  auto r = cli.Get("/metrics");
  if (!r) return -1;
  std::smatch m;
  std::regex re("\n" + name + " ([0-9.e+-]+)");
  return std::regex_search(r->body, m, re) ? std::stod(m[1]) : -1;
}

TEST(OpenAiRoutes, StreamDisconnectFreesKvBlocks) {
  testing::TempDir dir;
  engine::SynthOptions o;
  o.arch = engine::Arch::QWEN2MOE, o.n_layer = 2, o.n_embd = 64, o.n_vocab = 400, o.n_threads = 1;
  ASSERT_TRUE(engine::synth_model(o, dir.file("m.gguf")).ok());
  ServerProcess server(dir.file("data"), {"--model", dir.file("m.gguf"), "--set", "safety.model_enabled=false"});
  ASSERT_TRUE(server.ok()) << server.output();
  httplib::Client cli("127.0.0.1", server.port());
  cli.set_read_timeout(60, 0);

  // A complete stream: headers, role chunk first, [DONE] last.
  json body = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 6}, {"seed", 1}, {"stream", true}};
  auto r = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-Accel-Buffering"), "no");
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  EXPECT_EQ(r->body.rfind("data: [DONE]\n\n"), r->body.size() - 14);
  EXPECT_NE(r->body.find("\"role\":\"assistant\""), std::string::npos);

  // Clients that leave after a few chunks of a long, grammar-held generation.
  for (int k = 0; k < 3; ++k) {
    json long_body = {{"messages", {{{"role", "user"}, {"content", "go on " + std::to_string(k)}}}},
                      {"max_tokens", 400}, {"seed", k}, {"stream", true}, {"grammar", "root ::= [a-z ]+"}};
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = long_body.dump();
    req.set_header("Content-Type", "application/json");
    int chunks = 0;
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };
    httplib::Client c2("127.0.0.1", server.port());
    httplib::Response res;
    httplib::Error err;
    c2.send(req, res, err);  // fails: we aborted the stream
    EXPECT_GE(chunks, 3);
  }
  double used = -1;
  for (int i = 0; i < 200; ++i) {
    used = metric(cli, "moerag_engine_kv_blocks_used");
    if (used == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(used, 0) << "KV blocks still held after the clients left";
  EXPECT_LT(metric(cli, "moerag_engine_generated_tokens_total"), 3 * 400) << "the abandoned streams were not cancelled";
  EXPECT_GT(metric(cli, "moerag_engine_kv_blocks_total"), 0);
}

TEST(OpenAiRoutes, WithoutModelAnswers503) {
  testing::TempDir dir;
  ServerProcess server(dir.file("data"), {"--set", "safety.model_enabled=false"});
  ASSERT_TRUE(server.ok()) << server.output();
  httplib::Client cli("127.0.0.1", server.port());
  auto r = cli.Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_FALSE(r->get_header_value("Retry-After").empty());
  const json j = json::parse(r->body);
  EXPECT_EQ(j["error"]["type"], "server_error");
  EXPECT_EQ(j["error"]["code"], "model_not_loaded");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("--model"), std::string::npos);
  auto m = cli.Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
}

}  // namespace
}  // namespace moerag
