#include "sluice/connector/parquet/column_chunk_reader.h"

#include <arrow/api.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_ops.h>
#include <arrow/util/compression.h>
#include <parquet/metadata.h>
#include <parquet/schema.h>
#include <parquet/types.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "sluice/connector/parquet/page_header.h"
#include "sluice/connector/parquet/snappy.h"
#include "sluice/exec/take_rows.h"

namespace sluice::connector {

namespace {

using arrow::Type;
namespace bit_util = arrow::bit_util;

// ---------------------------------------------------------------------------------
// Values as they are stored and as they are output.

// How a stored value becomes an output value of `width` bytes.
enum class Convert {
  kCopy,        // same bytes (stored width == output width)
  kTruncate,    // INT32 to a 1- or 2-byte integer (the writer kept it in range)
  kSignExtend,  // INT32/INT64 to decimal128
  kBigEndian,   // FIXED_LEN_BYTE_ARRAY to decimal128
};

struct ValueLayout {
  parquet::Type::type physical = parquet::Type::INT32;
  int stored_width = 0;  // bytes per PLAIN value; 0 for BYTE_ARRAY and BOOLEAN
  int width = 0;         // bytes per output value; 0 for strings and booleans
  Convert convert = Convert::kCopy;
  bool strings = false;  // BYTE_ARRAY to a binary-like type
  bool large_offsets = false;
  bool dictionary_out = false;  // dictionary<int32, string|binary>
  bool boolean = false;
};

bool IntMatches(const parquet::LogicalType& logical, int bits, bool is_signed) {
  if (logical.is_none()) return bits == 32 || bits == 64 ? is_signed : false;
  if (!logical.is_int()) return false;
  const auto& i = static_cast<const parquet::IntLogicalType&>(logical);
  return i.bit_width() == bits && i.is_signed() == is_signed;
}

parquet::LogicalType::TimeUnit::unit ParquetUnit(arrow::TimeUnit::type u) {
  switch (u) {
    case arrow::TimeUnit::MILLI:
      return parquet::LogicalType::TimeUnit::MILLIS;
    case arrow::TimeUnit::MICRO:
      return parquet::LogicalType::TimeUnit::MICROS;
    case arrow::TimeUnit::NANO:
      return parquet::LogicalType::TimeUnit::NANOS;
    default:
      return parquet::LogicalType::TimeUnit::UNKNOWN;
  }
}

bool DecimalMatches(const parquet::LogicalType& logical, const arrow::DataType& type) {
  if (!logical.is_decimal() || type.id() != Type::DECIMAL128) return false;
  const auto& d = static_cast<const parquet::DecimalLogicalType&>(logical);
  const auto& t = static_cast<const arrow::Decimal128Type&>(type);
  return d.precision() == t.precision() && d.scale() == t.scale();
}

bool BinaryLike(Type::type id) {
  return id == Type::STRING || id == Type::BINARY || id == Type::LARGE_STRING ||
         id == Type::LARGE_BINARY;
}

// Whether a time or timestamp column's Parquet unit is the Arrow type's.
bool UnitMatches(const parquet::LogicalType& logical, const arrow::DataType& type) {
  arrow::TimeUnit::type unit;
  parquet::LogicalType::TimeUnit::unit stored;
  if (type.id() == Type::TIMESTAMP) {
    if (!logical.is_timestamp()) return false;
    unit = static_cast<const arrow::TimestampType&>(type).unit();
    stored = static_cast<const parquet::TimestampLogicalType&>(logical).time_unit();
  } else {
    if (!logical.is_time()) return false;
    unit = static_cast<const arrow::TimeType&>(type).unit();
    stored = static_cast<const parquet::TimeLogicalType&>(logical).time_unit();
  }
  return stored == ParquetUnit(unit);
}

// The layout of an INT32 (bits 32) or INT64 (bits 64) column read as `type`.
bool IntegerLayout(int bits, const parquet::LogicalType& logical,
                   const arrow::DataType& type, ValueLayout* l) {
  const Type::type id = type.id();
  l->stored_width = bits / 8;
  l->width = bits / 8;
  if (arrow::is_integer(id)) {
    const int want = type.bit_width();
    // Arrow reads INT64 as 64-bit integers only, INT32 as integers of at most 32 bits.
    if (want > bits || (bits == 64 && want != 64)) return false;
    if (!IntMatches(logical, want, arrow::is_signed_integer(id))) return false;
    l->width = want / 8;
    if (want < bits) l->convert = Convert::kTruncate;
    return true;
  }
  switch (id) {
    case Type::DATE32:
      return bits == 32 && logical.is_date();
    case Type::TIME32:
      return bits == 32 && UnitMatches(logical, type);
    case Type::TIME64:
    case Type::TIMESTAMP:
      return bits == 64 && UnitMatches(logical, type);
    case Type::DECIMAL128:
      if (!DecimalMatches(logical, type)) return false;
      l->width = 16;
      l->convert = Convert::kSignExtend;
      return true;
    default:
      return false;
  }
}

// The layout for reading `descr` into `type`; false if this reader does not take it.
bool Layout(const parquet::ColumnDescriptor& descr, const arrow::DataType& type,
            ValueLayout* out) {
  ValueLayout l;
  l.physical = descr.physical_type();
  const auto& logical = *descr.logical_type();
  const Type::type id = type.id();
  switch (l.physical) {
    case parquet::Type::INT32:
    case parquet::Type::INT64:
      if (!IntegerLayout(l.physical == parquet::Type::INT32 ? 32 : 64, logical, type,
                         &l)) {
        return false;
      }
      break;
    case parquet::Type::FLOAT:
      if (id != Type::FLOAT) return false;
      l.stored_width = l.width = 4;
      break;
    case parquet::Type::DOUBLE:
      if (id != Type::DOUBLE) return false;
      l.stored_width = l.width = 8;
      break;
    case parquet::Type::BOOLEAN:
      if (id != Type::BOOL) return false;
      l.boolean = true;
      break;
    case parquet::Type::BYTE_ARRAY:
      if (id == Type::DICTIONARY) {
        const auto& d = static_cast<const arrow::DictionaryType&>(type);
        if (d.index_type()->id() != Type::INT32 ||
            (d.value_type()->id() != Type::STRING &&
             d.value_type()->id() != Type::BINARY)) {
          return false;
        }
        l.dictionary_out = true;
        l.width = 4;
      } else if (!BinaryLike(id)) {
        return false;
      }
      l.strings = true;
      l.large_offsets = id == Type::LARGE_STRING || id == Type::LARGE_BINARY;
      break;
    case parquet::Type::FIXED_LEN_BYTE_ARRAY:
      if (!DecimalMatches(logical, type) || descr.type_length() < 1 ||
          descr.type_length() > 16) {
        return false;
      }
      l.stored_width = descr.type_length();
      l.width = 16;
      l.convert = Convert::kBigEndian;
      break;
    default:
      return false;
  }
  *out = l;
  return true;
}

// Stored values src[0, n) to output values dst[0, n).
void ConvertValues(const ValueLayout& l, const uint8_t* src, int64_t n, uint8_t* dst) {
  switch (l.convert) {
    case Convert::kCopy:
      std::memcpy(dst, src, static_cast<size_t>(n * l.width));
      return;
    case Convert::kTruncate:
      for (int64_t i = 0; i < n; ++i) {
        int32_t v;
        std::memcpy(&v, src + 4 * i, 4);
        if (l.width == 1) {
          dst[i] = static_cast<uint8_t>(v);
        } else {
          uint16_t w = static_cast<uint16_t>(v);
          std::memcpy(dst + 2 * i, &w, 2);
        }
      }
      return;
    case Convert::kSignExtend:
      if (l.stored_width == 4) {
        for (int64_t i = 0; i < n; ++i) {
          int32_t v;
          std::memcpy(&v, src + 4 * i, 4);
          int64_t pair[2] = {v, v < 0 ? -1 : 0};
          std::memcpy(dst + 16 * i, pair, 16);
        }
      } else {
        for (int64_t i = 0; i < n; ++i) {
          int64_t v;
          std::memcpy(&v, src + 8 * i, 8);
          int64_t pair[2] = {v, v < 0 ? -1 : 0};
          std::memcpy(dst + 16 * i, pair, 16);
        }
      }
      return;
    case Convert::kBigEndian: {
      const int len = l.stored_width;
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t* p = src + static_cast<int64_t>(len) * i;
        uint8_t le[16];
        const uint8_t fill = (p[0] & 0x80) ? 0xff : 0x00;
        std::memset(le, fill, 16);
        for (int b = 0; b < len; ++b) le[b] = p[len - 1 - b];
        std::memcpy(dst + 16 * i, le, 16);
      }
      return;
    }
  }
}

// ---------------------------------------------------------------------------------
// The RLE / bit-packed hybrid encoding (definition levels, dictionary indices).

// Values [first, first + k) of `width`-bit values packed LSB-first at `packed`, one
// 8-byte load each (so 8 bytes past the last value must be readable). A template per
// width keeps the shifts and mask constant.
template <int W>
void UnpackBits(const uint8_t* packed, int64_t first, int64_t k, uint32_t* out) {
  constexpr uint64_t kMask = W == 32 ? 0xffffffffull : ((uint64_t{1} << W) - 1);
  int64_t bit = first * W;
  for (int64_t i = 0; i < k; ++i, bit += W) {
    uint64_t word;
    std::memcpy(&word, packed + (bit >> 3), 8);
    out[i] = static_cast<uint32_t>((word >> (bit & 7)) & kMask);
  }
}

using Unpacker = void (*)(const uint8_t*, int64_t, int64_t, uint32_t*);

template <int... W>
constexpr std::array<Unpacker, sizeof...(W)> MakeUnpackers(
    std::integer_sequence<int, W...>) {
  return {&UnpackBits<W>...};
}

constexpr std::array<Unpacker, 33> kUnpackers =
    MakeUnpackers(std::make_integer_sequence<int, 33>{});

// Reads values of `width` bits (<= 32) from a run of the hybrid encoding. Bit-packed
// values are read with 8-byte loads, so 8 bytes past the run must be readable: pages
// are decoded from buffers with ColumnChunkReader::kPadding to spare.
class HybridDecoder {
 public:
  HybridDecoder() = default;
  HybridDecoder(const uint8_t* data, const uint8_t* end, int width)
      : p_(data), end_(end), width_(width) {}

