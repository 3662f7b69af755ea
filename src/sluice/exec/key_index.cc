#include "sluice/exec/key_index.h"

#include <arrow/array/builder_binary.h>
#include <arrow/compute/api.h>
#include <arrow/type_traits.h>
#include <arrow/util/bit_util.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "sluice/exec/key_table.h"

namespace sluice::exec {

bool IsIntegerLike(const arrow::DataType& t) {
  return arrow::is_integer(t.id()) || arrow::is_temporal(t.id()) ||
         t.id() == arrow::Type::DURATION;
}

namespace {

template <typename T>
void Widen(const uint8_t* values, int64_t n, int64_t* out) {
  const T* v = reinterpret_cast<const T*>(values);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(v[i]);
}

}  // namespace

Status LoadIntegers(const arrow::Array& array, std::vector<int64_t>* out) {
  const auto& t = *array.type();
  const int64_t n = array.length();
  out->resize(n);
  if (n == 0) return Status::OK();  // the values buffer may be absent
  const auto& data = *array.data();
  const int w = t.byte_width();
  if (!IsIntegerLike(t) || data.buffers.size() < 2 || !data.buffers[1]) {
    return Status::Invalid("internal: integer key index given a ", t.ToString(),
                           " column");
  }
  const uint8_t* values = data.buffers[1]->data() + data.offset * w;
  const bool u = arrow::is_unsigned_integer(t.id());
  switch (w) {
    case 1:
      u ? Widen<uint8_t>(values, n, out->data()) : Widen<int8_t>(values, n, out->data());
      break;
    case 2:
      u ? Widen<uint16_t>(values, n, out->data())
        : Widen<int16_t>(values, n, out->data());
      break;
    case 4:
      u ? Widen<uint32_t>(values, n, out->data())
        : Widen<int32_t>(values, n, out->data());
      break;
    default:
      std::memcpy(out->data(), values, n * 8);
  }
  return Status::OK();
}

namespace {

// The indexes whose keys are byte strings in a KeyTable (one string column, or
// row-encoded keys): what they share beyond how they turn rows into bytes.
class TableKeyIndex : public KeyIndex {
 public:
  TableKeyIndex() : table_(nullptr) {}

  Status InsertAll(const KeyIndex& other_base, uint32_t* mapping, const uint8_t* part_of,
                   uint8_t part) override {
    const KeyTable& other = static_cast<const TableKeyIndex&>(other_base).table_;
    return table_.InsertFrom(other, part_of, part, kSkipped, mapping);
  }
  // The top bits of the keys' hashes (the table's home slots use the low bits).
  void Partitions(int parts, uint8_t* out) const override {
    const int shift = 64 - __builtin_ctz(static_cast<unsigned>(parts));
    for (int64_t g = 0; g < table_.size(); ++g) {
      out[g] = parts == 1 ? 0 : static_cast<uint8_t>(table_.hash(g) >> shift);
    }
  }
  Status Reserve(int64_t keys, int64_t bytes) override {
    return table_.Reserve(size() + keys, table_.key_bytes() + bytes);
  }
  int64_t KeyBytes() const override { return table_.key_bytes(); }
  int64_t size() const override { return table_.size(); }

 protected:
  KeyTable table_;
};

// Keys inline in open-addressing slots (linear probing, at most half full), hashed by
// Fibonacci hashing: the top bits of key * 2^64/phi, which spreads runs of consecutive
// keys over the whole table.
class IntKeyIndex final : public KeyIndex {
 public:
  explicit IntKeyIndex(std::shared_ptr<arrow::DataType> type) : type_(std::move(type)) {}

