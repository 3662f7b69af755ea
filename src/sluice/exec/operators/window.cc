#include "sluice/exec/operators/window.h"

#include <arrow/compute/api.h>
#include <arrow/util/decimal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>

#include "sluice/base/parallel.h"
#include "sluice/exec/operators/sort.h"
#include "sluice/exec/row_encoding.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace cp = arrow::compute;
using ArrayPtr = std::shared_ptr<arrow::Array>;
using plan::FrameBoundKind;
using plan::FrameUnit;
using plan::WindowFrame;
using i128 = __int128;

struct WindowSink::FunctionResult {
  // Either a finished column in output order...
  ArrayPtr values;
  // ...or gathered: source[indices[i]] (NULL where indices[i] is NULL); for lag/lead
  // with a default, defaults[i] where use_default[i]. All in output order.
  ArrayPtr source;
  ArrayPtr indices;
  ArrayPtr defaults;
  ArrayPtr use_default;
};

namespace {

enum class Fn {
  kRowNumber,
  kRank,
  kDenseRank,
  kPercentRank,
  kCumeDist,
  kNtile,
  kLag,
  kLead,
  kFirstValue,
  kLastValue,
  kNthValue,
  kSum,
  kAvg,
  kMin,
  kMax,
  kCount,
  kCountStar
};

Result<Fn> ParseFn(const std::string& name) {
  static const std::pair<const char*, Fn> kNames[] = {{"row_number", Fn::kRowNumber},
                                                      {"rank", Fn::kRank},
                                                      {"dense_rank", Fn::kDenseRank},
                                                      {"percent_rank", Fn::kPercentRank},
                                                      {"cume_dist", Fn::kCumeDist},
                                                      {"ntile", Fn::kNtile},
                                                      {"lag", Fn::kLag},
                                                      {"lead", Fn::kLead},
                                                      {"first_value", Fn::kFirstValue},
                                                      {"last_value", Fn::kLastValue},
                                                      {"nth_value", Fn::kNthValue},
                                                      {"sum", Fn::kSum},
                                                      {"avg", Fn::kAvg},
                                                      {"min", Fn::kMin},
                                                      {"max", Fn::kMax},
                                                      {"count", Fn::kCount},
                                                      {"count_star", Fn::kCountStar}};
  for (const auto& [n, fn] : kNames) {
    if (name == n) return fn;
  }
  return Status::Invalid("internal: unknown window function '", name, "'");
}

constexpr i128 kI128Max = static_cast<i128>(~static_cast<unsigned __int128>(0) >> 1);
constexpr i128 kI128Min = -kI128Max - 1;

i128 SatAdd(i128 a, i128 b) {
  i128 r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kI128Max : kI128Min;
  return r;
}

i128 FromDecimal(const arrow::Decimal128& d) {
  return static_cast<i128>(
      (static_cast<unsigned __int128>(static_cast<uint64_t>(d.high_bits())) << 64) |
      d.low_bits());
}

arrow::Decimal128 ToDecimal(i128 v) {
  auto u = static_cast<unsigned __int128>(v);
  return arrow::Decimal128(static_cast<int64_t>(static_cast<uint64_t>(u >> 64)),
                           static_cast<uint64_t>(u));
}

// Values of a numeric or temporal column by index: integers (and the ticks of
// dates, times and timestamps) and decimals' unscaled values exactly, or doubles.
struct NumberColumn {
  enum Kind { kInt, kUInt, kDouble, kDecimal } kind = kInt;
  ArrayPtr array;
  const int64_t* i64 = nullptr;
  const uint64_t* u64 = nullptr;
  const double* f64 = nullptr;
  const arrow::Decimal128Array* dec = nullptr;

  static Result<NumberColumn> Make(const ArrayPtr& arr) {
    NumberColumn c;
    switch (arr->type()->id()) {
      case arrow::Type::UINT64:
        c.kind = kUInt;
        c.array = arr;
        c.u64 = arr->data()->GetValues<uint64_t>(1);
        return c;
      case arrow::Type::HALF_FLOAT:
      case arrow::Type::FLOAT:
      case arrow::Type::DOUBLE: {
        ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, arrow::float64()));
        c.kind = kDouble;
        c.array = d.make_array();
        c.f64 = c.array->data()->GetValues<double>(1);
        return c;
      }
      case arrow::Type::DECIMAL128:
        c.kind = kDecimal;
        c.array = arr;
        c.dec = static_cast<const arrow::Decimal128Array*>(arr.get());
        return c;
      case arrow::Type::DATE32:
      case arrow::Type::TIME32: {
        ARROW_ASSIGN_OR_RAISE(auto v, arr->View(arrow::int32()));
        ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(v, arrow::int64()));
        c.array = d.make_array();
        break;
      }
      case arrow::Type::DATE64:
      case arrow::Type::TIMESTAMP:
      case arrow::Type::TIME64:
      case arrow::Type::DURATION: {
        ARROW_ASSIGN_OR_RAISE(c.array, arr->View(arrow::int64()));
        break;
      }
      default: {
        if (!arrow::is_integer(arr->type()->id()) &&
            arr->type()->id() != arrow::Type::NA) {
          return Status::NotImplemented("window arithmetic on ", arr->type()->ToString());
        }
        ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, arrow::int64()));
        c.array = d.make_array();
        break;
      }
    }
    c.kind = kInt;
    c.i64 = c.array->data()->GetValues<int64_t>(1);
    return c;
  }

  bool IsNull(int64_t r) const { return array->IsNull(r); }
  i128 Int(int64_t r) const {
    switch (kind) {
      case kInt:
        return i64[r];
      case kUInt:
        return u64[r];
      case kDecimal:
        return FromDecimal(arrow::Decimal128(dec->GetValue(r)));
      case kDouble:
        break;
    }
    return 0;
  }
  double Double(int64_t r) const {
    return kind == kDouble ? f64[r] : static_cast<double>(Int(r));
  }
};

// Floating point order with NaN after every number (and equal to itself), as sorts.
bool LessTotal(double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); }

int64_t TicksPerSecond(arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      return 1;
    case arrow::TimeUnit::MILLI:
      return 1000;
    case arrow::TimeUnit::MICRO:
      return 1000000;
    case arrow::TimeUnit::NANO:
      return 1000000000;
  }
  return 1;
}

// `ticks` (per_day to a day, since the epoch) plus `months` calendar months, the day
// clamped to the month's last (Jan 31 + 1 month = Feb 28/29), as the engine's
// date/timestamp + interval does.
i128 AddMonths(i128 ticks, int64_t months, int64_t per_day) {
  i128 day = ticks / per_day;
  if (ticks % per_day < 0) --day;
  // Far outside the calendar: leave it (it is beyond every other key anyway).
  if (day > 10000000 || day < -10000000) return ticks;
  i128 rem = ticks - day * per_day;
  namespace ch = std::chrono;
  ch::year_month_day ymd{ch::sys_days{ch::days{static_cast<int64_t>(day)}}};
  auto ym = ch::year_month{ymd.year(), ymd.month()} + ch::months{months};
  auto last = ch::year_month_day_last{ym.year(), ch::month_day_last{ym.month()}}.day();
  auto d = ymd.day() > last ? last : ymd.day();
  int64_t new_day = ch::sys_days{ch::year_month_day{ym.year(), ym.month(), d}}
                        .time_since_epoch()
                        .count();
  return static_cast<i128>(new_day) * per_day + rem;
}

