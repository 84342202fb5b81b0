// Result, hashing and the thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <numeric>

#include "core/hash.h"
#include "core/result.h"
#include "core/thread_pool.h"

using namespace moerag;

static Result<int> half(int x) {
  if (x % 2) return Error(ErrorCode::INVALID_INPUT, "odd");
  return x / 2;
}
static Result<int> quarter(int x) {
  MOERAG_ASSIGN_OR_RETURN(int h, half(x));
  return half(h);
}

TEST(Result, CarriesValueOrError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::INVALID_INPUT);
  EXPECT_EQ(r.error().with_context("quarter").message, "quarter: odd");
  EXPECT_STREQ(error_code_name(ErrorCode::OVERLOADED), "overloaded");
}

TEST(ResultDeath, WrongAccessAborts) {
  EXPECT_DEATH({ auto r = half(3); (void)r.value(); }, "Result accessed as value");
}

TEST(Hash, Sha256KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(random_hex(16).size(), 32u);
  EXPECT_NE(random_hex(16), random_hex(16));
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
}

TEST(ThreadPool, ParallelForCoversRangeOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1001);
  pool.parallel_for(hits.size(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) hits[i]++;
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, ParallelForManyRegionsConcurrentCallersAndExceptions) {
  ThreadPool pool(2);
  // Back-to-back regions (the decode pattern): every index exactly once each time.
  std::vector<int> counts(97, 0);
  for (int round = 0; round < 2000; ++round) {
    pool.parallel_for(counts.size(), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) counts[i]++;  // chunks are disjoint: no race
    });
  }
  for (int c : counts) EXPECT_EQ(c, 2000);
  // Several callers at once: one runs as the lock-free job, the others fall back to
  // queued tasks; all ranges are still covered exactly once.
  std::vector<std::atomic<int>> hits(4 * 1000);
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round) {
        pool.parallel_for(1000, [&](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) hits[c * 1000 + i]++;
        });
      }
    });
  }
  for (auto& t : callers) t.join();
  for (auto& h : hits) EXPECT_EQ(h.load(), 50);
  // An exception in any chunk reaches the caller, and the pool keeps working.
  EXPECT_THROW(pool.parallel_for(64,
                                 [](size_t b, size_t) {
                                   if (b > 0) throw std::runtime_error("chunk failed");
                                 }),
               std::runtime_error);
  std::atomic<size_t> total{0};
  pool.parallel_for(100, [&](size_t b, size_t e) { total += e - b; });
  EXPECT_EQ(total.load(), 100u);
}

TEST(ThreadPool, SubmitReturnsResultsAndExceptions) {
  ThreadPool pool(2);
  auto f = pool.submit([] { return 41 + 1; });
  EXPECT_EQ(f.get(), 42);
  auto g = pool.submit([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(g.get(), std::runtime_error);
}