  Status Insert(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    if (sealed_) return Status::Invalid("internal: insert into a sealed key index");
    const arrow::Array& col = *columns[0];
    ARROW_RETURN_NOT_OK(LoadIntegers(col, &scratch_));
    const int64_t n = col.length();
    const int64_t* keys = scratch_.data();
    const bool has_nulls = col.null_count() > 0;
    constexpr int64_t kAhead = 8;
    for (int64_t i = 0; i < n; ++i) {
      if (i + kAhead < n && !slots_.empty()) Prefetch(keys[i + kAhead]);
      if (has_nulls && col.IsNull(i)) {
        if (nulls == Nulls::kSkip) {
          ids[i] = kSkipped;
          continue;
        }
        ARROW_ASSIGN_OR_RAISE(ids[i], NullId());
        continue;
      }
      // Sorted or clustered input (lineitem by order key, events by time) repeats the
      // previous row's key: no probe, no cache miss.
      if (i > 0 && keys[i] == keys[i - 1] && ids[i - 1] != kSkipped &&
          static_cast<int64_t>(ids[i - 1]) != null_id_) {
        ids[i] = ids[i - 1];
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(ids[i], FindOrInsert(keys[i]));
    }
    return Status::OK();
  }

  Status InsertAll(const KeyIndex& other_base, uint32_t* mapping, const uint8_t* part_of,
                   uint8_t part) override {
    if (sealed_) return Status::Invalid("internal: insert into a sealed key index");
    const auto& other = static_cast<const IntKeyIndex&>(other_base);
    constexpr int64_t kAhead = 8;
    for (int64_t g = 0; g < other.size(); ++g) {
      if (g + kAhead < other.size() && !slots_.empty()) Prefetch(other.keys_[g + kAhead]);
      if (part_of != nullptr && part_of[g] != part) {
        mapping[g] = kSkipped;
      } else if (g == other.null_id_) {
        ARROW_ASSIGN_OR_RAISE(mapping[g], NullId());
      } else {
        ARROW_ASSIGN_OR_RAISE(mapping[g], FindOrInsert(other.keys_[g]));
      }
    }
    return Status::OK();
  }

  Status Find(const arrow::ArrayVector& columns, ProbeScratch* scratch,
              int64_t* ids) const override {
    const arrow::Array& col = *columns[0];
    ARROW_RETURN_NOT_OK(LoadIntegers(col, &scratch->ints));
    const int64_t n = col.length();
    const int64_t* keys = scratch->ints.data();
    if (dense_) {
      const uint64_t range = direct_.size();
      const uint32_t* direct = direct_.data();
      for (int64_t i = 0; i < n; ++i) {
        uint64_t off = static_cast<uint64_t>(keys[i]) - static_cast<uint64_t>(min_);
        ids[i] = off < range ? static_cast<int64_t>(direct[off]) - 1 : -1;
      }
    } else if (slots_.empty()) {
      std::fill(ids, ids + n, -1);
    } else if (!filter_.empty() && scratch->found * 2 < scratch->probed) {
      FindFiltered(keys, n, scratch, ids);
    } else {
      constexpr int64_t kAhead = 16;
      for (int64_t i = 0; i < n; ++i) {
        if (i > 0 && keys[i] == keys[i - 1]) {  // a run of one key (see Insert)
          ids[i] = ids[i - 1];
          continue;
        }
        if (i + kAhead < n) Prefetch(keys[i + kAhead]);
        ids[i] = Lookup(keys[i]);
      }
      if (!filter_.empty()) {
        scratch->probed += n;
        for (int64_t i = 0; i < n; ++i) scratch->found += ids[i] >= 0;
      }
    }
    if (col.null_count() > 0) {
      for (int64_t i = 0; i < n; ++i) {
        if (col.IsNull(i)) ids[i] = -1;
      }
    }
    return Status::OK();
  }

  Status Build(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    const arrow::Array& col = *columns[0];
    if (sealed_ || size() > 0 || col.length() == 0) {
      return KeyIndex::Build(columns, nulls, ids);
    }
    ARROW_RETURN_NOT_OK(LoadIntegers(col, &scratch_));
    const int64_t n = col.length();
    const int64_t* keys = scratch_.data();
    const bool has_nulls = col.null_count() > 0;
    int64_t lo = std::numeric_limits<int64_t>::max(),
            hi = std::numeric_limits<int64_t>::min();
    for (int64_t i = 0; i < n; ++i) {
      if (has_nulls && col.IsNull(i)) continue;
      lo = std::min(lo, keys[i]);
      hi = std::max(hi, keys[i]);
    }
    // The rows bound the distinct keys: the range is dense for them (DenseSpan) or the
    // keys are hashed as always.
    if (lo > hi || !DenseSpan(lo, hi, n - col.null_count())) {
      return KeyIndex::Build(columns, nulls, ids);
    }
    min_ = lo;
    max_ = hi;
    direct_.assign(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1, 0);
    for (int64_t i = 0; i < n; ++i) {
      if (has_nulls && col.IsNull(i)) {
        if (nulls == Nulls::kSkip) {
          ids[i] = kSkipped;
        } else {
          ARROW_ASSIGN_OR_RAISE(ids[i], NullId());
        }
        continue;
      }
      uint32_t& slot =
          direct_[static_cast<uint64_t>(keys[i]) - static_cast<uint64_t>(lo)];
      if (slot == 0) {
        ARROW_ASSIGN_OR_RAISE(uint32_t id, NewId());
        keys_.push_back(keys[i]);
        slot = id + 1;
      }
      ids[i] = slot - 1;
    }
    dense_ = true;
    sealed_ = true;
    return Status::OK();
  }

  Status Seal() override {
    sealed_ = true;
    const int64_t distinct = size() - (null_id_ >= 0 ? 1 : 0);
    if (distinct == 0 || dense_) return Status::OK();
    if (!DenseSpan(min_, max_, distinct)) {
      BuildFilter(distinct);
      return Status::OK();
    }
    uint64_t span = static_cast<uint64_t>(max_) - static_cast<uint64_t>(min_);
    direct_.assign(span + 1, 0);
    for (int64_t g = 0; g < size(); ++g) {
      if (g == null_id_) continue;
      direct_[static_cast<uint64_t>(keys_[g]) - static_cast<uint64_t>(min_)] =
          static_cast<uint32_t>(g + 1);
    }
    dense_ = true;
    std::vector<Slot>().swap(slots_);
    return Status::OK();
  }

  void Partitions(int parts, uint8_t* out) const override {
    // A multiplier other than Home's: the partition's bits must not be the bits that
    // pick the home slot, or each partition would crowd into a slice of its table.
    const int shift = 64 - __builtin_ctz(static_cast<unsigned>(parts));
    for (int64_t g = 0; g < size(); ++g) {
      out[g] =
          g == null_id_ || parts == 1
              ? 0
              : static_cast<uint8_t>(
                    (static_cast<uint64_t>(keys_[g]) * 0xC2B2AE3D27D4EB4Full) >> shift);
    }
  }

  Status Reserve(int64_t keys, int64_t bytes) override {
    const size_t want = static_cast<size_t>(size() + keys) * 2;
    keys_.reserve(size() + keys);
    while (slots_.size() < want) Grow();
    return Status::OK();
  }

  int64_t size() const override { return static_cast<int64_t>(keys_.size()); }
  /// The key of id g (0 at the NULL key's id).
  int64_t key(int64_t g) const { return keys_[g]; }

  Result<arrow::ArrayVector> KeyColumns(arrow::MemoryPool* pool) const override {
    const int64_t n = size();
    const int w = type_->byte_width();
    ARROW_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * w, pool));
    uint8_t* dst = values->mutable_data();
    // Little-endian: the low w bytes of the widened value are the original value.
    for (int64_t g = 0; g < n; ++g) std::memcpy(dst + g * w, &keys_[g], w);
    std::shared_ptr<arrow::Buffer> validity;
    int64_t nulls = 0;
    if (null_id_ >= 0) {
      ARROW_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(n, pool));
      arrow::bit_util::SetBitsTo(validity->mutable_data(), 0, n, true);
      arrow::bit_util::ClearBit(validity->mutable_data(), null_id_);
      nulls = 1;
    }
    return arrow::ArrayVector{arrow::MakeArray(arrow::ArrayData::Make(
        type_, n, {std::move(validity), std::move(values)}, nulls))};
  }

