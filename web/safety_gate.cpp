// The input gate for routes that take user text (see safety_gate.h).
#include "web/safety_gate.h"

#include "safety/filter.h"

namespace moerag::web {

bool refuse_blocked_input(Ctx& c, const safety::Filter* filter, std::string_view text, const std::string& kb,
                          bool rules_only) {
  if (!filter || text.empty()) return false;
  safety::Verdict v = rules_only ? filter->check_rules(text, safety::Direction::INPUT, kb)
                                 : filter->check(text, safety::Direction::INPUT, kb);
  if (v.decision != safety::Decision::BLOCK) return false;
  std::string cats;
  for (const auto& k : v.categories) cats += (cats.empty() ? "" : ", ") + k;
  c.fail(Error(ErrorCode::BLOCKED, "the safety filter blocked the input (" + cats + ")"),
         {{"categories", v.categories}, {"direction", "input"}});
  return true;
}

}  // namespace moerag::web