  // Up to n values into out; fewer only at the end of the data (or if it is corrupt).
  int64_t Get(uint32_t* out, int64_t n) {
    int64_t got = 0;
    while (got < n) {
      if (repeat_left_ == 0 && packed_left_ == 0 && !NextRun()) break;
      if (repeat_left_ > 0) {
        int64_t k = std::min(repeat_left_, n - got);
        std::fill(out + got, out + got + k, repeat_value_);
        repeat_left_ -= k;
        got += k;
      } else {
        int64_t k = std::min(packed_left_, n - got);
        Unpack(out + got, k);
        packed_left_ -= k;
        got += k;
      }
    }
    return got;
  }

  // Up to n 1-bit values as bits bitmap[offset, offset + k); returns k and adds the
  // number of 1 bits to *ones. REQUIRES: width 1.
  int64_t GetBits(uint8_t* bitmap, int64_t offset, int64_t n, int64_t* ones) {
    int64_t got = 0;
    while (got < n) {
      if (repeat_left_ == 0 && packed_left_ == 0 && !NextRun()) break;
      if (repeat_left_ > 0) {
        int64_t k = std::min(repeat_left_, n - got);
        bit_util::SetBitsTo(bitmap, offset + got, k, repeat_value_ != 0);
        if (repeat_value_ != 0) *ones += k;
        repeat_left_ -= k;
        got += k;
      } else {
        int64_t k = std::min(packed_left_, n - got);
        arrow::internal::CopyBitmap(packed_, packed_index_, k, bitmap, offset + got);
        *ones += arrow::internal::CountSetBits(packed_, packed_index_, k);
        packed_index_ += k;
        packed_left_ -= k;
        got += k;
      }
    }
    return got;
  }

