#include "sluice/connector/input_table.h"

#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>

#include "sluice/base/duration.h"
#include "sluice/base/input_file.h"
#include "sluice/connector/csv/csv_reader.h"
#include "sluice/connector/ecommerce_input.h"
#include "sluice/connector/event_time_input.h"
#include "sluice/connector/json/json_reader.h"
#include "sluice/connector/kafka/kafka_input.h"
#include "sluice/connector/nexmark_input.h"
#include "sluice/connector/parquet/parquet_table.h"
#include "sluice/expr/types.h"

namespace sluice::connector {

namespace fs = std::filesystem;

Result<bool> ParseBoolOption(const std::string& key, const std::string& value) {
  std::string v;
  for (char c : value)
    v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
  if (v == "false" || v == "no" || v == "0" || v == "off") return false;
  return Status::Invalid("option ", key, ": expected true or false, got '", value, "'");
}

Result<int> ParseSplitsOption(const std::string& key, const std::string& value,
                              const std::string& what) {
  ARROW_ASSIGN_OR_RAISE(int64_t s, ParseIntOption(key, value));
  if (s < 1 || s > 1024) return Status::Invalid(what, " must be in 1..1024");
  return static_cast<int>(s);
}

Result<int64_t> ParseIntOption(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    int64_t x = std::stoll(value, &used);
    if (used == value.size()) return x;
  } catch (...) {
  }
  return Status::Invalid("option ", key, ": '", value, "' is not an integer");
}

Result<double> ParseNumberOption(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    double x = std::stod(value, &used);
    if (used == value.size() && x >= 0) return x;
  } catch (...) {
  }
  return Status::Invalid("option ", key, ": '", value, "' is not a non-negative number");
}

Result<arrow::FieldVector> ParseColumnList(const std::string& text) {
  arrow::FieldVector fields;
  // Split on commas that are not inside parentheses (decimal(10,2)).
  std::vector<std::string> items;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (c == ',' && depth == 0) {
      items.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) items.push_back(cur);
  for (auto item : items) {
    size_t b = item.find_first_not_of(" \t\n");
    if (b == std::string::npos) continue;
    item = item.substr(b);
    size_t sp = item.find_first_of(" \t:");
    if (sp == std::string::npos) {
      return Status::Invalid("column '", item, "' needs a type (e.g. \"", item,
                             " bigint\")");
    }
    std::string name = item.substr(0, sp);
    std::string type = item.substr(sp + 1);
    size_t tb = type.find_first_not_of(" \t:");
    type = tb == std::string::npos ? "" : type.substr(tb);
    auto t = expr::ParseTypeName(type);
    if (!t.ok()) return Status::Invalid("column '", name, "': ", t.status().message());
    fields.push_back(arrow::field(name, *t));
  }
  return fields;
}

namespace {

Status CheckKnown(const SourceSpec& spec, const std::set<std::string>& known) {
  for (const auto& [k, v] : spec.options) {
    if (!known.count(k)) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      return Status::Invalid("source ", spec.name, ": unknown option '", k,
                             "' for format ", spec.format,
                             " (known: ", list.empty() ? "none" : list, ")");
    }
  }
  return Status::OK();
}