  int64_t MemoryUsage() const override {
    return static_cast<int64_t>(slots_.capacity() * sizeof(Slot) + keys_.capacity() * 8 +
                                direct_.capacity() * 4 + filter_.capacity() * 8 +
                                scratch_.capacity() * 8);
  }

 private:
  struct Slot {
    int64_t key;
    uint32_t id1;  // id + 1; 0 = empty
  };

  // Whether keys in [lo, hi], `keys` of them, go in a direct array: 4 bytes per value
  // in the range, at most 4 values per key or a range of 128 Ki values (512 KiB, which
  // stays in cache: a filtered dimension's keys, TPC-H's 2,000 Asian suppliers of
  // 10,000), never more than 512 MiB.
  static bool DenseSpan(int64_t lo, int64_t hi, int64_t keys) {
    // hi - lo without overflow.
    uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    constexpr uint64_t kMaxRange = uint64_t{1} << 27;
    uint64_t allowed = std::max<uint64_t>(4 * static_cast<uint64_t>(keys), 1 << 17);
    return span < std::min(kMaxRange, allowed);
  }

  uint64_t Home(int64_t key) const {
    return (static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull) >> shift_;
  }
  void Prefetch(int64_t key) const { __builtin_prefetch(&slots_[Home(key)]); }

  int64_t Lookup(int64_t key) const {
    for (uint64_t p = Home(key);; p = (p + 1) & mask_) {
      const Slot& s = slots_[p];
      if (s.id1 == 0) return -1;
      if (s.key == key) return static_cast<int64_t>(s.id1) - 1;
    }
  }

