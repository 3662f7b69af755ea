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

int64_t KeyTable::MemoryUsage() const {
  return static_cast<int64_t>(slot_hash_.capacity() * 8 + slot_id_.capacity() * 4 +
                              arena_.capacity() + key_offsets_.capacity() * 8 +
                              key_hashes_.capacity() * 8);
}

Status KeyTable::Account() {
  if (reservation_ == nullptr) return Status::OK();
  return reservation_->Resize(MemoryUsage());
}

Status KeyTable::Grow() {
  size_t new_cap = slot_hash_.empty() ? 1024 : slot_hash_.size() * 2;
  std::vector<uint64_t> hashes(new_cap, 0);
  std::vector<uint32_t> ids(new_cap, 0);
  uint64_t mask = new_cap - 1;
  for (size_t s = 0; s < slot_id_.size(); ++s) {
    if (slot_id_[s] == 0) continue;
    uint64_t h = slot_hash_[s];
    uint64_t p = h & mask;
    while (ids[p] != 0) p = (p + 1) & mask;
    hashes[p] = h;
    ids[p] = slot_id_[s];
  }
  slot_hash_.swap(hashes);
  slot_id_.swap(ids);
  mask_ = mask;
  return Account();
}

uint64_t KeyTable::Probe(std::string_view key, uint64_t hash, int64_t* id) const {
  uint64_t p = hash & mask_;
  while (slot_id_[p] != 0) {
    if (slot_hash_[p] == hash) {
      uint32_t candidate = slot_id_[p] - 1;
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
  if (slot_id_.empty()) return;
  uint64_t p = hash & mask_;
  __builtin_prefetch(&slot_hash_[p]);
  __builtin_prefetch(&slot_id_[p]);
}

int64_t KeyTable::Find(std::string_view key, uint64_t hash) const {
  if (slot_id_.empty()) return -1;
  int64_t id;
  Probe(key, hash, &id);
  return id;
}

Result<uint32_t> KeyTable::FindOrInsert(std::string_view key, uint64_t hash) {
  if ((key_offsets_.size() + 1) * 2 > slot_id_.size()) ARROW_RETURN_NOT_OK(Grow());
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
  slot_hash_[p] = hash;
  slot_id_[p] = id + 1;
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

std::vector<std::string_view> KeyTable::Keys() const {
  std::vector<std::string_view> out;
  out.reserve(size());
  for (int64_t i = 0; i < size(); ++i) out.push_back(key(i));
  return out;
}

}  // namespace sluice::exec
