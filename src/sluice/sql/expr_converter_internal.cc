#include "sluice/sql/expr_converter_internal.h"

#include <arrow/array/builder_base.h>
#include <arrow/array/util.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "sluice/base/text.h"
#include "sluice/expr/aggregate_types.h"
#include "sluice/expr/binder.h"
#include "sluice/expr/function_registry.h"
#include "sluice/expr/types.h"
#include "sluice/sql/literals_internal.h"
#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql::internal {

using expr::Expr;
using expr::ExprKind;

namespace {

Expr At(const Expr& e, int position) { return expr::WithPosition(e, position); }

Expr CallAt(std::string name, std::vector<Expr> args, int position) {
  return At(expr::Call(std::move(name), std::move(args)), position);
}

Expr Not(Expr e, int position) { return CallAt("not", {std::move(e)}, position); }

std::vector<std::string> Strings(const std::vector<PgNode>& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes) out.emplace_back(StringValue(n));
  return out;
}

// The operator of an A_Expr ("+", "~~", ...): the last part of its (qualified) name.
std::string OperatorName(const PgNode& a_expr) {
  auto names = a_expr.List("name");
  return names.empty() ? "" : std::string(StringValue(names.back()));
}

// A binary operator of the parse tree as a Call.
Result<Expr> BinaryOperator(const std::string& op, Expr l, Expr r, int position) {
  static const char* kDirect[] = {"+",  "-", "*",  "/", "%",  "=",
                                  "<>", "<", "<=", ">", ">=", "||"};
  for (const char* d : kDirect) {
    if (op == d) return CallAt(op, {std::move(l), std::move(r)}, position);
  }
  if (op == "~~") return CallAt("like", {l, r}, position);
  if (op == "!~~") return Not(CallAt("like", {l, r}, position), position);
  if (op == "~~*") return CallAt("ilike", {l, r}, position);
  if (op == "!~~*") return Not(CallAt("ilike", {l, r}, position), position);
  if (op == "~") return CallAt("regexp_matches", {l, r}, position);
  if (op == "!~") return Not(CallAt("regexp_matches", {l, r}, position), position);
  if (op == "^") return CallAt("pow", {l, r}, position);
  return NotSupported(position, "operator " + op);
}

Result<double> FractionValue(const Expr& e, const std::string& fn) {
  ARROW_ASSIGN_OR_RAISE(auto v,
                        ExprConverter::ConstantValue(e, "the fraction of " + fn + "()"));
  auto d = CastScalar(v, arrow::float64());
  if (!d.ok() || !v->is_valid) {
    return ErrorAt(e->position, fn, "(): the fraction must be a number");
  }
  double f = static_cast<const arrow::DoubleScalar&>(**d).value;
  if (!(f >= 0 && f <= 1)) {
    return ErrorAt(e->position, fn, "(): the fraction must be between 0 and 1, got ",
                   fmt::format("{}", f));
  }
  return f;
}

}  // namespace

Result<Expr> ExprConverter::Convert(const PgNode& node, const ExprContext& ctx) {
  const ExprContext* saved = ctx_;
  ctx_ = &ctx;
  auto r = ConvertNode(node, /*inside_aggregate=*/false);
  ctx_ = saved;
  return r;
}

Result<std::shared_ptr<arrow::Scalar>> ExprConverter::ConstantValue(
    const Expr& e, const std::string& what) {
  if (!expr::IsConstant(e)) return ErrorAt(e->position, what, " must be a constant");
  ARROW_ASSIGN_OR_RAISE(auto bound,
                        WithPosition(expr::Bind(e, arrow::Schema({})), e->position));
  ARROW_ASSIGN_OR_RAISE(auto folded,
                        WithPosition(expr::FoldConstants(bound), e->position));
  if (folded->kind != ExprKind::kLiteral) {
    return ErrorAt(e->position, what, " must be a constant");
  }
  return folded->value ? folded->value : arrow::MakeNullScalar(arrow::null());
}

Result<std::vector<Expr>> ExprConverter::ConvertList(const std::vector<PgNode>& nodes,
                                                     bool inside_aggregate) {
  std::vector<Expr> out;
  for (const auto& n : nodes) {
    ARROW_ASSIGN_OR_RAISE(auto e, ConvertNode(n, inside_aggregate));
    out.push_back(std::move(e));
  }
  return out;
}

