#include "sluice/expr/like.h"

#include <arrow/util/bit_util.h>

#include <cstring>

namespace sluice::expr {

std::optional<PercentPattern> ParsePercentPattern(std::string_view pattern) {
  if (pattern.find_first_of("_\\") != std::string_view::npos) return std::nullopt;
  PercentPattern p;
  p.anchored_start = pattern.empty() || pattern.front() != '%';
  p.anchored_end = pattern.empty() || pattern.back() != '%';
  size_t at = 0;
  while (at <= pattern.size()) {
    size_t next = pattern.find('%', at);
    if (next == std::string_view::npos) next = pattern.size();
    if (next > at) p.pieces.emplace_back(pattern.substr(at, next - at));
    at = next + 1;
  }
  return p;
}

bool MatchesPercentPattern(const PercentPattern& p, std::string_view s) {
  const auto& pieces = p.pieces;
  if (pieces.empty()) return !(p.anchored_start && p.anchored_end) || s.empty();
  size_t first = 0, last = pieces.size();
  size_t pos = 0, end = s.size();
  if (p.anchored_start) {
    if (s.substr(0, pieces[0].size()) != pieces[0]) return false;
    pos = pieces[0].size();
    first = 1;
  }
  if (p.anchored_end && last > first) {
    const std::string& tail = pieces[last - 1];
    if (tail.size() > end - pos || s.substr(end - tail.size()) != tail) return false;
    end -= tail.size();
    --last;
  } else if (p.anchored_end && p.anchored_start && pieces.size() == 1) {
    return s.size() == pieces[0].size();  // no '%' at all: equality
  }
  for (size_t i = first; i < last; ++i) {
    const std::string& piece = pieces[i];
    if (piece.size() > end - pos) return false;
    const void* found = memmem(s.data() + pos, end - pos, piece.data(), piece.size());
    if (found == nullptr) return false;
    pos = static_cast<size_t>(static_cast<const char*>(found) - s.data()) + piece.size();
  }
  return true;
}

namespace {

template <typename ArrayType>
Result<std::shared_ptr<arrow::Array>> Like(const PercentPattern& p, const ArrayType& a) {
  const int64_t n = a.length();
  ARROW_ASSIGN_OR_RAISE(auto values, arrow::AllocateBitmap(n));
  uint8_t* bits = values->mutable_data();
  std::memset(bits, 0, static_cast<size_t>(arrow::bit_util::BytesForBits(n)));
  for (int64_t i = 0; i < n; ++i) {
    if (a.IsValid(i) && MatchesPercentPattern(p, a.GetView(i))) {
      arrow::bit_util::SetBit(bits, i);
    }
  }
  std::shared_ptr<arrow::Buffer> validity;
  if (a.null_count() > 0) {
    ARROW_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(n));
    arrow::internal::CopyBitmap(a.null_bitmap_data(), a.offset(), n,
                                validity->mutable_data(), 0);
  }
  return std::make_shared<arrow::BooleanArray>(n, std::move(values), std::move(validity),
                                               a.null_count());
}

}  // namespace

Result<std::shared_ptr<arrow::Array>> LikePercent(const PercentPattern& p,
                                                  const arrow::Array& strings) {
  switch (strings.type_id()) {
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return Like(p, static_cast<const arrow::BinaryArray&>(strings));
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY:
      return Like(p, static_cast<const arrow::LargeBinaryArray&>(strings));
    default:
      return Status::TypeError("LIKE needs strings, got ", strings.type()->ToString());
  }
}

}  // namespace sluice::expr
