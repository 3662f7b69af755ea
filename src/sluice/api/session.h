#pragma once
// Session: the entry point of the public C++ API.
//
//   ARROW_ASSIGN_OR_RAISE(auto session, sluice::Session::Make({.threads = 8}));
//   auto orders = session->read_parquet("data/orders/*.parquet");
//   auto big = orders.filter(col("amount") > 100).select({"order_id", "amount"});
//   ARROW_ASSIGN_OR_RAISE(auto table, big.collect());
//
// A Session owns the execution settings (threads, memory limit) and a catalog of names
// that sql() can refer to: frames given to Register() and the table functions
// read_parquet/read_csv/read_json/read_arrow. Frames keep their session alive.
//
// Inputs: readers open the input when called (files listed, schema read or inferred);
// a missing file or a bad option makes the returned Frame fail (frame.h, "Errors").
// Bad rows in CSV/JSON follow on_error: fail (the error names file:line), skip, or
// reject (rows go to a JSON-lines rejects file, published when the query that read
// them finishes). inputs() reports rows read and rejected per input.
//
// Thread-safety: all methods may be called from any thread. Queries of one session
// run one at a time (each uses all of the session's threads); use several sessions to
// run queries concurrently.
#include <arrow/table.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sluice/api/expr.h"
#include "sluice/api/frame.h"
#include "sluice/api/job.h"
#include "sluice/base/bad_rows.h"
#include "sluice/base/status.h"
#include "sluice/job/catalog.h"

namespace sluice {

namespace exec {
class ExecContext;
}  // namespace exec

struct SessionOptions {
  /// Worker threads; 0 = all cores.
  int threads = 0;
  /// Bytes the operators' state may use; 0 = 80% of RAM; < 0 = unlimited.
  int64_t memory_limit = 0;
  /// Target rows per batch.
  int64_t batch_rows = 65536;
};

/// A column list with types, as (name, type) pairs; types as in SQL casts:
/// {{"user_id", "bigint"}, {"signup_date", "date"}, {"price", "decimal(10,2)"}}.
using ColumnTypes = std::vector<std::pair<std::string, std::string>>;

struct ParquetReadOptions {
  /// Read key=value directories of the path as columns.
  bool hive_partitioning = true;
};

struct CsvReadOptions {
  bool header = true;
  char delimiter = ',';
  char quote = '"';
  /// Escape character inside quoted fields; '\0' = none (quotes are doubled).
  char escape = '\0';
  /// The complete schema, in file order; empty = inferred from the first rows.
  ColumnTypes columns;
  /// Types of some columns overriding the inferred ones.
  ColumnTypes types;
  /// Field texts read as NULL (besides quoted ones); must not contain commas.
  std::vector<std::string> null_values = {""};
  /// strptime format of timestamp columns; empty = ISO 8601.
  std::string timestamp_format;
  /// auto (by extension), none, gzip, zstd.
  std::string compression = "auto";
  int64_t infer_rows = 10000;
  OnError on_error = OnError::kFail;
  /// Rejects file for OnError::kReject; empty = "<file stem>.rejects.jsonl" beside the
  /// first input file.
  std::string rejects;
};

struct JsonReadOptions {
  ColumnTypes columns;
  ColumnTypes types;
  std::string compression = "auto";
  int64_t infer_rows = 10000;
  OnError on_error = OnError::kFail;
  std::string rejects;
};

/// What one input has read so far.
struct InputStats {
  std::string name;           // the path or glob as given
  int64_t rows_read = 0;      // good + bad rows of completed scans
  int64_t rows_rejected = 0;  // skipped or rejected rows
  std::string rejects_path;   // empty unless on_error = reject
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  /// Fails on invalid options (negative threads or batch size).
  static Result<std::shared_ptr<Session>> Make(SessionOptions options = {});

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const SessionOptions& options() const { return options_; }

  // ---- Inputs. `path` is a file, a glob ("data/*.csv", "logs/**/*.jsonl.gz") or a
  // directory.
  Frame read_parquet(const std::string& path, const ParquetReadOptions& options = {});
  Frame read_csv(const std::string& path, const CsvReadOptions& options = {});
  /// JSON lines (one object per line), optionally compressed.
  Frame read_json(const std::string& path, const JsonReadOptions& options = {});
  /// Arrow IPC files.
  Frame read_arrow(const std::string& path);
  /// In-memory Arrow data (not copied). `name` is shown by explain().
  Frame from_arrow(std::shared_ptr<arrow::Table> table,
                   const std::string& name = "arrow table");

  // ---- SQL.
  /// Plans one SELECT (WITH/UNION/...) over the registered names and table functions;
  /// the frame can be transformed further. See docs/cpp_api.md.
  Frame sql(const std::string& query);
  /// Makes `frame` visible to sql() as `name` (case-insensitive), replacing an earlier
  /// one. Fails if the frame is in error or belongs to another session.
  Status Register(const std::string& name, const Frame& frame);

  /// Starts `statement` (COPY (query) TO 'path' | 'topic' (...)) in the background:
  /// a stream into files or Kafka, or any query into a sink. Planned now; runs on a
  /// thread of its own beside the session's other queries (job.h).
  Result<std::shared_ptr<Job>> Start(const std::string& statement);

  /// Inputs opened so far (by readers and by table functions in sql()).
  std::vector<InputStats> inputs() const;

  /// The query running now (collect, write_*, count, explain(true)), if any, stops as
  /// a first Ctrl-C stops a run: unbounded sources end their input and it drains; a
  /// query over bounded input is cancelled. Jobs (Start) are not affected.
  void StopRunning();
  /// The query running now, if any, is cancelled.
  void CancelRunning();

 private:
  friend class Frame;
  explicit Session(SessionOptions options) : options_(options) {}

  Frame Open(const std::string& format, const std::string& path,
             std::map<std::string, std::string> options, OnError on_error,
             const std::string& rejects);
  /// Runs `fn` (which executes `plan`) under the run lock, then closes the inputs the
  /// plan read (their rejects files are published, Kafka offsets committed).
  Status Run(const plan::Plan& plan, const std::function<Status(exec::ExecContext*)>& fn);
  /// Closes the inputs that `plan` reads. REQUIRES: catalog_mu_ held.
  Status CloseInputsOf(const plan::Plan& plan);

  SessionOptions options_;
  mutable std::mutex catalog_mu_;  // guards catalog_ and inputs_
  job::Catalog catalog_;
  std::vector<std::pair<std::string, std::shared_ptr<connector::InputTable>>> inputs_;
  std::mutex run_mu_;  // one query at a time
  std::mutex running_mu_;
  exec::ExecContext* running_ =
      nullptr;  // the query running now (guarded by running_mu_)
};

}  // namespace sluice