Result<Expr> ExprConverter::ConvertNode(const PgNode& n, bool inside_aggregate) {
  if (!n) return Status::Invalid("internal: missing expression in the parse tree");
  int pos = n.Location();
  if (n.Is("ColumnRef")) return ConvertColumnRef(n);
  if (n.Is("A_Const")) return ConvertConst(n);
  if (n.Is("TypeCast")) return ConvertTypeCast(n, inside_aggregate);
  if (n.Is("A_Expr")) return ConvertAExpr(n, inside_aggregate);
  if (n.Is("BoolExpr")) return ConvertBoolExpr(n, inside_aggregate);
  if (n.Is("CaseExpr")) return ConvertCase(n, inside_aggregate);
  if (n.Is("FuncCall")) return ConvertFuncCall(n, inside_aggregate);
  if (n.Is("A_ArrayExpr")) return ConvertArray(n, inside_aggregate);
  if (n.Is("NullTest")) {
    ARROW_ASSIGN_OR_RAISE(auto arg, ConvertNode(n.Node("arg"), inside_aggregate));
    bool is_not = n.String("nulltesttype") == "IS_NOT_NULL";
    return CallAt(is_not ? "is_not_null" : "is_null", {arg}, pos);
  }
  if (n.Is("BooleanTest")) {
    ARROW_ASSIGN_OR_RAISE(auto arg, ConvertNode(n.Node("arg"), inside_aggregate));
    std::string_view test = n.String("booltesttype");
    if (test == "IS_TRUE") return CallAt("is_true", {arg}, pos);
    if (test == "IS_NOT_TRUE") return Not(CallAt("is_true", {arg}, pos), pos);
    if (test == "IS_FALSE") return CallAt("is_true", {Not(arg, pos)}, pos);
    if (test == "IS_NOT_FALSE") return Not(CallAt("is_true", {Not(arg, pos)}, pos), pos);
    if (test == "IS_UNKNOWN") return CallAt("is_null", {arg}, pos);
    if (test == "IS_NOT_UNKNOWN") return CallAt("is_not_null", {arg}, pos);
    return NotSupported(pos, std::string(test));
  }
  if (n.Is("CoalesceExpr")) {
    ARROW_ASSIGN_OR_RAISE(auto args, ConvertList(n.List("args"), inside_aggregate));
    return CallAt("coalesce", std::move(args), pos);
  }
  if (n.Is("MinMaxExpr")) {
    ARROW_ASSIGN_OR_RAISE(auto args, ConvertList(n.List("args"), inside_aggregate));
    return CallAt(n.String("op") == "IS_LEAST" ? "least" : "greatest", std::move(args),
                  pos);
  }
  if (n.Is("SubLink")) return ConvertSubLink(n, inside_aggregate);
  if (n.Is("ParamRef")) return NotSupported(pos, "query parameters ($n)");
  if (n.Is("A_Indirection"))
    return NotSupported(n.Node("arg").Location(), "subscripts and field selection");
  if (n.Is("SQLValueFunction"))
    return NotSupported(pos, "CURRENT_DATE, CURRENT_TIMESTAMP and similar");
  if (n.Is("CollateClause")) return NotSupported(pos, "COLLATE");
  if (n.Is("RowExpr")) return NotSupported(pos, "row constructors");
  if (n.Is("GroupingFunc")) return NotSupported(pos, "GROUPING()");
  if (n.Is("NamedArgExpr")) return NotSupported(pos, "named arguments here");
  if (n.Is("A_Star")) return ErrorAt(pos, "'*' is not allowed here");
  return NotSupported(pos, "expression " + std::string(n.tag));
}

Result<Expr> ExprConverter::ConvertColumnRef(const PgNode& n) {
  int pos = n.Location();
  auto fields = n.List("fields");
  if (fields.empty()) return ErrorAt(pos, "internal: empty column reference");
  if (fields.back().Is("A_Star")) return ErrorAt(pos, "'*' is not allowed here");
  auto parts = Strings(fields);
  if (parts.size() > 2) {
    return NotSupported(pos, "column references with more than two parts");
  }
  std::string table = parts.size() == 2 ? parts[0] : "";
  const std::string& name = parts.back();
  std::string full = table.empty() ? name : table + "." + name;
  if (ctx_->scope == nullptr) {
    return ErrorAt(pos, "column references are not allowed in ", ctx_->clause, " (", full,
                   ")");
  }
  // A qualifier only the enclosing query knows names an outer column.
  CorrelationScope* corr = ctx_->correlation;
  if (!table.empty() && !ctx_->scope->HasTable(table) && corr != nullptr &&
      corr->outer != nullptr && corr->outer->HasTable(table)) {
    ARROW_ASSIGN_OR_RAISE(auto outer, OuterReference(table, name, pos));
    if (outer) return outer;
  }
  bool known_table = table.empty() || ctx_->scope->HasTable(table);
  const ScopeColumn* col = nullptr;
  if (known_table || corr == nullptr) {
    ARROW_ASSIGN_OR_RAISE(col, ctx_->scope->Find(table, name, pos));
  }
  if (col == nullptr) {
    ARROW_ASSIGN_OR_RAISE(auto outer, OuterReference(table, name, pos));
    if (outer) return outer;
    if (corr != nullptr) {
      for (const Scope* s : corr->unreachable) {
        bool there = table.empty() ? s->Find("", name, pos).ValueOr(nullptr) != nullptr
                                   : s->HasTable(table);
        if (there) {
          return NotSupported(pos, "a reference to '" + full +
                                       "' of a query further out than the enclosing one "
                                       "(or from a set operation or FROM subquery inside "
                                       "a subquery)");
        }
      }
      if (!known_table) {
        ARROW_ASSIGN_OR_RAISE(col, ctx_->scope->Find(table, name, pos));
      }
    }
  }
  if (col == nullptr) {
    return ErrorAt(pos, "unknown column '", full, "' (columns: ", ctx_->scope->Describe(),
                   ")");
  }
  auto c = std::make_shared<expr::ExprNode>(*expr::Column(col->name, table));
  c->index = col->index;
  c->position = pos;
  return Expr(c);
}

