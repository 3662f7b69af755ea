#include "sluice/job/table_printer.h"

#include <arrow/compute/api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sluice::job {

namespace {

// Display width of UTF-8 text (code points; good enough for tables).
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

std::string Cut(const std::string& s, size_t max) {
  if (Width(s) <= max) return s;
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (w + 1 >= max) break;
      ++w;
    }
    out.push_back(s[i]);
  }
  return out + "…";
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v != 0 && (std::fabs(v) >= 1e15 || std::fabs(v) < 1e-4))
    return fmt::format("{:.6g}", v);
  std::string s = fmt::format("{:.6f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string FormatTable(const arrow::Table& table, const PrintOptions& options) {
  const int nc = table.num_columns();
  const int64_t shown = std::min(table.num_rows(), options.max_rows);
  std::vector<std::vector<std::string>> cells(nc);
  std::vector<bool> right(nc, false);
  auto head = table.Slice(0, shown);
  for (int c = 0; c < nc; ++c) {
    auto type = table.schema()->field(c)->type();
    right[c] = arrow::is_integer(type->id()) || arrow::is_floating(type->id()) ||
               arrow::is_decimal(type->id());
    auto chunked = head->column(c);
    for (const auto& chunk : chunked->chunks()) {
      std::shared_ptr<arrow::Array> text;
      bool is_float = arrow::is_floating(type->id());
      if (!is_float) {
        auto cast = arrow::compute::Cast(chunk, arrow::utf8());
        if (cast.ok()) text = cast->make_array();
      }
      for (int64_t i = 0; i < chunk->length(); ++i) {
        if (chunk->IsNull(i)) {
          cells[c].push_back("NULL");
        } else if (is_float) {
          auto s = chunk->GetScalar(i).ValueOrDie();
          auto d = s->CastTo(arrow::float64()).ValueOrDie();
          cells[c].push_back(
              FormatDouble(static_cast<const arrow::DoubleScalar&>(*d).value));
        } else if (text) {
          cells[c].push_back(
              Cut(std::string(static_cast<const arrow::StringArray&>(*text).GetView(i)),
                  options.max_cell_width));
        } else {
          cells[c].push_back(
              Cut(chunk->GetScalar(i).ValueOrDie()->ToString(), options.max_cell_width));
        }
      }
    }
  }
  std::vector<size_t> width(nc);
  for (int c = 0; c < nc; ++c) {
    width[c] = Width(table.schema()->field(c)->name());
    for (const auto& s : cells[c]) width[c] = std::max(width[c], Width(s));
  }
  auto pad = [](const std::string& s, size_t w, bool r) {
    std::string spaces(w - Width(s), ' ');
    return r ? spaces + s : s + spaces;
  };
  std::string out;
  if (!options.title.empty()) out += options.title + "\n";
  for (int c = 0; c < nc; ++c) {
    if (c > 0) out += "  ";
    out += pad(table.schema()->field(c)->name(), width[c], right[c]);
  }
  out += "\n";
  for (int c = 0; c < nc; ++c) {
    if (c > 0) out += "  ";
    for (size_t i = 0; i < width[c]; ++i) out += "─";
  }
  out += "\n";
  for (int64_t r = 0; r < shown; ++r) {
    for (int c = 0; c < nc; ++c) {
      if (c > 0) out += "  ";
      out += pad(cells[c][r], width[c], right[c]);
    }
    out += "\n";
  }
  if (table.num_rows() > shown) {
    out += fmt::format("… {} more rows ({} in all)\n", table.num_rows() - shown,
                       table.num_rows());
  }
  return out;
}

}  // namespace sluice::job