// A RANGE frame offset in the ORDER BY key's domain: a key value k becomes
// k * key_scale, and the bound of a row with value v is v +- offset (calendar months
// first, then the fixed part), or v +- f for floating point keys.
struct RangeOffset {
  bool is_double = false;
  double f = 0;
  i128 fixed = 0;
  int64_t months = 0;
  i128 key_scale = 1;
  int64_t per_day = 1;

  i128 Bound(i128 v, int sign) const {
    if (months != 0) v = AddMonths(v, sign * months, per_day);
    return SatAdd(v, sign * fixed);
  }
  double Bound(double v, int sign) const {
    double b = v + sign * f;
    // +inf - inf: every value is within an infinite offset of an infinite key.
    if (std::isnan(b) && !std::isnan(v))
      b = sign * std::numeric_limits<double>::infinity();
    return b;
  }
};

Result<RangeOffset> MakeRangeOffset(const arrow::DataType& key,
                                    const arrow::Scalar& off) {
  RangeOffset r;
  const auto oid = off.type->id();
  auto interval_parts = [&](int64_t per_day, int64_t ticks_per_second) {
    if (oid == arrow::Type::INTERVAL_MONTH_DAY_NANO) {
      const auto& v = static_cast<const arrow::MonthDayNanoIntervalScalar&>(off).value;
      r.months = v.months;
      r.fixed = static_cast<i128>(v.days) * per_day +
                static_cast<i128>(v.nanoseconds) * ticks_per_second / 1000000000;
    } else {  // duration
      const auto& d = static_cast<const arrow::DurationScalar&>(off);
      const auto& dt = static_cast<const arrow::DurationType&>(*off.type);
      r.fixed = static_cast<i128>(d.value) * ticks_per_second / TicksPerSecond(dt.unit());
    }
    r.per_day = per_day;
  };
  switch (key.id()) {
    case arrow::Type::HALF_FLOAT:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
      r.is_double = true;
      r.f = static_cast<const arrow::DoubleScalar&>(off).value;
      return r;
    case arrow::Type::DECIMAL128:
      r.fixed = FromDecimal(static_cast<const arrow::Decimal128Scalar&>(off).value);
      return r;
    case arrow::Type::DATE32:
    case arrow::Type::DATE64: {
      const bool d32 = key.id() == arrow::Type::DATE32;
      if (oid == arrow::Type::INT64) {
        // Whole days in the key's own unit.
        i128 days = static_cast<const arrow::Int64Scalar&>(off).value;
        r.fixed = d32 ? days : days * 86400000;
        return r;
      }
      // Intervals and durations: compare in microseconds.
      r.key_scale = d32 ? 86400000000LL : 1000;
      interval_parts(86400000000LL, 1000000);
      return r;
    }
    case arrow::Type::TIMESTAMP: {
      int64_t tps = TicksPerSecond(static_cast<const arrow::TimestampType&>(key).unit());
      interval_parts(tps * 86400, tps);
      return r;
    }
    default:
      if (arrow::is_integer(key.id()) && oid == arrow::Type::INT64) {
        r.fixed = static_cast<const arrow::Int64Scalar&>(off).value;
        return r;
      }
      return Status::Invalid("internal: RANGE offset ", off.ToString(),
                             " for a key of type ", key.ToString());
  }
}

// A frame bound prepared for execution.
struct Bound {
  FrameBoundKind kind = FrameBoundKind::kCurrentRow;
  int64_t rows = 0;           // ROWS offset
  bool range_offset = false;  // RANGE N PRECEDING/FOLLOWING
  RangeOffset range;
};

bool SameBound(const Bound& x, const Bound& y) {
  return x.kind == y.kind && x.rows == y.rows && x.range_offset == y.range_offset &&
         x.range.is_double == y.range.is_double && x.range.f == y.range.f &&
         x.range.fixed == y.range.fixed && x.range.months == y.range.months &&
         x.range.key_scale == y.range.key_scale && x.range.per_day == y.range.per_day;
}

// One window function prepared for execution, and its results by output position.
struct FunctionState {
  Fn fn = Fn::kRowNumber;
  FrameUnit unit = FrameUnit::kRange;
  Bound start, end;
  std::shared_ptr<arrow::DataType> type;
  ArrayPtr arg;       // first argument (by input row, then by output position)
  ArrayPtr defaults;  // lag/lead default (likewise)
  int64_t n = 1;      // ntile's buckets, nth_value's n, lag/lead's offset
  int32_t decimal_scale = 0;
  std::optional<NumberColumn> number;    // sum/avg argument
  std::optional<SortKeyColumn> ordered;  // min/max argument

  // Results by output position.
  std::vector<int64_t> i64;  // integers; gathers: the source position, -1 = NULL
  std::vector<double> f64;
  std::vector<i128> wide;      // decimal sums
  std::vector<uint8_t> valid;  // numeric results: 0 = NULL
  std::vector<uint8_t> use_default;

  bool FrameIs(const FunctionState& o) const {
    return unit == o.unit && SameBound(start, o.start) && SameBound(end, o.end);
  }
  bool Gathers() const {
    return fn == Fn::kLag || fn == Fn::kLead || fn == Fn::kFirstValue ||
           fn == Fn::kLastValue || fn == Fn::kNthValue || fn == Fn::kMin ||
           fn == Fn::kMax;
  }
};

// A segment tree over positions [0, n) combining leaves with an associative `combine`
// (not necessarily commutative: left operand = lower positions).
template <typename T, typename Combine>
class SegmentTree {
 public:
  SegmentTree(const std::vector<T>& leaves, T identity, Combine combine)
      : n_(static_cast<int64_t>(leaves.size())),
        tree_(2 * leaves.size(), identity),
        identity_(identity),
        combine_(combine) {
    std::copy(leaves.begin(), leaves.end(), tree_.begin() + n_);
    for (int64_t i = n_ - 1; i > 0; --i)
      tree_[i] = combine_(tree_[2 * i], tree_[2 * i + 1]);
  }
  /// Combination of positions [lo, hi).
  T Query(int64_t lo, int64_t hi) const {
    T left = identity_, right = identity_;
    for (lo += n_, hi += n_; lo < hi; lo >>= 1, hi >>= 1) {
      if (lo & 1) left = combine_(left, tree_[lo++]);
      if (hi & 1) right = combine_(tree_[--hi], right);
    }
    return combine_(left, right);
  }

 private:
  int64_t n_;
  std::vector<T> tree_;
  T identity_;
  Combine combine_;
};

