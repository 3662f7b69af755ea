#include "sluice/exec/operators/aggregate_functions.h"

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_decimal.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/array/concatenate.h>
#include <arrow/compute/api.h>
#include <arrow/util/decimal.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "sluice/exec/key_table.h"
#include "sluice/expr/decimal_to_double.h"
#include "sluice/expr/eval.h"
#include "sluice/expr/types.h"

namespace sluice::exec {

namespace cp = arrow::compute;
using ArrayPtr = std::shared_ptr<arrow::Array>;
using TypePtr = std::shared_ptr<arrow::DataType>;

namespace {

// ---- spilled state
// ---------------------------------------------------------------------

// The per-group fields of fixed-size state (vectors indexed by group) packed side by
// side into one fixed_size_binary value per group: groups[i]'s in row i.
template <typename... Vs>
Result<ArrayPtr> SavePod(const uint32_t* groups, int64_t n, const Vs&... vecs) {
  constexpr int64_t width = (static_cast<int64_t>(sizeof(typename Vs::value_type)) + ...);
  ARROW_ASSIGN_OR_RAISE(auto buf, arrow::AllocateBuffer(n * width));
  uint8_t* out = buf->mutable_data();
  int64_t offset = 0;
  auto one = [&](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    static_assert(std::is_trivially_copyable_v<T>);
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(out + i * width + offset, &v[groups[i]], sizeof(T));
    }
    offset += sizeof(T);
  };
  (one(vecs), ...);
  return std::make_shared<arrow::FixedSizeBinaryArray>(
      arrow::fixed_size_binary(static_cast<int32_t>(width)), n,
      std::shared_ptr<arrow::Buffer>(std::move(buf)));
}

// The inverse of SavePod: the vectors hold groups [0, state.length()) afterwards.
template <typename... Vs>
Status LoadPod(const arrow::Array& state, Vs&... vecs) {
  constexpr int64_t width = (static_cast<int64_t>(sizeof(typename Vs::value_type)) + ...);
  if (state.type_id() != arrow::Type::FIXED_SIZE_BINARY ||
      static_cast<const arrow::FixedSizeBinaryType&>(*state.type()).byte_width() !=
          width) {
    return Status::Invalid("spilled aggregate state of type ", state.type()->ToString(),
                           " does not fit this aggregate");
  }
  const int64_t n = state.length();
  const uint8_t* in = static_cast<const arrow::FixedSizeBinaryArray&>(state).raw_values();
  int64_t offset = 0;
  auto one = [&](auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    v.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(&v[i], in + i * width + offset, sizeof(T));
    }
    offset += sizeof(T);
  };
  (one(vecs), ...);
  return Status::OK();
}

// ---- physical representations
// ----------------------------------------------------------

bool IsInt64Repr(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::BOOL:
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::TIME32:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION:
      return true;
    default:
      return arrow::is_integer(t.id());
  }
}

Result<ArrayPtr> ToInt64(const ArrayPtr& arr) {
  const auto& t = *arr->type();
  switch (t.id()) {
    case arrow::Type::INT64:
      return arr;
    case arrow::Type::DATE32:
    case arrow::Type::TIME32: {
      ARROW_ASSIGN_OR_RAISE(auto v, arr->View(arrow::int32()));
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(v, arrow::int64()));
      return d.make_array();
    }
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION:
      return arr->View(arrow::int64());
    case arrow::Type::BOOL: {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, arrow::int8()));
      ARROW_ASSIGN_OR_RAISE(auto e, cp::Cast(d, arrow::int64()));
      return e.make_array();
    }
    default: {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, arrow::int64()));
      return d.make_array();
    }
  }
}

Result<ArrayPtr> FromInt64(const ArrayPtr& arr, const TypePtr& type) {
  switch (type->id()) {
    case arrow::Type::INT64:
      return arr;
    case arrow::Type::DATE32:
    case arrow::Type::TIME32: {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, arrow::int32()));
      return d.make_array()->View(type);
    }
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION:
      return arr->View(type);
    default: {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, type));
      return d.make_array();
    }
  }
}

// Appends one value per group (NULL where the group saw none) and finishes the array.
template <typename Builder, typename T>
Result<ArrayPtr> BuildValues(Builder* b, const std::vector<T>& v,
                             const std::vector<uint8_t>& has) {
  ARROW_RETURN_NOT_OK(b->Reserve(static_cast<int64_t>(v.size())));
  for (size_t g = 0; g < v.size(); ++g) {
    if (has[g]) {
      b->UnsafeAppend(v[g]);
    } else {
      b->UnsafeAppendNull();
    }
  }
  std::shared_ptr<arrow::Array> out;
  ARROW_RETURN_NOT_OK(b->Finish(&out));
  return out;
}

template <typename T>
struct Repr;

template <>
struct Repr<int64_t> {
  ArrayPtr arr;
  const int64_t* raw = nullptr;
  static Result<Repr> Make(const ArrayPtr& a) {
    Repr r;
    ARROW_ASSIGN_OR_RAISE(r.arr, ToInt64(a));
    r.raw = r.arr->data()->GetValues<int64_t>(1);
    return r;
  }
  int64_t Get(int64_t i) const { return raw[i]; }
  static Result<ArrayPtr> Build(const std::vector<int64_t>& v,
                                const std::vector<uint8_t>& has, const TypePtr& type) {
    arrow::Int64Builder b;
    ARROW_ASSIGN_OR_RAISE(auto out, BuildValues(&b, v, has));
    return FromInt64(out, type);
  }
};

// Numbers as doubles, rounding integers beyond 2^53 (Arrow's safe cast refuses them).
Result<ArrayPtr> ToDouble(const ArrayPtr& a) {
  if (a->type()->id() == arrow::Type::DOUBLE) return a;
  if (a->type()->id() == arrow::Type::DECIMAL128) {
    return expr::DecimalToDouble(*a, arrow::default_memory_pool());
  }
  auto options = cp::CastOptions::Safe(arrow::float64());
  options.allow_float_truncate = true;
  ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(a, options));
  return d.make_array();
}

