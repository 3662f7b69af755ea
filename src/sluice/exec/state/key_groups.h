#pragma once
// Key groups: the unit in which keyed state is partitioned among workers and cut into
// snapshots. A key's hash picks one of kKeyGroups groups; the keyed exchange
// (exchange.h) routes every row of group g to worker g * n / kKeyGroups of n, and that
// worker's state backend (state_backend.h) owns the range KeyGroupRange::OfWorker.
#include <arrow/api.h>

#include <cstdint>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::exec {

constexpr int kKeyGroups = 128;

/// Key groups [begin, end).
struct KeyGroupRange {
  int begin = 0;
  int end = kKeyGroups;
  bool Contains(int g) const { return g >= begin && g < end; }
  static KeyGroupRange All() { return {}; }
  /// The groups worker `worker` of `workers` owns: those g with g * workers /
  /// kKeyGroups == worker (the exchange's routing).
  static KeyGroupRange OfWorker(int worker, int workers);
};

/// The key group of a row whose encoded key (row_encoding.h) hashes to `hash`. (The high
/// bits: key indexes partition by the low ones.)
inline uint16_t KeyGroupOfHash(uint64_t hash) {
  return static_cast<uint16_t>((hash >> 40) % kKeyGroups);
}

/// The key group of every row of `keys` (key columns of one batch; no columns: group
/// 0) into *out.
Status KeyGroupsOf(const arrow::ArrayVector& keys, int64_t n, std::vector<uint16_t>* out);

}  // namespace sluice::exec
