// Per-client token buckets: `rate` tokens per second up to `burst`; a request
// takes one token or is refused with the seconds until one is available.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace moerag::web {

class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst) : rate_(rate_per_second), burst_(burst) {}
  /// 0 when allowed, else seconds to wait (rounded up, >= 1). Always 0 when rate is 0.
  int take(const std::string& client);
  /// Same with an explicit clock, for tests.
  int take(const std::string& client, std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace moerag::web
