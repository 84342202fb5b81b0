// Names of error codes, shared by logs, JSON error bodies and tests.
#include "core/result.h"

namespace moerag {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::INVALID_INPUT: return "invalid_input";
    case ErrorCode::UNAUTHORIZED: return "unauthorized";
    case ErrorCode::FORBIDDEN: return "forbidden";
    case ErrorCode::NOT_FOUND: return "not_found";
    case ErrorCode::CONFLICT: return "conflict";
    case ErrorCode::TOO_LARGE: return "too_large";
    case ErrorCode::BLOCKED: return "blocked";
    case ErrorCode::RATE_LIMITED: return "rate_limited";
    case ErrorCode::CONTEXT_TOO_LONG: return "context_too_long";
    case ErrorCode::OVERLOADED: return "overloaded";
    case ErrorCode::UNAVAILABLE: return "unavailable";
    case ErrorCode::IO: return "io";
    case ErrorCode::INTERNAL: return "internal";
  }
  return "internal";
}

}  // namespace moerag
