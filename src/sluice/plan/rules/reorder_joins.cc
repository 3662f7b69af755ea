// Rule: order a cluster of inner joins (with the filter above it) so that every join
// has a key when possible, largest input first.
//
// A cluster is a tree of inner joins whose leaves are any other nodes; its predicates
// are the filter's terms, the joins' key equalities and conditions. The new order is
// greedy: start with the largest leaf (it becomes the probe side all the way up), then
// repeatedly add, among the leaves an equality connects to those joined so far, the
// cheapest one: its probes (|S| rows, three times as dear when the leaf has more than
// kCacheResidentRows rows, its hash table then missing the caches) plus its estimated
// result, |S| * |C| / max(ndv(x), ndv(y)) for the most selective edge S.x = C.y, plus
// the same cost of the cheapest join after it (one step of lookahead); ties to the
// smaller leaf. Then a leaf linked to one other leaf only, that it shrinks, joins that
// leaf inside its build side (a bushy tree; ChooseOrder says when). Distinct counts come
// from the source (Parquet min/max of integer keys: c_nationkey has 25 values, so joining
// customer to supplier on it is seen to multiply rows), else the leaf's row estimate;
// single-leaf filter terms shrink a leaf's estimate by their selectivity (cardinality.h:
// p_size = 15 keeps one of its 50 values). A leaf nothing connects to
// (a true cross join) is added last, smallest first. The cluster is
// rebuilt as a left-deep chain of key-less joins under one filter holding every
// predicate and a projection restoring the column order; push_down_filters, which runs
// next, turns the equalities into join keys at the lowest join that has both sides.
// Clusters of two leaves are left as written (choose_build_side handles them).
// Equalities between plain columns make classes of equal columns (ColumnClasses); the
// equalities a class implies count as edges (TPC-H Q9: ps_partkey = p_partkey through
// l_partkey, so part joins partsupp inside its build side), and the rebuilt filter
// states each class as one equality per pair of columns adjacent in the new order.
#include <algorithm>
#include <optional>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

using expr::Expr;
using expr::ExprKind;

struct Leaf {
  Plan plan;
  int offset = 0;  // first column in the cluster's output
  int width = 0;
  double rows = 0;
};

struct Cluster {
  std::vector<Leaf> leaves;
  std::vector<Expr> predicates;  // over the cluster's output columns
  int width = 0;
};

bool IsInnerJoin(const Plan& p) {
  return p->kind == NodeKind::kJoin &&
         static_cast<const JoinNode&>(*p).type == JoinType::kInner;
}

Expr Shift(const Expr& e, int offset, int width) {
  if (offset == 0) return e;
  std::vector<int> map(width);
  for (int i = 0; i < width; ++i) map[i] = i + offset;
  return expr::RemapColumns(e, map);
}

Expr Equal(Expr a, Expr b) {
  auto n = std::make_shared<expr::ExprNode>();
  n->kind = ExprKind::kCall;
  n->name = "=";
  n->args = {std::move(a), std::move(b)};
  n->type = arrow::boolean();
  return n;
}

void Collect(const Plan& node, int offset, Cluster* c) {
  if (!IsInnerJoin(node)) {
    Leaf leaf;
    leaf.plan = node;
    leaf.offset = offset;
    leaf.width = node->schema->num_fields();
    leaf.rows = EstimateRows(node);
    c->leaves.push_back(std::move(leaf));
    return;
  }
  const auto& j = static_cast<const JoinNode&>(*node);
  int nl = node->inputs[0]->schema->num_fields();
  int nr = node->inputs[1]->schema->num_fields();
  Collect(node->inputs[0], offset, c);
  Collect(node->inputs[1], offset + nl, c);
  for (size_t i = 0; i < j.left_keys.size(); ++i) {
    c->predicates.push_back(Equal(Shift(j.left_keys[i], offset, nl),
                                  Shift(j.right_keys[i], offset + nl, nr)));
  }
  if (j.condition) c->predicates.push_back(Shift(j.condition, offset, nl + nr));
}

Result<Plan> Visit(const Plan& node);