template <>
struct Repr<uint64_t> {
  ArrayPtr arr;
  const uint64_t* raw = nullptr;
  static Result<Repr> Make(const ArrayPtr& a) {
    Repr r;
    r.arr = a;
    r.raw = a->data()->GetValues<uint64_t>(1);
    return r;
  }
  uint64_t Get(int64_t i) const { return raw[i]; }
  static Result<ArrayPtr> Build(const std::vector<uint64_t>& v,
                                const std::vector<uint8_t>& has, const TypePtr& type) {
    arrow::UInt64Builder b;
    ARROW_ASSIGN_OR_RAISE(auto out, BuildValues(&b, v, has));
    return out;
  }
};

template <>
struct Repr<double> {
  ArrayPtr arr;
  const double* raw = nullptr;
  static Result<Repr> Make(const ArrayPtr& a) {
    Repr r;
    ARROW_ASSIGN_OR_RAISE(r.arr, ToDouble(a));
    r.raw = r.arr->data()->GetValues<double>(1);
    return r;
  }
  double Get(int64_t i) const { return raw[i]; }
  static Result<ArrayPtr> Build(const std::vector<double>& v,
                                const std::vector<uint8_t>& has, const TypePtr& type) {
    arrow::DoubleBuilder b;
    ARROW_ASSIGN_OR_RAISE(auto out, BuildValues(&b, v, has));
    if (type->id() == arrow::Type::DOUBLE) return out;
    ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(out, type));
    return d.make_array();
  }
};

template <>
struct Repr<arrow::Decimal128> {
  ArrayPtr arr;
  static Result<Repr> Make(const ArrayPtr& a) {
    Repr r;
    r.arr = a;
    return r;
  }
  arrow::Decimal128 Get(int64_t i) const {
    return arrow::Decimal128(
        static_cast<const arrow::Decimal128Array&>(*arr).GetValue(i));
  }
  static Result<ArrayPtr> Build(const std::vector<arrow::Decimal128>& v,
                                const std::vector<uint8_t>& has, const TypePtr& type) {
    arrow::Decimal128Builder b(type);
    ARROW_ASSIGN_OR_RAISE(auto out, BuildValues(&b, v, has));
    return out;
  }
};

template <>
struct Repr<std::string> {
  ArrayPtr arr;
  static Result<Repr> Make(const ArrayPtr& a) {
    Repr r;
    if (a->type()->id() == arrow::Type::STRING) {
      r.arr = a;
    } else {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(a, arrow::utf8()));
      r.arr = d.make_array();
    }
    return r;
  }
  std::string_view Get(int64_t i) const {
    return static_cast<const arrow::StringArray&>(*arr).GetView(i);
  }
  static Result<ArrayPtr> Build(const std::vector<std::string>& v,
                                const std::vector<uint8_t>& has, const TypePtr& type) {
    arrow::StringBuilder b;
    ARROW_RETURN_NOT_OK(b.Reserve(static_cast<int64_t>(v.size())));
    for (size_t g = 0; g < v.size(); ++g) {
      if (has[g]) {
        ARROW_RETURN_NOT_OK(b.Append(v[g]));
      } else {
        ARROW_RETURN_NOT_OK(b.AppendNull());
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto out, b.Finish());
    if (type->id() == arrow::Type::STRING) return out;
    ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(out, type));
    return d.make_array();
  }
};

// fn(i, value) for the non-null rows i < n of a DECIMAL128 array, values as __int128.
template <typename Fn>
void ForEachDecimal(const arrow::Array& arr, int64_t n, Fn&& fn) {
  const uint8_t* raw = arr.data()->GetValues<uint8_t>(1, 0) + arr.offset() * 16;
  const bool nulls = arr.null_count() != 0;
  for (int64_t i = 0; i < n; ++i) {
    if (nulls && arr.IsNull(i)) continue;
    __int128 v;
    std::memcpy(&v, raw + i * 16, 16);  // little-endian, low word first
    fn(i, v);
  }
}

// Decomposable aggregates: Merge and MergeSome from one per-group step,
// Self::MergeGroup(other, g, m) (other's group g into group m), over Self::MergeSize()
// groups of other.
template <typename Self>
class Decomposable : public GroupedAccumulator {
 public:
  Status Merge(GroupedAccumulator* other_base, const uint32_t* mapping) override {
    auto* self = static_cast<Self*>(this);
    auto* other = static_cast<Self*>(other_base);
    const size_t n = other->MergeSize();
    for (size_t g = 0; g < n; ++g) {
      if (mapping[g] != kNoGroup)
        ARROW_RETURN_NOT_OK(self->MergeGroup(other, g, mapping[g]));
    }
    return Status::OK();
  }
  Status MergeSome(GroupedAccumulator* other_base, const uint32_t* from,
                   const uint32_t* to, int64_t n) override {
    auto* self = static_cast<Self*>(this);
    auto* other = static_cast<Self*>(other_base);
    for (int64_t j = 0; j < n; ++j) {
      ARROW_RETURN_NOT_OK(self->MergeGroup(other, from[j], to[j]));
    }
    return Status::OK();
  }
};

// ---- min / max / first / last / any_value
// ----------------------------------------------

enum class Pick { kMin, kMax, kFirst, kLast };

template <typename T>
class PickAccumulator : public Decomposable<PickAccumulator<T>> {
 public:
  PickAccumulator(Pick pick, TypePtr type) : pick_(pick), type_(std::move(type)) {}

  Status Resize(int64_t n) override {
    vals_.resize(n);
    has_.resize(n, 0);
    return Status::OK();
  }

  // NaN sorts above every number (as in ORDER BY and DuckDB), so min and max do not
  // depend on the order rows arrive in (found by fuzz-sql).
  template <typename A, typename B>
  static bool Less(const A& a, const B& b) {
    if constexpr (std::is_floating_point_v<A> && std::is_floating_point_v<B>) {
      if (std::isnan(a)) return false;
      if (std::isnan(b)) return true;
    }
    return a < b;
  }