Result<Expr> ExprConverter::OuterReference(const std::string& table,
                                           const std::string& name, int pos) {
  CorrelationScope* corr = ctx_->correlation;
  if (corr == nullptr || corr->outer == nullptr) return Expr(nullptr);
  if (!table.empty() && !corr->outer->HasTable(table)) return Expr(nullptr);
  ARROW_ASSIGN_OR_RAISE(const ScopeColumn* col, corr->outer->Find(table, name, pos));
  if (col == nullptr) return Expr(nullptr);
  std::string full = table.empty() ? name : table + "." + name;
  if (!corr->allowed) {
    return NotSupported(pos, "a reference to the enclosing query ('" + full + "') in " +
                                 ctx_->clause + " of a subquery (only in its WHERE)");
  }
  auto& refs = corr->outer_index;
  auto it = std::find(refs.begin(), refs.end(), col->index);
  int k = static_cast<int>(it - refs.begin());
  if (it == refs.end()) refs.push_back(col->index);
  auto c = std::make_shared<expr::ExprNode>(*expr::Column(col->name, table));
  c->index = corr->base + k;
  c->position = pos;
  return Expr(c);
}

Result<Expr> ExprConverter::ConvertSubLink(const PgNode& n, bool inside_aggregate) {
  int pos = n.Location();
  if (ctx_->subqueries == nullptr || ctx_->subqueries->counter == nullptr) {
    return NotSupported(pos, "subqueries in " + ctx_->clause);
  }
  if (inside_aggregate) return NotSupported(pos, "subqueries inside aggregate functions");
  PendingSubquery p;
  p.select = n.Node("subselect");
  p.position = pos;
  std::string_view type = n.String("subLinkType");
  auto names = n.List("operName");
  std::string op = names.empty() ? "=" : std::string(StringValue(names.back()));
  bool negate = false;
  if (type == "EXISTS_SUBLINK") {
    p.kind = SubqueryKind::kExists;
  } else if (type == "EXPR_SUBLINK") {
    p.kind = SubqueryKind::kScalar;
  } else if ((type == "ANY_SUBLINK" && op == "=") ||
             (type == "ALL_SUBLINK" && (op == "<>" || op == "!="))) {
    // x IN (...) = x = ANY (...); x <> ALL (...) = NOT (x IN (...)).
    p.kind = SubqueryKind::kIn;
    negate = type == "ALL_SUBLINK";
    PgNode test = n.Node("testexpr");
    if (test.Is("RowExpr")) return NotSupported(pos, "IN with a row of several values");
    ARROW_ASSIGN_OR_RAISE(p.test, ConvertNode(test, inside_aggregate));
  } else if (type == "ANY_SUBLINK" || type == "ALL_SUBLINK") {
    return NotSupported(pos, (type == "ANY_SUBLINK" ? "ANY" : "ALL") +
                                 std::string(" (subquery) with operator ") + op);
  } else {
    return NotSupported(pos, "this kind of subquery (" + std::string(type) + ")");
  }
  p.name = "__subquery_" + std::to_string((*ctx_->subqueries->counter)++);
  Expr placeholder = SubqueryPlaceholder(p.name, pos);
  ctx_->subqueries->items.push_back(std::move(p));
  return negate ? Not(placeholder, pos) : placeholder;
}

