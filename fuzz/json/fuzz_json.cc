// fuzz_json: the JSON-lines reader (src/sluice/connector/json) on arbitrary file
// contents.
//
// Input: two option bytes, then the file's bytes (written to a scratch file, which is
// what the reader takes).
//   byte 0  bits 0-1  schema: inferred; explicit (the inferred names, types from
//                     byte 1); inferred with column_types replacing the first column's
//                     type and adding a column "extra"; explicit with a repeated name
//           bits 2-3  bad rows: fail, skip, reject (into a scratch rejects file),
//                     none (a null BadRowHandler, which behaves as fail)
//           bit 4     batch_rows 1 and infer_rows 1 (else 3 and 10000)
//           bit 5     projection: the columns in reverse order, every other one
//   byte 1  bits 0-4  first type of the explicit schema (column i takes the list's
//                     entry (first + 7 i) mod its size: every conversion gets fuzzed)
//
// Checked: no crash, no sanitizer report, no uncaught exception; each batch Next()
// returns has the output schema, at most batch_rows rows and valid arrays;
// rows_read() == rows returned + rows_rejected() after each Next(); errors are
// sticky; a rejects file holds one JSON object per rejected row. Errors (a Status)
// are fine.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../reader_checks.h"
#include "../scratch_dir.h"
#include "sluice/base/bad_rows.h"
#include "sluice/connector/json/json_reader.h"

namespace sluice::fuzz {
namespace {

constexpr const char* kTarget = "fuzz_json";

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
          arrow::date32(),
          arrow::timestamp(arrow::TimeUnit::SECOND),
          arrow::timestamp(arrow::TimeUnit::MILLI),
          arrow::timestamp(arrow::TimeUnit::MICRO),
          arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"),
          arrow::timestamp(arrow::TimeUnit::NANO, "+05:30"),
          arrow::binary(),  // not supported: Open must refuse it cleanly
          arrow::list(arrow::int64())};
}

void ReadJson(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const uint8_t a = data[0], b = data[1];
  data += 2;
  size -= 2;

  json::JsonOptions options;
  const int schema_mode = a & 3;
  const int policy_bits = (a >> 2) & 3;
  if (a & 16) {
    options.batch_rows = 1;
    options.infer_rows = 1;
  } else {
    options.batch_rows = 3;
  }
  const auto types = ColumnTypes();
  auto type_of = [&](int i) { return types[((b & 31) + 7 * i) % types.size()]; };

  const std::string path = ScratchDir::Write("input.jsonl", data, size);
  auto inferred = json::InferSchema(path, options);
  if (!inferred.ok()) return;
  std::shared_ptr<arrow::Schema> schema = *inferred;
  if (schema_mode == 1 || schema_mode == 3) {
    arrow::FieldVector fields;
    for (int i = 0; i < schema->num_fields(); ++i) {
      fields.push_back(arrow::field(schema->field(i)->name(), type_of(i)));
    }
    if (schema_mode == 3 && !fields.empty()) fields.push_back(fields[0]);
    schema = arrow::schema(fields);
  } else if (schema_mode == 2) {
    if (schema->num_fields() > 0)
      options.column_types[schema->field(0)->name()] = type_of(0);
    options.column_types["extra"] = type_of(1);
    auto again = json::InferSchema(path, options);
    if (!again.ok()) return;
    schema = *again;
  }
  std::vector<int> projection;
  if (a & 32) {
    for (int i = schema->num_fields() - 1; i >= 0; i -= 2) projection.push_back(i);
  }

  const OnError policy = policy_bits == 1   ? OnError::kSkip
                         : policy_bits == 2 ? OnError::kReject
                                            : OnError::kFail;
  ScratchDir::Remove("rejects.jsonl");
  const std::string rejects = ScratchDir::Path() + "/rejects.jsonl";
  int64_t rejected = 0;
  {
    BadRowHandler handler(policy, policy == OnError::kReject ? rejects : "");
    auto reader = json::JsonReader::Open(path, schema, projection, options,
                                         policy_bits == 3 ? nullptr : &handler);
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
  sluice::fuzz::ReadJson(data, size);
  return 0;
}
