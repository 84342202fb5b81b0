// Token-bucket rate limiting.
#include "web/rate_limit.h"

#include <cmath>

namespace moerag::web {

int RateLimiter::take(const std::string& client) { return take(client, std::chrono::steady_clock::now()); }

int RateLimiter::take(const std::string& client, std::chrono::steady_clock::time_point now) {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mu_);
  if (buckets_.size() > 100000) {
    // Forget clients whose buckets are full again; they behave as new ones.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double dt = std::chrono::duration<double>(now - it->second.last).count();
      it = (it->second.tokens + dt * rate_ >= burst_) ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  double dt = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + dt * rate_);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

}  // namespace moerag::web
