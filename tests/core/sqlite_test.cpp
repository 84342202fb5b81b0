// SQLite layer: statements, transactions, migrations, pool, errors.
#include <gtest/gtest.h>

#include <thread>

#include "core/sqlite.h"
#include "tests/support/test_support.h"

using namespace moerag;
using moerag::testing::TempDir;

TEST(Sqlite, OpensInWalModeAndRunsStatements) {
  TempDir dir;
  auto c = sql::Connection::open(dir.file("a.db"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto st = (*c)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->col_text(0), "wal");
  ASSERT_TRUE((*c)->exec("CREATE TABLE t(a INTEGER, b TEXT, c REAL, d BLOB)").ok());
  auto ins = (*c)->prepare("INSERT INTO t VALUES (?,?,?,?)");
  ASSERT_TRUE(ins.ok());
  ins->bind_all(int64_t(7), "中文", 2.5).bind_blob(4, "\0x", 2);
  ASSERT_TRUE(ins->run().ok());
  auto q = (*c)->prepare("SELECT a,b,c,d FROM t");
  ASSERT_TRUE(*q->step());
  EXPECT_EQ(q->col_int(0), 7);
  EXPECT_EQ(q->col_text(1), "中文");
  EXPECT_DOUBLE_EQ(q->col_double(2), 2.5);
  EXPECT_EQ(q->col_blob(3), std::string("\0x", 2));
  EXPECT_FALSE(*q->step());
}

TEST(Sqlite, RejectsSecondStatementAndReportsErrors) {
  TempDir dir;
  auto c = sql::Connection::open(dir.file("a.db"));
  auto two = (*c)->prepare("SELECT 1; DROP TABLE x");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message.find("more than one statement"), std::string::npos);
  auto bad = (*c)->prepare("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::INVALID_INPUT);
  EXPECT_TRUE((*c)->prepare("SELECT 1; -- trailing comment").ok());
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto c = sql::Connection::open(dir.file("a.db"));
  ASSERT_TRUE((*c)->exec("CREATE TABLE t(x)").ok());
  {
    sql::Transaction tx(**c);
    ASSERT_TRUE(tx.begun().ok());
    ASSERT_TRUE((*c)->exec("INSERT INTO t VALUES (1)").ok());
  }
  {
    sql::Transaction tx(**c);
    ASSERT_TRUE((*c)->exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx.commit().ok());
  }
  auto q = (*c)->prepare("SELECT group_concat(x) FROM t");
  ASSERT_TRUE(*q->step());
  EXPECT_EQ(q->col_text(0), "2");
}

TEST(Sqlite, MigrationsApplyOnceInOrderAndRefuseNewerSchema) {
  TempDir dir;
  auto c = sql::Connection::open(dir.file("a.db"));
  std::vector<sql::Migration> v1 = {{1, "t", "CREATE TABLE t(x)"}};
  std::vector<sql::Migration> v2 = {{1, "t", "CREATE TABLE t(x)"}, {2, "u", "ALTER TABLE t ADD COLUMN y"}};
  ASSERT_TRUE(sql::migrate(**c, "comp", v1).ok());
  ASSERT_TRUE(sql::migrate(**c, "comp", v1).ok());  // idempotent
  ASSERT_TRUE(sql::migrate(**c, "comp", v2).ok());
  ASSERT_TRUE((*c)->exec("INSERT INTO t(x, y) VALUES (1, 2)").ok());
  auto q = (*c)->prepare("SELECT count(*) FROM schema_migrations WHERE component='comp'");
  ASSERT_TRUE(*q->step());
  EXPECT_EQ(q->col_int(0), 2);
  auto older = sql::migrate(**c, "comp", v1);
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.error().message.find("newer moerag"), std::string::npos);
}

TEST(Sqlite, FailedMigrationIsRolledBack) {
  TempDir dir;
  auto c = sql::Connection::open(dir.file("a.db"));
  std::vector<sql::Migration> m = {{1, "ok", "CREATE TABLE a(x)"}, {2, "bad", "CREATE TABLE b(x); INSERT INTO nope VALUES (1)"}};
  auto r = sql::migrate(**c, "comp", m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("migration 2 (bad)"), std::string::npos);
  auto q = (*c)->prepare("SELECT count(*) FROM sqlite_master WHERE name='b'");
  ASSERT_TRUE(*q->step());
  EXPECT_EQ(q->col_int(0), 0);
}

TEST(Sqlite, PoolGivesEachThreadAConnection) {
  TempDir dir;
  auto db = sql::Database::open(dir.file("p.db"));
  ASSERT_TRUE(db.ok());
  {
    auto l = (*db)->lease();
    ASSERT_TRUE((*l)->exec("CREATE TABLE t(x)").ok());
  }
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&, i] {
      for (int j = 0; j < 25; ++j) {
        auto l = (*db)->lease();
        auto st = (*l)->cached("INSERT INTO t VALUES (?)");
        ASSERT_TRUE(st.ok());
        (*st)->bind(1, int64_t(i * 100 + j));
        ASSERT_TRUE((*st)->run().ok());
      }
    });
  for (auto& t : ts) t.join();
  {
    auto l = (*db)->lease();
    auto q = (*l)->prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->col_int(0), 100);
  }
  EXPECT_GE((*db)->idle(), 1u);  // leases went back to the pool
}

TEST(Sqlite, OpenFailsClearlyForBadPath) {
  auto c = sql::Connection::open("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::IO);
  EXPECT_NE(c.error().message.find("/nonexistent-dir/x/y.db"), std::string::npos);
}

// A writer that finds the write lock taken waits (in short steps, counted) and gets
// it once the holder commits; with the lock held past busy_timeout_ms it gets
// OVERLOADED instead of waiting for ever.
TEST(Sqlite, WriterWaitsForTheLockThenTimesOutAsOverloaded) {
  TempDir dir;
  sql::OpenOptions o;
  o.busy_timeout_ms = 2000;
  auto a = sql::Connection::open(dir.file("a.db"), o);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->exec("CREATE TABLE t(x INTEGER)").ok());
  sql::OpenOptions quick = o;
  quick.busy_timeout_ms = 50;
  auto b = sql::Connection::open(dir.file("a.db"), o);
  auto c = sql::Connection::open(dir.file("a.db"), quick);
  ASSERT_TRUE(b.ok() && c.ok());
  {
    sql::Transaction held(**a);
    ASSERT_TRUE(held.begun().ok());
    ASSERT_TRUE((*a)->exec("INSERT INTO t VALUES (1)").ok());
    const uint64_t waits0 = sql::busy_waits();
    std::thread release([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      ASSERT_TRUE(held.commit().ok());
    });
    auto t0 = std::chrono::steady_clock::now();
    Status timed_out = (*c)->exec("INSERT INTO t VALUES (3)");  // gives up after ~50 ms
    double waited_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_FALSE(timed_out.ok());
    EXPECT_EQ(timed_out.error().code, ErrorCode::OVERLOADED);
    EXPECT_GE(waited_ms, 40.0);
    sql::Transaction mine(**b);  // waits until the commit, then holds the lock
    ASSERT_TRUE(mine.begun().ok()) << mine.begun().error().message;
    ASSERT_TRUE((*b)->exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(mine.commit().ok());
    release.join();
    EXPECT_GT(sql::busy_waits(), waits0);
  }
  auto n = (*a)->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(*n->step());
  EXPECT_EQ(n->col_int(0), 2);
}