 private:
  // Moves to the next run that has values; false at the end of the data or at a run
  // the data cuts short before its first value.
  bool NextRun() {
    while (p_ < end_) {
      uint64_t header = 0;
      for (int shift = 0;; shift += 7) {
        if (p_ >= end_ || shift > 35) return false;
        const uint8_t b = *p_++;
        header |= static_cast<uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) break;
      }
      if (header & 1) {
        const uint64_t values = (header >> 1) * 8;
        const uint64_t bytes = (header >> 1) * static_cast<uint64_t>(width_);
        // A writer may end the last run early: only values fully present count.
        const uint64_t have = std::min(bytes, static_cast<uint64_t>(end_ - p_));
        const uint64_t present = width_ == 0 ? values : have * 8 / width_;
        packed_ = p_;
        packed_index_ = 0;
        packed_left_ = static_cast<int64_t>(std::min(values, present));
        p_ += have;
        if (packed_left_ > 0) return true;
        if (values > 0) return false;
      } else {
        const int bytes = (width_ + 7) / 8;
        if (end_ - p_ < bytes) return false;
        uint32_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p_[i]) << (8 * i);
        p_ += bytes;
        repeat_value_ = v;
        repeat_left_ = static_cast<int64_t>(header >> 1);
        if (repeat_left_ > 0) return true;
      }
    }
    return false;
  }

  void Unpack(uint32_t* out, int64_t k) {
    kUnpackers[width_](packed_, packed_index_, k, out);
    packed_index_ += k;
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int width_ = 0;
  int64_t repeat_left_ = 0;
  uint32_t repeat_value_ = 0;
  const uint8_t* packed_ = nullptr;
  int64_t packed_index_ = 0;
  int64_t packed_left_ = 0;
};

// ---------------------------------------------------------------------------------

struct PageInfo {
  PageHeader header;
  int64_t offset = 0;  // of the page's data (after its header) in the chunk
};

class Reader : public ColumnChunkReader {
 public:
  Reader(std::shared_ptr<arrow::Buffer> chunk, ValueLayout layout, int max_def,
         arrow::Compression::type codec_type, std::unique_ptr<arrow::util::Codec> codec,
         std::shared_ptr<arrow::DataType> type, arrow::MemoryPool* pool,
         std::string where, std::vector<PageInfo> pages, int64_t rows)
      : chunk_(std::move(chunk)),
        layout_(layout),
        max_def_(max_def),
        codec_type_(codec_type),
        codec_(std::move(codec)),
        type_(std::move(type)),
        pool_(pool),
        where_(std::move(where)),
        pages_(std::move(pages)),
        rows_left_(rows) {}

  Result<std::shared_ptr<arrow::Array>> Next(int64_t n) override {
    n = std::min(n, rows_left_);
    Batch b;
    ARROW_RETURN_NOT_OK(StartBatch(n, &b));
    int64_t produced = 0;
    while (produced < n) {
      if (page_rows_left_ == 0) ARROW_RETURN_NOT_OK(NextDataPage());
      const int64_t m = std::min(n - produced, page_rows_left_);
      int64_t k = m;
      if (max_def_ > 0) {
        k = 0;
        if (levels_.GetBits(b.validity->mutable_data(), produced, m, &k) != m) {
          return Corrupt("definition levels end before the page's values");
        }
      }
      ARROW_RETURN_NOT_OK(DecodeValues(k, &b));
      produced += m;
      page_rows_left_ -= m;
    }
    rows_left_ -= n;
    return FinishBatch(n, &b);
  }

  Result<std::shared_ptr<arrow::Array>> NextSelected(int64_t n, const int32_t* rows,
                                                     int64_t count) override {
    n = std::min(n, rows_left_);
    if (count > 0 && rows[count - 1] >= n) {
      return Corrupt("selected rows past the chunk's rows");
    }
    // Nulls (values stored densely) and bits: decoded whole, then taken. So are most
    // rows of a batch (TPC-H Q1's filter keeps 98 %): decoding all and taking is the
    // cheaper way there (Q1 0.335 -> 0.314 s); at half (Q3) reading at the rows wins.
    if (max_def_ > 0 || layout_.boolean || count * 4 > n * 3) {
      ARROW_ASSIGN_OR_RAISE(auto all, Next(n));
      return exec::TakeRows(all, rows, count, pool_);
    }
    Batch b;
    ARROW_RETURN_NOT_OK(StartBatch(count, &b));
    int64_t produced = 0, s = 0;  // rows passed; rows[s] is the next one asked for
    while (produced < n) {
      const int64_t next_row = s < count ? rows[s] : n;
      if (page_rows_left_ == 0) {
        ARROW_ASSIGN_OR_RAISE(const int64_t skipped,
                              SkipPages(n - produced, next_row - produced));
        produced += skipped;
        if (produced == n) break;
        ARROW_RETURN_NOT_OK(NextDataPage());
      }
      const int64_t m = std::min(n - produced, page_rows_left_);
      int64_t e = s;
      while (e < count && rows[e] < produced + m) ++e;
      rel_.resize(static_cast<size_t>(e - s));
      for (int64_t j = s; j < e; ++j)
        rel_[j - s] = rows[j] - static_cast<int32_t>(produced);
      ARROW_RETURN_NOT_OK(DecodeSelectedValues(m, rel_.data(), e - s, &b));
      s = e;
      produced += m;
      page_rows_left_ -= m;
    }
    rows_left_ -= n;
    if (b.dense != count) return Corrupt("selected rows past the chunk's rows");
    return FinishBatch(count, &b);
  }

