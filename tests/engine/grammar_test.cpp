// Grammars: the GBNF parser and matcher on a table of cases (grammar_cases.jsonl),
// grammars built from code, JSON schema -> grammar, tokens that end inside a UTF-8
// character or span rules, and the acceptance test of issue 5: 200 sampled outputs
// of a random-weight model per grammar (JSON, a SQL subset, an enum, nested
// repetition) are all accepted by the grammar's own parser. The token-mask cost on a
// real 100k vocabulary is printed.
#include <unordered_set>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "engine/gguf.h"
#include "engine/synth.h"
#include "engine/tokenizer.h"
#include "tests/support/test_support.h"

namespace moerag::engine {
namespace {

using json = nlohmann::json;

TEST(Grammar, CaseTable) {
  std::ifstream in(testing::source_dir() + "/tests/engine/grammar_cases.jsonl");
  ASSERT_TRUE(in) << "grammar_cases.jsonl missing";
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json c = json::parse(line);
    auto g = Grammar::parse(c["grammar"].get<std::string>());
    ASSERT_TRUE(g.ok()) << c["name"] << ": " << g.error().message;
    for (const auto& s : c["accept"]) EXPECT_TRUE((*g)->accepts(s.get<std::string>())) << c["name"] << " should accept " << s;
    for (const auto& s : c["reject"]) EXPECT_FALSE((*g)->accepts(s.get<std::string>())) << c["name"] << " should reject " << s;
    ++n;
  }
  EXPECT_GE(n, 15);
}

TEST(Grammar, Errors) {
  EXPECT_FALSE(Grammar::parse("root ::= root \"a\" | \"b\"").ok());          // left recursion
  EXPECT_FALSE(Grammar::parse("root ::= x\nx ::= y? root").ok());            // indirect, through a nullable
  EXPECT_FALSE(Grammar::parse("root ::= missing").ok());                     // undefined rule
  EXPECT_FALSE(Grammar::parse("start ::= \"a\"").ok());                      // no root
  auto e = Grammar::parse("root ::= \"a\"\nx ::= [b-");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("line 2"), std::string::npos) << e.error().message;
  EXPECT_FALSE(Grammar::parse("root ::= [a-z]{3,2}").ok());
}

TEST(Grammar, BuiltFromCode) {
  using namespace gbnf;
  // SELECT col FROM table, with names from a "live schema".
  GrammarRules rules = {
      {"root", seq({lit("SELECT "), ref("col"), star(seq({lit(", "), ref("col")})), lit(" FROM "), ref("table"), opt(lit(";"))})},
      {"col", one_of({"id", "name", "price"})},
      {"table", one_of({"items", "orders"})},
  };
  auto g = Grammar::compile(rules);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_TRUE((*g)->accepts("SELECT id FROM items"));
  EXPECT_TRUE((*g)->accepts("SELECT id, price FROM orders;"));
  EXPECT_FALSE((*g)->accepts("SELECT idx FROM items"));
  EXPECT_FALSE((*g)->accepts("SELECT id FROM users"));
  EXPECT_EQ(quote("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
}

TEST(Grammar, StateAcrossTokenBoundaries) {
  auto g = Grammar::parse("root ::= \"ab\" word \"!\"\nword ::= [é-ë]+");
  ASSERT_TRUE(g.ok());
  GrammarState st(*g);
  EXPECT_TRUE(st.advance("abé"));  // one token spanning a literal and a rule
  EXPECT_TRUE(st.advance("\xc3"));   // a token ending inside a character
  EXPECT_FALSE(st.accepting());
  EXPECT_TRUE(st.advance("\xaa!"));  // ... completed by the next one (ê), then "!"
  EXPECT_TRUE(st.accepting());
  EXPECT_FALSE(st.can_continue());
  GrammarState bad(*g);
  EXPECT_TRUE(bad.advance("ab"));
  EXPECT_FALSE(bad.advance("\xc3\xa0"));  // à is outside [é-ë]
  EXPECT_TRUE(bad.dead());
  GrammarState partial(*g);
  EXPECT_TRUE(partial.advance("ab"));
  EXPECT_FALSE(partial.advance("\xe4"));  // a 3-byte lead can never become é..ë
}

TEST(Grammar, JsonSchema) {
  const char* schema = R"({"type":"object","properties":{
      "name":{"type":"string","maxLength":5},"age":{"type":"integer"},
      "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2},
      "kind":{"$ref":"#/$defs/kind"},"score":{"type":["number","null"]}},
    "required":["name","age"],"$defs":{"kind":{"const":"x"}}})";
  auto text = json_schema_to_gbnf(schema);
  ASSERT_TRUE(text.ok()) << text.error().message;
  auto g = Grammar::parse(*text);
  ASSERT_TRUE(g.ok()) << g.error().message << "\n" << *text;
  for (const char* ok : {R"({"name":"bob","age":3})", R"({ "name": "", "age": -10, "tags": ["a", "b"]})",
                         R"({"name":"al\"x","age":0,"kind":"x","score":null})", R"({"name":"a","age":1,"score":1.5e3})"}) {
    EXPECT_TRUE((*g)->accepts(ok)) << ok;
  }
  for (const char* bad : {R"({"age":3,"name":"bob"})", R"({"name":"toolong","age":3})", R"({"name":"a"})",
                          R"({"name":"a","age":01})", R"({"name":"a","age":1,"tags":["a","b","a"]})",
                          R"({"name":"a","age":1,"other":1})"}) {
    EXPECT_FALSE((*g)->accepts(bad)) << bad;
  }
  auto none_required = Grammar::parse(*json_schema_to_gbnf(R"({"properties":{"a":{"type":"boolean"},"b":{"type":"null"}}})"));
  ASSERT_TRUE(none_required.ok());
  for (const char* ok : {"{}", R"({"a":true})", R"({"b":null})", R"({"a":false,"b":null})"}) EXPECT_TRUE((*none_required)->accepts(ok)) << ok;
  EXPECT_FALSE((*none_required)->accepts(R"({"b":null,"a":true})"));
  EXPECT_FALSE((*none_required)->accepts(R"({,"b":null})"));
  auto any = Grammar::parse(json_object_gbnf());
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_TRUE((*any)->accepts(R"({"a":[1,{"b":"c"}],"d":{}})"));
  EXPECT_FALSE((*any)->accepts(R"([1])"));
  EXPECT_FALSE(json_schema_to_gbnf(R"({"type":"bogus"})").ok());
  EXPECT_FALSE(json_schema_to_gbnf("{not json").ok());
}