  template <typename V>
  bool Better(const V& v, const T& cur) const {
    switch (pick_) {
      case Pick::kMin:
        return Less(v, cur);
      case Pick::kMax:
        return Less(cur, v);
      case Pick::kFirst:
        return false;
      case Pick::kLast:
        return true;
    }
    return false;
  }

  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    ARROW_ASSIGN_OR_RAISE(auto r, Repr<T>::Make(arg));
    for (int64_t i = 0; i < n; ++i) {
      if (arg->IsNull(i)) continue;
      uint32_t g = ids[i];
      auto v = r.Get(i);
      if (!has_[g]) {
        vals_[g] = T(v);
        has_[g] = 1;
      } else if (Better(v, vals_[g])) {
        vals_[g] = T(v);
      }
    }
    return Status::OK();
  }

  size_t MergeSize() const { return vals_.size(); }
  Status MergeGroup(PickAccumulator* other, size_t g, uint32_t m) {
    if (other->has_[g] && (!has_[m] || Better(other->vals_[g], vals_[m]))) {
      vals_[m] = other->vals_[g];  // a copy: window panes merge into several windows
      has_[m] = 1;
    }
    return Status::OK();
  }

  Result<ArrayPtr> Finalize() override { return Repr<T>::Build(vals_, has_, type_); }

  Result<ArrayPtr> SaveState(const uint32_t* groups, int64_t n) const override {
    if constexpr (std::is_same_v<T, std::string>) {
      arrow::BinaryBuilder b;
      ARROW_RETURN_NOT_OK(b.Reserve(n));
      for (int64_t i = 0; i < n; ++i) {
        if (has_[groups[i]]) {
          ARROW_RETURN_NOT_OK(b.Append(vals_[groups[i]]));
        } else {
          ARROW_RETURN_NOT_OK(b.AppendNull());
        }
      }
      return b.Finish();
    } else {
      return SavePod(groups, n, vals_, has_);
    }
  }

  Status LoadState(const arrow::Array& state) override {
    if constexpr (std::is_same_v<T, std::string>) {
      if (state.type_id() != arrow::Type::BINARY) {
        return Status::Invalid("spilled state of type ", state.type()->ToString(),
                               " does not fit min/max of strings");
      }
      const auto& b = static_cast<const arrow::BinaryArray&>(state);
      const int64_t n = b.length();
      vals_.assign(n, std::string());
      has_.assign(n, 0);
      for (int64_t i = 0; i < n; ++i) {
        if (b.IsNull(i)) continue;
        vals_[i] = std::string(b.GetView(i));
        has_[i] = 1;
      }
      return Status::OK();
    } else {
      return LoadPod(state, vals_, has_);
    }
  }

  int64_t MemoryUsage() const override {
    int64_t extra = 0;
    if constexpr (std::is_same_v<T, std::string>) {
      for (const auto& s : vals_) extra += static_cast<int64_t>(s.capacity());
    }
    return static_cast<int64_t>(vals_.capacity() * sizeof(T) + has_.capacity()) + extra;
  }

 private:
  Pick pick_;
  TypePtr type_;
  std::vector<T> vals_;
  std::vector<uint8_t> has_;
};

// ---- count ---------------------------------------------------------------------------

class CountAccumulator : public Decomposable<CountAccumulator> {
 public:
  explicit CountAccumulator(bool star) : star_(star) {}
  Status Resize(int64_t n) override {
    counts_.resize(n, 0);
    return Status::OK();
  }
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    if (star_ || arg->null_count() == 0) {
      for (int64_t i = 0; i < n; ++i) counts_[ids[i]]++;
    } else {
      for (int64_t i = 0; i < n; ++i) counts_[ids[i]] += arg->IsValid(i);
    }
    return Status::OK();
  }
  size_t MergeSize() const { return counts_.size(); }
  Status MergeGroup(CountAccumulator* o, size_t g, uint32_t m) {
    counts_[m] += o->counts_[g];
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    arrow::Int64Builder b;
    ARROW_RETURN_NOT_OK(b.AppendValues(counts_));
    return b.Finish();
  }
  int64_t MemoryUsage() const override {
    return static_cast<int64_t>(counts_.capacity() * 8);
  }
  Result<ArrayPtr> SaveState(const uint32_t* groups, int64_t n) const override {
    return SavePod(groups, n, counts_);
  }
  Status LoadState(const arrow::Array& state) override { return LoadPod(state, counts_); }

 private:
  bool star_;
  std::vector<int64_t> counts_;
};

// ---- sum -----------------------------------------------------------------------------

template <typename T>
class SumAccumulator : public Decomposable<SumAccumulator<T>> {
  // Decimals sum as native 128-bit integers (Decimal128's operators are out-of-line).
  static constexpr bool kDecimal = std::is_same_v<T, arrow::Decimal128>;
  using Store = std::conditional_t<kDecimal, __int128, T>;

