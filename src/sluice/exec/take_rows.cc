#include "sluice/exec/take_rows.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_ops.h>

#include <cstring>

namespace sluice::exec {

namespace {

namespace bit_util = arrow::bit_util;

struct Bytes16 {
  uint64_t lo, hi;
};

template <typename T, typename I>
void GatherValues(const uint8_t* src, const I* idx, int64_t n, uint8_t* dst) {
  const T* s = reinterpret_cast<const T*>(src);
  T* d = reinterpret_cast<T*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = s[idx[i]];
}

// The validity of the taken rows (null if none of them is null).
template <typename I>
Result<std::shared_ptr<arrow::Buffer>> TakeValidity(const arrow::ArrayData& vd,
                                                    const I* idx, int64_t n,
                                                    arrow::MemoryPool* pool,
                                                    int64_t* nulls) {
  *nulls = 0;
  if (vd.GetNullCount() == 0 || !vd.buffers[0]) return nullptr;
  ARROW_ASSIGN_OR_RAISE(auto validity, arrow::AllocateBitmap(n, pool));
  uint8_t* bits = validity->mutable_data();
  const uint8_t* in = vd.buffers[0]->data();
  int64_t valid = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool v = bit_util::GetBit(in, vd.offset + idx[i]);
    bit_util::SetBitTo(bits, i, v);
    valid += v;
  }
  *nulls = n - valid;
  if (*nulls == 0) return nullptr;
  return std::shared_ptr<arrow::Buffer>(std::move(validity));
}

template <typename I>
Result<std::shared_ptr<arrow::Buffer>> TakeFixed(const arrow::ArrayData& vd, int w,
                                                 const I* idx, int64_t n,
                                                 arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(auto out, arrow::AllocateBuffer(n * w, pool));
  const uint8_t* src = vd.buffers[1]->data() + vd.offset * w;
  uint8_t* dst = out->mutable_data();
  switch (w) {
    case 1:
      GatherValues<uint8_t>(src, idx, n, dst);
      break;
    case 2:
      GatherValues<uint16_t>(src, idx, n, dst);
      break;
    case 4:
      GatherValues<uint32_t>(src, idx, n, dst);
      break;
    case 8:
      GatherValues<uint64_t>(src, idx, n, dst);
      break;
    default:
      GatherValues<Bytes16>(src, idx, n, dst);
  }
  return std::shared_ptr<arrow::Buffer>(std::move(out));
}

template <typename Offset, typename I>
Result<std::shared_ptr<arrow::Array>> TakeBinary(
    const std::shared_ptr<arrow::Array>& values, const I* idx, int64_t n,
    arrow::MemoryPool* pool) {
  const auto& vd = *values->data();
  const Offset* off = vd.GetValues<Offset>(1);
  const uint8_t* data = vd.buffers[2] ? vd.buffers[2]->data() : nullptr;
  ARROW_ASSIGN_OR_RAISE(auto offsets,
                        arrow::AllocateBuffer((n + 1) * sizeof(Offset), pool));
  Offset* o = reinterpret_cast<Offset*>(offsets->mutable_data());
  // One pass over the (random) source offsets: each string's start kept, the output
  // offsets summed; the copy pass then reads both in order.
  std::vector<Offset> starts(static_cast<size_t>(n));
  int64_t total = 0;
  o[0] = 0;
  constexpr int64_t kAhead = 16;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(off + idx[i + kAhead]);
    const Offset start = off[idx[i]];
    starts[i] = start;
    total += off[idx[i] + 1] - start;
    o[i + 1] = static_cast<Offset>(total);
  }
  if (total > std::numeric_limits<Offset>::max()) {
    return Status::CapacityError("taking rows: more than 2 GiB of strings in one batch");
  }
  // kWide bytes of room past the end, so that short strings copy as one fixed-size move
  // (a libc call per string was most of the time of joins that output strings).
  constexpr int64_t kWide = 16;
  ARROW_ASSIGN_OR_RAISE(auto bytes, arrow::AllocateBuffer(total + kWide, pool));
  uint8_t* d = bytes->mutable_data();
  // Source strings that end kWide bytes or more before the data buffer does can be
  // read kWide bytes wide.
  // (None when the buffer is shorter than that, or absent.)
  const int64_t data_size = vd.buffers[2] ? vd.buffers[2]->size() : 0;
  const int64_t wide_end = data_size - kWide;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n && data != nullptr) __builtin_prefetch(data + starts[i + kAhead]);
    const Offset start = starts[i];
    const Offset len = o[i + 1] - o[i];
    if (len <= kWide && static_cast<int64_t>(start) <= wide_end) {
      std::memcpy(d + o[i], data + start,
                  kWide);  // the bytes past len are overwritten next
    } else if (len > 0) {  // an all-empty array may have no data buffer at all
      std::memcpy(d + o[i], data + start, static_cast<size_t>(len));
    }
  }
  int64_t nulls = 0;
  ARROW_ASSIGN_OR_RAISE(auto validity, TakeValidity(vd, idx, n, pool, &nulls));
  return arrow::MakeArray(arrow::ArrayData::Make(
      values->type(), n,
      {std::move(validity), std::shared_ptr<arrow::Buffer>(std::move(offsets)),
       arrow::SliceBuffer(std::shared_ptr<arrow::Buffer>(std::move(bytes)), 0, total)},
      nulls));
}

template <typename I>
Result<std::shared_ptr<arrow::Array>> ArrowTake(
    const std::shared_ptr<arrow::Array>& values, const I* idx, int64_t n) {
  using IndexType = std::conditional_t<std::is_same_v<I, int32_t>, arrow::Int32Array,
                                       arrow::Int64Array>;
  auto buffer = std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(idx),
                                                n * static_cast<int64_t>(sizeof(I)));
  auto indices = std::make_shared<IndexType>(n, buffer);
  ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Take(values, indices));
  return d.make_array();
}