  // A Bloom filter over the keys of a sealed hash table: most probes of a selective
  // join miss, and a miss then costs one read of a word in a table of about a byte per
  // key (cache-resident) instead of a walk in the slots (16 bytes per half-empty
  // slot). Blocked: each key sets and tests four bits of a single word.
  static uint64_t FilterHash(int64_t key) {
    uint64_t h = static_cast<uint64_t>(key);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
  }
  static uint64_t FilterBits(uint64_t h) {
    return (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63)) |
           (uint64_t{1} << ((h >> 12) & 63)) | (uint64_t{1} << ((h >> 18) & 63));
  }

  void BuildFilter(int64_t distinct) {
    constexpr int64_t kMinKeys = 16384;  // smaller tables stay in cache anyway
    if (distinct < kMinKeys) return;
    // About 8 bits per key, a power of two of words.
    uint64_t words = 1;
    while (words * 64 < static_cast<uint64_t>(distinct) * 8) words *= 2;
    filter_.assign(words, 0);
    filter_shift_ = 64 - __builtin_ctzll(words);
    for (int64_t g = 0; g < size(); ++g) {
      if (g == null_id_) continue;
      const uint64_t h = FilterHash(keys_[g]);
      filter_[h >> filter_shift_] |= FilterBits(h);
    }
  }

  // Find through the filter: the keys it passes are looked up, with prefetching.
  void FindFiltered(const int64_t* keys, int64_t n, ProbeScratch* scratch,
                    int64_t* ids) const {
    auto& candidates = scratch->candidates;
    candidates.resize(static_cast<size_t>(n));
    int64_t c = 0;
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t h = FilterHash(keys[i]);
      const uint64_t bits = FilterBits(h);
      ids[i] = -1;
      candidates[c] = static_cast<int32_t>(i);
      c += (filter_[h >> filter_shift_] & bits) == bits;
    }
    constexpr int64_t kAhead = 16;
    int64_t found = 0;
    for (int64_t j = 0; j < c; ++j) {
      if (j + kAhead < c) Prefetch(keys[candidates[j + kAhead]]);
      const int64_t i = candidates[j];
      ids[i] = Lookup(keys[i]);
      found += ids[i] >= 0;
    }
    scratch->probed += n;
    scratch->found += found;
  }

  Result<uint32_t> NewId() {
    if (keys_.size() >= kSkipped - 1) {
      return Status::NotImplemented("more than 4 billion distinct keys");
    }
    return static_cast<uint32_t>(keys_.size());
  }

  Result<uint32_t> NullId() {
    if (null_id_ < 0) {
      ARROW_ASSIGN_OR_RAISE(uint32_t id, NewId());
      null_id_ = id;
      keys_.push_back(0);
    }
    return static_cast<uint32_t>(null_id_);
  }

  Result<uint32_t> FindOrInsert(int64_t key) {
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    uint64_t p = Home(key);
    while (true) {
      Slot& s = slots_[p];
      if (s.id1 == 0) break;
      if (s.key == key) return s.id1 - 1;
      p = (p + 1) & mask_;
    }
    ARROW_ASSIGN_OR_RAISE(uint32_t id, NewId());
    slots_[p] = Slot{key, id + 1};
    keys_.push_back(key);
    min_ = std::min(min_, key);
    max_ = std::max(max_, key);
    return id;
  }

  void Grow() {
    size_t cap = slots_.empty() ? 1024 : slots_.size() * 2;
    std::vector<Slot> old(cap, Slot{0, 0});
    old.swap(slots_);
    mask_ = cap - 1;
    shift_ = 64 - __builtin_ctzll(cap);
    for (const Slot& s : old) {
      if (s.id1 == 0) continue;
      uint64_t p = Home(s.key);
      while (slots_[p].id1 != 0) p = (p + 1) & mask_;
      slots_[p] = s;
    }
  }

  std::shared_ptr<arrow::DataType> type_;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  int shift_ = 64;
  std::vector<int64_t> keys_;  // by id (0 at the NULL key's id)
  int64_t null_id_ = -1;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = std::numeric_limits<int64_t>::min();
  bool sealed_ = false;
  bool dense_ = false;
  std::vector<uint32_t> direct_;  // after Seal, when dense: id + 1 of key min_ + i
  std::vector<uint64_t> filter_;  // after Seal, when hashed and large (BuildFilter)
  int filter_shift_ = 64;
  std::vector<int64_t> scratch_;
};

// One string or binary column: the raw bytes are the key (no row encoding), hashed
// with XXH3, in a KeyTable. NULL is the empty key stored under a hash no empty string
// has (XXH3("") ^ 1), so it gets an id in insertion order like any other key.
class StringKeyIndex final : public TableKeyIndex {
 public:
  explicit StringKeyIndex(std::shared_ptr<arrow::DataType> type)
      : type_(std::move(type)) {}

  Status Insert(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    if (columns[0]->type_id() == arrow::Type::DICTIONARY) {
      return InsertDictionary(static_cast<const arrow::DictionaryArray&>(*columns[0]),
                              nulls, ids);
    }
    return Visit(*columns[0], [&](const auto& a) -> Status {
      const int64_t n = a.length();
      const bool has_nulls = a.null_count() > 0;
      for (int64_t i = 0; i < n; ++i) {
        if (has_nulls && a.IsNull(i)) {
          ARROW_ASSIGN_OR_RAISE(ids[i], NullKey(nulls));
          continue;
        }
        std::string_view v = a.GetView(i);
        ARROW_ASSIGN_OR_RAISE(ids[i],
                              table_.FindOrInsert(v, HashBytes(v.data(), v.size())));
      }
      return Status::OK();
    });
  }

