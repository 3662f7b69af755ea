#include "sluice/sql/scope_internal.h"

#include <algorithm>
#include <cctype>

#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql::internal {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Scope Scope::FromSchema(const arrow::Schema& schema, const std::string& table) {
  Scope s;
  for (int i = 0; i < schema.num_fields(); ++i) {
    s.columns_.push_back(ScopeColumn{table, schema.field(i)->name(), i});
  }
  return s;
}

void Scope::Append(const Scope& other, int index_offset) {
  for (ScopeColumn c : other.columns_) {
    c.index += index_offset;
    columns_.push_back(std::move(c));
  }
}

bool Scope::HasTable(const std::string& table) const {
  return std::any_of(columns_.begin(), columns_.end(), [&](const ScopeColumn& c) {
    return EqualsIgnoreCase(c.table, table);
  });
}

std::vector<std::string> Scope::Tables() const {
  std::vector<std::string> out;
  for (const auto& c : columns_) {
    if (!c.table.empty() && std::find(out.begin(), out.end(), c.table) == out.end()) {
      out.push_back(c.table);
    }
  }
  return out;
}

Result<const ScopeColumn*> Scope::Find(const std::string& table, const std::string& name,
                                       int position) const {
  if (!table.empty() && !HasTable(table)) {
    std::string tables;
    for (const auto& t : Tables()) tables += (tables.empty() ? "" : ", ") + t;
    return ErrorAt(position, "unknown table '", table, "' in column reference ", table,
                   ".", name, " (tables in FROM: ", tables.empty() ? "none" : tables,
                   ")");
  }
  // Exact spelling wins over a case-insensitive match (quoted identifiers keep case).
  for (bool exact : {true, false}) {
    std::vector<const ScopeColumn*> hits;
    for (const auto& c : columns_) {
      bool table_ok = table.empty()
                          ? c.unqualified
                          : (exact ? c.table == table : EqualsIgnoreCase(c.table, table));
      if (!table_ok) continue;
      if (exact ? c.name == name : EqualsIgnoreCase(c.name, name)) {
        // The same column reached twice (e.g. merged USING key) is not ambiguous.
        bool seen = std::any_of(hits.begin(), hits.end(), [&](const ScopeColumn* h) {
          return h->index == c.index;
        });
        if (!seen) hits.push_back(&c);
      }
    }
    if (hits.size() > 1) {
      std::string where;
      for (const auto* h : hits) {
        where += (where.empty() ? "" : ", ") +
                 (h->table.empty() ? h->name : h->table + "." + h->name);
      }
      return ErrorAt(position, "column reference '", name, "' is ambiguous (", where,
                     "): qualify it with a table name");
    }
    if (hits.size() == 1) return hits[0];
  }
  return nullptr;
}

Result<std::vector<const ScopeColumn*>> Scope::Expand(const std::string& table,
                                                      int position) const {
  std::vector<const ScopeColumn*> out;
  if (table.empty()) {
    for (const auto& c : columns_) {
      if (c.in_star) out.push_back(&c);
    }
    return out;
  }
  if (!HasTable(table)) {
    return ErrorAt(position, "unknown table '", table, "' in ", table, ".*");
  }
  bool exact = std::any_of(columns_.begin(), columns_.end(),
                           [&](const ScopeColumn& c) { return c.table == table; });
  for (const auto& c : columns_) {
    if (exact ? c.table == table : EqualsIgnoreCase(c.table, table)) out.push_back(&c);
  }
  return out;
}

std::string Scope::Describe() const {
  std::string s;
  int n = 0;
  for (const auto& c : columns_) {
    if (!c.unqualified) continue;
    if (n == 20) {
      s += ", ...";
      break;
    }
    if (n++ > 0) s += ", ";
    s += c.name;
  }
  return s.empty() ? "none" : s;
}

}  // namespace sluice::sql::internal
