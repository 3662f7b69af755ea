#include "sluice/connector/writer/json_rows.h"

#include <arrow/array.h>
#include <arrow/compute/api.h>

#include <charconv>
#include <cmath>

#include "sluice/base/json_text.h"

namespace sluice::connector {

namespace cp = arrow::compute;

std::vector<std::string> JsonRows::Keys(const arrow::Schema& schema) {
  std::vector<std::string> keys;
  for (const auto& f : schema.fields()) {
    std::string key;
    AppendJsonString(&key, f->name());
    keys.push_back(key + ":");
  }
  return keys;
}

Result<JsonRows> JsonRows::Make(const arrow::RecordBatch& batch,
                                const std::vector<std::string>* keys) {
  JsonRows rows;
  rows.keys_ = keys;
  const int nc = batch.num_columns();
  rows.cols_.resize(nc);
  rows.kind_.resize(nc);
  for (int c = 0; c < nc; ++c) {
    auto col = batch.column(c);
    auto id = col->type()->id();
    if (id == arrow::Type::BOOL) {
      rows.kind_[c] = 2;
    } else if (id == arrow::Type::FLOAT || id == arrow::Type::DOUBLE) {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(col, arrow::float64()));
      col = d.make_array();
      rows.kind_[c] = 3;
    } else if (arrow::is_integer(id) || arrow::is_decimal(id)) {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(col, arrow::utf8()));
      col = d.make_array();
      rows.kind_[c] = 0;
    } else {
      if (id != arrow::Type::STRING) {
        auto d = cp::Cast(col, arrow::utf8());
        if (!d.ok()) {
          return Status::NotImplemented("cannot write a column of type ",
                                        col->type()->ToString(), " as JSON");
        }
        col = d->make_array();
      }
      rows.kind_[c] = 1;
    }
    rows.cols_[c] = col;
  }
  return rows;
}

void JsonRows::Append(int64_t r, std::string* out) const {
  std::string& buf = *out;
  char num[64];
  buf.push_back('{');
  for (size_t c = 0; c < cols_.size(); ++c) {
    if (c > 0) buf.push_back(',');
    buf += (*keys_)[c];
    const auto& col = cols_[c];
    if (col->IsNull(r)) {
      buf += "null";
      continue;
    }
    switch (kind_[c]) {
      case 0:
        buf += static_cast<const arrow::StringArray&>(*col).GetView(r);
        break;
      case 1:
        AppendJsonString(&buf, static_cast<const arrow::StringArray&>(*col).GetView(r));
        break;
      case 2:
        buf += static_cast<const arrow::BooleanArray&>(*col).Value(r) ? "true" : "false";
        break;
      case 3: {
        double v = static_cast<const arrow::DoubleArray&>(*col).Value(r);
        if (std::isnan(v)) {
          buf += "NaN";
        } else if (std::isinf(v)) {
          buf += v > 0 ? "Infinity" : "-Infinity";
        } else {
          auto res = std::to_chars(num, num + sizeof(num), v);
          buf.append(num, res.ptr);
        }
        break;
      }
    }
  }
  buf.push_back('}');
}

}  // namespace sluice::connector
