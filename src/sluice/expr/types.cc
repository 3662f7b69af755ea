#include "sluice/expr/types.h"

#include <algorithm>
#include <cctype>

namespace sluice::expr {

using arrow::Type;

bool IsInteger(const arrow::DataType& t) { return arrow::is_integer(t.id()); }
bool IsFloating(const arrow::DataType& t) { return arrow::is_floating(t.id()); }
bool IsDecimal(const arrow::DataType& t) { return arrow::is_decimal(t.id()); }
bool IsNumeric(const arrow::DataType& t) {
  return IsInteger(t) || IsFloating(t) || IsDecimal(t);
}
bool IsStringLike(const arrow::DataType& t) {
  return t.id() == Type::STRING || t.id() == Type::LARGE_STRING ||
         t.id() == Type::STRING_VIEW;
}
bool IsTemporal(const arrow::DataType& t) {
  return t.id() == Type::DATE32 || t.id() == Type::DATE64 || t.id() == Type::TIMESTAMP;
}

static int IntegerDigits(const arrow::DataType& t) {
  switch (t.id()) {
    case Type::INT8:
    case Type::UINT8:
      return 3;
    case Type::INT16:
    case Type::UINT16:
      return 5;
    case Type::INT32:
    case Type::UINT32:
      return 10;
    case Type::UINT64:
      return 20;
    default:
      return 19;
  }
}

Result<std::shared_ptr<arrow::DataType>> CommonType(
    const std::shared_ptr<arrow::DataType>& a,
    const std::shared_ptr<arrow::DataType>& b) {
  if (a->Equals(*b)) return a;
  if (a->id() == Type::NA) return b;
  if (b->id() == Type::NA) return a;
  if (IsInteger(*a) && IsInteger(*b)) {
    int wa = a->byte_width(), wb = b->byte_width();
    bool sa = arrow::is_signed_integer(a->id()), sb = arrow::is_signed_integer(b->id());
    if (sa == sb) return wa >= wb ? a : b;
    // Mixed signedness: a signed type wider than the unsigned one; for uint64 no
    // integer type holds both, so decimal(38, 0) does (exactly).
    int w = std::max(sa ? wa : wa * 2, sb ? wb : wb * 2);
    if (w <= 1) return arrow::int8();
    if (w <= 2) return arrow::int16();
    if (w <= 4) return arrow::int32();
    if (w <= 8) return arrow::int64();
    return arrow::decimal128(38, 0);
  }
  if (IsFloating(*a) || IsFloating(*b)) {
    if (IsNumeric(*a) && IsNumeric(*b)) {
      if (a->id() == Type::FLOAT && b->id() == Type::FLOAT) return a;
      return arrow::float64();
    }
  }
  if (IsDecimal(*a) || IsDecimal(*b)) {
    if (IsNumeric(*a) && IsNumeric(*b)) {
      auto digits = [](const arrow::DataType& t, int* whole, int* scale) {
        if (IsDecimal(t)) {
          const auto& d = static_cast<const arrow::DecimalType&>(t);
          *whole = d.precision() - d.scale();
          *scale = d.scale();
        } else {
          *whole = IntegerDigits(t);
          *scale = 0;
        }
      };
      int wa, sa, wb, sb;
      digits(*a, &wa, &sa);
      digits(*b, &wb, &sb);
      int scale = std::max(sa, sb);
      int precision = std::min(38, std::max(wa, wb) + scale);
      return arrow::decimal128(precision, scale);
    }
  }
  if (IsStringLike(*a) && IsStringLike(*b)) {
    if (a->id() == Type::LARGE_STRING || b->id() == Type::LARGE_STRING) {
      return arrow::large_utf8();
    }
    return arrow::utf8();
  }
  if (IsTemporal(*a) && IsTemporal(*b)) {
    if (a->id() == Type::TIMESTAMP && b->id() == Type::TIMESTAMP) {
      const auto& ta = static_cast<const arrow::TimestampType&>(*a);
      const auto& tb = static_cast<const arrow::TimestampType&>(*b);
      if (ta.timezone().empty() != tb.timezone().empty()) {
        return Status::Invalid("cannot combine ", a->ToString(), " and ", b->ToString(),
                               ": cast one side explicitly");
      }
      return ta.unit() >= tb.unit() ? a : b;
    }
    if (a->id() == Type::TIMESTAMP) return a;
    if (b->id() == Type::TIMESTAMP) return b;
    return arrow::date32();
  }
  if (a->id() == Type::BOOL && b->id() == Type::BOOL) return a;
  return Status::TypeError("no common type for ", TypeName(*a), " and ", TypeName(*b));
}

static std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

static std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Result<std::shared_ptr<arrow::DataType>> ParseTypeName(const std::string& text) {
  std::string t = Lower(Trim(text));
  // Collapse internal runs of spaces.
  std::string c;
  for (char ch : t) {
    if (ch == ' ' && !c.empty() && c.back() == ' ') continue;
    c.push_back(ch);
  }
  t = c;
  if (t == "bool" || t == "boolean") return arrow::boolean();
  if (t == "tinyint" || t == "int8") return arrow::int8();
  if (t == "smallint" || t == "int16" || t == "int2") return arrow::int16();
  if (t == "int" || t == "integer" || t == "int32" || t == "int4") return arrow::int32();
  if (t == "bigint" || t == "int64" || t == "long" || t == "int8 ") return arrow::int64();
  if (t == "utinyint" || t == "uint8") return arrow::uint8();
  if (t == "usmallint" || t == "uint16") return arrow::uint16();
  if (t == "uinteger" || t == "uint32") return arrow::uint32();
  if (t == "ubigint" || t == "uint64") return arrow::uint64();
  if (t == "float" || t == "real" || t == "float32" || t == "float4")
    return arrow::float32();
  if (t == "double" || t == "float64" || t == "double precision" || t == "float8") {
    return arrow::float64();
  }
  if (t == "varchar" || t == "text" || t == "string" || t == "utf8" || t == "char" ||
      t.rfind("varchar(", 0) == 0 || t.rfind("char(", 0) == 0) {
    return arrow::utf8();
  }
  if (t == "large_string" || t == "large_utf8") return arrow::large_utf8();
  if (t == "date" || t == "date32") return arrow::date32();
  if (t == "timestamp" || t == "datetime" || t == "timestamp without time zone") {
    return arrow::timestamp(arrow::TimeUnit::MICRO);
  }
  if (t == "timestamptz" || t == "timestamp with time zone") {
    return arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  }
  auto unit_of = [](const std::string& u) -> Result<arrow::TimeUnit::type> {
    if (u == "s") return arrow::TimeUnit::SECOND;
    if (u == "ms") return arrow::TimeUnit::MILLI;
    if (u == "us") return arrow::TimeUnit::MICRO;
    if (u == "ns") return arrow::TimeUnit::NANO;
    return Status::Invalid("unknown time unit '", u, "' (s, ms, us or ns)");
  };
  if (t.rfind("timestamp(", 0) == 0 && t.back() == ')') {
    // timestamp(us) or timestamp(us, UTC)
    std::string inner = t.substr(10, t.size() - 11);
    size_t comma = inner.find(',');
    std::string unit = Trim(inner.substr(0, comma));
    ARROW_ASSIGN_OR_RAISE(auto u, unit_of(unit));
    if (comma == std::string::npos) return arrow::timestamp(u);
    std::string tz = Trim(Trim(text).substr(10 + comma + 1));
    tz = Trim(tz.substr(0, tz.size() - 1));
    return arrow::timestamp(u, tz);
  }
  if ((t.rfind("decimal", 0) == 0 || t.rfind("numeric", 0) == 0)) {
    size_t open = t.find('(');
    if (open == std::string::npos) return arrow::decimal128(18, 3);
    size_t comma = t.find(',', open);
    size_t close = t.find(')', open);
    if (close == std::string::npos) return Status::Invalid("bad type '", text, "'");
    int p, s = 0;
    try {
      if (comma == std::string::npos) {
        p = std::stoi(t.substr(open + 1, close - open - 1));
      } else {
        p = std::stoi(t.substr(open + 1, comma - open - 1));
        s = std::stoi(t.substr(comma + 1, close - comma - 1));
      }
    } catch (...) {
      return Status::Invalid("bad decimal type '", text, "'");
    }
    if (p < 1 || p > 38 || s < 0 || s > p) {
      return Status::Invalid("decimal precision must be 1..38 and scale 0..precision: '",
                             text, "'");
    }
    return arrow::decimal128(p, s);
  }
  return Status::Invalid("unknown type '", text, "'");
}

std::string TypeName(const arrow::DataType& t) {
  switch (t.id()) {
    case Type::BOOL:
      return "boolean";
    case Type::INT8:
      return "tinyint";
    case Type::INT16:
      return "smallint";
    case Type::INT32:
      return "integer";
    case Type::INT64:
      return "bigint";
    case Type::FLOAT:
      return "float";
    case Type::DOUBLE:
      return "double";
    case Type::STRING:
    case Type::LARGE_STRING:
    case Type::STRING_VIEW:
      return "varchar";
    case Type::DATE32:
      return "date";
    default:
      return t.ToString();
  }
}

}  // namespace sluice::expr
