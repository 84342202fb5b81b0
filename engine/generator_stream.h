// The two halves of a request's output: RequestStream, the channel the engine's step
// loop writes tokens into and a client thread reads from (so a slow client never
// stalls the batch), and TextAssembler, which turns generated ids into streamable
// text, holding back what may be the start of a stop string.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/generator.h"
#include "engine/tokenizer.h"

namespace moerag::engine {

/// One generated token and the text it completes (may be "").
struct StreamEvent {
  int32_t id = 0;
  std::string text;
};

/// Single producer (the step loop), single consumer (the client). Thread-safe.
class RequestStream {
 public:
  explicit RequestStream(CancelHandle cancel) : cancel_(std::move(cancel)) {}
  enum class Next { TOKEN, DONE, TIMEOUT };
  /// Waits up to `timeout` for the next token; DONE once every token was read and the request ended.
  Next next(StreamEvent* ev, std::chrono::milliseconds timeout);
  /// The outcome; valid after next() returned DONE.
  const Result<GenerateResult>& result() const { return result_; }
  /// Asks the engine to stop this request (it ends with "cancelled").
  void cancel() const { cancel_.cancel(); }
  const CancelHandle& cancel_handle() const { return cancel_; }

  // Producer side.
  void push(StreamEvent ev);
  void finish(Result<GenerateResult> r);

 private:
  CancelHandle cancel_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StreamEvent> events_;                   // guarded by mu_
  bool done_ = false;                                // guarded by mu_
  Result<GenerateResult> result_ = GenerateResult{};  // written once before done_
};

/// Detokenises a stream of ids and applies stop strings.
class TextAssembler {
 public:
  TextAssembler(const Tokenizer& tok, std::vector<std::string> stops) : dec_(tok), stops_(std::move(stops)) {}
  /// Adds a generated id; returns the text that can be streamed now, and sets *stopped
  /// when a stop string completed (the text is then cut before it).
  std::string push(int32_t id, bool* stopped);
  /// Text still held back (call when generation ends without a stop string).
  std::string flush();
  /// Everything streamed so far.
  const std::string& text() const { return text_; }

 private:
  StreamDecoder dec_;
  std::vector<std::string> stops_;
  std::string text_;     // streamed
  std::string pending_;  // decoded, not yet streamed
};

}  // namespace moerag::engine
