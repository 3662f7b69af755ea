#include "sluice/plan/plan_builder.h"

#include <set>

#include "sluice/base/text.h"
#include "sluice/expr/aggregate_types.h"
#include "sluice/expr/binder.h"
#include "sluice/expr/function_registry.h"
#include "sluice/expr/types.h"

namespace sluice::plan {

using expr::Expr;
using expr::ExprKind;

Plan MakeScan(std::shared_ptr<TableSource> source) {
  auto n = std::make_shared<ScanNode>();
  n->schema = source->schema();
  for (int i = 0; i < n->schema->num_fields(); ++i) n->projection.push_back(i);
  n->source = std::move(source);
  return n;
}

Result<Plan> MakeFilter(Plan input, const Expr& predicate) {
  ARROW_ASSIGN_OR_RAISE(auto bound, expr::Bind(predicate, *input->schema));
  if (bound->type->id() == arrow::Type::NA) {
    ARROW_ASSIGN_OR_RAISE(bound, expr::CastTo(bound, arrow::boolean()));
  }
  if (bound->type->id() != arrow::Type::BOOL) {
    return Status::TypeError("filter condition must be boolean, got ",
                             expr::TypeName(*bound->type), ": ",
                             expr::ToString(predicate));
  }
  auto n = std::make_shared<FilterNode>();
  n->schema = input->schema;
  n->inputs = {std::move(input)};
  n->predicate = bound;
  return Plan(n);
}

static Expr StripAlias(const Expr& e) {
  return e->kind == ExprKind::kAlias ? e->args[0] : e;
}

Result<Plan> MakeProject(Plan input, const std::vector<Expr>& exprs) {
  auto n = std::make_shared<ProjectNode>();
  arrow::FieldVector fields;
  for (const auto& e : exprs) {
    if (e->kind == ExprKind::kStar) {
      for (int i = 0; i < input->schema->num_fields(); ++i) {
        const auto& f = input->schema->field(i);
        n->exprs.push_back(expr::BoundColumn(i, f->name(), f->type()));
        fields.push_back(f);
      }
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(auto bound, expr::Bind(e, *input->schema));
    std::string name = expr::OutputName(e);
    bound = StripAlias(bound);
    n->exprs.push_back(bound);
    fields.push_back(arrow::field(name, bound->type));
  }
  n->schema = arrow::schema(fields);
  n->inputs = {std::move(input)};
  return Plan(n);
}

Result<Plan> MakeWithColumns(Plan input, const std::vector<Expr>& exprs) {
  std::vector<Expr> all;
  for (int i = 0; i < input->schema->num_fields(); ++i) {
    all.push_back(expr::Alias(expr::BoundColumn(i, input->schema->field(i)->name(),
                                                input->schema->field(i)->type()),
                              input->schema->field(i)->name()));
  }
  for (const auto& e : exprs) {
    std::string name = expr::OutputName(e);
    bool replaced = false;
    for (auto& existing : all) {
      if (existing->name == name) {
        existing = expr::Alias(StripAlias(e), name);
        replaced = true;
      }
    }
    if (!replaced) all.push_back(expr::Alias(StripAlias(e), name));
  }
  return MakeProject(std::move(input), all);
}

Result<Plan> MakeAggregate(Plan input, const std::vector<Expr>& keys,
                           const std::vector<Expr>& aggregates) {
  auto n = std::make_shared<AggregateNode>();
  arrow::FieldVector fields;
  for (const auto& k : keys) {
    ARROW_ASSIGN_OR_RAISE(auto bound, expr::Bind(k, *input->schema));
    fields.push_back(arrow::field(expr::OutputName(k), bound->type));
    n->keys.push_back(StripAlias(bound));
  }
  for (const auto& a : aggregates) {
    Expr inner = StripAlias(a);
    if (inner->kind != ExprKind::kAggregate) {
      return Status::Invalid("not an aggregate: ", expr::ToString(a));
    }
    ARROW_ASSIGN_OR_RAISE(auto bound,
                          expr::Bind(inner, *input->schema, /*allow_aggregates=*/true));
    auto typed = std::make_shared<expr::ExprNode>(*bound);
    typed->name = expr::CanonicalAggregate(typed->name);
    auto type_result = expr::AggregateResultType(*typed);
    if (!type_result.ok()) {
      return type_result.status().WithMessage(type_result.status().message(), " in ",
                                              expr::ToString(a));
    }
    typed->type = *type_result;
    n->aggregates.push_back(typed);
    fields.push_back(arrow::field(expr::OutputName(a), typed->type));
  }
  n->schema = arrow::schema(fields);
  n->inputs = {std::move(input)};
  return Plan(n);
}

Result<Plan> MakeJoin(Plan left, Plan right, JoinType type,
                      const std::vector<Expr>& left_keys,
                      const std::vector<Expr>& right_keys, const Expr& condition) {
  if (left_keys.size() != right_keys.size()) {
    return Status::Invalid("join needs as many left keys as right keys");
  }
  auto n = std::make_shared<JoinNode>();
  n->type = type;
  for (size_t i = 0; i < left_keys.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto l, expr::Bind(left_keys[i], *left->schema));
    ARROW_ASSIGN_OR_RAISE(auto r, expr::Bind(right_keys[i], *right->schema));
    if (!l->type->Equals(*r->type)) {
      auto common = expr::CommonType(l->type, r->type);
      if (!common.ok()) {
        return Status::TypeError("cannot join ", expr::ToString(l), " (",
                                 expr::TypeName(*l->type), ") with ", expr::ToString(r),
                                 " (", expr::TypeName(*r->type), ")");
      }
      ARROW_ASSIGN_OR_RAISE(l, expr::CastTo(l, *common));
      ARROW_ASSIGN_OR_RAISE(r, expr::CastTo(r, *common));
    }
    n->left_keys.push_back(l);
    n->right_keys.push_back(r);
  }
  arrow::FieldVector both = left->schema->fields();
  for (const auto& f : right->schema->fields()) both.push_back(f);
  if (condition) {
    ARROW_ASSIGN_OR_RAISE(n->condition, expr::Bind(condition, *arrow::schema(both)));
    if (n->condition->type->id() != arrow::Type::BOOL) {
      return Status::TypeError("join condition must be boolean");
    }
  }
  arrow::FieldVector out;
  if (type == JoinType::kSemi || type == JoinType::kAnti) {
    out = left->schema->fields();
  } else {
    // Outer joins make the other side's columns nullable.
    for (const auto& f : left->schema->fields()) {
      out.push_back(type == JoinType::kRight || type == JoinType::kFull
                        ? f->WithNullable(true)
                        : f);
    }
    for (const auto& f : right->schema->fields()) {
      out.push_back(
          type == JoinType::kLeft || type == JoinType::kFull ? f->WithNullable(true) : f);
    }
  }
  n->schema = arrow::schema(out);
  n->inputs = {std::move(left), std::move(right)};
  return Plan(n);
}

Result<Plan> MakeSort(Plan input, std::vector<SortKey> keys) {
  for (auto& k : keys) {
    ARROW_ASSIGN_OR_RAISE(k.expr, expr::Bind(k.expr, *input->schema));
  }
  auto n = std::make_shared<SortNode>();
  n->schema = input->schema;
  n->keys = std::move(keys);
  n->inputs = {std::move(input)};
  return Plan(n);
}

Result<Plan> MakeLimit(Plan input, int64_t limit, int64_t offset) {
  if (offset < 0) return Status::Invalid("OFFSET must not be negative");
  auto n = std::make_shared<LimitNode>();
  n->schema = input->schema;
  n->limit = limit;
  n->offset = offset;
  n->inputs = {std::move(input)};
  return Plan(n);
}

Result<int64_t> DurationMicros(const arrow::Scalar& value, const std::string& what) {
  if (!value.is_valid) return Status::Invalid(what, " must not be NULL");
  constexpr int64_t kDay = 86'400'000'000LL;
  if (value.type->id() == arrow::Type::INTERVAL_MONTH_DAY_NANO) {
    const auto& v = static_cast<const arrow::MonthDayNanoIntervalScalar&>(value).value;
    if (v.months != 0) {
      return Status::Invalid(what,
                             " must be a fixed duration (days, hours, minutes, seconds): "
                             "months and years vary in length");
    }
    if (v.nanoseconds % 1000 != 0) {
      return Status::Invalid(what, " must be a whole number of microseconds");
    }
    return static_cast<int64_t>(v.days) * kDay + v.nanoseconds / 1000;
  }
  if (value.type->id() == arrow::Type::DURATION) {
    const auto& d = static_cast<const arrow::DurationScalar&>(value);
    auto unit = static_cast<const arrow::DurationType&>(*value.type).unit();
    switch (unit) {
      case arrow::TimeUnit::SECOND:
        return d.value * 1'000'000;
      case arrow::TimeUnit::MILLI:
        return d.value * 1000;
      case arrow::TimeUnit::MICRO:
        return d.value;
      case arrow::TimeUnit::NANO:
        if (d.value % 1000 != 0) {
          return Status::Invalid(what, " must be a whole number of microseconds");
        }
        return d.value / 1000;
    }
  }
  return Status::Invalid(what, " must be an INTERVAL, not ", value.type->ToString());
}

Result<Plan> MakeTimeWindow(Plan input, int column, TimeWindowKind kind, int64_t size_us,
                            int64_t slide_us, int64_t gap_us) {
  const std::string fn = AsciiUpper(TimeWindowKindName(kind));
  const auto& schema = *input->schema;
  if (column < 0 || column >= schema.num_fields()) {
    return Status::Invalid(fn, ": no time column ", column);
  }
  const std::string& time_column = schema.field(column)->name();
  const auto& type = schema.field(column)->type();
  if (type->id() != arrow::Type::TIMESTAMP) {
    return Status::Invalid(fn, ": the time column '", time_column,
                           "' must be a TIMESTAMP, not ", type->ToString());
  }
  auto positive = [&](int64_t v, const char* what) -> Status {
    if (v <= 0) return Status::Invalid(fn, ": the ", what, " must be positive");
    return Status::OK();
  };
  switch (kind) {
    case TimeWindowKind::kTumble:
      ARROW_RETURN_NOT_OK(positive(size_us, "window size"));
      break;
    case TimeWindowKind::kHop:
      ARROW_RETURN_NOT_OK(positive(slide_us, "slide"));
      ARROW_RETURN_NOT_OK(positive(size_us, "window size"));
      if (size_us % slide_us != 0) {
        return Status::Invalid(fn, ": the window size (", size_us,
                               "us) must be a multiple of the slide (", slide_us, "us)");
      }
      if (size_us / slide_us > kMaxHopWindows) {
        return Status::Invalid(fn, ": more than ", kMaxHopWindows,
                               " windows per row (size / slide)");
      }
      break;
    case TimeWindowKind::kSession:
      ARROW_RETURN_NOT_OK(positive(gap_us, "session gap"));
      break;
  }
  auto n = std::make_shared<TimeWindowNode>();
  n->window = kind;
  n->time_column = column;
  n->size_us = size_us;
  n->slide_us = slide_us;
  n->gap_us = gap_us;
  auto out_type = arrow::timestamp(
      arrow::TimeUnit::MICRO, static_cast<const arrow::TimestampType&>(*type).timezone());
  arrow::FieldVector fields = schema.fields();
  fields.push_back(arrow::field("window_start", out_type));
  fields.push_back(arrow::field("window_end", out_type));
  n->schema = arrow::schema(fields);
  n->inputs = {std::move(input)};
  return Plan(n);
}

Result<Plan> MakeDistinct(Plan input) {
  std::vector<Expr> keys;
  for (int i = 0; i < input->schema->num_fields(); ++i) {
    const auto& f = input->schema->field(i);
    keys.push_back(expr::Alias(expr::BoundColumn(i, f->name(), f->type()), f->name()));
  }
  return MakeAggregate(std::move(input), keys, {});
}

Result<Plan> MakeUnion(std::vector<Plan> inputs, bool all) {
  if (inputs.empty()) return Status::Invalid("UNION needs inputs");
  int ncols = inputs[0]->schema->num_fields();
  std::vector<std::shared_ptr<arrow::DataType>> types;
  for (int i = 0; i < ncols; ++i) types.push_back(inputs[0]->schema->field(i)->type());
  for (size_t k = 1; k < inputs.size(); ++k) {
    if (inputs[k]->schema->num_fields() != ncols) {
      return Status::Invalid("UNION inputs have different numbers of columns (", ncols,
                             " and ", inputs[k]->schema->num_fields(), ")");
    }
    for (int i = 0; i < ncols; ++i) {
      auto common = expr::CommonType(types[i], inputs[k]->schema->field(i)->type());
      if (!common.ok()) {
        return Status::TypeError("UNION column ", i + 1, " (",
                                 inputs[0]->schema->field(i)->name(),
                                 "): ", common.status().message());
      }
      types[i] = *common;
    }
  }
  arrow::FieldVector fields;
  for (int i = 0; i < ncols; ++i) {
    fields.push_back(arrow::field(inputs[0]->schema->field(i)->name(), types[i]));
  }
  auto schema = arrow::schema(fields);
  for (auto& in : inputs) {
    bool same = true;
    for (int i = 0; i < ncols; ++i)
      same = same && in->schema->field(i)->type()->Equals(*types[i]);
    if (same) continue;
    std::vector<Expr> casts;
    for (int i = 0; i < ncols; ++i) {
      const auto& f = in->schema->field(i);
      ARROW_ASSIGN_OR_RAISE(
          auto c, expr::CastTo(expr::BoundColumn(i, f->name(), f->type()), types[i]));
      casts.push_back(expr::Alias(c, fields[i]->name()));
    }
    ARROW_ASSIGN_OR_RAISE(in, MakeProject(in, casts));
  }
  auto n = std::make_shared<UnionNode>();
  n->all = true;
  n->schema = schema;
  n->inputs = std::move(inputs);
  if (all) return Plan(n);
  return MakeDistinct(n);
}

}  // namespace sluice::plan
