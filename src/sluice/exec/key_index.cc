#include "sluice/exec/key_index.h"

#include <arrow/array/builder_binary.h>
#include <arrow/compute/api.h>
#include <arrow/type_traits.h>
#include <arrow/util/bit_util.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "sluice/base/huge_pages.h"
#include "sluice/base/parallel.h"
#include "sluice/exec/key_table.h"
#include "sluice/exec/take_rows.h"

namespace sluice::exec {

bool IsIntegerLike(const arrow::DataType& t) {
  return arrow::is_integer(t.id()) || arrow::is_temporal(t.id()) ||
         t.id() == arrow::Type::DURATION;
}

bool IsWordKey(const arrow::DataType& t) {
  return IsIntegerLike(t) || t.id() == arrow::Type::FLOAT ||
         t.id() == arrow::Type::DOUBLE;
}

uint64_t FloatFromWord(const arrow::DataType& t, int64_t word) {
  const auto w = static_cast<uint64_t>(word);
  return t.id() == arrow::Type::DOUBLE ? (w << 32 | w >> 32) : w;
}

namespace {

template <typename T>
void Widen(const uint8_t* values, int64_t n, int64_t* out) {
  const T* v = reinterpret_cast<const T*>(values);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(v[i]);
}

}  // namespace

namespace {

// Floats as key words (LoadIntegers): canonical bits (-0.0 as 0.0, one NaN), a
// double's halves swapped (FloatFromWord).
template <typename F, typename Bits>
void FloatWords(const uint8_t* values, int64_t n, int64_t* out) {
  const F* v = reinterpret_cast<const F*>(values);
  for (int64_t i = 0; i < n; ++i) {
    F x = v[i] == 0 ? F{0} : v[i];
    if (std::isnan(x)) x = std::numeric_limits<F>::quiet_NaN();
    Bits bits;
    std::memcpy(&bits, &x, sizeof(bits));
    uint64_t word = bits;
    if constexpr (sizeof(Bits) == 8) word = word << 32 | word >> 32;
    out[i] = static_cast<int64_t>(word);
  }
}

template <typename Vector>
Status LoadIntegersInto(const arrow::Array& array, Vector* out) {
  const auto& t = *array.type();
  const int64_t n = array.length();
  out->resize(n);
  if (n == 0) return Status::OK();  // the values buffer may be absent
  const auto& data = *array.data();
  const int w = t.byte_width();
  if (!IsWordKey(t) || data.buffers.size() < 2 || !data.buffers[1]) {
    return Status::Invalid("internal: integer key index given a ", t.ToString(),
                           " column");
  }
  const uint8_t* values = data.buffers[1]->data() + data.offset * w;
  if (t.id() == arrow::Type::FLOAT) {
    FloatWords<float, uint32_t>(values, n, out->data());
    return Status::OK();
  }
  if (t.id() == arrow::Type::DOUBLE) {
    FloatWords<double, uint64_t>(values, n, out->data());
    return Status::OK();
  }
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

}  // namespace

Status LoadIntegers(const arrow::Array& array, HugeVector<int64_t>* out) {
  return LoadIntegersInto(array, out);
}
Status LoadIntegers(const arrow::Array& array, std::vector<int64_t>* out) {
  return LoadIntegersInto(array, out);
}

void KeyIndex::PartitionsOf(const uint32_t* ids, int64_t n, uint8_t* out) const {
  std::vector<uint8_t> all(static_cast<size_t>(size()));
  Partitions(256, all.data());
  for (int64_t i = 0; i < n; ++i) out[i] = all[ids[i]];
}

namespace {

// The partition bits of a key, from its value alone, so that a key falls in the same
// partition in every index of its types: the top bits of a hash.
inline uint8_t TopBits(uint64_t h, int parts) {
  return parts <= 1 ? 0 : static_cast<uint8_t>(h >> (64 - __builtin_ctz(parts)));
}
// An integer key's partition hash: a multiplier other than IntKeyIndex::Home's (the
// partition's bits must not be the bits that pick the home slot, or each partition
// would crowd into a slice of its table).
inline uint64_t IntPartitionHash(int64_t key) {
  return static_cast<uint64_t>(key) * 0xC2B2AE3D27D4EB4Full;
}
// A string NULL key is stored as empty bytes, like the empty string: its hash must
// differ from the empty string's in the tag (the high 32 bits), or a probe for one that
// passes the other's slot takes it for a match.
const uint64_t kStringNullHash = HashBytes("", 0) ^ 0x9E3779B97F4A7C15ull;

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
    for (int64_t g = 0; g < table_.size(); ++g) out[g] = TopBits(table_.hash(g), parts);
  }
  void PartitionsOf(const uint32_t* ids, int64_t n, uint8_t* out) const override {
    for (int64_t i = 0; i < n; ++i) out[i] = TopBits(table_.hash(ids[i]), 256);
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
    ReserveForBatch(keys, n);
    if (!has_nulls) {
      // The common case in a tight loop: no NULL to place, no Status per row.
      if (slots_.empty() && !dense_) Grow();
      for (int64_t i = 0; i < n; ++i) {
        if (i + kAhead < n && !dense_) Prefetch(keys[i + kAhead]);
        if (i > 0 && keys[i] == keys[i - 1]) {  // a run of one key (see below)
          ids[i] = ids[i - 1];
          continue;
        }
        const int64_t id = Upsert(keys[i]);
        if (id < 0) return Status::NotImplemented("more than 4 billion distinct keys");
        ids[i] = static_cast<uint32_t>(id);
      }
      MaybeGoDirect();
      return Status::OK();
    }
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
    MaybeGoDirect();
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
    MaybeGoDirect();
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
    } else if (Filtered() && scratch->found * 2 < scratch->probed) {
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
      if (Filtered()) {
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
      if (!BuildRangeBits()) BuildFilter(distinct);
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
    HugeVector<Slot>().swap(slots_);
    return Status::OK();
  }

  bool DirectlyIndexed() const override { return dense_; }

  void Partitions(int parts, uint8_t* out) const override {
    for (int64_t g = 0; g < size(); ++g) {
      out[g] = g == null_id_ ? 0 : TopBits(IntPartitionHash(keys_[g]), parts);
    }
  }
  void PartitionsOf(const uint32_t* ids, int64_t n, uint8_t* out) const override {
    for (int64_t i = 0; i < n; ++i) {
      out[i] = ids[i] == null_id_ ? 0 : TopBits(IntPartitionHash(keys_[ids[i]]), 256);
    }
  }
  Result<std::unique_ptr<KeyIndex>> MakeEmpty() const override {
    return std::make_unique<IntKeyIndex>(type_);
  }

  Status Reserve(int64_t keys, int64_t bytes) override {
    const size_t want = static_cast<size_t>(size() + keys) * 2;
    keys_.reserve(size() + keys);
    if (dense_) return Status::OK();
    size_t cap = slots_.empty() ? 1024 : slots_.size();
    while (cap < want) cap *= 2;
    if (cap != slots_.size()) Rehash(cap);
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
    if (arrow::is_floating(type_->id())) {
      for (int64_t g = 0; g < n; ++g) {
        const uint64_t bits = FloatFromWord(*type_, keys_[g]);
        std::memcpy(dst + g * w, &bits, w);
      }
    } else {
      for (int64_t g = 0; g < n; ++g) std::memcpy(dst + g * w, &keys_[g], w);
    }
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
                                range_bits_.capacity() * 8 + scratch_.capacity() * 8);
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

  bool Filtered() const { return !filter_.empty() || !range_bits_.empty(); }

  // A bit per value of [min_, max_] for a sealed hash table whose range takes at most
  // kRangeBits bits (256 KiB): exact where the Bloom filter is approximate, and worth it
  // for small tables too. A selective join on a foreign key (TPC-H Q17: 6 M line items
  // probing the 204 parts of one brand and container, part keys 1..200 K) then costs a
  // bit test per probe instead of a hash and a probe sequence.
  static constexpr uint64_t kRangeBits = uint64_t{1} << 21;
  bool BuildRangeBits() {
    const uint64_t span = static_cast<uint64_t>(max_) - static_cast<uint64_t>(min_);
    if (span >= kRangeBits) return false;
    range_bits_.assign(span / 64 + 1, 0);
    for (int64_t g = 0; g < size(); ++g) {
      if (g == null_id_) continue;
      const uint64_t off = static_cast<uint64_t>(keys_[g]) - static_cast<uint64_t>(min_);
      range_bits_[off / 64] |= uint64_t{1} << (off % 64);
    }
    return true;
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
    if (!range_bits_.empty()) {
      const uint64_t words = range_bits_.size();
      const uint64_t* bits = range_bits_.data();
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t off = static_cast<uint64_t>(keys[i]) - static_cast<uint64_t>(min_);
        const uint64_t w = off / 64;
        ids[i] = -1;
        candidates[c] = static_cast<int32_t>(i);
        c += w < words && ((bits[w] >> (off % 64)) & 1);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t h = FilterHash(keys[i]);
        const uint64_t bits = FilterBits(h);
        ids[i] = -1;
        candidates[c] = static_cast<int32_t>(i);
        c += (filter_[h >> filter_shift_] & bits) == bits;
      }
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
    if (slots_.empty() && !dense_) Grow();
    const int64_t id = Upsert(key);
    if (id < 0) return Status::NotImplemented("more than 4 billion distinct keys");
    return static_cast<uint32_t>(id);
  }

  // The id of `key`, inserted if new; -1 when there is no id left. REQUIRES: slots, or
  // the direct array (dense_).
  int64_t Upsert(int64_t key) {
    if (dense_) {
      const uint64_t off = static_cast<uint64_t>(key) - static_cast<uint64_t>(min_);
      if (off < direct_.size() && direct_[off] != 0) {
        return static_cast<int64_t>(direct_[off]) - 1;
      }
      return UpsertDirectMiss(key);
    }
    uint64_t p = Home(key);
    while (true) {
      const Slot& s = slots_[p];
      if (s.id1 == 0) break;
      if (s.key == key) return static_cast<int64_t>(s.id1) - 1;
      p = (p + 1) & mask_;
    }
    if (keys_.size() >= kSkipped - 1) return -1;
    const uint32_t id = static_cast<uint32_t>(keys_.size());
    slots_[p] = Slot{key, id + 1};
    keys_.push_back(key);
    min_ = std::min(min_, key);
    max_ = std::max(max_, key);
    // At most half full, so that a probe always meets an empty slot.
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    return id;
  }

  void Grow() { Rehash(slots_.empty() ? 1024 : slots_.size() * 2); }

  // A large batch of mostly new keys (a join's build side arrives as one) would grow
  // the slots by doubling, rehashing every key at each step and touching twice the
  // final memory: when a sample of its rows says most keys are distinct, the slots are
  // sized for them at once. The sample is 16 runs of 16 rows, so that clustered input
  // (each key in a few neighbouring rows) shows its repeats; a sample with under half
  // distinct keys reserves nothing (few keys, or many repeats: growth is cheap then).
  void ReserveForBatch(const int64_t* keys, int64_t n) {
    constexpr int64_t kMinRows = 16384, kRuns = 16, kRun = 16;
    if (dense_ || n < kMinRows) return;
    if ((keys_.size() + static_cast<size_t>(n)) * 2 <= slots_.size()) return;
    std::array<int64_t, kRuns * kRun> sample;
    for (int64_t r = 0; r < kRuns; ++r) {
      const int64_t start = r * (n - kRun) / (kRuns - 1);
      std::copy(keys + start, keys + start + kRun, sample.begin() + r * kRun);
    }
    std::sort(sample.begin(), sample.end());
    const int64_t distinct = std::unique(sample.begin(), sample.end()) - sample.begin();
    if (distinct * 2 < static_cast<int64_t>(sample.size())) return;
    ARROW_UNUSED(Reserve(n * distinct / static_cast<int64_t>(sample.size()), 0));
  }

  // Keys being inserted that fill a sixteenth or more of a range go in a direct array
  // (id + 1 by key - min_) instead of hash slots: one load per row, no probing. Hash
  // slots take 32 to 64 bytes per key (16-byte slots, at most half full, doubling), the
  // array 4 bytes per value of the range: at most as much at this density, far less
  // when denser (a column of 100 K ids spanning 1..100 K: 400 KiB against 4 MiB of
  // slots). A worker's share of a clustered key (TPC-H's order keys, a quarter of
  // 1..6 M, in every other row group) is about an eighth of its range. The array leaves
  // again when a key far outside makes the range sparse.
  static bool DenseForInserts(int64_t lo, int64_t hi, int64_t keys) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    return span <
           std::min<uint64_t>(uint64_t{1} << 24, 16 * static_cast<uint64_t>(keys) + 64);
  }

