#include "sluice/exec/operators/partition_top_k.h"

#include <arrow/compute/api.h>

#include <cmath>
#include <limits>

#include "sluice/exec/key_index.h"
#include "sluice/exec/operators/sort.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

// One kept row: where it sorts and where its copy is.
struct Candidate {
  uint8_t null_rank;  // 0 sorts before 1 (NULL placement)
  uint64_t key;       // the value, order-preserving, direction applied
  int64_t seq;        // ties: the input batch's seq, then the row in it
  uint32_t in_row;
  uint32_t batch;  // in TopLocal::kept
  uint32_t row;
};

bool Before(const Candidate& a, const Candidate& b) {
  if (a.null_rank != b.null_rank) return a.null_rank < b.null_rank;
  if (a.key != b.key) return a.key < b.key;
  if (a.seq != b.seq) return a.seq < b.seq;
  return a.in_row < b.in_row;
}

struct TopLocal : LocalSinkState {
  MemoryReservation reservation;
  std::unique_ptr<KeyIndex> partitions;  // null without PARTITION BY (one partition)
  std::vector<Candidate> candidates;     // k slots per partition, best first
  std::vector<uint32_t> count;           // candidates per partition
  std::vector<std::shared_ptr<arrow::RecordBatch>> kept;
  int64_t stored = 0;  // rows in kept
  int64_t live = 0;    // candidates
  // Scratch.
  std::vector<uint32_t> ids;
  std::vector<int64_t> ints;
  std::vector<int64_t> entered;

  int64_t MemoryUsage() const {
    int64_t total = static_cast<int64_t>(candidates.capacity() * sizeof(Candidate) +
                                         count.capacity() * 4 + ids.capacity() * 4 +
                                         ints.capacity() * 8 + entered.capacity() * 8);
    if (partitions) total += partitions->MemoryUsage();
    for (const auto& b : kept) total += BatchMemory(*b);
    return total;
  }
};

// Offers c to partition p: true if it is among the first k (the worst is evicted).
bool Offer(TopLocal* l, int64_t k, uint32_t p, const Candidate& c) {
  Candidate* slots = l->candidates.data() + static_cast<size_t>(p) * k;
  uint32_t& n = l->count[p];
  if (n == k) {
    if (!Before(c, slots[k - 1])) return false;
    --n;
    --l->live;
  }
  int64_t j = n;
  while (j > 0 && Before(c, slots[j - 1])) {
    slots[j] = slots[j - 1];
    --j;
  }
  slots[j] = c;
  ++n;
  ++l->live;
  return true;
}

// Makes room for the candidates of every partition seen so far.
void Grow(TopLocal* l, int64_t k) {
  const int64_t partitions = l->partitions ? l->partitions->size() : 1;
  if (static_cast<int64_t>(l->count.size()) >= partitions) return;
  l->count.resize(partitions, 0);
  l->candidates.resize(static_cast<size_t>(partitions) * k);
}

// Copies the rows of live candidates into fresh batches, dropping evicted ones.
Status Compact(TopLocal* l, int64_t k) {
  std::vector<std::vector<int64_t>> rows(l->kept.size());
  std::vector<std::vector<Candidate*>> owners(l->kept.size());
  for (size_t p = 0; p < l->count.size(); ++p) {
    for (uint32_t j = 0; j < l->count[p]; ++j) {
      Candidate* c = &l->candidates[p * k + j];
      rows[c->batch].push_back(c->row);
      owners[c->batch].push_back(c);
    }
  }
  std::vector<std::shared_ptr<arrow::RecordBatch>> kept;
  int64_t stored = 0;
  for (size_t b = 0; b < rows.size(); ++b) {
    if (rows[b].empty()) continue;
    arrow::Int64Builder ib;
    ARROW_RETURN_NOT_OK(ib.AppendValues(rows[b]));
    ARROW_ASSIGN_OR_RAISE(auto indices, ib.Finish());
    ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(l->kept[b], indices));
    for (size_t i = 0; i < owners[b].size(); ++i) {
      owners[b][i]->batch = static_cast<uint32_t>(kept.size());
      owners[b][i]->row = static_cast<uint32_t>(i);
    }
    kept.push_back(taken.record_batch());
    stored += static_cast<int64_t>(rows[b].size());
  }
  l->kept = std::move(kept);
  l->stored = stored;
  return Status::OK();
}

}  // namespace

PartitionTopK::PartitionTopK(std::vector<expr::Expr> partition_by, plan::SortKey order,
                             int64_t k, std::shared_ptr<arrow::Schema> schema)
    : PhysicalNode("PartitionTopK"),
      partition_by_(std::move(partition_by)),
      order_(std::move(order)),
      k_(k),
      schema_(std::move(schema)) {}

PartitionTopK::~PartitionTopK() = default;

Result<std::unique_ptr<LocalSinkState>> PartitionTopK::MakeLocal(ExecContext* ctx, int) {
  auto l = std::make_unique<TopLocal>();
  l->reservation = MemoryReservation(ctx->budget(), name());
  if (!partition_by_.empty()) {
    std::vector<std::shared_ptr<arrow::DataType>> types;
    for (const auto& e : partition_by_) types.push_back(e->type);
    ARROW_ASSIGN_OR_RAISE(l->partitions, KeyIndex::Make(types));
  }
  return l;
}

