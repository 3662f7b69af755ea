// InferSchema (declared in csv_reader.h).
#include <arrow/type.h>
#include <arrow/util/value_parsing.h>

#include "sluice/connector/csv/csv_reader.h"
#include "sluice/connector/csv/csv_record_source_internal.h"
#include "sluice/connector/csv/csv_tokenizer_internal.h"
#include "sluice/connector/csv/csv_value_parsing_internal.h"

namespace sluice::csv {

namespace {

// Whether a strptime format reads a time of day / a UTC offset.
bool FormatHas(const std::string& format, const char* conversions) {
  for (size_t i = 0; i + 1 < format.size(); ++i) {
    if (format[i] != '%') continue;
    char c = format[++i];
    for (const char* p = conversions; *p != '\0'; ++p) {
      if (c == *p) return true;
    }
  }
  return false;
}

struct InferenceContext {
  const NullMatcher* nulls;
  char quote;
  char escape;
  const arrow::TimestampParser* custom;  // null: ISO 8601
  bool custom_has_time;
  bool custom_has_zone;
};

// The candidate types still possible for one column. A value rules candidates out;
// the narrowest candidate left wins.
class ColumnGuess {
 public:
  void Add(const char* data, FieldRef f, const InferenceContext& ctx,
           std::string* scratch) {
    if (!can_int_ && !can_float_ && !can_bool_ && !can_date_ && !can_time_) return;
    const char* s = data + f.begin;
    int64_t n = f.length;
    if (f.escaped) {
      scratch->resize(f.length);
      n = UnescapeField(s, n, f.quoted, ctx.quote, ctx.escape, scratch->data());
      s = scratch->data();
    } else if (!f.quoted && ctx.nulls->Matches(s, n)) {
      return;
    }
    TrimSpaces(&s, &n);
    if (n == 0) return;  // null in every non-string type
    any_value_ = true;
    if (can_int_) {
      int64_t v;
      can_int_ = ParseInt64(s, n, &v) == ParseStatus::kOk;
    }
    if (can_float_ && !can_int_) {
      double v;
      can_float_ = ParseDouble(s, n, &v) == ParseStatus::kOk;
    }
    if (can_bool_) {
      bool v;
      can_bool_ = ParseBool(s, n, /*strict=*/true, &v) == ParseStatus::kOk;
    }
    if (ctx.custom != nullptr) {
      can_date_ = false;
      if (can_time_) {
        int64_t v;
        can_time_ = (*ctx.custom)(s, static_cast<size_t>(n), arrow::TimeUnit::SECOND, &v);
      }
    } else if (can_date_ || can_time_) {
      IsoTimestamp ts;
      if (ParseIsoTimestamp(s, n, &ts) != ParseStatus::kOk ||
          (ts.has_time && !ts.has_seconds)) {
        can_date_ = can_time_ = false;
      } else {
        if (ts.has_time) can_date_ = false;
        has_zone_ |= ts.has_zone;
      }
    }
  }

  std::shared_ptr<arrow::DataType> Type(const InferenceContext& ctx) const {
    if (!any_value_) return arrow::utf8();
    if (can_int_) return arrow::int64();
    if (can_float_) return arrow::float64();
    if (can_bool_) return arrow::boolean();
    if (ctx.custom != nullptr) {
      if (!can_time_) return arrow::utf8();
      if (!ctx.custom_has_time) return arrow::date32();
      return arrow::timestamp(arrow::TimeUnit::MICRO, ctx.custom_has_zone ? "UTC" : "");
    }
    if (can_date_) return arrow::date32();
    if (can_time_)
      return arrow::timestamp(arrow::TimeUnit::MICRO, has_zone_ ? "UTC" : "");
    return arrow::utf8();
  }

 private:
  bool any_value_ = false;
  bool can_int_ = true;
  bool can_float_ = true;
  bool can_bool_ = true;
  bool can_date_ = true;  // ISO only: every value a date without time
  bool can_time_ = true;  // every value a date or a date-time (or matches the format)
  bool has_zone_ = false;
};

}  // namespace

Result<std::shared_ptr<arrow::Schema>> InferSchema(const std::string& path,
                                                   const CsvOptions& options) {
  if (options.schema != nullptr) return options.schema;
  ARROW_ASSIGN_OR_RAISE(auto source,
                        RecordSource::Open(path, options, /*expected_fields=*/0));
  std::vector<std::string> names;
  bool have_names = false;
  if (options.header) {
    ARROW_ASSIGN_OR_RAISE(bool any, source->ReadHeader(&names));
    if (!any) {
      return Status::Invalid("cannot infer the schema of '", path,
                             "': the file is empty");
    }
    have_names = true;
  } else if (!options.column_names.empty()) {
    names = options.column_names;
    have_names = true;
  }

  NullMatcher nulls(options.null_values);
  std::shared_ptr<arrow::TimestampParser> custom;
  if (!options.timestamp_format.empty()) {
    custom = arrow::TimestampParser::MakeStrptime(options.timestamp_format);
  }
  InferenceContext ctx{&nulls,
                       options.quote,
                       options.escape,
                       custom.get(),
                       FormatHas(options.timestamp_format, "HIMSTRrcsXpklf"),
                       FormatHas(options.timestamp_format, "z")};

  int64_t num_columns = have_names ? static_cast<int64_t>(names.size()) : -1;
  std::vector<ColumnGuess> guesses(have_names ? names.size() : 0);
  int64_t matched = 0;
  int64_t other_count = -1;  // field count of a record that does not match
  ParsedBlock block;
  std::string scratch;
  int64_t sampled = 0;
  while (sampled < options.infer_rows) {
    ARROW_ASSIGN_OR_RAISE(bool more,
                          source->NextSlice(options.infer_rows - sampled, &block));
    if (!more) break;
    sampled += block.num_records();
    for (const ParsedRecord& record : block.records) {
      if (num_columns < 0) {
        num_columns = record.num_fields;
        guesses.resize(record.num_fields);
      }
      if (record.num_fields != num_columns) {
        other_count = record.num_fields;
        continue;  // malformed: ignored for inference
      }
      ++matched;
      for (int64_t c = 0; c < num_columns; ++c) {
        guesses[c].Add(block.data, block.fields[record.first_field + c], ctx, &scratch);
      }
    }
  }
  if (num_columns < 0) {
    return Status::Invalid(
        "cannot infer the schema of '", path,
        "': the file has no rows (set column_names or an explicit schema)");
  }
  if (matched == 0 && other_count >= 0) {
    return Status::Invalid(
        "cannot infer the schema of '", path,
        "': ", options.header ? "the header has " : "column_names has ", num_columns,
        " names but the rows have ", other_count, " fields");
  }

  std::vector<std::shared_ptr<arrow::Field>> fields;
  for (int64_t c = 0; c < num_columns; ++c) {
    std::string name = have_names ? names[c] : "";
    if (name.empty()) name = "column" + std::to_string(c);
    fields.push_back(arrow::field(name, guesses[c].Type(ctx)));
  }
  for (const auto& [name, type] : options.column_types) {
    bool found = false;
    for (auto& field : fields) {
      if (field->name() == name) {
        field = arrow::field(name, type);
        found = true;
      }
    }
    if (!found) {
      return Status::Invalid("column_types names column '", name, "', which '", path,
                             "' does not have");
    }
  }
  return arrow::schema(std::move(fields));
}

}  // namespace sluice::csv
