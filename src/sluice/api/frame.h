#pragma once
// Frame: a lazy query of the public C++ API.
//
// A Frame is an immutable value holding a logical plan (plan/logical_plan.h) and the
// Session it belongs to. Methods such as filter() or join() return a new Frame with a
// bigger plan and never touch data; collect(), the write_*() methods, count() and
// explain(true) optimize and run the plan.
//
// Errors: a method that cannot build its plan (an unknown column, a type error, a
// missing file in Session::read_csv) returns a Frame in error instead of failing; the
// error passes through every later method and is returned by the first one that
// returns a Result (collect, write_*, schema, explain, ...). status() checks early.
//
// Names: columns produced by select/with_columns/agg are named by alias(), else the
// column's name, else the expression's text (expr::OutputName: "(a + 1)", "sum(x)").
//
// Thread-safety: Frame values may be shared and used from several threads; running
// queries goes through the Session, which runs one at a time (session.h).
#include <arrow/table.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/api/expr.h"
#include "sluice/base/status.h"
#include "sluice/plan/logical_plan.h"

namespace sluice {

class Session;
class GroupedFrame;

using JoinType = plan::JoinType;

/// How Frame::write_* lays out files (see connector/writer/file_writer.h). A path that
/// ends with '/' (or any partition_by) is a directory of part files. Files appear
/// under their final names only when the whole write succeeded.
struct WriteOptions {
  /// Hive-style partition directories by these columns (country=DE/part-00000.parquet).
  std::vector<std::string> partition_by;
  /// Parquet compression: snappy, zstd, gzip, lz4, none.
  std::string compression = "snappy";
  int64_t row_group_rows = 1 << 20;
  /// CSV: header line and delimiter.
  bool header = true;
  char delimiter = ',';
};

/// The OVER clause of Frame::window.
struct WindowOver {
  std::vector<Expr> partition_by;
  std::vector<SortSpec> order_by;
  std::optional<plan::WindowFrame> frame;
};

class Frame {
 public:
  /// A frame in error ("empty Frame"): frames come from a Session.
  Frame();
  /// A frame in error (what a failed step returns).
  static Frame Error(Status error);

  /// OK, or the error of the step that failed.
  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  /// The output schema (known without running).
  Result<std::shared_ptr<arrow::Schema>> schema() const;
  /// The logical plan (null when in error), e.g. for job::Catalog::Register.
  const plan::Plan& plan() const { return plan_; }
  const std::shared_ptr<Session>& session() const { return session_; }

  // ---- Transformations (lazy) -------------------------------------------------------

  /// Rows where `predicate` (boolean) is true; NULL counts as false.
  Frame filter(const Expr& predicate) const;
  /// These expressions as the columns, in order; star() expands to all columns. If any
  /// contains an aggregate, the whole frame is aggregated to one row (agg()).
  Frame select(const std::vector<Expr>& exprs) const;
  /// All columns plus these; an expression whose name equals an existing column
  /// replaces it in place.
  Frame with_columns(const std::vector<Expr>& exprs) const;
  Frame with_column(const Expr& e) const { return with_columns({e}); }
  /// All columns but these (unknown names are errors).
  Frame drop(const std::vector<std::string>& columns) const;
  /// Renames columns: {{"old", "new"}, ...}.
  Frame rename(const std::vector<std::pair<std::string, std::string>>& names) const;

  /// Groups by key expressions (named like select's); see GroupedFrame::agg.
  GroupedFrame group_by(const std::vector<Expr>& keys) const;
  /// Aggregates the whole frame into one row: agg({sum("x").alias("total"), count()}).
  Frame agg(const std::vector<Expr>& aggregates) const;

  /// Equi-join on columns of the same name on both sides (SQL's USING): the output has
  /// the left columns (a key column holds the key of the row: the left one, the right
  /// one for a right join, whichever is not NULL for a full join) and then the right
  /// columns except the keys. Semi and anti joins keep only the left columns.
  /// Right columns whose names clash with left ones get the suffix "_right" (before
  /// the join, so `condition` can use them). `condition` is an extra predicate over
  /// both sides' columns (e.g. col("amount") > col("limit_right")).
  Frame join(const Frame& right, const std::vector<std::string>& on,
             JoinType how = JoinType::kInner, const Expr& condition = Expr()) const;
  /// Equi-join on pairs of key expressions (left_on[i] over the left frame, right_on[i]
  /// over the right frame); all columns of both sides are kept, clashing right names
  /// get the suffix "_right". Keys of different types are compared in a common type.
  Frame join(const Frame& right, const std::vector<Expr>& left_on,
             const std::vector<Expr>& right_on, JoinType how = JoinType::kInner,
             const Expr& condition = Expr()) const;

