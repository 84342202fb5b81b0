// Table-driven layer-1 tests: every line of rule_cases.jsonl is one text with its
// direction, knowledge base and expected decision (plus rules that must or must not
// fire and, optionally, the exact redacted text). The model is off here.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "safety/filter.h"
#include "safety/rules.h"
#include "tests/support/test_support.h"

namespace moerag::safety {
namespace {

std::unique_ptr<Filter> rules_only_filter() {
  SafetyOptions o;
  o.model_enabled = false;
  auto f = Filter::create(o);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return std::move(f).value();
}

TEST(SafetyRules, CaseTable) {
  auto filter = rules_only_filter();
  std::ifstream in(testing::source_dir() + "/tests/safety/rule_cases.jsonl");
  ASSERT_TRUE(in) << "rule_cases.jsonl missing";
  std::string line;
  int n = 0;
  for (int no = 1; std::getline(in, line); ++no) {
    if (line.empty()) continue;
    auto c = nlohmann::json::parse(line);
    ++n;
    std::string text = c["text"];
    SCOPED_TRACE("rule_cases.jsonl:" + std::to_string(no) + ": " + text);
    auto dir = parse_direction(c.value("direction", "input"));
    ASSERT_TRUE(dir.ok());
    Verdict v = filter->check(text, *dir, c.value("kb", ""));
    EXPECT_EQ(decision_name(v.decision), c["expect"].get<std::string>()) << "reason: " << v.reason;
    for (const auto& r : c.value("rules", std::vector<std::string>{}))
      EXPECT_NE(std::find(v.rules.begin(), v.rules.end(), r), v.rules.end()) << "rule " << r << " did not fire";
    for (const auto& r : c.value("not_rules", std::vector<std::string>{}))
      EXPECT_EQ(std::find(v.rules.begin(), v.rules.end(), r), v.rules.end()) << "rule " << r << " fired";
    if (c.contains("redacted")) EXPECT_EQ(v.redacted_text, c["redacted"].get<std::string>());
  }
  EXPECT_GE(n, 150);
}

TEST(SafetyRules, BadPatternNamesTheRule) {
  RuleConfig cfg;
  ASSERT_TRUE(parse_rule_file(R"({"rules":[{"id":"x.bad","category":"c","pattern":"(unclosed"}]})", "t.json", cfg).ok());
  auto r = Rules::compile(std::move(cfg));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("x.bad"), std::string::npos);
}

TEST(SafetyRules, RuleFileErrors) {
  RuleConfig cfg;
  EXPECT_FALSE(parse_rule_file("{not json", "a.json", cfg).ok());
  EXPECT_FALSE(parse_rule_file(R"({"rules":[{"id":"x","category":"c","pattern":"a","action":"maybe"}]})", "b.json", cfg).ok());
  EXPECT_FALSE(parse_rule_file(R"({"rules":[{"id":"x","category":"c","pattern":"a","validator":"nope"}]})", "c.json", cfg).ok());
  EXPECT_FALSE(parse_rule_file(R"({"rules":[{"id":"x","pattern":"a"}]})", "d.json", cfg).ok());
  // Comments are allowed in rule files.
  EXPECT_TRUE(parse_rule_file("// note\n{\"block\": [\"foo\"]}", "e.json", cfg).ok());
}

TEST(SafetyRules, RulesDirOnDisk) {
  testing::TempDir dir;
  testing::write_file(dir.file("a.json"), R"({"block": ["forbidden fruit"], "allow": ["fruit salad"]})");
  testing::write_file(dir.file("kb-x.json"), R"({"knowledge_base": "x", "block": ["banana"]})");
  SafetyOptions o;
  o.model_enabled = false;
  o.rules_dir = dir.path().string();
  auto f = Filter::create(o);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)->check("the Forbidden Fruit", Direction::INPUT).decision, Decision::BLOCK);
  EXPECT_EQ((*f)->check("a banana", Direction::INPUT).decision, Decision::ALLOW);
  EXPECT_EQ((*f)->check("a banana", Direction::INPUT, "x").decision, Decision::BLOCK);
  EXPECT_EQ((*f)->check("bananas", Direction::INPUT, "x").decision, Decision::ALLOW);  // word boundary
  // Only the files in the folder: the embedded defaults are not added.
  EXPECT_EQ((*f)->check("me@example.com", Direction::INPUT).decision, Decision::ALLOW);
  o.rules_dir = dir.file("missing");
  EXPECT_FALSE(Filter::create(o).ok());
}

}  // namespace
}  // namespace moerag::safety
