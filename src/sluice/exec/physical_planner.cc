#include "sluice/exec/physical_planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "sluice/exec/exchange.h"
#include "sluice/exec/operators/filter_project.h"
#include "sluice/exec/operators/hash_aggregate.h"
#include "sluice/exec/operators/hash_join.h"
#include "sluice/exec/operators/limit.h"
#include "sluice/exec/operators/partition_top_k.h"
#include "sluice/exec/operators/sort.h"
#include "sluice/exec/operators/spool.h"
#include "sluice/exec/operators/stream_join.h"
#include "sluice/exec/operators/time_window.h"
#include "sluice/exec/operators/updating_aggregate.h"
#include "sluice/exec/operators/window.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/cardinality.h"

namespace sluice::exec {

namespace {

using plan::NodeKind;

bool IsStringLike(const arrow::DataType& t) {
  const auto id = t.id();
  return id == arrow::Type::STRING || id == arrow::Type::LARGE_STRING ||
         id == arrow::Type::BINARY || id == arrow::Type::LARGE_BINARY;
}

// The input columns an aggregate only groups by, as plain string or binary keys: the
// key index takes them dictionary-encoded (key_index.h, row_encoding.h).
std::vector<int> DictionaryKeyColumns(const plan::AggregateNode& n) {
  std::vector<int> other_uses;
  for (const auto& a : n.aggregates) expr::CollectColumns(a, &other_uses);
  std::vector<int> plain;
  for (const auto& k : n.keys) {
    const expr::Expr e = expr::StripAliases(k);
    if (e->kind == expr::ExprKind::kColumn) {
      if (IsStringLike(*e->type)) plain.push_back(e->index);
    } else {
      expr::CollectColumns(k, &other_uses);
    }
  }
  std::vector<int> out;
  for (int c : plain) {
    if (std::find(other_uses.begin(), other_uses.end(), c) == other_uses.end() &&
        std::find(out.begin(), out.end(), c) == out.end()) {
      out.push_back(c);
    }
  }
  return out;
}

// A pipeline whose sink is not known yet.
struct Partial {
  std::shared_ptr<Source> source;
  std::vector<std::shared_ptr<OperatorFactory>> operators;
};

// Where a pipeline's source may hand columns over dictionary-encoded: to a leading run
// of filters (which take any, and pass on to each other), and from there, or directly,
// to the sink when it takes `sink_columns` so (an aggregate's keys, a table kept in
// memory). A filter decodes what the operator after it does not take.
void UseDictionaries(const Partial& p, const std::vector<int>& sink_columns) {
  const auto& ops = p.operators;
  size_t filters = 0;
  while (filters < ops.size() && dynamic_cast<FilterFactory*>(ops[filters].get())) {
    ++filters;
  }
  if (filters == 0) {
    if (ops.empty() && !sink_columns.empty())
      p.source->AllowDictionaryColumns(sink_columns);
    return;
  }
  const int width = static_cast<FilterFactory*>(ops[0].get())->input_width();
  std::vector<int> all(width);
  for (int c = 0; c < width; ++c) all[c] = c;
  p.source->AllowDictionaryColumns(all);
  for (size_t i = 0; i < filters; ++i) {
    auto* f = static_cast<FilterFactory*>(ops[i].get());
    if (i + 1 < filters) {
      f->PassDictionaries(all);
    } else if (filters == ops.size()) {
      f->PassDictionaries(sink_columns);
    } else if (auto* project = dynamic_cast<ProjectFactory*>(ops[filters].get())) {
      // A projection after the filters: the columns it does not read need no decoding.
      std::vector<int> read, unread;
      for (const auto& e : project->exprs()) expr::CollectColumns(e, &read);
      for (int c : all) {
        if (std::find(read.begin(), read.end(), c) == read.end()) unread.push_back(c);
      }
      f->PassDictionaries(unread);
    }
  }
}

// The string and binary columns of `schema`.
std::vector<int> StringColumns(const arrow::Schema& schema) {
  std::vector<int> out;
  for (int i = 0; i < schema.num_fields(); ++i) {
    if (IsStringLike(*schema.field(i)->type())) out.push_back(i);
  }
  return out;
}

// Where column `c` of `node` comes from through filters and plain column projections:
// window_start (true) or window_end (false) of a TimeWindowNode, if it is one of those.
struct WindowColumn {
  const plan::TimeWindowNode* window;
  bool start;
};
std::optional<WindowColumn> TraceWindowColumn(const plan::Plan& node, int c) {
  switch (node->kind) {
    case NodeKind::kFilter:
      return TraceWindowColumn(node->inputs[0], c);
    case NodeKind::kProject: {
      const expr::Expr e =
          expr::StripAliases(static_cast<const plan::ProjectNode&>(*node).exprs[c]);
      if (e->kind != expr::ExprKind::kColumn) return std::nullopt;
      return TraceWindowColumn(node->inputs[0], e->index);
    }
    case NodeKind::kTimeWindow: {
      const auto& w = static_cast<const plan::TimeWindowNode&>(*node);
      if (c == w.start_column()) return WindowColumn{&w, true};
      if (c == w.end_column()) return WindowColumn{&w, false};
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// Whether any of `columns` (of `node`) is window_start/window_end of `window`.
bool ReadsWindowColumns(const plan::Plan& node, const std::vector<int>& columns,
                        const plan::TimeWindowNode* window) {
  for (int c : columns) {
    auto w = TraceWindowColumn(node, c);
    if (w && w->window == window) return true;
  }
  return false;
}

// Between an aggregate over windows and its TimeWindowNode, window_start/window_end
// reach the aggregate as they are: rows carry their pane there, not their window, so
// nothing may compute with them on the way.
Status CheckWindowPath(const plan::Plan& node, const plan::TimeWindowNode* window) {
  if (node.get() == window) return Status::OK();
  std::vector<int> cols;
  if (node->kind == NodeKind::kFilter) {
    expr::CollectColumns(static_cast<const plan::FilterNode&>(*node).predicate, &cols);
  } else if (node->kind == NodeKind::kProject) {
    for (const auto& e : static_cast<const plan::ProjectNode&>(*node).exprs) {
      if (expr::StripAliases(e)->kind != expr::ExprKind::kColumn) {
        expr::CollectColumns(e, &cols);
      }
    }
  }
  if (ReadsWindowColumns(node->inputs[0], cols, window)) {
    return Status::NotImplemented(
        "computing with window_start/window_end before the GROUP BY over the windows "
        "(group by them, then compute)");
  }
  return CheckWindowPath(node->inputs[0], window);
}

// Whether some source `node` scans satisfies `test`.
template <typename Test>
bool ReadsSource(const plan::Plan& node, const Test& test) {
  if (node->kind == NodeKind::kScan) {
    return test(*static_cast<const plan::ScanNode&>(*node).source);
  }
  for (const auto& in : node->inputs) {
    if (ReadsSource(in, test)) return true;
  }
  return false;
}

// Whether `node` reads a stream: a source with event time or without end. A join of
// two streams is a stream join (operators/stream_join.h); any other join builds a
// hash table of its bounded side.
bool ReadsStream(const plan::Plan& node) {
  return ReadsSource(node, [](const plan::TableSource& s) {
    return s.EventTimeColumn() >= 0 || s.Unbounded();
  });
}

// Whether `node` reads a source without end.
bool ReadsUnbounded(const plan::Plan& node) {
  return ReadsSource(node, [](const plan::TableSource& s) { return s.Unbounded(); });
}

// Whether an aggregate groups by window_start/window_end of a window below it.
bool GroupsByWindow(const plan::AggregateNode& n) {
  for (const auto& k : n.keys) {
    const expr::Expr e = expr::StripAliases(k);
    if (e->kind == expr::ExprKind::kColumn && TraceWindowColumn(n.inputs[0], e->index)) {
      return true;
    }
  }
  return false;
}

// An aggregate whose result updates: no window, an unbounded input.
bool IsUpdatingAggregate(const plan::Plan& node) {
  return node->kind == NodeKind::kAggregate &&
         !GroupsByWindow(static_cast<const plan::AggregateNode&>(*node)) &&
         ReadsUnbounded(node->inputs[0]);
}

// When `node`'s result updates (an updating aggregate, perhaps under projections): the
// columns that key its rows (-1 for a key a projection dropped). Nullopt when its rows
// are appended only; an error when an
// updating result feeds anything but a projection (a filter, join or aggregate over
// it would need retractions, not built).
Result<std::optional<std::vector<int>>> UpdatingKeys(const plan::Plan& node) {
  for (const auto& in : node->inputs) {
    ARROW_ASSIGN_OR_RAISE(auto below, UpdatingKeys(in));
    if (!below) continue;
    if (node->kind != NodeKind::kProject) {
      std::string what = plan::DescribeNode(*node);
      what = what.substr(0, what.find(' '));
      return Status::NotImplemented(
          what,
          " over an updating result (a GROUP BY without windows over an unbounded "
          "stream, whose rows change as rows arrive): only a projection may follow it; "
          "group by window_start/window_end of TUMBLE, HOP or SESSION for rows that are "
          "final");
    }
    const auto& p = static_cast<const plan::ProjectNode&>(*node);
    std::vector<int> keys;
    for (int k : *below) {
      int found = -1;
      for (size_t c = 0; c < p.exprs.size() && found < 0; ++c) {
        const expr::Expr e = expr::StripAliases(p.exprs[c]);
        if (e->kind == expr::ExprKind::kColumn && e->index == k)
          found = static_cast<int>(c);
      }
      keys.push_back(k < 0 ? -1 : found);  // -1: dropped (an error if it reaches a sink)
    }
    return std::optional<std::vector<int>>(std::move(keys));
  }
  if (IsUpdatingAggregate(node)) {
    std::vector<int> keys;
    const auto& n = static_cast<const plan::AggregateNode&>(*node);
    for (size_t k = 0; k < n.keys.size(); ++k) keys.push_back(static_cast<int>(k));
    return std::optional<std::vector<int>>(std::move(keys));
  }
  return std::nullopt;
}

// A comparison's operand as column + offset (microseconds), if it is one: a column,
// or a column plus or minus a constant interval.
struct TimeTerm {
  int column = -1;
  int64_t offset = 0;
};

std::optional<int64_t> IntervalMicros(const expr::Expr& e) {
  if (e->kind != expr::ExprKind::kLiteral || !e->value || !e->value->is_valid) {
    return std::nullopt;
  }
  if (e->value->type->id() == arrow::Type::INTERVAL_MONTH_DAY_NANO) {
    const auto v = static_cast<const arrow::MonthDayNanoIntervalScalar&>(*e->value).value;
    if (v.months != 0) return std::nullopt;
    return int64_t{v.days} * 86'400'000'000 + FloorDiv(v.nanoseconds, 1000);
  }
  if (e->value->type->id() == arrow::Type::DURATION) {
    const auto unit = static_cast<const arrow::DurationType&>(*e->value->type).unit();
    return TimestampMicros(static_cast<const arrow::DurationScalar&>(*e->value).value,
                           unit);
  }
  return std::nullopt;
}

std::optional<TimeTerm> AsTimeTerm(const expr::Expr& raw) {
  const expr::Expr e = expr::StripAliases(raw);
  if (e->kind == expr::ExprKind::kColumn) return TimeTerm{e->index, 0};
  if (e->kind != expr::ExprKind::kCall || e->args.size() != 2) return std::nullopt;
  if (e->name != "+" && e->name != "-") return std::nullopt;
  const expr::Expr a = expr::StripAliases(e->args[0]);
  const expr::Expr b = expr::StripAliases(e->args[1]);
  if (a->kind == expr::ExprKind::kColumn) {
    auto k = IntervalMicros(b);
    if (!k) return std::nullopt;
    return TimeTerm{a->index, e->name == "+" ? *k : -*k};
  }
  if (e->name == "+" && b->kind == expr::ExprKind::kColumn) {
    auto k = IntervalMicros(a);
    if (!k) return std::nullopt;
    return TimeTerm{b->index, *k};
  }
  return std::nullopt;
}

}  // namespace

bool IsTimeAttribute(const plan::Plan& node, int c) {
  switch (node->kind) {
    case NodeKind::kScan: {
      const auto& n = static_cast<const plan::ScanNode&>(*node);
      const int t = n.source->EventTimeColumn();
      return t >= 0 && c >= 0 && c < static_cast<int>(n.projection.size()) &&
             n.projection[c] == t;
    }
    case NodeKind::kFilter:
      return IsTimeAttribute(node->inputs[0], c);
    case NodeKind::kProject: {
      const expr::Expr e =
          expr::StripAliases(static_cast<const plan::ProjectNode&>(*node).exprs[c]);
      return e->kind == expr::ExprKind::kColumn &&
             IsTimeAttribute(node->inputs[0], e->index);
    }
    case NodeKind::kTimeWindow: {
      // window_end lies above the row's time; window_start may lie below it.
      const auto& w = static_cast<const plan::TimeWindowNode&>(*node);
      if (c == w.end_column()) return IsTimeAttribute(node->inputs[0], w.time_column);
      if (c < node->inputs[0]->schema->num_fields()) {
        return IsTimeAttribute(node->inputs[0], c);
      }
      return false;
    }
    case NodeKind::kAggregate: {
      // Over windows: window_start/window_end come out above the watermark it passes
      // on (time_window.h).
      const auto& n = static_cast<const plan::AggregateNode&>(*node);
      if (c >= static_cast<int>(n.keys.size())) return false;
      const expr::Expr e = expr::StripAliases(n.keys[c]);
      return e->kind == expr::ExprKind::kColumn &&
             TraceWindowColumn(node->inputs[0], e->index).has_value();
    }
    case NodeKind::kJoin: {
      const auto& n = static_cast<const plan::JoinNode&>(*node);
      if (!ReadsStream(n.inputs[0]) || !ReadsStream(n.inputs[1])) return false;
      const JoinTimeBounds b = FindJoinTimeBounds(n);
      if (!b.found || b.lo == std::numeric_limits<int64_t>::min() ||
          b.hi == std::numeric_limits<int64_t>::max()) {
        return false;
      }
      const int nl = n.inputs[0]->schema->num_fields();
      const bool semi =
          n.type == plan::JoinType::kSemi || n.type == plan::JoinType::kAnti;
      return c == b.left_column || (!semi && c == nl + b.right_column);
    }
    default:
      return false;
  }
}

JoinTimeBounds FindJoinTimeBounds(const plan::JoinNode& n) {
  const plan::Plan& left = n.inputs[0];
  const plan::Plan& right = n.inputs[1];
  const int nl = left->schema->num_fields();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // Bounds on right - left, by pair of time attribute columns.
  std::map<std::pair<int, int>, std::pair<int64_t, int64_t>> pairs;
  auto bound = [&](int l, int r, int64_t lo, int64_t hi) {
    auto [it, fresh] = pairs.emplace(std::make_pair(l, r), std::make_pair(kMin, kMax));
    it->second.first = std::max(it->second.first, lo);
    it->second.second = std::min(it->second.second, hi);
  };
  for (size_t i = 0; i < n.left_keys.size(); ++i) {
    const expr::Expr l = expr::StripAliases(n.left_keys[i]);
    const expr::Expr r = expr::StripAliases(n.right_keys[i]);
    if (l->kind == expr::ExprKind::kColumn && r->kind == expr::ExprKind::kColumn &&
        IsTimeAttribute(left, l->index) && IsTimeAttribute(right, r->index)) {
      bound(l->index, r->index, 0, 0);
    }
  }
  // `a op b` over left ++ right columns.
  auto compare = [&](const std::string& op, const expr::Expr& a_expr,
                     const expr::Expr& b_expr) {
    auto a = AsTimeTerm(a_expr);
    auto b = AsTimeTerm(b_expr);
    if (!a || !b) return;
    // a.col - b.col op b.offset - a.offset; as right - left.
    std::string o = op;
    int64_t k = b->offset - a->offset;
    int l, r;
    if (a->column >= nl && b->column < nl) {
      r = a->column - nl;
      l = b->column;
    } else if (a->column < nl && b->column >= nl) {
      l = a->column;
      r = b->column - nl;
      k = -k;
      o = op == ">=" ? "<=" : op == ">" ? "<" : op == "<=" ? ">=" : op == "<" ? ">" : op;
    } else {
      return;
    }
    if (!IsTimeAttribute(left, l) || !IsTimeAttribute(right, r)) return;
    // Strict comparisons bound as the others: the bounds only prune, the condition
    // decides (and is exact where the bounds are rounded).
    if (o == ">=" || o == ">") bound(l, r, k, kMax);
    if (o == "<=" || o == "<") bound(l, r, kMin, k);
    if (o == "=") bound(l, r, k, k);
  };
  std::vector<expr::Expr> terms;
  if (n.condition) expr::SplitConjunction(n.condition, &terms);
  for (const auto& t : terms) {
    const expr::Expr e = expr::StripAliases(t);
    if (e->kind != expr::ExprKind::kCall) continue;
    if (e->name == "between" && e->args.size() == 3) {
      compare(">=", e->args[0], e->args[1]);
      compare("<=", e->args[0], e->args[2]);
    } else if (e->args.size() == 2 &&
               (e->name == ">=" || e->name == ">" || e->name == "<=" || e->name == "<" ||
                e->name == "=")) {
      compare(e->name, e->args[0], e->args[1]);
    }
  }
  // The tightest pair: bounded on both ends first, then the narrowest.
  JoinTimeBounds best;
  auto width = [](int64_t lo, int64_t hi) {
    if (lo == kMin || hi == kMax) return std::numeric_limits<double>::infinity();
    return static_cast<double>(hi) - static_cast<double>(lo);
  };
  for (const auto& [cols, b] : pairs) {
    const int ends = (b.first != kMin) + (b.second != kMax);
    const int best_ends = best.found ? (best.lo != kMin) + (best.hi != kMax) : -1;
    if (ends == 0) continue;
    if (!best.found || ends > best_ends ||
        (ends == best_ends && width(b.first, b.second) < width(best.lo, best.hi))) {
      best = JoinTimeBounds{true, cols.first, cols.second, b.first, b.second};
    }
  }
  if (!best.found) return best;
  // Times are compared in whole microseconds (nanoseconds floored), and an interval
  // added to a coarser timestamp is cut to its unit: widen the bounds by the coarser
  // unit (at least 1 us) so that they never exclude a match the condition keeps.
  auto unit_us = [](const arrow::DataType& t) -> int64_t {
    switch (static_cast<const arrow::TimestampType&>(t).unit()) {
      case arrow::TimeUnit::SECOND:
        return 1'000'000;
      case arrow::TimeUnit::MILLI:
        return 1000;
      default:
        return 1;
    }
  };
  const int64_t slack =
      std::max(unit_us(*left->schema->field(best.left_column)->type()),
               unit_us(*right->schema->field(best.right_column)->type()));
  if (best.lo != kMin) best.lo = SaturatingAdd(best.lo, -slack);
  if (best.hi != kMax) best.hi = SaturatingAdd(best.hi, slack);
  return best;
}

namespace {

class Builder {
 public:
  // Marks the subtrees the plan reads twice that are spooled, computed once: joins (with
  // the filters and projections over them) of bounded input, estimated at most
  // kSpoolRows rows. A rewrite that restricts an aggregate by the other side of its
  // join (restrict_aggregates.cc) copies that side: TPC-H Q2 computed its partsupp,
  // supplier, nation, region and part join twice. The outermost copy is spooled; what
  // it contains is then not looked for again.
  static constexpr double kSpoolRows = 1e6;
  void FindShared(const plan::Plan& root) {
    std::vector<plan::Plan> seen;
    std::function<void(const plan::Plan&)> visit = [&](const plan::Plan& n) {
      if (Spoolable(n)) {
        for (const auto& s : seen) {
          if (plan::SameResult(s, n)) {
            if (std::find(shared_.begin(), shared_.end(), s) == shared_.end()) {
              shared_.push_back(s);
            }
            return;
          }
        }
        seen.push_back(n);
      }
      for (const auto& in : n->inputs) visit(in);
    };
    visit(root);
  }

  Result<std::vector<Partial>> Build(const plan::Plan& node) {
    for (const auto& s : shared_) {
      if (!plan::SameResult(s, node)) continue;
      for (const auto& [plan, spool] : spools_) {
        if (plan == s) {
          out_.reused.push_back(node->id);
          return std::vector<Partial>{Partial{spool, {}}};
        }
      }
      ARROW_ASSIGN_OR_RAISE(auto parts, BuildNode(node));
      auto spool = std::make_shared<SpoolSink>();
      spools_.emplace_back(s, spool);
      return BreakParts(std::move(parts), node, spool, spool);
    }
    return BuildNode(node);
  }

 private:
  static bool Spoolable(const plan::Plan& node) {
    using plan::NodeKind;
    if (node->kind != NodeKind::kJoin && node->kind != NodeKind::kFilter &&
        node->kind != NodeKind::kProject) {
      return false;
    }
    bool join = false, bounded = true;
    std::function<void(const plan::Plan&)> walk = [&](const plan::Plan& n) {
      join |= n->kind == NodeKind::kJoin;
      if (n->kind == NodeKind::kScan) {
        bounded &= !static_cast<const plan::ScanNode&>(*n).source->Unbounded();
      }
      for (const auto& in : n->inputs) walk(in);
    };
    walk(node);
    return join && bounded && plan::EstimateRows(node) <= kSpoolRows;
  }

 public:
  Result<std::vector<Partial>> BuildNode(const plan::Plan& node) {
    switch (node->kind) {
      case NodeKind::kScan:
        return BuildScan(static_cast<const plan::ScanNode&>(*node));
      case NodeKind::kFilter: {
        const auto& n = static_cast<const plan::FilterNode&>(*node);
        return Append(node, std::make_shared<FilterFactory>(
                                n.predicate, node->inputs[0]->schema->num_fields()));
      }
      case NodeKind::kProject: {
        const auto& n = static_cast<const plan::ProjectNode&>(*node);
        return Append(node, std::make_shared<ProjectFactory>(n.exprs, n.schema));
      }
      case NodeKind::kAggregate: {
        ARROW_ASSIGN_OR_RAISE(auto windowed, BuildWindowAggregate(node));
        if (windowed) return std::move(*windowed);
        if (IsUpdatingAggregate(node)) return BuildUpdatingAggregate(node);
        // An aggregate computed already (a CTE or view read twice): its result again.
        for (const auto& [plan, built] : aggregates_) {
          if (plan::SameResult(plan, node)) {
            out_.reused.push_back(node->id);
            return std::vector<Partial>{Partial{built, {}}};
          }
        }
        const auto& n = static_cast<const plan::AggregateNode&>(*node);
        auto agg = std::make_shared<HashAggregate>(n.keys, n.aggregates, n.schema,
                                                   n.inputs[0]->schema->num_fields());
        aggregates_.emplace_back(node, agg);
        ARROW_ASSIGN_OR_RAISE(auto parts, Build(node->inputs[0]));
        return BreakParts(std::move(parts), node, agg, agg, DictionaryKeyColumns(n));
      }
      case NodeKind::kSort: {
        const auto& n = static_cast<const plan::SortNode&>(*node);
        auto sort = std::make_shared<SortSink>(n.keys, n.limit, node->inputs[0]->schema);
        return Break(node, sort, sort);
      }
      case NodeKind::kLimit: {
        const auto& n = static_cast<const plan::LimitNode&>(*node);
        auto limit = std::make_shared<LimitSink>(n.limit, n.offset, n.schema);
        return Break(node, limit, limit);
      }
      case NodeKind::kUnion: {
        std::vector<Partial> all;
        for (const auto& in : node->inputs) {
          ARROW_ASSIGN_OR_RAISE(auto parts, Build(in));
          // Inputs may name their columns differently: give their batches the union's
          // schema so that sinks see one schema.
          if (!in->schema->Equals(*node->schema, /*check_metadata=*/false)) {
            std::vector<expr::Expr> cols;
            for (int i = 0; i < node->schema->num_fields(); ++i) {
              cols.push_back(expr::BoundColumn(i, node->schema->field(i)->name(),
                                               node->schema->field(i)->type()));
            }
            auto rename = std::make_shared<ProjectFactory>(cols, node->schema);
            Register(rename, node->id);
            for (auto& p : parts) p.operators.push_back(rename);
          }
          for (auto& p : parts) all.push_back(std::move(p));
        }
        return all;
      }
      case NodeKind::kJoin:
        return BuildJoin(node);
      case NodeKind::kTimeWindow: {
        const auto& n = static_cast<const plan::TimeWindowNode&>(*node);
        const bool panes = pane_windows_.count(&n) > 0;
        if (!panes && n.window == plan::TimeWindowKind::kSession) {
          return Status::NotImplemented(
              "SESSION windows without a GROUP BY window_start or window_end: sessions "
              "exist per key, so group by the key and the window");
        }
        return Append(node, std::make_shared<TimeWindowFactory>(Spec(n), n.time_column,
                                                                panes, n.schema));
      }
      case NodeKind::kWindow: {
        const auto& n = static_cast<const plan::WindowNode&>(*node);
        auto window = std::make_shared<WindowSink>(
            n.partition_by, n.order_by, n.functions, n.inputs[0]->schema, n.schema);
        if (n.top_per_partition <= 0) return Break(node, window, window);
        // Only each partition's first rows matter: cut the input to them first.
        auto top = std::make_shared<PartitionTopK>(
            n.partition_by, n.order_by[0], n.top_per_partition, n.inputs[0]->schema);
        ARROW_ASSIGN_OR_RAISE(auto cut, Break(node, top, top));
        return BreakParts(std::move(cut), node, window, window);
      }
    }
    return Status::Invalid("internal: unknown plan node");
  }

  // The pipelines of `parts` end in `sink`, which takes `sink_dictionaries` (columns of
  // its input) dictionary-encoded.
  Status Finish(std::vector<Partial> parts, std::shared_ptr<Sink> sink,
                const std::vector<int>& sink_dictionaries = {}) {
    for (auto& p : parts) {
      UseDictionaries(p, sink_dictionaries);
      if (!p.operators.empty()) {
        auto filter = std::dynamic_pointer_cast<FilterFactory>(p.operators[0]);
        if (filter && p.source->TakeFilter(filter))
          p.operators.erase(p.operators.begin());
      }
      if (!p.operators.empty()) {
        if (auto probe = std::dynamic_pointer_cast<HashJoinProbe>(p.operators[0])) {
          if (auto keys = probe->KeyFilter()) p.source->TakeKeyFilter(keys);
        }
      }
      for (auto& op : p.operators) op->AddPipeline();
      out_.pipelines.push_back(Pipeline{p.source, std::move(p.operators), sink});
    }
    return Status::OK();
  }

  PhysicalPlan Take() { return std::move(out_); }

  void Register(const std::shared_ptr<PhysicalNode>& node, int plan_id) {
    node->set_plan_id(plan_id);
    out_.nodes.push_back(node);
  }

 private:
  Result<std::vector<Partial>> BuildScan(const plan::ScanNode& n) {
    auto* scannable = dynamic_cast<const Scannable*>(n.source.get());
    if (scannable == nullptr) {
      return Status::Invalid("internal: source ", n.source->Describe(),
                             " cannot be scanned");
    }
    ARROW_ASSIGN_OR_RAISE(auto source,
                          scannable->MakeSource(n.projection, n.pruning_predicates));
    Register(source, n.id);
    return std::vector<Partial>{Partial{source, {}}};
  }

  Result<std::vector<Partial>> Append(const plan::Plan& node,
                                      std::shared_ptr<OperatorFactory> op) {
    ARROW_ASSIGN_OR_RAISE(auto parts, Build(node->inputs[0]));
    Register(op, node->id);
    for (auto& p : parts) p.operators.push_back(op);
    return parts;
  }

  // A breaker: the input's pipelines end in `sink`; a new pipeline starts at `source`.
  Result<std::vector<Partial>> Break(const plan::Plan& node, std::shared_ptr<Sink> sink,
                                     std::shared_ptr<Source> source) {
    ARROW_ASSIGN_OR_RAISE(auto parts, Build(node->inputs[0]));
    return BreakParts(std::move(parts), node, std::move(sink), std::move(source));
  }
  // Break over input pipelines built already.
  Result<std::vector<Partial>> BreakParts(
      std::vector<Partial> parts, const plan::Plan& node, std::shared_ptr<Sink> sink,
      std::shared_ptr<Source> source, const std::vector<int>& sink_dictionaries = {}) {
    Register(std::dynamic_pointer_cast<PhysicalNode>(sink), node->id);
    ARROW_RETURN_NOT_OK(Finish(std::move(parts), sink, sink_dictionaries));
    return std::vector<Partial>{Partial{source, {}}};
  }

  static TimeWindowSpec Spec(const plan::TimeWindowNode& n) {
    TimeWindowSpec spec;
    spec.kind = n.window;
    spec.size_us = n.size_us;
    spec.slide_us = n.slide_us;
    spec.gap_us = n.gap_us;
    spec.lateness_us = n.lateness_us;
    return spec;
  }

  // An aggregate grouping by window_start/window_end of a TimeWindowNode below it
  // (through filters and projections): a keyed exchange, then a WindowAggregate. Nullopt
  // for any other aggregate.
  Result<std::optional<std::vector<Partial>>> BuildWindowAggregate(
      const plan::Plan& node) {
    const auto& n = static_cast<const plan::AggregateNode&>(*node);
    const plan::Plan& input = node->inputs[0];
    const plan::TimeWindowNode* window = nullptr;
    std::vector<int> output_keys;
    std::vector<expr::Expr> other_keys;
    for (const auto& k : n.keys) {
      const expr::Expr e = expr::StripAliases(k);
      if (e->kind == expr::ExprKind::kColumn) {
        auto w = TraceWindowColumn(input, e->index);
        if (w && (window == nullptr || window == w->window)) {
          window = w->window;
          output_keys.push_back(w->start ? WindowAggregateFactory::kWindowStart
                                         : WindowAggregateFactory::kWindowEnd);
          continue;
        }
      }
      other_keys.push_back(e);
      output_keys.push_back(static_cast<int>(other_keys.size()) - 1);
    }
    if (window == nullptr) return std::nullopt;
    std::vector<int> cols;
    for (const auto& k : other_keys) expr::CollectColumns(k, &cols);
    for (const auto& a : n.aggregates) expr::CollectColumns(a, &cols);
    if (ReadsWindowColumns(input, cols, window)) {
      return Status::NotImplemented(
          "window_start/window_end in a grouping expression or an aggregate's argument "
          "of the GROUP BY over those windows");
    }
    ARROW_RETURN_NOT_OK(CheckWindowPath(input, window));
    pane_windows_.insert(window);
    ARROW_ASSIGN_OR_RAISE(auto parts, Build(input));
    auto exchange = std::make_shared<Exchange>(other_keys);
    Register(exchange, node->id);
    for (size_t i = 0; i < parts.size(); ++i) exchange->AddFeedingPipeline();
    ARROW_RETURN_NOT_OK(Finish(std::move(parts), exchange));
    auto [column, offset] = PaneColumn(input, *window);
    if (column < 0) return Status::Invalid("internal: the windows' columns were dropped");
    auto agg = std::make_shared<WindowAggregateFactory>(
        Spec(*window), column, offset, std::move(other_keys), std::move(output_keys),
        n.aggregates, n.schema);
    Register(agg, node->id);
    return std::vector<Partial>{Partial{exchange, {agg}}};
  }

  // A GROUP BY without windows over an unbounded input: a keyed exchange, then an
  // UpdatingAggregate emitting each touched key's new row after every batch.
  Result<std::vector<Partial>> BuildUpdatingAggregate(const plan::Plan& node) {
    const auto& n = static_cast<const plan::AggregateNode&>(*node);
    ARROW_RETURN_NOT_OK(UpdatingAggregateFactory::Check(n.aggregates));
    ARROW_ASSIGN_OR_RAISE(auto parts, Build(node->inputs[0]));
    auto exchange = std::make_shared<Exchange>(n.keys);
    Register(exchange, node->id);
    for (size_t i = 0; i < parts.size(); ++i) exchange->AddFeedingPipeline();
    ARROW_RETURN_NOT_OK(Finish(std::move(parts), exchange));
    auto agg = std::make_shared<UpdatingAggregateFactory>(n.keys, n.aggregates, n.schema);
    Register(agg, node->id);
    return std::vector<Partial>{Partial{exchange, {agg}}};
  }

  // The column of `node` from which a WindowAggregate reads each row's pane (where the
  // TimeWindowFactory in pane mode put it), and what to subtract from it: window_start
  // as it is, or window_end minus the pane's width when only that one is left.
  static std::pair<int, int64_t> PaneColumn(const plan::Plan& node,
                                            const plan::TimeWindowNode& window) {
    int end = -1;
    for (int c = 0; c < node->schema->num_fields(); ++c) {
      auto w = TraceWindowColumn(node, c);
      if (!w || w->window != &window) continue;
      if (w->start) return {c, 0};
      end = c;
    }
    const int64_t width = window.window == plan::TimeWindowKind::kTumble ? window.size_us
                          : window.window == plan::TimeWindowKind::kHop  ? window.slide_us
                                                                         : window.gap_us;
    return {end, width};
  }

  Result<std::vector<Partial>> BuildJoin(const plan::Plan& node) {
    const auto& n = static_cast<const plan::JoinNode&>(*node);
    const bool left_stream = ReadsStream(n.inputs[0]);
    const bool right_stream = ReadsStream(n.inputs[1]);
    if (left_stream && right_stream) return BuildStreamJoin(n);
    // A stream and a table: the table is built, the stream probes it (it cannot be
    // held whole, nor waited for to end).
    bool build_left = n.build_left;
    if (left_stream != right_stream) build_left = right_stream;
    plan::Plan probe_plan = n.inputs[0];
    plan::Plan build_plan = n.inputs[1];
    std::vector<expr::Expr> probe_keys = n.left_keys;
    std::vector<expr::Expr> build_keys = n.right_keys;
    plan::JoinType type = n.type;
    expr::Expr condition = n.condition;
    const int nl = n.inputs[0]->schema->num_fields();
    const int nr = n.inputs[1]->schema->num_fields();
    const bool semi_or_anti =
        type == plan::JoinType::kSemi || type == plan::JoinType::kAnti;
    // Building the left side: the right side probes, and candidate rows are right ++
    // left. Semi/anti joins then keep the build side's rows (hash_join.h); the other
    // joins flip left/right and a projection restores left ++ right.
    const bool swap = build_left && !semi_or_anti;
    const bool preserve_build = build_left && semi_or_anti;
    std::shared_ptr<arrow::Schema> probe_out = n.schema;
    if (build_left) {
      std::swap(probe_plan, build_plan);
      std::swap(probe_keys, build_keys);
      std::vector<int> mapping(nl + nr);
      for (int i = 0; i < nl; ++i) mapping[i] = nr + i;
      for (int i = 0; i < nr; ++i) mapping[nl + i] = i;
      if (condition) condition = expr::RemapColumns(condition, mapping);
    }
    if (swap) {
      if (type == plan::JoinType::kLeft) {
        type = plan::JoinType::kRight;
      } else if (type == plan::JoinType::kRight) {
        type = plan::JoinType::kLeft;
      }
      arrow::FieldVector swapped;
      for (int i = 0; i < nr; ++i) swapped.push_back(n.schema->field(nl + i));
      for (int i = 0; i < nl; ++i) swapped.push_back(n.schema->field(i));
      probe_out = arrow::schema(swapped);
    }
    auto build = std::make_shared<HashJoinBuild>(build_keys, build_plan->schema);
    ARROW_ASSIGN_OR_RAISE(auto build_parts, Build(build_plan));
    Register(build, n.id);
    ARROW_RETURN_NOT_OK(Finish(std::move(build_parts), build));
    ARROW_ASSIGN_OR_RAISE(auto parts, Build(probe_plan));
    auto probe =
        std::make_shared<HashJoinProbe>(build, type, probe_keys, condition,
                                        probe_plan->schema, probe_out, preserve_build);
    Register(probe, n.id);
    for (auto& p : parts) p.operators.push_back(probe);
    if (swap) {
      std::vector<expr::Expr> reorder;
      for (int i = 0; i < nl; ++i) {
        reorder.push_back(expr::BoundColumn(nr + i, n.schema->field(i)->name(),
                                            n.schema->field(i)->type()));
      }
      for (int i = 0; i < nr; ++i) {
        reorder.push_back(expr::BoundColumn(i, n.schema->field(nl + i)->name(),
                                            n.schema->field(nl + i)->type()));
      }
      auto project = std::make_shared<ProjectFactory>(reorder, n.schema);
      Register(project, n.id);
      for (auto& p : parts) p.operators.push_back(project);
    }
    return parts;
  }

  // Both inputs are streams: a stream join, both sides feeding one two-port exchange.
  Result<std::vector<Partial>> BuildStreamJoin(const plan::JoinNode& n) {
    StreamJoinSpec spec;
    spec.type = n.type;
    spec.left_keys = n.left_keys;
    spec.right_keys = n.right_keys;
    spec.condition = n.condition;
    spec.left_schema = n.inputs[0]->schema;
    spec.right_schema = n.inputs[1]->schema;
    spec.output_schema = n.schema;
    const JoinTimeBounds b = FindJoinTimeBounds(n);
    if (b.found) {
      spec.left_time = b.left_column;
      spec.right_time = b.right_column;
      spec.lo = b.lo;
      spec.hi = b.hi;
      constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
      constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
      spec.left_reach = b.hi == kMax ? kForever : b.hi;
      spec.right_reach = b.lo == kMin ? kForever : -b.lo;
      spec.drop_late_left = spec.right_reach != kForever;
      spec.drop_late_right = spec.left_reach != kForever;
      if (b.lo != kMin && b.hi != kMax) {
        spec.output_delay = std::max<int64_t>({0, b.hi, -b.lo});
      }
    } else {
      for (int c = 0; c < n.inputs[0]->schema->num_fields() && spec.ttl_left_time < 0;
           ++c) {
        if (IsTimeAttribute(n.inputs[0], c)) spec.ttl_left_time = c;
      }
      for (int c = 0; c < n.inputs[1]->schema->num_fields() && spec.ttl_right_time < 0;
           ++c) {
        if (IsTimeAttribute(n.inputs[1], c)) spec.ttl_right_time = c;
      }
    }
    auto join = std::make_shared<StreamJoin>(std::move(spec));
    const auto& exchange = join->exchange();
    for (int port = 0; port < 2; ++port) {
      ARROW_ASSIGN_OR_RAISE(auto parts, Build(n.inputs[port]));
      for (size_t i = 0; i < parts.size(); ++i) exchange->AddFeedingPipeline(port);
      auto sink = exchange->Port(port);
      Register(sink, n.id);
      ARROW_RETURN_NOT_OK(Finish(std::move(parts), sink));
    }
    Register(join, n.id);
    return std::vector<Partial>{Partial{join, {}}};
  }

  PhysicalPlan out_;
  // TimeWindowNodes whose rows an aggregate over windows reads: placed in panes.
  std::set<const plan::TimeWindowNode*> pane_windows_;
  // The aggregates built so far, by plan: a source may feed several pipelines.
  std::vector<std::pair<plan::Plan, std::shared_ptr<HashAggregate>>> aggregates_;
  // Subtrees read twice (FindShared), and the spools of those built so far.
  std::vector<plan::Plan> shared_;
  std::vector<std::pair<plan::Plan, std::shared_ptr<SpoolSink>>> spools_;
};

}  // namespace

Result<PhysicalPlan> BuildPhysicalPlan(const plan::Plan& root, std::shared_ptr<Sink> sink,
                                       bool sink_takes_dictionaries, bool for_display) {
  // An updating result goes only to a sink that takes upserts by its key.
  ARROW_ASSIGN_OR_RAISE(auto updating, UpdatingKeys(root));
  if (updating && !for_display) {
    if (std::find(updating->begin(), updating->end(), -1) != updating->end()) {
      return Status::NotImplemented(
          "an updating result (a GROUP BY without windows over an unbounded stream) "
          "without all its GROUP BY columns in the select list: keep them, they key "
          "the rows");
    }
    ARROW_RETURN_NOT_OK(sink->TakeUpdates(*updating));
  }
  Builder builder;
  builder.FindShared(root);
  ARROW_ASSIGN_OR_RAISE(auto parts, builder.Build(root));
  builder.Register(std::dynamic_pointer_cast<PhysicalNode>(sink), -1);
  ARROW_RETURN_NOT_OK(builder.Finish(
      std::move(parts), sink,
      sink_takes_dictionaries ? StringColumns(*root->schema) : std::vector<int>{}));
  return builder.Take();
}

Result<std::shared_ptr<arrow::Table>> ExecuteToTable(const plan::Plan& root,
                                                     ExecContext* ctx,
                                                     PhysicalPlan* physical,
                                                     TableStrings strings) {
  auto sink = std::make_shared<CollectSink>(root->schema, strings);
  ARROW_ASSIGN_OR_RAISE(auto pp,
                        BuildPhysicalPlan(root, sink, strings != TableStrings::kPlain));
  Executor executor(ctx);
  Status st = executor.Run(pp.pipelines);
  if (physical != nullptr) *physical = std::move(pp);
  ARROW_RETURN_NOT_OK(st);
  return sink->table();
}

static void ExplainInto(const plan::Plan& node,
                        const std::map<int, std::vector<PhysicalNode*>>& by_id,
                        const std::vector<int>& reused, int depth, std::string* out) {
  std::string line(depth * 2, ' ');
  line += plan::DescribeNode(*node);
  if (std::find(reused.begin(), reused.end(), node->id) != reused.end()) {
    // Its input was not run: the rows came from the same subtree computed elsewhere
    // (whose rows count both reads).
    out->append(line +
                "  [result of the same subtree elsewhere in this plan, read again]\n");
    return;
  }
  auto it = by_id.find(node->id);
  if (it != by_id.end()) {
    int64_t rows = 0, nanos = 0, peak = 0, spilled = 0;
    // The last physical node of a plan node produces its output rows.
    for (auto* p : it->second) {
      nanos += p->metrics().nanos.load();
      peak += p->metrics().peak_memory.load();
      spilled += p->metrics().spilled_bytes.load();
    }
    rows = it->second.back()->metrics().rows_out.load();
    line += fmt::format("  [rows={} time={:.3f}s mem={}", rows, nanos / 1e9,
                        FormatBytes(peak));
    if (spilled > 0) line += " spilled=" + FormatBytes(spilled);
    line += "]";
  }
  out->append(line);
  out->push_back('\n');
  for (const auto& in : node->inputs) ExplainInto(in, by_id, reused, depth + 1, out);
}

std::string ExplainAnalyze(const plan::Plan& root, const PhysicalPlan& physical) {
  std::map<int, std::vector<PhysicalNode*>> by_id;
  for (const auto& n : physical.nodes) by_id[n->plan_id()].push_back(n.get());
  std::string out;
  ExplainInto(root, by_id, physical.reused, 0, &out);
  return out;
}

}  // namespace sluice::exec
