#pragma once
// Decodes one column chunk of a flat Parquet column straight into Arrow arrays.
//
// The scan's fast path (parquet_table.cc): it decompresses each page into one reused
// buffer (Snappy with our own decompressor, other codecs through Arrow's), decodes
// definition levels into the validity bitmap, and decodes values (PLAIN or
// dictionary) directly into the output type, widening integers to decimals and
// gathering dictionary strings in the same pass. Arrow's reader stays the path for
// everything this one does not take: Supports() says which, before any page is read,
// and Make() checks every page header of the chunk, so a chunk either decodes here
// from start to end or not at all (corrupt data found while decoding is an error).
//
// Taken: columns with no repetition and at most one definition level; data pages v1
// and v2; PLAIN, PLAIN_DICTIONARY and RLE_DICTIONARY values (BOOLEAN: PLAIN only);
// uncompressed, Snappy, gzip, Brotli, zstd and LZ4_RAW pages; and these physical types
// read as these Arrow types:
//   INT32      int8/16/32, uint8/16/32, date32, time32, decimal128 (as Arrow reads it)
//   INT64      int64, uint64, timestamp, time64, decimal128
//   FLOAT      float32          DOUBLE    float64          BOOLEAN   bool
//   BYTE_ARRAY string, binary, large_string, large_binary; or dictionary<int32, string>
//              when every data page is dictionary-encoded and the caller asks for it
//   FIXED_LEN_BYTE_ARRAY  decimal128 (big-endian two's complement, up to 16 bytes)
#include <memory>
#include <string>
#include <utility>

#include "sluice/base/status.h"

namespace arrow {
class Array;
class Buffer;
class DataType;
class MemoryPool;
}  // namespace arrow

namespace parquet {
class ColumnChunkMetaData;
class ColumnDescriptor;
}  // namespace parquet

namespace sluice::connector {

class ColumnChunkReader {
 public:
  virtual ~ColumnChunkReader() = default;

  /// Whether the chunk described by `meta`/`descr` can be decoded into `type` (the
  /// Arrow type Arrow's reader gives the column; for a dictionary the caller wants,
  /// dictionary<int32, string>).
  static bool Supports(const parquet::ColumnChunkMetaData& meta,
                       const parquet::ColumnDescriptor& descr,
                       const arrow::DataType& type);

  /// A reader over `chunk`: the column chunk's bytes, from its first page header to
  /// its end, followed by at least kPadding readable bytes (any value). Walks every
  /// page header first: NotImplemented for a page this reader does not take (the
  /// caller then reads the chunk with Arrow), Invalid for headers that do not parse.
  /// `where` names the chunk in errors ("file 'x.parquet' row group 3 column 'a'").
  /// REQUIRES: Supports(meta, descr, type).
  static Result<std::unique_ptr<ColumnChunkReader>> Make(
      std::shared_ptr<arrow::Buffer> chunk, const parquet::ColumnChunkMetaData& meta,
      const parquet::ColumnDescriptor& descr, std::shared_ptr<arrow::DataType> type,
      arrow::MemoryPool* pool, std::string where);

  /// The next min(n, rows left) rows as one array of the type given to Make; an array
  /// of length 0 once the chunk is done. Arrays own their buffers (nothing points into
  /// the chunk), except that dictionary arrays of one chunk share their dictionary.
  virtual Result<std::shared_ptr<arrow::Array>> Next(int64_t n) = 0;

  /// The rows rows[0, count) (ascending, each below n) of the next min(n, rows left)
  /// rows, as one array of `count` rows; the chunk advances by all of them. What
  /// Next(n) then a take would give, without building the rows not asked for: values
  /// of the other rows are skipped (dictionary indices are still unpacked, plain
  /// values passed over), and a page none of whose rows is asked for is neither
  /// decompressed nor decoded. A scan uses it for the columns a filter does not read.
  virtual Result<std::shared_ptr<arrow::Array>> NextSelected(int64_t n,
                                                             const int32_t* rows,
                                                             int64_t count) = 0;

  /// Where the chunk's bytes are in its file: {offset, length}.
  static std::pair<int64_t, int64_t> ByteRange(const parquet::ColumnChunkMetaData& meta);

  /// Readable bytes the caller must place after the chunk's last byte.
  static constexpr int64_t kPadding = 16;
};

}  // namespace sluice::connector
