#include "sluice/connector/json/json_reader.h"

#include <arrow/memory_pool.h>

#include <cstring>

#include "sluice/connector/json/column_builder_internal.h"
#include "sluice/connector/json/json_parser_internal.h"
#include "sluice/connector/json/line_reader_internal.h"

namespace sluice::json {

using internal::AppendError;
using internal::AppendResult;
using internal::ondemand::json_type;

namespace ondemand = internal::ondemand;

namespace {

// Key positions remembered for the key-order hint (lines with more keys fall back to
// the hash lookup for the rest).
constexpr size_t kMaxHintedPositions = 1024;

}  // namespace

JsonReader::JsonReader() = default;
JsonReader::~JsonReader() = default;

Result<std::unique_ptr<JsonReader>> JsonReader::Open(
    const std::string& path, std::shared_ptr<arrow::Schema> schema,
    std::vector<int> projection, const JsonOptions& options, BadRowHandler* bad_rows) {
  ARROW_ASSIGN_OR_RAISE(auto reader, Make(path, std::move(schema), std::move(projection),
                                          options, bad_rows));
  Compression compression = options.compression;
  if (compression == Compression::kAuto) compression = CompressionFromPath(path);
  reader->compressed_ = compression != Compression::kNone;
  if (reader->compressed_) {
    ARROW_ASSIGN_OR_RAISE(reader->file_size_, FileSize(path));
  }
  ARROW_ASSIGN_OR_RAISE(reader->lines_, internal::LineReader::Open(path, compression));
  return reader;
}

Result<std::unique_ptr<JsonReader>> JsonReader::OpenStream(
    const std::string& name, std::shared_ptr<arrow::io::InputStream> stream,
    std::shared_ptr<arrow::Schema> schema, std::vector<int> projection,
    const JsonOptions& options, BadRowHandler* bad_rows) {
  ARROW_ASSIGN_OR_RAISE(auto reader, Make(name, std::move(schema), std::move(projection),
                                          options, bad_rows));
  ARROW_ASSIGN_OR_RAISE(reader->lines_,
                        internal::LineReader::FromStream(std::move(stream)));
  return reader;
}

Result<std::unique_ptr<JsonReader>> JsonReader::Make(
    const std::string& path, std::shared_ptr<arrow::Schema> schema,
    std::vector<int> projection, const JsonOptions& options, BadRowHandler* bad_rows) {
  if (schema == nullptr)
    return Status::Invalid("JSON reader for '", path, "': no schema");
  if (options.batch_rows < 1) {
    return Status::Invalid("JSON reader: batch_rows must be at least 1, not ",
                           options.batch_rows);
  }
  const int num_fields = schema->num_fields();
  if (projection.empty()) {
    for (int i = 0; i < num_fields; ++i) projection.push_back(i);
  }
  std::unique_ptr<JsonReader> reader(new JsonReader());
  reader->path_ = path;
  reader->batch_rows_ = options.batch_rows;
  reader->bad_rows_ = bad_rows;
  reader->slot_of_field_.assign(num_fields, -1);
  std::vector<std::shared_ptr<arrow::Field>> output_fields;
  for (int index : projection) {
    if (index < 0 || index >= num_fields) {
      return Status::Invalid("JSON reader: projection index ", index,
                             " out of range for ", num_fields, " columns");
    }
    if (reader->slot_of_field_[index] >= 0) {
      return Status::Invalid("JSON reader: column ", index, " projected twice");
    }
    reader->slot_of_field_[index] = static_cast<int>(output_fields.size());
    const auto& field = schema->field(index);
    ARROW_ASSIGN_OR_RAISE(
        auto column, internal::ColumnBuilder::Make(*field, arrow::default_memory_pool()));
    reader->columns_.push_back(std::move(column));
    output_fields.push_back(field);
  }
  reader->output_schema_ = arrow::schema(std::move(output_fields));

  // names_ is complete before field_of_name_ takes views into it.
  for (const auto& field : schema->fields()) reader->names_.push_back(field->name());
  for (int i = 0; i < num_fields; ++i) {
    if (!reader->field_of_name_.emplace(reader->names_[i], i).second) {
      return Status::Invalid("JSON reader: column name '", reader->names_[i],
                             "' appears twice in the schema");
    }
  }

  reader->parser_ = std::make_unique<internal::Parser>();
  reader->place_bad_row_ = options.place_bad_row;
  return reader;
}

int64_t JsonReader::bytes_read() const {
  if (!compressed_) return lines_->stream_bytes();
  return lines_->at_end() ? file_size_ : 0;
}

inline int JsonReader::Lookup(std::string_view key, size_t position) {
  if (position < field_at_position_.size()) {
    const int hint = field_at_position_[position];
    if (hint >= 0) {
      std::string_view name = names_[hint];
      if (name.size() == key.size() &&
          std::memcmp(name.data(), key.data(), key.size()) == 0) {
        return slot_of_field_[hint];
      }
    }
  }
  auto it = field_of_name_.find(key);
  const int field = it == field_of_name_.end() ? -1 : it->second;
  if (position < kMaxHintedPositions) {
    if (position >= field_at_position_.size())
      field_at_position_.resize(position + 1, -1);
    field_at_position_[position] = field;
  }
  return field < 0 ? -1 : slot_of_field_[field];
}

Result<bool> JsonReader::ReadRow(std::string_view line, int64_t row, BadRow* bad) {
  bad->column.clear();
  bad->reason.clear();
  auto reject = [&](int slot) {
    if (slot >= 0) bad->column = columns_[slot]->name();
    for (auto& column : columns_) column->Rewind(row);
    return false;
  };
  auto invalid_json = [&](simdjson::error_code e) {
    bad->reason = std::string("invalid JSON: ") + simdjson::error_message(e);
    return reject(-1);
  };

  const char* line_end = line.data() + line.size();
  ondemand::document doc;
  if (auto e = parser_->Iterate(line, &doc)) return invalid_json(e);
  json_type type;
  if (auto e = doc.type().get(type)) return invalid_json(e);
  if (type != json_type::object) {
    bad->reason = std::string("not a JSON object (found ") +
                  (type == json_type::array ? "array" : "a scalar") + ")";
    return reject(-1);
  }
  ondemand::object object;
  if (auto e = doc.get_object().get(object)) return invalid_json(e);

  // After a value that does not fit its column, the rest of the line is still read
  // (validated only): invalid JSON anywhere in the line takes precedence.
  int bad_slot = -1;
  AppendError error;
  size_t position = 0;
  for (auto field_result : object) {
    ondemand::field field;
    if (auto e = std::move(field_result).get(field)) return invalid_json(e);
    // The key as written, when it has no escapes (almost always): unescaping would
    // copy it. The closing quote is the first one, as no backslash precedes it.
    std::string_view key;
    const char* raw_key = field.key().raw();
    const char* p = raw_key;
    while (p < line_end && *p != '"' && *p != '\\') ++p;
    if (p < line_end && *p == '"') {
      key = std::string_view(raw_key, static_cast<size_t>(p - raw_key));
    } else if (auto e = field.unescaped_key().get(key)) {
      return invalid_json(e);
    }
    const int slot = Lookup(key, position++);
    ondemand::value& value = field.value();
    if (slot < 0 || bad_slot >= 0) {
      if (auto e = internal::ValidateValue(value)) return invalid_json(e);
      continue;
    }
    internal::ColumnBuilder* column = columns_[slot].get();
    if (column->length() > row) column->Rewind(row);  // a repeated key: the last one wins
    switch (column->Append(value, doc, &error)) {
      case AppendResult::kOk:
        break;
      case AppendResult::kInvalidJson:
        return invalid_json(error.json_error);
      case AppendResult::kBadValue:
        bad_slot = slot;
        break;
      case AppendResult::kError:
        return error.status;
    }
  }
  // Anything after the object's closing brace ({"a":1} {"b":2}).
  const char* rest;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) {
    return invalid_json(simdjson::TRAILING_CONTENT);
  }
  if (bad_slot >= 0) {
    bad->reason = std::move(error.reason);
    return reject(bad_slot);
  }
  for (auto& column : columns_) {
    if (column->length() == row) column->AppendNull();
  }
  return true;
}

