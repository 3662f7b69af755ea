// InferSchema (declared in json_reader.h).
#include <map>
#include <string_view>

#include "sluice/connector/json/column_builder_internal.h"
#include "sluice/connector/json/iso8601_internal.h"
#include "sluice/connector/json/json_parser_internal.h"
#include "sluice/connector/json/json_reader.h"
#include "sluice/connector/json/line_reader_internal.h"

namespace sluice::json {

using internal::ondemand::json_type;

namespace ondemand = internal::ondemand;

namespace {

// What one value looked like (bits, so a key's history is their OR).
enum Kind : uint8_t {
  kNull = 1,
  kBool = 2,
  kInt = 4,
  kFloat = 8,
  kString = 16,
  kNested = 32,
};

struct Observation {
  std::string_view key;  // valid until the next line is parsed
  uint8_t kind = 0;
  bool is_date = false;       // a string that is YYYY-MM-DD
  bool is_timestamp = false;  // a string that is an ISO 8601 date(-time), exact in us
  bool has_zone = false;
};

struct KeyStats {
  std::string name;
  uint8_t kinds = 0;
  bool all_dates = true;
  bool all_timestamps = true;
  bool any_zone = false;

  void Add(const Observation& o) {
    kinds |= o.kind;
    if (o.kind == kString) {
      all_dates &= o.is_date;
      all_timestamps &= o.is_timestamp;
      any_zone |= o.has_zone;
    }
  }

  std::shared_ptr<arrow::DataType> Type() const {
    if (kinds & kNested) return arrow::utf8();
    if (kinds & kString) {
      if (kinds & (kBool | kInt | kFloat)) return arrow::utf8();
      if (all_dates) return arrow::date32();
      if (all_timestamps) {
        return any_zone ? arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")
                        : arrow::timestamp(arrow::TimeUnit::MICRO);
      }
      return arrow::utf8();
    }
    if (kinds & kBool)
      return (kinds & (kInt | kFloat)) ? arrow::utf8() : arrow::boolean();
    if (kinds & kFloat) return arrow::float64();
    if (kinds & kInt) return arrow::int64();
    return arrow::utf8();  // only nulls
  }
};

// Classifies (and validates) one value.
simdjson::error_code Observe(ondemand::value value, Observation* o) {
  json_type type;
  if (auto e = value.type().get(type)) return e;
  switch (type) {
    case json_type::null:
      o->kind = kNull;
      return internal::ValidateValue(value);
    case json_type::boolean:
      o->kind = kBool;
      return internal::ValidateValue(value);
    case json_type::object:
    case json_type::array:
      o->kind = kNested;
      return internal::ValidateValue(value);
    case json_type::number: {
      ondemand::number_type number_type;
      if (value.get_number_type().get(number_type)) return simdjson::NUMBER_ERROR;
      int64_t i;
      if (number_type == ondemand::number_type::signed_integer &&
          !value.get_int64().get(i)) {
        o->kind = kInt;
        return simdjson::SUCCESS;
      }
      o->kind = kFloat;  // a fraction, an exponent, or an integer beyond int64
      double d;
      return value.get_double().get(d) ? simdjson::NUMBER_ERROR : simdjson::SUCCESS;
    }
    case json_type::string: {
      o->kind = kString;
      std::string_view s;
      if (auto e = value.get_string().get(s)) return e;
      int32_t days;
      o->is_date = internal::ParseDate32(s, &days);
      internal::ParsedTimestamp ts;
      int64_t micros;
      o->is_timestamp = internal::ParseTimestamp(s, &ts) &&
                        internal::TimestampToUnit(ts, arrow::TimeUnit::MICRO, &micros);
      o->has_zone = o->is_timestamp && ts.has_zone;
      return simdjson::SUCCESS;
    }
  }
  return simdjson::TAPE_ERROR;
}

// Observes every value of a line; false if the line is not a valid JSON object.
bool ObserveLine(internal::Parser* parser, std::string_view line,
                 std::vector<Observation>* out) {
  ondemand::document doc;
  if (parser->Iterate(line, &doc)) return false;
  ondemand::object object;
  if (doc.get_object().get(object)) return false;
  for (auto field_result : object) {
    ondemand::field field;
    if (std::move(field_result).get(field)) return false;
    Observation o;
    if (field.unescaped_key().get(o.key)) return false;
    if (Observe(field.value(), &o)) return false;
    out->push_back(o);
  }
  const char* rest;
  return doc.current_location().get(rest) != simdjson::SUCCESS;  // no trailing content
}

}  // namespace

Result<std::shared_ptr<arrow::Schema>> InferSchema(const std::string& path,
                                                   const JsonOptions& options) {
  if (options.schema != nullptr) return options.schema;
  ARROW_ASSIGN_OR_RAISE(auto lines,
                        internal::LineReader::Open(path, options.compression));
  internal::Parser parser;
  std::vector<KeyStats> keys;  // first-seen order
  std::map<std::string, size_t, std::less<>> key_index;
  std::vector<Observation> observations;
  std::string_view line;
  for (int64_t n = 0; n < options.infer_rows; ++n) {
    ARROW_ASSIGN_OR_RAISE(bool more, lines->Next(&line));
    if (!more) break;
    observations.clear();
    // A bad line contributes nothing, not even its keys.
    if (!ObserveLine(&parser, line, &observations)) continue;
    for (const Observation& o : observations) {
      auto it = key_index.find(o.key);
      if (it == key_index.end()) {
        it = key_index.emplace(std::string(o.key), keys.size()).first;
        keys.push_back(KeyStats{std::string(o.key)});
      }
      keys[it->second].Add(o);
    }
  }
  std::vector<std::shared_ptr<arrow::Field>> fields;
  for (const KeyStats& key : keys) {
    auto override_type = options.column_types.find(key.name);
    fields.push_back(arrow::field(key.name, override_type != options.column_types.end()
                                                ? override_type->second
                                                : key.Type()));
  }
  for (const auto& [name, type] : options.column_types) {
    if (key_index.find(name) == key_index.end())
      fields.push_back(arrow::field(name, type));
  }
  return arrow::schema(std::move(fields));
}

}  // namespace sluice::json
