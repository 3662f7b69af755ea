#include "sluice/connector/parquet/snappy.h"

#include <arrow/util/compression.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sluice/testing/assert_ok.h"

namespace sluice::connector {
namespace {

// Compressed with Arrow's Snappy codec (the reference implementation).
std::vector<uint8_t> Compress(const std::vector<uint8_t>& raw) {
  auto codec = arrow::util::Codec::Create(arrow::Compression::SNAPPY).ValueOrDie();
  std::vector<uint8_t> out(codec->MaxCompressedLen(raw.size(), raw.data()));
  int64_t n =
      codec->Compress(raw.size(), raw.data(), out.size(), out.data()).ValueOrDie();
  out.resize(n);
  return out;
}

// Inputs with the shapes pages have: random bytes, small alphabets, runs, repeated
// records, and periodic patterns of every short period (overlapping copies).
std::vector<uint8_t> MakeInput(std::mt19937_64& rng, int kind, size_t n) {
  std::vector<uint8_t> v(n);
  switch (kind) {
    case 0:
      for (auto& b : v) b = static_cast<uint8_t>(rng());
      break;
    case 1:
      for (auto& b : v) b = static_cast<uint8_t>('a' + rng() % 4);
      break;
    case 2: {
      size_t i = 0;
      while (i < n) {
        uint8_t b = static_cast<uint8_t>(rng());
        size_t run = 1 + rng() % 300;
        for (size_t j = 0; j < run && i < n; ++j) v[i++] = b;
      }
      break;
    }
    case 3: {
      std::vector<uint8_t> rec(1 + rng() % 40);
      for (auto& b : rec) b = static_cast<uint8_t>(rng());
      for (size_t i = 0; i < n; ++i) {
        v[i] = rng() % 50 == 0 ? static_cast<uint8_t>(rng()) : rec[i % rec.size()];
      }
      break;
    }
    default: {
      size_t period = 1 + static_cast<size_t>(kind - 4);
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i % period * 37);
      break;
    }
  }
  return v;
}

TEST(Snappy, RoundTripsArrowsCompressor) {
  std::mt19937_64 rng(42);
  const size_t sizes[] = {0, 1, 2, 15, 16, 17, 63, 64, 65, 1000, 65535, 65536, 200000};
  for (int kind = 0; kind < 4 + 20; ++kind) {
    for (size_t n : sizes) {
      auto raw = MakeInput(rng, kind, n);
      auto comp = Compress(raw);
      SLUICE_ASSERT_OK_AND_ASSIGN(size_t len,
                                  SnappyUncompressedLength(comp.data(), comp.size()));
      ASSERT_EQ(len, n);
      std::vector<uint8_t> out(n + 1, 0xAB);
      SLUICE_ASSERT_OK(SnappyUncompress(comp.data(), comp.size(), out.data(), n));
      ASSERT_EQ(out.back(), 0xAB) << "wrote past the output";
      out.pop_back();
      ASSERT_EQ(out, raw) << "kind " << kind << " size " << n;
    }
  }
}

TEST(Snappy, HandWrittenTags) {
  // Literal "abc", then a 1-byte-offset copy (len 4 + 1 = 5, offset 3): "abcabcab".
  const uint8_t block[] = {8, 0x08, 'a', 'b', 'c', 0x05, 3};
  std::vector<uint8_t> out(8);
  SLUICE_ASSERT_OK(SnappyUncompress(block, sizeof block, out.data(), out.size()));
  EXPECT_EQ(std::string(out.begin(), out.end()), "abcabcab");
  // Literal with a one-byte length (tag 60): 61 bytes of 'x'.
  std::vector<uint8_t> lit = {61, 60 << 2, 60};
  lit.insert(lit.end(), 61, 'x');
  out.assign(61, 0);
  SLUICE_ASSERT_OK(SnappyUncompress(lit.data(), lit.size(), out.data(), out.size()));
  EXPECT_EQ(std::string(out.begin(), out.end()), std::string(61, 'x'));
  // A 4-byte-offset copy (tag 3): "ab" then copy len 6 offset 2.
  const uint8_t four[] = {8, 0x04, 'a', 'b', (5 << 2) | 3, 2, 0, 0, 0};
  out.assign(8, 0);
  SLUICE_ASSERT_OK(SnappyUncompress(four, sizeof four, out.data(), out.size()));
  EXPECT_EQ(std::string(out.begin(), out.end()), "abababab");
}

TEST(Snappy, RejectsCorruptBlocks) {
  std::vector<uint8_t> out(64);
  // Declared length differs from the caller's.
  const uint8_t ok[] = {3, 0x08, 'a', 'b', 'c'};
  EXPECT_FALSE(SnappyUncompress(ok, sizeof ok, out.data(), 4).ok());
  // Copy before the start.
  const uint8_t early[] = {5, 0x05, 1};
  EXPECT_FALSE(SnappyUncompress(early, sizeof early, out.data(), 5).ok());
  // Offset zero.
  const uint8_t zero[] = {9, 0x00, 'a', 0x05, 0};
  EXPECT_FALSE(SnappyUncompress(zero, sizeof zero, out.data(), 9).ok());
  // Literal past the input.
  const uint8_t trunc[] = {10, 0x24, 'a', 'b'};
  EXPECT_FALSE(SnappyUncompress(trunc, sizeof trunc, out.data(), 10).ok());
  // Stops short.
  const uint8_t shortb[] = {6, 0x08, 'a', 'b', 'c'};
  EXPECT_FALSE(SnappyUncompress(shortb, sizeof shortb, out.data(), 6).ok());
  // Bad preamble.
  const uint8_t pre[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  EXPECT_FALSE(SnappyUncompressedLength(pre, sizeof pre).ok());
}

TEST(Snappy, CorruptedValidBlocksNeverOverrun) {
  // Flip bytes of real blocks: each must decompress or fail, within its buffers
  // (the sanitizer build checks the "within").
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 3000; ++iter) {
    auto raw = MakeInput(rng, static_cast<int>(rng() % 8), 1 + rng() % 3000);
    auto comp = Compress(raw);
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f)
      comp[rng() % comp.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) comp.resize(rng() % comp.size());
    std::vector<uint8_t> out(raw.size());
    (void)SnappyUncompress(comp.data(), comp.size(), out.data(), out.size());
  }
}

}  // namespace
}  // namespace sluice::connector
