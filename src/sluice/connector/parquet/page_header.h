#pragma once
// Parquet page headers, decoded from their Thrift compact-protocol form.
//
// Only what a reader of flat columns needs is kept; other fields (statistics, CRC,
// index pages' contents) are skipped whatever their type, so headers from newer
// writers with fields unknown here still decode.
#include <cstddef>
#include <cstdint>

#include "sluice/base/status.h"

namespace sluice::connector {

// The values of the Parquet format's PageType and Encoding enums.
enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

struct PageHeader {
  PageType type = PageType::kDataPage;
  int32_t uncompressed_size = 0;
  int32_t compressed_size = 0;
  // Data pages (v1 and v2) and dictionary pages.
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  // Data pages v1.
  Encoding definition_level_encoding = Encoding::kRle;
  Encoding repetition_level_encoding = Encoding::kRle;
  // Data pages v2: levels precede the values, uncompressed, without length prefixes.
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t definition_levels_length = 0;
  int32_t repetition_levels_length = 0;
  bool is_compressed = true;
};

/// Decodes the header at `data[0, size)`; *header_length receives its length in bytes.
/// Invalid if the bytes are not a well-formed header or a required field is missing or
/// negative.
Status ParsePageHeader(const uint8_t* data, size_t size, PageHeader* header,
                       size_t* header_length);

}  // namespace sluice::connector