 public:
  explicit SumAccumulator(TypePtr type) : type_(std::move(type)) {}
  Status Resize(int64_t n) override {
    sums_.resize(n, Store(0));
    has_.resize(n, 0);
    return Status::OK();
  }
  Status Add(uint32_t g, const Store& v) {
    if constexpr (std::is_same_v<T, int64_t>) {
      if (__builtin_add_overflow(sums_[g], v, &sums_[g])) {
        return Status::Invalid(
            "integer overflow in sum(): the total exceeds the bigint range "
            "(cast the argument to decimal or double)");
      }
    } else {
      sums_[g] += v;
    }
    has_[g] = 1;
    return Status::OK();
  }
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    if constexpr (kDecimal) {
      ForEachDecimal(*arg, n, [&](int64_t i, __int128 v) {
        sums_[ids[i]] += v;
        has_[ids[i]] = 1;
      });
      return Status::OK();
    } else {
      ARROW_ASSIGN_OR_RAISE(auto r, Repr<T>::Make(arg));
      const bool nulls = arg->null_count() != 0;
      for (int64_t i = 0; i < n; ++i) {
        if (nulls && arg->IsNull(i)) continue;
        ARROW_RETURN_NOT_OK(Add(ids[i], r.Get(i)));
      }
      return Status::OK();
    }
  }
  size_t MergeSize() const { return sums_.size(); }
  Status MergeGroup(SumAccumulator* o, size_t g, uint32_t m) {
    if (o->has_[g]) return Add(m, o->sums_[g]);
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    if constexpr (kDecimal) {
      std::vector<arrow::Decimal128> values(sums_.size());
      for (size_t g = 0; g < sums_.size(); ++g) {
        values[g] = arrow::Decimal128(static_cast<int64_t>(sums_[g] >> 64),
                                      static_cast<uint64_t>(sums_[g]));
      }
      return Repr<T>::Build(values, has_, type_);
    } else {
      return Repr<T>::Build(sums_, has_, type_);
    }
  }
  int64_t MemoryUsage() const override {
    return static_cast<int64_t>(sums_.capacity() * sizeof(Store) + has_.capacity());
  }
  Result<ArrayPtr> SaveState(const uint32_t* groups, int64_t n) const override {
    return SavePod(groups, n, sums_, has_);
  }
  Status LoadState(const arrow::Array& state) override {
    return LoadPod(state, sums_, has_);
  }

 private:
  TypePtr type_;
  std::vector<Store> sums_;
  std::vector<uint8_t> has_;
};

// ---- avg, variance
// ------------------------------------------------------------------------

enum class Moment { kVarSamp, kVarPop, kStddevSamp, kStddevPop };

// Per group: count, mean and M2 (Welford), merged with Chan et al.'s formula.
class MomentAccumulator : public Decomposable<MomentAccumulator> {
 public:
  explicit MomentAccumulator(Moment kind) : kind_(kind) {}
  Status Resize(int64_t n) override {
    count_.resize(n, 0);
    mean_.resize(n, 0);
    m2_.resize(n, 0);
    return Status::OK();
  }
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    ARROW_ASSIGN_OR_RAISE(auto r, Repr<double>::Make(arg));
    for (int64_t i = 0; i < n; ++i) {
      if (arg->IsNull(i)) continue;
      uint32_t g = ids[i];
      double x = r.Get(i);
      double c = static_cast<double>(++count_[g]);
      double delta = x - mean_[g];
      mean_[g] += delta / c;
      m2_[g] += delta * (x - mean_[g]);
    }
    return Status::OK();
  }
  size_t MergeSize() const { return count_.size(); }
  Status MergeGroup(MomentAccumulator* o, size_t g, uint32_t m) {
    {
      if (o->count_[g] == 0) return Status::OK();
      double na = static_cast<double>(count_[m]), nb = static_cast<double>(o->count_[g]);
      double n = na + nb;
      double delta = o->mean_[g] - mean_[m];
      // mean += delta * nb / n keeps equal means exact (a weighted average of two
      // equal means can round, and the rounding then shows as a tiny non-zero
      // variance of identical values; found by fuzz-sql at 4 threads).
      mean_[m] += delta * nb / n;
      m2_[m] += o->m2_[g] + delta * delta * na * nb / n;
      count_[m] += o->count_[g];
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    arrow::DoubleBuilder b;
    ARROW_RETURN_NOT_OK(b.Reserve(static_cast<int64_t>(count_.size())));
    for (size_t g = 0; g < count_.size(); ++g) {
      double n = static_cast<double>(count_[g]);
      switch (kind_) {
        case Moment::kVarSamp:
        case Moment::kStddevSamp:
          if (n < 2) {
            b.UnsafeAppendNull();
          } else {
            double v = m2_[g] / (n - 1);
            b.UnsafeAppend(kind_ == Moment::kVarSamp ? v : std::sqrt(v));
          }
          break;
        case Moment::kVarPop:
        case Moment::kStddevPop:
          if (n < 1) {
            b.UnsafeAppendNull();
          } else {
            double v = m2_[g] / n;
            b.UnsafeAppend(kind_ == Moment::kVarPop ? v : std::sqrt(v));
          }
          break;
      }
    }
    return b.Finish();
  }
  int64_t MemoryUsage() const override {
    return static_cast<int64_t>(count_.capacity() * 24);
  }
  Result<ArrayPtr> SaveState(const uint32_t* groups, int64_t n) const override {
    return SavePod(groups, n, count_, mean_, m2_);
  }
  Status LoadState(const arrow::Array& state) override {
    return LoadPod(state, count_, mean_, m2_);
  }

 private:
  Moment kind_;
  std::vector<int64_t> count_;
  std::vector<double> mean_;
  std::vector<double> m2_;
};

// ---- corr, covar_samp, covar_pop
// Per group: count, both means and the co-moment and second moments (Welford's
// update for two variables), merged with the pairwise formula. The argument is a
// struct array {x, y}; rows where either is NULL are skipped.
enum class CoMoment { kCorr, kCovarSamp, kCovarPop };