  /// Sorts by keys: sort({"a", col("b").desc(), col("c").nulls_first()}).
  Frame sort(const std::vector<SortSpec>& keys) const;
  /// The first `n` rows after skipping `offset` (in the frame's order if it is sorted).
  Frame limit(int64_t n, int64_t offset = 0) const;
  /// Distinct rows.
  Frame distinct() const;
  /// Window functions (SQL's OVER): every column, then one per function, computed over
  /// the rows of each `over.partition_by` partition in `over.order_by` order, within
  /// `over.frame` (SQL's default frame when absent). Functions: row_number(), rank(),
  /// dense_rank(), percent_rank(), cume_dist(), ntile(n), lag(x[, n[, default]]),
  /// lead(...), first_value(x), last_value(x), nth_value(x, n) as call(name, args), and
  /// the aggregates sum, avg, min, max, count; named by alias().
  ///   f.window({call("row_number", {}).alias("rn"), sum("v").alias("running")},
  ///            {.partition_by = {"k"}, .order_by = {"ts"}});
  Frame window(const std::vector<Expr>& functions, const struct WindowOver& over) const;
  /// The rows of both frames (same number of columns; types unified; names from this
  /// frame); `all` = false removes duplicate rows.
  Frame union_(const Frame& other, bool all = true) const;
  Frame union_all(const Frame& other) const { return union_(other, true); }
  Frame union_distinct(const Frame& other) const { return union_(other, false); }

  // ---- Actions (run the query) ------------------------------------------------------

  /// Runs the query and returns its rows (in order if the frame is sorted).
  Result<std::shared_ptr<arrow::Table>> collect() const;
  /// Number of rows.
  Result<int64_t> count() const;
  /// Writes the rows; returns the number of rows written.
  Result<int64_t> write_parquet(const std::string& path,
                                const WriteOptions& options = {}) const;
  Result<int64_t> write_csv(const std::string& path,
                            const WriteOptions& options = {}) const;
  /// JSON lines, one object per row.
  Result<int64_t> write_json(const std::string& path,
                             const WriteOptions& options = {}) const;
  /// Arrow IPC file format.
  Result<int64_t> write_arrow(const std::string& path,
                              const WriteOptions& options = {}) const;
  /// The logical, optimized and physical plans; with `analyze`, runs the query and
  /// returns the optimized plan annotated with rows, time and memory per operator.
  Result<std::string> explain(bool analyze = false) const;
  /// Runs the query and formats up to `max_rows` rows as a text table.
  Result<std::string> to_string(int64_t max_rows = 20) const;

 private:
  friend class Session;
  friend class GroupedFrame;
  Frame(std::shared_ptr<Session> session, plan::Plan plan);
  /// A frame over `plan` in this frame's session, or the error.
  Frame Wrap(Result<plan::Plan> plan) const;
  Result<int64_t> Write(const std::string& path, int format,
                        const WriteOptions& options) const;

  std::shared_ptr<Session> session_;
  plan::Plan plan_;
  Status status_;
};

/// The result of Frame::group_by; agg() makes the grouped frame.
class GroupedFrame {
 public:
  /// One row per distinct key combination: the keys, then one column per expression.
  /// Expressions are aggregates (sum("x").alias("total")) or scalar expressions over
  /// aggregates and keys (round(sum("x") / count(), 2)); a column used outside an
  /// aggregate must be a key.
  Frame agg(const std::vector<Expr>& aggregates) const;

 private:
  friend class Frame;
  GroupedFrame(Frame input, std::vector<Expr> keys)
      : input_(std::move(input)), keys_(std::move(keys)) {}
  Frame input_;
  std::vector<Expr> keys_;
};

}  // namespace sluice