// What every bucket reads. Keys for ordering are indexed by input row; function
// arguments and the RANGE key by output position (taken into output order between
// the two phases, so that computing reads memory in order).
struct Shared {
  const EncodedRows* partition_rows = nullptr;  // null without PARTITION BY
  std::vector<SortKeyColumn> order;             // evaluated ORDER BY keys
  std::optional<NumberColumn> range_key;        // the ORDER BY key for RANGE offsets
  bool range_ascending = true;
  bool range_nulls_first = false;
  int64_t* perm = nullptr;  // input row at each output position
  std::vector<FunctionState>* fns = nullptr;
};

// One bucket of rows (whole partitions), at output positions [begin, begin + size).
// Order() sorts them into partitions and peer groups; Compute() then computes every
// function. Different buckets may run concurrently.
class BucketRun {
 public:
  BucketRun(const Shared& shared, int64_t begin, int64_t size)
      : s_(shared), begin_(begin), m_(size), rows_(shared.perm + begin) {}

  void Order() {
    SplitPartitions();
    SortPartitions();
    bits_ = {};
  }

  Status Compute() {
    for (auto& f : *s_.fns) ARROW_RETURN_NOT_OK(Compute(&f));
    fs_ = {};
    fe_ = {};
    range_keys_ = {};
    double_keys_ = {};
    return Status::OK();
  }

 private:
  bool Peers(int64_t x, int64_t y) const {
    for (const auto& k : s_.order) {
      if (k.Compare(x, y) != 0) return false;
    }
    return true;
  }

  // Groups the bucket's rows by partition, partitions in order of first appearance,
  // rows in arrival order: a hash table from key hash to group, then a counting sort.
  // Rows with equal hashes but different keys (a collision) are sorted apart by the
  // key bytes.
  void SplitPartitions() {
    parts_.assign(1, 0);
    const EncodedRows* p = s_.partition_rows;
    if (p == nullptr) {
      parts_.push_back(m_);
      return;
    }
    uint64_t capacity = 16;
    while (capacity < 2 * static_cast<uint64_t>(m_)) capacity *= 2;
    const uint64_t mask = capacity - 1;
    std::vector<int64_t> slot_group(capacity, -1);
    std::vector<uint64_t> slot_hash(capacity);
    std::vector<int64_t> group_of(m_);
    std::vector<int64_t> group_start;  // counts, then starts
    for (int64_t j = 0; j < m_; ++j) {
      const uint64_t h = p->hashes[rows_[j]];
      uint64_t i = (h ^ (h >> 29)) & mask;
      while (slot_group[i] >= 0 && slot_hash[i] != h) i = (i + 1) & mask;
      if (slot_group[i] < 0) {
        slot_group[i] = static_cast<int64_t>(group_start.size());
        slot_hash[i] = h;
        group_start.push_back(0);
      }
      group_of[j] = slot_group[i];
      group_start[slot_group[i]]++;
    }
    int64_t total = 0;
    for (auto& g : group_start) {
      int64_t count = g;
      g = total;
      total += count;
    }
    std::vector<int64_t> grouped(m_);
    std::vector<int64_t> fill = group_start;
    for (int64_t j = 0; j < m_; ++j) grouped[fill[group_of[j]]++] = rows_[j];
    std::copy(grouped.begin(), grouped.end(), rows_);
    group_start.push_back(m_);
    for (size_t g = 0; g + 1 < group_start.size(); ++g) {
      const int64_t j = group_start[g], k = group_start[g + 1];
      bool same_keys = true;
      for (int64_t i = j + 1; i < k && same_keys; ++i) {
        same_keys = p->row(rows_[i]) == p->row(rows_[j]);
      }
      if (!same_keys) {
        std::stable_sort(rows_ + j, rows_ + k,
                         [&](int64_t x, int64_t y) { return p->row(x) < p->row(y); });
        for (int64_t i = j + 1; i < k; ++i) {
          if (p->row(rows_[i]) != p->row(rows_[i - 1])) parts_.push_back(i);
        }
      }
      parts_.push_back(k);
    }
  }

  // A single integer or floating point ORDER BY key as an unsigned number whose order
  // is the key's order (direction included): sorts and peer checks then compare
  // plain integers.
  bool FastOrder() const {
    return s_.order.size() == 1 && (s_.order[0].kind == SortKeyColumn::kInt ||
                                    s_.order[0].kind == SortKeyColumn::kUInt ||
                                    s_.order[0].kind == SortKeyColumn::kDouble);
  }
  static uint64_t OrderedBits(const SortKeyColumn& k, int64_t r) {
    uint64_t u = 0;
    switch (k.kind) {
      case SortKeyColumn::kInt:
        u = exec::OrderedBits(k.i64[r]);
        break;
      case SortKeyColumn::kUInt:
        u = k.u64[r];
        break;
      default:
        u = exec::OrderedBits(k.f64[r]);
        break;
    }
    return k.ascending ? u : ~u;
  }

  // Orders each partition by the ORDER BY keys (ties: arrival order) and finds the
  // peer groups.
  void SortPartitions() {
    peer_begin_.resize(m_);
    peer_end_.resize(m_);
    const bool fast = FastOrder();
    std::vector<std::pair<uint64_t, int64_t>> keyed;
    if (fast) bits_.resize(m_);
    for (size_t p = 0; p + 1 < parts_.size(); ++p) {
      const int64_t a = parts_[p], b = parts_[p + 1];
      if (fast) {
        // NULLs first or last (stable: arrival order), then the others by their bits.
        const SortKeyColumn& k = s_.order[0];
        const int64_t mid = std::stable_partition(
                                rows_ + a, rows_ + b,
                                [&](int64_t r) { return k.IsNull(r) == k.nulls_first; }) -
                            rows_;
        const int64_t lo = k.nulls_first ? mid : a;  // non-NULL keys: [lo, hi)
        const int64_t hi = k.nulls_first ? b : mid;
        keyed.resize(hi - lo);
        for (int64_t j = lo; j < hi; ++j)
          keyed[j - lo] = {OrderedBits(k, rows_[j]), rows_[j]};
        std::sort(keyed.begin(), keyed.end());
        for (int64_t j = lo; j < hi; ++j) {
          rows_[j] = keyed[j - lo].second;
          bits_[j] = keyed[j - lo].first;
        }
        for (int64_t j = a; j < lo; ++j) bits_[j] = 0;
        for (int64_t j = hi; j < b; ++j) bits_[j] = 0;
        FindPeers(a, b, [&](int64_t j) {
          const bool nj = j < lo || j >= hi, ni = j - 1 < lo || j - 1 >= hi;
          return nj == ni && bits_[j] == bits_[j - 1];
        });
        continue;
      }
      if (!s_.order.empty()) {
        std::sort(rows_ + a, rows_ + b, [&](int64_t x, int64_t y) {
          for (const auto& k : s_.order) {
            int c = k.Compare(x, y);
            if (c != 0) return c < 0;
          }
          return x < y;  // ties: arrival order
        });
      }
      FindPeers(a, b, [&](int64_t j) { return Peers(rows_[j - 1], rows_[j]); });
    }
  }

