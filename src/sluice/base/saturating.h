#pragma once
// Integer addition and subtraction that stop at the ends of int64 instead of
// overflowing: event times near the end of time (a watermark of +infinity, a window's
// end plus its lateness) stay ordered.
#include <cstdint>
#include <limits>

namespace sluice {

/// a + b, saturating at the int64 range.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  }
  return r;
}

/// a - b, saturating likewise.
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  }
  return r;
}

}  // namespace sluice
