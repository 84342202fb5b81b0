// JSON Schema -> GBNF, for OpenAI-style `response_format`. Supported: type (string,
// number, integer, boolean, null, object, array, and lists of types), properties +
// required (properties in declared order, required ones first), items, minItems,
// maxItems, minLength, maxLength, enum, const, anyOf / oneOf, $ref into
// #/definitions or #/$defs. Output whitespace is limited to one optional space or
// newline between tokens, so generated JSON is compact and always terminates.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace moerag::engine {

/// GBNF text (root rule "root") for JSON documents matching `schema_json`.
/// INVALID_INPUT for malformed JSON or a schema feature we do not support.
Result<std::string> json_schema_to_gbnf(std::string_view schema_json);

/// GBNF for any JSON object, nested at most `max_depth` levels (response_format json_object).
std::string json_object_gbnf(int max_depth = 4);

}  // namespace moerag::engine
