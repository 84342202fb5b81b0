// StreamChecker: buffers streamed output and checks it per sentence window (each new
// sentence plus the one before it, for context), so a blocked answer stops at the first
// bad sentence and only checked text is ever released. A chunk that holds several
// sentences is checked one sentence at a time, so what is released does not depend on
// how the text was split into chunks.
#include <algorithm>

#include "safety/filter.h"

namespace moerag::safety {
namespace {

constexpr size_t kContextBytes = 400;  // how much of the previous window travels with the next

// One past the first sentence end in s (ASCII .!?; followed by white space, Chinese
// 。！？；…, or a newline); 0 when there is none.
size_t first_sentence_end(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') return i + 1;
    if ((c == '.' || c == '!' || c == '?' || c == ';') && i + 1 < s.size() &&
        (s[i + 1] == ' ' || s[i + 1] == '\n' || s[i + 1] == '\t'))
      return i + 1;
    if (c >= 0x80 && i + 3 <= s.size()) {
      std::string_view t = s.substr(i, 3);
      if (t == "\xE3\x80\x82" || t == "\xEF\xBC\x81" || t == "\xEF\xBC\x9F" || t == "\xEF\xBC\x9B" || t == "\xE2\x80\xA6")
        return i + 3;
    }
  }
  return 0;
}

// The largest cut <= n that does not split a UTF-8 sequence.
size_t utf8_floor(std::string_view s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

StreamChecker::StreamChecker(const Filter& filter, Direction dir, std::string kb)
    : filter_(filter), dir_(dir), kb_(std::move(kb)) {}

StreamChecker::Step StreamChecker::feed(std::string_view chunk) {
  if (stopped_) return {true, {}, {}};
  pending_.append(chunk);
  Step out;
  for (;;) {
    size_t cut = first_sentence_end(pending_);
    if (cut == 0 && pending_.size() >= filter_.options_.stream_window_bytes) cut = utf8_floor(pending_, pending_.size());
    if (cut == 0) return out;
    Step step = check_until(cut);
    out.release += step.release;  // sentences checked before a blocked one may still be shown
    out.verdict = std::move(step.verdict);
    if (step.stop) {
      out.stop = true;
      return out;
    }
  }
}

StreamChecker::Step StreamChecker::finish() {
  if (stopped_) return {true, {}, {}};
  if (pending_.empty()) return {};
  return check_until(pending_.size());
}

StreamChecker::Step StreamChecker::check_until(size_t cut) {
  Step step;
  std::string fresh = pending_.substr(0, cut);
  pending_.erase(0, cut);
  std::string window = previous_.empty() ? fresh : previous_ + " " + fresh;
  step.verdict = filter_.check(window, dir_, kb_);
  if (step.verdict.decision == Decision::BLOCK) {
    stopped_ = true;
    step.stop = true;
    return step;
  }
  if (step.verdict.decision == Decision::REDACT) {
    // Redact the new part on its own: the previous part was released already.
    Verdict own = filter_.check_uncounted(fresh, dir_, kb_);
    step.release = own.decision == Decision::REDACT ? own.redacted_text : fresh;
  } else {
    step.release = fresh;
  }
  previous_ = fresh.size() > kContextBytes ? fresh.substr(utf8_floor(fresh, fresh.size() - kContextBytes)) : fresh;
  return step;
}

}  // namespace moerag::safety