  // Checks the pages and decodes the dictionary page, if any.
  Status Init() {
    ARROW_ASSIGN_OR_RAISE(page_buffer_, arrow::AllocateResizableBuffer(0, pool_));
    for (size_t i = 0; i < pages_.size(); ++i) {
      const PageHeader& h = pages_[i].header;
      if (h.type == PageType::kDictionaryPage) {
        if (i != 0) return Corrupt("a dictionary page after the first page");
        ARROW_RETURN_NOT_OK(LoadDictionary(pages_[i]));
      }
    }
    next_page_ = has_dictionary_ ? 1 : 0;
    return Status::OK();
  }

 private:
  struct Batch {
    std::shared_ptr<arrow::ResizableBuffer> values;    // fixed width / indices / bits
    std::shared_ptr<arrow::ResizableBuffer> validity;  // max_def_ > 0
    std::shared_ptr<arrow::ResizableBuffer> offsets;   // strings
    arrow::BufferBuilder data;                         // string bytes
    int64_t dense = 0;  // values decoded so far (non-null rows)
  };

  template <typename... Args>
  Status Corrupt(Args&&... args) const {
    return Status::Invalid("corrupt Parquet data in ", where_, ": ",
                           std::forward<Args>(args)...);
  }

  Status StartBatch(int64_t n, Batch* b) {
    b->data = arrow::BufferBuilder(pool_);
    if (max_def_ > 0) {
      ARROW_ASSIGN_OR_RAISE(
          b->validity, arrow::AllocateResizableBuffer(bit_util::BytesForBits(n), pool_));
      if (n > 0) b->validity->mutable_data()[bit_util::BytesForBits(n) - 1] = 0;
    }
    if (layout_.strings && !layout_.dictionary_out) {
      const int64_t w = layout_.large_offsets ? 8 : 4;
      ARROW_ASSIGN_OR_RAISE(b->offsets,
                            arrow::AllocateResizableBuffer((n + 1) * w, pool_));
      std::memset(b->offsets->mutable_data(), 0, static_cast<size_t>(w));
    } else {
      const int64_t bytes = layout_.boolean ? bit_util::BytesForBits(n)
                                            : n * static_cast<int64_t>(layout_.width);
      ARROW_ASSIGN_OR_RAISE(b->values, arrow::AllocateResizableBuffer(bytes, pool_));
      if (layout_.boolean && n > 0) b->values->mutable_data()[bytes - 1] = 0;
    }
    return Status::OK();
  }

  // ------------------------------------------------------------------- pages

  // The page's bytes after its header, decompressed: a view of the chunk or of
  // page_buffer_. For v2 pages the levels stay in front, as stored.
  Result<std::pair<const uint8_t*, int64_t>> PageBytes(const PageInfo& page) {
    const PageHeader& h = page.header;
    const uint8_t* src = chunk_->data() + page.offset;
    int64_t levels = 0;
    bool compressed = codec_type_ != arrow::Compression::UNCOMPRESSED;
    if (h.type == PageType::kDataPageV2) {
      levels =
          static_cast<int64_t>(h.definition_levels_length) + h.repetition_levels_length;
      compressed = compressed && h.is_compressed;
      if (levels > h.compressed_size || levels > h.uncompressed_size) {
        return Corrupt("page levels longer than the page");
      }
    }
    if (!compressed) {
      if (h.compressed_size != h.uncompressed_size) {
        return Corrupt("an uncompressed page whose sizes differ");
      }
      return std::make_pair(src, static_cast<int64_t>(h.uncompressed_size));
    }
    ARROW_RETURN_NOT_OK(page_buffer_->Resize(h.uncompressed_size + kPadding, false));
    uint8_t* dst = page_buffer_->mutable_data();
    std::memcpy(dst, src, static_cast<size_t>(levels));
    const int64_t in_len = h.compressed_size - levels;
    const int64_t out_len = h.uncompressed_size - levels;
    if (codec_type_ == arrow::Compression::SNAPPY) {
      Status st = SnappyUncompress(src + levels, static_cast<size_t>(in_len),
                                   dst + levels, static_cast<size_t>(out_len));
      if (!st.ok()) return Corrupt(st.message());
    } else {
      auto got = codec_->Decompress(in_len, src + levels, out_len, dst + levels);
      if (!got.ok()) return Corrupt(got.status().message());
      if (*got != out_len)
        return Corrupt("a page decompresses to ", *got, " bytes, not ", out_len);
    }
    return std::make_pair(static_cast<const uint8_t*>(dst),
                          static_cast<int64_t>(h.uncompressed_size));
  }

  Status NextDataPage() {
    while (next_page_ < pages_.size() &&
           pages_[next_page_].header.type == PageType::kIndexPage) {
      ++next_page_;
    }
    if (next_page_ >= pages_.size())
      return Corrupt("fewer rows in its pages than the metadata says");
    const PageInfo& page = pages_[next_page_++];
    const PageHeader& h = page.header;
    ARROW_ASSIGN_OR_RAISE(auto bytes, PageBytes(page));
    const uint8_t* p = bytes.first;
    const uint8_t* end = p + bytes.second;
    page_rows_left_ = h.type == PageType::kDataPageV2 ? h.num_rows : h.num_values;
    if (h.type == PageType::kDataPageV2 && h.num_rows != h.num_values) {
      return Corrupt("a flat column's page with ", h.num_values, " values in ",
                     h.num_rows, " rows");
    }
    if (h.type == PageType::kDataPageV2) p += h.repetition_levels_length;  // 0 when flat
    if (max_def_ > 0) {
      int64_t len;
      if (h.type == PageType::kDataPageV2) {
        len = h.definition_levels_length;
      } else {
        if (end - p < 4) return Corrupt("a page too short for its definition levels");
        uint32_t l32;
        std::memcpy(&l32, p, 4);
        p += 4;
        len = l32;
      }
      if (len > end - p) return Corrupt("definition levels longer than the page");
      levels_ = HybridDecoder(p, p + len, 1);
      p += len;
    } else if (h.type == PageType::kDataPageV2) {
      p += h.definition_levels_length;  // empty for a required column
    }
    values_ = p;
    values_end_ = end;
    bool_bit_ = 0;
    dictionary_page_ = h.encoding == Encoding::kRleDictionary ||
                       h.encoding == Encoding::kPlainDictionary;
    if (dictionary_page_) {
      if (!has_dictionary_)
        return Corrupt("a dictionary-encoded page without a dictionary");
      // The indices' bit width leads the values (an empty page has none).
      const int width = values_ < values_end_ ? *values_++ : 0;
      if (width > 32) return Corrupt("dictionary indices of ", width, " bits");
      indices_ = HybridDecoder(values_, values_end_, width);
    }
    return Status::OK();
  }