Result<char> CharOption(const std::string& key, const std::string& v) {
  if (v == "\\t" || v == "tab") return '\t';
  if (v.empty() || v == "none") return '\0';
  if (v.size() != 1)
    return Status::Invalid("option ", key, " must be one character, got '", v, "'");
  return v[0];
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string DefaultRejectsPath(const SourceSpec& spec, const std::string& first_file) {
  fs::path dir = fs::path(first_file).parent_path();
  std::string name = spec.name.empty() ? fs::path(first_file).stem().string() : spec.name;
  return (dir / (name + ".rejects.jsonl")).string();
}

enum class TextFormat { kCsv, kJson };

// CSV and JSON-lines files: one morsel per file.
class TextTable : public InputTable {
 public:
  TextFormat format;
  std::vector<std::string> files;
  std::shared_ptr<arrow::Schema> file_schema;
  csv::CsvOptions csv_options;
  json::JsonOptions json_options;
  std::shared_ptr<BadRowHandler> bad_rows;
  int64_t total_bytes = 0;
  std::string pattern;
  // Rows per file from the last complete read (inputs may be scanned more than once).
  mutable std::mutex mu;
  mutable std::map<std::string, int64_t> rows_per_file;

  std::string Describe() const override {
    std::string f = format == TextFormat::kCsv ? "csv" : "json";
    if (files.size() == 1) return f + " " + files[0];
    return fmt::format("{} {} ({} files)", f, pattern, files.size());
  }
  std::shared_ptr<arrow::Schema> schema() const override { return file_schema; }
  std::optional<int64_t> EstimatedBytes() const override { return total_bytes; }
  std::optional<int64_t> EstimatedRows() const override {
    return std::max<int64_t>(1, total_bytes / 64);  // a rough guess: 64 bytes per row
  }
  int64_t rows_read() const override {
    std::lock_guard<std::mutex> lock(mu);
    int64_t total = 0;
    for (const auto& [f, n] : rows_per_file) total += n;
    return total;
  }
  int64_t rows_rejected() const override { return bad_rows->rejected(); }
  std::string rejects_path() const override {
    return bad_rows->policy() == OnError::kReject ? bad_rows->rejects_path() : "";
  }
  Status Close() override { return bad_rows->Close(); }

  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection, const std::vector<expr::Expr>&) const override;
};

class TextScan : public exec::Source {
 public:
  TextScan(const TextTable* table, std::vector<int> projection)
      : PhysicalNode("Scan " + table->Describe()),
        table_(table),
        projection_(std::move(projection)) {}
  Status Prepare(exec::ExecContext* ctx) override {
    ctx->progress().bytes_total += table_->total_bytes;
    return Status::OK();
  }
  int64_t num_morsels() const override {
    return static_cast<int64_t>(table_->files.size());
  }
  int64_t EstimatedBytes() const override { return table_->total_bytes; }

  // Every column is read and converted, even those the query does not use: whether a
  // row is bad must not depend on the query (counts reconcile the same way for every
  // job over the same file). The projection is applied after conversion.
  std::vector<int> AllColumns() const {
    std::vector<int> all(table_->file_schema->num_fields());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    return all;
  }

  Status Produce(exec::ExecContext* ctx, int64_t morsel, exec::Emitter* out) override {
    const std::string& path = table_->files[morsel];
    int64_t k = 0, last_bytes = 0, last_rows = 0, last_rejected = 0;
    auto pump = [&](auto& reader) -> Status {
      while (!ctx->cancelled()) {
        ARROW_ASSIGN_OR_RAISE(auto batch, reader->Next());
        int64_t bytes = reader->bytes_read();
        ctx->progress().bytes_read += bytes - last_bytes;
        last_bytes = bytes;
        int64_t rows = reader->rows_read();
        ctx->progress().rows_read += rows - last_rows;
        last_rows = rows;
        int64_t rej = reader->rows_rejected();
        ctx->progress().rows_rejected += rej - last_rejected;
        last_rejected = rej;
        if (!batch) {
          std::lock_guard<std::mutex> lock(table_->mu);
          table_->rows_per_file[path] = rows;
          break;
        }
        if (batch->num_rows() == 0) continue;
        ARROW_ASSIGN_OR_RAISE(auto projected, batch->SelectColumns(projection_));
        ARROW_RETURN_NOT_OK(
            out->Emit(exec::Batch{projected, exec::MorselSeq(morsel, k++)}));
      }
      return Status::OK();
    };
    if (table_->format == TextFormat::kCsv) {
      auto opts = table_->csv_options;
      opts.batch_rows = ctx->batch_rows();
      ARROW_ASSIGN_OR_RAISE(
          auto reader, csv::CsvReader::Open(path, table_->file_schema, AllColumns(), opts,
                                            table_->bad_rows.get()));
      return pump(reader);
    }
    auto opts = table_->json_options;
    opts.batch_rows = ctx->batch_rows();
    ARROW_ASSIGN_OR_RAISE(
        auto reader, json::JsonReader::Open(path, table_->file_schema, AllColumns(), opts,
                                            table_->bad_rows.get()));
    return pump(reader);
  }

 private:
  const TextTable* table_;
  std::vector<int> projection_;
};

