#include "sluice/exec/dictionary_columns.h"

#include <arrow/compute/api.h>
#include <arrow/util/bit_util.h>

#include <string_view>
#include <unordered_map>

#include "sluice/exec/key_index.h"

namespace sluice::exec {

namespace cp = arrow::compute;

namespace {

const arrow::DataType& ValueType(const arrow::DataType& t) {
  return *static_cast<const arrow::DictionaryType&>(t).value_type();
}

int64_t TotalRows(const arrow::ArrayVector& chunks) {
  int64_t rows = 0;
  for (const auto& c : chunks) rows += c->length();
  return rows;
}

// int32 indices of `n` rows: ids[i] (a KeyIndex id), NULL where ids[i] is kSkipped.
Result<std::shared_ptr<arrow::Array>> Indices(const uint32_t* ids, int64_t n) {
  ARROW_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * 4));
  auto* out = reinterpret_cast<int32_t*>(values->mutable_data());
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; ++i) {
    nulls += ids[i] == KeyIndex::kSkipped;
    out[i] = ids[i] == KeyIndex::kSkipped ? 0 : static_cast<int32_t>(ids[i]);
  }
  std::shared_ptr<arrow::Buffer> validity;
  if (nulls > 0) {
    ARROW_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(n));
    for (int64_t i = 0; i < n; ++i) {
      arrow::bit_util::SetBitTo(validity->mutable_data(), i,
                                ids[i] != KeyIndex::kSkipped);
    }
  }
  return arrow::MakeArray(arrow::ArrayData::Make(
      arrow::int32(), n, {std::move(validity), std::move(values)}, nulls));
}

// A column that arrived dictionary-encoded in some batches and plain in others (a
// Parquet writer gives up its dictionary in the row groups where it grows too large),
// or plain with repeated values: `chunks` encoded again with one dictionary over all of
// them, when the values repeat (at most one distinct value in two rows); false
// otherwise, the chunks as they were. One dictionary lets a key index look each value up
// once for the whole table. A dictionary chunk costs a lookup per dictionary value its
// rows use, not per row; values go through the key index of one string column (until
// 2026-12-07 Arrow's dictionary_encode of the decoded chunks: loading db-benchmark's
// 1e8 table spent 14 s of its 33 s of CPU there).
Result<bool> UnifyDictionary(arrow::ArrayVector* chunks,
                             const std::shared_ptr<arrow::DataType>& value_type) {
  const int64_t rows = TotalRows(*chunks);
  if (rows == 0) return false;
  // Strings only: a float key index would store -0.0 as 0.0 and one NaN for all.
  if (!IsBinaryLike(*value_type)) return false;
  auto made = KeyIndex::Make({value_type});
  if (!made.ok()) return false;
  std::unique_ptr<KeyIndex> index = std::move(made).ValueOrDie();
  std::vector<uint32_t> ids;
  arrow::ArrayVector indices;
  for (const auto& chunk : *chunks) {
    const int64_t n = chunk->length();
    ids.resize(n);
    // A dictionary chunk: each dictionary value the rows use is looked up once (the
    // string index caches a dictionary's ids, kept while chunks share it).
    ARROW_RETURN_NOT_OK(index->Insert({chunk}, KeyIndex::Nulls::kSkip, ids.data()));
    if (index->size() * 2 > rows) return false;
    ARROW_ASSIGN_OR_RAISE(auto one, Indices(ids.data(), n));
    indices.push_back(std::move(one));
  }
  ARROW_ASSIGN_OR_RAISE(auto keys, index->KeyColumns(arrow::default_memory_pool()));
  const auto type = arrow::dictionary(arrow::int32(), value_type);
  arrow::ArrayVector out;
  for (const auto& idx : indices) {
    // The same dictionary object in every chunk.
    ARROW_ASSIGN_OR_RAISE(auto one,
                          arrow::DictionaryArray::FromArrays(type, idx, keys[0]));
    out.push_back(std::move(one));
  }
  *chunks = std::move(out);
  return true;
}

// Whether a plain string column probably repeats its values (at most one distinct value
// in two rows), from a sample of about 64 Ki values spread over it: the sample's
// distinct count d plus f1^2 / (2 f2) (Chao's estimate of the values the sample missed,
// from those it saw once, f1, and twice, f2). The exact check is UnifyDictionary's;
// this keeps it (a hash of every value) from running on columns of mostly unique
// strings (names, comments), where it would be work for nothing.
bool ProbablyRepeats(const arrow::ArrayVector& chunks, int64_t rows) {
  constexpr int64_t kSample = 65536;
  if (rows < 4096) return false;
  const int64_t step = std::max<int64_t>(1, rows / kSample);
  std::unordered_map<std::string_view, int64_t> seen;
  int64_t sampled = 0, base = 0;
  for (const auto& c : chunks) {
    if (c->type_id() != arrow::Type::STRING && c->type_id() != arrow::Type::BINARY) {
      return false;
    }
    const auto& a = static_cast<const arrow::BinaryArray&>(*c);
    for (int64_t i = (step - base % step) % step; i < a.length(); i += step) {
      if (a.IsValid(i)) ++seen[a.GetView(i)];
      ++sampled;
    }
    base += a.length();
  }
  if (sampled == 0) return false;
  double f1 = 0, f2 = 0;
  for (const auto& [v, n] : seen) {
    f1 += n == 1;
    f2 += n == 2;
  }
  const double missed = f2 > 0 ? f1 * f1 / (2 * f2) : f1 * (f1 - 1) / 2;
  const double distinct = static_cast<double>(seen.size()) + missed;
  return distinct * 2 <= static_cast<double>(rows);
}

}  // namespace

