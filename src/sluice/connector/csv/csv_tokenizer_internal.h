#pragma once
// Splitting CSV bytes into records and fields (no value conversion).
//
// The tokenizer never copies field bytes: a field is an offset and length into the
// block it was parsed from, with flags saying whether it was quoted and whether it
// contains escapes (doubled quotes or escape characters) that UnescapeField() removes.
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::csv {

struct CsvOptions;

/// One field of a parsed block. For a quoted field, [begin, begin + length) excludes
/// the surrounding quotes.
struct FieldRef {
  uint32_t begin;
  uint32_t length : 30;
  uint32_t quoted : 1;
  uint32_t escaped : 1;
};

/// Largest record (and block) the tokenizer accepts: field lengths have 30 bits.
constexpr int64_t kMaxRecordBytes = int64_t{1} << 30;
/// Readable bytes the tokenizer needs after the end of its input (sentinel included).
constexpr int64_t kTokenizerPadding = 16;

/// A well-formed record: its fields are fields[first_field, first_field + num_fields).
struct ParsedRecord {
  int64_t line;        // physical line of the record's first byte (1-based)
  uint32_t raw_begin;  // [raw_begin, raw_end): the record's text without line ending
  uint32_t raw_end;
  uint32_t first_field;
  uint32_t num_fields;
};

enum class RecordError : uint8_t { kFieldCount, kUnterminatedQuote, kCharAfterQuote };

/// A malformed record (not stored in `records`).
struct BadRecord {
  int64_t line;
  uint32_t raw_begin;
  uint32_t raw_end;
  uint32_t num_fields;  // fields found (kFieldCount)
  RecordError error;
  char bad_char;  // the character after the closing quote (kCharAfterQuote)
};

/// The records of one slice of bytes, in file order (good and bad interleave in the
/// file; `line` orders them).
struct ParsedBlock {
  const char* data = nullptr;  // base of all offsets
  std::vector<FieldRef> fields;
  std::vector<ParsedRecord> records;
  std::vector<BadRecord> bad;

  int64_t num_records() const {
    return static_cast<int64_t>(records.size() + bad.size());
  }
  void Clear() {
    fields.clear();
    records.clear();
    bad.clear();
  }
};

/// Human-readable reason for a bad record, e.g. "expected 4 fields, found 3".
std::string RecordErrorReason(const BadRecord& bad, int32_t expected_fields);

class CsvTokenizer {
 public:
  /// `expected_fields` > 0: records with another field count are bad (kFieldCount) and
  /// only well-formed records have their fields stored. 0: any count is accepted.
  CsvTokenizer(const CsvOptions& options, int32_t expected_fields);

  void set_expected_fields(int32_t n) { expected_fields_ = n; }
  int32_t expected_fields() const { return expected_fields_; }

  /// Parses complete records from data[0, size) into `out` (cleared first; out->data
  /// is set to `data`), at most `max_records` of them (good + bad), skipping empty lines.
  /// `*line` is the line number of data[0] on entry and of the first unconsumed byte on
  /// return. Returns the number of bytes consumed: everything up to the first record
  /// that is incomplete (it may continue beyond `size`), or all of it when `final`
  /// (end of input: a missing last line ending is fine, an open quote is a bad record).
  ///
  /// REQUIRES: data[size] == '\n' (a sentinel that ends the scanning loops), and
  /// kTokenizerPadding bytes readable from data + size (16-byte loads); size <
  /// kMaxRecordBytes.
  int64_t Parse(const char* data, int64_t size, bool final, int64_t max_records,
                int64_t* line, ParsedBlock* out) const;

 private:
  template <bool kQuoting, bool kEscaping>
  int64_t ParseImpl(const char* data, int64_t size, bool final, int64_t max_records,
                    int64_t* line, ParsedBlock* out) const;

  char delimiter_;
  char quote_;
  char escape_;
  int32_t expected_fields_;
};

/// Writes the value of an escaped field (FieldRef::escaped) to `out`, which must have
/// room for `length` bytes; returns the unescaped length. In a quoted field a doubled
/// quote becomes one; with `escape` set the escape character is dropped and the next
/// character kept.
int64_t UnescapeField(const char* text, int64_t length, bool quoted, char quote,
                      char escape, char* out);

}  // namespace sluice::csv