// Equalities between plain columns of one type in different leaves make classes of
// equal columns: in an inner join cluster a = b and b = c imply a = c (a row with a
// NULL in any of them fails all three). Other equalities (over expressions, or casting
// one side) are left out.
struct ColumnClasses {
  std::vector<int> class_of;              // per cluster column: its class, or -1
  std::vector<std::vector<int>> members;  // per class: its columns, ascending
  std::vector<int> predicate_class;       // per predicate: the class it links, or -1
  std::vector<Expr> column;               // per cluster column in a class: as written
};

ColumnClasses FindClasses(const std::vector<Expr>& predicates,
                          const std::vector<int>& leaf_of_column) {
  const int width = static_cast<int>(leaf_of_column.size());
  std::vector<int> up(width);
  for (int i = 0; i < width; ++i) up[i] = i;
  auto root = [&](int x) {
    while (up[x] != x) x = up[x] = up[up[x]];
    return x;
  };
  std::vector<bool> linking(predicates.size(), false);
  std::vector<bool> in_class(width, false);
  std::vector<Expr> column(width);
  for (size_t i = 0; i < predicates.size(); ++i) {
    const Expr& p = predicates[i];
    if (p->kind != ExprKind::kCall || p->name != "=" || p->args.size() != 2) continue;
    const Expr& a = p->args[0];
    const Expr& b = p->args[1];
    if (a->kind != ExprKind::kColumn || b->kind != ExprKind::kColumn) continue;
    if (a->index < 0 || b->index < 0 || a->index >= width || b->index >= width) continue;
    if (leaf_of_column[a->index] == leaf_of_column[b->index]) continue;
    if (!a->type || !b->type || !a->type->Equals(*b->type)) continue;
    linking[i] = true;
    in_class[a->index] = in_class[b->index] = true;
    column[a->index] = a;
    column[b->index] = b;
    up[root(a->index)] = root(b->index);
  }
  ColumnClasses out;
  out.column = std::move(column);
  out.class_of.assign(width, -1);
  std::vector<int> class_of_root(width, -1);
  for (int col = 0; col < width; ++col) {
    if (!in_class[col]) continue;
    int& id = class_of_root[root(col)];
    if (id < 0) {
      id = static_cast<int>(out.members.size());
      out.members.emplace_back();
    }
    out.class_of[col] = id;
    out.members[id].push_back(col);
  }
  out.predicate_class.assign(predicates.size(), -1);
  for (size_t i = 0; i < predicates.size(); ++i) {
    if (linking[i]) out.predicate_class[i] = out.class_of[predicates[i]->args[0]->index];
  }
  return out;
}

std::vector<int> LeafOfColumn(const Cluster& c) {
  std::vector<int> leaf_of_column(c.width);
  for (int i = 0; i < static_cast<int>(c.leaves.size()); ++i) {
    for (int k = 0; k < c.leaves[i].width; ++k)
      leaf_of_column[c.leaves[i].offset + k] = i;
  }
  return leaf_of_column;
}

// The leaves (bit i = leaf i) a predicate uses.
uint64_t LeavesOf(const Expr& e, const std::vector<int>& leaf_of_column) {
  std::vector<int> cols;
  expr::CollectColumns(e, &cols);
  uint64_t mask = 0;
  for (int c : cols) mask |= uint64_t{1} << leaf_of_column[c];
  return mask;
}

struct Edge {
  int a = -1, b = -1;           // the two leaves
  double ndv_a = 0, ndv_b = 0;  // distinct values of each side
  double divisor = 1;           // of |S| * |C| (cardinality.h, JoinKeyDivisor)
  int cls = -1;                 // the class of equal columns it belongs to, or -1
};

// Leaves up to this many rows are taken to have a hash table that stays in the caches.
constexpr double kCacheResidentRows = 100000;

// The order of the chain's leaves, and for each leaf the leaf whose build side it is
// joined into (-1: it joins the chain itself).
struct Order {
  std::vector<int> leaves;
  std::vector<int> parent;
};

