#pragma once
// Writing JSON text by hand (rejects files, JSON-lines output).
#include <string>
#include <string_view>

namespace sluice {

/// Appends `s` as a JSON string literal (quoted, with \" \\ \n \r \t and \u00XX escapes).
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace sluice
