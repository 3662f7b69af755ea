#include <cstring>

#include "sluice/connector/csv/csv_tokenizer_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

#include "sluice/base/status.h"
#include "sluice/connector/csv/csv_reader.h"

namespace sluice::csv {

std::string RecordErrorReason(const BadRecord& bad, int32_t expected_fields) {
  switch (bad.error) {
    case RecordError::kFieldCount:
      return fmt::format("expected {} fields, found {}", expected_fields, bad.num_fields);
    case RecordError::kUnterminatedQuote:
      return "unterminated quoted field (the file ends inside quotes)";
    case RecordError::kCharAfterQuote: {
      unsigned char c = static_cast<unsigned char>(bad.bad_char);
      std::string shown = c >= 0x20 && c < 0x7f ? std::string(1, bad.bad_char)
                                                : fmt::format("\\x{:02x}", c);
      return fmt::format("unexpected '{}' after closing quote", shown);
    }
  }
  return "malformed record";
}

namespace {

// Finds the first of up to three characters (repeat one when fewer are needed) from `p`.
// REQUIRES: one of them occurs at or before the sentinel, and 16 bytes can be read from
// any position up to the sentinel.
class CharFinder {
 public:
  CharFinder(char a, char b, char c) {
#if defined(__SSE2__)
    a_ = _mm_set1_epi8(a);
    b_ = _mm_set1_epi8(b);
    c_ = _mm_set1_epi8(c);
#else
    std::memset(table_, 0, sizeof(table_));
    table_[static_cast<uint8_t>(a)] = table_[static_cast<uint8_t>(b)] =
        table_[static_cast<uint8_t>(c)] = true;
#endif
  }

  const char* Find(const char* p) const {
#if defined(__SSE2__)
    for (;;) {
      __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      __m128i hits =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, a_), _mm_cmpeq_epi8(chunk, b_)),
                       _mm_cmpeq_epi8(chunk, c_));
      int mask = _mm_movemask_epi8(hits);
      if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
      p += 16;
    }
#else
    while (!table_[static_cast<uint8_t>(*p)]) ++p;
    return p;
#endif
  }

 private:
#if defined(__SSE2__)
  __m128i a_, b_, c_;
#else
  bool table_[256];
#endif
};

}  // namespace

CsvTokenizer::CsvTokenizer(const CsvOptions& options, int32_t expected_fields)
    : delimiter_(options.delimiter),
      quote_(options.quote),
      escape_(options.escape),
      expected_fields_(expected_fields) {}

int64_t CsvTokenizer::Parse(const char* data, int64_t size, bool final,
                            int64_t max_records, int64_t* line, ParsedBlock* out) const {
  ARROW_DCHECK_EQ(data[size], '\n');
  if (quote_ != '\0') {
    if (escape_ != '\0')
      return ParseImpl<true, true>(data, size, final, max_records, line, out);
    return ParseImpl<true, false>(data, size, final, max_records, line, out);
  }
  if (escape_ != '\0')
    return ParseImpl<false, true>(data, size, final, max_records, line, out);
  return ParseImpl<false, false>(data, size, final, max_records, line, out);
}

