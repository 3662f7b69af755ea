// Rule: every node keeps only the columns its consumers need, so scans decode only
// the columns a query uses. Works top-down with the set of required output columns;
// each node returns its rewritten self and a map from old to new column positions.
#include <algorithm>
#include <numeric>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

using expr::Expr;

struct Pruned {
  Plan node;
  std::vector<int> mapping;  // old output column -> new position, -1 if dropped
};

void Require(const Expr& e, std::vector<bool>* need) {
  std::vector<int> cols;
  expr::CollectColumns(e, &cols);
  for (int c : cols) (*need)[c] = true;
}

std::shared_ptr<arrow::Schema> Select(const arrow::Schema& s,
                                      const std::vector<int>& mapping) {
  arrow::FieldVector fields;
  for (int i = 0; i < s.num_fields(); ++i) {
    if (mapping[i] >= 0) fields.push_back(s.field(i));
  }
  return arrow::schema(fields);
}

std::vector<int> Identity(int n) {
  std::vector<int> m(n);
  std::iota(m.begin(), m.end(), 0);
  return m;
}

// `p` without the columns `need` does not ask for, which a filter kept for its own
// predicate: a projection drops them before the join above would carry them through.
Pruned DropUnneeded(Pruned p, const std::vector<bool>& need) {
  std::vector<int> keep;
  std::vector<int> mapping(p.mapping.size(), -1);
  bool extra = false;
  for (size_t i = 0; i < p.mapping.size(); ++i) {
    if (p.mapping[i] < 0) continue;
    if (!need[i]) {
      extra = true;
      continue;
    }
    mapping[i] = static_cast<int>(keep.size());
    keep.push_back(p.mapping[i]);
  }
  if (!extra || keep.empty()) return p;
  auto project = std::make_shared<ProjectNode>();
  arrow::FieldVector fields;
  for (int c : keep) {
    const auto& f = p.node->schema->field(c);
    project->exprs.push_back(expr::BoundColumn(c, f->name(), f->type()));
    fields.push_back(f);
  }
  project->schema = arrow::schema(std::move(fields));
  project->inputs = {p.node};
  return Pruned{project, mapping};
}

