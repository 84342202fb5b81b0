// Settings: defaults, file, environment and flag precedence; strict validation.
#include <gtest/gtest.h>

#include "config/settings.h"
#include "tests/support/test_support.h"

using namespace moerag;
using moerag::testing::TempDir;

static config::LoadOptions no_env() {
  config::LoadOptions o;
  o.use_environment = false;
  return o;
}

TEST(Settings, DefaultsComeFromTheEmbeddedFile) {
  auto s = config::load(no_env());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->server.port, 8080);
  EXPECT_EQ(s->server.host, "127.0.0.1");
  EXPECT_FALSE(s->auth.enabled);
  EXPECT_EQ(s->sql_assist.model_examples, 3);
  EXPECT_EQ(s->sql_assist.model_timeout_ms, 60000);
  EXPECT_NE(config::default_config_text().find("// "), std::string::npos);  // documented
}

TEST(Settings, PrecedenceIsDefaultsFileEnvFlags) {
  TempDir dir;
  moerag::testing::write_file(dir.file("c.json"), "// comment\n{\"server\": {\"port\": 9001, \"threads\": 3}, \"log\": {\"json\": true}}");
  auto o = no_env();
  o.config_path = dir.file("c.json");
  o.use_environment = true;
  o.environment = {{"MOERAG_SERVER_PORT", "9002"}, {"MOERAG_LIMITS_BURST", "7"}};
  auto s = config::load(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->server.port, 9002);   // env beats file
  EXPECT_EQ(s->server.threads, 3);   // file beats default
  EXPECT_TRUE(s->log.json);
  EXPECT_DOUBLE_EQ(s->limits.burst, 7);
  o.overrides.push_back({"server.port", "9003", "--port"});
  s = config::load(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->server.port, 9003);   // flag beats env
}

struct BadCase {
  std::string file;       // config file text ("" = none)
  std::string key, value; // one override
  std::string expect;     // substring of the one-line error
};