  Status LoadDictionary(const PageInfo& page) {
    ARROW_ASSIGN_OR_RAISE(auto bytes, PageBytes(page));
    const int64_t n = page.header.num_values;
    has_dictionary_ = true;
    dict_size_ = n;
    const uint8_t* p = bytes.first;
    const uint8_t* end = p + bytes.second;
    if (layout_.strings) {
      arrow::BinaryBuilder builder(pool_);
      ARROW_RETURN_NOT_OK(builder.Reserve(n));
      for (int64_t i = 0; i < n; ++i) {
        if (end - p < 4) return Corrupt("a dictionary page shorter than its values");
        uint32_t len;
        std::memcpy(&len, p, 4);
        p += 4;
        if (len > static_cast<uint64_t>(end - p))
          return Corrupt("a dictionary page shorter than its values");
        ARROW_RETURN_NOT_OK(builder.Append(p, static_cast<int32_t>(len)));
        p += len;
      }
      std::shared_ptr<arrow::Array> dict;
      ARROW_RETURN_NOT_OK(builder.Finish(&dict));
      std::shared_ptr<arrow::DataType> value_type = arrow::binary();
      if (layout_.dictionary_out) {
        value_type = static_cast<const arrow::DictionaryType&>(*type_).value_type();
      }
      auto data = dict->data()->Copy();
      data->type = value_type;
      dictionary_strings_ = arrow::MakeArray(data);
      return Status::OK();
    }
    if (layout_.boolean) return Corrupt("a dictionary for a boolean column");
    if (n * layout_.stored_width > end - p)
      return Corrupt("a dictionary page shorter than its values");
    // Integers widened to decimals stay stored-width in the dictionary: the gather
    // widens them, and a smaller dictionary stays in cache.
    const bool widen_in_gather = layout_.convert == Convert::kSignExtend;
    const int64_t width = widen_in_gather ? layout_.stored_width : layout_.width;
    ARROW_ASSIGN_OR_RAISE(dictionary_values_,
                          arrow::AllocateBuffer(std::max<int64_t>(1, n) * width, pool_));
    if (widen_in_gather) {
      std::memcpy(dictionary_values_->mutable_data(), p, static_cast<size_t>(n * width));
    } else {
      ConvertValues(layout_, p, n, dictionary_values_->mutable_data());
    }
    return Status::OK();
  }

  // Passes over whole data pages, unread, while they end within the next `limit` rows
  // and before row `before` (both counted from here). Returns the rows passed.
  Result<int64_t> SkipPages(int64_t limit, int64_t before) {
    int64_t passed = 0;
    while (true) {
      while (next_page_ < pages_.size() &&
             pages_[next_page_].header.type == PageType::kIndexPage) {
        ++next_page_;
      }
      if (next_page_ >= pages_.size()) return passed;
      const PageHeader& h = pages_[next_page_].header;
      const int64_t rows = h.type == PageType::kDataPageV2 ? h.num_rows : h.num_values;
      if (rows <= 0 || passed + rows > limit || passed + rows > before) return passed;
      passed += rows;
      ++next_page_;
    }
  }

  // The values at rows rel[0, k) (ascending, below m) of the current page's next m
  // rows appended densely to the batch; the page advances by m rows. No nulls.
  Status DecodeSelectedValues(int64_t m, const int32_t* rel, int64_t k, Batch* b) {
    if (dictionary_page_) {
      constexpr int64_t kBlock = 1024;
      indices_scratch_.resize(static_cast<size_t>(std::min(m, kBlock)));
      picked_.resize(static_cast<size_t>(std::min(m, kBlock)));
      uint32_t* idx = indices_scratch_.data();
      int64_t j = 0;
      for (int64_t done = 0; done < m; done += kBlock) {
        const int64_t mb = std::min(kBlock, m - done);
        if (indices_.Get(idx, mb) != mb)
          return Corrupt("a page with fewer indices than values");
        int64_t c = 0;
        uint32_t max = 0;
        for (; j < k && rel[j] < done + mb; ++j, ++c) {
          picked_[c] = idx[rel[j] - done];
          max = std::max(max, picked_[c]);
        }
        if (c == 0) continue;
        if (max >= dict_size_) {
          return Corrupt("a dictionary index ", max, " past the dictionary's ",
                         dict_size_, " values");
        }
        ARROW_RETURN_NOT_OK(GatherBlock(picked_.data(), c, b));
        b->dense += c;
      }
      return Status::OK();
    }
    if (layout_.strings) {
      return layout_.large_offsets ? AppendSelectedStrings<int64_t>(m, rel, k, b)
                                   : AppendSelectedStrings<int32_t>(m, rel, k, b);
    }
    const int64_t sw = layout_.stored_width;
    if (m * sw > values_end_ - values_) return Corrupt("a page shorter than its values");
    uint8_t* out = b->values->mutable_data();
    for (int64_t j = 0; j < k; ++j) {
      ConvertValues(layout_, values_ + rel[j] * sw, 1,
                    out + (b->dense + j) * layout_.width);
    }
    values_ += m * sw;
    b->dense += k;
    return Status::OK();
  }

