// The engine's front door: open a GGUF file as an Engine (decoder models: one
// step-loop thread that owns the model, KV cache and scheduler and serves every
// caller by continuous batching) or an Embedder (bert), on the CPU backend. Callers
// enter through submit() (a guarded queue) and read tokens from a RequestStream.
// Everything else in engine/ is internal to it (the CLI's model tools use the parts).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/embedder.h"
#include "engine/generator.h"
#include "engine/generator_stream.h"
#include "engine/grammar.h"
#include "engine/json_schema.h"
#include "engine/scheduler.h"
#include "engine/tensor_types.h"

namespace moerag::engine {

/// Engine start-up options.
struct EngineOptions {
  size_t n_threads = 0;            ///< CPU threads (0 = all cores)
  int64_t n_ctx = 4096;            ///< context per sequence (capped at the model's)
  GgmlType kv_type = GgmlType::F16;///< KV cache storage: f16, f32 or q8_0
  int64_t kv_block_size = 16;      ///< tokens per KV block
  int64_t n_cached_seqs = 2;       ///< KV capacity in full-length sequences (extra room keeps reusable prefixes)
  int64_t kv_tokens = 0;           ///< KV capacity in tokens; 0 = n_cached_seqs * n_ctx (never below n_ctx)
  std::string chat_template;       ///< override the template detected from the vocabulary
  SchedulerOptions scheduler;      ///< batch and queue limits
};

/// Latency histogram with fixed upper bounds in seconds (Prometheus-style, not cumulative).
struct LatencyHistogram {
  std::vector<double> bounds;   ///< upper bounds, ascending; counts has one more (+Inf)
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;
  explicit LatencyHistogram(std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  void observe(double seconds);
};

/// A snapshot of the engine's counters for /metrics and tests.
struct EngineStats {
  int64_t n_waiting = 0, n_running = 0;      ///< queue length, sequences in the running batch
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;                ///< referenced by live sequences (cached prefixes excluded)
  uint64_t n_requests = 0, n_rejected = 0;   ///< accepted / refused (OVERLOADED) submissions
  uint64_t n_preempted = 0;
  uint64_t prompt_tokens = 0, prompt_tokens_cached = 0, generated_tokens = 0;
  uint64_t n_steps = 0;
  double step_seconds = 0, forward_seconds = 0, mask_seconds = 0;  ///< totals
  double tokens_per_second = 0;              ///< generated tokens/s over the last few seconds
  LatencyHistogram ttft, itl;                ///< time to first token, inter-token latency
  std::vector<std::vector<uint64_t>> expert_load;  ///< [n_layer][n_expert] tokens routed
};

/// Continuous-batching generator over one model. Thread-safe; create with create().
class Engine final : public Generator {
 public:
  static Result<std::shared_ptr<Engine>> create(const std::string& path, const EngineOptions& options = {});
  ~Engine() override;  ///< stops the step loop; pending requests end with an error
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Tokenises on the caller's thread and queues the request. INVALID_INPUT,
  /// CONTEXT_TOO_LONG, or OVERLOADED when scheduler.max_waiting requests are queued.
  Result<std::shared_ptr<RequestStream>> submit(const GenerateRequest& request, const CancelHandle& cancel = {});
  /// submit() and read the stream to the end on this thread.
  Result<GenerateResult> generate(const GenerateRequest& request, const TokenCallback& on_token,
                                  const CancelHandle& cancel = CancelHandle()) override;
  std::string model_id() const override;
  int64_t n_ctx() const override;
  std::vector<std::vector<uint64_t>> expert_load() const override;
  EngineStats stats() const;
  const Tokenizer& tokenizer() const;
  /// Prompt token count of a request (as submit() would tokenise it).
  Result<int64_t> count_prompt_tokens(const GenerateRequest& request) const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Loads a decoder model as an Engine.
Result<std::shared_ptr<Engine>> open_engine(const std::string& path, const EngineOptions& options = {});

/// Loads a decoder model (llama, qwen2moe, qwen3moe, olmoe, deepseek2) as an Engine.
Result<std::shared_ptr<Generator>> open_generator(const std::string& path, const EngineOptions& options = {});
/// Loads a bert embedding model; vectors are pooled as the file says (mean or CLS) and L2-normalised.
Result<std::unique_ptr<Embedder>> open_embedder(const std::string& path, const EngineOptions& options = {});

}  // namespace moerag::engine