Result<Expr> ExprConverter::ConvertWindow(const PgNode& n, std::string name,
                                          bool inside_aggregate) {
  int pos = n.Location();
  if (ctx_->windows == nullptr || ctx_->windows->counter == nullptr) {
    return ErrorAt(pos, "window functions are not allowed in ", ctx_->clause);
  }
  if (inside_aggregate) {
    return ErrorAt(pos, "window functions cannot be used inside aggregate functions");
  }
  PgNode over = n.Object("over");
  if (over.Has("name") || over.Has("refname")) {
    return NotSupported(pos, "named windows (WINDOW w AS ...)");
  }
  if (n.Bool("agg_distinct")) return NotSupported(pos, "DISTINCT in window functions");
  if (n.Has("agg_order"))
    return NotSupported(pos, "ORDER BY inside window function calls");
  if (n.Bool("agg_star") || (name == "count" && n.List("args").empty()))
    name = "count_star";
  static const char* kNames[] = {
      "row_number", "rank", "dense_rank",  "percent_rank", "cume_dist",  "ntile",
      "lag",        "lead", "first_value", "last_value",   "nth_value",  "sum",
      "avg",        "min",  "max",         "count",        "count_star", "mean"};
  bool known = false;
  for (const char* k : kNames) known = known || name == k;
  if (!known) {
    if (expr::IsAggregateFunction(name)) {
      return NotSupported(pos, name + "() as a window function");
    }
    return ErrorAt(pos, "unknown window function '", name, "'");
  }
  if (name == "mean") name = "avg";
  PendingWindow w;
  w.position = pos;
  w.function.name = name;
  for (const auto& a : n.List("args")) {
    if (a.Is("NamedArgExpr")) return NotSupported(a.Location(), "named arguments");
    ARROW_ASSIGN_OR_RAISE(auto e, ConvertNode(a, false));
    w.function.args.push_back(std::move(e));
  }
  ARROW_ASSIGN_OR_RAISE(w.partition_by, ConvertList(over.List("partitionClause"), false));
  std::string order_text;
  for (const auto& sort_by : over.List("orderClause")) {
    plan::SortKey key;
    ARROW_ASSIGN_OR_RAISE(key.expr, ConvertNode(sort_by.Node("node"), false));
    if (sort_by.Has("useOp")) return NotSupported(pos, "ORDER BY ... USING");
    key.ascending = sort_by.String("sortby_dir") != "SORTBY_DESC";
    std::string_view nulls = sort_by.String("sortby_nulls");
    key.nulls_first = nulls == "SORTBY_NULLS_FIRST"  ? true
                      : nulls == "SORTBY_NULLS_LAST" ? false
                                                     : !key.ascending;
    order_text += (order_text.empty() ? "" : ", ") + expr::ToString(key.expr) +
                  (key.ascending ? "" : " DESC");
    w.order_by.push_back(std::move(key));
  }
  // Frame options: PostgreSQL's FRAMEOPTION_* bits (parsenodes.h).
  enum : int64_t {
    kNonDefault = 0x1,
    kRange = 0x2,
    kRows = 0x4,
    kGroups = 0x8,
    kBetween = 0x10,
    kStartUnboundedPreceding = 0x20,
    kEndUnboundedPreceding = 0x40,
    kStartUnboundedFollowing = 0x80,
    kEndUnboundedFollowing = 0x100,
    kStartCurrentRow = 0x200,
    kEndCurrentRow = 0x400,
    kStartPreceding = 0x800,
    kEndPreceding = 0x1000,
    kStartFollowing = 0x2000,
    kEndFollowing = 0x4000,
    kExclude = 0x8000 | 0x10000 | 0x20000
  };
  int64_t opts = over.Int("frameOptions", 0);
  if (opts & kNonDefault) {
    if (opts & kGroups) return NotSupported(pos, "GROUPS frames");
    if (opts & kExclude) return NotSupported(pos, "EXCLUDE in frames");
    plan::WindowFrame& f = w.function.frame;
    f.is_default = false;
    f.unit = (opts & kRows) ? plan::FrameUnit::kRows : plan::FrameUnit::kRange;
    auto offset = [&](const char* key) -> Result<std::shared_ptr<arrow::Scalar>> {
      ARROW_ASSIGN_OR_RAISE(auto e, ConvertNode(over.Node(key), false));
      return ConstantValue(e, "a frame offset");
    };
    using K = plan::FrameBoundKind;
    if (opts & kStartUnboundedPreceding) {
      f.start = plan::FrameBound(K::kUnboundedPreceding);
    } else if (opts & kStartUnboundedFollowing) {
      f.start = plan::FrameBound(K::kUnboundedFollowing);
    } else if (opts & kStartCurrentRow) {
      f.start = plan::FrameBound(K::kCurrentRow);
    } else {
      ARROW_ASSIGN_OR_RAISE(auto v, offset("startOffset"));
      f.start =
          plan::FrameBound((opts & kStartPreceding) ? K::kPreceding : K::kFollowing, v);
    }
    if (!(opts & kBetween) || (opts & kEndCurrentRow)) {
      f.end = plan::FrameBound(K::kCurrentRow);
    } else if (opts & kEndUnboundedFollowing) {
      f.end = plan::FrameBound(K::kUnboundedFollowing);
    } else if (opts & kEndUnboundedPreceding) {
      f.end = plan::FrameBound(K::kUnboundedPreceding);
    } else {
      ARROW_ASSIGN_OR_RAISE(auto v, offset("endOffset"));
      f.end = plan::FrameBound((opts & kEndPreceding) ? K::kPreceding : K::kFollowing, v);
    }
  }
  // The column name when the call is a select item without an alias.
  std::string args_text;
  for (const auto& a : w.function.args) {
    args_text += (args_text.empty() ? "" : ", ") + expr::ToString(a);
  }
  std::string spec;
  for (const auto& p : w.partition_by) {
    spec += (spec.empty() ? "PARTITION BY " : ", ") + expr::ToString(p);
  }
  if (!order_text.empty()) spec += (spec.empty() ? "" : " ") + ("ORDER BY " + order_text);
  if (!w.function.frame.is_default) {
    spec += (spec.empty() ? "" : " ") + plan::DescribeFrame(w.function.frame);
  }
  w.function.output_name = (name == "count_star" ? std::string("count_star") : name) +
                           "(" + args_text + ") OVER (" + spec + ")";
  w.name = "__window_" + std::to_string((*ctx_->windows->counter)++);
  Expr placeholder = WindowPlaceholder(w.name, pos);
  ctx_->windows->items.push_back(std::move(w));
  return placeholder;
}

