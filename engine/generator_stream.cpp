// RequestStream (a small blocking queue) and TextAssembler (stop strings).
#include "engine/generator_stream.h"

namespace moerag::engine {
namespace {

// Length of the longest suffix of `text` that is a proper prefix of a stop string.
size_t held_back(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k) {
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

RequestStream::Next RequestStream::next(StreamEvent* ev, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty() || done_; });
  if (!events_.empty()) {
    *ev = std::move(events_.front());
    events_.pop_front();
    return Next::TOKEN;
  }
  return done_ ? Next::DONE : Next::TIMEOUT;
}

void RequestStream::push(StreamEvent ev) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(ev));
  }
  cv_.notify_all();
}

void RequestStream::finish(Result<GenerateResult> r) {
  {
    std::lock_guard lock(mu_);
    result_ = std::move(r);
    done_ = true;
  }
  cv_.notify_all();
}

std::string TextAssembler::push(int32_t id, bool* stopped) {
  *stopped = false;
  pending_ += dec_.push(id);
  const std::string full = text_ + pending_;
  size_t cut = std::string::npos;
  for (const auto& s : stops_) {
    const size_t at = s.empty() ? std::string::npos : full.find(s, text_.size() > s.size() ? text_.size() - s.size() : 0);
    if (at != std::string::npos && at < cut) cut = at;
  }
  if (cut != std::string::npos) {
    *stopped = true;
    pending_ = cut > text_.size() ? full.substr(text_.size(), cut - text_.size()) : "";
  }
  const size_t hold = *stopped ? 0 : held_back(pending_, stops_);
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, out.size());
  text_ += out;
  return out;
}

std::string TextAssembler::flush() {
  std::string out = pending_ + dec_.flush();
  pending_.clear();
  text_ += out;
  return out;
}

}  // namespace moerag::engine
