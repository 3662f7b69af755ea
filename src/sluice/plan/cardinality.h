#pragma once
// Cardinality estimates for the optimizer's choices (join order, build side) and for
// progress: textbook guesses over what the sources know (row counts, Parquet min/max of
// integer columns as distinct-value bounds). They only order alternatives; nothing
// depends on them for correctness.
#include <optional>

#include "sluice/plan/logical_plan.h"

namespace sluice::plan {

/// Estimated output rows of a plan. Scans: the source's count (else 10^6). Filters:
/// the product of their conjuncts' selectivities (= 0.1, a range bound 1/3, BETWEEN
/// 1/4, IN 0.1 per value up to 1/2, anything else 1/2; at least 1/100). Aggregates:
/// the product of their keys' distinct counts when known, else a tenth, never more than
/// the input. Joins on keys: |L| * |R| / max(ndv(l), ndv(r)) for the most selective key
/// pair, with distinct counts of the unfiltered columns, so a filter on the key side of
/// a key/foreign-key join carries through; semi joins keep the left rows whose key can
/// find a match, anti joins the others (at least a tenth); outer joins at least their
/// preserved sides. Without distinct counts a join gives its larger input.
double EstimateRows(const Plan& node);

/// The share of `input`'s rows that `predicate` (over input's columns) keeps, at least
/// 1 %: an equality with a constant keeps one of the column's distinct values when the
/// source knows them (an IN list one per item), else a tenth; ranges a third; a LIKE
/// with a fixed prefix a tenth; other terms a half; AND multiplies.
double EstimateSelectivity(const expr::Expr& predicate, const Plan& input);

/// An upper bound on the distinct values of output column `column` of `node` before
/// filters (filters, sorts and limits pass it through, projections of plain columns
/// and joins map it to their input, an aggregate's key columns are unique per group),
/// if the sources know it.
std::optional<double> EstimateDistinct(const Plan& node, int column);

/// What an equi-join key column is known to hold.
struct KeyStats {
  std::optional<double> distinct;  // EstimateDistinct
  /// Rows of the table the column comes from (through the same nodes as
  /// EstimateDistinct; an aggregate's output for its single group key).
  std::optional<double> table_rows;
  /// A key of its table: as many distinct values as rows.
  bool unique() const {
    return distinct && table_rows && *distinct >= *table_rows * 0.99;
  }
};
KeyStats EstimateKeyStats(const Plan& node, int column);

/// The divisor of |L| * |R| for an equi-join on columns with these stats: the larger
/// distinct count, unless a side is a key of its table, then that side's distinct count
/// (the smaller if both are): a foreign key's values are among the key's, so each row
/// finds at most one match and a filter on the key side carries through. (Distinct
/// counts from min/max overestimate foreign keys: l_orderkey spans 6 M values for 1.5 M
/// orders.) 0 when neither count is known.
double JoinKeyDivisor(const KeyStats& a, const KeyStats& b);

}  // namespace sluice::plan