Result<std::shared_ptr<arrow::RecordBatch>> JsonReader::Next() {
  if (!status_.ok()) return status_;
  if (finished_) return nullptr;
  auto fail = [this](Status st) {
    status_ = std::move(st);
    return status_;
  };
  for (auto& column : columns_) {
    Status st = column->Reserve(batch_rows_);
    if (!st.ok()) return fail(std::move(st));
  }
  BadRow bad;
  bad.source = path_;
  int64_t rows = 0;
  std::string_view line;
  while (rows < batch_rows_) {
    Result<bool> more = lines_->Next(&line);
    if (!more.ok()) return fail(more.status());
    if (!*more) {
      finished_ = true;
      break;
    }
    ++rows_read_;
    Result<bool> good = ReadRow(line, rows, &bad);
    if (!good.ok()) return fail(good.status());
    if (*good) {
      ++rows;
      continue;
    }
    ++rows_rejected_;
    bad.source = path_;
    bad.line = lines_->line_number();
    bad.raw = line;
    if (place_bad_row_) place_bad_row_(&bad);
    Status st = bad_rows_ != nullptr ? bad_rows_->Report(bad)
                                     : Status::Invalid(FormatBadRow(bad));
    if (!st.ok()) return fail(std::move(st));
  }
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  arrays.reserve(columns_.size());
  for (auto& column : columns_) {
    Result<std::shared_ptr<arrow::Array>> array = column->Finish();
    if (!array.ok()) return fail(array.status());
    arrays.push_back(std::move(*array));
  }
  if (rows == 0) return nullptr;
  return arrow::RecordBatch::Make(output_schema_, rows, std::move(arrays));
}

}  // namespace sluice::json
