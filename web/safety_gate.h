// The input gate shared by the non-OpenAI routes that take user text (knowledge-base
// search: rules and lists only, the SQL assistant: both layers): one check as
// Direction::INPUT before the text reaches retrieval, the engine or a database; a block
// answers 422 in the project's error shape with the categories, like POST /v1/chat.
#pragma once

#include <string>
#include <string_view>

#include "web/http.h"

namespace moerag::safety {
class Filter;
}

namespace moerag::web {

/// Checks `text` as input (`kb` selects that knowledge base's lists; `rules_only`: layer 1
/// only, for text that never reaches a model). On a block, sends 422 {"error":{"code":
/// "blocked","message","request_id","categories","direction":"input"}} and returns true;
/// the caller must then stop. A null filter allows everything.
bool refuse_blocked_input(Ctx& c, const safety::Filter* filter, std::string_view text, const std::string& kb = "",
                          bool rules_only = false);

}  // namespace moerag::web