Result<Expr> ExprConverter::ConvertConst(const PgNode& n) {
  int pos = n.Location();
  std::shared_ptr<arrow::Scalar> value;
  if (n.Bool("isnull")) {
    value = arrow::MakeNullScalar(arrow::null());
  } else if (n.Has("ival")) {
    ARROW_ASSIGN_OR_RAISE(int64_t v, tree_.IntegerConstant(n));
    if (v >= INT32_MIN && v <= INT32_MAX) {
      value = arrow::MakeScalar(static_cast<int32_t>(v));
    } else {
      value = arrow::MakeScalar(v);
    }
  } else if (n.Has("fval")) {
    ARROW_ASSIGN_OR_RAISE(
        value, WithPosition(NumericLiteral(n.Object("fval").String("fval")), pos));
  } else if (n.Has("sval")) {
    value = arrow::MakeScalar(std::string(n.Object("sval").String("sval")));
  } else if (n.Has("boolval")) {
    value = arrow::MakeScalar(n.Object("boolval").Bool("boolval"));
  } else if (n.Has("bsval")) {
    return NotSupported(pos, "bit string constants");
  } else {
    return ErrorAt(pos, "internal: unknown kind of constant");
  }
  return At(expr::Literal(std::move(value)), pos);
}

Result<std::shared_ptr<arrow::DataType>> ExprConverter::ConvertType(
    const PgNode& type_name) {
  int pos = type_name.Location();
  if (type_name.Has("arrayBounds")) return NotSupported(pos, "array types");
  if (type_name.Bool("setof") || type_name.Bool("pct_type")) {
    return NotSupported(pos, "this type syntax");
  }
  auto names = Strings(type_name.List("names"));
  std::vector<int64_t> typmods;
  for (const auto& m : type_name.List("typmods")) {
    if (!m.Is("A_Const") || !m.Has("ival")) {
      return ErrorAt(m.Location() >= 0 ? m.Location() : pos,
                     "type modifiers must be integers");
    }
    ARROW_ASSIGN_OR_RAISE(int64_t v, tree_.IntegerConstant(m));
    typmods.push_back(v);
  }
  // FLOAT without a precision is a 4-byte float in DuckDB; the parser made it float8.
  bool bare_float = false;
  const std::string& sql = tree_.sql();
  if (pos >= 0 && static_cast<size_t>(pos) + 5 <= sql.size()) {
    std::string word = AsciiLower(sql.substr(pos, 5));
    size_t after = pos + 5;
    bare_float =
        word == "float" &&
        (after == sql.size() || !(std::isalnum(static_cast<unsigned char>(sql[after])) ||
                                  sql[after] == '_' || sql[after] == '('));
  }
  return WithPosition(TypeFromPgName(names, typmods, bare_float), pos);
}