  Status InsertAll(const KeyIndex& other_base, uint32_t* mapping, const uint8_t* part_of,
                   uint8_t part) override {
    ARROW_RETURN_NOT_OK(TableKeyIndex::InsertAll(other_base, mapping, part_of, part));
    const int64_t other_null = static_cast<const StringKeyIndex&>(other_base).null_id_;
    if (other_null >= 0 && mapping[other_null] != kSkipped)
      null_id_ = mapping[other_null];
    return Status::OK();
  }

  Status Find(const arrow::ArrayVector& columns, ProbeScratch* scratch,
              int64_t* ids) const override {
    if (columns[0]->type_id() == arrow::Type::DICTIONARY) {
      ARROW_ASSIGN_OR_RAISE(auto dense, arrow::compute::Cast(*columns[0], type_));
      return Find({dense}, scratch, ids);
    }
    return Visit(*columns[0], [&](const auto& a) -> Status {
      const int64_t n = a.length();
      for (int64_t i = 0; i < n; ++i) {
        if (a.IsNull(i)) {
          ids[i] = -1;
          continue;
        }
        std::string_view v = a.GetView(i);
        ids[i] = table_.Find(v, HashBytes(v.data(), v.size()));
      }
      return Status::OK();
    });
  }

  Result<arrow::ArrayVector> KeyColumns(arrow::MemoryPool* pool) const override {
    std::unique_ptr<arrow::ArrayBuilder> builder;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(pool, type_, &builder));
    ARROW_RETURN_NOT_OK(builder->Reserve(size()));
    auto append = [&](auto* b) -> Status {
      for (int64_t g = 0; g < size(); ++g) {
        ARROW_RETURN_NOT_OK(g == null_id_ ? b->AppendNull() : b->Append(table_.key(g)));
      }
      return Status::OK();
    };
    switch (type_->id()) {
      case arrow::Type::LARGE_STRING:
      case arrow::Type::LARGE_BINARY:
        ARROW_RETURN_NOT_OK(
            append(static_cast<arrow::LargeBinaryBuilder*>(builder.get())));
        break;
      case arrow::Type::STRING_VIEW:
      case arrow::Type::BINARY_VIEW:
        ARROW_RETURN_NOT_OK(
            append(static_cast<arrow::BinaryViewBuilder*>(builder.get())));
        break;
      default:
        ARROW_RETURN_NOT_OK(append(static_cast<arrow::BinaryBuilder*>(builder.get())));
    }
    std::shared_ptr<arrow::Array> out;
    ARROW_RETURN_NOT_OK(builder->Finish(&out));
    return arrow::ArrayVector{std::move(out)};
  }

  int64_t MemoryUsage() const override { return table_.MemoryUsage(); }

 private:
  // NULL is stored as empty bytes, like the empty string: its hash must differ from
  // the empty string's in the tag (the high 32 bits), or a probe for one that passes
  // the other's slot takes it for a match.
  static inline const uint64_t kNullHash = HashBytes("", 0) ^ 0x9E3779B97F4A7C15ull;

  // The id of a NULL key: kSkipped, or the NULL key's own id (inserted when first seen).
  Result<uint32_t> NullKey(Nulls nulls) {
    if (nulls == Nulls::kSkip) return kSkipped;
    ARROW_ASSIGN_OR_RAISE(uint32_t id, table_.FindOrInsert({}, kNullHash));
    null_id_ = id;
    return id;
  }

  // Dictionary-encoded keys: each dictionary value is hashed and looked up once, when a
  // row first uses it (so ids stay in order of first appearance and unused values get
  // none); the other rows only index the cached ids.
  Status InsertDictionary(const arrow::DictionaryArray& d, Nulls nulls, uint32_t* ids) {
    const auto& dict = *d.dictionary();
    const auto& indices = *d.indices();
    if (indices.type_id() != arrow::Type::INT32) {
      ARROW_ASSIGN_OR_RAISE(auto dense, arrow::compute::Cast(d, type_));
      return Insert({dense}, nulls, ids);
    }
    constexpr uint32_t kUnset = 0xFFFFFFFEu;
    dict_ids_.assign(dict.length(), kUnset);
    const int32_t* idx = indices.data()->GetValues<int32_t>(1);
    const bool row_nulls = indices.null_count() > 0;
    return Visit(dict, [&](const auto& values) -> Status {
      for (int64_t i = 0; i < d.length(); ++i) {
        const bool null = (row_nulls && indices.IsNull(i)) || values.IsNull(idx[i]);
        if (null) {
          ARROW_ASSIGN_OR_RAISE(ids[i], NullKey(nulls));
          continue;
        }
        uint32_t& cached = dict_ids_[idx[i]];
        if (cached == kUnset) {
          std::string_view v = values.GetView(idx[i]);
          ARROW_ASSIGN_OR_RAISE(cached,
                                table_.FindOrInsert(v, HashBytes(v.data(), v.size())));
        }
        ids[i] = cached;
      }
      return Status::OK();
    });
  }

  // Calls fn with the column as the array class that has GetView for its type.
  template <typename Fn>
  static Status Visit(const arrow::Array& a, Fn&& fn) {
    switch (a.type_id()) {
      case arrow::Type::LARGE_STRING:
      case arrow::Type::LARGE_BINARY:
        return fn(static_cast<const arrow::LargeBinaryArray&>(a));
      case arrow::Type::STRING_VIEW:
      case arrow::Type::BINARY_VIEW:
        return fn(static_cast<const arrow::BinaryViewArray&>(a));
      case arrow::Type::STRING:
      case arrow::Type::BINARY:
        return fn(static_cast<const arrow::BinaryArray&>(a));
      default:
        return Status::Invalid("internal: string key index given a ",
                               a.type()->ToString(), " column");
    }
  }

  std::shared_ptr<arrow::DataType> type_;
  int64_t null_id_ = -1;
  std::vector<uint32_t> dict_ids_;  // InsertDictionary's cache, by dictionary index
};

