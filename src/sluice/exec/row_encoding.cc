#include "sluice/exec/row_encoding.h"

#include <arrow/array/builder_base.h>
#include <arrow/compute/api.h>
#include <arrow/util/bit_util.h>
#include <arrow/visit_type_inline.h>
#include <xxhash.h>

#include <cmath>
#include <cstring>

namespace sluice::exec {

uint64_t HashBytes(const void* data, size_t len) { return XXH3_64bits(data, len); }

static bool IsFixedWidth(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::HALF_FLOAT:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::TIME32:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION:
    case arrow::Type::DECIMAL128:
    case arrow::Type::DECIMAL256:
    case arrow::Type::INTERVAL_MONTH_DAY_NANO:
      return true;
    default:
      return false;
  }
}

bool IsBinaryLike(const arrow::DataType& t) {
  return t.id() == arrow::Type::STRING || t.id() == arrow::Type::BINARY ||
         t.id() == arrow::Type::LARGE_STRING || t.id() == arrow::Type::LARGE_BINARY ||
         t.id() == arrow::Type::STRING_VIEW || t.id() == arrow::Type::BINARY_VIEW;
}

Status CheckEncodable(const std::vector<std::shared_ptr<arrow::DataType>>& types) {
  for (const auto& t : types) {
    if (!IsFixedWidth(*t) && !IsBinaryLike(*t) && t->id() != arrow::Type::NA) {
      return Status::NotImplemented("cannot use a column of type ", t->ToString(),
                                    " as a grouping or join key");
    }
  }
  return Status::OK();
}

static int ByteWidth(const arrow::DataType& t) {
  if (t.id() == arrow::Type::BOOL) return 1;
  return t.byte_width();
}