Result<Pruned> Prune(const Plan& node, std::vector<bool> need) {
  const int n_out = node->schema->num_fields();
  switch (node->kind) {
    case NodeKind::kScan: {
      auto scan = std::static_pointer_cast<ScanNode>(CopyNode(*node));
      // Predicates for pruning refer to scan outputs: keep their columns readable.
      std::vector<int> mapping(n_out, -1);
      std::vector<int> projection;
      for (int i = 0; i < n_out; ++i) {
        if (need[i]) {
          mapping[i] = static_cast<int>(projection.size());
          projection.push_back(scan->projection[i]);
        }
      }
      std::vector<Expr> preds;
      for (const auto& p : scan->pruning_predicates) {
        std::vector<int> cols;
        expr::CollectColumns(p, &cols);
        if (std::all_of(cols.begin(), cols.end(),
                        [&](int c) { return mapping[c] >= 0; })) {
          preds.push_back(expr::RemapColumns(p, mapping));
        }
      }
      scan->pruning_predicates = preds;
      scan->projection = projection;
      scan->schema = Select(*node->schema, mapping);
      return Pruned{scan, mapping};
    }
    case NodeKind::kFilter: {
      auto f = std::static_pointer_cast<FilterNode>(CopyNode(*node));
      Require(f->predicate, &need);
      ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], need));
      f->predicate = expr::RemapColumns(f->predicate, child.mapping);
      f->inputs = {child.node};
      f->schema = child.node->schema;
      return Pruned{f, child.mapping};
    }
    case NodeKind::kProject: {
      auto p = std::static_pointer_cast<ProjectNode>(CopyNode(*node));
      std::vector<bool> child_need(node->inputs[0]->schema->num_fields(), false);
      std::vector<int> mapping(n_out, -1);
      std::vector<Expr> kept;
      for (int i = 0; i < n_out; ++i) {
        if (!need[i]) continue;
        mapping[i] = static_cast<int>(kept.size());
        kept.push_back(p->exprs[i]);
        Require(p->exprs[i], &child_need);
      }
      ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], child_need));
      for (auto& e : kept) e = expr::RemapColumns(e, child.mapping);
      p->exprs = kept;
      p->inputs = {child.node};
      p->schema = Select(*node->schema, mapping);
      return Pruned{p, mapping};
    }
    case NodeKind::kAggregate: {
      auto a = std::static_pointer_cast<AggregateNode>(CopyNode(*node));
      std::vector<bool> child_need(node->inputs[0]->schema->num_fields(), false);
      for (const auto& k : a->keys) Require(k, &child_need);
      for (const auto& g : a->aggregates) Require(g, &child_need);
      ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], child_need));
      for (auto& k : a->keys) k = expr::RemapColumns(k, child.mapping);
      for (auto& g : a->aggregates) g = expr::RemapColumns(g, child.mapping);
      a->inputs = {child.node};
      return Pruned{a, Identity(n_out)};
    }
    case NodeKind::kJoin: {
      auto j = std::static_pointer_cast<JoinNode>(CopyNode(*node));
      const int nl = node->inputs[0]->schema->num_fields();
      const int nr = node->inputs[1]->schema->num_fields();
      std::vector<bool> ln(nl, false), rn(nr, false);
      bool left_only = j->type == JoinType::kSemi || j->type == JoinType::kAnti;
      for (int i = 0; i < n_out; ++i) {
        if (!need[i]) continue;
        if (i < nl) {
          ln[i] = true;
        } else {
          rn[i - nl] = true;
        }
      }
      for (const auto& k : j->left_keys) Require(k, &ln);
      for (const auto& k : j->right_keys) Require(k, &rn);
      if (j->condition) {
        std::vector<bool> both(nl + nr, false);
        Require(j->condition, &both);
        for (int i = 0; i < nl; ++i) ln[i] = ln[i] || both[i];
        for (int i = 0; i < nr; ++i) rn[i] = rn[i] || both[nl + i];
      }
      ARROW_ASSIGN_OR_RAISE(auto l, Prune(node->inputs[0], ln));
      ARROW_ASSIGN_OR_RAISE(auto r, Prune(node->inputs[1], rn));
      l = DropUnneeded(std::move(l), ln);
      r = DropUnneeded(std::move(r), rn);
      for (auto& k : j->left_keys) k = expr::RemapColumns(k, l.mapping);
      for (auto& k : j->right_keys) k = expr::RemapColumns(k, r.mapping);
      const int new_nl = l.node->schema->num_fields();
      std::vector<int> both_map(nl + nr, -1);
      for (int i = 0; i < nl; ++i) both_map[i] = l.mapping[i];
      for (int i = 0; i < nr; ++i)
        both_map[nl + i] = r.mapping[i] < 0 ? -1 : new_nl + r.mapping[i];
      if (j->condition) j->condition = expr::RemapColumns(j->condition, both_map);
      j->inputs = {l.node, r.node};
      std::vector<int> out_map = left_only ? l.mapping : both_map;
      arrow::FieldVector fields;
      for (int i = 0; i < n_out; ++i) {
        if (out_map[i] >= 0) fields.push_back(node->schema->field(i));
      }
      j->schema = arrow::schema(fields);
      return Pruned{j, out_map};
    }
    case NodeKind::kSort: {
      auto s = std::static_pointer_cast<SortNode>(CopyNode(*node));
      for (const auto& k : s->keys) Require(k.expr, &need);
      ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], need));
      for (auto& k : s->keys) k.expr = expr::RemapColumns(k.expr, child.mapping);
      s->inputs = {child.node};
      s->schema = child.node->schema;
      return Pruned{s, child.mapping};
    }
    case NodeKind::kLimit: {
      auto l = CopyNode(*node);
      ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], need));
      l->inputs = {child.node};
      l->schema = child.node->schema;
      return Pruned{l, child.mapping};
    }
    case NodeKind::kWindow: {
      // Keep the functions whose outputs are needed; a window with none left only
      // reorders rows, so it disappears.
      auto w = std::static_pointer_cast<WindowNode>(CopyNode(*node));
      const int n_in = node->inputs[0]->schema->num_fields();
      std::vector<bool> child_need(need.begin(), need.begin() + n_in);
      std::vector<WindowFunction> kept;
      arrow::FieldVector kept_fields;
      for (size_t f = 0; f < w->functions.size(); ++f) {
        if (!need[n_in + f]) continue;
        for (const auto& a : w->functions[f].args) Require(a, &child_need);
        kept.push_back(w->functions[f]);
        kept_fields.push_back(node->schema->field(n_in + static_cast<int>(f)));
      }
      if (kept.empty()) {
        ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], child_need));
        child.mapping.resize(n_out, -1);
        return child;
      }
      for (const auto& p : w->partition_by) Require(p, &child_need);
      for (const auto& k : w->order_by) Require(k.expr, &child_need);
      ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], child_need));
      for (auto& p : w->partition_by) p = expr::RemapColumns(p, child.mapping);
      for (auto& k : w->order_by) k.expr = expr::RemapColumns(k.expr, child.mapping);
      for (auto& f : kept) {
        for (auto& a : f.args) a = expr::RemapColumns(a, child.mapping);
      }
      const int new_in = child.node->schema->num_fields();
      std::vector<int> mapping(n_out, -1);
      for (int i = 0; i < n_in; ++i) mapping[i] = child.mapping[i];
      int next = new_in;
      for (size_t f = 0; f < w->functions.size(); ++f) {
        if (need[n_in + f]) mapping[n_in + f] = next++;
      }
      arrow::FieldVector fields = child.node->schema->fields();
      fields.insert(fields.end(), kept_fields.begin(), kept_fields.end());
      w->functions = std::move(kept);
      w->inputs = {child.node};
      w->schema = arrow::schema(fields);
      return Pruned{w, mapping};
    }
    case NodeKind::kTimeWindow: {
      // The time column stays (it places every row); window_start and window_end stay.
      auto w = std::static_pointer_cast<TimeWindowNode>(CopyNode(*node));
      const int n_in = node->inputs[0]->schema->num_fields();
      std::vector<bool> child_need(need.begin(), need.begin() + n_in);
      child_need[w->time_column] = true;
      ARROW_ASSIGN_OR_RAISE(auto child, Prune(node->inputs[0], child_need));
      w->time_column = child.mapping[w->time_column];
      const int new_in = child.node->schema->num_fields();
      std::vector<int> mapping(n_out, -1);
      for (int i = 0; i < n_in; ++i) mapping[i] = child.mapping[i];
      mapping[n_in] = new_in;
      mapping[n_in + 1] = new_in + 1;
      arrow::FieldVector fields = child.node->schema->fields();
      fields.push_back(node->schema->field(n_in));
      fields.push_back(node->schema->field(n_in + 1));
      w->inputs = {child.node};
      w->schema = arrow::schema(fields);
      return Pruned{w, mapping};
    }
    case NodeKind::kUnion: {
      // Every input must keep the same columns.
      auto u = CopyNode(*node);
      std::vector<int> mapping;
      for (auto& in : u->inputs) {
        ARROW_ASSIGN_OR_RAISE(auto child, Prune(in, need));
        // Some nodes (aggregates) keep outputs nobody needs: drop them here so that
        // every input has the same layout.
        bool extra = false;
        for (size_t i = 0; i < need.size(); ++i)
          extra = extra || (!need[i] && child.mapping[i] >= 0);
        if (extra) {
          auto p = std::make_shared<ProjectNode>();
          std::vector<int> narrowed(need.size(), -1);
          arrow::FieldVector fields;
          for (size_t i = 0; i < need.size(); ++i) {
            if (!need[i]) continue;
            const auto& f = child.node->schema->field(child.mapping[i]);
            narrowed[i] = static_cast<int>(p->exprs.size());
            p->exprs.push_back(expr::BoundColumn(child.mapping[i], f->name(), f->type()));
            fields.push_back(f);
          }
          p->schema = arrow::schema(fields);
          p->inputs = {child.node};
          child = Pruned{p, narrowed};
        }
        in = child.node;
        mapping = child.mapping;
      }
      u->schema = u->inputs[0]->schema;
      return Pruned{u, mapping};
    }
  }
  return Status::Invalid("internal: unknown node in PruneColumns");
}

}  // namespace

Result<Plan> PruneColumns(Plan root) {
  std::vector<bool> all(root->schema->num_fields(), true);
  ARROW_ASSIGN_OR_RAISE(auto pruned, Prune(root, all));
  return pruned.node;
}

}  // namespace sluice::plan
