// fuzz_csv: the CSV reader (src/sluice/connector/csv) on arbitrary file contents.
//
// Input: two option bytes, then the file's bytes (written to a scratch file, which is
// what the reader takes).
//   byte 0  bit 0     header on/off
//           bits 1-2  delimiter , ; \t |
//           bits 3-4  quoting: " ; " with escape \ ; ' ; none
//           bit 5     explicit schema (the inferred names, types from byte 1) instead
//                     of the inferred one
//           bits 6-7  bad rows: fail, skip, reject (into a scratch rejects file), reject
//   byte 1  bits 0-3  first type of the explicit schema (column i takes the list's
//                     entry (first + 5 i) mod its size: every conversion gets fuzzed)
//           bit 4     null_values = CommonNullValues() (else only "")
//           bit 5     timestamp_format "%d/%m/%Y %H:%M:%S" (bit 0 clear) or "%d/%m/%Y"
//           bit 6     tiny buffers: block_bytes 7, batch_rows 2, infer_rows 2 (records
//                     that span blocks, many batches, types that change after the sample)
//           bit 7     projection: the columns in reverse order, every other one
//
// Checked: no crash, no sanitizer report, no uncaught exception; each batch Next()
// returns has the output schema, at most batch_rows rows and valid arrays;
// rows_read() == rows returned + rows_rejected() after each Next(); a rejects file
// holds one JSON object per rejected row. Errors (a Status) are fine.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../reader_checks.h"
#include "../scratch_dir.h"
#include "sluice/base/bad_rows.h"
#include "sluice/connector/csv/csv_reader.h"

namespace sluice::fuzz {
namespace {

constexpr const char* kTarget = "fuzz_csv";

std::vector<std::shared_ptr<arrow::DataType>> ColumnTypes() {
  return {arrow::boolean(),
          arrow::int8(),
          arrow::int16(),
          arrow::int32(),
          arrow::int64(),
          arrow::uint8(),
          arrow::uint16(),
          arrow::uint32(),
          arrow::uint64(),
          arrow::float32(),
          arrow::float64(),
          arrow::decimal128(10, 2),
          arrow::decimal128(38, 10),
          arrow::decimal128(5, 0),
          arrow::utf8(),
          arrow::large_utf8(),
          arrow::binary(),
          arrow::large_binary(),
          arrow::date32(),
          arrow::timestamp(arrow::TimeUnit::SECOND),
          arrow::timestamp(arrow::TimeUnit::MILLI),
          arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"),
          arrow::timestamp(arrow::TimeUnit::NANO)};
}

void ReadCsv(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const uint8_t a = data[0], b = data[1];
  data += 2;
  size -= 2;

  csv::CsvOptions options;
  options.header = (a & 1) != 0;
  options.delimiter = ",;\t|"[(a >> 1) & 3];
  switch ((a >> 3) & 3) {
    case 0:
      options.quote = '"';
      break;
    case 1:
      options.quote = '"';
      options.escape = '\\';
      break;
    case 2:
      options.quote = '\'';
      break;
    case 3:
      options.quote = '\0';
      break;
  }
  const bool explicit_schema = (a & 32) != 0;
  const OnError policy = std::min<int>(a >> 6, 2) == 0   ? OnError::kFail
                         : std::min<int>(a >> 6, 2) == 1 ? OnError::kSkip
                                                         : OnError::kReject;
  if (b & 16) options.null_values = csv::CsvOptions::CommonNullValues();
  if (b & 32) options.timestamp_format = (b & 1) ? "%d/%m/%Y" : "%d/%m/%Y %H:%M:%S";
  if (b & 64) {
    options.block_bytes = 7;
    options.batch_rows = 2;
    options.infer_rows = 2;
  }

  const std::string path = ScratchDir::Write("input.csv", data, size);
  auto inferred = csv::InferSchema(path, options);
  if (!inferred.ok()) return;
  std::shared_ptr<arrow::Schema> schema = *inferred;
  if (explicit_schema) {
    auto types = ColumnTypes();
    arrow::FieldVector fields;
    for (int i = 0; i < schema->num_fields(); ++i) {
      fields.push_back(arrow::field(schema->field(i)->name(),
                                    types[((b & 15) + 5 * i) % types.size()]));
    }
    schema = arrow::schema(fields);
    options.schema = schema;
    // With an explicit schema InferSchema returns it as is.
    auto again = csv::InferSchema(path, options);
    if (!again.ok() || !(*again)->Equals(*schema)) Fail(kTarget, "schema not kept");
  }
  std::vector<int> projection;
  if (b & 128) {
    for (int i = schema->num_fields() - 1; i >= 0; i -= 2) projection.push_back(i);
  }

  ScratchDir::Remove("rejects.jsonl");
  const std::string rejects = ScratchDir::Path() + "/rejects.jsonl";
  int64_t rejected = 0;
  {
    BadRowHandler handler(policy, policy == OnError::kReject ? rejects : "");
    auto reader = csv::CsvReader::Open(path, schema, projection, options, &handler);
    if (!reader.ok()) return;
    DrainReader(kTarget, **reader, options.batch_rows);
    rejected = handler.rejected();
    if (!handler.Close().ok()) return;
  }
  if (policy == OnError::kReject) {
    CheckRejects(kTarget, data, size, rejects, rejected);
    ScratchDir::Remove("rejects.jsonl");
  }
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Arrow's buffers from malloc, so AddressSanitizer sees overflows in them.
  setenv("ARROW_DEFAULT_MEMORY_POOL", "system", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::ReadCsv(data, size);
  return 0;
}
