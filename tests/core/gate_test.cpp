// FifoGate: never more holders than slots, waiters served in arrival order, a
// leaving holder's slot goes to the oldest waiter.
#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/gate.h"

namespace moerag {
namespace {

void wait_until(const std::function<bool()>& cond) {
  for (int i = 0; i < 5000 && !cond(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(cond());
}

TEST(FifoGate, NeverMoreHoldersThanSlots) {
  FifoGate gate(2);
  EXPECT_EQ(gate.slots(), 2u);
  std::atomic<int> inside{0}, most{0}, done{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto pass = gate.enter();
        int now = ++inside;
        int m = most.load();
        while (now > m && !most.compare_exchange_weak(m, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
      ++done;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(done.load(), 8);
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(gate.active(), 0u);
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(FifoGate, WaitersEnterInArrivalOrder) {
  FifoGate gate(1);
  auto first = gate.enter();
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k) {
    ts.emplace_back([&, k] {
      auto pass = gate.enter();
      std::lock_guard<std::mutex> lk(mu);
      order.push_back(k);
    });
    wait_until([&] { return gate.waiting() == static_cast<size_t>(k + 1); });  // k is queued before k + 1 starts
  }
  EXPECT_EQ(gate.active(), 1u);
  first.leave();
  first.leave();  // a second leave is a no-op
  for (auto& t : ts) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(gate.active(), 0u);
}

TEST(FifoGate, ZeroSlotsMeansOnePerCore) {
  FifoGate gate(0);
  EXPECT_EQ(gate.slots(), std::max<size_t>(1, std::thread::hardware_concurrency()));
  EXPECT_EQ(FifoGate::per_core(2), 2 * gate.slots());
}

}  // namespace
}  // namespace moerag