Result<std::shared_ptr<exec::Source>> TextTable::MakeSource(
    const std::vector<int>& projection, const std::vector<expr::Expr>&) const {
  return std::make_shared<TextScan>(this, projection);
}

// Arrow IPC files: one morsel per record batch.
class IpcTable : public InputTable {
 public:
  std::vector<std::string> files;
  std::vector<std::pair<int, int>> batches;  // (file, batch)
  std::shared_ptr<arrow::Schema> file_schema;
  int64_t rows = 0;
  std::string pattern;

  std::string Describe() const override { return "arrow " + pattern; }
  std::shared_ptr<arrow::Schema> schema() const override { return file_schema; }
  std::optional<int64_t> EstimatedRows() const override { return rows; }
  int64_t rows_read() const override { return rows; }
  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection, const std::vector<expr::Expr>&) const override;
};

class IpcScan : public exec::Source {
 public:
  IpcScan(const IpcTable* t, std::vector<int> projection)
      : PhysicalNode("Scan " + t->Describe()),
        t_(t),
        projection_(std::move(projection)) {}
  Status Prepare(exec::ExecContext*) override { return Status::OK(); }
  int64_t num_morsels() const override {
    return static_cast<int64_t>(t_->batches.size());
  }
  Status Produce(exec::ExecContext* ctx, int64_t morsel, exec::Emitter* out) override {
    auto [f, b] = t_->batches[morsel];
    ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(t_->files[f]));
    ARROW_ASSIGN_OR_RAISE(auto reader, arrow::ipc::RecordBatchFileReader::Open(file));
    ARROW_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(b));
    ARROW_ASSIGN_OR_RAISE(batch, batch->SelectColumns(projection_));
    ctx->progress().rows_read += batch->num_rows();
    return out->Emit(exec::Batch{batch, exec::MorselSeq(morsel, 0)});
  }

 private:
  const IpcTable* t_;
  std::vector<int> projection_;
};

Result<std::shared_ptr<exec::Source>> IpcTable::MakeSource(
    const std::vector<int>& projection, const std::vector<expr::Expr>&) const {
  return std::make_shared<IpcScan>(this, projection);
}

class ParquetInput : public InputTable {
 public:
  explicit ParquetInput(std::shared_ptr<ParquetTable> t) : t_(std::move(t)) {}
  std::string Describe() const override { return t_->Describe(); }
  std::shared_ptr<arrow::Schema> schema() const override { return t_->schema(); }
  std::optional<int64_t> EstimatedRows() const override { return t_->EstimatedRows(); }
  std::optional<int64_t> EstimatedDistinct(int column) const override {
    return t_->EstimatedDistinct(column);
  }
  std::optional<int64_t> EstimatedBytes() const override { return t_->EstimatedBytes(); }
  bool SupportsPredicatePruning() const override { return true; }
  int64_t rows_read() const override { return *t_->EstimatedRows(); }
  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection,
      const std::vector<expr::Expr>& preds) const override {
    return t_->MakeSource(projection, preds);
  }

 private:
  std::shared_ptr<ParquetTable> t_;
};