  // The length prefix of the plain BYTE_ARRAY value at *p, checked against the page;
  // *p moves past the prefix (to the value's bytes).
  Status PlainLength(const uint8_t** p, uint32_t* len) const {
    if (values_end_ - *p < 4) return Corrupt("a page shorter than its values");
    std::memcpy(len, *p, 4);
    *p += 4;
    if (*len > static_cast<uint64_t>(values_end_ - *p))
      return Corrupt("a page shorter than its values");
    return Status::OK();
  }

  template <typename Offset>
  Status AppendSelectedStrings(int64_t m, const int32_t* rel, int64_t k, Batch* b) {
    auto* offsets = reinterpret_cast<Offset*>(b->offsets->mutable_data());
    Offset pos = static_cast<Offset>(b->data.length());
    int64_t j = 0;
    for (int64_t i = 0; i < m; ++i) {
      uint32_t len;
      ARROW_RETURN_NOT_OK(PlainLength(&values_, &len));
      if (j < k && rel[j] == i) {
        ARROW_RETURN_NOT_OK(CheckOffsets<Offset>(b->data.length() + len));
        ARROW_RETURN_NOT_OK(b->data.Append(values_, len));
        pos += static_cast<Offset>(len);
        offsets[b->dense + j + 1] = pos;
        ++j;
      }
      values_ += len;
    }
    b->dense += k;
    return Status::OK();
  }

  // ------------------------------------------------------------------- values

  // k values of the current page appended densely to the batch.
  Status DecodeValues(int64_t k, Batch* b) {
    if (k == 0) return Status::OK();
    if (dictionary_page_) return DecodeDictionaryValues(k, b);
    if (layout_.boolean) {
      const int64_t bits = (values_end_ - values_) * 8;
      if (bool_bit_ + k > bits) return Corrupt("a page shorter than its values");
      arrow::internal::CopyBitmap(values_, bool_bit_, k, b->values->mutable_data(),
                                  b->dense);
      bool_bit_ += k;
      b->dense += k;
      return Status::OK();
    }
    if (layout_.strings) return DecodePlainStrings(k, b);
    const int64_t bytes = k * layout_.stored_width;
    if (bytes > values_end_ - values_) return Corrupt("a page shorter than its values");
    ConvertValues(layout_, values_, k,
                  b->values->mutable_data() + b->dense * layout_.width);
    values_ += bytes;
    b->dense += k;
    return Status::OK();
  }

  template <typename Offset>
  Status AppendPlainStrings(int64_t k, Batch* b) {
    auto* offsets = reinterpret_cast<Offset*>(b->offsets->mutable_data());
    // One pass for the total size, then one copy per value into reserved space.
    const uint8_t* p = values_;
    int64_t total = 0;
    for (int64_t i = 0; i < k; ++i) {
      uint32_t len;
      ARROW_RETURN_NOT_OK(PlainLength(&p, &len));
      p += len;
      total += len;
    }
    ARROW_RETURN_NOT_OK(CheckOffsets<Offset>(b->data.length() + total));
    ARROW_RETURN_NOT_OK(b->data.Reserve(total));
    Offset pos = static_cast<Offset>(b->data.length());
    for (int64_t i = 0; i < k; ++i) {
      uint32_t len;
      std::memcpy(&len, values_, 4);
      values_ += 4;
      b->data.UnsafeAppend(values_, len);
      values_ += len;
      pos += static_cast<Offset>(len);
      offsets[b->dense + i + 1] = pos;
    }
    b->dense += k;
    return Status::OK();
  }

  Status DecodePlainStrings(int64_t k, Batch* b) {
    return layout_.large_offsets ? AppendPlainStrings<int64_t>(k, b)
                                 : AppendPlainStrings<int32_t>(k, b);
  }

  template <typename Offset>
  Status CheckOffsets(int64_t total) const {
    if (total > std::numeric_limits<Offset>::max()) {
      return Status::CapacityError(where_, ": more than 2 GiB of strings in one batch");
    }
    return Status::OK();
  }

  template <int W>
  static void Gather(const uint8_t* dict, const uint32_t* idx, int64_t k, uint8_t* out) {
    for (int64_t i = 0; i < k; ++i)
      std::memcpy(out + W * i, dict + W * static_cast<int64_t>(idx[i]), W);
  }

  // Dictionary integers to decimal128 values (sign-extended to 16 bytes).
  template <typename T>
  static void GatherWiden(const uint8_t* dict, const uint32_t* idx, int64_t k,
                          uint8_t* out) {
    const T* d = reinterpret_cast<const T*>(dict);
    for (int64_t i = 0; i < k; ++i) {
      const int64_t v = d[idx[i]];
      const int64_t pair[2] = {v, v < 0 ? -1 : 0};
      std::memcpy(out + 16 * i, pair, 16);
    }
  }

  template <typename Offset>
  Status GatherStrings(const uint32_t* idx, int64_t k, Batch* b) {
    const auto& dict = static_cast<const arrow::BinaryArray&>(*dictionary_strings_);
    const int32_t* doff = dict.raw_value_offsets();
    const uint8_t* dval = dict.raw_data();
    int64_t total = 0;
    for (int64_t i = 0; i < k; ++i) total += doff[idx[i] + 1] - doff[idx[i]];
    ARROW_RETURN_NOT_OK(CheckOffsets<Offset>(b->data.length() + total));
    ARROW_RETURN_NOT_OK(b->data.Reserve(total));
    auto* offsets = reinterpret_cast<Offset*>(b->offsets->mutable_data());
    Offset pos = static_cast<Offset>(b->data.length());
    for (int64_t i = 0; i < k; ++i) {
      const int32_t s = doff[idx[i]];
      const int32_t len = doff[idx[i] + 1] - s;
      b->data.UnsafeAppend(dval + s, len);
      pos += static_cast<Offset>(len);
      offsets[b->dense + i + 1] = pos;
    }
    return Status::OK();
  }

