// The schema grammar: GBNF text names the live tables and columns; the recogniser
// accepts the SQL the rule parser emits for every Spider dev question (when the
// shared data is present) and rejects unknown columns, writes and stacking.
#include <gtest/gtest.h>

#include "apps/sql_assist/sql_assist.h"
#include "tests/apps/sql_assist/fixture_db.h"
#include "tests/support/test_support.h"

using namespace moerag;
using namespace moerag::testing;

TEST(SchemaGrammar, GbnfAndRecogniser) {
  TempDir dir;
  make_music_db(dir.file("music.db"));
  auto a = *sql_assist::Assistant::create({});
  ASSERT_TRUE(a->register_db("music", dir.file("music.db")).ok());
  auto g = a->grammar_gbnf("music");
  ASSERT_TRUE(g.ok());
  EXPECT_NE(g->find("root ::="), std::string::npos);
  EXPECT_NE(g->find("\"song_name\""), std::string::npos);
  EXPECT_NE(g->find("\"concert\""), std::string::npos);
  for (const char* ok : {"SELECT count(*) FROM singer", "SELECT name, age FROM singer WHERE country = 'France' ORDER BY age DESC LIMIT 3",
                         "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id WHERE T2.year > 2012",
                         "SELECT name FROM singer WHERE age > (SELECT avg(age) FROM singer)",
                         "SELECT country, count(*) FROM singer GROUP BY country HAVING count(*) > 2"})
    EXPECT_TRUE(*a->grammar_accepts("music", ok)) << ok;
  for (const char* bad : {"SELECT nosuch FROM singer", "SELECT name FROM nosuch", "DROP TABLE singer",
                          "SELECT 1; DROP TABLE singer", "SELECT name FROM singer WHERE age = 'old'",
                          "SELECT name FROM singer WHERE country > 5", "DELETE FROM singer"})
    EXPECT_FALSE(*a->grammar_accepts("music", bad)) << bad;
}

TEST(SchemaGrammar, AcceptsEveryStatementTheRuleParserEmitsOnSpider) {
  std::string dir = shared_data("spider-dev");
  if (dir.empty()) GTEST_SKIP() << "shared spider-dev data not present";
  sql_assist::SpiderEvalOptions o;
  o.dir = dir;
  auto a = *sql_assist::Assistant::create({});
  int n = 0;
  auto rep = sql_assist::run_spider_eval(o, [&](const sql_assist::SpiderItem& it) {
    if (it.declined) return;
    bool known = false;
    for (const auto& d : a->databases()) known = known || d.name == it.db;
    if (!known) ASSERT_TRUE(a->register_db(it.db, dir + "/database/" + it.db + "/" + it.db + ".sqlite").ok());
    auto ok = a->grammar_accepts(it.db, it.pred_sql);
    ASSERT_TRUE(ok.ok());
    EXPECT_TRUE(*ok) << it.pred_sql;
    ++n;
  });
  ASSERT_TRUE(rep.ok());
  EXPECT_GT(n, 300);
}