  // Peer groups of partition [a, b); same(j): position j is a peer of j - 1.
  template <typename Same>
  void FindPeers(int64_t a, int64_t b, Same same) {
    for (int64_t j = a; j < b;) {
      int64_t k = j + 1;
      while (k < b && same(k)) ++k;
      for (int64_t i = j; i < k; ++i) {
        peer_begin_[i] = j;
        peer_end_[i] = k;
      }
      j = k;
    }
  }

  // ---- frames ---------------------------------------------------------------------

  // Rows of partition [a, b) whose ORDER BY key is not NULL: [*nb, *ne) (NULLs sort
  // together at one end).
  void NonNullRange(int64_t a, int64_t b, int64_t* nb, int64_t* ne) const {
    const NumberColumn& key = *s_.range_key;
    // The first position of [a, b) where null(j) is false (null: true then false).
    auto first_not = [&](auto null) {
      int64_t lo = a, hi = b;
      while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (null(mid)) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    };
    if (s_.range_nulls_first) {
      *nb = first_not([&](int64_t j) { return key.IsNull(begin_ + j); });
      *ne = b;
    } else {
      *nb = a;
      *ne = first_not([&](int64_t j) { return !key.IsNull(begin_ + j); });
    }
  }

  // The RANGE key of every position (NULL: 0), built once per bucket.
  void LoadRangeKeys() {
    if (!range_keys_.empty() || !double_keys_.empty() || m_ == 0) return;
    const NumberColumn& key = *s_.range_key;
    if (key.kind == NumberColumn::kDouble) {
      double_keys_.resize(m_);
      for (int64_t j = 0; j < m_; ++j) double_keys_[j] = key.Double(begin_ + j);
    } else {
      range_keys_.resize(m_);
      for (int64_t j = 0; j < m_; ++j) range_keys_[j] = key.Int(begin_ + j);
    }
  }

  // The first position p of [lo, hi) where pred(p) is false, for pred true then false
  // over the range. Starts at *hint (the previous answer) and moves forward, so a
  // partition's searches cost O(size) in total when answers only move forward; a
  // backward move (never expected) falls back to binary search.
  template <typename Pred>
  static int64_t Boundary(int64_t lo, int64_t hi, int64_t* hint, Pred pred) {
    int64_t p = std::clamp(*hint, lo, hi);
    if (p > lo && !pred(p - 1)) {
      int64_t l = lo, h = p - 1;
      while (l < h) {
        int64_t mid = l + (h - l) / 2;
        if (pred(mid)) {
          l = mid + 1;
        } else {
          h = mid;
        }
      }
      p = l;
    } else {
      while (p < hi && pred(p)) ++p;
    }
    *hint = p;
    return p;
  }

  // RANGE N PRECEDING/FOLLOWING for position j (non-NULL key): the first position of
  // [nb, ne) at or after the bound (is_start) or strictly after it (end, exclusive).
  int64_t RangeSearch(const Bound& bound, bool is_start, int64_t j, int64_t nb,
                      int64_t ne, int64_t* hint) const {
    const bool asc = s_.range_ascending;
    const bool preceding = bound.kind == FrameBoundKind::kPreceding;
    const int sign = (preceding == asc) ? -1 : 1;
    if (!double_keys_.empty()) {
      const double* k = double_keys_.data();
      const double t = bound.range.Bound(k[j], sign);
      if (is_start) {  // before t
        if (asc)
          return Boundary(nb, ne, hint, [&](int64_t q) { return LessTotal(k[q], t); });
        return Boundary(nb, ne, hint, [&](int64_t q) { return LessTotal(t, k[q]); });
      }
      // not after t
      if (asc)
        return Boundary(nb, ne, hint, [&](int64_t q) { return !LessTotal(t, k[q]); });
      return Boundary(nb, ne, hint, [&](int64_t q) { return !LessTotal(k[q], t); });
    }
    const i128* k = range_keys_.data();
    const i128 scale = bound.range.key_scale;
    const i128 t = bound.range.Bound(k[j] * scale, sign);
    if (is_start) {
      if (asc) return Boundary(nb, ne, hint, [&](int64_t q) { return k[q] * scale < t; });
      return Boundary(nb, ne, hint, [&](int64_t q) { return k[q] * scale > t; });
    }
    if (asc) return Boundary(nb, ne, hint, [&](int64_t q) { return k[q] * scale <= t; });
    return Boundary(nb, ne, hint, [&](int64_t q) { return k[q] * scale >= t; });
  }

  // Frame of every position as [fs_[j], fe_[j]) (bucket positions, within the row's
  // partition, fe_ >= fs_).
  // Frames only move forward (both bounds are non-decreasing over the bucket: they
  // stay within their row's partition, and within one they follow the row or its
  // ORDER BY value); the running sums and the deque rely on it.
  Status ComputeFrame(const FunctionState& f) {
    if (frame_of_ != nullptr && frame_of_->FrameIs(f)) return Status::OK();
    frame_of_ = nullptr;
    fs_.resize(m_);
    fe_.resize(m_);
    const bool rows_unit = f.unit == FrameUnit::kRows;
    const bool range_offsets = f.start.range_offset || f.end.range_offset;
    if (range_offsets) LoadRangeKeys();
    for (size_t p = 0; p + 1 < parts_.size(); ++p) {
      const int64_t a = parts_[p], b = parts_[p + 1];
      int64_t nb = a, ne = b;
      if (range_offsets) NonNullRange(a, b, &nb, &ne);
      int64_t start_hint = nb, end_hint = nb;
      for (int64_t j = a; j < b; ++j) {
        const bool null_key = range_offsets && (j < nb || j >= ne);
        auto bound_pos = [&](const Bound& bd, bool is_start) -> i128 {
          switch (bd.kind) {
            case FrameBoundKind::kUnboundedPreceding:
              return a;
            case FrameBoundKind::kUnboundedFollowing:
              return b;
            case FrameBoundKind::kCurrentRow:
              if (rows_unit) return is_start ? j : j + 1;
              return is_start ? peer_begin_[j] : peer_end_[j];
            case FrameBoundKind::kPreceding:
            case FrameBoundKind::kFollowing: {
              if (rows_unit) {
                i128 off =
                    bd.kind == FrameBoundKind::kPreceding ? -i128{bd.rows} : bd.rows;
                return j + off + (is_start ? 0 : 1);
              }
              // A NULL key's offset frame is its NULL peers.
              if (null_key) return is_start ? (j < nb ? a : ne) : (j < nb ? nb : b);
              return RangeSearch(bd, is_start, j, nb, ne,
                                 is_start ? &start_hint : &end_hint);
            }
          }
          return a;
        };
        i128 s = std::clamp<i128>(bound_pos(f.start, true), a, b);
        i128 e = std::clamp<i128>(bound_pos(f.end, false), a, b);
        fs_[j] = static_cast<int64_t>(s);
        fe_[j] = static_cast<int64_t>(std::max(s, e));
      }
    }
    for (int64_t j = 1; j < m_; ++j) {
      if (fs_[j] < fs_[j - 1] || fe_[j] < fe_[j - 1]) {
        return Status::Invalid("internal: window frame bounds move backwards");
      }
    }
    frame_of_ = &f;
    return Status::OK();
  }

