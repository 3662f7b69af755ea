#pragma once
// Writing results to files: Parquet, CSV, JSON lines and Arrow IPC.
//
// Targets: a single file ("out/report.parquet"), or a directory when the path ends
// with '/' or partition_by is given ("out/orders/" -> part-00000.parquet, ...;
// partitioned: "out/orders/country=DE/part-00000.parquet").
// Atomic: every file is written under a temporary name in its target directory and
// renamed to its final name only when the whole job's output is complete (Finalize).
// A job that fails leaves no file under a final name. A single-file target receives
// ordered input in order (see exec::Sink::needs_order).
//
// Rolling (a directory target, for streams): with roll_rows and/or roll_interval a
// worker's file is finished once it holds that many rows or has been open that long
// (checked as batches and watermarks arrive: a stream with neither keeps its file
// open) and is published at once under its final name, complete; the next rows go to
// a new part file, named part-<run start ms>-<pid>-NNNNN so that a later run into the
// same directory never replaces an earlier run's files. The files still open are
// published when the job ends. A job that fails keeps the files it finished (each is
// whole) and publishes none of the others.
#include <arrow/io/interfaces.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/exec/operator.h"

namespace sluice::connector {

/// kKafka: not a file; `path` is the topic (kafka/kafka_sink.h).
enum class FileFormat { kParquet, kCsv, kJsonLines, kArrowIpc, kKafka };

Result<FileFormat> ParseFileFormat(
    const std::string& name);  // parquet|csv|json|jsonl|ipc|arrow
/// Format implied by a path's extension, if any.
Result<FileFormat> FileFormatFromPath(const std::string& path);
const char* FileFormatExtension(FileFormat format);

struct WriteOptions {
  FileFormat format = FileFormat::kParquet;
  std::string path;
  std::vector<std::string> partition_by;
  /// Parquet: snappy (default), zstd, gzip, lz4, none.
  std::string compression = "snappy";
  int64_t row_group_rows = 1 << 20;
  bool csv_header = true;
  char csv_delimiter = ',';
  /// Parquet: above 1, the columns of a row group are encoded in parallel (on Arrow's
  /// CPU pool). Callers must not write from inside that pool.
  int threads = 1;
  /// kKafka: the brokers and the column whose text is each message's key (optional).
  std::string kafka_brokers;
  std::string kafka_key;
  bool kafka_csv_values = false;  // values as CSV records instead of JSON objects
  /// Rolling files (a directory target): finish a file at this many rows (0: no limit)
  /// or after this long open, in microseconds of wall-clock time (0: no limit).
  int64_t roll_rows = 0;
  int64_t roll_interval_us = 0;
};

/// Writes one stream of batches to one open file.
class BatchWriter {
 public:
  virtual ~BatchWriter() = default;
  virtual Status Write(const arrow::RecordBatch& batch) = 0;
  virtual Status Close() = 0;
};

/// Writes into an open stream (closed by BatchWriter::Close).
Result<std::unique_ptr<BatchWriter>> OpenBatchWriter(
    std::shared_ptr<arrow::io::OutputStream> out,
    const std::shared_ptr<arrow::Schema>& schema, const WriteOptions& options);
Result<std::unique_ptr<BatchWriter>> OpenBatchWriter(
    const std::string& path, const std::shared_ptr<arrow::Schema>& schema,
    const WriteOptions& options);

class FileWriteSink : public exec::Sink {
 public:
  static Result<std::shared_ptr<FileWriteSink>> Make(
      std::shared_ptr<arrow::Schema> schema, WriteOptions options);

  Result<std::unique_ptr<exec::LocalSinkState>> MakeLocal(exec::ExecContext* ctx,
                                                          int worker) override;
  Status Consume(exec::ExecContext* ctx, exec::LocalSinkState* local,
                 exec::Batch batch) override;
  Status FinishLocal(exec::ExecContext* ctx,
                     std::unique_ptr<exec::LocalSinkState> local) override;
  Status Finalize(exec::ExecContext* ctx) override;
  Status ConsumeWatermark(exec::ExecContext* ctx, exec::LocalSinkState* local,
                          exec::Watermark wm) override;
  bool needs_order() const override { return single_file_; }
  std::string what_it_writes() const override { return "the file sink " + options_.path; }
  bool takes_result() const override { return true; }

  int64_t rows_written() const { return rows_written_.load(); }
  /// Final paths of the files written (after Finalize).
  const std::vector<std::string>& files() const { return published_; }

  /// Removes temporary files of this sink (called when the job fails).
  void Abort();

  FileWriteSink(std::shared_ptr<arrow::Schema> schema, WriteOptions options,
                bool single_file);

 private:
  struct OpenFile {
    std::string temp_path;
    std::string final_path;
    std::unique_ptr<BatchWriter> writer;
    int64_t rows = 0;
    int64_t opened_us = 0;  // steady clock
  };
  struct Local;
  Result<OpenFile*> FileFor(std::map<std::string, OpenFile>* files,
                            const std::string& partition_dir, int worker);
  Status WritePartitioned(std::map<std::string, OpenFile>* files,
                          const arrow::RecordBatch& batch, int worker);
  bool rolling() const { return options_.roll_rows > 0 || options_.roll_interval_us > 0; }
  // `rows` into the file of partition directory `dir`, rolling at roll_rows.
  Status WriteTo(std::map<std::string, OpenFile>* files, const std::string& dir,
                 int worker, const arrow::RecordBatch& rows);
  // Finishes and publishes the files of `files` due to roll by time or rows.
  Status Roll(std::map<std::string, OpenFile>* files);
  // Closes `f` and publishes it under its final name.
  Status Publish(OpenFile* f);

  std::shared_ptr<arrow::Schema> schema_;       // input schema
  std::shared_ptr<arrow::Schema> file_schema_;  // without partition columns
  std::vector<int> partition_columns_;
  std::vector<int> data_columns_;
  WriteOptions options_;
  bool single_file_;
  std::mutex mu_;
  std::map<std::string, OpenFile> shared_files_;  // single-file target
  std::vector<OpenFile> closed_;
  std::vector<std::string> published_;
  std::atomic<int64_t> rows_written_{0};
  std::atomic<int> file_counter_{0};
  std::string run_prefix_;  // rolling: "<start ms>-<pid>-" before each part's number
};

}  // namespace sluice::connector