class CoMomentAccumulator : public Decomposable<CoMomentAccumulator> {
 public:
  explicit CoMomentAccumulator(CoMoment kind) : kind_(kind) {}
  Status Resize(int64_t n) override {
    s_.resize(n);
    return Status::OK();
  }
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    const auto& pair = static_cast<const arrow::StructArray&>(*arg);
    const ArrayPtr& xs = pair.field(0);
    const ArrayPtr& ys = pair.field(1);
    ARROW_ASSIGN_OR_RAISE(auto rx, Repr<double>::Make(xs));
    ARROW_ASSIGN_OR_RAISE(auto ry, Repr<double>::Make(ys));
    for (int64_t i = 0; i < n; ++i) {
      if (xs->IsNull(i) || ys->IsNull(i)) continue;
      State& st = s_[ids[i]];
      double x = rx.Get(i);
      double y = ry.Get(i);
      double c = static_cast<double>(++st.n);
      double dx = x - st.mx;
      st.mx += dx / c;
      double dy_old = y - st.my;
      st.my += dy_old / c;
      double dy_new = y - st.my;
      st.cxy += dx * dy_new;
      st.m2x += dx * (x - st.mx);
      st.m2y += dy_old * dy_new;
    }
    return Status::OK();
  }
  size_t MergeSize() const { return s_.size(); }
  Status MergeGroup(CoMomentAccumulator* o, size_t g, uint32_t m) {
    {
      const State& b = o->s_[g];
      if (b.n == 0) return Status::OK();
      State& a = s_[m];
      if (a.n == 0) {
        a = b;
        return Status::OK();
      }
      double na = static_cast<double>(a.n), nb = static_cast<double>(b.n);
      double n = na + nb;
      double dx = b.mx - a.mx;
      double dy = b.my - a.my;
      a.cxy += b.cxy + dx * dy * na * nb / n;
      a.m2x += b.m2x + dx * dx * na * nb / n;
      a.m2y += b.m2y + dy * dy * na * nb / n;
      a.mx += dx * nb / n;
      a.my += dy * nb / n;
      a.n += b.n;
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    arrow::DoubleBuilder b;
    ARROW_RETURN_NOT_OK(b.Reserve(static_cast<int64_t>(s_.size())));
    for (const State& st : s_) {
      double n = static_cast<double>(st.n);
      switch (kind_) {
        case CoMoment::kCovarPop:
          if (st.n < 1) {
            b.UnsafeAppendNull();
          } else {
            b.UnsafeAppend(st.cxy / n);
          }
          break;
        case CoMoment::kCovarSamp:
          if (st.n < 2) {
            b.UnsafeAppendNull();
          } else {
            b.UnsafeAppend(st.cxy / (n - 1));
          }
          break;
        case CoMoment::kCorr:
          // No correlation without two pairs or when a variable does not vary.
          if (st.n < 2 || st.m2x == 0 || st.m2y == 0) {
            b.UnsafeAppendNull();
          } else {
            b.UnsafeAppend(st.cxy / std::sqrt(st.m2x * st.m2y));
          }
          break;
      }
    }
    return b.Finish();
  }
  int64_t MemoryUsage() const override {
    return static_cast<int64_t>(s_.capacity() * sizeof(State));
  }
  Result<ArrayPtr> SaveState(const uint32_t* groups, int64_t n) const override {
    return SavePod(groups, n, s_);
  }
  Status LoadState(const arrow::Array& state) override { return LoadPod(state, s_); }

 private:
  struct State {
    int64_t n = 0;
    double mx = 0, my = 0, cxy = 0, m2x = 0, m2y = 0;
  };
  CoMoment kind_;
  std::vector<State> s_;
};

// avg: sum / count. Integers and decimals sum exactly in 128 bits (a running mean
// loses precision when large values cancel); floats sum as double.
class AvgAccumulator : public Decomposable<AvgAccumulator> {
 public:
  explicit AvgAccumulator(TypePtr arg_type) {
    if (arrow::is_decimal(arg_type->id())) {
      mode_ = kDecimal;
      divisor_ =
          std::pow(10.0, static_cast<const arrow::DecimalType&>(*arg_type).scale());
    } else if (arrow::is_integer(arg_type->id()) &&
               arg_type->id() != arrow::Type::UINT64) {
      mode_ = kInteger;
    } else {
      mode_ = kDouble;
    }
  }
  Status Resize(int64_t n) override {
    count_.resize(n, 0);
    if (mode_ == kDouble) {
      dsum_.resize(n, 0);
    } else {
      isum_.resize(n, 0);
    }
    return Status::OK();
  }
  // Adds values v[0, n) (nulls where `valid` has a 0 bit, from bit `offset`) to their
  // groups: a loop without a validity test when there are no NULLs.
  template <typename T, typename Sum>
  void AddValues(const T* v, const uint8_t* valid, int64_t offset, const uint32_t* ids,
                 int64_t n, Sum* sums) {
    if (valid == nullptr) {
      for (int64_t i = 0; i < n; ++i) {
        sums[ids[i]] += v[i];
        count_[ids[i]]++;
      }
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      if (!arrow::bit_util::GetBit(valid, offset + i)) continue;
      sums[ids[i]] += v[i];
      count_[ids[i]]++;
    }
  }

  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    const auto& data = *arg->data();
    const uint8_t* valid =
        arg->null_count() > 0 ? data.GetValues<uint8_t>(0, 0) : nullptr;
    if (mode_ == kDouble) {
      if (arg->type_id() == arrow::Type::DOUBLE) {
        AddValues(data.GetValues<double>(1), valid, data.offset, ids, n, dsum_.data());
        return Status::OK();
      }
      ARROW_ASSIGN_OR_RAISE(auto d, ToDouble(arg));
      const auto& dd = *d->data();
      AddValues(dd.GetValues<double>(1),
                d->null_count() > 0 ? dd.GetValues<uint8_t>(0, 0) : nullptr, dd.offset,
                ids, n, dsum_.data());
    } else if (mode_ == kInteger) {
      switch (arg->type_id()) {
        case arrow::Type::INT32:
          AddValues(data.GetValues<int32_t>(1), valid, data.offset, ids, n, isum_.data());
          return Status::OK();
        case arrow::Type::INT64:
          AddValues(data.GetValues<int64_t>(1), valid, data.offset, ids, n, isum_.data());
          return Status::OK();
        default:
          break;
      }
      ARROW_ASSIGN_OR_RAISE(auto x, ToInt64(arg));
      const auto& xd = *x->data();
      AddValues(xd.GetValues<int64_t>(1),
                x->null_count() > 0 ? xd.GetValues<uint8_t>(0, 0) : nullptr, xd.offset,
                ids, n, isum_.data());
    } else {
      ForEachDecimal(*arg, n, [&](int64_t i, __int128 v) {
        isum_[ids[i]] += v;
        count_[ids[i]]++;
      });
    }
    return Status::OK();
  }
  size_t MergeSize() const { return count_.size(); }
  Status MergeGroup(AvgAccumulator* o, size_t g, uint32_t m) {
    {
      count_[m] += o->count_[g];
      if (mode_ == kDouble) {
        dsum_[m] += o->dsum_[g];
      } else {
        isum_[m] += o->isum_[g];
      }
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    arrow::DoubleBuilder b;
    ARROW_RETURN_NOT_OK(b.Reserve(static_cast<int64_t>(count_.size())));
    for (size_t g = 0; g < count_.size(); ++g) {
      if (count_[g] == 0) {
        b.UnsafeAppendNull();
        continue;
      }
      double c = static_cast<double>(count_[g]);
      if (mode_ == kDouble) {
        b.UnsafeAppend(dsum_[g] / c);
      } else {
        // Divide in 128 bits first so that the quotient keeps its precision.
        __int128 q = isum_[g] / count_[g];
        __int128 r = isum_[g] % count_[g];
        double v = static_cast<double>(q) + static_cast<double>(r) / c;
        b.UnsafeAppend(mode_ == kDecimal ? v / divisor_ : v);
      }
    }
    return b.Finish();
  }
  int64_t MemoryUsage() const override {
    return static_cast<int64_t>(count_.capacity() * 8 + dsum_.capacity() * 8 +
                                isum_.capacity() * 16);
  }
  Result<ArrayPtr> SaveState(const uint32_t* groups, int64_t n) const override {
    if (mode_ == kDouble) return SavePod(groups, n, count_, dsum_);
    return SavePod(groups, n, count_, isum_);
  }
  Status LoadState(const arrow::Array& state) override {
    if (mode_ == kDouble) return LoadPod(state, count_, dsum_);
    return LoadPod(state, count_, isum_);
  }

 private:
  enum Mode { kDouble, kInteger, kDecimal } mode_;
  double divisor_ = 1;
  std::vector<int64_t> count_;
  std::vector<double> dsum_;
  std::vector<__int128> isum_;
};