  // ---- functions ------------------------------------------------------------------

  Status Compute(FunctionState* f) {
    switch (f->fn) {
      case Fn::kRowNumber:
      case Fn::kRank:
      case Fn::kDenseRank:
      case Fn::kPercentRank:
      case Fn::kCumeDist:
      case Fn::kNtile:
        Ranking(f);
        return Status::OK();
      case Fn::kLag:
      case Fn::kLead:
        LagLead(f);
        return Status::OK();
      default:
        break;
    }
    ARROW_RETURN_NOT_OK(ComputeFrame(*f));
    switch (f->fn) {
      case Fn::kFirstValue:
      case Fn::kLastValue:
      case Fn::kNthValue:
        for (int64_t j = 0; j < m_; ++j) {
          int64_t s = fs_[j], e = fe_[j], src = -1;
          if (f->fn == Fn::kFirstValue) {
            if (s < e) src = begin_ + s;
          } else if (f->fn == Fn::kLastValue) {
            if (s < e) src = begin_ + e - 1;
          } else if (e - s >= f->n) {
            src = begin_ + s + f->n - 1;
          }
          f->i64[begin_ + j] = src;
        }
        return Status::OK();
      case Fn::kCountStar:
        for (int64_t j = 0; j < m_; ++j) f->i64[begin_ + j] = fe_[j] - fs_[j];
        return Status::OK();
      case Fn::kCount:
      case Fn::kSum:
      case Fn::kAvg:
        return SumCountAvg(f);
      case Fn::kMin:
      case Fn::kMax:
        MinMax(f);
        return Status::OK();
      default:
        return Status::Invalid("internal: window function kind");
    }
  }

  void Ranking(FunctionState* f) {
    for (size_t p = 0; p + 1 < parts_.size(); ++p) {
      const int64_t a = parts_[p], b = parts_[p + 1];
      const int64_t size = b - a;
      int64_t dense = 0;
      // ntile: the first `extra` buckets get one row more than the others.
      const int64_t per = size / f->n, extra = size % f->n;
      for (int64_t j = a; j < b; ++j) {
        const int64_t pos = begin_ + j;
        switch (f->fn) {
          case Fn::kRowNumber:
            f->i64[pos] = j - a + 1;
            break;
          case Fn::kRank:
            f->i64[pos] = peer_begin_[j] - a + 1;
            break;
          case Fn::kDenseRank:
            if (peer_begin_[j] == j) ++dense;
            f->i64[pos] = dense;
            break;
          case Fn::kPercentRank:
            f->f64[pos] = size > 1 ? static_cast<double>(peer_begin_[j] - a) /
                                         static_cast<double>(size - 1)
                                   : 0.0;
            break;
          case Fn::kCumeDist:
            f->f64[pos] =
                static_cast<double>(peer_end_[j] - a) / static_cast<double>(size);
            break;
          case Fn::kNtile: {
            const int64_t r = j - a, big = extra * (per + 1);
            f->i64[pos] = r < big ? r / (per + 1) + 1 : extra + (r - big) / per + 1;
            break;
          }
          default:
            break;
        }
      }
    }
  }

  void LagLead(FunctionState* f) {
    const i128 off = f->fn == Fn::kLag ? -i128{f->n} : i128{f->n};
    for (size_t p = 0; p + 1 < parts_.size(); ++p) {
      const int64_t a = parts_[p], b = parts_[p + 1];
      for (int64_t j = a; j < b; ++j) {
        const i128 src = j + off;
        const int64_t pos = begin_ + j;
        if (src >= a && src < b) {
          f->i64[pos] = begin_ + static_cast<int64_t>(src);
        } else {
          f->i64[pos] = -1;
          if (f->defaults) f->use_default[pos] = 1;
        }
      }
    }
  }

  Status SumCountAvg(FunctionState* f) {
    // Non-NULL values in positions [0, j): counts[j].
    std::vector<int64_t> counts(m_ + 1, 0);
    const ArrayPtr& arg = f->fn == Fn::kCount ? f->arg : f->number->array;
    for (int64_t j = 0; j < m_; ++j) counts[j + 1] = counts[j] + arg->IsValid(begin_ + j);
    if (f->fn == Fn::kCount) {
      for (int64_t j = 0; j < m_; ++j)
        f->i64[begin_ + j] = counts[fe_[j]] - counts[fs_[j]];
      return Status::OK();
    }
    const NumberColumn& num = *f->number;
    if (num.kind != NumberColumn::kDouble) return ExactSumAvg(f, counts);
    // Floating point has no exact subtraction: sums run forward when every frame
    // starts at the partition, backward when every frame ends at it, and otherwise
    // come from a segment tree.
    std::vector<double> sums(m_);
    if (f->start.kind == FrameBoundKind::kUnboundedPreceding) {
      double acc = 0;
      int64_t next = 0;
      for (int64_t j = 0; j < m_; ++j) {
        if (j == 0 || fs_[j] != fs_[j - 1]) {
          acc = 0;
          next = fs_[j];
        }
        for (; next < fe_[j]; ++next) {
          if (!num.IsNull(begin_ + next)) acc += num.f64[begin_ + next];
        }
        sums[j] = acc;
      }
    } else if (f->end.kind == FrameBoundKind::kUnboundedFollowing) {
      double acc = 0;
      int64_t prev = m_;
      for (int64_t j = m_ - 1; j >= 0; --j) {
        if (j == m_ - 1 || fe_[j] != fe_[j + 1]) {
          acc = 0;
          prev = fe_[j];
        }
        for (; prev > fs_[j]; --prev) {
          if (!num.IsNull(begin_ + prev - 1)) acc += num.f64[begin_ + prev - 1];
        }
        sums[j] = acc;
      }
    } else {
      std::vector<double> leaves(m_);
      for (int64_t j = 0; j < m_; ++j) {
        leaves[j] = num.IsNull(begin_ + j) ? 0.0 : num.f64[begin_ + j];
      }
      SegmentTree tree(leaves, 0.0, [](double x, double y) { return x + y; });
      for (int64_t j = 0; j < m_; ++j) sums[j] = tree.Query(fs_[j], fe_[j]);
    }
    for (int64_t j = 0; j < m_; ++j) {
      const int64_t pos = begin_ + j;
      const int64_t c = counts[fe_[j]] - counts[fs_[j]];
      f->valid[pos] = c > 0;
      f->f64[pos] = f->fn == Fn::kSum ? sums[j] : sums[j] / static_cast<double>(c);
    }
    return Status::OK();
  }

