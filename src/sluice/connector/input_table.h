#pragma once
// Opening inputs by format name and options, as job files and SQL table functions do:
//   format: parquet | csv | json (JSON lines) | arrow (IPC file)
//   path:   a file, a glob ("data/*.csv", "logs/**/*.jsonl.gz") or a directory
//   options (all text, as written in YAML or passed to read_csv(...)):
//     csv:  header (true), delimiter (","), quote ("\""), escape (none), null_values
//           (comma-separated list, default ""), columns ("name type, name type, ..."
//           explicit schema), types ("name type, ..." overrides of inferred types),
//           infer_rows (10000), compression (auto|none|gzip|zstd), timestamp_format
//     json: columns, types, infer_rows, compression
//     parquet: hive_partitioning (true)
//   on_error: fail | skip | reject, with rejects: PATH (default "<name>.rejects.jsonl"
//             next to the first input file) for reject.
// Unknown options are errors that list the known ones.
#include <map>
#include <memory>
#include <string>

#include "sluice/base/bad_rows.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/table_source.h"

namespace sluice::connector {

struct SourceSpec {
  std::string name;  // for messages and the default rejects file name
  std::string format;
  std::string path;
  std::map<std::string, std::string> options;
  std::string on_error = "fail";
  std::string rejects_path;
};

/// A readable input with its bad-row accounting.
class InputTable : public plan::TableSource, public exec::Scannable {
 public:
  /// Rows seen so far (good + bad), rows rejected or skipped so far.
  virtual int64_t rows_read() const = 0;
  virtual int64_t rows_rejected() const { return 0; }
  /// Where rejected rows go (empty unless on_error: reject).
  virtual std::string rejects_path() const { return ""; }
  /// Flushes the rejects file (call once the job's reads are done).
  virtual Status Close() { return Status::OK(); }
};

Result<std::shared_ptr<InputTable>> OpenInputTable(const SourceSpec& spec);

/// Parses "name type, name type" (types as expr::ParseTypeName) into fields.
Result<arrow::FieldVector> ParseColumnList(const std::string& text);

/// Parses a boolean option value (true/false/yes/no/1/0).
Result<bool> ParseBoolOption(const std::string& key, const std::string& value);
/// Parses an integer option value (the whole text).
Result<int64_t> ParseIntOption(const std::string& key, const std::string& value);
/// Parses a generator's `splits` option: an integer in 1..1024 (`what` names the option
/// in the error).
Result<int> ParseSplitsOption(const std::string& key, const std::string& value,
                              const std::string& what);
/// Parses a non-negative number option value (the whole text).
Result<double> ParseNumberOption(const std::string& key, const std::string& value);

}  // namespace sluice::connector
