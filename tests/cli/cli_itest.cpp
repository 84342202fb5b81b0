// The `moerag` executable: help, exit codes for bad configuration, key commands.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using namespace moerag::testing;

static int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(Cli, HelpListsCommands) {
  auto r = run_command(moerag_binary() + " --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"serve", "keys", "config", "version"}) EXPECT_NE(r.output.find(cmd), std::string::npos) << cmd;
  auto s = run_command(moerag_binary() + " serve --help");
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_NE(s.output.find("--port"), std::string::npos);
  EXPECT_EQ(run_command(moerag_binary() + " no-such-command").exit_code, 2);
}

TEST(Cli, BadPortExitsTwoWithOneLine) {
  auto r = run_command(moerag_binary() + " serve --port 99999");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("server.port = 99999 is out of range (allowed: 0..65535"), std::string::npos) << r.output;
}

TEST(Cli, UnknownConfigKeyExitsTwoWithOneLine) {
  TempDir dir;
  write_file(dir.file("c.json"), "{\n  \"server\": {\"port\": 8080},\n  \"retreival\": {}\n}\n");
  auto r = run_command(moerag_binary() + " serve --config " + dir.file("c.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("unknown key 'retreival'"), std::string::npos) << r.output;
  auto env = run_command("MOERAG_LOG_LEVEL=chatty " + moerag_binary() + " config check");
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_NE(env.output.find("MOERAG_LOG_LEVEL"), std::string::npos) << env.output;
}

TEST(Cli, ConfigCheckAndDefaults) {
  auto ok = run_command(moerag_binary() + " config check --print --port 9123 2>/dev/null");
  EXPECT_EQ(ok.exit_code, 0);
  auto j = nlohmann::json::parse(ok.output, nullptr, false);
  ASSERT_TRUE(j.is_object()) << ok.output;
  EXPECT_EQ(j["server"]["port"], 9123);
  auto t = run_command(moerag_binary() + " config check --print --chat-template llama3 2>/dev/null");
  ASSERT_EQ(t.exit_code, 0) << t.output;
  EXPECT_EQ(nlohmann::json::parse(t.output)["engine"]["chat_template"], "llama3");
  auto d = run_command(moerag_binary() + " config defaults");
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_NE(d.output.find("\"port\": 8080"), std::string::npos);
}

TEST(Cli, KeysCreateListRevoke) {
  TempDir dir;
  std::string dd = " --data-dir " + dir.file("d");
  auto c = run_command(moerag_binary() + " keys create --name ci --role admin" + dd + " 2>/dev/null");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_EQ(c.output.rfind("mrk_", 0), 0u);
  auto dup = run_command(moerag_binary() + " keys create --name ci" + dd);
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.output.find("exists"), std::string::npos);
  auto bad_role = run_command(moerag_binary() + " keys create --name x --role root" + dd);
  EXPECT_EQ(bad_role.exit_code, 2);
  auto l = run_command(moerag_binary() + " keys list --json" + dd + " 2>/dev/null");
  ASSERT_EQ(l.exit_code, 0);
  auto arr = nlohmann::json::parse(l.output);
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0]["role"], "admin");
  EXPECT_EQ(run_command(moerag_binary() + " keys revoke ci" + dd).exit_code, 0);
  EXPECT_EQ(run_command(moerag_binary() + " keys revoke ci" + dd).exit_code, 1);
}

TEST(Cli, BadRecsysMetaPathStopsServeWithOneLine) {
  TempDir dir;
  std::string dd = " --data-dir " + dir.file("d") + " --port 0";
  // An unknown node type, as a comma list and as a JSON array.
  for (std::string set : {"recsys.meta_paths=U-I-U,U-I-X-I-U", "'recsys.meta_paths=[\"U-I-U\",\"U-I-X-I-U\"]'"}) {
    auto r = run_command(moerag_binary() + " serve" + dd + " --set " + set);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(lines(r.output), 1) << r.output;
    EXPECT_NE(r.output.find("recsys.meta_paths entry 'U-I-X-I-U': unknown node type 'X' (node types: U = user, I = "
                            "item, A = attribute; edges: U-I, I-A, U-A; set by --set recsys.meta_paths)"),
              std::string::npos)
        << r.output;
  }
  // An edge the schema lacks, from a config file; `config check` catches it too.
  write_file(dir.file("c.json"), "{\"recsys\": {\"meta_paths\": [\"U-I-I-U\"]}}");
  auto e = run_command(moerag_binary() + " serve" + dd + " --config " + dir.file("c.json"));
  EXPECT_EQ(e.exit_code, 2) << e.output;
  EXPECT_NE(e.output.find("recsys.meta_paths entry 'U-I-I-U': the graph has no I-I edges"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("set by config file"), std::string::npos) << e.output;
  EXPECT_EQ(run_command(moerag_binary() + " config check --config " + dir.file("c.json")).exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir.file("d") + "/moerag.db")) << "stopped before opening the database";
}

TEST(Cli, BadChatSettingsStopWithOneLine) {
  TempDir dir;
  const std::string dd = " --data-dir " + dir.file("d") + " --port 0";
  struct Case {
    std::string set, message;
  } cases[] = {
      {"chat.temperature=3", "chat.temperature must be between 0 (greedy) and 2 (set by --set chat.temperature)"},
      {"chat.top_p=0", "chat.top_p must be in (0, 1] (1 = off)"},
      {"chat.repetition_penalty=0.5", "chat.repetition_penalty must be between 1 (off) and 2"},
      {"chat.parallel_turns=-1", "chat.parallel_turns must be >= 0"},
      {"chat.passages=0", "chat.passages must be 1..50"},
  };
  for (const auto& c : cases) {
    auto r = run_command(moerag_binary() + " serve" + dd + " --set " + c.set);
    EXPECT_EQ(r.exit_code, 2) << c.set << ": " << r.output;
    EXPECT_EQ(lines(r.output), 1) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
  }
  EXPECT_EQ(run_command(moerag_binary() + " config check --set chat.temperature=0.7 --set chat.top_p=0.9").exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir.file("d") + "/moerag.db")) << "stopped before opening the database";
}

TEST(Cli, ConfiguredRecsysMetaPathsAreUsed) {
  TempDir dir;
  auto r = run_command(moerag_binary() + " recsys status --data-dir " + dir.file("d") +
                       " --set recsys.meta_paths=u-i-u,I-A-I 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("meta-paths U-I-U, I-A-I\n"), std::string::npos) << r.output;
  auto d = run_command(moerag_binary() + " recsys status --data-dir " + dir.file("d") + " 2>/dev/null");
  EXPECT_NE(d.output.find("meta-paths U-I-U, I-U-I, U-I-A-I-U, I-A-I\n"), std::string::npos) << d.output;
}