// The acceptance test: every sampled output is a sentence of its grammar.
TEST(Grammar, SampledOutputsAreAccepted) {
  testing::TempDir dir;
  SynthOptions o;
  o.arch = Arch::QWEN2MOE, o.n_layer = 1, o.n_embd = 64, o.n_vocab = 400, o.n_threads = 1;
  ASSERT_TRUE(synth_model(o, dir.file("m.gguf")).ok());
  EngineOptions eo;
  eo.n_threads = 1;
  eo.n_ctx = 512;
  eo.kv_tokens = 64 * 256;
  auto engine = open_engine(dir.file("m.gguf"), eo);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  const std::string json_schema =
      *json_schema_to_gbnf(R"({"type":"object","properties":{"name":{"type":"string","maxLength":6},
        "age":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3},
        "ok":{"type":"boolean"}},"required":["name","age"]})");
  const std::vector<std::pair<std::string, std::string>> grammars = {
      {"json", json_schema},
      {"sql", R"g(root ::= "SELECT " cols " FROM " table where? order? limit? ";"
cols ::= "*" | col (", " col){0,2}
col ::= "id" | "name" | "price" | "count(*)"
table ::= "items" | "orders"
where ::= " WHERE " cond (" AND " cond)?
cond ::= field " " op " " value
field ::= "id" | "price" | "name"
op ::= "=" | "<" | ">" | "<=" | ">=" | "<>"
value ::= [0-9]{1,3} | "'" [a-z]{1,5} "'"
order ::= " ORDER BY " field (" ASC" | " DESC")?
limit ::= " LIMIT " [1-9] [0-9]?)g"},
      {"enum", R"(root ::= "red" | "green" | "blue" | "yellow")"},
      {"nested", R"g(root ::= "[" (group ("," group){0,2})? "]"
group ::= "(" [a-c]{1,3} (";" [0-9]{1,3}){0,2} ")")g"},
  };
  for (const auto& [name, text] : grammars) {
    auto g = Grammar::parse(text);
    ASSERT_TRUE(g.ok()) << name << ": " << g.error().message;
    std::vector<std::shared_ptr<RequestStream>> streams;
    for (int i = 0; i < 200; ++i) {
      GenerateRequest req;
      req.prompt = "write " + name + " " + std::to_string(i % 7);
      req.max_tokens = 160;
      req.sampling.temperature = 1.0f;
      req.sampling.seed = static_cast<uint64_t>(i);
      req.grammar = *g;
      auto s = (*engine)->submit(req);
      ASSERT_TRUE(s.ok()) << s.error().message;
      streams.push_back(*s);
    }
    int distinct = 0;
    std::set<std::string> seen;
    for (auto& s : streams) {
      StreamEvent ev;
      while (s->next(&ev, std::chrono::milliseconds(1000)) != RequestStream::Next::DONE) {
      }
      ASSERT_TRUE(s->result().ok()) << s->result().error().message;
      const GenerateResult& r = *s->result();
      EXPECT_EQ(r.finish_reason, "stop") << name << ": " << r.text;
      EXPECT_TRUE((*g)->accepts(r.text)) << name << " rejects its own output: " << r.text;
      if (name == "json") EXPECT_TRUE(json::accept(r.text)) << r.text;
      distinct += seen.insert(r.text).second ? 1 : 0;
    }
    EXPECT_GE(distinct, name == "enum" ? 4 : 20) << name << ": sampling should vary";
  }
  const EngineStats st = (*engine)->stats();
  std::printf("[grammar] %llu steps: step %.3f s, forward %.3f s, mask %.3f s (%.1f%% of step time)\n",
              static_cast<unsigned long long>(st.n_steps), st.step_seconds, st.forward_seconds, st.mask_seconds,
              100.0 * st.mask_seconds / std::max(1e-9, st.step_seconds));
}

