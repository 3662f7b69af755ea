#include "sluice/base/huge_pages.h"

#include <sys/mman.h>

namespace sluice {

void* AllocateHugePageAware(size_t bytes) {
  if (bytes < kHugePageMinBytes) {
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* p = std::aligned_alloc(kHugePageBytes, rounded);
  if (p == nullptr) throw std::bad_alloc();
  // Advice only: a kernel without THP, or with it off, leaves 4 KiB pages.
  ::madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

}  // namespace sluice