Status PartitionTopK::Consume(ExecContext* ctx, LocalSinkState* base, Batch batch) {
  auto* l = static_cast<TopLocal*>(base);
  const auto& rb = *batch.data;
  const int64_t n = rb.num_rows();
  if (n == 0) return Status::OK();
  l->ids.resize(n);
  if (l->partitions) {
    arrow::ArrayVector keys;
    for (const auto& e : partition_by_) {
      ARROW_ASSIGN_OR_RAISE(auto a, expr::EvaluateToArray(e, rb));
      keys.push_back(std::move(a));
    }
    ARROW_RETURN_NOT_OK(
        l->partitions->Insert(keys, KeyIndex::Nulls::kGroup, l->ids.data()));
  } else {
    std::fill(l->ids.begin(), l->ids.end(), 0);
  }
  Grow(l, k_);
  // The order key of every row.
  ARROW_ASSIGN_OR_RAISE(auto order, expr::EvaluateToArray(order_.expr, rb));
  const auto& type = *order->type();
  std::vector<uint64_t> keys(n);
  if (IsIntegerLike(type) && type.id() != arrow::Type::UINT64) {
    ARROW_RETURN_NOT_OK(LoadIntegers(*order, &l->ints));
    for (int64_t i = 0; i < n; ++i) keys[i] = OrderedBits(l->ints[i]);
  } else if (arrow::is_floating(type.id())) {
    ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Cast(order, arrow::float64()));
    const double* v = d.array()->GetValues<double>(1);
    for (int64_t i = 0; i < n; ++i) keys[i] = OrderedBits(v[i]);
  } else {
    return Status::Invalid("internal: per-partition top-k cannot order ",
                           type.ToString());
  }
  const uint8_t null_rank = order_.nulls_first ? 0 : 1;
  const bool has_nulls = order->null_count() > 0;
  l->entered.clear();
  const uint32_t batch_index = static_cast<uint32_t>(l->kept.size());
  for (int64_t i = 0; i < n; ++i) {
    Candidate c;
    bool null = has_nulls && order->IsNull(i);
    c.null_rank = null ? null_rank : static_cast<uint8_t>(1 - null_rank);
    c.key = null ? 0 : (order_.ascending ? keys[i] : ~keys[i]);
    c.seq = batch.seq;
    c.in_row = static_cast<uint32_t>(i);
    c.batch = batch_index;
    c.row = static_cast<uint32_t>(l->entered.size());
    if (Offer(l, k_, l->ids[i], c)) l->entered.push_back(i);
  }
  if (!l->entered.empty()) {
    arrow::Int64Builder ib;
    ARROW_RETURN_NOT_OK(ib.AppendValues(l->entered));
    ARROW_ASSIGN_OR_RAISE(auto indices, ib.Finish());
    ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch.data, indices));
    l->kept.push_back(taken.record_batch());
    l->stored += static_cast<int64_t>(l->entered.size());
  }
  if (l->stored > 2 * l->live + 65536) ARROW_RETURN_NOT_OK(Compact(l, k_));
  int64_t usage = l->MemoryUsage();
  metrics().RecordPeak(usage);
  return l->reservation.Resize(usage);
}

Status PartitionTopK::FinishLocal(ExecContext* ctx,
                                  std::unique_ptr<LocalSinkState> local) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_.push_back(std::move(local));
  return Status::OK();
}

Status PartitionTopK::Finalize(ExecContext* ctx) {
  out_.clear();
  if (finished_.empty()) return Status::OK();
  auto* global = static_cast<TopLocal*>(finished_[0].get());
  for (size_t w = 1; w < finished_.size(); ++w) {
    auto* other = static_cast<TopLocal*>(finished_[w].get());
    std::vector<uint32_t> mapping(other->count.size(), 0);
    if (global->partitions) {
      ARROW_RETURN_NOT_OK(
          global->partitions->InsertAll(*other->partitions, mapping.data()));
    }
    Grow(global, k_);
    const uint32_t offset = static_cast<uint32_t>(global->kept.size());
    for (auto& b : other->kept) global->kept.push_back(std::move(b));
    global->stored += other->stored;
    for (size_t p = 0; p < other->count.size(); ++p) {
      for (uint32_t j = 0; j < other->count[p]; ++j) {
        Candidate c = other->candidates[p * k_ + j];
        c.batch += offset;
        Offer(global, k_, mapping[p], c);
      }
    }
    finished_[w].reset();
    ARROW_RETURN_NOT_OK(global->reservation.Resize(global->MemoryUsage()));
  }
  ARROW_RETURN_NOT_OK(Compact(global, k_));
  out_reservation_ = MemoryReservation(ctx->budget(), name() + " result");
  for (auto& b : global->kept) {
    ARROW_RETURN_NOT_OK(out_reservation_.Grow(BatchMemory(*b)));
    out_.push_back(std::move(b));
  }
  finished_.clear();
  return Status::OK();
}

Status PartitionTopK::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  return out->Emit(Batch{out_[morsel], MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
