#include "sluice/connector/csv/csv_reader.h"

#include <arrow/array.h>
#include <arrow/memory_pool.h>
#include <arrow/type.h>
#include <arrow/util/value_parsing.h>

#include <algorithm>
#include <numeric>

#include "sluice/connector/csv/csv_column_decoder_internal.h"
#include "sluice/connector/csv/csv_record_source_internal.h"
#include "sluice/connector/csv/csv_tokenizer_internal.h"
#include "sluice/connector/csv/csv_value_parsing_internal.h"

namespace sluice::csv {

std::vector<std::string> CsvOptions::CommonNullValues() {
  return {"", "NULL", "null", "NA", "N/A", "NaN", "nan", "-NaN", "#N/A", "None"};
}

CsvReader::CsvReader() = default;
CsvReader::~CsvReader() = default;

Result<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path,
                                                   std::shared_ptr<arrow::Schema> schema,
                                                   std::vector<int> projection,
                                                   const CsvOptions& options,
                                                   BadRowHandler* bad_rows) {
  std::unique_ptr<CsvReader> reader(new CsvReader());
  ARROW_RETURN_NOT_OK(
      reader->Init(path, std::move(schema), std::move(projection), options, bad_rows));
  return reader;
}

Result<std::unique_ptr<CsvReader>> CsvReader::OpenStream(
    const std::string& name, std::shared_ptr<arrow::io::InputStream> stream,
    std::shared_ptr<arrow::Schema> schema, std::vector<int> projection,
    const CsvOptions& options, BadRowHandler* bad_rows) {
  std::unique_ptr<CsvReader> reader(new CsvReader());
  ARROW_RETURN_NOT_OK(reader->Init(name, std::move(schema), std::move(projection),
                                   options, bad_rows, std::move(stream)));
  return reader;
}

Status CsvReader::Init(const std::string& path, std::shared_ptr<arrow::Schema> schema,
                       std::vector<int> projection, const CsvOptions& options,
                       BadRowHandler* bad_rows,
                       std::shared_ptr<arrow::io::InputStream> stream) {
  if (schema == nullptr || schema->num_fields() == 0) {
    return Status::Invalid("reading '", path,
                           "': a CSV reader needs a schema with columns");
  }
  if (bad_rows == nullptr) {
    return Status::Invalid("reading '", path, "': a CSV reader needs a BadRowHandler");
  }
  path_ = path;
  options_ = options;
  schema_ = std::move(schema);
  bad_rows_ = bad_rows;
  const int num_fields = schema_->num_fields();
  if (projection.empty()) {
    projection.resize(num_fields);
    std::iota(projection.begin(), projection.end(), 0);
  }
  std::vector<std::shared_ptr<arrow::Field>> output_fields;
  for (int index : projection) {
    if (index < 0 || index >= num_fields) {
      return Status::Invalid("reading '", path, "': projection index ", index,
                             " is out of range for ", num_fields, " columns");
    }
    output_fields.push_back(schema_->field(index));
  }
  projection_ = std::move(projection);
  output_schema_ = arrow::schema(std::move(output_fields), schema_->metadata());

  null_values_ = std::make_unique<NullMatcher>(options.null_values);
  std::shared_ptr<arrow::TimestampParser> timestamp_parser;
  if (!options.timestamp_format.empty()) {
    timestamp_parser = arrow::TimestampParser::MakeStrptime(options.timestamp_format);
  }
  for (const auto& field : output_schema_->fields()) {
    DecoderOptions decoder_options;
    decoder_options.column_name = field->name();
    decoder_options.nulls = null_values_.get();
    decoder_options.quote = options.quote;
    decoder_options.escape = options.escape;
    decoder_options.timestamp_parser = timestamp_parser;
    decoder_options.pool = arrow::default_memory_pool();
    ARROW_ASSIGN_OR_RAISE(auto decoder,
                          ColumnDecoder::Make(field->type(), decoder_options));
    decoders_.push_back(std::move(decoder));
  }
  value_errors_.resize(decoders_.size());
  block_ = std::make_unique<ParsedBlock>();

  ARROW_ASSIGN_OR_RAISE(source_,
                        RecordSource::Open(path, options, options.header ? 0 : num_fields,
                                           std::move(stream)));
  if (options.header) {
    std::vector<std::string> names;
    ARROW_ASSIGN_OR_RAISE(bool any, source_->ReadHeader(&names));
    if (any && static_cast<int>(names.size()) != num_fields) {
      return Status::Invalid(path, ": the header has ", names.size(),
                             " fields, the schema has ", num_fields, " columns");
    }
    source_->tokenizer()->set_expected_fields(num_fields);
  }
  return Status::OK();
}

