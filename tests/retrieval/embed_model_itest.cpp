// A knowledge base built with a GGUF embedding model (a synthesised BERT): the real
// `moerag ingest/search/kb list --embed-model` and `moerag serve --embed-model`;
// the KB reports the model's embedder, search uses it, and dropping the model
// re-embeds the KB with the built-in embedder.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using namespace moerag::testing;
using json = nlohmann::json;

namespace {

struct ModelKb {
  TempDir dir;
  std::string model = dir.file("bert.gguf");
  std::string data = " --data-dir " + dir.file("d");
  ModelKb() {
    auto s = run_command(moerag_binary() + " model synth --arch bert --layers 2 --dim 64 " + model);
    EXPECT_EQ(s.exit_code, 0) << s.output;
    std::filesystem::create_directories(dir.file("docs"));
    write_file(dir.file("docs/rockets.txt"), "Rockets carry fuel and astronauts to the moon.");
    write_file(dir.file("docs/cats.md"), "# Cats\n\nThe cat sleeps on the warm mat all afternoon.");
    write_file(dir.file("docs/bread.txt"), "Bread is baked in a hot oven from flour and water.");
  }
  CommandResult moerag(const std::string& args) const { return run_command(moerag_binary() + " " + args + data + " 2>&1"); }
  json kb_list(const std::string& extra = "") const {
    auto r = run_command(moerag_binary() + " kb list --json" + data + extra + " --log-level error");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto j = json::parse(r.output, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.output;
    return j;
  }
};

}  // namespace

TEST(EmbedModel, IngestAndSearchWithASynthesisedBert) {
  ModelKb s;
  auto in = s.moerag("ingest " + s.dir.file("docs") + " --kb k --embed-model " + s.model);
  ASSERT_EQ(in.exit_code, 0) << in.output;
  EXPECT_NE(in.output.find("added 3"), std::string::npos) << in.output;

  auto kbs = s.kb_list(" --embed-model " + s.model);
  ASSERT_TRUE(kbs.is_array() && kbs.size() == 1) << kbs.dump();
  EXPECT_EQ(kbs[0]["embedder"].get<std::string>().rfind("gguf:", 0), 0u) << kbs.dump();
  EXPECT_EQ(kbs[0]["embed_dim"], 64);

  for (const char* mode : {"dense", "hybrid"}) {
    auto r = run_command(moerag_binary() + " search --kb k \"moon rockets\" --mode " + mode + " --json --embed-model " +
                         s.model + s.data + " --log-level error");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto j = json::parse(r.output, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.output;
    ASSERT_EQ(j["passages"].size(), 3u) << mode << ": every chunk has a vector";
    int dense_ranked = 0;
    for (const auto& p : j["passages"]) dense_ranked += p["dense_rank"].get<int>() > 0;
    EXPECT_EQ(dense_ranked, 3) << mode;
  }
  // Listing without the model says what the saved index was built with: still the model.
  EXPECT_EQ(s.kb_list()[0]["embedder"].get<std::string>().rfind("gguf:", 0), 0u);

  // Searching without the model re-embeds the KB with the built-in embedder (384-d).
  auto plain = s.moerag("search --kb k \"moon rockets\" --mode dense");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find("re-embedding its 3 chunks"), std::string::npos) << plain.output;
  auto after = s.kb_list();
  EXPECT_EQ(after[0]["embed_dim"], 384) << after.dump();
  EXPECT_EQ(after[0]["embedder"].get<std::string>().rfind("gguf:", 0), std::string::npos) << after.dump();
}

TEST(EmbedModel, ServeSharesTheEngineEmbedderWithKnowledgeBases) {
  ModelKb s;
  ServerProcess server(s.dir.file("d"), {"--embed-model", s.model});
  ASSERT_TRUE(server.ok()) << server.output();
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  // curl (the test binary does not link an HTTP client): body, then the status on the last line.
  auto call = [&](const std::string& method, const std::string& path, const std::string& body = "") {
    std::string cmd = "curl -s -w '\\n%{http_code}' -X " + method + " " + base + path;
    if (!body.empty()) {
      write_file(s.dir.file("body.json"), body);
      cmd += " -H 'Content-Type: application/json' --data-binary @" + s.dir.file("body.json");
    }
    auto r = run_command(cmd);
    auto nl = r.output.rfind('\n');
    int status = nl == std::string::npos ? 0 : std::atoi(r.output.c_str() + nl + 1);
    return std::pair<int, json>(status, json::parse(r.output.substr(0, nl == std::string::npos ? 0 : nl), nullptr, false));
  };
  EXPECT_EQ(call("POST", "/v1/kbs", R"({"name":"k"})").first, 201);
  auto up = call("POST", "/v1/kbs/k/documents",
                 R"({"documents":[{"id":"rockets","format":"txt","text":"Rockets carry fuel and astronauts to the moon."},)"
                 R"({"id":"bread","format":"txt","text":"Bread is baked in a hot oven from flour and water."}]})");
  ASSERT_EQ(up.first / 100, 2) << up.second.dump();
  auto kb = call("GET", "/v1/kbs/k");
  ASSERT_EQ(kb.first, 200);
  EXPECT_EQ(kb.second["embedder"].get<std::string>().rfind("gguf:", 0), 0u) << kb.second.dump();
  EXPECT_EQ(kb.second["embed_dim"], 64);
  auto hits = call("POST", "/v1/kbs/k/search", R"({"query":"moon","mode":"dense","k":5})");
  ASSERT_EQ(hits.first, 200) << hits.second.dump();
  EXPECT_EQ(hits.second["passages"].size(), 2u) << hits.second.dump();
  // The engine step loaded the same model: /v1/embeddings gives 64-d vectors.
  auto emb = call("POST", "/v1/embeddings", R"({"input":"moon"})");
  ASSERT_EQ(emb.first, 200) << emb.second.dump();
  EXPECT_EQ(emb.second["data"][0]["embedding"].size(), 64u);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}