template <typename I>
Result<std::shared_ptr<arrow::Array>> Take(const std::shared_ptr<arrow::Array>& values,
                                           const I* idx, int64_t n,
                                           arrow::MemoryPool* pool) {
  const auto& t = *values->type();
  const auto& vd = *values->data();
  switch (t.id()) {
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return TakeBinary<int32_t>(values, idx, n, pool);
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY:
      return TakeBinary<int64_t>(values, idx, n, pool);
    case arrow::Type::DICTIONARY: {
      const auto& d = static_cast<const arrow::DictionaryArray&>(*values);
      ARROW_ASSIGN_OR_RAISE(auto indices, Take(d.indices(), idx, n, pool));
      return std::make_shared<arrow::DictionaryArray>(values->type(), indices,
                                                      d.dictionary());
    }
    case arrow::Type::BOOL: {
      ARROW_ASSIGN_OR_RAISE(auto bits, arrow::AllocateBitmap(n, pool));
      uint8_t* out = bits->mutable_data();
      const uint8_t* in = vd.buffers[1]->data();
      for (int64_t i = 0; i < n; ++i) {
        bit_util::SetBitTo(out, i, bit_util::GetBit(in, vd.offset + idx[i]));
      }
      int64_t nulls = 0;
      ARROW_ASSIGN_OR_RAISE(auto validity, TakeValidity(vd, idx, n, pool, &nulls));
      return arrow::MakeArray(arrow::ArrayData::Make(
          values->type(), n,
          {std::move(validity), std::shared_ptr<arrow::Buffer>(std::move(bits))}, nulls));
    }
    default:
      break;
  }
  const bool plain = arrow::is_primitive(t.id()) || t.id() == arrow::Type::DECIMAL128;
  const int w = plain ? t.byte_width() : 0;
  if (!plain || vd.buffers.size() != 2 || !vd.buffers[1] ||
      !(w == 1 || w == 2 || w == 4 || w == 8 || w == 16)) {
    return ArrowTake(values, idx, n);
  }
  ARROW_ASSIGN_OR_RAISE(auto out, TakeFixed(vd, w, idx, n, pool));
  int64_t nulls = 0;
  ARROW_ASSIGN_OR_RAISE(auto validity, TakeValidity(vd, idx, n, pool, &nulls));
  return arrow::MakeArray(arrow::ArrayData::Make(
      values->type(), n, {std::move(validity), std::move(out)}, nulls));
}

}  // namespace

Result<std::shared_ptr<arrow::Array>> TakeRows(
    const std::shared_ptr<arrow::Array>& values, const int32_t* indices, int64_t n,
    arrow::MemoryPool* pool) {
  return Take(values, indices, n, pool);
}

Result<std::shared_ptr<arrow::Array>> TakeRows(
    const std::shared_ptr<arrow::Array>& values, const int64_t* indices, int64_t n,
    arrow::MemoryPool* pool) {
  return Take(values, indices, n, pool);
}

Result<std::shared_ptr<arrow::RecordBatch>> TakeBatchRows(
    const std::shared_ptr<arrow::RecordBatch>& batch, const int32_t* indices, int64_t n,
    arrow::MemoryPool* pool) {
  arrow::ArrayVector columns;
  columns.reserve(batch->num_columns());
  for (const auto& c : batch->columns()) {
    ARROW_ASSIGN_OR_RAISE(auto taken, Take(c, indices, n, pool));
    columns.push_back(std::move(taken));
  }
  return arrow::RecordBatch::Make(batch->schema(), n, std::move(columns));
}

void SelectionFromBytes(const uint8_t* keep, int64_t n, std::vector<int32_t>* out) {
  out->resize(static_cast<size_t>(n));
  int32_t* sel = out->data();
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    sel[k] = static_cast<int32_t>(i);
    k += keep[i];
  }
  out->resize(static_cast<size_t>(k));
}

void SelectionFromBits(const uint8_t* values, const uint8_t* validity, int64_t offset,
                       int64_t n, std::vector<int32_t>* out) {
  if (offset % 8 != 0) {
    // Realign both bitmaps to a byte boundary first.
    std::vector<uint8_t> v(static_cast<size_t>(bit_util::BytesForBits(n)));
    arrow::internal::CopyBitmap(values, offset, n, v.data(), 0);
    if (validity == nullptr) return SelectionFromBits(v.data(), nullptr, 0, n, out);
    std::vector<uint8_t> m(v.size());
    arrow::internal::CopyBitmap(validity, offset, n, m.data(), 0);
    return SelectionFromBits(v.data(), m.data(), 0, n, out);
  }
  values += offset / 8;
  if (validity) validity += offset / 8;
  out->resize(static_cast<size_t>(n));
  int32_t* sel = out->data();
  int64_t k = 0;
  // 64 rows at a time: the set bits found with count-trailing-zeros.
  for (int64_t base = 0; base < n; base += 64) {
    const int64_t m = std::min<int64_t>(64, n - base);
    const size_t bytes = static_cast<size_t>(bit_util::BytesForBits(m));
    uint64_t word = 0;
    std::memcpy(&word, values + base / 8, bytes);
    if (validity) {
      uint64_t valid = 0;
      std::memcpy(&valid, validity + base / 8, bytes);
      word &= valid;
    }
    if (m < 64) word &= (uint64_t{1} << m) - 1;
    while (word != 0) {
      sel[k++] = static_cast<int32_t>(base + __builtin_ctzll(word));
      word &= word - 1;
    }
  }
  out->resize(static_cast<size_t>(k));
}

}  // namespace sluice::exec