TEST(Settings, RejectsBadValuesWithOneClearLine) {
  std::vector<BadCase> cases = {
      {"", "server.port", "99999", "server.port = 99999 is out of range (allowed: 0..65535; set by test)"},
      {"", "server.port", "abc", "server.port = 'abc' is not an integer"},
      {"", "server.threads", "0", "server.threads = 0 is out of range"},
      {"", "log.level", "loud", "log.level = 'loud' is not allowed (allowed: trace|debug|info|warn|error|off"},
      {"", "log.json", "maybe", "log.json = 'maybe' is not true or false"},
      {"", "model.path", "/no/such/model.gguf", "model.path = '/no/such/model.gguf': no such file"},
      {"", "model.device", "tpu", "model.device = 'tpu' is not allowed"},
      {"", "limits.burst", "0", "limits.burst = 0 must be >= 1"},
      {"", "nope.key", "1", "unknown setting 'nope.key'"},
      {"", "safety.thresholds", "violence=1.5", "safety.thresholds entry 'violence=1.5' must look like CATEGORY=P"},
      {"", "safety.thresholds", "violence", "must look like CATEGORY=P"},
      {"", "safety.passage_policy", "ignore", "safety.passage_policy = 'ignore' is not allowed (allowed: drop|neutralise"},
      {"", "safety.rules_dir", "/no/such/rules", "safety.rules_dir = '/no/such/rules': no such folder"},
      {"", "sql_assist.databases", "shop", "sql_assist.databases entry 'shop' must look like NAME=PATH"},
      {"", "sql_assist.databases", "shop=/no/such.sqlite", "no such file '/no/such.sqlite'"},
      {"", "sql_assist.max_rows", "0", "sql_assist.max_rows = 0 is out of range"},
      {"", "sql_assist.model_examples", "21", "sql_assist.model_examples = 21 is out of range (allowed: 0..20"},
      {"", "sql_assist.model_timeout_ms", "-5", "sql_assist.model_timeout_ms = -5 is out of range"},
      {"", "server", "1", "unknown setting 'server'"},
      {"", "recsys.dim", "1", "recsys.dim = 1 is out of range (allowed: 4..512; set by test)"},
      {"", "recsys.learning_rate", "0", "recsys.learning_rate = 0.0 is out of range (allowed: greater than 0 and up to 1"},
      {"", "recsys.holdout_fraction", "0.9", "recsys.holdout_fraction = 0.9 is out of range (allowed: 0.05..0.5"},
      {"", "recsys.half_life_days", "-1", "recsys.half_life_days = -1.0 is out of range"},
      {"", "recsys.default_k", "2000", "recsys.default_k = 2000 is larger than recsys.max_k = 1000"},
      {"", "recsys.meta_paths", "", "recsys.meta_paths is empty"},
      {"", "recsys.explanations", "sometimes", "recsys.explanations = 'sometimes' is not true or false"},
      {"{\"recsys\": {\"meta_paths\": [\"U-I-U\", \" \"]}}", "", "", "recsys.meta_paths has an empty entry"},
      {"{\"recsys\": {\"dim\": 16.5}}", "", "", "recsys.dim = 16.5 has the wrong type (allowed: an integer"},
      {"", "retrieval.lexical_max_postings", "many", "retrieval.lexical_max_postings = 'many' is not an integer"},
      {"{\"server\": {\"prot\": 1}}", "", "", "unknown key 'server.prot'"},
      {"{\"server\": {\"port\": \"80\"}}", "", "", "server.port = '80' has the wrong type (allowed: an integer"},
      {"{\"server\": 5}", "", "", "server = 5 has the wrong type (allowed: an object"},
      {"{\"cors\": {\"allowed_origins\": [1]}}", "", "", "has the wrong type (allowed: a list of strings"},
      {"{\"server\": {", "", "", "is not valid JSON"},
      {"[]", "", "", "the top level in config file"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    auto o = no_env();
    if (!c.file.empty()) {
      moerag::testing::write_file(dir.file("c.json"), c.file);
      o.config_path = dir.file("c.json");
    }
    if (!c.key.empty()) o.overrides.push_back({c.key, c.value, "test"});
    auto s = config::load(o);
    ASSERT_FALSE(s.ok()) << c.file << " " << c.key;
    EXPECT_EQ(s.error().code, ErrorCode::INVALID_INPUT);
    EXPECT_NE(s.error().message.find(c.expect), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find('\n'), std::string::npos) << "one line";
  }
}

TEST(Settings, MissingConfigFileIsAnError) {
  auto o = no_env();
  o.config_path = "/no/such/config.json";
  auto s = config::load(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot read config file"), std::string::npos);
}

TEST(Settings, ListsParseFromCommaText) {
  auto o = no_env();
  o.overrides.push_back({"cors.allowed_origins", "https://a.example,https://b.example", "test"});
  auto s = config::load(o);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->cors.allowed_origins.size(), 2u);
  EXPECT_EQ(s->cors.allowed_origins[1], "https://b.example");
  EXPECT_EQ(config::env_name("server.max_body_bytes"), "MOERAG_SERVER_MAX_BODY_BYTES");
  o.overrides.push_back({"safety.thresholds", "violence=0.8,self_harm=0.3", "test"});
  s = config::load(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FLOAT_EQ(s->safety.thresholds.at("violence"), 0.8f);
  EXPECT_FLOAT_EQ(s->safety.thresholds.at("self_harm"), 0.3f);
}

TEST(Settings, RecsysAndRetrievalSectionsAreTyped) {
  auto o = no_env();
  o.overrides.push_back({"recsys.meta_paths", "U-I-U,I-A-I", "test"});
  o.overrides.push_back({"recsys.half_life_days", "0", "test"});
  o.overrides.push_back({"retrieval.lexical_common_share", "0.05", "test"});
  auto s = config::load(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->recsys.meta_paths, (std::vector<std::string>{"U-I-U", "I-A-I"}));
  EXPECT_DOUBLE_EQ(s->recsys.half_life_days, 0);
  EXPECT_EQ(s->recsys.max_k, 1000);  // default from the embedded file
  EXPECT_TRUE(s->recsys.explanations);
  EXPECT_DOUBLE_EQ(s->raw["retrieval"]["lexical_common_share"].get<double>(), 0.05);
  EXPECT_EQ(s->raw["retrieval"]["lexical_max_postings"].get<int64_t>(), 8000);
  EXPECT_EQ(s->source_of("recsys.meta_paths"), "test");
  EXPECT_EQ(s->source_of("recsys.dim"), "built-in default");
}

// A check registered by a higher layer runs on every load and its message comes back as is.
static config::RegisterCheck odd_port_check("test.odd_port", [](const config::Settings& s) -> Status {
  if (s.server.port == 7777)
    return Error(ErrorCode::INVALID_INPUT, "config: server.port = 7777 is reserved by the test (set by " +
                                               s.source_of("server.port") + ")");
  return ok_status();
});

TEST(Settings, RegisteredChecksRunAfterTheTypedSettings) {
  auto o = no_env();
  ASSERT_TRUE(config::load(o).ok());
  o.overrides.push_back({"server.port", "7777", "--port"});
  auto s = config::load(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "config: server.port = 7777 is reserved by the test (set by --port)");
}