  void MaybeGoDirect() {
    const int64_t distinct = size() - (null_id_ >= 0 ? 1 : 0);
    if (dense_ || sealed_ || distinct == 0 || !DenseForInserts(min_, max_, distinct)) {
      return;
    }
    FillDirect(min_, static_cast<uint64_t>(max_) - static_cast<uint64_t>(min_) + 1);
    HugeVector<Slot>().swap(slots_);
    dense_ = true;
  }

  // direct_ covers [lo, lo + len) and holds every key.
  void FillDirect(int64_t lo, uint64_t len) {
    direct_.assign(len, 0);
    for (int64_t g = 0; g < size(); ++g) {
      if (g == null_id_) continue;
      direct_[static_cast<uint64_t>(keys_[g]) - static_cast<uint64_t>(lo)] =
          static_cast<uint32_t>(g + 1);
    }
    min_ = lo;  // the array's base: no key is smaller
  }

  // Upsert of a key the direct array does not hold: a new key inside its range, or one
  // outside, for which the array grows (with room above, as keys often ascend) or, when
  // the range would be sparse, makes way for hash slots.
  int64_t UpsertDirectMiss(int64_t key) {
    if (keys_.size() >= kSkipped - 1) return -1;
    const uint32_t id = static_cast<uint32_t>(keys_.size());
    keys_.push_back(key);
    const int64_t lo = std::min(min_, key), hi = std::max(max_, key);
    max_ = hi;
    // hi - lo without overflow (the whole int64 range would wrap hi - lo + 1 to 0).
    const uint64_t distance = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    if (distance < direct_.size() && lo == min_) {
      direct_[static_cast<uint64_t>(key) - static_cast<uint64_t>(min_)] = id + 1;
      return id;
    }
    const int64_t distinct = size() - (null_id_ >= 0 ? 1 : 0);
    if (DenseForInserts(lo, hi, distinct)) {  // then distance < 2^24
      FillDirect(lo,
                 std::max<uint64_t>(distance + 1, std::min<uint64_t>(2 * direct_.size(),
                                                                     uint64_t{1} << 24)));
      return id;
    }
    // Sparse now: hash slots for every key (min_ stays the smallest key).
    dense_ = false;
    min_ = lo;
    HugeVector<uint32_t>().swap(direct_);
    size_t cap = 1024;
    while (cap < (keys_.size() + 1) * 2) cap *= 2;
    slots_.assign(cap, Slot{0, 0});
    mask_ = cap - 1;
    shift_ = 64 - __builtin_ctzll(cap);
    for (int64_t g = 0; g < size(); ++g) {
      if (g == null_id_) continue;
      uint64_t p = Home(keys_[g]);
      while (slots_[p].id1 != 0) p = (p + 1) & mask_;
      slots_[p] = Slot{keys_[g], static_cast<uint32_t>(g + 1)};
    }
    return id;
  }

