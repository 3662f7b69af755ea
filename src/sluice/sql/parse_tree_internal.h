#pragma once
// Read access to libpg_query's JSON parse tree (PostgreSQL 15 raw parse nodes).
//
// The JSON has two shapes for a node:
//   - a generic Node field holds a one-key object naming the node type:
//       "whereClause": {"A_Expr": {"kind": "AEXPR_OP", ...}}
//   - a typed field (SelectStmt.larg, TypeCast.typeName, RangeVar.alias, ...) holds the
//     field object directly, without the type wrapper.
// PgNode covers both: `tag` is the type name ("" for a bare field object) and `fields`
// the object with the node's fields.
//
// Traps of libpg_query 15-4.0.0 handled here:
//   - fields equal to their default are omitted: "location" 0, false booleans, and
//     integer constants <= 0 (a negative or zero literal prints as "ival": {});
//     IntegerConstant() recovers the value from the query text.
//   - "location" is a byte offset into the query text; -1 means unknown.
//
// Lifetime: every PgNode points into the ParseTree that produced it and is valid while
// that tree lives. Not thread-safe; one tree per PlanQuery call.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::sql::internal {

struct PgNode {
  /// Node type ("SelectStmt", "A_Expr", ...); empty for a bare field object.
  std::string_view tag;
  simdjson::dom::object fields;
  bool valid = false;

  explicit operator bool() const { return valid; }
  bool Is(std::string_view t) const { return valid && tag == t; }

  /// A generic Node field ({"Type": {...}}); invalid when absent or JSON null.
  PgNode Node(std::string_view key) const;
  /// A typed field (a bare object); invalid when absent.
  PgNode Object(std::string_view key) const;
  /// A list field; empty when absent. Elements are generic nodes.
  std::vector<PgNode> List(std::string_view key) const;
  /// A string field ("" when absent).
  std::string_view String(std::string_view key) const;
  /// An integer field (`def` when absent, as libpg_query omits defaults).
  int64_t Int(std::string_view key, int64_t def = 0) const;
  /// A boolean field (false when absent).
  bool Bool(std::string_view key) const;
  /// True when the field is present.
  bool Has(std::string_view key) const;
  /// This node's "location" (0 when omitted, -1 when unknown).
  int Location() const { return static_cast<int>(Int("location", 0)); }
};

/// Wraps a generic node element ({"Type": {...}}).
PgNode AsNode(simdjson::dom::element e);
/// Wraps a bare field object.
PgNode AsObject(simdjson::dom::element e);

/// The text of a String node ({"String": {"sval": "x"}}), "" otherwise.
std::string_view StringValue(const PgNode& n);

/// The result of parsing one SQL text.
class ParseTree {
 public:
  /// Parses `sql` with libpg_query. A syntax error is returned as Invalid with the
  /// position marker " [at N]" (see sql_error_internal.h).
  static Result<std::unique_ptr<ParseTree>> Parse(const std::string& sql);

  /// The RawStmt nodes (fields "stmt", "stmt_location", "stmt_len").
  const std::vector<PgNode>& statements() const { return statements_; }
  const std::string& sql() const { return sql_; }

  /// The value of an integer A_Const node, recovering omitted values (<= 0) from the
  /// query text at the node's location.
  Result<int64_t> IntegerConstant(const PgNode& a_const) const;

 private:
  ParseTree() = default;
  std::string sql_;
  simdjson::dom::parser parser_;
  std::vector<PgNode> statements_;
};

}  // namespace sluice::sql::internal
