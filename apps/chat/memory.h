// Sliding-window conversation memory: how the context budget is split between
// history, passages and the answer, and which recent turns fit the history share
// verbatim (older ones are summarised by a model, or dropped without one).
#pragma once

#include <string>
#include <vector>

#include "apps/chat/chat.h"

namespace moerag::chat {

/// Token budgets derived from ChatOptions (each >= 0; they sum to <= context_tokens).
struct Budget {
  int history = 0;
  int passages = 0;
  int answer = 0;
};

/// Splits options.context_tokens by the configured shares (normalised when they sum over 1).
Budget split_budget(const ChatOptions& options);

/// Which turns of a conversation fit: `kept` are indexes into the input (oldest first,
/// always the most recent ones), `dropped` the older ones left out.
struct Window {
  std::vector<size_t> kept;
  std::vector<size_t> dropped;
  int tokens = 0;  ///< tokens of the kept turns (+ the summary when one is given)
};

/// Fits the most recent turns into `budget` tokens, at most `max_turns` of them.
/// `summary_tokens` are reserved first for a summary of older turns (0 = none).
Window fit_window(const std::vector<Turn>& turns, int budget, int max_turns, int summary_tokens = 0);

/// The prompt asking a model to summarise `turns` (plus an earlier summary) in a few sentences.
std::string summary_prompt(const std::string& previous_summary, const std::vector<const Turn*>& turns);

}  // namespace moerag::chat
