#include "sluice/connector/writer/file_writer.h"

#include <arrow/compute/api.h>
#include <arrow/csv/writer.h>
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/compression.h>
#include <fmt/format.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "sluice/base/atomic_file.h"
#include "sluice/base/json_text.h"
#include "sluice/connector/writer/json_rows.h"
#include "sluice/exec/row_encoding.h"

namespace sluice::connector {

namespace fs = std::filesystem;
namespace cp = arrow::compute;

Result<FileFormat> ParseFileFormat(const std::string& name) {
  if (name == "parquet") return FileFormat::kParquet;
  if (name == "csv") return FileFormat::kCsv;
  if (name == "json" || name == "jsonl" || name == "ndjson")
    return FileFormat::kJsonLines;
  if (name == "kafka") return FileFormat::kKafka;
  if (name == "ipc" || name == "arrow" || name == "feather") return FileFormat::kArrowIpc;
  return Status::Invalid("unknown file format '", name,
                         "' (parquet, csv, jsonl or arrow)");
}

Result<FileFormat> FileFormatFromPath(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  if (!ext.empty()) ext = ext.substr(1);
  if (ext == "parquet" || ext == "csv" || ext == "json" || ext == "jsonl" ||
      ext == "ndjson" || ext == "arrow" || ext == "ipc" || ext == "feather") {
    return ParseFileFormat(ext);
  }
  return Status::Invalid("cannot tell the format of '", path,
                         "' from its extension: say format:");
}

const char* FileFormatExtension(FileFormat format) {
  switch (format) {
    case FileFormat::kParquet:
      return ".parquet";
    case FileFormat::kCsv:
      return ".csv";
    case FileFormat::kJsonLines:
      return ".jsonl";
    case FileFormat::kArrowIpc:
      return ".arrow";
    case FileFormat::kKafka:
      return "";
  }
  return "";
}

namespace {

using OutputPtr = std::shared_ptr<arrow::io::OutputStream>;

class ParquetBatchWriter : public BatchWriter {
 public:
  static Result<std::unique_ptr<BatchWriter>> Open(
      OutputPtr out, const std::shared_ptr<arrow::Schema>& schema,
      const WriteOptions& options) {
    auto w = std::make_unique<ParquetBatchWriter>();
    w->out_ = std::move(out);
    parquet::WriterProperties::Builder props;
    arrow::Compression::type codec;
    if (options.compression == "snappy") {
      codec = arrow::Compression::SNAPPY;
    } else if (options.compression == "zstd") {
      codec = arrow::Compression::ZSTD;
    } else if (options.compression == "gzip") {
      codec = arrow::Compression::GZIP;
    } else if (options.compression == "lz4") {
      codec = arrow::Compression::LZ4;
    } else if (options.compression == "none" || options.compression == "uncompressed") {
      codec = arrow::Compression::UNCOMPRESSED;
    } else {
      return Status::Invalid("unknown Parquet compression '", options.compression,
                             "' (snappy, zstd, gzip, lz4 or none)");
    }
    props.compression(codec);
    props.max_row_group_length(options.row_group_rows);
    auto arrow_props = parquet::ArrowWriterProperties::Builder()
                           .store_schema()
                           ->set_use_threads(options.threads > 1)
                           ->build();
    ARROW_ASSIGN_OR_RAISE(w->writer_, parquet::arrow::FileWriter::Open(
                                          *schema, arrow::default_memory_pool(), w->out_,
                                          props.build(), arrow_props));
    return w;
  }
  Status Write(const arrow::RecordBatch& batch) override {
    return writer_->WriteRecordBatch(batch);
  }
  Status Close() override {
    ARROW_RETURN_NOT_OK(writer_->Close());
    return out_->Close();
  }

 private:
  OutputPtr out_;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
};

// CSV and Arrow IPC: Arrow's record batch writers over the stream.
class ArrowBatchWriter : public BatchWriter {
 public:
  ArrowBatchWriter(OutputPtr out, std::shared_ptr<arrow::ipc::RecordBatchWriter> writer)
      : out_(std::move(out)), writer_(std::move(writer)) {}