// Any key types: row-encoded keys in a KeyTable.
class EncodedKeyIndex final : public TableKeyIndex {
 public:
  explicit EncodedKeyIndex(std::vector<std::shared_ptr<arrow::DataType>> types)
      : types_(std::move(types)) {}

  Status Insert(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    ARROW_RETURN_NOT_OK(EncodeRows(columns, &rows_));
    if (nulls == Nulls::kGroup) return table_.FindOrInsert(rows_, ids);
    for (int64_t i = 0; i < rows_.num_rows(); ++i) {
      if (rows_.any_null[i]) {
        ids[i] = kSkipped;
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(ids[i], table_.FindOrInsert(rows_.row(i), rows_.hashes[i]));
    }
    return Status::OK();
  }

  Status Find(const arrow::ArrayVector& columns, ProbeScratch* scratch,
              int64_t* ids) const override {
    ARROW_RETURN_NOT_OK(EncodeRows(columns, &scratch->rows));
    table_.FindBatch(scratch->rows, scratch->rows.any_null.data(), ids);
    return Status::OK();
  }

  Result<arrow::ArrayVector> KeyColumns(arrow::MemoryPool* pool) const override {
    return DecodeRows(table_.Keys(), types_, pool);
  }

  int64_t MemoryUsage() const override {
    return table_.MemoryUsage() +
           static_cast<int64_t>(rows_.bytes.capacity() + rows_.offsets.capacity() * 4 +
                                rows_.hashes.capacity() * 8);
  }

 private:
  std::vector<std::shared_ptr<arrow::DataType>> types_;
  EncodedRows rows_;
};

// Two key columns, each of a kind with its own index (integer-like or string): each
// column maps its values to column ids in its own index, and the pair of column ids,
// packed into one 64-bit integer, is the key of an integer index. That replaces row
// encoding and hashing the encoded bytes with two small lookups (dictionary-encoded
// columns look a value up once per batch) and one integer probe.
class PairKeyIndex final : public KeyIndex {
 public:
  PairKeyIndex(std::unique_ptr<KeyIndex> a, std::unique_ptr<KeyIndex> b)
      : columns_{std::move(a), std::move(b)}, pairs_(arrow::int64()) {}

  Status Insert(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    return InsertWith(columns, nulls, ids, false);
  }
  // Each column's index built at once (dense ranges directly indexed), then the pairs.
  Status Build(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    if (size() > 0) return KeyIndex::Build(columns, nulls, ids);
    ARROW_RETURN_NOT_OK(InsertWith(columns, nulls, ids, true));
    return Seal();
  }

  Status InsertWith(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids,
                    bool build) {
    const int64_t n = columns[0]->length();
    if (n == 0) return Status::OK();
    col_ids_[0].resize(n);
    col_ids_[1].resize(n);
    for (int c = 0; c < 2; ++c) {
      ARROW_RETURN_NOT_OK(
          build ? columns_[c]->Build({columns[c]}, nulls, col_ids_[c].data())
                : columns_[c]->Insert({columns[c]}, nulls, col_ids_[c].data()));
    }
    bool skipped = false;
    if (nulls == Nulls::kSkip) {
      for (int64_t i = 0; i < n && !skipped; ++i) {
        skipped = col_ids_[0][i] == kSkipped || col_ids_[1][i] == kSkipped;
      }
    }
    if (!skipped) return InsertFirstPairs(n, ids);
    // Rows with a NULL key (skipped) stay out of the pairs entirely.
    std::vector<int64_t> kept;
    for (int64_t i = 0; i < n; ++i) {
      if (col_ids_[0][i] == kSkipped || col_ids_[1][i] == kSkipped) {
        ids[i] = kSkipped;
        continue;
      }
      col_ids_[0][kept.size()] = col_ids_[0][i];
      col_ids_[1][kept.size()] = col_ids_[1][i];
      kept.push_back(i);
    }
    return InsertPairs(kept, ids);
  }