Result<std::shared_ptr<InputTable>> OpenText(const SourceSpec& spec, TextFormat format) {
  auto t = std::make_shared<TextTable>();
  t->format = format;
  t->pattern = spec.path;
  ARROW_ASSIGN_OR_RAISE(t->files, ExpandPaths(spec.path));
  for (const auto& f : t->files) {
    ARROW_ASSIGN_OR_RAISE(auto size, FileSize(f));
    t->total_bytes += size;
  }
  ARROW_ASSIGN_OR_RAISE(auto policy, ParseOnError(spec.on_error));
  std::string rejects = spec.rejects_path;
  if (policy == OnError::kReject && rejects.empty())
    rejects = DefaultRejectsPath(spec, t->files[0]);
  t->bad_rows = std::make_shared<BadRowHandler>(policy, rejects);
  std::shared_ptr<arrow::Schema> explicit_schema;
  std::map<std::string, std::shared_ptr<arrow::DataType>> overrides;
  Compression compression = Compression::kAuto;
  int64_t infer_rows = 10000;
  for (const auto& [k, v] : spec.options) {
    if (k == "columns") {
      ARROW_ASSIGN_OR_RAISE(auto fields, ParseColumnList(v));
      explicit_schema = arrow::schema(fields);
    } else if (k == "types") {
      ARROW_ASSIGN_OR_RAISE(auto fields, ParseColumnList(v));
      for (const auto& f : fields) overrides[f->name()] = f->type();
    } else if (k == "compression") {
      ARROW_ASSIGN_OR_RAISE(compression, ParseCompression(v));
    } else if (k == "infer_rows") {
      try {
        infer_rows = std::stoll(v);
      } catch (...) {
        return Status::Invalid("option infer_rows must be a number, got '", v, "'");
      }
    }
  }
  if (format == TextFormat::kCsv) {
    ARROW_RETURN_NOT_OK(
        CheckKnown(spec, {"header", "delimiter", "delim", "sep", "quote", "escape",
                          "null_values", "nullstr", "columns", "types", "infer_rows",
                          "compression", "timestamp_format"}));
    auto& o = t->csv_options;
    o.schema = explicit_schema;
    o.column_types = overrides;
    o.compression = compression;
    o.infer_rows = infer_rows;
    for (const auto& [k, v] : spec.options) {
      if (k == "header") {
        ARROW_ASSIGN_OR_RAISE(o.header, ParseBoolOption(k, v));
      } else if (k == "delimiter" || k == "delim" || k == "sep") {
        ARROW_ASSIGN_OR_RAISE(o.delimiter, CharOption(k, v));
      } else if (k == "quote") {
        ARROW_ASSIGN_OR_RAISE(o.quote, CharOption(k, v));
      } else if (k == "escape") {
        ARROW_ASSIGN_OR_RAISE(o.escape, CharOption(k, v));
      } else if (k == "null_values" || k == "nullstr") {
        o.null_values = SplitList(v);
      } else if (k == "timestamp_format") {
        o.timestamp_format = v;
      }
    }
    if (explicit_schema) {
      t->file_schema = explicit_schema;
    } else {
      ARROW_ASSIGN_OR_RAISE(t->file_schema, csv::InferSchema(t->files[0], o));
    }
  } else {
    ARROW_RETURN_NOT_OK(
        CheckKnown(spec, {"columns", "types", "infer_rows", "compression"}));
    auto& o = t->json_options;
    o.schema = explicit_schema;
    o.column_types = overrides;
    o.compression = compression;
    o.infer_rows = infer_rows;
    if (explicit_schema) {
      t->file_schema = explicit_schema;
    } else {
      ARROW_ASSIGN_OR_RAISE(t->file_schema, json::InferSchema(t->files[0], o));
    }
  }
  return t;
}

Result<std::shared_ptr<InputTable>> OpenIpc(const SourceSpec& spec) {
  ARROW_RETURN_NOT_OK(CheckKnown(spec, {}));
  auto t = std::make_shared<IpcTable>();
  t->pattern = spec.path;
  ARROW_ASSIGN_OR_RAISE(t->files, ExpandPaths(spec.path));
  for (size_t f = 0; f < t->files.size(); ++f) {
    ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(t->files[f]));
    auto reader = arrow::ipc::RecordBatchFileReader::Open(file);
    if (!reader.ok()) {
      return Status::IOError("'", t->files[f],
                             "' is not an Arrow IPC file: ", reader.status().message());
    }
    if (f == 0) t->file_schema = (*reader)->schema();
    if (!(*reader)->schema()->Equals(*t->file_schema)) {
      return Status::Invalid("'", t->files[f], "' has a different schema than '",
                             t->files[0], "'");
    }
    for (int b = 0; b < (*reader)->num_record_batches(); ++b) {
      t->batches.emplace_back(static_cast<int>(f), b);
    }
    ARROW_ASSIGN_OR_RAISE(auto rows, (*reader)->CountRows());
    t->rows += rows;
  }
  return t;
}

}  // namespace