  // Integers and decimals: exact prefix sums in 128 bits.
  Status ExactSumAvg(FunctionState* f, const std::vector<int64_t>& counts) {
    const NumberColumn& num = *f->number;
    std::vector<i128> prefix(m_ + 1, 0);
    for (int64_t j = 0; j < m_; ++j) {
      const int64_t r = begin_ + j;
      i128 v = num.IsNull(r) ? 0 : num.Int(r);
      if (__builtin_add_overflow(prefix[j], v, &prefix[j + 1])) {
        return Status::Invalid("decimal overflow in ", f->fn == Fn::kSum ? "sum" : "avg",
                               "() over a window");
      }
    }
    const bool decimal = num.kind == NumberColumn::kDecimal;
    // 10^38: the largest decimal128 magnitude plus one.
    i128 limit = 1;
    for (int i = 0; i < 38; ++i) limit *= 10;
    const double divisor = std::pow(10.0, f->decimal_scale);
    for (int64_t j = 0; j < m_; ++j) {
      const int64_t pos = begin_ + j;
      const int64_t c = counts[fe_[j]] - counts[fs_[j]];
      f->valid[pos] = c > 0;
      if (c == 0) continue;
      i128 sum = prefix[fe_[j]] - prefix[fs_[j]];
      if (f->fn == Fn::kSum) {
        if (decimal) {
          if (sum >= limit || sum <= -limit) {
            return Status::Invalid(
                "decimal overflow in sum(): the total exceeds 38 digits (cast the "
                "argument to double)");
          }
          f->wide[pos] = sum;
        } else {
          if (sum > std::numeric_limits<int64_t>::max() ||
              sum < std::numeric_limits<int64_t>::min()) {
            return Status::Invalid(
                "integer overflow in sum(): the total exceeds the bigint range "
                "(cast the argument to decimal or double)");
          }
          f->i64[pos] = static_cast<int64_t>(sum);
        }
      } else {
        // As the hash aggregate: divide in 128 bits first to keep the precision.
        i128 q = sum / c, r = sum % c;
        double v =
            static_cast<double>(q) + static_cast<double>(r) / static_cast<double>(c);
        f->f64[pos] = decimal ? v / divisor : v;
      }
    }
    return Status::OK();
  }

  void MinMax(FunctionState* f) {
    const SortKeyColumn& key = *f->ordered;
    const bool is_min = f->fn == Fn::kMin;
    // True when the value at position x should win over the one at y (ties: the
    // earlier position, x).
    auto better_or_equal = [&](int64_t x, int64_t y) {
      int c = key.CompareValues(x, y);
      return is_min ? c <= 0 : c >= 0;
    };
    // Sliding minimum/maximum with a deque of positions: a position leaves the back
    // once a later one is strictly better and the front once it drops out of the
    // frame, so the front is the frame's best (the earliest among equals). Each
    // position enters and leaves once.
    std::vector<int64_t> dq(m_);
    int64_t head = 0, tail = 0, next = 0;
    for (int64_t j = 0; j < m_; ++j) {
      for (; next < fe_[j]; ++next) {
        const int64_t q = begin_ + next;
        if (key.IsNull(q)) continue;
        while (tail > head && !better_or_equal(dq[tail - 1], q)) --tail;
        dq[tail++] = q;
      }
      while (tail > head && dq[head] < begin_ + fs_[j]) ++head;
      f->i64[begin_ + j] = tail > head ? dq[head] : -1;
    }
  }

  const Shared& s_;
  const int64_t begin_;
  const int64_t m_;
  int64_t* rows_;
  std::vector<int64_t> parts_;  // partition starts, then m_
  std::vector<int64_t> peer_begin_, peer_end_;
  std::vector<uint64_t> bits_;       // FastOrder(): the ORDER BY key's bits by position
  std::vector<i128> range_keys_;     // RANGE offsets: the key by position (exact)
  std::vector<double> double_keys_;  // ... or as doubles
  std::vector<int64_t> fs_, fe_;
  const FunctionState* frame_of_ = nullptr;  // whose frame fs_/fe_ hold
};

// Runs fn(i) for i in [0, count) on up to ctx->threads() workers; the first error
// cancels the job and is returned.
Status ParallelFor(ExecContext* ctx, int64_t count,
                   const std::function<Status(int64_t)>& fn) {
  std::atomic<int64_t> next{0};
  const int workers =
      static_cast<int>(std::clamp<int64_t>(count, 1, std::max(1, ctx->threads())));
  return RunWorkers(workers, [&](int) -> Status {
    while (!ctx->cancelled()) {
      const int64_t i = next.fetch_add(1);
      if (i >= count) return Status::OK();
      Status st = fn(i);
      if (!st.ok()) {
        ctx->Cancel();
        return st;
      }
    }
    return Status::Cancelled("cancelled");
  });
}

template <typename Builder, typename T>
Result<ArrayPtr> WithValidity(Builder* b, const std::vector<T>& values,
                              const std::vector<uint8_t>& valid) {
  if (values.empty()) return b->Finish();  // (no memcpy from a null pointer)
  ARROW_RETURN_NOT_OK(
      b->AppendValues(values.data(), static_cast<int64_t>(values.size()), valid.data()));
  return b->Finish();
}

}  // namespace

WindowSink::WindowSink(std::vector<expr::Expr> partition_by,
                       std::vector<plan::SortKey> order_by,
                       std::vector<plan::WindowFunction> functions,
                       std::shared_ptr<arrow::Schema> input_schema,
                       std::shared_ptr<arrow::Schema> output_schema)
    : PhysicalNode("Window"),
      partition_by_(std::move(partition_by)),
      order_by_(std::move(order_by)),
      functions_(std::move(functions)),
      input_schema_(std::move(input_schema)),
      output_schema_(std::move(output_schema)),
      collected_("Window") {}

WindowSink::~WindowSink() = default;

Result<std::unique_ptr<LocalSinkState>> WindowSink::MakeLocal(ExecContext* ctx,
                                                              int worker) {
  return collected_.MakeLocal(ctx);
}

Status WindowSink::Consume(ExecContext* ctx, LocalSinkState* local_base, Batch batch) {
  auto* local = static_cast<CollectedBatches*>(local_base);
  ARROW_RETURN_NOT_OK(local->Add(std::move(batch)));
  metrics().RecordPeak(local->reservation.size());
  return Status::OK();
}

Status WindowSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) {
  return collected_.Merge(ctx, std::move(local));
}

