#pragma once
// The names a query can refer to at one point of binding: the columns of the relation
// built so far (FROM items, joins), each with the table alias it came from and its
// index in the current plan's output schema.
//
// The scope's column order is the order of `*`, which may differ from the schema order
// (JOIN ... USING puts the merged key columns first, as PostgreSQL and DuckDB do).
#include <arrow/type.h>

#include <string>
#include <string_view>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::sql::internal {

struct ScopeColumn {
  std::string table;  // qualifier: the table alias ("" when the column has none)
  std::string name;
  int index = -1;  // into the current plan's output schema
  /// Expanded by an unqualified `*`.
  bool in_star = true;
  /// Reachable by its bare name. False for the two sides of a USING key: the bare name
  /// means the merged column.
  bool unqualified = true;
};

class Scope {
 public:
  /// One column per field, all qualified by `table`.
  static Scope FromSchema(const arrow::Schema& schema, const std::string& table);

  const std::vector<ScopeColumn>& columns() const { return columns_; }
  void Add(ScopeColumn c) { columns_.push_back(std::move(c)); }
  /// Appends `other`'s columns with their indices shifted by `index_offset`.
  void Append(const Scope& other, int index_offset);

  /// Resolves `[table.]name`: exact spelling first, then case-insensitively. Returns
  /// nullptr when no column has that name; an error (at `position`) when the name is
  /// ambiguous or `table` is not in scope.
  Result<const ScopeColumn*> Find(const std::string& table, const std::string& name,
                                  int position) const;

  /// The columns `*` (table empty) or `table.*` stands for; error if `table` is unknown.
  Result<std::vector<const ScopeColumn*>> Expand(const std::string& table,
                                                 int position) const;

  /// True if some column is qualified by `table` (case-insensitive).
  bool HasTable(const std::string& table) const;
  /// The distinct non-empty table qualifiers, in order.
  std::vector<std::string> Tables() const;

  /// "a, b, t.c" for error messages (at most 20 names).
  std::string Describe() const;

 private:
  std::vector<ScopeColumn> columns_;
};

}  // namespace sluice::sql::internal
