#pragma once
// Constructing logical plans with their schemas, binding expressions as it goes.
// Used by the C++ API (api/) and the SQL binder (sql/). All functions check their
// arguments and return user-facing errors.
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::plan {

Plan MakeScan(std::shared_ptr<TableSource> source);

/// Binds `predicate` (must be boolean) against input's schema.
Result<Plan> MakeFilter(Plan input, const expr::Expr& predicate);

/// Binds each expression; names come from aliases/column names (expr::OutputName).
/// `*` expands to all input columns.
Result<Plan> MakeProject(Plan input, const std::vector<expr::Expr>& exprs);

/// Appends or replaces columns (replaces when an alias matches an existing name).
Result<Plan> MakeWithColumns(Plan input, const std::vector<expr::Expr>& exprs);

/// keys: grouping expressions (output first); aggregates: Aggregate expressions,
/// possibly wrapped in Alias. Aggregates nested inside scalar expressions are not
/// allowed here (the SQL binder and API split them out first).
Result<Plan> MakeAggregate(Plan input, const std::vector<expr::Expr>& keys,
                           const std::vector<expr::Expr>& aggregates);

/// Equi-join on pairs of key expressions (left bound against left, right against
/// right) plus an optional extra condition over both sides' columns. Key pairs of
/// different types are cast to their common type.
Result<Plan> MakeJoin(Plan left, Plan right, JoinType type,
                      const std::vector<expr::Expr>& left_keys,
                      const std::vector<expr::Expr>& right_keys,
                      const expr::Expr& condition = nullptr);

Result<Plan> MakeSort(Plan input, std::vector<SortKey> keys);
Result<Plan> MakeLimit(Plan input, int64_t limit, int64_t offset = 0);
Result<Plan> MakeDistinct(Plan input);
/// Inputs must have the same number of columns; types are unified by casting.
Result<Plan> MakeUnion(std::vector<Plan> inputs, bool all);

/// Window functions over one (PARTITION BY, ORDER BY) specification (WindowNode in
/// logical_plan.h): binds the keys and every function's arguments against input's
/// schema, checks argument counts, constant arguments and frames, normalises frame
/// offsets, and types each function:
///   row_number rank dense_rank ntile(n) count(x) count_star()  -> int64
///   percent_rank cume_dist                                      -> float64
///   lag/lead(x [, offset [, default]]) first_value/last_value(x)
///   nth_value(x, n) min/max(x)                                  -> type of x
///   sum(x) avg(x)                 -> as the hash aggregate (expr/aggregate_types.h)
/// ntile's and nth_value's n must be positive integer constants; lag/lead's offset an
/// integer constant (default 1; negative looks the other way); the default (any
/// expression, evaluated on the current row; NULL when absent) is cast to x's type.
/// count with no arguments or with `*` is count_star. An empty output_name becomes
/// "name(args)". Frames follow PostgreSQL: no UNBOUNDED FOLLOWING start, no UNBOUNDED
/// PRECEDING end, no start after the end by kind (CURRENT ROW .. N PRECEDING), offsets
/// non-null and non-negative; RANGE with an offset needs exactly one ORDER BY key of a
/// numeric, date or timestamp type.
Result<Plan> MakeWindow(Plan input, std::vector<expr::Expr> partition_by,
                        std::vector<SortKey> order_by,
                        std::vector<WindowFunction> functions);

/// Event-time windows over column `time_column` of input (TimeWindowNode):
/// TUMBLE(size), HOP(slide, size) or SESSION(gap). The column must be a timestamp; the
/// durations positive, the hop's size a multiple of its slide, and no more than
/// kMaxHopWindows windows per row.
constexpr int64_t kMaxHopWindows = 1 << 16;
Result<Plan> MakeTimeWindow(Plan input, int time_column, TimeWindowKind kind,
                            int64_t size_us, int64_t slide_us, int64_t gap_us);

/// A fixed duration in microseconds: an INTERVAL of days, hours, ... (no months:
/// their length varies), or an integer/duration scalar. `what` names it in errors.
Result<int64_t> DurationMicros(const arrow::Scalar& value, const std::string& what);

}  // namespace sluice::plan