// One pass over the bytes. Invariants: `p` never passes `end`, and *end == '\n', so each
// scanning loop stops at `end` without a bounds check; after it, `p == end` tells the
// sentinel from a real line ending. A lookahead at p[1] with p + 1 == end sees the
// sentinel: unless `final`, the record is then incomplete (the next byte is unknown).
template <bool kQuoting, bool kEscaping>
int64_t CsvTokenizer::ParseImpl(const char* data, int64_t size, bool final,
                                int64_t max_records, int64_t* line_io,
                                ParsedBlock* out) const {
  out->Clear();
  out->data = data;
  const char* p = data;
  const char* const end = data + size;
  const char delim = delimiter_;
  const char quote = quote_;
  const char escape = escape_;
  const int32_t expected = expected_fields_;
  std::vector<FieldRef>& fields = out->fields;
  const CharFinder find_unquoted(delim, '\n', kEscaping ? escape : '\n');
  const CharFinder find_quoted(kQuoting ? quote : '\n', '\n', kEscaping ? escape : '\n');
  int64_t line = *line_io;
  int64_t num_records = 0;

  auto offset = [data](const char* q) { return static_cast<uint32_t>(q - data); };

  while (num_records < max_records && p < end) {
    // Empty lines are not records.
    if (*p == '\n') {
      ++p;
      ++line;
      continue;
    }
    if (*p == '\r' && p[1] == '\n') {
      if (p + 1 == end) {
        if (!final) break;
        p = end;  // a last "\r" with nothing else: an empty line
        break;
      }
      p += 2;
      ++line;
      continue;
    }

    const char* const record_begin = p;
    const int64_t record_line = line;
    const size_t first_field = fields.size();
    uint32_t num_fields = 0;
    bool bad = false;
    RecordError error = RecordError::kFieldCount;
    char bad_char = 0;
    const char* record_end;

    for (;;) {
      const char* field_begin;
      const char* field_end;
      bool quoted = false;
      bool escaped = false;
      if (kQuoting && *p == quote) {
        quoted = true;
        field_begin = ++p;
        for (;;) {
          p = find_quoted.Find(p);
          if (p == end) goto incomplete;
          if (*p == '\n') {
            ++line;
            ++p;
            continue;
          }
          if (kEscaping && *p == escape) {
            if (p + 1 == end) goto incomplete;
            if (p[1] == '\n') ++line;
            escaped = true;
            p += 2;
            continue;
          }
          // A quote: doubled, or the closing one. (At the end of the input, not final, it
          // is taken as closing; the check after the closing quote then defers the
          // record.)
          if (p[1] == quote && p + 1 < end) {
            escaped = true;
            p += 2;
            continue;
          }
          break;
        }
        field_end = p++;
        // After the closing quote: a delimiter, a line ending or the end of input.
        if (p == end) {
          if (!final) goto incomplete;
        } else if (*p == '\r' && p[1] == '\n') {
          if (p + 1 == end && !final) goto incomplete;
          ++p;  // now at the '\n' (or at the sentinel when final)
        } else if (*p != delim && *p != '\n') {
          if (!bad) {
            bad = true;
            error = RecordError::kCharAfterQuote;
            bad_char = *p;
          }
          while (*p != delim && *p != '\n') ++p;
          if (p == end && !final) goto incomplete;
        }
      } else {
        field_begin = p;
        for (;;) {
          p = find_unquoted.Find(p);
          if (kEscaping && *p == escape && p != end) {
            if (p + 1 == end) {
              if (!final) goto incomplete;
              ++p;  // an escape character as the very last byte stays data
              break;
            }
            if (p[1] == '\n') ++line;
            escaped = true;
            p += 2;
            continue;
          }
          break;
        }
        if (p == end && !final) goto incomplete;
        field_end = p;
        // "\r\n" ends the line: the '\r' is not data.
        if (*p == '\n' && field_end > field_begin && field_end[-1] == '\r') --field_end;
      }

      if (expected == 0 || num_fields < static_cast<uint32_t>(expected)) {
        FieldRef f;
        f.begin = offset(field_begin);
        f.length = static_cast<uint32_t>(field_end - field_begin);
        f.quoted = quoted;
        f.escaped = escaped;
        fields.push_back(f);
      }
      ++num_fields;

      if (p == end) {  // end of input without a final line ending (only when final)
        record_end = end;
        if (record_end > record_begin && record_end[-1] == '\r') --record_end;
        break;
      }
      if (*p == delim) {
        ++p;
        continue;
      }
      // *p == '\n'
      record_end = p;
      if (record_end > record_begin && record_end[-1] == '\r') --record_end;
      ++p;
      ++line;
      break;
    }

    ++num_records;
    if (!bad && expected > 0 && num_fields != static_cast<uint32_t>(expected)) bad = true;
    if (bad) {
      fields.resize(first_field);
      out->bad.push_back(BadRecord{record_line, offset(record_begin), offset(record_end),
                                   num_fields, error, bad_char});
    } else {
      out->records.push_back(
          ParsedRecord{record_line, offset(record_begin), offset(record_end),
                       static_cast<uint32_t>(first_field), num_fields});
    }
    continue;

  incomplete:
    fields.resize(first_field);
    if (!final) {
      // Leave the record for the next call, which will have more bytes.
      p = record_begin;
      line = record_line;
      break;
    }
    // The input ends inside quotes: the rest of the input is one bad record.
    {
      const char* raw_end = end;
      if (raw_end > record_begin && raw_end[-1] == '\n') --raw_end;
      if (raw_end > record_begin && raw_end[-1] == '\r') --raw_end;
      out->bad.push_back(BadRecord{record_line, offset(record_begin), offset(raw_end),
                                   num_fields, RecordError::kUnterminatedQuote, 0});
    }
    ++num_records;
    p = end;
    break;
  }
  *line_io = line;
  return p - data;
}

int64_t UnescapeField(const char* text, int64_t length, bool quoted, char quote,
                      char escape, char* out) {
  int64_t o = 0;
  for (int64_t i = 0; i < length; ++i) {
    char c = text[i];
    if (escape != '\0' && c == escape && i + 1 < length) {
      out[o++] = text[++i];
    } else if (quoted && c == quote) {
      // Inside a quoted field a quote only appears doubled.
      out[o++] = c;
      if (i + 1 < length && text[i + 1] == quote) ++i;
    } else {
      out[o++] = c;
    }
  }
  return o;
}

}  // namespace sluice::csv
