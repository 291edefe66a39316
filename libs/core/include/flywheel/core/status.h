#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

/// Returns the status of `expr` from the calling function if it is not OK.
#define FLYWHEEL_RETURN_IF_ERROR(expr)            \
  do {                                            \
    if (::absl::Status _st = (expr); !_st.ok()) { \
      return _st;                                 \
    }                                             \
  } while (false)

#define FLYWHEEL_STATUS_CONCAT_INNER(a, b) a##b
#define FLYWHEEL_STATUS_CONCAT(a, b) FLYWHEEL_STATUS_CONCAT_INNER(a, b)

/// `FLYWHEEL_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value of a
/// `StatusOr` or returns its status from the calling function.
// `lhs` is a declaration, so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define FLYWHEEL_ASSIGN_OR_RETURN(lhs, expr)                                 \
  auto FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__) = (expr);                \
  if (!FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__).ok()) {                  \
    return std::move(FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__)).status(); \
  }                                                                          \
  lhs = *std::move(FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__))
// NOLINTEND(bugprone-macro-parentheses)

/// The same two, for coroutines (`co_return` instead of `return`).
#define FLYWHEEL_CO_RETURN_IF_ERROR(expr)         \
  do {                                            \
    if (::absl::Status _st = (expr); !_st.ok()) { \
      co_return _st;                              \
    }                                             \
  } while (false)

// NOLINTBEGIN(bugprone-macro-parentheses)
#define FLYWHEEL_CO_ASSIGN_OR_RETURN(lhs, expr)                                 \
  auto FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__) = (expr);                   \
  if (!FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__).ok()) {                     \
    co_return std::move(FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__)).status(); \
  }                                                                             \
  lhs = *std::move(FLYWHEEL_STATUS_CONCAT(_statusor_, __LINE__))
// NOLINTEND(bugprone-macro-parentheses)