  static Result<std::unique_ptr<BatchWriter>> OpenCsv(
      OutputPtr out, const std::shared_ptr<arrow::Schema>& schema,
      const WriteOptions& options) {
    auto opts = arrow::csv::WriteOptions::Defaults();
    opts.include_header = options.csv_header;
    opts.delimiter = options.csv_delimiter;
    opts.quoting_style = arrow::csv::QuotingStyle::Needed;
    ARROW_ASSIGN_OR_RAISE(auto writer, arrow::csv::MakeCSVWriter(out, schema, opts));
    return std::make_unique<ArrowBatchWriter>(std::move(out), std::move(writer));
  }
  static Result<std::unique_ptr<BatchWriter>> OpenIpc(
      OutputPtr out, const std::shared_ptr<arrow::Schema>& schema) {
    ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeFileWriter(out, schema));
    return std::make_unique<ArrowBatchWriter>(std::move(out), std::move(writer));
  }

  Status Write(const arrow::RecordBatch& batch) override {
    return writer_->WriteRecordBatch(batch);
  }
  Status Close() override {
    ARROW_RETURN_NOT_OK(writer_->Close());
    return out_->Close();
  }

 private:
  OutputPtr out_;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
};

// JSON lines: one object per row (json_rows.h).
class JsonBatchWriter : public BatchWriter {
 public:
  static Result<std::unique_ptr<BatchWriter>> Open(
      OutputPtr out, const std::shared_ptr<arrow::Schema>& schema, const WriteOptions&) {
    auto w = std::make_unique<JsonBatchWriter>();
    w->out_ = std::move(out);
    w->keys_ = JsonRows::Keys(*schema);
    return w;
  }

  Status Write(const arrow::RecordBatch& batch) override {
    ARROW_ASSIGN_OR_RAISE(auto rows, JsonRows::Make(batch, &keys_));
    std::string buf;
    buf.reserve(1 << 16);
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      rows.Append(r, &buf);
      buf.push_back('\n');
      if (buf.size() > (1 << 20)) {
        ARROW_RETURN_NOT_OK(out_->Write(buf.data(), static_cast<int64_t>(buf.size())));
        buf.clear();
      }
    }
    return out_->Write(buf.data(), static_cast<int64_t>(buf.size()));
  }
  Status Close() override { return out_->Close(); }

 private:
  OutputPtr out_;
  std::vector<std::string> keys_;
};

}  // namespace

Result<std::unique_ptr<BatchWriter>> OpenBatchWriter(
    std::shared_ptr<arrow::io::OutputStream> out,
    const std::shared_ptr<arrow::Schema>& schema, const WriteOptions& options) {
  switch (options.format) {
    case FileFormat::kParquet:
      return ParquetBatchWriter::Open(std::move(out), schema, options);
    case FileFormat::kCsv:
      return ArrowBatchWriter::OpenCsv(std::move(out), schema, options);
    case FileFormat::kJsonLines:
      return JsonBatchWriter::Open(std::move(out), schema, options);
    case FileFormat::kArrowIpc:
      return ArrowBatchWriter::OpenIpc(std::move(out), schema);
    case FileFormat::kKafka:
      break;
  }
  return Status::Invalid("internal: not a file format");
}

Result<std::unique_ptr<BatchWriter>> OpenBatchWriter(
    const std::string& path, const std::shared_ptr<arrow::Schema>& schema,
    const WriteOptions& options) {
  auto out = arrow::io::FileOutputStream::Open(path);
  if (!out.ok())
    return Status::IOError("cannot create '", path, "': ", out.status().message());
  return OpenBatchWriter(*out, schema, options);
}

static int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct FileWriteSink::Local : exec::LocalSinkState {
  int worker = 0;
  std::map<std::string, OpenFile> files;  // by partition directory ("" = none)
};

FileWriteSink::FileWriteSink(std::shared_ptr<arrow::Schema> schema, WriteOptions options,
                             bool single_file)
    : PhysicalNode("Write " + options.path),
      schema_(std::move(schema)),
      options_(std::move(options)),
      single_file_(single_file) {}