  // k dictionary-encoded values, in blocks whose indices stay in L1 between the
  // unpacking, the bounds check and the gather.
  Status DecodeDictionaryValues(int64_t k, Batch* b) {
    constexpr int64_t kBlock = 1024;
    indices_scratch_.resize(static_cast<size_t>(std::min(k, kBlock)));
    uint32_t* idx = indices_scratch_.data();
    for (int64_t done = 0; done < k; done += kBlock) {
      const int64_t m = std::min(kBlock, k - done);
      if (indices_.Get(idx, m) != m)
        return Corrupt("a page with fewer indices than values");
      uint32_t max = 0;
      for (int64_t i = 0; i < m; ++i) max = std::max(max, idx[i]);
      if (max >= dict_size_) {
        return Corrupt("a dictionary index ", max, " past the dictionary's ", dict_size_,
                       " values");
      }
      ARROW_RETURN_NOT_OK(GatherBlock(idx, m, b));
      b->dense += m;
    }
    return Status::OK();
  }

  // The values of dictionary entries idx[0, m) appended at b->dense.
  Status GatherBlock(const uint32_t* idx, int64_t m, Batch* b) {
    if (layout_.strings && !layout_.dictionary_out) {
      return layout_.large_offsets ? GatherStrings<int64_t>(idx, m, b)
                                   : GatherStrings<int32_t>(idx, m, b);
    }
    uint8_t* out = b->values->mutable_data() + b->dense * layout_.width;
    if (layout_.dictionary_out) {
      std::memcpy(out, idx, static_cast<size_t>(4 * m));
      return Status::OK();
    }
    const uint8_t* dict = dictionary_values_->data();
    if (layout_.convert == Convert::kSignExtend) {
      if (layout_.stored_width == 4) {
        GatherWiden<int32_t>(dict, idx, m, out);
      } else {
        GatherWiden<int64_t>(dict, idx, m, out);
      }
      return Status::OK();
    }
    switch (layout_.width) {
      case 1:
        Gather<1>(dict, idx, m, out);
        break;
      case 2:
        Gather<2>(dict, idx, m, out);
        break;
      case 4:
        Gather<4>(dict, idx, m, out);
        break;
      case 8:
        Gather<8>(dict, idx, m, out);
        break;
      default:
        Gather<16>(dict, idx, m, out);
        break;
    }
    return Status::OK();
  }

  // ------------------------------------------------------------------- output

  // Moves the dense values of a batch with nulls to their rows (back to front, so
  // in place: value j never moves to a row before j).
  void SpreadFixed(int64_t n, int64_t dense, const uint8_t* validity, uint8_t* values,
                   int w) {
    int64_t j = dense;
    for (int64_t i = n - 1; i >= 0 && j < i + 1; --i) {
      if (bit_util::GetBit(validity, i)) {
        --j;
        if (j != i) std::memmove(values + i * w, values + j * w, static_cast<size_t>(w));
      } else {
        std::memset(values + i * w, 0, static_cast<size_t>(w));
      }
    }
  }

  template <typename Offset>
  void SpreadOffsets(int64_t n, int64_t dense, const uint8_t* validity, Offset* offsets) {
    std::vector<Offset> d(offsets, offsets + dense + 1);
    int64_t j = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (bit_util::GetBit(validity, i)) ++j;
      offsets[i + 1] = d[j];
    }
  }

  void SpreadBits(int64_t n, int64_t dense, const uint8_t* validity, uint8_t* bits) {
    int64_t j = dense;
    for (int64_t i = n - 1; i >= 0; --i) {
      if (bit_util::GetBit(validity, i)) {
        --j;
        bit_util::SetBitTo(bits, i, bit_util::GetBit(bits, j));
      } else {
        bit_util::ClearBit(bits, i);
      }
    }
  }

  Result<std::shared_ptr<arrow::Array>> FinishBatch(int64_t n, Batch* b) {
    const int64_t nulls = n - b->dense;
    std::shared_ptr<arrow::Buffer> validity;
    if (nulls > 0) {
      validity = b->validity;
      const uint8_t* v = validity->data();
      if (layout_.strings && !layout_.dictionary_out) {
        if (layout_.large_offsets) {
          SpreadOffsets(n, b->dense, v,
                        reinterpret_cast<int64_t*>(b->offsets->mutable_data()));
        } else {
          SpreadOffsets(n, b->dense, v,
                        reinterpret_cast<int32_t*>(b->offsets->mutable_data()));
        }
      } else if (layout_.boolean) {
        SpreadBits(n, b->dense, v, b->values->mutable_data());
      } else {
        SpreadFixed(n, b->dense, v, b->values->mutable_data(), layout_.width);
      }
    }
    if (layout_.dictionary_out) {
      auto indices =
          arrow::ArrayData::Make(arrow::int32(), n, {validity, b->values}, nulls);
      return std::make_shared<arrow::DictionaryArray>(type_, arrow::MakeArray(indices),
                                                      dictionary_strings_);
    }
    if (layout_.strings) {
      std::shared_ptr<arrow::Buffer> data;
      ARROW_RETURN_NOT_OK(b->data.Finish(&data));
      return arrow::MakeArray(
          arrow::ArrayData::Make(type_, n, {validity, b->offsets, data}, nulls));
    }
    return arrow::MakeArray(
        arrow::ArrayData::Make(type_, n, {validity, b->values}, nulls));
  }

  std::shared_ptr<arrow::Buffer> chunk_;
  ValueLayout layout_;
  int max_def_;
  arrow::Compression::type codec_type_;
  std::unique_ptr<arrow::util::Codec> codec_;
  std::shared_ptr<arrow::DataType> type_;
  arrow::MemoryPool* pool_;
  std::string where_;
  std::vector<PageInfo> pages_;
  int64_t rows_left_;
  std::shared_ptr<arrow::ResizableBuffer> page_buffer_;  // decompressed pages, reused
  size_t next_page_ = 0;
  int64_t page_rows_left_ = 0;
  std::vector<int32_t> rel_;      // NextSelected: the page's selected rows
  std::vector<uint32_t> picked_;  // NextSelected: their dictionary indices
  HybridDecoder levels_;
  HybridDecoder indices_;
  bool dictionary_page_ = false;
  const uint8_t* values_ = nullptr;
  const uint8_t* values_end_ = nullptr;
  int64_t bool_bit_ = 0;
  bool has_dictionary_ = false;
  uint32_t dict_size_ = 0;
  std::shared_ptr<arrow::Buffer> dictionary_values_;
  std::shared_ptr<arrow::Array> dictionary_strings_;
  std::vector<uint32_t> indices_scratch_;
};

