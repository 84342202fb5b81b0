// Sampler: turns one position's logits into the next token. Order (as common
// servers apply them): repetition/frequency/presence penalties over the tokens seen
// so far, then greedy (temperature 0) or temperature -> top-k -> top-p -> min-p ->
// a draw from a seeded generator, so a seed reproduces a run.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <unordered_map>
#include <vector>

namespace moerag::engine {

/// Sampling options; the defaults are greedy.
struct SamplingParams {
  float temperature = 0.0f;        ///< 0 = greedy (argmax)
  int32_t top_k = 0;               ///< keep the k most likely (0 = all)
  float top_p = 1.0f;              ///< keep the smallest set with probability >= top_p
  float min_p = 0.0f;              ///< drop tokens below min_p * p(max)
  float repetition_penalty = 1.0f; ///< divide positive / multiply negative logits of seen tokens
  float frequency_penalty = 0.0f;  ///< subtract count * frequency_penalty
  float presence_penalty = 0.0f;   ///< subtract presence_penalty once a token was seen
  uint64_t seed = 0;               ///< random seed for temperature > 0
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  /// Records a token of the context (prompt or generated) for the penalties.
  void accept(int32_t token);
  /// Picks a token from logits F32 [n_vocab] (modified in place by the penalties).
  int32_t sample(float* logits, int64_t n_vocab);

  // The same in two steps, for constrained decoding: penalties once, then either a
  // pick under a mask the caller applied (-inf logits), or first a pick that asks
  // `ok` about its candidates (no mask built).
  void apply_penalties(float* logits, int64_t n_vocab);
  int32_t pick(float* logits, int64_t n_vocab);
  /// True when pick_checked() draws from exactly the distribution pick() would give
  /// with every token `ok` rejects masked: greedy, or temperature without top-k,
  /// top-p or min-p (which would truncate the unmasked distribution instead).
  bool can_check_lazily() const;
  /// Greedy: the best token `ok` accepts, trying at most max_tries in logit order
  /// (rejected ones get -inf). Temperature: draws, rejecting what `ok` refuses (the
  /// draw conditional on acceptance is the masked distribution). -1 when max_tries
  /// candidates were refused: build the mask and call pick().
  int32_t pick_checked(float* logits, int64_t n_vocab, const std::function<bool(int32_t)>& ok, int max_tries);

 private:
  /// Index drawn with probability w[i] / sum(w) (one uniform, one scan).
  size_t draw(const double* w, size_t n);

  SamplingParams p_;
  std::mt19937_64 rng_;
  std::unordered_map<int32_t, int32_t> counts_;
  std::vector<int32_t> idx_;  // pick()'s scratch
  std::vector<double> prob_;  // pick() / pick_checked() scratch
};

}  // namespace moerag::engine
