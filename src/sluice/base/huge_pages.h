#pragma once
// An allocator for large arrays that are filled right after they are allocated (hash
// slots, direct-index arrays, per-group accumulators): allocations of at least
// kHugePageMinBytes are aligned to 2 MiB and marked for transparent huge pages
// (madvise MADV_HUGEPAGE), so that first touching them costs a fault per 2 MiB instead
// of one per 4 KiB. On this project's machines THP is "madvise" mode: without the
// mark, a 64 MiB table took 16,384 faults (each clearing a page) on the critical path
// of a join build; TPC-H Q9 spent a quarter of its page faults in one Rehash.
// Smaller allocations go to malloc as usual. Where the kernel refuses huge pages,
// nothing changes but the alignment.
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace sluice {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;
inline constexpr size_t kHugePageMinBytes = size_t{4} << 20;

/// Allocates `bytes`, huge-page backed when large (see above). Never null (throws
/// std::bad_alloc, like operator new).
void* AllocateHugePageAware(size_t bytes);
inline void FreeHugePageAware(void* p) { std::free(p); }

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(AllocateHugePageAware(n * sizeof(T)));
  }
  void deallocate(T* p, size_t) noexcept { FreeHugePageAware(p); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

/// A vector whose large buffers are huge-page backed.
template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace sluice