Order ChooseOrder(const Cluster& c, const std::vector<int>& leaf_of_column,
                  const ColumnClasses& classes) {
  const int n = static_cast<int>(c.leaves.size());
  std::vector<double> rows(n);
  for (int i = 0; i < n; ++i) rows[i] = std::max(1.0, c.leaves[i].rows);
  std::vector<uint64_t> links;  // leaf sets of equalities between leaves
  std::vector<int> link_class;  // per link: the class of columns it equates, or -1
  std::vector<Expr> equalities;
  std::vector<std::vector<Expr>> leaf_terms(n);  // single-leaf terms, over the leaf
  for (size_t pi = 0; pi < c.predicates.size(); ++pi) {
    const Expr& p = c.predicates[pi];
    uint64_t mask = LeavesOf(p, leaf_of_column);
    if (mask != 0 && (mask & (mask - 1)) == 0) {
      const Leaf& l = c.leaves[__builtin_ctzll(mask)];
      std::vector<int> map(c.width, -1);
      for (int k = 0; k < l.width; ++k) map[l.offset + k] = k;
      leaf_terms[__builtin_ctzll(mask)].push_back(expr::RemapColumns(p, map));
    } else if (p->kind == ExprKind::kCall && p->name == "=") {
      links.push_back(mask);
      link_class.push_back(classes.predicate_class[pi]);
      equalities.push_back(p);
    }
  }
  // The equalities the classes imply between leaves no written one links directly
  // (TPC-H Q9's ps_partkey = p_partkey, through l_partkey): the order may join such
  // leaves to each other first (Rebuild writes each class's equalities to suit it).
  std::vector<uint64_t> class_leaves(classes.members.size(), 0);
  for (size_t k = 0; k < classes.members.size(); ++k) {
    const auto& m = classes.members[k];
    for (int col : m) class_leaves[k] |= uint64_t{1} << leaf_of_column[col];
    for (size_t x = 0; x < m.size(); ++x) {
      for (size_t y = x + 1; y < m.size(); ++y) {
        const int lx = leaf_of_column[m[x]], ly = leaf_of_column[m[y]];
        const uint64_t mask = (uint64_t{1} << lx) | (uint64_t{1} << ly);
        if (lx == ly) continue;
        bool linked = false;
        for (size_t l = 0; l < links.size() && !linked; ++l) {
          linked = links[l] == mask && link_class[l] == static_cast<int>(k);
        }
        if (linked) continue;
        links.push_back(mask);
        link_class.push_back(static_cast<int>(k));
        equalities.push_back(Equal(classes.column[m[x]], classes.column[m[y]]));
      }
    }
  }
  // Filter terms on one leaf shrink its estimate (cardinality.h's selectivities).
  for (int i = 0; i < n; ++i) {
    if (leaf_terms[i].empty()) continue;
    const double kept =
        EstimateSelectivity(expr::MakeConjunction(leaf_terms[i]), c.leaves[i].plan);
    rows[i] = std::max(1.0, rows[i] * kept);
  }
  // Edges between two single leaves, with distinct-value estimates of both sides.
  std::vector<Edge> edges;
  auto side = [&](const Expr& e, int* leaf, double* ndv, KeyStats* stats) {
    uint64_t m = LeavesOf(e, leaf_of_column);
    if (m == 0 || (m & (m - 1)) != 0) return false;
    *leaf = __builtin_ctzll(m);
    *ndv = rows[*leaf];
    Expr x = e;
    while (x->kind == ExprKind::kCall && x->name == "cast") x = x->args[0];
    if (x->kind == ExprKind::kColumn) {
      const Leaf& l = c.leaves[*leaf];
      *stats = EstimateKeyStats(l.plan, x->index - l.offset);
      if (stats->distinct) *ndv = std::min(*ndv, *stats->distinct);
    }
    *ndv = std::max(1.0, *ndv);
    return true;
  };
  for (size_t k = 0; k < equalities.size(); ++k) {
    const Expr& p = equalities[k];
    Edge e;
    e.cls = link_class[k];
    KeyStats sa, sb;
    if (side(p->args[0], &e.a, &e.ndv_a, &sa) && side(p->args[1], &e.b, &e.ndv_b, &sb) &&
        e.a != e.b) {
      // A key of its table on one side (cardinality.h): its distinct count divides.
      e.divisor = (sa.unique() || sb.unique()) ? JoinKeyDivisor(sa, sb)
                                               : std::max(e.ndv_a, e.ndv_b);
      edges.push_back(e);
    }
  }
  std::vector<int> order;
  uint64_t joined = 0;
  double size = 0;
  int first = 0;
  for (int i = 1; i < n; ++i) {
    if (rows[i] > rows[first]) first = i;
  }
  std::vector<int> parent(n, -1);
  // Bushy build sides, decided before the order: a leaf whose every equality links it
  // to one other leaf D (not the first, which probes all the way up), and whose join
  // with D shrinks D, is joined to D inside D's build side, before the chain meets D
  // (whose rows are then those of the join, for the order): TPC-H Q11's German
  // suppliers (supplier with nation) are found before partsupp's 800 K rows probe
  // them, instead of after every partsupp row has met its supplier. Repeated, so a
  // chain of such leaves (Q2's region under nation under supplier) folds in turn.
  std::vector<uint64_t> neighbours(n, 0);
  for (uint64_t m : links) {
    if ((m & (m - 1)) == 0 || __builtin_popcountll(m) != 2) continue;
    const int a = __builtin_ctzll(m);
    const int b = 63 - __builtin_clzll(m);
    neighbours[a] |= uint64_t{1} << b;
    neighbours[b] |= uint64_t{1} << a;
  }
  // Multi-leaf equalities (over three leaves or more) pin their leaves to the chain.
  uint64_t pinned = uint64_t{1} << first;
  for (uint64_t m : links) {
    if (__builtin_popcountll(m) > 2) pinned |= m;
  }
  std::vector<uint64_t> folded(n, 0);  // leaves folded (directly) into each leaf
  for (bool changed = true; changed;) {
    changed = false;
    for (int x = 0; x < n; ++x) {
      if (parent[x] >= 0 || ((pinned >> x) & 1)) continue;
      const uint64_t others = neighbours[x] & ~folded[x];
      if (others == 0) continue;
      // D: the neighbour in whose build side x joins, among those x shrinks: first one
      // whose columns x's other links are implied through (Q9's part, linked to
      // lineitem and, through the class of l_partkey, to partsupp, joins partsupp);
      // else any (Q5's Asian customers join 1994's orders, their link to supplier's
      // nation key applying where the chain meets that build side); of those, the one
      // x shrinks most.
      int d = -1;
      bool d_covered = false;
      double joined_rows = 0;
      for (uint64_t rest = others; rest != 0; rest &= rest - 1) {
        const int y = __builtin_ctzll(rest);
        if (y == first) continue;
        // Not into a leaf folded (directly or through others) into x: a cycle would
        // leave its leaves out of the tree.
        bool below_x = false;
        for (int up = y; up >= 0 && !below_x; up = parent[up]) below_x = up == x;
        if (below_x) continue;
        bool covered = true;
        for (size_t l = 0; l < links.size() && covered; ++l) {
          const uint64_t m = links[l];
          if (__builtin_popcountll(m) != 2 || !((m >> x) & 1) || ((m >> y) & 1) ||
              (m & others) == 0) {
            continue;
          }
          covered = link_class[l] >= 0 && ((class_leaves[link_class[l]] >> y) & 1);
        }
        // Y's estimated rows once x has joined it.
        double divisor = 1;
        for (const auto& e : edges) {
          if ((e.a == x && e.b == y) || (e.a == y && e.b == x)) {
            divisor = std::max(divisor, e.divisor);
          }
        }
        const double joined = rows[y] * rows[x] / divisor;
        if (joined >= rows[y]) continue;
        if (d < 0 || (covered && !d_covered) ||
            (covered == d_covered && joined / rows[y] < joined_rows / rows[d])) {
          d = y;
          d_covered = covered;
          joined_rows = joined;
        }
      }
      if (d < 0) continue;
      parent[x] = d;
      folded[d] |= uint64_t{1} << x;
      rows[d] = std::max(1.0, joined_rows);
      changed = true;
    }
  }
  uint64_t satellites = 0;  // placed with their leaf, not in the chain's order
  for (int i = 0; i < n; ++i) {
    if (parent[i] >= 0) satellites |= uint64_t{1} << i;
  }
  order.push_back(first);
  joined |= uint64_t{1} << first;
  size = rows[first];
  // Joining leaf i to the leaves in `in` (of estimated size `size`): connected by an
  // equality, and the estimated result.
  auto step = [&](uint64_t in, double in_size, int i, bool* connected) {
    const uint64_t bit = uint64_t{1} << i;
    *connected = std::any_of(links.begin(), links.end(), [&](uint64_t m) {
      return (m & bit) && (m & in) && (m & ~(in | bit)) == 0;
    });
    // Edges of one class state one condition: the most selective counts. Those of
    // different classes (Q9's partkey and suppkey between lineitem and partsupp) each
    // divide, up to the larger side (the pair is about a key of one of them).
    std::vector<std::pair<int, double>> per_class;  // (class or -1 - edge, divisor)
    for (size_t k = 0; k < edges.size(); ++k) {
      const Edge& e = edges[k];
      bool a_in = (in >> e.a) & 1;
      bool b_in = (in >> e.b) & 1;
      if (!((e.a == i && b_in) || (e.b == i && a_in))) continue;
      const int id = e.cls >= 0 ? e.cls : -1 - static_cast<int>(k);
      auto it = std::find_if(per_class.begin(), per_class.end(),
                             [&](const auto& pc) { return pc.first == id; });
      if (it == per_class.end()) {
        per_class.emplace_back(id, e.divisor);
      } else {
        it->second = std::max(it->second, e.divisor);
      }
    }
    double denominator = 1, largest = 1;
    for (const auto& [id, d] : per_class) {
      denominator *= d;
      largest = std::max(largest, d);
    }
    if (per_class.size() > 1) {
      denominator = std::min(denominator, std::max({largest, in_size, rows[i]}));
    }
    return std::max(1.0,
                    *connected ? in_size * rows[i] / denominator : in_size * rows[i]);
  };
  // Probing costs more per row when the leaf's hash table outgrows the caches.
  auto probe_cost = [&](double probe_rows, int i) {
    return probe_rows * (rows[i] <= kCacheResidentRows ? 1.0 : 3.0);
  };
  const int roots = static_cast<int>(std::count(parent.begin(), parent.end(), -1));
  while (static_cast<int>(order.size()) < roots) {
    int best = -1;
    bool best_connected = false;
    double best_score = 0;
    for (int i = 0; i < n; ++i) {
      if ((joined | satellites) & (uint64_t{1} << i)) continue;
      bool connected = false;
      const double result = step(joined, size, i, &connected);
      // The cost of this join (its probes and the rows it makes) and of the best join
      // after it (one step of lookahead: a small dimension that is only selective with
      // its own dimension, TPC-H Q21's supplier and nation, can come before a larger
      // selective join).
      double score = probe_cost(size, i) + result;
      const uint64_t after = joined | (uint64_t{1} << i);
      double next_best = -1;
      for (int k = 0; k < n; ++k) {
        if ((after | satellites) & (uint64_t{1} << k)) continue;
        bool next_connected = false;
        const double next = step(after, result, k, &next_connected);
        if (!next_connected) continue;
        const double cost = probe_cost(result, k) + next;
        if (next_best < 0 || cost < next_best) next_best = cost;
      }
      if (next_best >= 0) score += next_best;
      bool better =
          best < 0 || (connected && !best_connected) ||
          (connected == best_connected &&
           (score < best_score || (score == best_score && rows[i] < rows[best])));
      if (better) {
        best = i;
        best_connected = connected;
        best_score = score;
      }
    }
    bool connected = false;
    size = step(joined, size, best, &connected);
    order.push_back(best);
    joined |= uint64_t{1} << best;
  }
  for (int i = 0; i < n; ++i) {
    if (parent[i] >= 0) order.push_back(i);
  }
  return Order{order, parent};
}

