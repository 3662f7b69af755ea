#pragma once
// Small text helpers shared by the SQL binder, the catalog and the job layer.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace sluice {

/// `s` with ASCII letters in lower case (SQL identifiers and keywords).
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// `s` with ASCII letters in upper case.
inline std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace sluice