Result<Expr> ExprConverter::ConvertTypeCast(const PgNode& n, bool inside_aggregate) {
  PgNode type_name = n.Object("typeName");
  int pos = n.Location() >= 0 ? n.Location() : type_name.Location();
  ARROW_ASSIGN_OR_RAISE(auto type, ConvertType(type_name));
  PgNode arg = n.Node("arg");
  if (type->id() == arrow::Type::INTERVAL_MONTH_DAY_NANO) {
    // Only constant intervals: INTERVAL '1 day', '3'::interval, INTERVAL '3' MONTH.
    if (arg.Is("A_Const") && arg.Bool("isnull")) {
      return At(expr::Literal(arrow::MakeNullScalar(type)), pos);
    }
    if (!arg.Is("A_Const") || !arg.Has("sval")) {
      return NotSupported(pos, "INTERVAL from anything but a string constant");
    }
    int64_t mask = -1;
    auto typmods = type_name.List("typmods");
    if (!typmods.empty()) {
      ARROW_ASSIGN_OR_RAISE(mask, tree_.IntegerConstant(typmods[0]));
    }
    ARROW_ASSIGN_OR_RAISE(
        auto v,
        WithPosition(IntervalLiteral(arg.Object("sval").String("sval"), mask), pos));
    return At(expr::Literal(v), pos);
  }
  ARROW_ASSIGN_OR_RAISE(auto value, ConvertNode(arg, inside_aggregate));
  if (value->kind == ExprKind::kLiteral) {
    // Typed literals (DATE '2025-01-01', '1.5'::double) are converted now so a bad
    // value is reported here, not when a batch first flows.
    ARROW_ASSIGN_OR_RAISE(auto lit, WithPosition(expr::CastTo(value, type), pos));
    auto plain = std::make_shared<expr::ExprNode>(*lit);
    plain->type = nullptr;  // stays unbound like every other converted node
    return At(Expr(plain), pos);
  }
  return At(expr::Cast(value, type), pos);
}

Result<Expr> ExprConverter::ConvertAExpr(const PgNode& n, bool inside_aggregate) {
  int pos = n.Location();
  std::string_view kind = n.String("kind");
  if (kind.empty()) kind = "AEXPR_OP";
  std::string op = OperatorName(n);
  PgNode lexpr = n.Node("lexpr");
  PgNode rexpr = n.Node("rexpr");
  if (kind == "AEXPR_OP") {
    if (!lexpr) {
      ARROW_ASSIGN_OR_RAISE(auto r, ConvertNode(rexpr, inside_aggregate));
      if (op == "-") return CallAt("negate", {r}, pos);
      if (op == "+") return r;
      return NotSupported(pos, "prefix operator " + op);
    }
    ARROW_ASSIGN_OR_RAISE(auto l, ConvertNode(lexpr, inside_aggregate));
    ARROW_ASSIGN_OR_RAISE(auto r, ConvertNode(rexpr, inside_aggregate));
    return BinaryOperator(op, l, r, pos);
  }
  if (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
    if (rexpr.Is("FuncCall")) return NotSupported(pos, "LIKE ... ESCAPE");
    ARROW_ASSIGN_OR_RAISE(auto l, ConvertNode(lexpr, inside_aggregate));
    ARROW_ASSIGN_OR_RAISE(auto r, ConvertNode(rexpr, inside_aggregate));
    return BinaryOperator(op, l, r, pos);
  }
  if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT" ||
      kind == "AEXPR_NULLIF") {
    ARROW_ASSIGN_OR_RAISE(auto l, ConvertNode(lexpr, inside_aggregate));
    ARROW_ASSIGN_OR_RAISE(auto r, ConvertNode(rexpr, inside_aggregate));
    if (kind == "AEXPR_NULLIF") return CallAt("nullif", {l, r}, pos);
    auto distinct = CallAt("is_distinct_from", {l, r}, pos);
    return kind == "AEXPR_DISTINCT" ? distinct : Not(distinct, pos);
  }
  if (kind == "AEXPR_IN") {
    if (!rexpr.Is("List")) return NotSupported(pos, "IN (subquery)");
    ARROW_ASSIGN_OR_RAISE(auto l, ConvertNode(lexpr, inside_aggregate));
    ARROW_ASSIGN_OR_RAISE(auto items, ConvertList(rexpr.List("items"), inside_aggregate));
    items.insert(items.begin(), l);
    auto in = CallAt("in", std::move(items), pos);
    return op == "<>" ? Not(in, pos) : in;
  }
  if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN") {
    auto bounds = rexpr.List("items");
    if (bounds.size() != 2) return ErrorAt(pos, "BETWEEN needs two bounds");
    ARROW_ASSIGN_OR_RAISE(auto x, ConvertNode(lexpr, inside_aggregate));
    ARROW_ASSIGN_OR_RAISE(auto lo, ConvertNode(bounds[0], inside_aggregate));
    ARROW_ASSIGN_OR_RAISE(auto hi, ConvertNode(bounds[1], inside_aggregate));
    auto between = CallAt("between", {x, lo, hi}, pos);
    return kind == "AEXPR_BETWEEN" ? between : Not(between, pos);
  }
  if (kind == "AEXPR_BETWEEN_SYM" || kind == "AEXPR_NOT_BETWEEN_SYM") {
    return NotSupported(pos, "BETWEEN SYMMETRIC");
  }
  if (kind == "AEXPR_OP_ANY" || kind == "AEXPR_OP_ALL")
    return NotSupported(pos, "ANY/ALL");
  if (kind == "AEXPR_SIMILAR") return NotSupported(pos, "SIMILAR TO");
  return NotSupported(pos, std::string(kind));
}

