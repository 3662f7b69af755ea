#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sluice/connector/csv/csv_reader.h"
#include "sluice/connector/csv/csv_tokenizer_internal.h"

namespace sluice::csv {
namespace {

struct Tokenized {
  int64_t consumed = 0;
  int64_t end_line = 0;
  std::vector<std::vector<std::string>> records;  // unescaped field values
  std::vector<std::vector<bool>> quoted;
  std::vector<int64_t> lines;
  std::vector<std::string> raws;
  std::vector<BadRecord> bad;
  std::vector<std::string> bad_raws;
};

Tokenized Tokenize(const std::string& text, const CsvOptions& options, int32_t expected,
                   bool final, int64_t max_records = 1 << 30, int64_t first_line = 1) {
  // The tokenizer's contract: a '\n' sentinel and readable padding after the input.
  std::string padded = text + '\n' + std::string(kTokenizerPadding, 'P');
  CsvTokenizer tokenizer(options, expected);
  ParsedBlock block;
  Tokenized out;
  out.end_line = first_line;
  out.consumed = tokenizer.Parse(padded.data(), static_cast<int64_t>(text.size()), final,
                                 max_records, &out.end_line, &block);
  EXPECT_EQ(block.data, padded.data());
  for (const ParsedRecord& r : block.records) {
    std::vector<std::string> values;
    std::vector<bool> quoted;
    for (uint32_t i = 0; i < r.num_fields; ++i) {
      const FieldRef& f = block.fields[r.first_field + i];
      std::string value(f.length, '\0');
      if (f.escaped) {
        value.resize(UnescapeField(block.data + f.begin, f.length, f.quoted,
                                   options.quote, options.escape, value.data()));
      } else {
        value.assign(block.data + f.begin, f.length);
      }
      values.push_back(value);
      quoted.push_back(f.quoted);
    }
    out.records.push_back(values);
    out.quoted.push_back(quoted);
    out.lines.push_back(r.line);
    out.raws.emplace_back(block.data + r.raw_begin, r.raw_end - r.raw_begin);
  }
  out.bad = block.bad;
  for (const BadRecord& b : block.bad)
    out.bad_raws.emplace_back(block.data + b.raw_begin, b.raw_end - b.raw_begin);
  return out;
}

using Records = std::vector<std::vector<std::string>>;

TEST(CsvTokenizerTest, SimpleRecordsAndLines) {
  Tokenized t = Tokenize("a,b\n\nc,d\r\n\r\ne,\n", CsvOptions{}, 0, false);
  EXPECT_EQ(t.records, (Records{{"a", "b"}, {"c", "d"}, {"e", ""}}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(t.raws, (std::vector<std::string>{"a,b", "c,d", "e,"}));
  EXPECT_EQ(t.consumed, 15);
  EXPECT_EQ(t.end_line, 6);
}

TEST(CsvTokenizerTest, QuotedFields) {
  Tokenized t =
      Tokenize("\"a,b\",\"x\"\"y\",\"\"\n\"multi\nline\",z\n", CsvOptions{}, 0, true);
  EXPECT_EQ(t.records, (Records{{"a,b", "x\"y", ""}, {"multi\nline", "z"}}));
  EXPECT_EQ(t.quoted[0], (std::vector<bool>{true, true, true}));
  EXPECT_EQ(t.quoted[1], (std::vector<bool>{true, false}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(t.end_line, 4);
}

TEST(CsvTokenizerTest, IncompleteRecordIsLeftForLater) {
  // Without `final`, the record after the last line ending is not consumed.
  Tokenized t = Tokenize("a,b\nc,d", CsvOptions{}, 0, false);
  EXPECT_EQ(t.records, (Records{{"a", "b"}}));
  EXPECT_EQ(t.consumed, 4);
  EXPECT_EQ(t.end_line, 2);
  t = Tokenize("a,b\nc,d", CsvOptions{}, 0, true);
  EXPECT_EQ(t.records, (Records{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(t.consumed, 7);

  // Open quote, a quote that could be the first of a doubled one, a '\r' that could
  // start "\r\n": all need the next byte.
  for (std::string tail : {"\"x\ny", "\"x\"", "x\r", "\"x\"\r", "\r"}) {
    t = Tokenize("a\n" + tail, CsvOptions{}, 0, false);
    EXPECT_EQ(t.records, (Records{{"a"}})) << tail;
    EXPECT_EQ(t.consumed, 2) << tail;
    EXPECT_EQ(t.end_line, 2) << tail;
  }
  t = Tokenize("\"x\"", CsvOptions{}, 0, true);
  EXPECT_EQ(t.records, (Records{{"x"}}));
  t = Tokenize("x\r", CsvOptions{}, 0, true);
  EXPECT_EQ(t.records, (Records{{"x"}}));
  EXPECT_EQ(t.raws, (std::vector<std::string>{"x"}));
}

TEST(CsvTokenizerTest, MaxRecords) {
  Tokenized t = Tokenize("1\n2\n3\n", CsvOptions{}, 0, false, 2, 10);
  EXPECT_EQ(t.records, (Records{{"1"}, {"2"}}));
  EXPECT_EQ(t.consumed, 4);
  EXPECT_EQ(t.end_line, 12);
  EXPECT_EQ(t.lines, (std::vector<int64_t>{10, 11}));
}

TEST(CsvTokenizerTest, BadRecords) {
  Tokenized t =
      Tokenize("a,b\nc\n\"x\"y,z\nd,e,f\ng,h\n\"open\nrest", CsvOptions{}, 2, true);
  EXPECT_EQ(t.records, (Records{{"a", "b"}, {"g", "h"}}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 5}));
  ASSERT_EQ(t.bad.size(), 4u);
  EXPECT_EQ(t.bad[0].error, RecordError::kFieldCount);
  EXPECT_EQ(t.bad[0].num_fields, 1u);
  EXPECT_EQ(t.bad[0].line, 2);
  EXPECT_EQ(t.bad[1].error, RecordError::kCharAfterQuote);
  EXPECT_EQ(t.bad[1].bad_char, 'y');
  EXPECT_EQ(t.bad_raws[1], "\"x\"y,z");
  EXPECT_EQ(t.bad[2].error, RecordError::kFieldCount);
  EXPECT_EQ(t.bad[2].num_fields, 3u);
  EXPECT_EQ(RecordErrorReason(t.bad[2], 2), "expected 2 fields, found 3");
  EXPECT_EQ(t.bad[3].error, RecordError::kUnterminatedQuote);
  EXPECT_EQ(t.bad[3].line, 6);
  EXPECT_EQ(t.bad_raws[3], "\"open\nrest");
  EXPECT_EQ(t.end_line, 7);
  // The fields of bad records are not kept.
  CsvTokenizer tokenizer(CsvOptions{}, 2);
  ParsedBlock block;
  std::string text = "a,b\nc\nd,e,f\n";
  std::string padded = text + '\n' + std::string(kTokenizerPadding, 'P');
  int64_t line = 1;
  tokenizer.Parse(padded.data(), static_cast<int64_t>(text.size()), true, 100, &line,
                  &block);
  EXPECT_EQ(block.fields.size(), 2u);
}

TEST(CsvTokenizerTest, EscapeCharacter) {
  CsvOptions options;
  options.escape = '\\';
  Tokenized t = Tokenize("a\\,b,\"q\\\"\",\"n\\\nl\"\nlast\\", options, 0, true);
  EXPECT_EQ(t.records, (Records{{"a,b", "q\"", "n\nl"}, {"last\\"}}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 3}));
  // An escape as the last byte needs the next byte unless final.
  t = Tokenize("x\nlast\\", options, 0, false);
  EXPECT_EQ(t.records, (Records{{"x"}}));
}

TEST(CsvTokenizerTest, NoQuoteCharacter) {
  CsvOptions options;
  options.quote = '\0';
  Tokenized t = Tokenize("\"a,b\"\n", options, 0, true);
  EXPECT_EQ(t.records, (Records{{"\"a", "b\""}}));
}

TEST(CsvTokenizerTest, LongFieldsAcrossSimdChunks) {
  std::string long_value(100, 'v');
  std::string quoted_value =
      std::string(40, 'q') + "\"\"" + std::string(40, 'r') + "\n" + std::string(17, 's');
  Tokenized t = Tokenize(long_value + "," + "\"" + quoted_value + "\"\n" + long_value,
                         CsvOptions{}, 2, false);
  std::string unescaped =
      std::string(40, 'q') + "\"" + std::string(40, 'r') + "\n" + std::string(17, 's');
  EXPECT_EQ(t.records, (Records{{long_value, unescaped}}));
  EXPECT_EQ(t.end_line, 3);
}

TEST(CsvTokenizerTest, UnescapeField) {
  char out[32];
  std::string text = "a\"\"b";
  EXPECT_EQ(std::string(out, UnescapeField(text.data(), 4, true, '"', '\0', out)),
            "a\"b");
  text = "a\\,b\\\\";
  EXPECT_EQ(std::string(out, UnescapeField(text.data(), 6, false, '"', '\\', out)),
            "a,b\\");
}

}  // namespace
}  // namespace sluice::csv
