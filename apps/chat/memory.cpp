// Sliding-window memory (see memory.h).
#include "apps/chat/memory.h"

#include <algorithm>

#include "apps/chat/terms.h"

namespace moerag::chat {

Budget split_budget(const ChatOptions& o) {
  double h = std::max(0.0, o.history_share), p = std::max(0.0, o.passage_share), a = std::max(0.0, o.answer_share);
  double sum = h + p + a;
  if (sum > 1.0) h /= sum, p /= sum, a /= sum;
  Budget b;
  b.history = static_cast<int>(o.context_tokens * h);
  b.passages = static_cast<int>(o.context_tokens * p);
  b.answer = static_cast<int>(o.context_tokens * a);
  return b;
}

Window fit_window(const std::vector<Turn>& turns, int budget, int max_turns, int summary_tokens) {
  Window w;
  int left = budget - std::max(0, summary_tokens);
  w.tokens = std::max(0, summary_tokens);
  size_t i = turns.size();
  // Walk back from the newest turn; the first turn that does not fit ends the window,
  // so the kept turns are always a contiguous recent tail.
  while (i > 0 && static_cast<int>(w.kept.size()) < max_turns) {
    int t = count_tokens(turns[i - 1].content) + 4;  // + role marker
    if (t > left) break;
    left -= t;
    w.tokens += t;
    --i;
    w.kept.push_back(i);
  }
  std::reverse(w.kept.begin(), w.kept.end());
  for (size_t j = 0; j < i; ++j) w.dropped.push_back(j);
  return w;
}

std::string summary_prompt(const std::string& previous_summary, const std::vector<const Turn*>& turns) {
  std::string p = "Summarise this conversation in at most three sentences, keeping names, products and open "
                  "questions. Reply with the summary only.\n\n";
  if (!previous_summary.empty()) p += "Earlier summary: " + previous_summary + "\n\n";
  for (const Turn* t : turns) p += (t->role == "user" ? "User: " : "Assistant: ") + t->content + "\n";
  return p;
}

}  // namespace moerag::chat
