#pragma once
// Durations written in job files and options: "5s", "250ms", "1.5 minutes", "2h".
#include <cstdint>
#include <string>

#include "sluice/base/status.h"

namespace sluice {

/// Microseconds of a duration: a non-negative number and a unit (us, ms, s, m, h, d,
/// or their names: microseconds, milliseconds, seconds, minutes, hours, days; singular
/// or plural; a space between allowed). A bare number is seconds. `what` names the
/// setting in errors.
Result<int64_t> ParseDurationMicros(const std::string& text, const std::string& what);

/// "5s", "250ms", "1m30s"-free short form for messages: the largest unit that divides.
std::string FormatDurationMicros(int64_t us);

/// A time `us` microseconds after the epoch as UTC text: "2015-07-15 00:00:09", with
/// `fraction` "2015-07-15 00:00:09.999999".
std::string FormatUtcMicros(int64_t us, bool fraction);

}  // namespace sluice
