// The rule parser and linker on a generated database: English and Chinese
// questions, values found in the data, joins along the foreign key, declines,
// and annotations (Chinese synonyms) steering the linking.
#include <gtest/gtest.h>

#include "apps/sql_assist/sql_assist.h"
#include "tests/apps/sql_assist/fixture_db.h"
#include "tests/support/test_support.h"

using namespace moerag;
using namespace moerag::testing;

namespace {

class Parser : public ::testing::Test {
 protected:
  void SetUp() override {
    make_music_db(dir_.file("music.db"));
    auto a = sql_assist::Assistant::create({});
    ASSERT_TRUE(a.ok());
    a_ = *a;
    ASSERT_TRUE(a_->register_db("music", dir_.file("music.db")).ok());
  }
  // The single value of the first row, as text.
  std::string ask(const std::string& q, std::string* sql = nullptr) {
    auto r = a_->query({"music", q, "", true});
    if (!r.ok()) return "error: " + r.error().message;
    if (sql) *sql = r->sql;
    if (r->declined) return "declined";
    if (r->rows.empty()) return "empty";
    const auto& c = r->rows[0][r->rows[0].size() - 1];
    return c.kind == sql_assist::Cell::Kind::INTEGER ? std::to_string(c.i) : c.s;
  }
  TempDir dir_;
  std::shared_ptr<sql_assist::Assistant> a_;
};

TEST_F(Parser, EnglishQuestions) {
  std::string sql;
  EXPECT_EQ(ask("How many singers are there?", &sql), "30") << sql;
  EXPECT_EQ(ask("How many singers are from France?", &sql), "6") << sql;
  EXPECT_EQ(ask("How many singers are older than 40?", &sql), "10") << sql;
  EXPECT_EQ(ask("What is the name of the oldest singer?", &sql), "Singer 30") << sql;
  EXPECT_EQ(ask("What is the maximum age of singers?", &sql), "50") << sql;
  EXPECT_EQ(ask("How many concerts were held in 2012?", &sql), "2") << sql;
  EXPECT_EQ(ask("Which year has the most concerts?", &sql).size(), 4u) << sql;
  EXPECT_EQ(ask("How many singers are between age 25 and 30?", &sql), "6") << sql;
}

TEST_F(Parser, ChineseQuestionsWithGlossaryAndSynonyms) {
  std::string sql;
  EXPECT_EQ(ask("有多少个singer来自France？", &sql), "6") << sql;
  ASSERT_TRUE(a_->annotate("music", {"singer", "", "people who sing", {"歌手"}}).ok());
  ASSERT_TRUE(a_->annotate("music", {"singer", "country", "", {"国家"}}).ok());
  EXPECT_EQ(ask("有多少歌手？", &sql), "30") << sql;
  EXPECT_EQ(ask("年龄大于40的歌手有多少？", &sql), "10") << sql;
  auto links = a_->link("music", "法国歌手的平均年龄");
  ASSERT_TRUE(links.ok());
  bool found = false;
  for (const auto& l : *links) found = found || (l.kind == "table" && l.table == "singer");
  EXPECT_TRUE(found);
}

TEST_F(Parser, JoinsAlongForeignKeys) {
  std::string sql;
  auto r = a_->query({"music", "Show the name of each singer and the number of concerts", "", true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->sql.find("JOIN"), std::string::npos) << r->sql;
  EXPECT_FALSE(r->links.empty());
  EXPECT_FALSE(r->explanation.empty());
}

TEST_F(Parser, DeclinesWhatItCannotParse) {
  auto r = a_->query({"music", "purple elephants dance quietly", "", true});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->declined);
  EXPECT_NE(r->explanation.find("could not"), std::string::npos);
  auto both = a_->query({"music", "Which countries have both singers older than 40 and singers younger than 25?", "", true});
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->declined);
}

TEST_F(Parser, SchemaCatalogAndRefresh) {
  auto s = a_->schema("music");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->tables.size(), 2u);
  EXPECT_EQ(s->foreign_keys.size(), 1u);
  EXPECT_FALSE(s->tables[0].columns[2].samples.empty());
  {
    auto c = sql::Connection::open(dir_.file("music.db"));
    ASSERT_TRUE((*c)->exec("CREATE TABLE venue (venue_id INTEGER PRIMARY KEY, city TEXT)").ok());
  }
  auto s2 = a_->schema("music");
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->tables.size(), 3u);
  EXPECT_TRUE(a_->add_example("music", {"How many singers?", "SELECT count(*) FROM singer"}).ok());
  EXPECT_FALSE(a_->add_example("music", {"Drop it", "DROP TABLE singer"}).ok());
  EXPECT_EQ(a_->schema("music")->examples.size(), 1u);
}

}  // namespace
