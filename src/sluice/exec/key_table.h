#pragma once
// A hash table from encoded keys (row_encoding.h) to dense ids 0, 1, 2, ... in order of
// first insertion. Open addressing with linear probing, at most half full. A slot is one
// 8-byte word: the high 32 bits of the key's hash (a tag that rejects most mismatches
// without touching the key bytes) and id + 1 (0: empty), so a probe costs one cache
// miss. Keys are copied into an arena owned by the table; their full hashes are kept by
// id. While every key is at most 15 bytes (short strings, dictionary values), each is
// also kept padded in 16 bytes by id, so that a probe compares it with one load instead
// of reading its offset and then its bytes. Memory is accounted through a
// MemoryReservation.
//
// Not thread-safe: parallel aggregation keeps one table per worker and merges.
#include <cstdint>
#include <string_view>
#include <vector>

#include "sluice/base/memory.h"
#include "sluice/exec/row_encoding.h"

namespace sluice::exec {

class KeyTable {
 public:
  explicit KeyTable(MemoryReservation* reservation) : reservation_(reservation) {}

  /// Finds or inserts the key of every row; ids[i] receives row i's id.
  Status FindOrInsert(const EncodedRows& rows, uint32_t* ids);
  /// Finds or inserts one key.
  Result<uint32_t> FindOrInsert(std::string_view key, uint64_t hash);
  /// Finds or inserts every key of `other` with part_of[g] == part (every key when
  /// part_of is null): mapping[g] = its id here, `skipped` for the keys left out.
  /// Prefetches slots ahead, as FindOrInsert of rows does.
  Status InsertFrom(const KeyTable& other, const uint8_t* part_of, uint8_t part,
                    uint32_t skipped, uint32_t* mapping);
  /// Looks a key up: its id, or -1 if absent.
  int64_t Find(std::string_view key, uint64_t hash) const;
  /// Looks up every row whose skip[i] is 0 (skip may be null); ids[i] = id or -1.
  /// Prefetches slots ahead of the lookups, which are cache misses on big tables.
  void FindBatch(const EncodedRows& rows, const uint8_t* skip, int64_t* ids) const;

  /// Prefetches the home slot of `hash` (lookups ahead in a batch are cache misses).
  void Prefetch(uint64_t hash) const;

  /// Makes room for `keys` keys of `bytes` bytes in all without growing again.
  Status Reserve(int64_t keys, int64_t bytes);

  int64_t size() const { return static_cast<int64_t>(key_offsets_.size()); }
  std::string_view key(int64_t id) const {
    uint64_t begin = key_offsets_[id];
    uint64_t end = id + 1 < size() ? key_offsets_[id + 1] : arena_.size();
    return std::string_view(reinterpret_cast<const char*>(arena_.data()) + begin,
                            end - begin);
  }
  uint64_t hash(int64_t id) const { return key_hashes_[id]; }
  /// Bytes of all keys.
  int64_t key_bytes() const { return static_cast<int64_t>(arena_.size()); }
  std::vector<std::string_view> Keys() const;
  int64_t MemoryUsage() const;

 private:
  /// Linear probing from the key's home slot: sets *id to the key's id (or -1) and
  /// returns its slot (or the empty slot where it would go). REQUIRES: a non-empty table.
  uint64_t Probe(std::string_view key, uint64_t hash, int64_t* id) const;
  /// Rebuilds the slots with `capacity` (a power of two) of them.
  Status Rehash(size_t capacity);
  Status Grow() { return Rehash(slots_.empty() ? 1024 : slots_.size() * 2); }
  Status Account();
  static uint64_t Slot(uint64_t hash, uint32_t id) {
    return (hash & 0xFFFFFFFF00000000ull) | (static_cast<uint64_t>(id) + 1);
  }

  // A key of at most 15 bytes padded with zeros, its length in the last byte.
  struct ShortKey {
    uint64_t lo = 0, hi = 0;
    bool operator==(const ShortKey& o) const { return lo == o.lo && hi == o.hi; }
  };
  static ShortKey Pad(std::string_view key);
  static constexpr size_t kShortMax = 15;

  MemoryReservation* reservation_;
  bool short_keys_ = true;        // every key so far fits a ShortKey
  std::vector<ShortKey> shorts_;  // by id, while short_keys_
  std::vector<uint64_t> slots_;   // hash tag << 32 | (id + 1); 0 = empty
  uint64_t mask_ = 0;
  std::vector<uint8_t> arena_;
  std::vector<uint64_t> key_offsets_;
  std::vector<uint64_t> key_hashes_;
};

}  // namespace sluice::exec
