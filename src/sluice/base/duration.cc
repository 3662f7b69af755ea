#include "sluice/base/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <ctime>

#include "sluice/base/text.h"

namespace sluice {

Result<int64_t> ParseDurationMicros(const std::string& text, const std::string& what) {
  auto bad = [&]() {
    return Status::Invalid(what, ": '", text,
                           "' is not a duration (e.g. 5s, 250ms, 2 minutes, 1h)");
  };
  const char* begin = text.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(value) || value < 0) return bad();
  std::string unit = AsciiLower(std::string(end));
  unit.erase(0, unit.find_first_not_of(' '));
  unit.erase(unit.find_last_not_of(' ') + 1);
  if (unit.size() > 1 && unit.back() == 's' && unit != "ms" && unit != "us")
    unit.pop_back();
  double scale;
  if (unit.empty() || unit == "s" || unit == "sec" || unit == "second") {
    scale = 1e6;
  } else if (unit == "us" || unit == "microsecond") {
    scale = 1;
  } else if (unit == "ms" || unit == "millisecond") {
    scale = 1e3;
  } else if (unit == "m" || unit == "min" || unit == "minute") {
    scale = 60e6;
  } else if (unit == "h" || unit == "hour") {
    scale = 3600e6;
  } else if (unit == "d" || unit == "day") {
    scale = 86400e6;
  } else {
    return bad();
  }
  double us = value * scale;
  if (us > 9.2e18) return bad();
  return static_cast<int64_t>(std::llround(us));
}

std::string FormatDurationMicros(int64_t us) {
  struct Unit {
    int64_t us;
    const char* name;
  };
  static const Unit kUnits[] = {
      {86'400'000'000LL, "d"}, {3'600'000'000LL, "h"}, {60'000'000, "m"},
      {1'000'000, "s"},        {1000, "ms"},           {1, "us"}};
  if (us == 0) return "0s";
  for (const auto& u : kUnits) {
    if (us % u.us == 0) return std::to_string(us / u.us) + u.name;
  }
  return std::to_string(us) + "us";
}

std::string FormatUtcMicros(int64_t us, bool fraction) {
  int64_t secs = us / 1'000'000;
  int64_t frac = us % 1'000'000;
  if (frac < 0) {  // before the epoch: the second below, and a positive fraction
    frac += 1'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return fraction ? fmt::format("{}.{:06d}", buf, frac) : std::string(buf);
}

}  // namespace sluice