// Mask cost on a real 100k-token vocabulary (skipped without the shared vocab files).
TEST(Grammar, MaskCostOnRealVocabulary) {
  const std::string dir = testing::shared_data("llama-cpp-vocab");
  if (dir.empty()) GTEST_SKIP() << "no shared llama-cpp-vocab data";
  auto file = GgufFile::open(dir + "/ggml-vocab-deepseek-llm.gguf");
  ASSERT_TRUE(file.ok());
  auto tok = Tokenizer::from_gguf(**file);
  ASSERT_TRUE(tok.ok());
  TokenTrie trie(**tok);
  auto g = Grammar::parse(json_object_gbnf());
  ASSERT_TRUE(g.ok());
  GrammarState st(*g);
  std::vector<int32_t> allowed;
  MaskCache cache;
  double worst = 0, total = 0, cached_total = 0, lazy_total = 0;
  const std::string doc = R"({"name": "a long string value", "n": 12.5, "list": [1, 2, {"k": true}]})";
  for (size_t i = 0; i < doc.size(); ++i) {
    allowed.clear();
    const auto t0 = std::chrono::steady_clock::now();
    allowed_tokens(st, trie, &allowed);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    worst = std::max(worst, ms), total += ms;
    EXPECT_FALSE(allowed.empty()) << "at byte " << i;
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_EQ(cache.allowed(st, trie).size(), allowed.size());
    cached_total += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    // token_allowed (the sampler's check of its own choice) agrees with the mask, on
    // a spread of the vocabulary and on tokens the mask allows.
    const std::unordered_set<int32_t> in(allowed.begin(), allowed.end());
    const auto t2 = std::chrono::steady_clock::now();
    int checked = 0;
    for (int32_t id = static_cast<int32_t>(i % 61); id < static_cast<int32_t>((*tok)->n_vocab()); id += 61, ++checked)
      ASSERT_EQ(token_allowed(st, **tok, id), in.count(id) == 1) << "token " << id << " at byte " << i;
    lazy_total += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t2).count() / checked;
    for (size_t k = 0; k < allowed.size() && k < 40; ++k) ASSERT_TRUE(token_allowed(st, **tok, allowed[k]));
    ASSERT_TRUE(st.advance(doc.substr(i, 1)));
  }
  EXPECT_TRUE(st.accepting());
  std::printf("[grammar] mask over %zu tokens, %zu steps: uncached mean %.2f ms, worst %.2f ms; "
              "with the state cache mean %.2f ms (%llu hits, %llu misses); one token checked: %.4f ms\n",
              (*tok)->n_vocab(), doc.size(), total / static_cast<double>(doc.size()), worst,
              cached_total / static_cast<double>(doc.size()), static_cast<unsigned long long>(cache.hits()),
              static_cast<unsigned long long>(cache.misses()), lazy_total / static_cast<double>(doc.size()));
}

}  // namespace
}  // namespace moerag::engine