std::shared_ptr<arrow::Schema> LogicalSchema(
    const std::shared_ptr<arrow::Schema>& schema) {
  arrow::FieldVector fields = schema->fields();
  bool changed = false;
  for (auto& f : fields) {
    if (f->type()->id() != arrow::Type::DICTIONARY) continue;
    f = f->WithType(static_cast<const arrow::DictionaryType&>(*f->type()).value_type());
    changed = true;
  }
  return changed ? arrow::schema(std::move(fields), schema->metadata()) : schema;
}

Result<std::shared_ptr<arrow::Array>> DecodeDictionary(
    const std::shared_ptr<arrow::Array>& array) {
  if (array->type_id() != arrow::Type::DICTIONARY) return array;
  const auto& d = static_cast<const arrow::DictionaryArray&>(*array);
  ARROW_ASSIGN_OR_RAISE(auto values, cp::Take(d.dictionary(), d.indices()));
  return values.make_array();
}

Result<std::shared_ptr<arrow::RecordBatch>> DecodeDictionaries(
    const std::shared_ptr<arrow::RecordBatch>& batch, const std::vector<bool>& keep) {
  std::shared_ptr<arrow::Schema> schema = batch->schema();
  arrow::ArrayVector columns;
  bool changed = false;
  for (int i = 0; i < batch->num_columns(); ++i) {
    auto column = batch->column(i);
    if (column->type_id() == arrow::Type::DICTIONARY &&
        !(i < static_cast<int>(keep.size()) && keep[i])) {
      ARROW_ASSIGN_OR_RAISE(column, DecodeDictionary(column));
      ARROW_ASSIGN_OR_RAISE(
          schema, schema->SetField(i, schema->field(i)->WithType(column->type())));
      changed = true;
    }
    columns.push_back(std::move(column));
  }
  if (!changed) return batch;
  return arrow::RecordBatch::Make(std::move(schema), batch->num_rows(),
                                  std::move(columns));
}

Result<std::shared_ptr<arrow::Table>> TableKeepingDictionaries(
    const std::shared_ptr<arrow::Schema>& schema,
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    bool encode_repeated) {
  if (batches.empty()) return arrow::Table::MakeEmpty(schema);
  arrow::FieldVector fields = schema->fields();
  std::vector<arrow::ArrayVector> chunks(fields.size());
  for (size_t c = 0; c < fields.size(); ++c) {
    const auto& first = batches[0]->column(static_cast<int>(c))->type();
    bool all_dictionary = first->id() == arrow::Type::DICTIONARY &&
                          ValueType(*first).Equals(*fields[c]->type());
    for (const auto& b : batches) {
      all_dictionary =
          all_dictionary && b->column(static_cast<int>(c))->type()->Equals(*first);
    }
    bool some_dictionary = false;
    for (const auto& b : batches) {
      auto column = b->column(static_cast<int>(c));
      some_dictionary = some_dictionary || column->type_id() == arrow::Type::DICTIONARY;
      chunks[c].push_back(std::move(column));
    }
    if (all_dictionary) {
      fields[c] = fields[c]->WithType(first);
      continue;
    }
    // Repeated strings kept once, in a dictionary (as Polars' Categorical and DuckDB's
    // dictionary compression keep them): a group-by looks each value up once.
    bool unified = false;
    if (some_dictionary ||
        (encode_repeated && ProbablyRepeats(chunks[c], TotalRows(chunks[c])))) {
      ARROW_ASSIGN_OR_RAISE(unified, UnifyDictionary(&chunks[c], fields[c]->type()));
    }
    if (unified) {
      fields[c] = fields[c]->WithType(chunks[c][0]->type());
    } else if (some_dictionary) {
      for (auto& chunk : chunks[c]) {
        ARROW_ASSIGN_OR_RAISE(chunk, DecodeDictionary(chunk));
      }
    }
  }
  std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
  for (size_t c = 0; c < fields.size(); ++c) {
    ARROW_ASSIGN_OR_RAISE(
        auto column, arrow::ChunkedArray::Make(std::move(chunks[c]), fields[c]->type()));
    columns.push_back(std::move(column));
  }
  return arrow::Table::Make(arrow::schema(std::move(fields), schema->metadata()),
                            std::move(columns));
}

Result<std::shared_ptr<arrow::Table>> DecodeTableDictionaries(
    const std::shared_ptr<arrow::Table>& table) {
  auto logical = LogicalSchema(table->schema());
  if (logical == table->schema()) return table;
  std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
  for (int c = 0; c < table->num_columns(); ++c) {
    const auto& column = table->column(c);
    if (column->type()->id() != arrow::Type::DICTIONARY) {
      columns.push_back(column);
      continue;
    }
    arrow::ArrayVector chunks;
    for (const auto& chunk : column->chunks()) {
      ARROW_ASSIGN_OR_RAISE(auto decoded, DecodeDictionary(chunk));
      chunks.push_back(std::move(decoded));
    }
    ARROW_ASSIGN_OR_RAISE(
        auto decoded,
        arrow::ChunkedArray::Make(std::move(chunks), logical->field(c)->type()));
    columns.push_back(std::move(decoded));
  }
  return arrow::Table::Make(std::move(logical), std::move(columns), table->num_rows());
}

}  // namespace sluice::exec
