// The NL-to-SQL API on the real server: register a database (admin), list it,
// read its schema and grammar, ask a question, run SQL, and get clear 400/404s for
// refused statements, unknown databases and bad bodies.
#include <gtest/gtest.h>
#include <signal.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/sqlite.h"
#include "tests/support/test_support.h"

using json = nlohmann::json;
using namespace moerag::testing;

namespace {

TEST(SqlApi, RegisterListSchemaQuery) {
  TempDir dir;
  std::string db = dir.file("shop.db");
  {
    auto c = moerag::sql::Connection::open(db);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->exec("CREATE TABLE product (product_id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL);"
                           "INSERT INTO product VALUES (1,'Pen','Office',2.5),(2,'Desk','Furniture',120),"
                           "(3,'Chair','Furniture',80),(4,'Stapler','Office',9);")
                    .ok());
  }
  ServerProcess server(dir.file("data"), {});
  ASSERT_TRUE(server.ok()) << server.output();
  httplib::Client c("127.0.0.1", server.port());
  auto reg = c.Post("/v1/sql/databases", json{{"name", "shop"}, {"path", db}}.dump(), "application/json");
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->status, 201) << reg->body;
  auto missing = c.Post("/v1/sql/databases", json{{"name", "x"}, {"path", dir.file("nope.db")}}.dump(), "application/json");
  EXPECT_EQ(missing->status, 404) << missing->body;

  auto list = c.Get("/v1/sql/databases");
  ASSERT_TRUE(list);
  auto lj = json::parse(list->body);
  ASSERT_EQ(lj["databases"].size(), 1u);
  EXPECT_EQ(lj["databases"][0]["name"], "shop");

  auto schema = c.Get("/v1/sql/databases/shop/schema");
  ASSERT_EQ(schema->status, 200);
  auto sj = json::parse(schema->body);
  EXPECT_EQ(sj["tables"][0]["name"], "product");
  EXPECT_EQ(sj["tables"][0]["columns"].size(), 4u);
  EXPECT_EQ(c.Get("/v1/sql/databases/nope/schema")->status, 404);
  auto gram = c.Get("/v1/sql/databases/shop/grammar");
  EXPECT_NE(json::parse(gram->body)["gbnf"].get<std::string>().find("\"price\""), std::string::npos);

  auto q = c.Post("/v1/sql/query", json{{"db", "shop"}, {"question", "How many products are in the Office category?"}}.dump(),
                  "application/json");
  ASSERT_EQ(q->status, 200) << q->body;
  auto qj = json::parse(q->body);
  EXPECT_EQ(qj["rows"][0][0], 2) << qj.dump();
  EXPECT_FALSE(qj["explanation"].get<std::string>().empty());
  EXPECT_FALSE(qj["links"].empty());

  auto dry = c.Post("/v1/sql/query", json{{"db", "shop"}, {"question", "What is the average price of products?"}, {"execute", false}}.dump(),
                    "application/json");
  auto dj = json::parse(dry->body);
  EXPECT_EQ(dj["executed"], false);
  EXPECT_NE(dj["sql"].get<std::string>().find("avg"), std::string::npos);

  auto run = c.Post("/v1/sql/query", json{{"db", "shop"}, {"sql", "SELECT name FROM product ORDER BY price DESC"}}.dump(),
                    "application/json");
  EXPECT_EQ(json::parse(run->body)["rows"][0][0], "Desk");
  auto bad = c.Post("/v1/sql/query", json{{"db", "shop"}, {"sql", "DROP TABLE product"}}.dump(), "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"]["code"], "invalid_input");
  EXPECT_EQ(c.Post("/v1/sql/query", json{{"db", "nope"}, {"question", "hi"}}.dump(), "application/json")->status, 404);
  EXPECT_EQ(c.Post("/v1/sql/query", "{}", "application/json")->status, 400);
  EXPECT_EQ(c.Post("/v1/sql/query", json{{"db", "shop"}, {"execute", "yes"}}.dump(), "application/json")->status, 400);

  auto page = c.Get("/sql.html");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("sql.js"), std::string::npos);

  // Registrations persist across a restart.
  server.stop(SIGTERM);
  ServerProcess again(dir.file("data"), {});
  ASSERT_TRUE(again.ok());
  httplib::Client c2("127.0.0.1", again.port());
  EXPECT_EQ(json::parse(c2.Get("/v1/sql/databases")->body)["databases"].size(), 1u);
}

}  // namespace
