#include "sluice/expr/expr.h"

#include <fmt/format.h>

#include "sluice/expr/function_registry.h"

namespace sluice::expr {

static std::shared_ptr<ExprNode> NewNode(ExprKind kind) {
  auto n = std::make_shared<ExprNode>();
  n->kind = kind;
  return n;
}

Expr Column(std::string name, std::string qualifier) {
  auto n = NewNode(ExprKind::kColumn);
  n->name = std::move(name);
  n->qualifier = std::move(qualifier);
  return n;
}

Expr BoundColumn(int index, std::string name, std::shared_ptr<arrow::DataType> type) {
  auto n = NewNode(ExprKind::kColumn);
  n->name = std::move(name);
  n->index = index;
  n->type = std::move(type);
  return n;
}

Expr Literal(std::shared_ptr<arrow::Scalar> value) {
  auto n = NewNode(ExprKind::kLiteral);
  n->value = std::move(value);
  return n;
}

Expr Call(std::string name, std::vector<Expr> args) {
  auto n = NewNode(ExprKind::kCall);
  n->name = std::move(name);
  n->args = std::move(args);
  return n;
}

Expr Cast(Expr arg, std::shared_ptr<arrow::DataType> type, bool try_cast) {
  auto n = NewNode(ExprKind::kCall);
  n->name = try_cast ? "try_cast" : "cast";
  n->args = {std::move(arg)};
  n->target_type = std::move(type);
  return n;
}

Expr Aggregate(std::string name, std::vector<Expr> args, bool distinct,
               std::vector<std::shared_ptr<arrow::Scalar>> options) {
  auto n = NewNode(ExprKind::kAggregate);
  n->name = std::move(name);
  n->args = std::move(args);
  n->distinct = distinct;
  n->options = std::move(options);
  return n;
}

Expr Alias(Expr arg, std::string name) {
  auto n = NewNode(ExprKind::kAlias);
  n->name = std::move(name);
  n->args = {std::move(arg)};
  return n;
}

Expr StripAliases(Expr e) {
  while (e->kind == ExprKind::kAlias) e = e->args[0];
  return e;
}

Expr Star() { return NewNode(ExprKind::kStar); }

Expr WithPosition(const Expr& e, int position) {
  auto n = std::make_shared<ExprNode>(*e);
  n->position = position;
  return n;
}

static bool IsInfix(const std::string& name) {
  static const char* ops[] = {"+",  "-",  "*",    "/",     "%",        "=",
                              "<>", "<",  "<=",   ">",     ">=",       "and",
                              "or", "||", "like", "ilike", "not like", "not ilike"};
  for (const char* op : ops) {
    if (name == op) return true;
  }
  return false;
}

std::string ToString(const Expr& e) {
  switch (e->kind) {
    case ExprKind::kColumn:
      return e->qualifier.empty() ? e->name : e->qualifier + "." + e->name;
    case ExprKind::kLiteral: {
      if (!e->value || !e->value->is_valid) return "NULL";
      if (e->value->type->id() == arrow::Type::STRING ||
          e->value->type->id() == arrow::Type::LARGE_STRING) {
        return "'" + e->value->ToString() + "'";
      }
      return e->value->ToString();
    }
    case ExprKind::kStar:
      return "*";
    case ExprKind::kAlias:
      return ToString(e->args[0]) + " AS " + e->name;
    case ExprKind::kAggregate:
    case ExprKind::kCall: {
      if (e->kind == ExprKind::kCall) {
        if ((e->name == "cast" || e->name == "try_cast") && e->target_type) {
          return fmt::format("{}({} AS {})", e->name == "cast" ? "CAST" : "TRY_CAST",
                             ToString(e->args[0]), e->target_type->ToString());
        }
        if (e->args.size() == 2 && IsInfix(e->name)) {
          return fmt::format("({} {} {})", ToString(e->args[0]), e->name,
                             ToString(e->args[1]));
        }
        if (e->name == "not" && e->args.size() == 1)
          return "(NOT " + ToString(e->args[0]) + ")";
        if (e->name == "negate" && e->args.size() == 1)
          return "(-" + ToString(e->args[0]) + ")";
        if (e->name == "is_null") return "(" + ToString(e->args[0]) + " IS NULL)";
        if (e->name == "is_not_null") return "(" + ToString(e->args[0]) + " IS NOT NULL)";
      }
      std::string s = e->name + "(";
      if (e->distinct) s += "DISTINCT ";
      if (e->kind == ExprKind::kAggregate && e->args.empty()) s += "*";
      for (size_t i = 0; i < e->args.size(); ++i) {
        if (i > 0) s += ", ";
        s += ToString(e->args[i]);
      }
      for (const auto& opt : e->options) s += ", " + (opt ? opt->ToString() : "NULL");
      return s + ")";
    }
  }
  return "?";
}

std::string OutputName(const Expr& e) {
  if (e->kind == ExprKind::kAlias || e->kind == ExprKind::kColumn) return e->name;
  return ToString(e);
}

bool ContainsAggregate(const Expr& e) {
  if (e->kind == ExprKind::kAggregate) return true;
  for (const auto& a : e->args) {
    if (ContainsAggregate(a)) return true;
  }
  return false;
}

bool IsConstant(const Expr& e) {
  if (e->kind == ExprKind::kColumn || e->kind == ExprKind::kAggregate ||
      e->kind == ExprKind::kStar) {
    return false;
  }
  // Non-deterministic functions are never constant, nor user functions (Python UDFs:
  // nothing says they are deterministic, and they must run where the GIL can be had).
  if (e->kind == ExprKind::kCall &&
      (e->name == "random" || e->name == "now" || IsUserFunction(e->name)))
    return false;
  for (const auto& a : e->args) {
    if (!IsConstant(a)) return false;
  }
  return true;
}

bool IsDeterministic(const Expr& e) {
  if (e->kind == ExprKind::kCall && (e->name == "random" || e->name == "now"))
    return false;
  for (const auto& a : e->args) {
    if (!IsDeterministic(a)) return false;
  }
  return true;
}

bool Equals(const Expr& a, const Expr& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (a->kind != b->kind || a->name != b->name || a->distinct != b->distinct ||
      a->args.size() != b->args.size() || a->options.size() != b->options.size()) {
    return false;
  }
  if (a->kind == ExprKind::kColumn) {
    if (a->index >= 0 || b->index >= 0) return a->index == b->index;
    return a->qualifier == b->qualifier;
  }
  if (a->kind == ExprKind::kLiteral) {
    if (!a->value || !b->value) return a->value == b->value;
    return a->value->Equals(*b->value);
  }
  if ((a->target_type == nullptr) != (b->target_type == nullptr)) return false;
  if (a->target_type && !a->target_type->Equals(*b->target_type)) return false;
  for (size_t i = 0; i < a->args.size(); ++i) {
    if (!Equals(a->args[i], b->args[i])) return false;
  }
  for (size_t i = 0; i < a->options.size(); ++i) {
    if (!a->options[i]->Equals(*b->options[i])) return false;
  }
  return true;
}

void CollectColumns(const Expr& e, std::vector<int>* out) {
  if (e->kind == ExprKind::kColumn && e->index >= 0) out->push_back(e->index);
  for (const auto& a : e->args) CollectColumns(a, out);
}

Expr RemapColumns(const Expr& e, const std::vector<int>& mapping) {
  if (e->kind == ExprKind::kColumn) {
    if (e->index < 0) return e;
    auto n = std::make_shared<ExprNode>(*e);
    n->index = mapping[e->index];
    return n;
  }
  if (e->args.empty()) return e;
  auto n = std::make_shared<ExprNode>(*e);
  for (auto& a : n->args) a = RemapColumns(a, mapping);
  return n;
}

void SplitConjunction(const Expr& e, std::vector<Expr>* out) {
  if (e->kind == ExprKind::kCall && e->name == "and" && e->args.size() == 2) {
    SplitConjunction(e->args[0], out);
    SplitConjunction(e->args[1], out);
  } else {
    out->push_back(e);
  }
}

Expr MakeConjunction(const std::vector<Expr>& terms) {
  if (terms.empty()) return nullptr;
  Expr result = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    auto n = std::make_shared<ExprNode>();
    n->kind = ExprKind::kCall;
    n->name = "and";
    n->args = {result, terms[i]};
    n->type = arrow::boolean();
    if (!result->bound() || !terms[i]->bound()) n->type = nullptr;
    result = n;
  }
  return result;
}

}  // namespace sluice::expr
