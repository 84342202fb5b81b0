// Result<T> and Error: how every module reports expected failures.
// Bugs use MOERAG_ASSERT (abort with file:line); third-party exceptions are caught
// in the file that wraps the library and turned into an Error here.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace moerag {

/// What kind of failure; the web layer maps each to one HTTP status (web/errors.cpp).
enum class ErrorCode {
  INVALID_INPUT,     ///< the caller sent something wrong: 400
  UNAUTHORIZED,      ///< no or unknown credentials: 401
  FORBIDDEN,         ///< credentials lack the role or access: 403
  NOT_FOUND,         ///< a named thing does not exist: 404
  CONFLICT,          ///< the thing exists already / state forbids it: 409
  TOO_LARGE,         ///< a body or file over its limit: 413
  BLOCKED,           ///< the safety filter refused the text: 422
  RATE_LIMITED,      ///< the caller sent too much too fast: 429
  CONTEXT_TOO_LONG,  ///< prompt does not fit the model's context: 400
  OVERLOADED,        ///< queue full or not ready, try later: 503
  UNAVAILABLE,       ///< a feature needs something not configured (e.g. a model): 503
  IO,                ///< a file or database operation failed: 500
  INTERNAL,          ///< a bug or an unexpected library failure: 500
};

/// Stable lower-case name, e.g. "invalid_input"; used in JSON error bodies.
const char* error_code_name(ErrorCode code);

/// An expected failure: a code plus a message a user can act on.
struct Error {
  ErrorCode code = ErrorCode::INTERNAL;
  std::string message;

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}
  /// Returns a copy with "context: " put in front of the message.
  Error with_context(std::string_view context) const {
    return Error(code, std::string(context) + ": " + message);
  }
};

inline Error make_error(ErrorCode c, std::string m) { return Error(c, std::move(m)); }

/// Either a value or an Error. Access to the wrong alternative is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { check(true); return std::get<0>(v_); }
  const T& value() const& { check(true); return std::get<0>(v_); }
  T&& value() && { check(true); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { check(false); return std::get<1>(v_); }
  T value_or(T fallback) const { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  void check(bool want_value) const {
    if (ok() != want_value) {
      std::fprintf(stderr, "moerag: Result accessed as %s but holds %s\n",
                   want_value ? "value" : "error", ok() ? "a value" : std::get<1>(v_).message.c_str());
      std::abort();
    }
  }
  std::variant<T, Error> v_;
};

/// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)) {}  // NOLINT
  bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    if (ok()) { std::fprintf(stderr, "moerag: Result<void>::error() on success\n"); std::abort(); }
    return *err_;
  }

 private:
  std::optional<Error> err_;
};

using Status = Result<void>;
inline Status ok_status() { return Status(); }

}  // namespace moerag

/// Aborts with file:line when a programming invariant does not hold.
#define MOERAG_ASSERT(cond)                                                            \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "moerag: assertion failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

#define MOERAG_CONCAT_INNER(a, b) a##b
#define MOERAG_CONCAT(a, b) MOERAG_CONCAT_INNER(a, b)

/// Returns the error of a Status/Result expression from the enclosing function.
#define MOERAG_TRY(expr)                                       \
  do {                                                         \
    auto&& moerag_try_r_ = (expr);                             \
    if (!moerag_try_r_.ok()) return moerag_try_r_.error();     \
  } while (0)

/// `MOERAG_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns the error.
#define MOERAG_ASSIGN_OR_RETURN(decl, expr)                                   \
  auto MOERAG_CONCAT(moerag_r_, __LINE__) = (expr);                           \
  if (!MOERAG_CONCAT(moerag_r_, __LINE__).ok())                               \
    return MOERAG_CONCAT(moerag_r_, __LINE__).error();                        \
  decl = std::move(MOERAG_CONCAT(moerag_r_, __LINE__)).value()
