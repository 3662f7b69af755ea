#include "sluice/connector/parquet/snappy.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace sluice::connector {

namespace {

// The preamble: the uncompressed length as a little-endian base-128 varint of at most
// 32 bits. Returns the number of bytes read, 0 if malformed.
size_t ReadPreamble(const uint8_t* in, size_t in_len, size_t* length) {
  uint64_t v = 0;
  for (size_t i = 0; i < in_len && i < 5; ++i) {
    v |= static_cast<uint64_t>(in[i] & 0x7f) << (7 * i);
    if ((in[i] & 0x80) == 0) {
      if (v > 0xffffffffu) return 0;
      *length = static_cast<size_t>(v);
      return i + 1;
    }
  }
  return 0;
}

uint32_t LoadLittleEndian(const uint8_t* p, size_t bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

// What a copy tag (low bits 01, 10 or 11) says: its length, how many offset bytes
// follow it, and the offset's high bits kept in the tag itself (01 tags only).
struct CopyTag {
  uint8_t length = 0;
  uint8_t offset_bytes = 0;
  uint16_t offset_high = 0;
  uint32_t offset_mask = 0;
};

constexpr std::array<CopyTag, 256> MakeCopyTags() {
  std::array<CopyTag, 256> t{};
  for (int tag = 0; tag < 256; ++tag) {
    CopyTag c;
    switch (tag & 3) {
      case 1:
        c.length = static_cast<uint8_t>(((tag >> 2) & 7) + 4);
        c.offset_bytes = 1;
        c.offset_high = static_cast<uint16_t>((tag >> 5) << 8);
        c.offset_mask = 0xff;
        break;
      case 2:
        c.length = static_cast<uint8_t>((tag >> 2) + 1);
        c.offset_bytes = 2;
        c.offset_mask = 0xffff;
        break;
      case 3:
        c.length = static_cast<uint8_t>((tag >> 2) + 1);
        c.offset_bytes = 4;
        c.offset_mask = 0xffffffff;
        break;
      default:
        break;
    }
    t[tag] = c;
  }
  return t;
}

constexpr std::array<CopyTag, 256> kCopyTags = MakeCopyTags();

Status Corrupt(const char* what) {
  return Status::Invalid("corrupt Snappy block: ", what);
}

// Writes op[i] = op[i - offset] for i in [0, len): a back-reference that may overlap
// its own output. The region [op - offset, op + done) is periodic with period
// `offset`, so it can be copied onto its own end in growing, non-overlapping pieces.
inline void CopyOverlapping(uint8_t* op, size_t offset, size_t len) {
  const uint8_t* src = op - offset;
  size_t done = 0;
  while (done < len) {
    size_t k = std::min(len - done, offset + done);
    std::memcpy(op + done, src, k);
    done += k;
  }
}

// op[i] = op[i - offset] for i in [0, len) with 0 < offset < 16, in 8-byte stores
// that may write up to 7 bytes past op + len. An 8-byte store from op - offset is right
// in its first `offset` bytes, and the output is periodic, so storing again from the
// same source at any multiple of `offset` further is right too: the distance doubles
// until it is at least 8, then plain 8-byte steps follow.
inline void RepeatPattern(uint8_t* op, size_t offset, size_t len) {
  const uint8_t* src = op - offset;
  uint8_t* d = op;
  uint8_t* const end = op + len;
  uint64_t v;
  while (static_cast<size_t>(d - src) < 8) {
    std::memcpy(&v, src, 8);
    std::memcpy(d, &v, 8);
    d += d - src;
  }
  const size_t distance = static_cast<size_t>(d - src);
  for (; d < end; d += 8) {
    std::memcpy(&v, d - distance, 8);
    std::memcpy(d, &v, 8);
  }
}

// Decodes tags while both buffers have kSlack bytes left: a tag (at most 5 bytes) and
// anything it copies (at most 64 bytes plus 8 of overshoot, or a literal of at most 60)
// then stay inside them, so copies may be wide and only the offset needs a check. Stops
// before a longer literal and near the ends, which the exact step handles. False: a
// corrupt offset.
constexpr size_t kSlack = 80;
inline bool FastSteps(const uint8_t*& ip_ref, const uint8_t* ip_end, uint8_t*& op_ref,
                      const uint8_t* out, const uint8_t* op_end) {
  const uint8_t* ip = ip_ref;
  uint8_t* op = op_ref;
  while (static_cast<size_t>(ip_end - ip) >= kSlack &&
         static_cast<size_t>(op_end - op) >= kSlack) {
    const uint8_t tag = ip[0];
    if ((tag & 3) == 0) {
      const size_t len = (tag >> 2) + 1;
      if (len <= 16) {
        std::memcpy(op, ip + 1, 16);
      } else if (len <= 60) {
        std::memcpy(op, ip + 1, 64);
      } else {
        break;
      }
      op += len;
      ip += 1 + len;
      continue;
    }
    const CopyTag& t = kCopyTags[tag];
    uint32_t word;
    std::memcpy(&word, ip + 1, 4);
    const size_t offset = t.offset_high | (word & t.offset_mask);
    const size_t len = t.length;
    // The next tag's place from the tag alone (1, 2 or 4 offset bytes for the low bits
    // 01, 10, 11), not from the table: the input pointer's chain of dependencies, which
    // bounds the loop's speed, then has no table load in it.
    ip += 1 + ((0x4210u >> ((tag & 3) * 4)) & 0xf);
    if (offset - 1 >= static_cast<size_t>(op - out)) {
      ip_ref = ip;
      op_ref = op;
      return false;
    }
    const uint8_t* src = op - offset;
    if (offset >= 16) {
      std::memcpy(op, src, 16);
      for (size_t i = 16; i < len; i += 16) std::memcpy(op + i, src + i, 16);
    } else {
      RepeatPattern(op, offset, len);
    }
    op += len;
  }
  ip_ref = ip;
  op_ref = op;
  return true;
}

// Decodes one tag, checking every length against both buffers.
Status ExactStep(const uint8_t*& ip, const uint8_t* ip_end, uint8_t*& op,
                 const uint8_t* out, uint8_t* op_end) {
  const uint8_t tag = *ip++;
  const size_t in_left = static_cast<size_t>(ip_end - ip);
  const size_t out_left = static_cast<size_t>(op_end - op);
  if ((tag & 3) == 0) {
    size_t len = (tag >> 2) + 1;
    if (len > 60) {
      const size_t bytes = len - 60;
      if (in_left < bytes) return Corrupt("truncated literal length");
      len = static_cast<size_t>(LoadLittleEndian(ip, bytes)) + 1;
      ip += bytes;
    }
    const size_t avail = static_cast<size_t>(ip_end - ip);
    if (len > avail) return Corrupt("literal runs past the input");
    if (len > out_left) return Corrupt("literal runs past the output");
    if (len <= 16 && avail >= 16 && out_left >= 16) {
      std::memcpy(op, ip, 16);  // the bytes past len are overwritten later
    } else {
      std::memcpy(op, ip, len);
    }
    op += len;
    ip += len;
    return Status::OK();
  }
  // A copy: its length and offset bytes from the same table the fast loop reads.
  const CopyTag& t = kCopyTags[tag];
  if (in_left < t.offset_bytes) return Corrupt("truncated copy");
  const size_t len = t.length;
  const size_t offset = t.offset_high | LoadLittleEndian(ip, t.offset_bytes);
  ip += t.offset_bytes;
  if (offset == 0 || offset > static_cast<size_t>(op - out)) {
    return Corrupt("copy from before the start");
  }
  if (len > out_left) return Corrupt("copy runs past the output");
  const uint8_t* src = op - offset;
  if (len <= 16 && offset >= 8 && out_left >= 16) {
    // Each 8-byte load reads bytes already written (offset >= 8).
    std::memcpy(op, src, 8);
    std::memcpy(op + 8, src + 8, 8);
  } else if (offset >= 16 && out_left >= len + 15) {
    for (size_t i = 0; i < len; i += 16) std::memcpy(op + i, src + i, 16);
  } else if (offset >= len) {
    std::memcpy(op, src, len);
  } else {
    CopyOverlapping(op, offset, len);
  }
  op += len;
  return Status::OK();
}

}  // namespace

Result<size_t> SnappyUncompressedLength(const uint8_t* in, size_t in_len) {
  size_t length = 0;
  if (ReadPreamble(in, in_len, &length) == 0) return Corrupt("bad length preamble");
  return length;
}

Status SnappyUncompress(const uint8_t* in, size_t in_len, uint8_t* out, size_t out_len) {
  size_t declared = 0;
  size_t pre = ReadPreamble(in, in_len, &declared);
  if (pre == 0) return Corrupt("bad length preamble");
  if (declared != out_len) {
    return Status::Invalid("corrupt Snappy block: it declares ", declared,
                           " bytes, the page header ", out_len);
  }
  const uint8_t* ip = in + pre;
  const uint8_t* const ip_end = in + in_len;
  uint8_t* op = out;
  uint8_t* const op_end = out + out_len;
  while (ip < ip_end) {
    if (!FastSteps(ip, ip_end, op, out, op_end)) {
      return Corrupt("copy from before the start");
    }
    if (ip == ip_end) break;
    ARROW_RETURN_NOT_OK(ExactStep(ip, ip_end, op, out, op_end));
  }
  if (op != op_end) return Corrupt("it stops short of its declared length");
  return Status::OK();
}

}  // namespace sluice::connector