Result<Expr> ExprConverter::ConvertBoolExpr(const PgNode& n, bool inside_aggregate) {
  int pos = n.Location();
  ARROW_ASSIGN_OR_RAISE(auto args, ConvertList(n.List("args"), inside_aggregate));
  if (args.empty()) return ErrorAt(pos, "internal: empty boolean expression");
  std::string_view op = n.String("boolop");
  if (op == "NOT_EXPR") return Not(args[0], pos);
  const char* name = op == "OR_EXPR" ? "or" : "and";
  Expr result = args[0];
  for (size_t i = 1; i < args.size(); ++i) result = CallAt(name, {result, args[i]}, pos);
  return result;
}

Result<Expr> ExprConverter::ConvertCase(const PgNode& n, bool inside_aggregate) {
  int pos = n.Location();
  Expr subject;
  if (PgNode arg = n.Node("arg")) {
    ARROW_ASSIGN_OR_RAISE(subject, ConvertNode(arg, inside_aggregate));
  }
  // CASE x WHEN v THEN r ... becomes CASE WHEN x = v THEN r ...
  std::vector<Expr> args;
  for (const auto& when : n.List("args")) {
    ARROW_ASSIGN_OR_RAISE(auto cond, ConvertNode(when.Node("expr"), inside_aggregate));
    if (subject) cond = CallAt("=", {subject, cond}, when.Location());
    ARROW_ASSIGN_OR_RAISE(auto result,
                          ConvertNode(when.Node("result"), inside_aggregate));
    args.push_back(cond);
    args.push_back(result);
  }
  if (PgNode def = n.Node("defresult")) {
    ARROW_ASSIGN_OR_RAISE(auto e, ConvertNode(def, inside_aggregate));
    args.push_back(e);
  }
  return CallAt("case", std::move(args), pos);
}

Result<Expr> ExprConverter::ConvertArray(const PgNode& n, bool inside_aggregate) {
  int pos = n.Location();
  ARROW_ASSIGN_OR_RAISE(auto elements, ConvertList(n.List("elements"), inside_aggregate));
  std::vector<std::shared_ptr<arrow::Scalar>> values;
  std::shared_ptr<arrow::DataType> common = arrow::null();
  for (const auto& e : elements) {
    ARROW_ASSIGN_OR_RAISE(auto v, ConstantValue(e, "an ARRAY element"));
    ARROW_ASSIGN_OR_RAISE(common,
                          WithPosition(expr::CommonType(common, v->type), e->position));
    values.push_back(v);
  }
  std::unique_ptr<arrow::ArrayBuilder> builder;
  ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), common, &builder));
  for (size_t i = 0; i < values.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(
        auto cast, WithPosition(CastScalar(values[i], common), elements[i]->position));
    ARROW_RETURN_NOT_OK(builder->AppendScalar(*cast));
  }
  ARROW_ASSIGN_OR_RAISE(auto array, builder->Finish());
  return At(expr::Literal(std::make_shared<arrow::ListScalar>(array)), pos);
}

Result<Expr> ExprConverter::ConvertFuncCall(const PgNode& n, bool inside_aggregate) {
  int pos = n.Location();
  auto names = Strings(n.List("funcname"));
  std::string name;
  if (names.size() == 1) {
    name = AsciiLower(names[0]);
  } else if (names.size() == 2 && names[0] == "pg_catalog") {
    name = names[1];
  } else {
    return NotSupported(pos, "schema-qualified function names");
  }
  if (n.Has("agg_filter")) return NotSupported(pos, "FILTER (WHERE ...) on aggregates");
  if (n.Has("over")) return ConvertWindow(n, name, inside_aggregate);
  if (n.Bool("func_variadic")) return NotSupported(pos, "VARIADIC");
  if (name == "btrim") name = "trim";  // TRIM(BOTH FROM x)
  if (name == "mod") name = "%";       // MOD(a, b) is a % b
  if (expr::IsAggregateFunction(name) || n.Bool("agg_star") ||
      n.Bool("agg_within_group")) {
    return ConvertAggregate(n, name, inside_aggregate);
  }
  if (n.Bool("agg_distinct") || n.Has("agg_order")) {
    return ErrorAt(pos,
                   "DISTINCT and ORDER BY are only allowed in aggregate functions, not ",
                   name, "()");
  }
  std::vector<Expr> args;
  for (const auto& a : n.List("args")) {
    if (a.Is("NamedArgExpr"))
      return NotSupported(a.Location(), "named arguments in " + name + "()");
    ARROW_ASSIGN_OR_RAISE(auto e, ConvertNode(a, inside_aggregate));
    args.push_back(std::move(e));
  }
  const expr::FunctionDef* def = expr::FindFunction(name);
  if (def == nullptr) return ErrorAt(pos, "unknown function '", name, "'");
  int count = static_cast<int>(args.size());
  if (count < def->min_args || (def->max_args >= 0 && count > def->max_args)) {
    std::string expected =
        def->max_args < 0 ? "at least " + std::to_string(def->min_args)
        : def->min_args == def->max_args
            ? std::to_string(def->min_args)
            : std::to_string(def->min_args) + " to " + std::to_string(def->max_args);
    return ErrorAt(pos, name, "() takes ", expected, " arguments, got ", count);
  }
  return CallAt(name, std::move(args), pos);
}

