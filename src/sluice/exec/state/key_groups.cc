#include "sluice/exec/state/key_groups.h"

#include "sluice/exec/row_encoding.h"

namespace sluice::exec {

KeyGroupRange KeyGroupRange::OfWorker(int worker, int workers) {
  // g * workers / kKeyGroups == worker  <=>  g in [ceil(worker * K / n), ...).
  auto first = [&](int w) { return (w * kKeyGroups + workers - 1) / workers; };
  return KeyGroupRange{first(worker), first(worker + 1)};
}

Status KeyGroupsOf(const arrow::ArrayVector& keys, int64_t n,
                   std::vector<uint16_t>* out) {
  if (keys.empty()) {
    out->assign(n, 0);
    return Status::OK();
  }
  EncodedRows rows;
  ARROW_RETURN_NOT_OK(EncodeRows(keys, &rows));
  out->resize(n);
  for (int64_t i = 0; i < n; ++i) (*out)[i] = KeyGroupOfHash(rows.hashes[i]);
  return Status::OK();
}

}  // namespace sluice::exec