Status WindowSink::Finalize(ExecContext* ctx) {
  // Arrow >= 21 registers most compute kernels (if_else, used by Produce) on demand.
  static std::once_flag compute_ready;
  std::call_once(compute_ready, [] { (void)cp::Initialize(); });
  batch_rows_ = ctx->batch_rows();
  // Arrival order across workers is arbitrary; seq order makes ties (ROWS frames,
  // row_number among peers) deterministic when the input is.
  std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
  int64_t rows = 0;
  for (auto& b : collected_.TakeInOrder()) {
    rows += b.data->num_rows();
    rbs.push_back(b.data);
  }
  if (input_schema_->num_fields() == 0) {
    // Batches that carry only a length (the window uses no input column).
    input_ = arrow::RecordBatch::Make(input_schema_, rows, arrow::ArrayVector{});
  } else {
    ARROW_ASSIGN_OR_RAISE(auto table,
                          arrow::Table::FromRecordBatches(input_schema_, rbs));
    ARROW_ASSIGN_OR_RAISE(input_, table->CombineChunksToBatch(ctx->pool()));
  }
  rbs.clear();
  const int64_t n = input_->num_rows();
  const int64_t nfns = static_cast<int64_t>(functions_.size());
  // The input, its evaluated keys and arguments, the permutation, the encoded
  // partition keys, per-row work arrays and the results.
  ARROW_RETURN_NOT_OK(
      collected_.reservation().Resize(BatchMemory(*input_) * 2 + n * (64 + 48 * nfns)));
  metrics().RecordPeak(collected_.reservation().size());

  Shared shared;
  std::vector<ArrayPtr> order_arrays;
  for (const auto& k : order_by_) {
    ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k.expr, *input_));
    ARROW_ASSIGN_OR_RAISE(auto col, SortKeyColumn::Make(arr, k.ascending, k.nulls_first));
    shared.order.push_back(std::move(col));
    order_arrays.push_back(std::move(arr));
  }
  std::vector<FunctionState> fns(functions_.size());
  const int n_in = input_schema_->num_fields();
  bool need_range_key = false;
  for (size_t i = 0; i < functions_.size(); ++i) {
    const auto& wf = functions_[i];
    FunctionState& f = fns[i];
    ARROW_ASSIGN_OR_RAISE(f.fn, ParseFn(wf.name));
    f.type = output_schema_->field(n_in + static_cast<int>(i))->type();
    f.unit = wf.frame.unit;
    auto literal = [&](size_t a) -> Result<int64_t> {
      const auto& e = wf.args[a];
      if (e->kind != expr::ExprKind::kLiteral || !e->value ||
          e->value->type->id() != arrow::Type::INT64 || !e->value->is_valid) {
        return Status::Invalid("internal: ", wf.name,
                               "() needs an int64 constant (use plan::MakeWindow)");
      }
      return static_cast<const arrow::Int64Scalar&>(*e->value).value;
    };
    if (!wf.args.empty() && f.fn != Fn::kNtile) {
      ARROW_ASSIGN_OR_RAISE(f.arg, expr::EvaluateToArray(wf.args[0], *input_));
    }
    switch (f.fn) {
      case Fn::kNtile: {
        ARROW_ASSIGN_OR_RAISE(f.n, literal(0));
        break;
      }
      case Fn::kNthValue: {
        ARROW_ASSIGN_OR_RAISE(f.n, literal(1));
        break;
      }
      case Fn::kLag:
      case Fn::kLead: {
        if (wf.args.size() >= 2) {
          ARROW_ASSIGN_OR_RAISE(f.n, literal(1));
        }
        if (wf.args.size() >= 3) {
          ARROW_ASSIGN_OR_RAISE(f.defaults, expr::EvaluateToArray(wf.args[2], *input_));
        }
        break;
      }
      case Fn::kSum:
      case Fn::kAvg:
        if (f.arg->type()->id() == arrow::Type::DECIMAL128) {
          f.decimal_scale =
              static_cast<const arrow::DecimalType&>(*f.arg->type()).scale();
        }
        break;
      default:
        break;
    }
    if (f.n <= 0 && (f.fn == Fn::kNtile || f.fn == Fn::kNthValue)) {
      return Status::Invalid(wf.name, "() needs a positive integer constant");
    }
    // Frame bounds.
    WindowFrame frame = wf.frame;
    if (frame.is_default) frame = WindowFrame{};
    for (bool is_start : {true, false}) {
      const plan::FrameBound& pb = is_start ? frame.start : frame.end;
      Bound& b = is_start ? f.start : f.end;
      b.kind = pb.kind;
      if (pb.kind != FrameBoundKind::kPreceding &&
          pb.kind != FrameBoundKind::kFollowing) {
        continue;
      }
      if (!pb.offset || !pb.offset->is_valid) {
        return Status::Invalid("internal: frame offset missing (use plan::MakeWindow)");
      }
      if (frame.unit == FrameUnit::kRows) {
        if (pb.offset->type->id() != arrow::Type::INT64) {
          return Status::Invalid("internal: ROWS offset must be int64");
        }
        b.rows = static_cast<const arrow::Int64Scalar&>(*pb.offset).value;
        continue;
      }
      if (order_by_.size() != 1) {
        return Status::Invalid(
            "RANGE with an offset needs exactly one ORDER BY key of a numeric, date or "
            "timestamp type");
      }
      b.range_offset = true;
      ARROW_ASSIGN_OR_RAISE(b.range,
                            MakeRangeOffset(*order_by_[0].expr->type, *pb.offset));
      need_range_key = true;
    }
    // Result buffers.
    switch (f.fn) {
      case Fn::kPercentRank:
      case Fn::kCumeDist:
        f.f64.resize(n);
        break;
      case Fn::kAvg:
        f.f64.resize(n);
        f.valid.resize(n);
        break;
      case Fn::kSum:
        if (f.type->id() == arrow::Type::DECIMAL128) {
          f.wide.resize(n);
        } else if (f.type->id() == arrow::Type::INT64) {
          f.i64.resize(n);
        } else {
          f.f64.resize(n);
        }
        f.valid.resize(n);
        break;
      default:
        f.i64.resize(n);
        break;
    }
    if (f.defaults) f.use_default.resize(n, 0);
  }

  // Partition keys, encoded so that equal keys (NULLs included) compare and hash
  // equal.
  EncodedRows encoded;
  if (!partition_by_.empty()) {
    std::vector<ArrayPtr> keys;
    std::vector<std::shared_ptr<arrow::DataType>> types;
    for (const auto& p : partition_by_) {
      ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(p, *input_));
      types.push_back(arr->type());
      keys.push_back(std::move(arr));
    }
    ARROW_RETURN_NOT_OK(CheckEncodable(types));
    ARROW_RETURN_NOT_OK(EncodeRows(keys, &encoded));
    shared.partition_rows = &encoded;
  }

  // Buckets: whole partitions, by hash. Their number depends on the rows only, so
  // that the output order does not depend on the thread count.
  const int64_t num_buckets =
      partition_by_.empty() ? 1 : std::clamp<int64_t>(n / 4096, 1, 256);
  std::vector<int64_t> bucket_of(n, 0);
  std::vector<int64_t> bucket_begin(num_buckets + 1, 0);
  for (int64_t r = 0; r < n; ++r) {
    if (num_buckets > 1) {
      bucket_of[r] = static_cast<int64_t>(
          (static_cast<unsigned __int128>(encoded.hashes[r]) * num_buckets) >> 64);
    }
    bucket_begin[bucket_of[r] + 1]++;
  }
  for (int64_t b = 0; b < num_buckets; ++b) bucket_begin[b + 1] += bucket_begin[b];
  std::vector<int64_t> perm(n);
  {
    std::vector<int64_t> fill(bucket_begin.begin(), bucket_begin.end() - 1);
    for (int64_t r = 0; r < n; ++r) perm[fill[bucket_of[r]]++] = r;
  }
  bucket_of = {};
  shared.perm = perm.data();
  shared.fns = &fns;

  // Phase 1: every bucket into partitions and peer groups, in output order.
  std::vector<std::unique_ptr<BucketRun>> runs(num_buckets);
  for (int64_t b = 0; b < num_buckets; ++b) {
    runs[b] = std::make_unique<BucketRun>(shared, bucket_begin[b],
                                          bucket_begin[b + 1] - bucket_begin[b]);
  }
  ARROW_RETURN_NOT_OK(ParallelFor(ctx, num_buckets, [&](int64_t b) {
    runs[b]->Order();
    return Status::OK();
  }));
  encoded = EncodedRows{};
  shared.partition_rows = nullptr;
  shared.order.clear();

  // The values functions read, taken into output order once: computing then reads
  // memory in order instead of chasing row numbers.
  auto positions =
      std::make_shared<arrow::Int64Array>(n, arrow::Buffer::Wrap(perm.data(), n));
  // Each distinct array once (functions over the same column share it).
  std::vector<ArrayPtr*> uses;
  for (auto& f : fns) {
    if (f.arg) uses.push_back(&f.arg);
    if (f.defaults) uses.push_back(&f.defaults);
  }
  ArrayPtr range_key;
  if (need_range_key) {
    range_key = order_arrays[0];
    uses.push_back(&range_key);
  }
  std::vector<ArrayPtr> distinct;
  for (ArrayPtr* u : uses) {
    if (std::find(distinct.begin(), distinct.end(), *u) == distinct.end()) {
      distinct.push_back(*u);
    }
  }
  std::vector<ArrayPtr> taken(distinct.size());
  ARROW_RETURN_NOT_OK(
      ParallelFor(ctx, static_cast<int64_t>(distinct.size()), [&](int64_t i) -> Status {
        ARROW_ASSIGN_OR_RAISE(auto t, cp::Take(distinct[i], positions));
        taken[i] = t.make_array();
        return Status::OK();
      }));
  for (ArrayPtr* u : uses) {
    *u = taken[std::find(distinct.begin(), distinct.end(), *u) - distinct.begin()];
  }
  for (auto& f : fns) {
    if (f.fn == Fn::kSum || f.fn == Fn::kAvg) {
      ARROW_ASSIGN_OR_RAISE(f.number, NumberColumn::Make(f.arg));
    } else if (f.fn == Fn::kMin || f.fn == Fn::kMax) {
      ARROW_ASSIGN_OR_RAISE(auto col, SortKeyColumn::Make(f.arg));
      f.ordered = std::move(col);
    }
  }
  if (need_range_key) {
    ARROW_ASSIGN_OR_RAISE(shared.range_key, NumberColumn::Make(range_key));
    shared.range_ascending = order_by_[0].ascending;
    shared.range_nulls_first = order_by_[0].nulls_first;
  }

  // Phase 2: the functions.
  ARROW_RETURN_NOT_OK(
      ParallelFor(ctx, num_buckets, [&](int64_t b) { return runs[b]->Compute(); }));
  runs.clear();

  // Results as Arrow columns in output order.
  results_.clear();
  for (auto& f : fns) {
    auto r = std::make_unique<FunctionResult>();
    if (f.Gathers()) {
      std::vector<uint8_t> valid(n);
      for (int64_t i = 0; i < n; ++i) valid[i] = f.i64[i] >= 0;
      arrow::Int64Builder b;
      ARROW_ASSIGN_OR_RAISE(r->indices, WithValidity(&b, f.i64, valid));
      r->source = f.arg;
      if (f.defaults) {
        r->defaults = f.defaults;
        arrow::BooleanBuilder bb;
        ARROW_RETURN_NOT_OK(bb.Reserve(n));
        for (int64_t i = 0; i < n; ++i) bb.UnsafeAppend(f.use_default[i] != 0);
        ARROW_ASSIGN_OR_RAISE(r->use_default, bb.Finish());
      }
    } else if (f.fn == Fn::kSum && f.type->id() == arrow::Type::DECIMAL128) {
      arrow::Decimal128Builder b(f.type);
      ARROW_RETURN_NOT_OK(b.Reserve(n));
      for (int64_t i = 0; i < n; ++i) {
        if (f.valid[i]) {
          b.UnsafeAppend(ToDecimal(f.wide[i]));
        } else {
          b.UnsafeAppendNull();
        }
      }
      ARROW_ASSIGN_OR_RAISE(r->values, b.Finish());
    } else if (f.fn == Fn::kSum && f.type->id() == arrow::Type::INT64) {
      arrow::Int64Builder b;
      ARROW_ASSIGN_OR_RAISE(r->values, WithValidity(&b, f.i64, f.valid));
    } else if (f.fn == Fn::kSum || f.fn == Fn::kAvg) {
      arrow::DoubleBuilder b;
      ARROW_ASSIGN_OR_RAISE(r->values, WithValidity(&b, f.f64, f.valid));
    } else if (f.fn == Fn::kPercentRank || f.fn == Fn::kCumeDist) {
      r->values = std::make_shared<arrow::DoubleArray>(
          n, arrow::Buffer::FromVector(std::move(f.f64)));
    } else {
      r->values = std::make_shared<arrow::Int64Array>(
          n, arrow::Buffer::FromVector(std::move(f.i64)));
    }
    results_.push_back(std::move(r));
  }
  order_ =
      std::make_shared<arrow::Int64Array>(n, arrow::Buffer::FromVector(std::move(perm)));
  return Status::OK();
}

int64_t WindowSink::num_morsels() const {
  if (!order_) return 0;
  return (order_->length() + batch_rows_ - 1) / batch_rows_;
}

Status WindowSink::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  const int64_t offset = morsel * batch_rows_;
  const int64_t len = std::min(batch_rows_, order_->length() - offset);
  auto rows = order_->Slice(offset, len);
  std::vector<ArrayPtr> columns;
  if (input_->num_columns() > 0) {
    ARROW_ASSIGN_OR_RAISE(auto taken, cp::Take(arrow::Datum(input_), arrow::Datum(rows)));
    columns = taken.record_batch()->columns();
  }
  for (const auto& r : results_) {
    if (r->values) {
      columns.push_back(r->values->Slice(offset, len));
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(auto v, cp::Take(r->source, r->indices->Slice(offset, len)));
    if (r->defaults) {
      ARROW_ASSIGN_OR_RAISE(v, cp::IfElse(r->use_default->Slice(offset, len),
                                          r->defaults->Slice(offset, len), v));
    }
    columns.push_back(v.make_array());
  }
  auto batch = arrow::RecordBatch::Make(output_schema_, len, std::move(columns));
  return out->Emit(Batch{std::move(batch), MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
