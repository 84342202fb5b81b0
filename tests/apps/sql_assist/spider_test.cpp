// The measuring code of `moerag eval sql` (hardness rules, result comparison) and
// the acceptance figures on the shared Spider dev subset when it is present.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "apps/sql_assist/spider_metric.h"
#include "apps/sql_assist/sql_assist.h"
#include "tests/support/test_support.h"

using namespace moerag;
using nlohmann::json;

namespace {

json base_sql() {
  return json::parse(R"({"select":[false,[[0,[0,[0,0,false],null]]]],"from":{"table_units":[["table_unit",0]],"conds":[]},
    "where":[],"groupBy":[],"having":[],"orderBy":[],"limit":null,"intersect":null,"union":null,"except":null})");
}

TEST(SpiderMetric, Hardness) {
  json s = base_sql();
  EXPECT_EQ(sql_assist::spider_hardness(s), "easy");
  s["where"] = json::parse(R"([[false,2,[0,[0,1,false],null],"\"France\"",null]])");
  EXPECT_EQ(sql_assist::spider_hardness(s), "easy");
  s["orderBy"] = json::parse(R"(["desc",[[0,[0,2,false],null]]])");
  EXPECT_EQ(sql_assist::spider_hardness(s), "medium");
  s["limit"] = 1;
  EXPECT_EQ(sql_assist::spider_hardness(s), "hard");
  s["from"]["table_units"].push_back({"table_unit", 1});
  EXPECT_EQ(sql_assist::spider_hardness(s), "extra");
  json n = base_sql();
  n["where"] = json::parse(R"([[false,3,[0,[0,1,false],null],{"select":[false,[]]},null]])");
  EXPECT_EQ(sql_assist::spider_hardness(n), "hard");
  n["groupBy"] = json::parse(R"([[0,1,false]])");
  EXPECT_EQ(sql_assist::spider_hardness(n), "extra");
}

TEST(SpiderMetric, ResultComparison) {
  using R = std::vector<std::vector<std::string>>;
  R g = {{"a", "1"}, {"b", "2"}};
  EXPECT_TRUE(sql_assist::results_match(g, R{{"b", "2"}, {"a", "1"}}, 2, 2, false));
  EXPECT_FALSE(sql_assist::results_match(g, R{{"b", "2"}, {"a", "1"}}, 2, 2, true));
  EXPECT_TRUE(sql_assist::results_match(g, R{{"1", "a"}, {"2", "b"}}, 2, 2, false));  // columns swapped
  EXPECT_FALSE(sql_assist::results_match(g, R{{"a", "1"}}, 2, 2, false));
  EXPECT_FALSE(sql_assist::results_match(g, R{{"a", "1"}, {"a", "1"}}, 2, 2, false));  // multiset, not set
  EXPECT_FALSE(sql_assist::results_match(g, R{{"a"}, {"b"}}, 2, 1, false));
  EXPECT_TRUE(sql_assist::results_match(R{}, R{}, 1, 1, false));
}

TEST(SpiderEval, AcceptanceOnSharedDevSubset) {
  std::string dir = moerag::testing::shared_data("spider-dev");
  if (dir.empty()) GTEST_SKIP() << "shared spider-dev data not present";
  sql_assist::SpiderEvalOptions o;
  o.dir = dir;
  auto rep = sql_assist::run_spider_eval(o);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->n, 498);
  EXPECT_GE(rep->execution_accuracy, 0.30);
  EXPECT_DOUBLE_EQ(rep->executable_rate, 1.0);
  EXPECT_EQ(rep->by_hardness.size(), 4u);
  sql_assist::SpiderEvalOptions f = o;
  f.db_filter = {"concert_singer"};
  auto one = sql_assist::run_spider_eval(f);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->n, 45);
}

}  // namespace