  void Rehash(size_t cap) {
    HugeVector<Slot> old(cap, Slot{0, 0});
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
  HugeVector<Slot> slots_;
  uint64_t mask_ = 0;
  int shift_ = 64;
  HugeVector<int64_t> keys_;  // by id (0 at the NULL key's id)
  int64_t null_id_ = -1;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = std::numeric_limits<int64_t>::min();
  bool sealed_ = false;
  bool dense_ = false;
  HugeVector<uint32_t> direct_;       // when dense_: id + 1 of key min_ + i
  std::vector<uint64_t> filter_;      // after Seal, when hashed and large (BuildFilter)
  std::vector<uint64_t> range_bits_;  // after Seal, when hashed (BuildRangeBits)
  int filter_shift_ = 64;
  HugeVector<int64_t> scratch_;
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
      // Hashes first, so that the slots of the rows ahead can be prefetched.
      hashes_.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        std::string_view v = a.GetView(i);
        hashes_[i] = HashBytes(v.data(), v.size());
      }
      constexpr int64_t kAhead = 8;
      for (int64_t i = 0; i < n; ++i) {
        if (i + kAhead < n) table_.Prefetch(hashes_[i + kAhead]);
        if (has_nulls && a.IsNull(i)) {
          ARROW_ASSIGN_OR_RAISE(ids[i], NullKey(nulls));
          continue;
        }
        ARROW_ASSIGN_OR_RAISE(ids[i], table_.FindOrInsert(a.GetView(i), hashes_[i]));
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

  int64_t MemoryUsage() const override {
    return table_.MemoryUsage() +
           static_cast<int64_t>(dict_ids_.capacity() * 4 + hashes_.capacity() * 8);
  }
  Result<std::unique_ptr<KeyIndex>> MakeEmpty() const override {
    return std::make_unique<StringKeyIndex>(type_);
  }

 private:
  static constexpr uint32_t kUnset = 0xFFFFFFFEu;

  // The id of a NULL key: kSkipped, or the NULL key's own id (inserted when first seen).
  Result<uint32_t> NullKey(Nulls nulls) {
    if (nulls == Nulls::kSkip) return kSkipped;
    ARROW_ASSIGN_OR_RAISE(uint32_t id, table_.FindOrInsert({}, kStringNullHash));
    null_id_ = id;
    return id;
  }

  // Dictionary-encoded keys: each dictionary value is hashed and looked up once, when a
  // row first uses it (so ids stay in order of first appearance and unused values get
  // none); the other rows only index the cached ids. The cache lasts while batches
  // share one dictionary (the slices of one Parquet column chunk or table chunk): it
  // holds that dictionary, so a new one cannot take its address.
  Status InsertDictionary(const arrow::DictionaryArray& d, Nulls nulls, uint32_t* ids) {
    const auto& dict = *d.dictionary();
    const auto& indices = *d.indices();
    if (indices.type_id() != arrow::Type::INT32) {
      ARROW_ASSIGN_OR_RAISE(auto dense, arrow::compute::Cast(d, type_));
      return Insert({dense}, nulls, ids);
    }
    if (cached_dict_ != dict.data()) {
      cached_dict_ = dict.data();
      dict_ids_.assign(dict.length(), kUnset);
    }
    const int32_t* idx = indices.data()->GetValues<int32_t>(1);
    const bool row_nulls = indices.null_count() > 0;
    return Visit(dict, [&](const auto& values) -> Status {
      // Row i's id through the cache of dictionary value ids.
      auto cached_id = [&](int64_t i) -> Status {
        uint32_t& cached = dict_ids_[idx[i]];
        if (cached == kUnset) {
          std::string_view v = values.GetView(idx[i]);
          ARROW_ASSIGN_OR_RAISE(cached,
                                table_.FindOrInsert(v, HashBytes(v.data(), v.size())));
        }
        ids[i] = cached;
        return Status::OK();
      };
      if (!row_nulls && values.null_count() == 0) {
        // No NULL anywhere: the common case, without a validity test per row.
        for (int64_t i = 0; i < d.length(); ++i) ARROW_RETURN_NOT_OK(cached_id(i));
        return Status::OK();
      }
      for (int64_t i = 0; i < d.length(); ++i) {
        const bool null = (row_nulls && indices.IsNull(i)) || values.IsNull(idx[i]);
        if (null) {
          ARROW_ASSIGN_OR_RAISE(ids[i], NullKey(nulls));
          continue;
        }
        ARROW_RETURN_NOT_OK(cached_id(i));
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
  std::shared_ptr<arrow::ArrayData> cached_dict_;  // the dictionary dict_ids_ is for
  std::vector<uint64_t> hashes_;                   // Insert's, of a batch
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
  Result<std::unique_ptr<KeyIndex>> MakeEmpty() const override {
    return std::make_unique<EncodedKeyIndex>(types_);
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

// Keys of two 64-bit words (the packed column ids of keys wider than 64 bits) to dense
// ids in order of first insertion, by open addressing over a slot array of ids (half
// full at most); the keys themselves are kept by id.
class WideKeys {
 public:
  // Ids are uint32 and kSkipped (all ones) is not one.
  static constexpr int64_t kMaxKeys = int64_t{0xFFFFFFFF} - 1;
  // The error when `more` new keys might not fit.
  Status Room(int64_t more) const {
    if (size() + more <= kMaxKeys) return Status::OK();
    return Status::CapacityError("a key index holds at most ", kMaxKeys, " keys");
  }
  int64_t size() const { return static_cast<int64_t>(keys_.size() / 2); }
  uint64_t word(int64_t id, int w) const { return keys_[2 * id + w]; }

  void Reserve(int64_t n) {
    keys_.reserve(2 * static_cast<size_t>(n));
    if (static_cast<uint64_t>(n) * 2 > slots_.size())
      Rehash(static_cast<uint64_t>(n) * 2);
  }
  // REQUIRES: size() < kMaxKeys (the caller checks before a batch).
  uint32_t FindOrInsert(uint64_t lo, uint64_t hi) {
    if ((static_cast<uint64_t>(size()) + 1) * 2 > slots_.size()) {
      Rehash(std::max<uint64_t>(1024, slots_.size() * 2));
    }
    for (uint64_t s = Slot(lo, hi);; s = (s + 1) & mask_) {
      const uint32_t slot = slots_[s];
      if (slot == 0) {
        const auto id = static_cast<uint32_t>(size());
        keys_.push_back(lo);
        keys_.push_back(hi);
        slots_[s] = id + 1;
        return id;
      }
      if (keys_[2 * (slot - 1)] == lo && keys_[2 * (slot - 1) + 1] == hi) return slot - 1;
    }
  }
  int64_t Find(uint64_t lo, uint64_t hi) const {
    if (slots_.empty()) return -1;
    for (uint64_t s = Slot(lo, hi);; s = (s + 1) & mask_) {
      const uint32_t slot = slots_[s];
      if (slot == 0) return -1;
      if (keys_[2 * (slot - 1)] == lo && keys_[2 * (slot - 1) + 1] == hi) return slot - 1;
    }
  }
  int64_t MemoryUsage() const {
    return static_cast<int64_t>(slots_.capacity() * 4 + keys_.capacity() * 8);
  }
  void ShrinkKeys() { keys_.shrink_to_fit(); }

 private:
  // The top bits of a multiplicative hash: they depend on every bit of both words
  // (the low bits would ignore a column packed high in the low word).
  uint64_t Slot(uint64_t lo, uint64_t hi) const {
    return ((lo ^ (hi * 0xC2B2AE3D27D4EB4Full)) * 0x9E3779B97F4A7C15ull) >> shift_;
  }
  void Rehash(uint64_t want) {
    uint64_t n = 1024;
    while (n < want) n *= 2;
    slots_.assign(n, 0);
    mask_ = n - 1;
    shift_ = 64 - __builtin_ctzll(n);
    for (int64_t id = 0; id < size(); ++id) {
      uint64_t s = Slot(keys_[2 * id], keys_[2 * id + 1]);
      while (slots_[s] != 0) s = (s + 1) & mask_;
      slots_[s] = static_cast<uint32_t>(id + 1);
    }
  }

  HugeVector<uint32_t> slots_;  // id + 1 of the key there; 0: empty
  std::vector<uint64_t> keys_;  // by id: low word, high word
  uint64_t mask_ = 0;
  int shift_ = 64;
};

// Several key columns, each of a kind with its own index (integer-like or string):
// each column maps its values to column ids in an index of its own, and a row's column
// ids, packed into one 64-bit word (column c in widths_[c] bits from bit shifts_[c]),
// are the key of an integer index. That replaces row encoding and hashing the encoded
// bytes with a small lookup per column (a dictionary-encoded column looks each value
// up once per dictionary) and one integer probe; the key columns come back out by
// gathering each column's values by its ids.
// A column whose ids outgrow their bits is given two more than it needs and every key
// is packed again (rare: a column's values mostly appear early). When the ids need more
// than 64 bits together, the keys move to row encoding for good (an EncodedKeyIndex
// inside, with the same ids). Partitions mix the columns' own partitions, which depend
// on the values alone, so a key has one partition whichever form holds it.
class PackedKeyIndex final : public KeyIndex {
 public:
  friend class ::sluice::exec::MergedKeys;
  // Find narrows batches of at least this many rows by their first column.
  static constexpr int64_t kNarrowRows = 1024;

  PackedKeyIndex(std::vector<std::shared_ptr<arrow::DataType>> types,
                 std::vector<std::shared_ptr<KeyIndex>> columns)
      : types_(std::move(types)),
        columns_(std::move(columns)),
        widths_(columns_.size(), 0),
        shifts_(columns_.size(), 0),
        word_(columns_.size(), 0),
        packed_(std::make_unique<IntKeyIndex>(arrow::int64())),
        maps_(columns_.size()) {}
  // An index that starts with row-encoded keys (the next table of one that moved).
  explicit PackedKeyIndex(std::vector<std::shared_ptr<arrow::DataType>> types)
      : types_(std::move(types)), encoded_(std::make_unique<EncodedKeyIndex>(types_)) {}

  Status Insert(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    return InsertWith(columns, nulls, ids, /*build=*/false);
  }
  // Each column's index built at once (dense ranges directly indexed), then the keys.
  Status Build(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) override {
    if (size() > 0 || encoded_) return KeyIndex::Build(columns, nulls, ids);
    ARROW_RETURN_NOT_OK(InsertWith(columns, nulls, ids, /*build=*/true));
    return Seal();
  }

  Status InsertAll(const KeyIndex& other_base, uint32_t* mapping, const uint8_t* part_of,
                   uint8_t part) override {
    const auto& other = static_cast<const PackedKeyIndex&>(other_base);
    if (encoded_ || other.encoded_) {
      return InsertAllByColumns(other, mapping, part_of, part);
    }
    const size_t k = columns_.size();
    std::vector<const uint32_t*> maps(k);
    for (size_t c = 0; c < k; ++c) {
      ARROW_ASSIGN_OR_RAISE(maps[c], ColumnMapping(c, other.columns_[c]));
    }
    // other's selected keys as column ids here, then inserted like rows.
    Select(other.size(), part_of, part, mapping, &selected_);
    const int64_t m = static_cast<int64_t>(selected_.size());
    col_ids_.resize(k);
    for (size_t c = 0; c < k; ++c) col_ids_[c].resize(m);
    for (int64_t j = 0; j < m; ++j) {
      for (size_t c = 0; c < k; ++c) {
        col_ids_[c][j] = maps[c][other.KeyField(selected_[j], c)];
      }
    }
    ARROW_ASSIGN_OR_RAISE(bool fits, Fit());
    if (!fits) {
      ARROW_RETURN_NOT_OK(MoveToEncoded());
      return InsertAllByColumns(other, mapping, part_of, part);
    }
    std::vector<uint32_t> ids(m);
    ARROW_RETURN_NOT_OK(InsertPacked(m, ids.data()));
    for (int64_t j = 0; j < m; ++j) mapping[selected_[j]] = ids[j];
    return Status::OK();
  }

  Status Find(const arrow::ArrayVector& columns, ProbeScratch* scratch,
              int64_t* ids) const override {
    if (encoded_) return encoded_->Find(columns, scratch, ids);
    const int64_t n = columns[0]->length();
    if (n >= kNarrowRows) {
      // The first column alone first: when most of its values are absent (a join
      // restricted by a selective build side, TPC-H Q9's green parts), the other
      // columns and the packed key are looked up for the other rows only.
      std::vector<int64_t>& first = scratch->pair_ids;
      first.resize(n);
      ARROW_RETURN_NOT_OK(columns_[0]->Find({columns[0]}, scratch, first.data()));
      std::vector<int32_t>& known = scratch->known;
      known.clear();
      for (int64_t i = 0; i < n; ++i) {
        if (first[i] >= 0) known.push_back(static_cast<int32_t>(i));
      }
      const int64_t m = static_cast<int64_t>(known.size());
      if (m * 2 < n) {
        arrow::ArrayVector taken(columns.size());
        for (size_t c = 0; c < columns.size(); ++c) {
          ARROW_ASSIGN_OR_RAISE(taken[c], TakeRows(columns[c], known.data(), m,
                                                   arrow::default_memory_pool()));
        }
        std::vector<int32_t> rows = std::move(known);  // Find below uses the scratch
        std::fill(ids, ids + n, -1);
        if (m == 0) return Status::OK();
        std::vector<int64_t> found(m);
        ARROW_RETURN_NOT_OK(FindAll(taken, scratch, found.data()));
        for (int64_t j = 0; j < m; ++j) ids[rows[j]] = found[j];
        scratch->known = std::move(rows);
        return Status::OK();
      }
    }
    return FindAll(columns, scratch, ids);
  }

  // Find of every row, column by column.
  Status FindAll(const arrow::ArrayVector& columns, ProbeScratch* scratch,
                 int64_t* ids) const {
    const int64_t n = columns[0]->length();
    const size_t k = columns_.size();
    std::vector<int64_t>& packed = scratch->pair_ids;
    std::vector<int64_t>& high = scratch->high_ids;
    std::vector<uint8_t>& missing = scratch->missing;
    packed.assign(n, 0);
    high.assign(wide_ ? n : 0, 0);
    missing.assign(n, 0);
    scratch->column_ids.resize(k);
    for (size_t c = 0; c < k; ++c) {
      std::vector<int64_t>& cid = scratch->column_ids[c];
      cid.resize(n);
      ARROW_RETURN_NOT_OK(columns_[c]->Find({columns[c]}, scratch, cid.data()));
      const int shift = shifts_[c];
      const bool stored = widths_[c] > 0;
      int64_t* word = word_[c] == 0 ? packed.data() : high.data();
      for (int64_t i = 0; i < n; ++i) {
        // An id past the column's bits: a value its index learnt after this table took
        // its layout (a worker's later tables share the column indexes), not a key here.
        if (cid[i] < 0 || static_cast<uint64_t>(cid[i]) >> widths_[c] != 0) {
          missing[i] = 1;
        } else if (stored) {
          word[i] = static_cast<int64_t>(static_cast<uint64_t>(word[i]) |
                                         (static_cast<uint64_t>(cid[i]) << shift));
        }
      }
    }
    if (wide_) {
      for (int64_t i = 0; i < n; ++i) {
        ids[i] = missing[i] ? -1
                            : wide_->Find(static_cast<uint64_t>(packed[i]),
                                          static_cast<uint64_t>(high[i]));
      }
      return Status::OK();
    }
    auto array = std::make_shared<arrow::Int64Array>(
        n, arrow::Buffer::Wrap(packed.data(), static_cast<size_t>(n)));
    ARROW_RETURN_NOT_OK(packed_->Find({array}, scratch, ids));
    for (int64_t i = 0; i < n; ++i) {
      if (missing[i]) ids[i] = -1;  // a value absent from its column, or NULL
    }
    return Status::OK();
  }

  Status Seal() override {
    if (encoded_) return encoded_->Seal();
    for (auto& c : columns_) ARROW_RETURN_NOT_OK(c->Seal());
    return wide_ ? Status::OK() : packed_->Seal();
  }

  void Partitions(int parts, uint8_t* out) const override {
    const int64_t n = size();
    std::vector<uint64_t> h(n, 0);
    std::vector<uint8_t> bytes(n);
    std::vector<uint32_t> cid(n);
    if (encoded_) {
      // The key columns' values looked up in fresh indexes of one column each: the
      // partition bytes the packed form takes from its columns' indexes.
      auto cols = encoded_->KeyColumns(arrow::default_memory_pool());
      for (size_t c = 0; cols.ok() && c < types_.size(); ++c) {
        auto one = KeyIndex::Make({types_[c]});
        if (!one.ok() || !(*one)->Insert({(*cols)[c]}, Nulls::kGroup, cid.data()).ok()) {
          break;
        }
        (*one)->PartitionsOf(cid.data(), n, bytes.data());
        for (int64_t g = 0; g < n; ++g) h[g] = MixPartition(h[g], bytes[g]);
      }
    } else {
      for (size_t c = 0; c < columns_.size(); ++c) {
        for (int64_t g = 0; g < n; ++g) {
          cid[g] = static_cast<uint32_t>(KeyField(g, c));
        }
        columns_[c]->PartitionsOf(cid.data(), n, bytes.data());
        for (int64_t g = 0; g < n; ++g) h[g] = MixPartition(h[g], bytes[g]);
      }
    }
    for (int64_t g = 0; g < n; ++g) out[g] = TopBits(h[g], parts);
  }

  Status Reserve(int64_t keys, int64_t bytes) override {
    if (encoded_) return encoded_->Reserve(keys, bytes);
    reserved_ = std::max(reserved_, size() + keys);
    if (wide_) {
      wide_->Reserve(size() + keys);
      return Status::OK();
    }
    return packed_->Reserve(keys, 0);
  }
  int64_t KeyBytes() const override { return encoded_ ? encoded_->KeyBytes() : 0; }
  int64_t size() const override {
    return encoded_ ? encoded_->size() : wide_ ? wide_->size() : packed_->size();
  }

  Result<arrow::ArrayVector> KeyColumns(arrow::MemoryPool* pool) const override {
    if (encoded_) return encoded_->KeyColumns(pool);
    const int64_t n = size();
    std::vector<int32_t> cid(n);
    arrow::ArrayVector out;
    for (size_t c = 0; c < columns_.size(); ++c) {
      ARROW_ASSIGN_OR_RAISE(auto values, columns_[c]->KeyColumns(pool));
      for (int64_t g = 0; g < n; ++g) {
        cid[g] = static_cast<int32_t>(KeyField(g, c));
      }
      ARROW_ASSIGN_OR_RAISE(auto col, TakeRows(values[0], cid.data(), n, pool));
      out.push_back(std::move(col));
    }
    return out;
  }

  int64_t MemoryUsage() const override {
    if (encoded_) return encoded_->MemoryUsage();
    int64_t total = (wide_ ? wide_->MemoryUsage() : packed_->MemoryUsage()) +
                    static_cast<int64_t>(small_.capacity() * 4 + values_.capacity() * 8 +
                                         high_.capacity() * 8 +
                                         (selected_.capacity() + unseen_.capacity()) * 4);
    for (const auto& ids : col_ids_) total += static_cast<int64_t>(ids.capacity() * 4);
    for (const auto& maps : maps_) {
      for (const auto& m : maps) total += static_cast<int64_t>(m.ids.capacity() * 4);
    }
    // A column index shared with a worker's other tables counts a share in each.
    for (const auto& c : columns_)
      total += c->MemoryUsage() / std::max(1L, c.use_count());
    return total;
  }

  void ReleaseInsertBuffers() override {
    for (auto& ids : col_ids_) std::vector<uint32_t>().swap(ids);
    std::vector<int64_t>().swap(values_);
    std::vector<uint64_t>().swap(high_);
    std::vector<int32_t>().swap(selected_);
    std::vector<int32_t>().swap(unseen_);
    if (wide_) wide_->ShrinkKeys();
  }

  Result<std::unique_ptr<KeyIndex>> MakeEmpty() const override {
    if (encoded_) return std::make_unique<PackedKeyIndex>(types_);
    return std::make_unique<PackedKeyIndex>(types_, columns_);
  }

 private:
  // Bits that hold the ids 0 .. n - 1.
  static int BitsFor(int64_t n) {
    return n <= 1 ? 0 : 64 - __builtin_clzll(static_cast<uint64_t>(n - 1));
  }
  static uint64_t MixPartition(uint64_t h, uint8_t byte) {
    return (h + byte + 1) * 0x9E3779B97F4A7C15ull;
  }
  // Column c's id in the key of id g.
  uint64_t KeyField(int64_t g, size_t c) const {
    if (widths_[c] == 0) return 0;
    const uint64_t word =
        wide_ ? wide_->word(g, word_[c]) : static_cast<uint64_t>(packed_->key(g));
    return (word >> shifts_[c]) & ((uint64_t{1} << widths_[c]) - 1);
  }

  Status InsertWith(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids,
                    bool build) {
    if (encoded_) {
      return build ? encoded_->Build(columns, nulls, ids)
                   : encoded_->Insert(columns, nulls, ids);
    }
    const int64_t n = columns[0]->length();
    if (n == 0) return Status::OK();
    const size_t k = columns_.size();
    col_ids_.resize(k);
    for (size_t c = 0; c < k; ++c) {
      col_ids_[c].resize(n);
      ARROW_RETURN_NOT_OK(
          build ? columns_[c]->Build({columns[c]}, nulls, col_ids_[c].data())
                : columns_[c]->Insert({columns[c]}, nulls, col_ids_[c].data()));
    }
    ARROW_ASSIGN_OR_RAISE(bool fits, Fit());
    if (!fits) {
      ARROW_RETURN_NOT_OK(MoveToEncoded());
      return build ? encoded_->Build(columns, nulls, ids)
                   : encoded_->Insert(columns, nulls, ids);
    }
    bool skipped = false;
    if (nulls == Nulls::kSkip) {
      for (size_t c = 0; c < k && !skipped; ++c) {
        for (int64_t i = 0; i < n && !skipped; ++i) skipped = col_ids_[c][i] == kSkipped;
      }
    }
    if (!skipped) return InsertPacked(n, ids);
    // Rows with a NULL key (skipped) stay out of the packed keys entirely.
    selected_.clear();
    for (int64_t i = 0; i < n; ++i) {
      bool skip = false;
      for (size_t c = 0; c < k; ++c) skip = skip || col_ids_[c][i] == kSkipped;
      if (skip) {
        ids[i] = kSkipped;
        continue;
      }
      for (size_t c = 0; c < k; ++c) col_ids_[c][selected_.size()] = col_ids_[c][i];
      selected_.push_back(static_cast<int32_t>(i));
    }
    const int64_t m = static_cast<int64_t>(selected_.size());
    std::vector<uint32_t> kept(m);
    ARROW_RETURN_NOT_OK(InsertPacked(m, kept.data()));
    for (int64_t j = 0; j < m; ++j) ids[selected_[j]] = kept[j];
    return Status::OK();
  }

  // Whether every column's ids fit its bits, widening columns (and packing every key
  // again) where they do not; false when the ids cannot fit in two words.
  Result<bool> Fit() {
    const size_t k = columns_.size();
    std::vector<int> need(k);
    bool grown = false;
    std::vector<int> want(k);
    for (size_t c = 0; c < k; ++c) {
      need[c] = std::max(widths_[c], BitsFor(columns_[c]->size()));
      const bool grows = need[c] > widths_[c];
      grown = grown || grows;
      want[c] = grows ? std::min(need[c] + 2, 32) : widths_[c];
    }
    if (!grown) return true;
    // One word while the ids fit (with room to grow, else as they are), then two.
    std::vector<int> shifts, words;
    for (int max_words : {1, 2}) {
      if (max_words == 1 && wide_) continue;
      for (const auto* widths : {&want, &need}) {
        if (Layout(*widths, max_words, &shifts, &words)) {
          ARROW_RETURN_NOT_OK(Repack(*widths, shifts, words, max_words == 2));
          return true;
        }
      }
    }
    return false;
  }

  // Each column in the first of `max_words` words with room for it (no column spans
  // two words); false when they do not fit.
  static bool Layout(const std::vector<int>& widths, int max_words,
                     std::vector<int>* shifts, std::vector<int>* words) {
    int used[2] = {0, 0};
    shifts->assign(widths.size(), 0);
    words->assign(widths.size(), 0);
    for (size_t c = 0; c < widths.size(); ++c) {
      int w = 0;
      while (w < max_words && used[w] + widths[c] > 64) ++w;
      if (w == max_words) return false;
      (*words)[c] = w;
      (*shifts)[c] = used[w];
      used[w] += widths[c];
    }
    return true;
  }

  // Packs every key again with this layout (ids unchanged), into two words if `wide`.
  Status Repack(const std::vector<int>& widths, const std::vector<int>& shifts,
                const std::vector<int>& words, bool wide) {
    const int64_t n = size();
    if (wide) {
      auto next = std::make_unique<WideKeys>();
      next->Reserve(std::max(n, reserved_));
      for (int64_t g = 0; g < n; ++g) {
        uint64_t w[2] = {0, 0};
        for (size_t c = 0; c < widths.size(); ++c) {
          if (widths[c] > 0) w[words[c]] |= KeyField(g, c) << shifts[c];
        }
        next->FindOrInsert(w[0], w[1]);  // distinct keys in id order: the same ids
      }
      wide_ = std::move(next);
      packed_.reset();
      widths_ = widths;
      shifts_ = shifts;
      word_ = words;
      std::vector<uint32_t>().swap(small_);
      return Status::OK();
    }
    int shift = 0;
    for (size_t c = 0; c < widths.size(); ++c) shift += widths[c];
    auto next = std::make_unique<IntKeyIndex>(arrow::int64());
    // The room Reserve made stays made.
    ARROW_RETURN_NOT_OK(next->Reserve(std::max(n, reserved_), 0));
    if (n > 0) {
      std::vector<int64_t> keys(n, 0);
      for (size_t c = 0; c < widths.size(); ++c) {
        if (widths[c] == 0) continue;
        for (int64_t g = 0; g < n; ++g) {
          keys[g] = static_cast<int64_t>(static_cast<uint64_t>(keys[g]) |
                                         (KeyField(g, c) << shifts[c]));
        }
      }
      std::vector<uint32_t> ids(n);
      auto array = std::make_shared<arrow::Int64Array>(
          n, arrow::Buffer::Wrap(keys.data(), static_cast<size_t>(n)));
      ARROW_RETURN_NOT_OK(next->Insert({array}, Nulls::kGroup, ids.data()));
    }
    packed_ = std::move(next);
    widths_ = widths;
    shifts_ = shifts;
    // While the ids take at most 16 bits, a direct table by packed key answers the keys
    // seen before without hashing.
    std::vector<uint32_t>().swap(small_);
    if (shift <= kSmallBits) {
      small_.assign(size_t{1} << shift, 0);
      for (int64_t g = 0; g < n; ++g) {
        small_[static_cast<uint64_t>(packed_->key(g))] = static_cast<uint32_t>(g + 1);
      }
    }
    return Status::OK();
  }

  // The ids of the first n rows of col_ids_ (none skipped), inserting new keys.
  Status InsertPacked(int64_t n, uint32_t* ids) {
    // The rows' column ids packed into their words (the high ones only when wide).
    values_.assign(n, 0);
    high_.assign(wide_ ? n : 0, 0);
    for (size_t c = 0; c < col_ids_.size(); ++c) {
      if (widths_[c] == 0) continue;
      const uint32_t* cid = col_ids_[c].data();
      const int shift = shifts_[c];
      uint64_t* v =
          word_[c] == 0 ? reinterpret_cast<uint64_t*>(values_.data()) : high_.data();
      for (int64_t i = 0; i < n; ++i) v[i] |= static_cast<uint64_t>(cid[i]) << shift;
    }
    if (wide_) {
      ARROW_RETURN_NOT_OK(wide_->Room(n));
      for (int64_t i = 0; i < n; ++i) {
        ids[i] = wide_->FindOrInsert(static_cast<uint64_t>(values_[i]), high_[i]);
      }
      return Status::OK();
    }
    if (small_.empty()) {
      auto array = std::make_shared<arrow::Int64Array>(
          n, arrow::Buffer::Wrap(values_.data(), static_cast<size_t>(n)));
      return packed_->Insert({array}, Nulls::kGroup, ids);
    }
    // New keys in row order, so that ids follow first insertion as always.
    unseen_.clear();
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t slot = small_[static_cast<uint64_t>(values_[i])];
      if (slot == 0) {
        values_[unseen_.size()] = values_[i];
        unseen_.push_back(static_cast<int32_t>(i));
      } else {
        ids[i] = slot - 1;
      }
    }
    const int64_t m = static_cast<int64_t>(unseen_.size());
    if (m == 0) return Status::OK();
    std::vector<uint32_t> fresh(m);
    auto array = std::make_shared<arrow::Int64Array>(
        m, arrow::Buffer::Wrap(values_.data(), static_cast<size_t>(m)));
    ARROW_RETURN_NOT_OK(packed_->Insert({array}, Nulls::kGroup, fresh.data()));
    for (int64_t j = 0; j < m; ++j) {
      ids[unseen_[j]] = fresh[j];
      small_[static_cast<uint64_t>(values_[j])] = fresh[j] + 1;
    }
    return Status::OK();
  }

  // other's column c's ids as ids of column c here: all of other's values are inserted
  // (values of keys left out stay unused). Kept for the next tables that share that
  // column (a worker's tables do; the workers' tables arrive interleaved).
  Result<const uint32_t*> ColumnMapping(size_t c, const std::shared_ptr<KeyIndex>& from) {
    std::vector<ColumnMap>& maps = maps_[c];
    ColumnMap* m = nullptr;
    for (auto& candidate : maps) {
      if (candidate.from.lock() == from) m = &candidate;
    }
    if (m == nullptr) {
      // Mappings of column indexes that are gone make room first.
      maps.erase(std::remove_if(maps.begin(), maps.end(),
                                [](const ColumnMap& x) { return x.from.expired(); }),
                 maps.end());
      m = &maps.emplace_back();
      m->from = from;
    }
    if (m->size != from->size()) {
      m->ids.resize(from->size());
      ARROW_RETURN_NOT_OK(columns_[c]->InsertAll(*from, m->ids.data()));
      m->size = from->size();
    }
    return m->ids.data();
  }

  // InsertAll's selection: the keys g < n with part_of[g] == part (all when part_of
  // is null) into *selected; mapping[g] = kSkipped for the others.
  static void Select(int64_t n, const uint8_t* part_of, uint8_t part, uint32_t* mapping,
                     std::vector<int32_t>* selected) {
    selected->clear();
    for (int64_t g = 0; g < n; ++g) {
      if (part_of != nullptr && part_of[g] != part) {
        mapping[g] = kSkipped;
      } else {
        selected->push_back(static_cast<int32_t>(g));
      }
    }
  }

  // InsertAll through the key columns of other's selected keys (one of the two holds
  // row-encoded keys).
  Status InsertAllByColumns(const PackedKeyIndex& other, uint32_t* mapping,
                            const uint8_t* part_of, uint8_t part) {
    auto* pool = arrow::default_memory_pool();
    ARROW_ASSIGN_OR_RAISE(auto cols, other.KeyColumns(pool));
    std::vector<int32_t> sel;
    Select(other.size(), part_of, part, mapping, &sel);
    const int64_t m = static_cast<int64_t>(sel.size());
    if (m == 0) return Status::OK();
    if (m < other.size()) {
      for (auto& col : cols) {
        ARROW_ASSIGN_OR_RAISE(col, TakeRows(col, sel.data(), m, pool));
      }
    }
    std::vector<uint32_t> ids(m);
    ARROW_RETURN_NOT_OK(Insert(cols, Nulls::kGroup, ids.data()));
    for (int64_t j = 0; j < m; ++j) mapping[sel[j]] = ids[j];
    return Status::OK();
  }

  // The keys so far into an EncodedKeyIndex, with the same ids; it holds them from now.
  Status MoveToEncoded() {
    auto encoded = std::make_unique<EncodedKeyIndex>(types_);
    const int64_t n = size();
    if (n > 0) {
      ARROW_ASSIGN_OR_RAISE(auto cols, KeyColumns(arrow::default_memory_pool()));
      std::vector<uint32_t> ids(n);
      ARROW_RETURN_NOT_OK(encoded->Insert(cols, Nulls::kGroup, ids.data()));
    }
    encoded_ = std::move(encoded);
    columns_.clear();
    packed_.reset();
    wide_.reset();
    std::vector<uint32_t>().swap(small_);
    maps_.clear();
    col_ids_.clear();
    return Status::OK();
  }

  static constexpr int kSmallBits = 16;
  struct ColumnMap {
    std::weak_ptr<KeyIndex> from;  // the column index mapped (while it lives)
    int64_t size = -1;             // its size then
    std::vector<uint32_t> ids;
  };

  std::vector<std::shared_ptr<arrow::DataType>> types_;
  std::vector<std::shared_ptr<KeyIndex>> columns_;
  std::vector<int> widths_;
  std::vector<int> shifts_;
  std::vector<int> word_;                     // per column: the word of its bits (0, 1)
  std::unique_ptr<IntKeyIndex> packed_;       // packed column ids -> key id (one word)
  std::unique_ptr<WideKeys> wide_;            // instead, once the ids need two words
  std::unique_ptr<KeyIndex> encoded_;         // once the ids need more than 128 bits
  int64_t reserved_ = 0;                      // keys Reserve made room for
  std::vector<std::vector<ColumnMap>> maps_;  // InsertAll's column mappings, by column
  std::vector<std::vector<uint32_t>> col_ids_;
  std::vector<int64_t> values_;    // packed keys of a batch (the low words when wide)
  std::vector<uint64_t> high_;     // their high words, when wide
  std::vector<int32_t> selected_;  // rows or keys of a batch taken apart
  std::vector<int32_t> unseen_;    // InsertPacked's rows of keys small_ does not know
  std::vector<uint32_t> small_;    // packed key -> id + 1 (0: unseen); kSmallBits at most
};

}  // namespace

namespace {

class TwoWordKeyIndex final : public KeyIndex {
 public:
  Status Insert(const arrow::ArrayVector& columns, Nulls, uint32_t* ids) override {
    if (columns.size() != 2 || columns[0]->null_count() > 0 ||
        columns[1]->null_count() > 0) {
      return Status::Invalid("internal: a two-word key index takes two columns, no NULL");
    }
    const int64_t n = columns[0]->length();
    const auto* lo = columns[0]->data()->GetValues<uint64_t>(1);
    const auto* hi = columns[1]->data()->GetValues<uint64_t>(1);
    ARROW_RETURN_NOT_OK(keys_.Room(n));
    for (int64_t i = 0; i < n; ++i) ids[i] = keys_.FindOrInsert(lo[i], hi[i]);
    return Status::OK();
  }
  Status InsertAll(const KeyIndex&, uint32_t*, const uint8_t*, uint8_t) override {
    return Status::NotImplemented("InsertAll into a two-word key index");
  }
  void Partitions(int parts, uint8_t* out) const override {
    for (int64_t g = 0; g < size(); ++g) {
      out[g] = TopBits((keys_.word(g, 0) ^ (keys_.word(g, 1) * 0xC2B2AE3D27D4EB4Full)) *
                           0x9E3779B97F4A7C15ull,
                       parts);
    }
  }
  Status Find(const arrow::ArrayVector&, ProbeScratch*, int64_t*) const override {
    return Status::NotImplemented("Find in a two-word key index");
  }
  Status Reserve(int64_t keys, int64_t) override {
    keys_.Reserve(size() + keys);
    return Status::OK();
  }
  Result<std::unique_ptr<KeyIndex>> MakeEmpty() const override {
    return std::make_unique<TwoWordKeyIndex>();
  }
  int64_t size() const override { return keys_.size(); }
  Result<arrow::ArrayVector> KeyColumns(arrow::MemoryPool* pool) const override {
    arrow::ArrayVector out;
    for (int w = 0; w < 2; ++w) {
      ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::AllocateBuffer(size() * 8, pool));
      auto* v = reinterpret_cast<uint64_t*>(buffer->mutable_data());
      for (int64_t g = 0; g < size(); ++g) v[g] = keys_.word(g, w);
      out.push_back(std::make_shared<arrow::Int64Array>(size(), std::move(buffer)));
    }
    return out;
  }
  int64_t MemoryUsage() const override { return keys_.MemoryUsage(); }

 private:
  WideKeys keys_;
};

}  // namespace

std::unique_ptr<KeyIndex> KeyIndex::MakeTwoWords() {
  return std::make_unique<TwoWordKeyIndex>();
}

Result<std::unique_ptr<KeyIndex>> KeyIndex::Make(
    const std::vector<std::shared_ptr<arrow::DataType>>& types) {
  if (types.empty()) return Status::Invalid("internal: a key index needs key columns");
  ARROW_RETURN_NOT_OK(CheckEncodable(types));
  if (types.size() == 1 && IsWordKey(*types[0])) {
    return std::make_unique<IntKeyIndex>(types[0]);
  }
  if (types.size() == 1 && IsBinaryLike(*types[0])) {
    return std::make_unique<StringKeyIndex>(types[0]);
  }
  auto own_index = [](const arrow::DataType& t) {
    return IsWordKey(t) || IsBinaryLike(t);
  };
  if (std::all_of(types.begin(), types.end(),
                  [&](const auto& t) { return own_index(*t); })) {
    std::vector<std::shared_ptr<KeyIndex>> columns;
    for (const auto& t : types) {
      ARROW_ASSIGN_OR_RAISE(auto one, Make({t}));
      columns.push_back(std::move(one));
    }
    return std::make_unique<PackedKeyIndex>(types, std::move(columns));
  }
  return std::make_unique<EncodedKeyIndex>(types);
}

struct MergedKeys::Column {
  int width = 0;
  int shift = 0;
  int word = 0;                          // 1: in the high word
  std::shared_ptr<arrow::Array> values;  // the column's values, by merged column id
  std::vector<uint8_t> parts;            // their partitions(256), by merged column id
};

MergedKeys::~MergedKeys() = default;

int64_t MergedKeys::MemoryUsage() const {
  int64_t total = 0;
  for (const auto& k : keys_) total += static_cast<int64_t>(k.capacity() * 8);
  for (const auto& k : high_) total += static_cast<int64_t>(k.capacity() * 8);
  for (const auto& p : parts_) total += static_cast<int64_t>(p.capacity());
  for (const auto& c : columns_) total += static_cast<int64_t>(c.parts.capacity());
  return total;
}

Result<std::unique_ptr<MergedKeys>> MergedKeys::Make(
    const std::vector<const KeyIndex*>& indexes, int threads, arrow::MemoryPool* pool) {
  std::vector<const PackedKeyIndex*> packed;
  for (const KeyIndex* index : indexes) {
    const auto* p = dynamic_cast<const PackedKeyIndex*>(index);
    if (p == nullptr || p->encoded_) return nullptr;
    packed.push_back(p);
  }
  if (packed.empty()) return nullptr;
  const size_t k = packed[0]->columns_.size();
  std::unique_ptr<MergedKeys> out(new MergedKeys());
  out->columns_.resize(k);
  // Per column: one index of the values of all, and each distinct column index's ids
  // in it (a worker's tables share theirs).
  std::vector<std::vector<std::pair<const KeyIndex*, std::vector<uint32_t>>>> maps(k);
  std::vector<std::vector<const uint32_t*>> map_of(packed.size(),
                                                   std::vector<const uint32_t*>(k));
  std::vector<int> widths(k);
  for (size_t c = 0; c < k; ++c) {
    ARROW_ASSIGN_OR_RAISE(auto all, KeyIndex::Make({packed[0]->types_[c]}));
    for (const auto* p : packed) {
      const KeyIndex* col = p->columns_[c].get();
      bool seen = false;
      for (const auto& m : maps[c]) seen = seen || m.first == col;
      if (seen) continue;
      std::vector<uint32_t> ids(col->size());
      ARROW_RETURN_NOT_OK(all->InsertAll(*col, ids.data()));
      maps[c].emplace_back(col, std::move(ids));
    }
    for (size_t i = 0; i < packed.size(); ++i) {
      for (const auto& m : maps[c]) {
        if (m.first == packed[i]->columns_[c].get()) map_of[i][c] = m.second.data();
      }
    }
    Column& column = out->columns_[c];
    column.width = widths[c] = PackedKeyIndex::BitsFor(all->size());
    column.parts.resize(all->size());
    all->Partitions(256, column.parts.data());
    ARROW_ASSIGN_OR_RAISE(auto values, all->KeyColumns(pool));
    column.values = values[0];
  }
  // One word if the ids fit, else two.
  std::vector<int> shifts, words;
  if (!PackedKeyIndex::Layout(widths, 1, &shifts, &words)) {
    if (!PackedKeyIndex::Layout(widths, 2, &shifts, &words)) return nullptr;
    out->wide_ = true;
  }
  for (size_t c = 0; c < k; ++c) {
    out->columns_[c].shift = shifts[c];
    out->columns_[c].word = words[c];
  }
  // Every index's keys in those terms, with their partitions.
  out->keys_.resize(packed.size());
  out->high_.resize(out->wide_ ? packed.size() : 0);
  out->parts_.resize(packed.size());
  std::atomic<size_t> next{0};
  ARROW_RETURN_NOT_OK(RunWorkers(
      std::max(1, std::min<int>(threads, static_cast<int>(packed.size()))),
      [&](int) -> Status {
        for (size_t i = next++; i < packed.size(); i = next++) {
          const PackedKeyIndex& p = *packed[i];
          const int64_t n = p.size();
          std::vector<int64_t>& keys = out->keys_[i];
          std::vector<uint8_t>& parts = out->parts_[i];
          keys.assign(n, 0);
          if (out->wide_) out->high_[i].assign(n, 0);
          parts.resize(n);
          std::vector<uint64_t> h(n, 0);
          for (size_t c = 0; c < k; ++c) {
            const Column& column = out->columns_[c];
            const uint32_t* map = map_of[i][c];
            int64_t* word = column.word == 0 ? keys.data() : out->high_[i].data();
            for (int64_t g = 0; g < n; ++g) {
              const uint32_t id = map[p.KeyField(g, c)];
              if (column.width > 0) {
                word[g] =
                    static_cast<int64_t>(static_cast<uint64_t>(word[g]) |
                                         (static_cast<uint64_t>(id) << column.shift));
              }
              h[g] = PackedKeyIndex::MixPartition(h[g], column.parts[id]);
            }
          }
          for (int64_t g = 0; g < n; ++g) parts[g] = TopBits(h[g], 256);
        }
        return Status::OK();
      }));
  return out;
}

Result<arrow::ArrayVector> MergedKeys::KeyColumns(const int64_t* keys,
                                                  const int64_t* high, int64_t n,
                                                  arrow::MemoryPool* pool) const {
  std::vector<int32_t> ids(n);
  arrow::ArrayVector out;
  for (const Column& column : columns_) {
    const uint64_t mask = column.width == 0 ? 0 : (uint64_t{1} << column.width) - 1;
    const int64_t* word = column.word == 0 ? keys : high;
    for (int64_t g = 0; g < n; ++g) {
      ids[g] = column.width == 0
                   ? 0
                   : static_cast<int32_t>(
                         (static_cast<uint64_t>(word[g]) >> column.shift) & mask);
    }
    ARROW_ASSIGN_OR_RAISE(auto col, TakeRows(column.values, ids.data(), n, pool));
    out.push_back(std::move(col));
  }
  return out;
}

}  // namespace sluice::exec