Result<std::shared_ptr<FileWriteSink>> FileWriteSink::Make(
    std::shared_ptr<arrow::Schema> schema, WriteOptions options) {
  if (options.path.empty()) return Status::Invalid("a file sink needs a path");
  std::error_code ec;
  bool directory = !options.partition_by.empty() || options.path.back() == '/' ||
                   fs::is_directory(options.path, ec);
  if ((options.roll_rows > 0 || options.roll_interval_us > 0) && !directory) {
    return Status::Invalid(
        "rolling files (roll_rows, roll_interval) need a directory "
        "target: end the path with '/' (",
        options.path, ")");
  }
  auto sink = std::make_shared<FileWriteSink>(schema, options, !directory);
  if (options.roll_rows > 0 || options.roll_interval_us > 0) {
    // A stream that stops and resumes writes again into the same directory: each run's
    // part files carry the run's start (ms) and process id, never another run's names.
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    sink->run_prefix_ = fmt::format("{}-{}-", ms, static_cast<int64_t>(::getpid()));
  }
  for (const auto& key : options.partition_by) {
    int idx = schema->GetFieldIndex(key);
    if (idx < 0) {
      return Status::Invalid("partition_by: no column '", key,
                             "' in the output (columns: ", schema->ToString(), ")");
    }
    sink->partition_columns_.push_back(idx);
  }
  arrow::FieldVector data_fields;
  for (int i = 0; i < schema->num_fields(); ++i) {
    if (std::find(sink->partition_columns_.begin(), sink->partition_columns_.end(), i) ==
        sink->partition_columns_.end()) {
      sink->data_columns_.push_back(i);
      data_fields.push_back(schema->field(i));
    }
  }
  sink->file_schema_ = arrow::schema(data_fields);
  // Leftovers of earlier failed runs.
  std::string dir =
      directory ? options.path : fs::path(options.path).parent_path().string();
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create directory '", dir, "': ", ec.message());
    RemoveStaleTempFiles(dir, /*recursive=*/directory);
  }
  return sink;
}

Result<FileWriteSink::OpenFile*> FileWriteSink::FileFor(
    std::map<std::string, OpenFile>* files, const std::string& partition_dir,
    int worker) {
  auto it = files->find(partition_dir);
  if (it != files->end()) return &it->second;
  OpenFile f;
  if (single_file_) {
    f.final_path = options_.path;
  } else {
    std::string dir = options_.path;
    if (!partition_dir.empty()) dir = (fs::path(dir) / partition_dir).string();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create directory '", dir, "': ", ec.message());
    f.final_path = (fs::path(dir) / fmt::format("part-{}{:05d}{}", run_prefix_,
                                                file_counter_.fetch_add(1),
                                                FileFormatExtension(options_.format)))
                       .string();
  }
  f.temp_path = TempPathFor(f.final_path);
  f.opened_us = SteadyMicros();
  ARROW_ASSIGN_OR_RAISE(f.writer, OpenBatchWriter(f.temp_path, file_schema_, options_));
  return &files->emplace(partition_dir, std::move(f)).first->second;
}