Result<std::shared_ptr<InputTable>> OpenInputTable(const SourceSpec& spec_in) {
  // Event time and watermarks (any file format): read in order (event_time_input.h).
  SourceSpec spec = spec_in;
  std::string event_time, watermark;
  if (auto it = spec.options.find("event_time"); it != spec.options.end()) {
    event_time = it->second;
    spec.options.erase(it);
  }
  if (auto it = spec.options.find("watermark"); it != spec.options.end()) {
    watermark = it->second;
    spec.options.erase(it);
  }
  // The generator and Kafka place watermarks themselves.
  const bool files =
      spec.format != "nexmark" && spec.format != "kafka" && spec.format != "ecommerce";
  if (files && (!event_time.empty() || !watermark.empty())) {
    if (event_time.empty() || watermark.empty()) {
      return Status::Invalid("source ", spec.name,
                             ": event_time and watermark go together (e.g. event_time: "
                             "ts, watermark: 5s)");
    }
    ARROW_ASSIGN_OR_RAISE(
        int64_t bound,
        ParseDurationMicros(watermark, "source " + spec.name + ": watermark"));
    ARROW_ASSIGN_OR_RAISE(auto input, OpenInputTable(spec));
    return WithEventTime(std::move(input), event_time, bound);
  }
  if (!files && !watermark.empty()) spec.options["watermark"] = watermark;
  if (spec.format == "kafka") {
    if (!event_time.empty()) spec.options["event_time"] = event_time;
    if (spec.on_error == "reject" && spec.rejects_path.empty()) {
      spec.rejects_path = spec.name + ".rejects.jsonl";
    }
    return OpenKafkaInput(spec);
  }
  if (spec.format == "nexmark" && !event_time.empty() && event_time != "date_time") {
    return Status::Invalid("source ", spec.name,
                           ": Nexmark events have their time in date_time");
  }
  if (spec.format == "ecommerce" && !event_time.empty() && event_time != "order_time") {
    return Status::Invalid("source ", spec.name,
                           ": the orders have their time in order_time");
  }
  std::string format = spec.format;
  if (format.empty()) {
    std::string ext = fs::path(spec.path).extension().string();
    if (ext == ".gz" || ext == ".zst")
      ext = fs::path(spec.path).stem().extension().string();
    if (ext == ".parquet")
      format = "parquet";
    else if (ext == ".csv" || ext == ".tsv")
      format = "csv";
    else if (ext == ".json" || ext == ".jsonl" || ext == ".ndjson")
      format = "json";
    else if (ext == ".arrow" || ext == ".ipc" || ext == ".feather")
      format = "arrow";
    else
      return Status::Invalid("source ", spec.name, ": cannot tell the format of '",
                             spec.path, "': give format: parquet|csv|json|arrow");
  }
  if (format == "parquet") {
    if (spec.on_error != "fail") {
      return Status::Invalid("source ", spec.name,
                             ": on_error applies to csv and json sources");
    }
    ARROW_RETURN_NOT_OK(CheckKnown(spec, {"hive_partitioning"}));
    ParquetReadOptions o;
    auto it = spec.options.find("hive_partitioning");
    if (it != spec.options.end()) {
      ARROW_ASSIGN_OR_RAISE(o.hive_partitioning, ParseBoolOption(it->first, it->second));
    }
    ARROW_ASSIGN_OR_RAISE(auto t, ParquetTable::Open(spec.path, o));
    return std::make_shared<ParquetInput>(t);
  }
  if (format == "csv") return OpenText(spec, TextFormat::kCsv);
  if (format == "json" || format == "jsonl" || format == "ndjson") {
    return OpenText(spec, TextFormat::kJson);
  }
  if (format == "arrow" || format == "ipc" || format == "feather") return OpenIpc(spec);
  if (format == "nexmark") {
    if (spec.on_error != "fail") {
      return Status::Invalid("source ", spec.name,
                             ": on_error applies to csv and json sources");
    }
    return OpenNexmarkInput(spec);
  }
  if (format == "ecommerce") {
    if (spec.on_error != "fail") {
      return Status::Invalid("source ", spec.name,
                             ": on_error applies to csv and json sources");
    }
    return OpenEcommerceInput(spec);
  }
  return Status::Invalid("source ", spec.name, ": unknown format '", format,
                         "' (parquet, csv, json, arrow, nexmark or ecommerce)");
}

}  // namespace sluice::connector
