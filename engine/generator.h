// The Generator interface the apps use: a prompt (text, chat messages or token ids)
// in, a stream of tokens out, with sampling options, stop strings, a token limit and
// a cancel handle, an optional grammar and a deadline. The engine implements it
// (engine.h: Engine, a continuous-batching step loop shared by all callers).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/chat_template.h"
#include "engine/sampler.h"

namespace moerag::engine {

class Grammar;

/// Shared flag to stop a generation from another thread.
class CancelHandle {
 public:
  CancelHandle() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const { flag_->store(true); }
  bool cancelled() const { return flag_->load(); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

/// What to generate. Exactly one of prompt_ids, messages, prompt is used (in that order).
struct GenerateRequest {
  std::string prompt;                 ///< raw text (special-token markup is parsed)
  std::vector<ChatMessage> messages;  ///< rendered with the model's chat template
  std::vector<int32_t> prompt_ids;    ///< token ids as is
  SamplingParams sampling;
  int32_t max_tokens = 256;           ///< generated tokens at most
  std::vector<std::string> stop;      ///< stop strings (not included in the output)
  bool add_bos = true;                ///< add BOS to a text prompt when the vocabulary asks
  std::shared_ptr<const Grammar> grammar;  ///< constrain the output to this grammar (null = free text)
  int64_t timeout_ms = 0;             ///< deadline after submission in ms (0 = none); ends with "timeout"
};

/// Why generation ended, and what it produced.
struct GenerateResult {
  std::vector<int32_t> ids;           ///< generated token ids
  std::string text;                   ///< their text, cut at a stop string
  std::string finish_reason;          ///< "stop" (EOS, stop string, grammar complete), "length", "cancelled", "timeout"
  int64_t n_prompt = 0;               ///< prompt tokens
  int64_t n_prompt_cached = 0;        ///< prompt tokens taken from the prefix cache
  double ttft_s = 0;                  ///< seconds from submission to the first token
};

/// Called with each new token and the text it completes (may be ""); id is -1 for text
/// released at the end without a new token. Return false to stop.
using TokenCallback = std::function<bool(int32_t id, const std::string& text)>;

class Generator {
 public:
  virtual ~Generator() = default;
  /// Generates; blocks until done. INVALID_INPUT for an empty or bad prompt,
  /// CONTEXT_TOO_LONG when prompt + max_tokens exceed the context.
  virtual Result<GenerateResult> generate(const GenerateRequest& request, const TokenCallback& on_token,
                                          const CancelHandle& cancel = CancelHandle()) = 0;
  /// Model name for APIs (`general.name` or the file name).
  virtual std::string model_id() const = 0;
  /// Longest sequence (prompt + output) in tokens.
  virtual int64_t n_ctx() const = 0;
  /// Tokens routed to each expert, per layer, since start. // [n_layer][n_expert]
  virtual std::vector<std::vector<uint64_t>> expert_load() const = 0;
};

}  // namespace moerag::engine
