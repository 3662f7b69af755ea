#pragma once
// What the reader fuzz targets (fuzz_csv, fuzz_json) check beyond "no crash": the
// contracts csv_reader.h and json_reader.h document for every successful Next(), and
// that a rejects file is JSON lines. A broken check prints what broke and aborts, which
// libFuzzer reports as a crash.
#include <arrow/api.h>
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::fuzz {

[[noreturn]] inline void Fail(const char* target, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", target, what.c_str());
  std::abort();
}

/// A batch from Next(): non-null, not empty, at most `batch_rows` rows, of the reader's
/// output schema, with valid arrays.
inline void CheckBatch(const char* target, const arrow::RecordBatch& batch,
                       const arrow::Schema& output_schema, int64_t batch_rows) {
  if (batch.num_rows() == 0) Fail(target, "empty batch");
  if (batch.num_rows() > batch_rows) {
    Fail(target, "batch of " + std::to_string(batch.num_rows()) + " rows, batch_rows " +
                     std::to_string(batch_rows));
  }
  if (!batch.schema()->Equals(output_schema)) {
    Fail(target, "batch schema " + batch.schema()->ToString() + " != output schema " +
                     output_schema.ToString());
  }
  arrow::Status st = batch.ValidateFull();
  if (!st.ok()) Fail(target, "invalid batch: " + st.ToString());
}

/// rows_read() == rows returned so far + rows_rejected().
inline void CheckCounts(const char* target, int64_t rows_read, int64_t rows_returned,
                        int64_t rows_rejected) {
  if (rows_read != rows_returned + rows_rejected) {
    Fail(target, "rows_read " + std::to_string(rows_read) + " != returned " +
                     std::to_string(rows_returned) + " + rejected " +
                     std::to_string(rows_rejected));
  }
}

/// Every line of the rejects file at `path` (if it exists) is a JSON object with the
/// keys bad_rows.h lists; `expected_lines` of them. Only when the input was valid UTF-8
/// (`input_is_utf8`): the rejects file copies raw bytes (base/json_text.h), so invalid
/// UTF-8 in a bad row makes an invalid JSON string; otherwise only lines are counted.
inline void CheckRejectsFile(const char* target, const std::string& path,
                             int64_t expected_lines, bool input_is_utf8) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (expected_lines != 0) {
      Fail(target, "no rejects file, " + std::to_string(expected_lines) + " rejected");
    }
    return;
  }
  simdjson::dom::parser parser;
  std::string line;
  int64_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    if (!input_is_utf8) continue;
    simdjson::dom::element doc;
    auto error = parser.parse(line).get(doc);
    if (error) Fail(target, "rejects line is not JSON: " + line);
    for (const char* key : {"source", "line", "column", "reason", "raw"}) {
      if (doc[key].error()) Fail(target, std::string("rejects line without ") + key);
    }
  }
  if (lines != expected_lines) {
    Fail(target, "rejects file has " + std::to_string(lines) + " lines, " +
                     std::to_string(expected_lines) + " rejected");
  }
}

/// Reads every batch of `reader` (a CsvReader or JsonReader), checking each batch, the
/// row counts after it, and that an error is sticky (the next call returns it again).
template <typename Reader>
void DrainReader(const char* target, Reader& reader, int64_t batch_rows) {
  int64_t returned = 0;
  while (true) {
    auto batch = reader.Next();
    if (!batch.ok()) {
      auto again = reader.Next();
      if (again.ok() || again.status().ToString() != batch.status().ToString()) {
        Fail(target, "error not sticky: " + batch.status().ToString());
      }
      return;
    }
    if (*batch == nullptr) return;
    CheckBatch(target, **batch, *reader.output_schema(), batch_rows);
    returned += (*batch)->num_rows();
    CheckCounts(target, reader.rows_read(), returned, reader.rows_rejected());
  }
}

/// Checks the rejects file of a run that rejected `rejected` rows of input `data`.
inline void CheckRejects(const char* target, const uint8_t* data, size_t size,
                         const std::string& path, int64_t rejected) {
  const bool utf8 = simdjson::validate_utf8(reinterpret_cast<const char*>(data), size);
  CheckRejectsFile(target, path, rejected, utf8);
}

}  // namespace sluice::fuzz