Result<Expr> ExprConverter::ConvertAggregate(const PgNode& n, const std::string& name,
                                             bool inside_aggregate) {
  int pos = n.Location();
  if (!expr::IsAggregateFunction(name)) {
    return ErrorAt(pos, "unknown aggregate function '", name, "'");
  }
  if (!ctx_->allow_aggregates) {
    return ErrorAt(pos, "aggregate functions are not allowed in ", ctx_->clause);
  }
  if (inside_aggregate) return ErrorAt(pos, "aggregate function calls cannot be nested");
  bool distinct = n.Bool("agg_distinct");
  std::vector<Expr> args;
  for (const auto& a : n.List("args")) {
    if (a.Is("NamedArgExpr"))
      return NotSupported(a.Location(), "named arguments in " + name + "()");
    ARROW_ASSIGN_OR_RAISE(auto e, ConvertNode(a, /*inside_aggregate=*/true));
    args.push_back(std::move(e));
  }
  auto order = n.List("agg_order");
  if (n.Bool("agg_star") || (name == "count" && args.empty())) {
    if (name != "count") return ErrorAt(pos, name, "(*) is not allowed: only count(*)");
    return At(expr::Aggregate("count_star", {}), pos);
  }
  std::string canonical = expr::CanonicalAggregate(name);
  if (n.Bool("agg_within_group")) {
    // percentile_cont(0.9) WITHIN GROUP (ORDER BY x [DESC])
    if (canonical != "quantile")
      return NotSupported(pos, "WITHIN GROUP for " + name + "()");
    if (args.size() != 1 || order.size() != 1) {
      return ErrorAt(pos, name,
                     "() WITHIN GROUP needs one fraction and one ORDER BY key");
    }
    ARROW_ASSIGN_OR_RAISE(double fraction, FractionValue(args[0], name));
    PgNode key = order[0].Node("node");
    ARROW_ASSIGN_OR_RAISE(auto x, ConvertNode(key, /*inside_aggregate=*/true));
    if (order[0].String("sortby_dir") == "SORTBY_DESC") fraction = 1 - fraction;
    return At(expr::Aggregate("quantile", {x}, distinct, {arrow::MakeScalar(fraction)}),
              pos);
  }
  if (!order.empty()) return NotSupported(pos, "ORDER BY inside aggregate calls");
  if (canonical == "quantile") {
    // quantile(x, 0.9) / quantile_cont(x, 0.9), as DuckDB writes them.
    if (args.size() != 2)
      return ErrorAt(pos, name, "() takes 2 arguments (value, fraction)");
    ARROW_ASSIGN_OR_RAISE(double fraction, FractionValue(args[1], name));
    return At(
        expr::Aggregate("quantile", {args[0]}, distinct, {arrow::MakeScalar(fraction)}),
        pos);
  }
  if (canonical == "string_agg") {
    // The separator is a constant option (default ','), the only argument the value.
    if (args.empty() || args.size() > 2) {
      return ErrorAt(pos, "string_agg() takes 1 or 2 arguments (value, separator)");
    }
    std::shared_ptr<arrow::Scalar> sep = arrow::MakeScalar(std::string(","));
    if (args.size() == 2) {
      ARROW_ASSIGN_OR_RAISE(auto v,
                            ConstantValue(args[1], "the separator of string_agg()"));
      auto s = CastScalar(v, arrow::utf8());
      if (!s.ok() || !v->is_valid) {
        return ErrorAt(args[1]->position, "string_agg(): the separator must be a string");
      }
      sep = *s;
    }
    return At(expr::Aggregate(name, {args[0]}, distinct, {sep}), pos);
  }
  return At(expr::Aggregate(name, std::move(args), distinct), pos);
}

}  // namespace sluice::sql::internal