  Status InsertAll(const KeyIndex& other_base, uint32_t* mapping, const uint8_t* part_of,
                   uint8_t part) override {
    const auto& other = static_cast<const PairKeyIndex&>(other_base);
    // Column ids of other's values here (all of them: values of pairs left out stay
    // unused), then other's pairs, the selected ones, in these terms.
    std::vector<uint32_t> maps[2];
    for (int c = 0; c < 2; ++c) {
      maps[c].resize(other.columns_[c]->size());
      ARROW_RETURN_NOT_OK(columns_[c]->InsertAll(*other.columns_[c], maps[c].data()));
    }
    std::vector<int64_t> selected;
    col_ids_[0].clear();
    col_ids_[1].clear();
    for (int64_t g = 0; g < other.size(); ++g) {
      if (part_of != nullptr && part_of[g] != part) {
        mapping[g] = kSkipped;
        continue;
      }
      uint64_t p = static_cast<uint64_t>(other.pairs_.key(g));
      col_ids_[0].push_back(maps[0][p >> 32]);
      col_ids_[1].push_back(maps[1][p & 0xFFFFFFFFu]);
      selected.push_back(g);
    }
    return InsertPairs(selected, mapping);
  }

  Status Find(const arrow::ArrayVector& columns, ProbeScratch* scratch,
              int64_t* ids) const override {
    const int64_t n = columns[0]->length();
    // The column ids go to ids and scratch->pair_ids; then ids receives the pair ids.
    std::vector<int64_t>& b = scratch->pair_ids;
    b.resize(n);
    ARROW_RETURN_NOT_OK(columns_[0]->Find({columns[0]}, scratch, ids));
    ARROW_RETURN_NOT_OK(columns_[1]->Find({columns[1]}, scratch, b.data()));
    for (int64_t i = 0; i < n; ++i) {
      b[i] = ids[i] < 0 || b[i] < 0
                 ? -1
                 : static_cast<int64_t>((static_cast<uint64_t>(ids[i]) << 32) |
                                        static_cast<uint64_t>(b[i]));
    }
    auto packed = std::make_shared<arrow::Int64Array>(
        n, arrow::Buffer::Wrap(b.data(), static_cast<size_t>(n)));
    ARROW_RETURN_NOT_OK(pairs_.Find({packed}, scratch, ids));
    for (int64_t i = 0; i < n; ++i) {
      if (b[i] < 0) ids[i] = -1;  // a value absent from its column (-1 is no pair)
    }
    return Status::OK();
  }

  Status Seal() override {
    for (auto& c : columns_) ARROW_RETURN_NOT_OK(c->Seal());
    return pairs_.Seal();
  }

  void Partitions(int parts, uint8_t* out) const override {
    // From the columns' own partitions (which depend on the values only), mixed.
    std::vector<uint8_t> pa(columns_[0]->size()), pb(columns_[1]->size());
    columns_[0]->Partitions(256, pa.data());
    columns_[1]->Partitions(256, pb.data());
    for (int64_t g = 0; g < size(); ++g) {
      uint64_t p = static_cast<uint64_t>(pairs_.key(g));
      uint32_t mixed = (pa[p >> 32] * 0x9E3779B1u) ^ (pb[p & 0xFFFFFFFFu] * 0x85EBCA77u);
      out[g] = static_cast<uint8_t>((mixed >> 16) & (parts - 1));
    }
  }

  int64_t size() const override { return pairs_.size(); }

  Result<arrow::ArrayVector> KeyColumns(arrow::MemoryPool* pool) const override {
    arrow::ArrayVector out;
    for (int c = 0; c < 2; ++c) {
      ARROW_ASSIGN_OR_RAISE(auto values, columns_[c]->KeyColumns(pool));
      arrow::UInt32Builder ib(pool);
      ARROW_RETURN_NOT_OK(ib.Reserve(size()));
      for (int64_t g = 0; g < size(); ++g) {
        uint64_t p = static_cast<uint64_t>(pairs_.key(g));
        ib.UnsafeAppend(static_cast<uint32_t>(c == 0 ? p >> 32 : p & 0xFFFFFFFFu));
      }
      ARROW_ASSIGN_OR_RAISE(auto indices, ib.Finish());
      ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(values[0], indices));
      out.push_back(taken.make_array());
    }
    return out;
  }

  int64_t MemoryUsage() const override {
    return columns_[0]->MemoryUsage() + columns_[1]->MemoryUsage() +
           pairs_.MemoryUsage() +
           static_cast<int64_t>((col_ids_[0].capacity() + col_ids_[1].capacity()) * 4 +
                                packed_.capacity() * 8 + small_.capacity() * 4);
  }