// ---- bool_and / bool_or
// -------------------------------------------------------------------

class BoolAccumulator : public Decomposable<BoolAccumulator> {
 public:
  explicit BoolAccumulator(bool is_and) : is_and_(is_and) {}
  Status Resize(int64_t n) override {
    state_.resize(n, -1);
    return Status::OK();
  }
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    const auto& b = static_cast<const arrow::BooleanArray&>(*arg);
    for (int64_t i = 0; i < n; ++i) {
      if (b.IsNull(i)) continue;
      Combine(ids[i], b.Value(i) ? 1 : 0);
    }
    return Status::OK();
  }
  void Combine(uint32_t g, int8_t v) {
    if (state_[g] < 0) {
      state_[g] = v;
    } else {
      state_[g] = is_and_ ? (state_[g] & v) : (state_[g] | v);
    }
  }
  size_t MergeSize() const { return state_.size(); }
  Status MergeGroup(BoolAccumulator* o, size_t g, uint32_t m) {
    if (o->state_[g] >= 0) Combine(m, o->state_[g]);
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    arrow::BooleanBuilder b;
    ARROW_RETURN_NOT_OK(b.Reserve(static_cast<int64_t>(state_.size())));
    for (int8_t s : state_) {
      if (s < 0) {
        b.UnsafeAppendNull();
      } else {
        b.UnsafeAppend(s == 1);
      }
    }
    return b.Finish();
  }
  int64_t MemoryUsage() const override { return static_cast<int64_t>(state_.capacity()); }
  Result<ArrayPtr> SaveState(const uint32_t* groups, int64_t n) const override {
    return SavePod(groups, n, state_);
  }
  Status LoadState(const arrow::Array& state) override { return LoadPod(state, state_); }

 private:
  bool is_and_;
  std::vector<int8_t> state_;
};

// ---- holistic: keep (group, value) pairs ----------------------------------------------

class CollectedValues {
 public:
  void Add(const ArrayPtr& values, const uint32_t* ids, int64_t n) {
    chunks_.push_back(values);
    ids_.insert(ids_.end(), ids, ids + n);
    bytes_ += values->length() * 16;
  }
  void MergeFrom(CollectedValues* other, const uint32_t* mapping) {
    for (auto& c : other->chunks_) chunks_.push_back(c);
    for (uint32_t id : other->ids_) ids_.push_back(mapping[id]);
    bytes_ += other->bytes_;
  }
  /// All values concatenated (null when there are none) and their groups.
  Result<ArrayPtr> Values(const TypePtr& type) const {
    if (chunks_.empty()) return arrow::MakeEmptyArray(type);
    return arrow::Concatenate(chunks_);
  }
  const std::vector<uint32_t>& ids() const { return ids_; }
  int64_t MemoryUsage() const {
    return bytes_ + static_cast<int64_t>(ids_.capacity() * 4);
  }

 private:
  std::vector<ArrayPtr> chunks_;
  std::vector<uint32_t> ids_;
  int64_t bytes_ = 0;
};

class QuantileAccumulator : public GroupedAccumulator {
 public:
  explicit QuantileAccumulator(double q) : q_(q) {}
  Status Resize(int64_t n) override {
    groups_ = n;
    return Status::OK();
  }
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    ARROW_ASSIGN_OR_RAISE(auto d, ToDouble(arg));
    values_.Add(d, ids, n);
    return Status::OK();
  }
  Status Merge(GroupedAccumulator* other, const uint32_t* mapping) override {
    values_.MergeFrom(&static_cast<QuantileAccumulator*>(other)->values_, mapping);
    return Status::OK();
  }
  bool PartialMerge() const override { return false; }
  Result<ArrayPtr> Finalize() override {
    ARROW_ASSIGN_OR_RAISE(auto all, values_.Values(arrow::float64()));
    const auto& d = static_cast<const arrow::DoubleArray&>(*all);
    std::vector<std::vector<double>> per_group(groups_);
    const auto& ids = values_.ids();
    for (int64_t i = 0; i < d.length(); ++i) {
      if (d.IsValid(i)) per_group[ids[i]].push_back(d.Value(i));
    }
    arrow::DoubleBuilder b;
    ARROW_RETURN_NOT_OK(b.Reserve(groups_));
    for (auto& v : per_group) {
      if (v.empty()) {
        b.UnsafeAppendNull();
        continue;
      }
      double pos = q_ * static_cast<double>(v.size() - 1);
      size_t lo = static_cast<size_t>(std::floor(pos));
      size_t hi = static_cast<size_t>(std::ceil(pos));
      std::nth_element(v.begin(), v.begin() + lo, v.end());
      double a = v[lo];
      double c = a;
      if (hi != lo) c = *std::min_element(v.begin() + lo + 1, v.end());
      b.UnsafeAppend(a + (c - a) * (pos - static_cast<double>(lo)));
    }
    return b.Finish();
  }
  int64_t MemoryUsage() const override { return values_.MemoryUsage(); }

 private:
  double q_;
  int64_t groups_ = 0;
  CollectedValues values_;
};

