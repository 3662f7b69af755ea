#include "sluice/sql/sql_error_internal.h"

#include <fmt/format.h>

#include <algorithm>

#include "sluice/expr/binder.h"

namespace sluice::sql::internal {

namespace {

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

Status NotSupported(int position, const std::string& what) {
  return ErrorAt(position, "not supported yet: ", what);
}

Status WithPosition(const Status& st, int position) {
  if (st.ok() || position < 0 || st.message().find(" [at ") != std::string::npos)
    return st;
  return st.WithMessage(st.message(), " [at ", position, "]");
}

int TakePosition(std::string* message) {
  size_t start = message->rfind(" [at ");
  if (start == std::string::npos) return -1;
  size_t digits = start + 5;
  size_t end = digits;
  while (end < message->size() && (*message)[end] >= '0' && (*message)[end] <= '9') ++end;
  if (end == digits || end >= message->size() || (*message)[end] != ']') return -1;
  int position = std::stoi(message->substr(digits, end - digits));
  message->erase(start, end + 1 - start);
  return position;
}

std::pair<int, int> LineColumn(const std::string& sql, int position) {
  size_t pos = std::min(static_cast<size_t>(std::max(position, 0)), sql.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (sql[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  int column = 1;
  for (size_t i = line_start; i < pos; ++i) {
    if (!IsContinuationByte(sql[i])) ++column;
  }
  return {line, column};
}

Status FormatSqlError(const Status& st, const std::string& sql, int default_position) {
  if (st.ok()) return st;
  std::string message = st.message();
  int position = TakePosition(&message);
  // Markers from nested calls may remain when an error was wrapped; drop them.
  while (TakePosition(&message) >= 0) {
  }
  if (position < 0) position = default_position;
  position = std::clamp(position, 0, static_cast<int>(sql.size()));
  auto [line, column] = LineColumn(sql, position);
  size_t line_start = 0;
  for (size_t i = 0; i < static_cast<size_t>(position); ++i) {
    if (sql[i] == '\n') line_start = i + 1;
  }
  size_t line_end = sql.find('\n', line_start);
  if (line_end == std::string::npos) line_end = sql.size();
  std::string text = sql.substr(line_start, line_end - line_start);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  // The caret line copies tabs so the caret lines up whatever the tab width.
  std::string caret;
  for (size_t i = line_start; i < static_cast<size_t>(position) && i < line_end; ++i) {
    if (IsContinuationByte(sql[i])) continue;
    caret.push_back(sql[i] == '\t' ? '\t' : ' ');
  }
  caret.push_back('^');
  std::string formatted = fmt::format("{} at line {}, column {}\n  {}\n  {}", message,
                                      line, column, text, caret);
  switch (st.code()) {
    case arrow::StatusCode::Invalid:
    case arrow::StatusCode::TypeError:
    case arrow::StatusCode::KeyError:
    case arrow::StatusCode::IndexError:
    case arrow::StatusCode::NotImplemented:
      return Status::Invalid(formatted);
    default:
      return Status(st.code(), formatted);
  }
}

namespace {

bool Binds(const expr::Expr& e, const arrow::Schema& input, bool allow_aggregates) {
  return expr::Bind(e, input, allow_aggregates).ok();
}

// The position of the innermost node of `e` (which fails to bind) whose children all
// bind: the most precise place to blame. -1 when it has no position.
int InnermostFailure(const expr::Expr& e, const arrow::Schema& input,
                     bool allow_aggregates) {
  for (const auto& child : e->args) {
    if (child->kind == expr::ExprKind::kStar) continue;
    if (!Binds(child, input, allow_aggregates)) {
      int p = InnermostFailure(child, input, allow_aggregates);
      return p >= 0 ? p : e->position;
    }
  }
  return e->position;
}

}  // namespace

Status RelocateBindError(const Status& st, const std::vector<expr::Expr>& exprs,
                         const arrow::Schema& input, bool allow_aggregates,
                         int fallback) {
  for (const auto& e : exprs) {
    if (e->kind == expr::ExprKind::kStar || Binds(e, input, allow_aggregates)) continue;
    int position = InnermostFailure(e, input, allow_aggregates);
    std::string message = st.message();
    TakePosition(&message);
    return WithPosition(st.WithMessage(message), position >= 0 ? position : fallback);
  }
  return WithPosition(st, fallback);
}

}  // namespace sluice::sql::internal
