// Table-driven attack suite (security_cases.jsonl): stacked statements, ATTACH,
// state-changing PRAGMAs, extension loading, CTE and cross-join bombs, hidden
// second statements and write-intent questions in English and Chinese. Each must
// fail with a clear message within the time limit and leave the file unchanged.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/sql_assist/sql_assist.h"
#include "core/hash.h"
#include "tests/apps/sql_assist/fixture_db.h"
#include "tests/support/test_support.h"

using namespace moerag;
using namespace moerag::testing;
using nlohmann::json;

namespace {

std::vector<json> load_cases() {
  std::ifstream in(source_dir() + "/tests/apps/sql_assist/security_cases.jsonl");
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

TEST(SqlSecurity, EveryAttackFailsClearlyAndChangesNothing) {
  TempDir dir;
  std::string path = dir.file("music.db");
  make_music_db(path);
  std::string before = sha256_hex(file_bytes(path));
  sql_assist::AssistOptions o;
  o.time_limit_ms = 300;
  auto a = sql_assist::Assistant::create(o);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->register_db("music", path).ok());
  auto cases = load_cases();
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    sql_assist::QueryRequest r;
    r.db = "music";
    if (c.contains("sql")) r.sql = c["sql"];
    if (c.contains("sql_repeat"))
      for (int i = 0; i < c["sql_repeat"][1].get<int>(); ++i) r.sql += c["sql_repeat"][0].get<std::string>();
    if (c.contains("question")) r.question = c["question"];
    auto t0 = std::chrono::steady_clock::now();
    auto resp = (*a)->query(r);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::string name = c["name"];
    ASSERT_FALSE(resp.ok()) << name << " was not refused: " << (resp.ok() ? resp->sql : "");
    EXPECT_EQ(resp.error().code, ErrorCode::INVALID_INPUT) << name;
    EXPECT_GT(resp.error().message.size(), 10u) << name;
    if (c.contains("expect"))
      EXPECT_NE(resp.error().message.find(c["expect"].get<std::string>()), std::string::npos)
          << name << ": " << resp.error().message;
    // Bounded, not instant: a runaway query (CTE bomb, huge cross join) would take
    // minutes; the slack absorbs a loaded 2-core CI machine.
    EXPECT_LT(ms, o.time_limit_ms + 10000) << name;
  }
  EXPECT_EQ(sha256_hex(file_bytes(path)), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-journal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/moerag_sql_evil.db"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/moerag_sql_copy.db"));
}

TEST(SqlSecurity, ReadsStillWorkAndRowsAreCapped) {
  TempDir dir;
  std::string path = dir.file("music.db");
  make_music_db(path);
  sql_assist::AssistOptions o;
  o.max_rows = 7;
  auto a = sql_assist::Assistant::create(o);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->register_db("music", path).ok());
  auto r = (*a)->query({"music", "", "SELECT name FROM singer", true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rows.size(), 7u);
  EXPECT_TRUE(r->truncated);
  auto bad = (*a)->query({"music", "", "SELECT nosuch FROM singer", true});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("no such column"), std::string::npos) << bad.error().message;
  EXPECT_EQ((*a)->query({"nope", "how many singers", "", true}).error().code, ErrorCode::NOT_FOUND);
}

}  // namespace