Status EncodeRows(const std::vector<std::shared_ptr<arrow::Array>>& input_columns,
                  EncodedRows* out) {
  const int64_t n = input_columns.empty() ? 0 : input_columns[0]->length();
  // Dictionary-encoded columns: each dictionary value is encoded once, rows copy it.
  std::vector<std::shared_ptr<arrow::Array>> columns = input_columns;
  std::vector<EncodedRows> entries(columns.size());
  std::vector<const int32_t*> indices(columns.size(), nullptr);
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c]->type_id() != arrow::Type::DICTIONARY) continue;
    const auto& d = static_cast<const arrow::DictionaryArray&>(*columns[c]);
    if (d.indices()->type_id() != arrow::Type::INT32) {
      const auto& dt = static_cast<const arrow::DictionaryType&>(*d.type());
      ARROW_ASSIGN_OR_RAISE(columns[c], arrow::compute::Cast(d, dt.value_type()));
      continue;
    }
    ARROW_RETURN_NOT_OK(EncodeRows({d.dictionary()}, &entries[c]));
    indices[c] = d.indices()->data()->GetValues<int32_t>(1);
  }
  // Sizes first, so that bytes are written once.
  std::vector<uint32_t>& offsets = out->offsets;
  offsets.assign(n + 1, 0);
  for (size_t c = 0; c < columns.size(); ++c) {
    const auto& col = columns[c];
    const auto& t = *col->type();
    if (indices[c] != nullptr) {
      for (int64_t i = 0; i < n; ++i) {
        offsets[i + 1] += col->IsNull(i) ? 1 : entries[c].row(indices[c][i]).size();
      }
    } else if (t.id() == arrow::Type::NA) {
      for (int64_t i = 0; i < n; ++i) offsets[i + 1] += 1;
    } else if (IsFixedWidth(t)) {
      const uint32_t w = static_cast<uint32_t>(ByteWidth(t));
      for (int64_t i = 0; i < n; ++i) offsets[i + 1] += 1 + (col->IsValid(i) ? w : 0);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        uint32_t len = 0;
        if (col->IsValid(i)) {
          switch (t.id()) {
            case arrow::Type::LARGE_STRING:
            case arrow::Type::LARGE_BINARY:
              len = static_cast<uint32_t>(
                  static_cast<const arrow::LargeBinaryArray&>(*col).value_length(i));
              break;
            case arrow::Type::STRING_VIEW:
            case arrow::Type::BINARY_VIEW:
              len = static_cast<uint32_t>(
                  static_cast<const arrow::BinaryViewArray&>(*col).GetView(i).size());
              break;
            default:
              len = static_cast<uint32_t>(
                  static_cast<const arrow::BinaryArray&>(*col).value_length(i));
          }
          len += 4;
        }
        offsets[i + 1] += 1 + len;
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  out->bytes.resize(offsets[n]);
  out->any_null.assign(n, 0);
  std::vector<uint32_t> pos(offsets.begin(), offsets.end() - 1);
  uint8_t* base = out->bytes.data();
  for (size_t c = 0; c < columns.size(); ++c) {
    const auto& col = columns[c];
    const auto& t = *col->type();
    if (indices[c] != nullptr) {
      for (int64_t i = 0; i < n; ++i) {
        if (col->IsNull(i)) {
          base[pos[i]++] = 0;
          out->any_null[i] = 1;
          continue;
        }
        std::string_view e = entries[c].row(indices[c][i]);
        std::memcpy(base + pos[i], e.data(), e.size());
        if (e[0] == 0) out->any_null[i] = 1;
        pos[i] += static_cast<uint32_t>(e.size());
      }
      continue;
    }
    if (t.id() == arrow::Type::NA) {
      for (int64_t i = 0; i < n; ++i) {
        base[pos[i]++] = 0;
        out->any_null[i] = 1;
      }
      continue;
    }
    if (IsFixedWidth(t)) {
      const int w = ByteWidth(t);
      const auto& data = *col->data();
      if (t.id() == arrow::Type::BOOL) {
        const uint8_t* bits = data.buffers[1]->data();
        for (int64_t i = 0; i < n; ++i) {
          if (col->IsNull(i)) {
            base[pos[i]++] = 0;
            out->any_null[i] = 1;
          } else {
            base[pos[i]++] = 1;
            base[pos[i]++] = arrow::bit_util::GetBit(bits, data.offset + i) ? 1 : 0;
          }
        }
        continue;
      }
      const uint8_t* values = data.buffers[1]->data() + data.offset * w;
      const bool is_float = t.id() == arrow::Type::FLOAT || t.id() == arrow::Type::DOUBLE;
      for (int64_t i = 0; i < n; ++i) {
        if (col->IsNull(i)) {
          base[pos[i]++] = 0;
          out->any_null[i] = 1;
          continue;
        }
        base[pos[i]++] = 1;
        uint8_t* dst = base + pos[i];
        if (is_float) {
          if (t.id() == arrow::Type::DOUBLE) {
            double v;
            std::memcpy(&v, values + i * 8, 8);
            if (v == 0) v = 0.0;
            if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
            std::memcpy(dst, &v, 8);
          } else {
            float v;
            std::memcpy(&v, values + i * 4, 4);
            if (v == 0) v = 0.0f;
            if (std::isnan(v)) v = std::numeric_limits<float>::quiet_NaN();
            std::memcpy(dst, &v, 4);
          }
        } else {
          std::memcpy(dst, values + i * w, w);
        }
        pos[i] += w;
      }
      continue;
    }
    for (int64_t i = 0; i < n; ++i) {
      if (col->IsNull(i)) {
        base[pos[i]++] = 0;
        out->any_null[i] = 1;
        continue;
      }
      std::string_view v;
      switch (t.id()) {
        case arrow::Type::LARGE_STRING:
        case arrow::Type::LARGE_BINARY:
          v = static_cast<const arrow::LargeBinaryArray&>(*col).GetView(i);
          break;
        case arrow::Type::STRING_VIEW:
        case arrow::Type::BINARY_VIEW:
          v = static_cast<const arrow::BinaryViewArray&>(*col).GetView(i);
          break;
        default:
          v = static_cast<const arrow::BinaryArray&>(*col).GetView(i);
      }
      base[pos[i]++] = 1;
      uint32_t len = static_cast<uint32_t>(v.size());
      std::memcpy(base + pos[i], &len, 4);
      pos[i] += 4;
      if (!v.empty()) std::memcpy(base + pos[i], v.data(), v.size());
      pos[i] += len;
    }
  }
  out->hashes.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    out->hashes[i] = XXH3_64bits(base + offsets[i], offsets[i + 1] - offsets[i]);
  }
  return Status::OK();
}

