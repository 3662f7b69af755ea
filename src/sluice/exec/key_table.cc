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

int64_t KeyTable::Find(std::string_view key, uint64_t hash) const {
  if (slot_id_.empty()) return -1;
  uint64_t p = hash & mask_;
  while (slot_id_[p] != 0) {
    if (slot_hash_[p] == hash) {
      uint32_t id = slot_id_[p] - 1;
      if (SameKey(this->key(id), key)) return id;
    }
    p = (p + 1) & mask_;
  }
  return -1;
}

Result<uint32_t> KeyTable::FindOrInsert(std::string_view key, uint64_t hash) {
  if ((key_offsets_.size() + 1) * 2 > slot_id_.size()) ARROW_RETURN_NOT_OK(Grow());
  uint64_t p = hash & mask_;
  while (slot_id_[p] != 0) {
    if (slot_hash_[p] == hash) {
      uint32_t id = slot_id_[p] - 1;
      if (SameKey(this->key(id), key)) return id;
    }
    p = (p + 1) & mask_;
  }
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

void KeyTable::FindBatch(const EncodedRows& rows, const uint8_t* skip, int64_t* ids) const {
  const int64_t n = rows.num_rows();
  constexpr int64_t kAhead = 16;
  for (int64_t i = 0; i < n; ++i) {
    if (!slot_id_.empty() && i + kAhead < n) {
      uint64_t p = rows.hashes[i + kAhead] & mask_;
      __builtin_prefetch(&slot_hash_[p]);
      __builtin_prefetch(&slot_id_[p]);
    }
    ids[i] = (skip != nullptr && skip[i]) ? -1 : Find(rows.row(i), rows.hashes[i]);
  }
}

Status KeyTable::FindOrInsert(const EncodedRows& rows, uint32_t* ids) {
  const int64_t n = rows.num_rows();
  constexpr int64_t kAhead = 16;
  for (int64_t i = 0; i < n; ++i) {
    if (!slot_id_.empty() && i + kAhead < n) {
      uint64_t p = rows.hashes[i + kAhead] & mask_;
      __builtin_prefetch(&slot_hash_[p]);
      __builtin_prefetch(&slot_id_[p]);
    }
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