bool CodecTaken(arrow::Compression::type c) {
  switch (c) {
    case arrow::Compression::UNCOMPRESSED:
    case arrow::Compression::SNAPPY:
      return true;
    case arrow::Compression::GZIP:
    case arrow::Compression::BROTLI:
    case arrow::Compression::ZSTD:
    case arrow::Compression::LZ4:
      return arrow::util::Codec::IsAvailable(c);
    default:
      return false;
  }
}

}  // namespace

bool ColumnChunkReader::Supports(const parquet::ColumnChunkMetaData& meta,
                                 const parquet::ColumnDescriptor& descr,
                                 const arrow::DataType& type) {
  if (descr.max_repetition_level() != 0 || descr.max_definition_level() > 1) return false;
  if (meta.crypto_metadata() != nullptr) return false;
  if (!CodecTaken(meta.compression())) return false;
  ValueLayout layout;
  return Layout(descr, type, &layout);
}

std::pair<int64_t, int64_t> ColumnChunkReader::ByteRange(
    const parquet::ColumnChunkMetaData& meta) {
  // The dictionary page, when there is one, comes first; some writers record an offset
  // of 0 for a dictionary they did not write.
  int64_t start = meta.data_page_offset();
  if (meta.has_dictionary_page() && meta.dictionary_page_offset() > 0 &&
      meta.dictionary_page_offset() < start) {
    start = meta.dictionary_page_offset();
  }
  return {start, meta.total_compressed_size()};
}

Result<std::unique_ptr<ColumnChunkReader>> ColumnChunkReader::Make(
    std::shared_ptr<arrow::Buffer> chunk, const parquet::ColumnChunkMetaData& meta,
    const parquet::ColumnDescriptor& descr, std::shared_ptr<arrow::DataType> type,
    arrow::MemoryPool* pool, std::string where) {
  ValueLayout layout;
  if (!Layout(descr, *type, &layout)) {
    return Status::NotImplemented("column type not taken by the fast reader");
  }
  // Walk the page headers: every page must be one this reader decodes.
  std::vector<PageInfo> pages;
  const int64_t size = chunk->size() - kPadding;
  int64_t pos = 0;
  int64_t rows = 0;
  bool all_dictionary = true;
  while (pos < size) {
    PageInfo page;
    size_t header_length = 0;
    ARROW_RETURN_NOT_OK(ParsePageHeader(chunk->data() + pos,
                                        static_cast<size_t>(size - pos), &page.header,
                                        &header_length));
    page.offset = pos + static_cast<int64_t>(header_length);
    const PageHeader& h = page.header;
    if (page.offset + h.compressed_size > size) {
      return Status::Invalid("Parquet page runs past its column chunk in ", where);
    }
    switch (h.type) {
      case PageType::kDictionaryPage:
        if (h.encoding != Encoding::kPlain && h.encoding != Encoding::kPlainDictionary) {
          return Status::NotImplemented("dictionary page encoding");
        }
        break;
      case PageType::kDataPage:
      case PageType::kDataPageV2: {
        const bool dict = h.encoding == Encoding::kRleDictionary ||
                          h.encoding == Encoding::kPlainDictionary;
        if (h.encoding != Encoding::kPlain && !dict) {
          return Status::NotImplemented("page encoding");
        }
        all_dictionary = all_dictionary && dict;
        if (h.type == PageType::kDataPage && descr.max_definition_level() > 0 &&
            h.definition_level_encoding != Encoding::kRle) {
          return Status::NotImplemented("definition level encoding");
        }
        rows += h.type == PageType::kDataPageV2 ? h.num_rows : h.num_values;
        break;
      }
      case PageType::kIndexPage:
        break;
      default:
        return Status::NotImplemented("page type");
    }
    pages.push_back(page);
    pos = page.offset + h.compressed_size;
  }
  if (layout.dictionary_out && !all_dictionary) {
    return Status::NotImplemented("dictionary output with plain-encoded pages");
  }
  if (rows != meta.num_values()) {
    return Status::Invalid("Parquet column chunk in ", where, " has ", rows,
                           " rows in its pages, its metadata says ", meta.num_values());
  }
  std::unique_ptr<arrow::util::Codec> codec;
  const auto codec_type = meta.compression();
  if (codec_type != arrow::Compression::UNCOMPRESSED &&
      codec_type != arrow::Compression::SNAPPY) {
    ARROW_ASSIGN_OR_RAISE(codec, arrow::util::Codec::Create(codec_type));
  }
  auto reader = std::make_unique<Reader>(
      std::move(chunk), layout, descr.max_definition_level(), codec_type,
      std::move(codec), std::move(type), pool, std::move(where), std::move(pages), rows);
  ARROW_RETURN_NOT_OK(reader->Init());
  return reader;
}

}  // namespace sluice::connector