class StringAggAccumulator : public GroupedAccumulator {
 public:
  explicit StringAggAccumulator(std::string sep) : sep_(std::move(sep)) {}
  Status Resize(int64_t n) override {
    groups_ = n;
    return Status::OK();
  }
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arg, arrow::utf8()));
    values_.Add(d.make_array(), ids, n);
    return Status::OK();
  }
  Status Merge(GroupedAccumulator* other, const uint32_t* mapping) override {
    values_.MergeFrom(&static_cast<StringAggAccumulator*>(other)->values_, mapping);
    return Status::OK();
  }
  bool PartialMerge() const override { return false; }
  Result<ArrayPtr> Finalize() override {
    ARROW_ASSIGN_OR_RAISE(auto all, values_.Values(arrow::utf8()));
    const auto& s = static_cast<const arrow::StringArray&>(*all);
    std::vector<std::string> out(groups_);
    std::vector<uint8_t> has(groups_, 0);
    const auto& ids = values_.ids();
    for (int64_t i = 0; i < s.length(); ++i) {
      if (s.IsNull(i)) continue;
      uint32_t g = ids[i];
      if (has[g]) out[g] += sep_;
      out[g] += s.GetView(i);
      has[g] = 1;
    }
    return Repr<std::string>::Build(out, has, arrow::utf8());
  }
  int64_t MemoryUsage() const override { return values_.MemoryUsage(); }

 private:
  std::string sep_;
  int64_t groups_ = 0;
  CollectedValues values_;
};

// Any aggregate over DISTINCT values: collect, drop duplicate (group, value) pairs,
// then run the inner aggregate over what remains.
class DistinctAccumulator : public GroupedAccumulator {
 public:
  DistinctAccumulator(std::unique_ptr<GroupedAccumulator> inner, TypePtr arg_type)
      : inner_(std::move(inner)), arg_type_(std::move(arg_type)), seen_(nullptr) {}
  Status Resize(int64_t n) override {
    groups_ = n;
    return Status::OK();
  }
  // Deduplicates as it goes: only (group, value) pairs not seen before are kept, so
  // memory grows with the distinct pairs, not the input.
  Status Update(const ArrayPtr& arg, const uint32_t* ids, int64_t n) override {
    return AddUnique(arg, ids, n);
  }
  Status Merge(GroupedAccumulator* other_base, const uint32_t* mapping) override {
    auto* other = static_cast<DistinctAccumulator*>(other_base);
    ARROW_ASSIGN_OR_RAISE(auto values, other->values_.Values(arg_type_));
    std::vector<uint32_t> ids(other->values_.ids().size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = mapping[other->values_.ids()[i]];
    return AddUnique(values, ids.data(), static_cast<int64_t>(ids.size()));
  }
  bool PartialMerge() const override { return false; }
  Result<ArrayPtr> Finalize() override {
    ARROW_ASSIGN_OR_RAISE(auto all, values_.Values(arg_type_));
    const auto& ids = values_.ids();
    ARROW_RETURN_NOT_OK(inner_->Resize(groups_));
    ARROW_RETURN_NOT_OK(
        inner_->Update(all, ids.data(), static_cast<int64_t>(ids.size())));
    return inner_->Finalize();
  }
  int64_t MemoryUsage() const override {
    return values_.MemoryUsage() + seen_.MemoryUsage();
  }

 private:
  Status AddUnique(const ArrayPtr& arg, const uint32_t* ids, int64_t n) {
    if (n == 0) return Status::OK();
    auto id_buffer =
        std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(ids),
                                        n * static_cast<int64_t>(sizeof(uint32_t)));
    auto id_array = std::make_shared<arrow::UInt32Array>(n, id_buffer);
    ARROW_RETURN_NOT_OK(EncodeRows({id_array, arg}, &rows_));
    key_ids_.resize(n);
    const int64_t before = seen_.size();
    ARROW_RETURN_NOT_OK(seen_.FindOrInsert(rows_, key_ids_.data()));
    // A row is new when it got the next fresh id (later duplicates in the batch reuse
    // it).
    std::vector<int64_t> keep;
    std::vector<uint32_t> kept_ids;
    int64_t next = before;
    for (int64_t i = 0; i < n; ++i) {
      if (key_ids_[i] == next) {
        keep.push_back(i);
        kept_ids.push_back(ids[i]);
        ++next;
      }
    }
    if (keep.empty()) return Status::OK();
    arrow::Int64Builder b;
    ARROW_RETURN_NOT_OK(b.AppendValues(keep));
    ARROW_ASSIGN_OR_RAISE(auto idx, b.Finish());
    ARROW_ASSIGN_OR_RAISE(auto kept, cp::Take(arg, idx));
    values_.Add(kept.make_array(), kept_ids.data(),
                static_cast<int64_t>(kept_ids.size()));
    return Status::OK();
  }

  std::unique_ptr<GroupedAccumulator> inner_;
  TypePtr arg_type_;
  int64_t groups_ = 0;
  KeyTable seen_;
  EncodedRows rows_;
  std::vector<uint32_t> key_ids_;
  CollectedValues values_;
};