int64_t CsvReader::bytes_read() const {
  return source_ != nullptr ? source_->bytes_read() : 0;
}

Result<std::shared_ptr<arrow::RecordBatch>> CsvReader::Next() {
  if (!status_.ok()) return status_;
  auto result = ReadBatch();
  if (!result.ok()) status_ = result.status();
  return result;
}

Result<std::shared_ptr<arrow::RecordBatch>> CsvReader::ReadBatch() {
  if (finished_) return nullptr;
  const int64_t batch_rows = options_.batch_rows;
  int64_t good = 0;
  while (good < batch_rows) {
    ARROW_ASSIGN_OR_RAISE(bool more, source_->NextSlice(batch_rows - good, block_.get()));
    if (!more) {
      finished_ = true;
      break;
    }
    ARROW_ASSIGN_OR_RAISE(int64_t decoded, DecodeSlice());
    good += decoded;
  }
  if (good == 0) return nullptr;
  std::vector<std::shared_ptr<arrow::Array>> columns;
  columns.reserve(decoders_.size());
  for (auto& decoder : decoders_) {
    ARROW_DCHECK_EQ(decoder->length(), good);
    ARROW_ASSIGN_OR_RAISE(auto column, decoder->Finish());
    columns.push_back(std::move(column));
  }
  return arrow::RecordBatch::Make(output_schema_, good, std::move(columns));
}

Result<int64_t> CsvReader::DecodeSlice() {
  const ParsedBlock& block = *block_;
  const int64_t num_good = static_cast<int64_t>(block.records.size());
  rows_read_ += block.num_records();

  DecodeInput in;
  in.block = &block;
  in.stride = schema_->num_fields();
  in.ascii = source_->ascii();
  std::vector<int64_t> lengths(decoders_.size());
  bool any_value_error = false;
  for (size_t k = 0; k < decoders_.size(); ++k) {
    lengths[k] = decoders_[k]->length();
    value_errors_[k].clear();
    in.column = projection_[k];
    ARROW_RETURN_NOT_OK(decoders_[k]->Decode(in, &value_errors_[k]));
    any_value_error |= !value_errors_[k].empty();
  }
  int64_t appended = num_good;
  if (any_value_error) {
    // Rare: decode the slice again without the records that have a bad value, so that
    // all columns stay aligned.
    skip_.assign(num_good, 0);
    for (const auto& errors : value_errors_) {
      for (const ValueError& e : errors) skip_[e.record] = 1;
    }
    appended = num_good - std::count(skip_.begin(), skip_.end(), uint8_t{1});
    in.skip = skip_.data();
    std::vector<ValueError> none;
    for (size_t k = 0; k < decoders_.size(); ++k) {
      decoders_[k]->Truncate(lengths[k]);
      in.column = projection_[k];
      ARROW_RETURN_NOT_OK(decoders_[k]->Decode(in, &none));
    }
    ARROW_DCHECK(none.empty());
  }
  if (!block.bad.empty() || any_value_error) {
    // Report in file order; a record with several bad values is reported once, for its
    // first bad column.
    struct Entry {
      int64_t line;
      int column;  // output column of a value error; -1 for a malformed record
      const ValueError* value;
      const BadRecord* bad;
    };
    std::vector<Entry> entries;
    for (size_t k = 0; k < value_errors_.size(); ++k) {
      for (const ValueError& e : value_errors_[k]) {
        entries.push_back(
            Entry{block.records[e.record].line, static_cast<int>(k), &e, nullptr});
      }
    }
    for (const BadRecord& bad : block.bad)
      entries.push_back(Entry{bad.line, -1, nullptr, &bad});
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.line < b.line; });
    BadRow row;
    row.source = path_;
    int64_t last_line = -1;
    for (const Entry& entry : entries) {
      if (entry.line == last_line) continue;
      last_line = entry.line;
      row.line = entry.line;
      if (entry.bad != nullptr) {
        row.column.clear();
        row.reason = RecordErrorReason(*entry.bad, schema_->num_fields());
        row.raw = std::string_view(block.data + entry.bad->raw_begin,
                                   entry.bad->raw_end - entry.bad->raw_begin);
      } else {
        const ParsedRecord& record = block.records[entry.value->record];
        row.column = output_schema_->field(entry.column)->name();
        row.reason = entry.value->reason;
        row.raw = std::string_view(block.data + record.raw_begin,
                                   record.raw_end - record.raw_begin);
      }
      if (options_.place_bad_row) options_.place_bad_row(&row);
      ARROW_RETURN_NOT_OK(bad_rows_->Report(row));
      ++rows_rejected_;
    }
  }
  return appended;
}

}  // namespace sluice::csv