static std::string PartitionValueText(const arrow::Array& col, int64_t row) {
  if (col.IsNull(row)) return "__HIVE_DEFAULT_PARTITION__";
  auto s = col.GetScalar(row).ValueOrDie()->ToString();
  std::string out;
  for (unsigned char c : s) {
    if (c == '/' || c == '=' || c == '%' || c < 0x20 || c == '\\') {
      out += fmt::format("%{:02X}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

Status FileWriteSink::WritePartitioned(std::map<std::string, OpenFile>* files,
                                       const arrow::RecordBatch& batch, int worker) {
  auto data = batch.SelectColumns(data_columns_);
  ARROW_RETURN_NOT_OK(data.status());
  if (partition_columns_.empty()) return WriteTo(files, "", worker, **data);
  // Group rows by their partition directory.
  std::map<std::string, std::vector<int64_t>> rows_by_dir;
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    std::string dir;
    for (size_t k = 0; k < partition_columns_.size(); ++k) {
      if (k > 0) dir += "/";
      dir += options_.partition_by[k] + "=" +
             PartitionValueText(*batch.column(partition_columns_[k]), r);
    }
    rows_by_dir[dir].push_back(r);
  }
  for (auto& [dir, rows] : rows_by_dir) {
    arrow::Int64Builder b;
    ARROW_RETURN_NOT_OK(b.AppendValues(rows));
    ARROW_ASSIGN_OR_RAISE(auto idx, b.Finish());
    ARROW_ASSIGN_OR_RAISE(auto taken, cp::Take(arrow::Datum(*data), arrow::Datum(idx)));
    ARROW_RETURN_NOT_OK(WriteTo(files, dir, worker, *taken.record_batch()));
  }
  return Status::OK();
}

Result<std::unique_ptr<exec::LocalSinkState>> FileWriteSink::MakeLocal(
    exec::ExecContext* ctx, int worker) {
  auto local = std::make_unique<Local>();
  local->worker = worker;
  return local;
}

Status FileWriteSink::Consume(exec::ExecContext* ctx, exec::LocalSinkState* base,
                              exec::Batch batch) {
  auto* local = static_cast<Local*>(base);
  if (batch.data->num_rows() == 0) return Status::OK();
  rows_written_ += batch.data->num_rows();
  ctx->progress().rows_written += batch.data->num_rows();
  metrics().rows_out += batch.data->num_rows();
  if (single_file_) {
    std::lock_guard<std::mutex> lock(mu_);
    return WritePartitioned(&shared_files_, *batch.data, local->worker);
  }
  ARROW_RETURN_NOT_OK(WritePartitioned(&local->files, *batch.data, local->worker));
  return rolling() ? Roll(&local->files) : Status::OK();
}

Status FileWriteSink::ConsumeWatermark(exec::ExecContext*, exec::LocalSinkState* base,
                                       exec::Watermark) {
  // Time passes with watermarks too: a file rolls by its interval when a watermark
  // comes, even without rows (a stream with neither keeps its file open).
  if (!rolling()) return Status::OK();
  return Roll(&static_cast<Local*>(base)->files);
}

Status FileWriteSink::WriteTo(std::map<std::string, OpenFile>* files,
                              const std::string& dir, int worker,
                              const arrow::RecordBatch& rows) {
  int64_t done = 0;
  while (done < rows.num_rows()) {
    ARROW_ASSIGN_OR_RAISE(auto* f, FileFor(files, dir, worker));
    int64_t n = rows.num_rows() - done;
    // With roll_rows, a file takes no more than that: the rest goes to the next one.
    if (options_.roll_rows > 0) n = std::min(n, options_.roll_rows - f->rows);
    ARROW_RETURN_NOT_OK(f->writer->Write(
        done == 0 && n == rows.num_rows() ? rows : *rows.Slice(done, n)));
    f->rows += n;
    done += n;
    if (options_.roll_rows > 0 && f->rows >= options_.roll_rows) {
      ARROW_RETURN_NOT_OK(Publish(f));
      files->erase(dir);
    }
  }
  return Status::OK();
}

Status FileWriteSink::Publish(OpenFile* f) {
  ARROW_RETURN_NOT_OK(f->writer->Close());
  f->writer.reset();
  ARROW_RETURN_NOT_OK(PublishTempFile(f->temp_path, f->final_path));
  std::lock_guard<std::mutex> lock(mu_);
  published_.push_back(f->final_path);
  return Status::OK();
}

Status FileWriteSink::Roll(std::map<std::string, OpenFile>* files) {
  const int64_t now = SteadyMicros();
  for (auto it = files->begin(); it != files->end();) {
    OpenFile& f = it->second;
    const bool full = options_.roll_rows > 0 && f.rows >= options_.roll_rows;
    const bool old = options_.roll_interval_us > 0 && f.rows > 0 &&
                     now - f.opened_us >= options_.roll_interval_us;
    if (!full && !old) {
      ++it;
      continue;
    }
    ARROW_RETURN_NOT_OK(Publish(&f));
    it = files->erase(it);
  }
  return Status::OK();
}

Status FileWriteSink::FinishLocal(exec::ExecContext* ctx,
                                  std::unique_ptr<exec::LocalSinkState> base) {
  auto* local = static_cast<Local*>(base.get());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [dir, f] : local->files) {
    ARROW_RETURN_NOT_OK(f.writer->Close());
    f.writer.reset();
    closed_.push_back(std::move(f));
  }
  return Status::OK();
}

Status FileWriteSink::Finalize(exec::ExecContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  if (single_file_ && shared_files_.empty()) {
    // An empty result still produces a (valid, empty) file.
    ARROW_RETURN_NOT_OK(FileFor(&shared_files_, "", 0).status());
  }
  for (auto& [dir, f] : shared_files_) {
    ARROW_RETURN_NOT_OK(f.writer->Close());
    f.writer.reset();
    closed_.push_back(std::move(f));
  }
  shared_files_.clear();
  // Commit: every file is complete; publish them under their final names.
  for (auto& f : closed_) {
    ARROW_RETURN_NOT_OK(PublishTempFile(f.temp_path, f.final_path));
    published_.push_back(f.final_path);
  }
  closed_.clear();
  std::sort(published_.begin(), published_.end());
  return Status::OK();
}

void FileWriteSink::Abort() {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  for (auto& f : closed_) fs::remove(f.temp_path, ec);
  for (auto& [dir, f] : shared_files_) {
    f.writer.reset();
    fs::remove(f.temp_path, ec);
  }
  closed_.clear();
  shared_files_.clear();
}

}  // namespace sluice::connector
