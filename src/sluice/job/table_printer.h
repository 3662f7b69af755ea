#pragma once
// Human-readable tables for the terminal (the `terminal` sink, `sluice sql`).
#include <arrow/table.h>

#include <memory>
#include <string>

namespace sluice::job {

struct PrintOptions {
  int64_t max_rows = 40;       // rows shown; the rest is summarised ("... 960 more rows")
  size_t max_cell_width = 40;  // longer values are cut with "…"
  std::string title;
};

/// Formats a table with a header, a rule under it, numbers right-aligned, NULL as
/// "NULL", floats with up to 6 significant decimals.
std::string FormatTable(const arrow::Table& table, const PrintOptions& options = {});

}  // namespace sluice::job
