#include "sluice/base/memory.h"

#include <arrow/array.h>
#include <arrow/record_batch.h>
#include <arrow/util/byte_size.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cmath>

namespace sluice {

Status MemoryBudget::TryReserve(int64_t bytes, const std::string& owner) {
  int64_t cur = used_.load(std::memory_order_relaxed);
  while (true) {
    int64_t next = cur + bytes;
    if (limit_ > 0 && bytes > 0 && next > limit_) {
      return Status::OutOfMemory(
          fmt::format("memory limit exceeded in {}: it asked for {} more while the job "
                      "uses {} of its {} limit (raise --memory-limit or "
                      "settings.memory_limit)",
                      owner, FormatBytes(bytes), FormatBytes(cur), FormatBytes(limit_)));
    }
    if (used_.compare_exchange_weak(cur, next, std::memory_order_relaxed)) {
      int64_t p = peak_.load(std::memory_order_relaxed);
      while (next > p && !peak_.compare_exchange_weak(p, next)) {
      }
      return Status::OK();
    }
  }
}

void MemoryBudget::ForceReserve(int64_t bytes) {
  int64_t next = used_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  int64_t p = peak_.load(std::memory_order_relaxed);
  while (next > p && !peak_.compare_exchange_weak(p, next)) {
  }
}

void MemoryBudget::Release(int64_t bytes) {
  used_.fetch_sub(bytes, std::memory_order_relaxed);
}

int64_t MemoryBudget::DefaultLimit() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<int64_t>(static_cast<double>(pages) * page_size * 0.8);
}

MemoryReservation& MemoryReservation::operator=(MemoryReservation&& other) noexcept {
  if (this != &other) {
    Clear();
    budget_ = other.budget_;
    owner_ = std::move(other.owner_);
    size_ = other.size_;
    peak_ = other.peak_;
    other.budget_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

Status MemoryReservation::Grow(int64_t bytes) {
  if (bytes <= 0) return Status::OK();
  if (budget_ != nullptr) ARROW_RETURN_NOT_OK(budget_->TryReserve(bytes, owner_));
  size_ += bytes;
  if (size_ > peak_) peak_ = size_;
  return Status::OK();
}

Status MemoryReservation::Resize(int64_t bytes) {
  if (bytes > size_) return Grow(bytes - size_);
  Shrink(size_ - bytes);
  return Status::OK();
}

void MemoryReservation::ResizeOverLimit(int64_t bytes) {
  if (bytes <= size_) {
    Shrink(size_ - bytes);
    return;
  }
  if (budget_ != nullptr) budget_->ForceReserve(bytes - size_);
  size_ = bytes;
  if (size_ > peak_) peak_ = size_;
}

void MemoryReservation::Shrink(int64_t bytes) {
  if (bytes > size_) bytes = size_;
  if (budget_ != nullptr) budget_->Release(bytes);
  size_ -= bytes;
}

void MemoryReservation::Clear() { Shrink(size_); }

int64_t ArrayMemory(const arrow::ArrayData& data) {
  // The bytes the array's own range of its buffers takes: slices of one batch (an
  // aggregate's result handed out in morsels) together count the batch once.
  auto referenced = arrow::util::ReferencedBufferSize(data);
  if (referenced.ok()) return *referenced;
  int64_t total = 0;
  for (const auto& buf : data.buffers) {
    if (buf) total += buf->size();
  }
  for (const auto& child : data.child_data) total += ArrayMemory(*child);
  if (data.dictionary) total += ArrayMemory(*data.dictionary);
  return total;
}

int64_t BatchMemory(const arrow::RecordBatch& batch) {
  int64_t total = 0;
  for (int i = 0; i < batch.num_columns(); ++i)
    total += ArrayMemory(*batch.column_data(i));
  return total;
}

int64_t PeakRss() {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (std::fabs(v) >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", v, units[u]);
}

Result<int64_t> ParseByteSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0)
    return Status::Invalid("not a byte size: '", text,
                           "' (expected e.g. 4GiB, 512MB, 80%)");
  double value = std::stod(text.substr(0, i));
  std::string unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double mult;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb")
    mult = 1e3;
  else if (unit == "kib")
    mult = 1024.0;
  else if (unit == "m" || unit == "mb")
    mult = 1e6;
  else if (unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb")
    mult = 1e9;
  else if (unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb")
    mult = 1e12;
  else if (unit == "tib")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "%") {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page_size = sysconf(_SC_PAGE_SIZE);
    return static_cast<int64_t>(static_cast<double>(pages) * page_size * value / 100.0);
  } else {
    return Status::Invalid("unknown unit in byte size '", text,
                           "' (use B, KB, KiB, MB, MiB, GB, GiB, TB, TiB or %)");
  }
  return static_cast<int64_t>(value * mult);
}

}  // namespace sluice
