#pragma once
// Snappy raw-block decompression (the block format Parquet pages use, without the
// framing format's chunk headers).
//
// Written for speed on the pages Parquet writers produce: wide copies whenever the
// input and output have room for them, byte-exact steps near the ends. Every length
// and offset is checked against the buffers, so corrupt or hostile input is an error,
// never a read or write out of bounds.
#include <cstddef>
#include <cstdint>

#include "sluice/base/status.h"

namespace sluice::connector {

/// The uncompressed length a Snappy block declares in its preamble.
Result<size_t> SnappyUncompressedLength(const uint8_t* in, size_t in_len);

/// Decompresses the block `in[0, in_len)` into `out[0, out_len)`. `out_len` must equal
/// the declared uncompressed length; anything else (truncated input, an offset before
/// the start, output that would overrun or stop short) is an Invalid status.
Status SnappyUncompress(const uint8_t* in, size_t in_len, uint8_t* out, size_t out_len);

}  // namespace sluice::connector
