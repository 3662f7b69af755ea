#include "sluice/exec/key_table.h"

#include <cstring>

namespace sluice::exec {

namespace {
// Key equality without a libc call for the common short keys (an encoded integer is
// 9 bytes): two overlapping 8-byte loads cover 8 < n <= 16.
inline bool SameKey(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    uint64_t a0, b0, a1, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return a0 == b0 && a1 == b1;
  }
  return n == 0 || std::memcmp(a.data(), b.data(), n) == 0;
}
}  // namespace

KeyTable::ShortKey KeyTable::Pad(std::string_view key) {
  unsigned char bytes[16] = {0};
  if (!key.empty()) std::memcpy(bytes, key.data(), key.size());  // data() may be null
  bytes[15] = static_cast<unsigned char>(key.size());
  ShortKey k;
  std::memcpy(&k.lo, bytes, 8);
  std::memcpy(&k.hi, bytes + 8, 8);
  return k;
}

int64_t KeyTable::MemoryUsage() const {
  return static_cast<int64_t>(slots_.capacity() * 8 + arena_.capacity() +
                              key_offsets_.capacity() * 8 + key_hashes_.capacity() * 8 +
                              shorts_.capacity() * sizeof(ShortKey));
}

Status KeyTable::Account() {
  if (reservation_ == nullptr) return Status::OK();
  return reservation_->Resize(MemoryUsage());
}

Status KeyTable::Rehash(size_t capacity) {
  std::vector<uint64_t> slots(capacity, 0);
  const uint64_t mask = capacity - 1;
  // By id: the hashes are read in order, only the slot writes are scattered.
  for (size_t id = 0; id < key_hashes_.size(); ++id) {
    uint64_t p = key_hashes_[id] & mask;
    while (slots[p] != 0) p = (p + 1) & mask;
    slots[p] = Slot(key_hashes_[id], static_cast<uint32_t>(id));
  }
  slots_.swap(slots);
  mask_ = mask;
  return Account();
}

Status KeyTable::Reserve(int64_t keys, int64_t bytes) {
  size_t capacity = slots_.empty() ? 1024 : slots_.size();
  while (capacity < static_cast<size_t>(keys) * 2) capacity *= 2;
  key_offsets_.reserve(keys);
  key_hashes_.reserve(keys);
  if (short_keys_) shorts_.reserve(keys);
  arena_.reserve(bytes);
  if (capacity != slots_.size()) return Rehash(capacity);
  return Account();
}

uint64_t KeyTable::Probe(std::string_view key, uint64_t hash, int64_t* id) const {
  const uint64_t tag = hash & 0xFFFFFFFF00000000ull;
  uint64_t p = hash & mask_;
  if (short_keys_ && key.size() <= kShortMax) {
    const ShortKey padded = Pad(key);
    for (uint64_t s = slots_[p]; s != 0; s = slots_[p]) {
      if ((s & 0xFFFFFFFF00000000ull) == tag) {
        uint32_t candidate = static_cast<uint32_t>(s) - 1;
        if (shorts_[candidate] == padded) {
          *id = candidate;
          return p;
        }
      }
      p = (p + 1) & mask_;
    }
    *id = -1;
    return p;
  }
  for (uint64_t s = slots_[p]; s != 0; s = slots_[p]) {
    if ((s & 0xFFFFFFFF00000000ull) == tag) {
      uint32_t candidate = static_cast<uint32_t>(s) - 1;
      if (SameKey(this->key(candidate), key)) {
        *id = candidate;
        return p;
      }
    }
    p = (p + 1) & mask_;
  }
  *id = -1;
  return p;
}

void KeyTable::Prefetch(uint64_t hash) const {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[hash & mask_]);
}

int64_t KeyTable::Find(std::string_view key, uint64_t hash) const {
  if (slots_.empty()) return -1;
  int64_t id;
  Probe(key, hash, &id);
  return id;
}

Result<uint32_t> KeyTable::FindOrInsert(std::string_view key, uint64_t hash) {
  if ((key_offsets_.size() + 1) * 2 > slots_.size()) ARROW_RETURN_NOT_OK(Grow());
  int64_t found;
  uint64_t p = Probe(key, hash, &found);  // the free slot when not found
  if (found >= 0) return static_cast<uint32_t>(found);
  if (key_offsets_.size() >= 0xFFFFFFFEu) {
    return Status::NotImplemented("more than 4 billion distinct keys");
  }
  uint32_t id = static_cast<uint32_t>(key_offsets_.size());
  size_t old_cap = arena_.capacity();
  key_offsets_.push_back(arena_.size());
  key_hashes_.push_back(hash);
  arena_.insert(arena_.end(), key.begin(), key.end());
  if (short_keys_ && key.size() > kShortMax) {
    short_keys_ = false;
    std::vector<ShortKey>().swap(shorts_);
  } else if (short_keys_) {
    shorts_.push_back(Pad(key));
  }
  slots_[p] = Slot(hash, id);
  if (arena_.capacity() != old_cap || (key_offsets_.size() & 1023) == 0) {
    ARROW_RETURN_NOT_OK(Account());
  }
  return id;
}

void KeyTable::FindBatch(const EncodedRows& rows, const uint8_t* skip,
                         int64_t* ids) const {
  const int64_t n = rows.num_rows();
  constexpr int64_t kAhead = 16;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) Prefetch(rows.hashes[i + kAhead]);
    ids[i] = (skip != nullptr && skip[i]) ? -1 : Find(rows.row(i), rows.hashes[i]);
  }
}

Status KeyTable::FindOrInsert(const EncodedRows& rows, uint32_t* ids) {
  const int64_t n = rows.num_rows();
  constexpr int64_t kAhead = 16;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) Prefetch(rows.hashes[i + kAhead]);
    ARROW_ASSIGN_OR_RAISE(ids[i], FindOrInsert(rows.row(i), rows.hashes[i]));
  }
  return Status::OK();
}

Status KeyTable::InsertFrom(const KeyTable& other, const uint8_t* part_of, uint8_t part,
                            uint32_t skipped, uint32_t* mapping) {
  const int64_t n = other.size();
  constexpr int64_t kAhead = 16;
  for (int64_t g = 0; g < n; ++g) {
    if (g + kAhead < n) Prefetch(other.hash(g + kAhead));
    if (part_of != nullptr && part_of[g] != part) {
      mapping[g] = skipped;
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(mapping[g], FindOrInsert(other.key(g), other.hash(g)));
  }
  return Status::OK();
}

std::vector<std::string_view> KeyTable::Keys() const {
  std::vector<std::string_view> out;
  out.reserve(size());
  for (int64_t i = 0; i < size(); ++i) out.push_back(key(i));
  return out;
}

}  // namespace sluice::exec
