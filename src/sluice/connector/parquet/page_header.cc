#include "sluice/connector/parquet/page_header.h"

namespace sluice::connector {

namespace {

// Thrift compact protocol type codes.
enum : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

constexpr int kMaxDepth = 32;

// Reads the compact protocol from a byte range. Errors are sticky: after the first
// one every read returns 0 and ok() stays false.
class CompactReader {
 public:
  CompactReader(const uint8_t* data, size_t size)
      : p_(data), begin_(data), end_(data + size) {}

  bool ok() const { return ok_; }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }

  uint8_t Byte() {
    if (p_ >= end_) return Fail();
    return *p_++;
  }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      uint8_t b = Byte();
      if (!ok_) return 0;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail();
  }

  int64_t Zigzag() {
    uint64_t v = Varint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }

  int32_t I32() {
    int64_t v = Zigzag();
    if (v < INT32_MIN || v > INT32_MAX) return static_cast<int32_t>(Fail());
    return static_cast<int32_t>(v);
  }

  // The next field of a struct: false at its end (or on an error).
  bool NextField(int16_t* last_id, int16_t* id, uint8_t* type) {
    uint8_t b = Byte();
    if (!ok_ || b == kStop) return false;
    *type = b & 0x0f;
    uint8_t delta = b >> 4;
    if (delta != 0) {
      *id = static_cast<int16_t>(*last_id + delta);
    } else {
      *id = static_cast<int16_t>(Zigzag());
    }
    *last_id = *id;
    return ok_;
  }

  // Skips a value of `type`; `in_field` for booleans, whose value a field header
  // carries but a list element spends a byte on.
  void Skip(uint8_t type, bool in_field, int depth) {
    if (depth > kMaxDepth) {
      Fail();
      return;
    }
    switch (type) {
      case kBoolTrue:
      case kBoolFalse:
        if (!in_field) Byte();
        break;
      case kI8:
        Byte();
        break;
      case kI16:
      case kI32:
      case kI64:
        Varint();
        break;
      case kDouble:
        Advance(8);
        break;
      case kBinary:
        Advance(Varint());
        break;
      case kList:
      case kSet: {
        uint8_t h = Byte();
        uint64_t n = h >> 4;
        if (n == 15) n = Varint();
        for (uint64_t i = 0; i < n && ok_; ++i) Skip(h & 0x0f, false, depth + 1);
        break;
      }
      case kMap: {
        uint64_t n = Varint();
        if (n == 0) break;
        uint8_t kv = Byte();
        for (uint64_t i = 0; i < n && ok_; ++i) {
          Skip(kv >> 4, false, depth + 1);
          Skip(kv & 0x0f, false, depth + 1);
        }
        break;
      }
      case kStruct: {
        int16_t last = 0, id = 0;
        uint8_t t = 0;
        while (NextField(&last, &id, &t)) Skip(t, true, depth + 1);
        break;
      }
      default:
        Fail();
    }
  }

 private:
  void Advance(uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - p_)) {
      Fail();
      return;
    }
    p_ += n;
  }
  uint8_t Fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  bool ok_ = true;
};

// Reads the i32 fields of a nested header struct by id into `assign(id, value)`;
// booleans come as 1/0; everything else is skipped.
template <typename Assign>
void ReadStruct(CompactReader* r, Assign assign) {
  int16_t last = 0, id = 0;
  uint8_t type = 0;
  while (r->NextField(&last, &id, &type)) {
    if (type == kI32) {
      assign(id, r->I32());
    } else if (type == kBoolTrue || type == kBoolFalse) {
      assign(id, type == kBoolTrue ? 1 : 0);
    } else {
      r->Skip(type, true, 1);
    }
  }
}

}  // namespace

Status ParsePageHeader(const uint8_t* data, size_t size, PageHeader* header,
                       size_t* header_length) {
  CompactReader r(data, size);
  *header = PageHeader{};
  bool has_type = false, has_uncompressed = false, has_compressed = false;
  bool has_values = false;
  int16_t last = 0, id = 0;
  uint8_t type = 0;
  while (r.NextField(&last, &id, &type)) {
    if (type == kI32 && id >= 1 && id <= 3) {
      int32_t v = r.I32();
      if (id == 1) {
        header->type = static_cast<PageType>(v);
        has_type = true;
      } else if (id == 2) {
        header->uncompressed_size = v;
        has_uncompressed = true;
      } else {
        header->compressed_size = v;
        has_compressed = true;
      }
    } else if (type == kStruct && id == 5) {  // DataPageHeader
      ReadStruct(&r, [&](int16_t f, int32_t v) {
        if (f == 1) {
          header->num_values = v;
          has_values = true;
        } else if (f == 2) {
          header->encoding = static_cast<Encoding>(v);
        } else if (f == 3) {
          header->definition_level_encoding = static_cast<Encoding>(v);
        } else if (f == 4) {
          header->repetition_level_encoding = static_cast<Encoding>(v);
        }
      });
    } else if (type == kStruct && id == 7) {  // DictionaryPageHeader
      ReadStruct(&r, [&](int16_t f, int32_t v) {
        if (f == 1) {
          header->num_values = v;
          has_values = true;
        } else if (f == 2) {
          header->encoding = static_cast<Encoding>(v);
        }
      });
    } else if (type == kStruct && id == 8) {  // DataPageHeaderV2
      ReadStruct(&r, [&](int16_t f, int32_t v) {
        switch (f) {
          case 1:
            header->num_values = v;
            has_values = true;
            break;
          case 2:
            header->num_nulls = v;
            break;
          case 3:
            header->num_rows = v;
            break;
          case 4:
            header->encoding = static_cast<Encoding>(v);
            break;
          case 5:
            header->definition_levels_length = v;
            break;
          case 6:
            header->repetition_levels_length = v;
            break;
          case 7:
            header->is_compressed = v != 0;
            break;
          default:
            break;
        }
      });
    } else {
      r.Skip(type, true, 1);
    }
  }
  if (!r.ok()) return Status::Invalid("malformed Parquet page header");
  if (!has_type || !has_uncompressed || !has_compressed) {
    return Status::Invalid("Parquet page header without type or sizes");
  }
  if (header->uncompressed_size < 0 || header->compressed_size < 0 ||
      header->num_values < 0 || header->num_nulls < 0 ||
      header->definition_levels_length < 0 || header->repetition_levels_length < 0) {
    return Status::Invalid("Parquet page header with a negative size");
  }
  bool data_or_dict = header->type == PageType::kDataPage ||
                      header->type == PageType::kDataPageV2 ||
                      header->type == PageType::kDictionaryPage;
  if (data_or_dict && !has_values) {
    return Status::Invalid("Parquet page header without its page type's fields");
  }
  *header_length = r.position();
  return Status::OK();
}

}  // namespace sluice::connector