Result<std::vector<std::shared_ptr<arrow::Array>>> DecodeRows(
    const std::vector<std::string_view>& rows,
    const std::vector<std::shared_ptr<arrow::DataType>>& types, arrow::MemoryPool* pool) {
  std::vector<size_t> pos(rows.size(), 0);
  std::vector<std::shared_ptr<arrow::Array>> out;
  for (const auto& type : types) {
    std::unique_ptr<arrow::ArrayBuilder> builder;
    if (type->id() == arrow::Type::NA) {
      for (size_t r = 0; r < rows.size(); ++r) pos[r] += 1;
      out.push_back(
          std::make_shared<arrow::NullArray>(static_cast<int64_t>(rows.size())));
      continue;
    }
    if (IsFixedWidth(*type)) {
      // Build the fixed-width buffer directly.
      const int w = ByteWidth(*type);
      const int64_t n = static_cast<int64_t>(rows.size());
      ARROW_ASSIGN_OR_RAISE(auto validity, arrow::AllocateEmptyBitmap(n, pool));
      std::shared_ptr<arrow::Buffer> values;
      if (type->id() == arrow::Type::BOOL) {
        ARROW_ASSIGN_OR_RAISE(values, arrow::AllocateEmptyBitmap(n, pool));
      } else {
        ARROW_ASSIGN_OR_RAISE(values, arrow::AllocateBuffer(n * w, pool));
        std::memset(values->mutable_data(), 0, n * w);
      }
      int64_t nulls = 0;
      for (int64_t r = 0; r < n; ++r) {
        const char* p = rows[r].data() + pos[r];
        if (p[0] == 0) {
          ++nulls;
          pos[r] += 1;
          continue;
        }
        arrow::bit_util::SetBit(validity->mutable_data(), r);
        if (type->id() == arrow::Type::BOOL) {
          if (p[1]) arrow::bit_util::SetBit(values->mutable_data(), r);
        } else {
          std::memcpy(values->mutable_data() + r * w, p + 1, w);
        }
        pos[r] += 1 + w;
      }
      out.push_back(arrow::MakeArray(
          arrow::ArrayData::Make(type, n, {nulls ? validity : nullptr, values}, nulls)));
      continue;
    }
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(pool, type, &builder));
    ARROW_RETURN_NOT_OK(builder->Reserve(static_cast<int64_t>(rows.size())));
    for (size_t r = 0; r < rows.size(); ++r) {
      const char* p = rows[r].data() + pos[r];
      if (p[0] == 0) {
        ARROW_RETURN_NOT_OK(builder->AppendNull());
        pos[r] += 1;
        continue;
      }
      uint32_t len;
      std::memcpy(&len, p + 1, 4);
      std::string_view v(p + 5, len);
      switch (type->id()) {
        case arrow::Type::LARGE_STRING:
        case arrow::Type::LARGE_BINARY:
          ARROW_RETURN_NOT_OK(
              static_cast<arrow::LargeBinaryBuilder&>(*builder).Append(v));
          break;
        case arrow::Type::STRING_VIEW:
        case arrow::Type::BINARY_VIEW:
          ARROW_RETURN_NOT_OK(static_cast<arrow::BinaryViewBuilder&>(*builder).Append(v));
          break;
        default:
          ARROW_RETURN_NOT_OK(static_cast<arrow::BinaryBuilder&>(*builder).Append(v));
      }
      pos[r] += 5 + len;
    }
    std::shared_ptr<arrow::Array> arr;
    ARROW_RETURN_NOT_OK(builder->Finish(&arr));
    out.push_back(arr);
  }
  return out;
}

}  // namespace sluice::exec
