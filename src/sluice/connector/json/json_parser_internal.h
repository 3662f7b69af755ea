#pragma once
// One simdjson on-demand parser reused for every line of a file. Internal to
// src/sluice/connector/json/.
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "sluice/connector/json/line_reader_internal.h"

namespace sluice::json::internal {

static_assert(
    LineReader::kPadding >= simdjson::SIMDJSON_PADDING,
    "lines from LineReader must carry the padding simdjson reads past its input");

struct Parser {
  simdjson::ondemand::parser parser;
  size_t capacity = 0;

  /// Starts iterating `line`, which must come from LineReader::Next() (and so be followed
  /// by kPadding readable bytes). The parser's buffers grow geometrically with the
  /// longest line seen, so steady-state parsing does not allocate.
  simdjson::error_code Iterate(std::string_view line, simdjson::ondemand::document* doc) {
    if (line.size() > capacity) {
      size_t wanted = std::max({line.size(), capacity * 2, size_t{1} << 16});
      if (auto e = parser.allocate(wanted)) return e;
      capacity = wanted;
    }
    return parser.iterate(line.data(), line.size(), line.size() + LineReader::kPadding)
        .get(*doc);
  }
};

}  // namespace sluice::json::internal
