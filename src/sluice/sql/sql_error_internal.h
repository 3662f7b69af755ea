#pragma once
// Error positions while planning SQL.
//
// Inside the sql/ folder an error carries its byte offset in the query text as a
// trailing marker " [at N]" in the message -- the same convention expr::Bind uses, so
// errors from the expression binder and the plan builder flow through unchanged.
// PlanQuery turns the marker into the user-facing form with FormatSqlError:
//   unknown column 'z' (columns: a, b) at line 1, column 8
//     SELECT z FROM t
//            ^
#include <arrow/type.h>

#include <string>
#include <utility>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"

namespace sluice::sql::internal {

/// An Invalid status for a user error at byte offset `position`.
template <typename... Args>
Status ErrorAt(int position, Args&&... args) {
  if (position < 0) return Status::Invalid(std::forward<Args>(args)...);
  return Status::Invalid(std::forward<Args>(args)..., " [at ", position, "]");
}

/// "not supported yet: <what>" at `position`.
Status NotSupported(int position, const std::string& what);

/// Adds the marker for `position` unless the message already has one (or position < 0).
Status WithPosition(const Status& st, int position);

template <typename T>
Result<T> WithPosition(Result<T> r, int position) {
  if (r.ok()) return r;
  return WithPosition(r.status(), position);
}

/// The position in the last marker of `message` (-1 if none); removes the marker.
int TakePosition(std::string* message);

/// The 1-based line and column (in characters) of byte offset `position`.
std::pair<int, int> LineColumn(const std::string& sql, int position);

/// The user-facing error: the message without marker, " at line L, column C", then the
/// offending line and a caret under the position. The status code becomes Invalid for
/// user errors (Invalid, TypeError, KeyError, IndexError, NotImplemented); other codes
/// (e.g. IOError from a catalog) are kept. `default_position` is used when the status
/// has no marker.
Status FormatSqlError(const Status& st, const std::string& sql, int default_position);

/// When a plan builder call failed binding `exprs` against `input`, points the error at
/// the innermost expression that fails to bind by itself (or at `fallback`).
Status RelocateBindError(const Status& st, const std::vector<expr::Expr>& exprs,
                         const arrow::Schema& input, bool allow_aggregates, int fallback);

}  // namespace sluice::sql::internal