template <template <typename> class Acc, typename... Args>
Result<std::unique_ptr<GroupedAccumulator>> ByRepr(const TypePtr& arg_type,
                                                   Args&&... args) {
  if (arg_type->id() == arrow::Type::UINT64) {
    return std::make_unique<Acc<uint64_t>>(std::forward<Args>(args)...);
  }
  if (IsInt64Repr(*arg_type) || arg_type->id() == arrow::Type::NA) {
    return std::make_unique<Acc<int64_t>>(std::forward<Args>(args)...);
  }
  if (arrow::is_floating(arg_type->id()))
    return std::make_unique<Acc<double>>(std::forward<Args>(args)...);
  if (arg_type->id() == arrow::Type::DECIMAL128) {
    return std::make_unique<Acc<arrow::Decimal128>>(std::forward<Args>(args)...);
  }
  if (expr::IsStringLike(*arg_type))
    return std::make_unique<Acc<std::string>>(std::forward<Args>(args)...);
  return Status::NotImplemented("aggregate over ", arg_type->ToString());
}

Result<std::unique_ptr<GroupedAccumulator>> MakePlain(const expr::ExprNode& agg) {
  const std::string& name = agg.name;
  const TypePtr& out = agg.type;
  TypePtr arg_type = agg.args.empty() ? arrow::null() : agg.args[0]->type;
  if (name == "count_star") return std::make_unique<CountAccumulator>(true);
  if (name == "count") return std::make_unique<CountAccumulator>(agg.args.empty());
  if (name == "sum") {
    if (out->id() == arrow::Type::INT64)
      return std::make_unique<SumAccumulator<int64_t>>(out);
    if (out->id() == arrow::Type::DECIMAL128) {
      return std::make_unique<SumAccumulator<arrow::Decimal128>>(out);
    }
    return std::make_unique<SumAccumulator<double>>(out);
  }
  if (name == "avg") return std::make_unique<AvgAccumulator>(arg_type);
  if (name == "var_samp") return std::make_unique<MomentAccumulator>(Moment::kVarSamp);
  if (name == "var_pop") return std::make_unique<MomentAccumulator>(Moment::kVarPop);
  if (name == "stddev_samp")
    return std::make_unique<MomentAccumulator>(Moment::kStddevSamp);
  if (name == "stddev_pop")
    return std::make_unique<MomentAccumulator>(Moment::kStddevPop);
  if (name == "corr") return std::make_unique<CoMomentAccumulator>(CoMoment::kCorr);
  if (name == "covar_samp")
    return std::make_unique<CoMomentAccumulator>(CoMoment::kCovarSamp);
  if (name == "covar_pop")
    return std::make_unique<CoMomentAccumulator>(CoMoment::kCovarPop);
  if (name == "bool_and") return std::make_unique<BoolAccumulator>(true);
  if (name == "bool_or") return std::make_unique<BoolAccumulator>(false);
  if (name == "median") return std::make_unique<QuantileAccumulator>(0.5);
  if (name == "quantile") {
    ARROW_ASSIGN_OR_RAISE(auto q, agg.options[0]->CastTo(arrow::float64()));
    double v = static_cast<const arrow::DoubleScalar&>(*q).value;
    if (!(v >= 0 && v <= 1))
      return Status::Invalid("quantile must be between 0 and 1, got ", v);
    return std::make_unique<QuantileAccumulator>(v);
  }
  if (name == "string_agg") {
    std::string sep = ",";
    std::shared_ptr<arrow::Scalar> s;
    if (agg.args.size() > 1 && agg.args[1]->kind == expr::ExprKind::kLiteral)
      s = agg.args[1]->value;
    if (!agg.options.empty()) s = agg.options[0];
    if (s && s->is_valid) {
      ARROW_ASSIGN_OR_RAISE(auto str, s->CastTo(arrow::utf8()));
      sep = std::string(static_cast<const arrow::StringScalar&>(*str).view());
    }
    return std::make_unique<StringAggAccumulator>(sep);
  }
  Pick pick;
  if (name == "min") {
    pick = Pick::kMin;
  } else if (name == "max") {
    pick = Pick::kMax;
  } else if (name == "first" || name == "any_value") {
    pick = Pick::kFirst;
  } else if (name == "last") {
    pick = Pick::kLast;
  } else {
    return Status::Invalid("unknown aggregate function '", name, "'");
  }
  return ByRepr<PickAccumulator>(arg_type, pick, out);
}

}  // namespace

Result<std::shared_ptr<arrow::Array>> GroupedAccumulator::SaveState(const uint32_t*,
                                                                    int64_t) const {
  return Status::NotImplemented("this aggregate's state cannot be spilled");
}

Status GroupedAccumulator::LoadState(const arrow::Array&) {
  return Status::NotImplemented("this aggregate's state cannot be spilled");
}

Status GroupedAccumulator::MergeSome(GroupedAccumulator*, const uint32_t*,
                                     const uint32_t*, int64_t) {
  return Status::NotImplemented("this aggregate merges only whole states");
}

bool IsPairAggregate(const std::string& name) {
  return name == "corr" || name == "covar_samp" || name == "covar_pop";
}

Result<std::shared_ptr<arrow::Array>> AggregateArgument(const expr::ExprNode& a,
                                                        const arrow::RecordBatch& batch) {
  if (a.args.size() == 2 && IsPairAggregate(a.name)) {
    // Two-argument aggregates (corr, covar_*) see one struct array of both.
    ARROW_ASSIGN_OR_RAISE(auto x, expr::EvaluateToArray(a.args[0], batch));
    ARROW_ASSIGN_OR_RAISE(auto y, expr::EvaluateToArray(a.args[1], batch));
    return arrow::StructArray::Make(arrow::ArrayVector{x, y},
                                    std::vector<std::string>{"x", "y"});
  }
  if (a.args.empty()) return std::shared_ptr<arrow::Array>();
  return expr::EvaluateToArray(a.args[0], batch);
}

Result<std::unique_ptr<GroupedAccumulator>> MakeAccumulator(const expr::ExprNode& agg) {
  ARROW_ASSIGN_OR_RAISE(auto plain, MakePlain(agg));
  if (!agg.distinct) return plain;
  TypePtr arg_type = agg.args.empty() ? arrow::null() : agg.args[0]->type;
  return std::make_unique<DistinctAccumulator>(std::move(plain), arg_type);
}

}  // namespace sluice::exec