 private:
  // Inserts the first rows.size() pairs of col_ids_; out[rows[k]] = pair k's id.
  Status InsertPairs(const std::vector<int64_t>& rows, uint32_t* out) {
    const int64_t n = static_cast<int64_t>(rows.size());
    std::vector<uint32_t> ids(n);
    ARROW_RETURN_NOT_OK(InsertFirstPairs(n, ids.data()));
    for (int64_t k = 0; k < n; ++k) out[rows[k]] = ids[k];
    return Status::OK();
  }

  // The pair ids of the first n pairs of col_ids_ (none skipped), inserting new ones.
  // While both columns have few values (kSmallPairs pairs at most), a direct table by
  // (a, b) answers the pairs seen before without hashing; only new pairs reach pairs_.
  Status InsertFirstPairs(int64_t n, uint32_t* ids) {
    const int64_t na = columns_[0]->size(), nb = columns_[1]->size();
    if (na * nb > kSmallPairs) {
      ARROW_RETURN_NOT_OK(Pack(n));
      return pairs_.Insert({packed_array_}, Nulls::kGroup, ids);
    }
    if (small_stride_ != nb || static_cast<int64_t>(small_.size()) < na * nb) {
      small_.assign(na * nb, 0);
      small_stride_ = nb;
      for (int64_t g = 0; g < pairs_.size(); ++g) {
        uint64_t p = static_cast<uint64_t>(pairs_.key(g));
        small_[(p >> 32) * nb + (p & 0xFFFFFFFFu)] = static_cast<uint32_t>(g + 1);
      }
    }
    std::vector<int64_t> missing;
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t slot = small_[col_ids_[0][i] * nb + col_ids_[1][i]];
      if (slot == 0) {
        missing.push_back(i);
      } else {
        ids[i] = slot - 1;
      }
    }
    if (missing.empty()) return Status::OK();
    // New pairs in row order, so ids follow first insertion as always.
    for (size_t k = 0; k < missing.size(); ++k) {
      col_ids_[0][k] = col_ids_[0][missing[k]];
      col_ids_[1][k] = col_ids_[1][missing[k]];
    }
    const int64_t m = static_cast<int64_t>(missing.size());
    ARROW_RETURN_NOT_OK(Pack(m));
    std::vector<uint32_t> fresh(m);
    ARROW_RETURN_NOT_OK(pairs_.Insert({packed_array_}, Nulls::kGroup, fresh.data()));
    for (int64_t k = 0; k < m; ++k) {
      ids[missing[k]] = fresh[k];
      small_[col_ids_[0][k] * nb + col_ids_[1][k]] = fresh[k] + 1;
    }
    return Status::OK();
  }

  // packed_array_ = the first n pairs of col_ids_ (none of them skipped).
  Status Pack(int64_t n) {
    packed_.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      packed_[i] = static_cast<int64_t>((static_cast<uint64_t>(col_ids_[0][i]) << 32) |
                                        col_ids_[1][i]);
    }
    auto buffer = arrow::Buffer::Wrap(packed_.data(), n);
    packed_array_ = std::make_shared<arrow::Int64Array>(n, buffer);
    return Status::OK();
  }

  std::unique_ptr<KeyIndex> columns_[2];
  IntKeyIndex pairs_;  // packed column ids -> pair id; pairs_.key(id) unpacks
  std::vector<uint32_t> col_ids_[2];
  std::vector<int64_t> packed_;
  std::shared_ptr<arrow::Array> packed_array_;
  static constexpr int64_t kSmallPairs = 1 << 16;
  std::vector<uint32_t> small_;  // (a * small_stride_ + b) -> pair id + 1; 0: unseen
  int64_t small_stride_ = -1;
};

}  // namespace

Result<std::unique_ptr<KeyIndex>> KeyIndex::Make(
    const std::vector<std::shared_ptr<arrow::DataType>>& types) {
  if (types.empty()) return Status::Invalid("internal: a key index needs key columns");
  ARROW_RETURN_NOT_OK(CheckEncodable(types));
  if (types.size() == 1 && IsIntegerLike(*types[0])) {
    return std::make_unique<IntKeyIndex>(types[0]);
  }
  if (types.size() == 1 && IsBinaryLike(*types[0])) {
    return std::make_unique<StringKeyIndex>(types[0]);
  }
  auto own_index = [](const arrow::DataType& t) {
    return IsIntegerLike(t) || IsBinaryLike(t);
  };
  if (types.size() == 2 && own_index(*types[0]) && own_index(*types[1])) {
    ARROW_ASSIGN_OR_RAISE(auto a, Make({types[0]}));
    ARROW_ASSIGN_OR_RAISE(auto b, Make({types[1]}));
    return std::make_unique<PairKeyIndex>(std::move(a), std::move(b));
  }
  return std::make_unique<EncodedKeyIndex>(types);
}

}  // namespace sluice::exec