// An inner join without keys (push_down_filters gives it its keys).
Plan KeylessJoin(const Plan& left, const Plan& right) {
  auto j = std::make_shared<JoinNode>();
  j->type = JoinType::kInner;
  arrow::FieldVector fields = left->schema->fields();
  for (const auto& f : right->schema->fields()) fields.push_back(f);
  j->schema = arrow::schema(std::move(fields));
  j->inputs = {left, right};
  return j;
}

// Leaf `i` joined, left-deep, with the build sides folded into it (in `order`), its
// leaves appended to `layout` in the resulting column order.
Plan Subtree(const Cluster& c, const Order& order, int i, std::vector<int>* layout) {
  layout->push_back(i);
  Plan tree = c.leaves[i].plan;
  for (int k : order.leaves) {
    if (order.parent[k] != i) continue;
    Plan right = Subtree(c, order, k, layout);
    tree = KeylessJoin(tree, right);
  }
  return tree;
}

Result<Plan> Rebuild(const Plan& top, Cluster c, std::vector<Expr> filter_terms) {
  for (const auto& t : filter_terms) c.predicates.push_back(t);
  const std::vector<int> leaf_of_column = LeafOfColumn(c);
  const ColumnClasses classes = FindClasses(c.predicates, leaf_of_column);
  const Order order = ChooseOrder(c, leaf_of_column, classes);
  std::vector<int> layout;  // leaves in the new tree's column order
  Plan chain;
  for (int i : order.leaves) {
    if (order.parent[i] >= 0) continue;
    Plan right = Subtree(c, order, i, &layout);
    if (!chain) {
      chain = right;
      continue;
    }
    chain = KeylessJoin(chain, right);
  }
  bool unchanged = true;
  for (size_t i = 0; i < layout.size(); ++i)
    unchanged = unchanged && layout[i] == static_cast<int>(i);
  // new_index[old column] in the reordered tree.
  std::vector<int> new_index(c.width);
  int at = 0;
  for (int i : layout) {
    for (int k = 0; k < c.leaves[i].width; ++k) new_index[c.leaves[i].offset + k] = at++;
  }
  // Each class of equal columns as equalities between its columns in the new order,
  // each to the next: every join then gets one equality per class its two sides share
  // (a join's sides are contiguous runs of columns), implied ones included.
  std::vector<Expr> terms;
  for (size_t i = 0; i < c.predicates.size(); ++i) {
    if (classes.predicate_class[i] >= 0) continue;
    terms.push_back(expr::RemapColumns(c.predicates[i], new_index));
  }
  for (auto members : classes.members) {
    std::sort(members.begin(), members.end(),
              [&](int a, int b) { return new_index[a] < new_index[b]; });
    for (size_t k = 1; k < members.size(); ++k) {
      terms.push_back(expr::RemapColumns(
          Equal(classes.column[members[k - 1]], classes.column[members[k]]), new_index));
    }
  }
  if (!terms.empty()) {
    auto f = std::make_shared<FilterNode>();
    f->schema = chain->schema;
    f->predicate = expr::MakeConjunction(terms);
    f->inputs = {chain};
    chain = f;
  }
  if (unchanged) return chain;
  auto project = std::make_shared<ProjectNode>();
  project->schema = top->schema;
  for (int i = 0; i < c.width; ++i) {
    const auto& f = top->schema->field(i);
    project->exprs.push_back(expr::BoundColumn(new_index[i], f->name(), f->type()));
  }
  project->inputs = {chain};
  return Plan(project);
}

Result<Plan> Visit(const Plan& node) {
  const bool filter_on_join =
      node->kind == NodeKind::kFilter && IsInnerJoin(node->inputs[0]);
  if (filter_on_join || IsInnerJoin(node)) {
    const Plan& join = filter_on_join ? node->inputs[0] : node;
    Cluster c;
    Collect(join, 0, &c);
    c.width = join->schema->num_fields();
    for (auto& leaf : c.leaves) {
      ARROW_ASSIGN_OR_RAISE(leaf.plan, Visit(leaf.plan));
    }
    if (c.leaves.size() >= 3 && c.leaves.size() <= 64) {
      std::vector<Expr> terms;
      if (filter_on_join) {
        expr::SplitConjunction(static_cast<const FilterNode&>(*node).predicate, &terms);
      }
      return Rebuild(node, std::move(c), std::move(terms));
    }
  }
  Plan copy = CopyNode(*node);
  for (auto& in : copy->inputs) {
    ARROW_ASSIGN_OR_RAISE(in, Visit(in));
  }
  return copy;
}

}  // namespace

Result<Plan> ReorderJoins(Plan root) { return Visit(root); }

}  // namespace sluice::plan
