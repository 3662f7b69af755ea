#include "sluice/exec/dictionary_columns.h"

#include <arrow/compute/api.h>

namespace sluice::exec {

namespace cp = arrow::compute;

namespace {

const arrow::DataType& ValueType(const arrow::DataType& t) {
  return *static_cast<const arrow::DictionaryType&>(t).value_type();
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
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
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
    for (const auto& b : batches) {
      auto column = b->column(static_cast<int>(c));
      if (!all_dictionary) {
        ARROW_ASSIGN_OR_RAISE(column, DecodeDictionary(column));
      }
      chunks[c].push_back(std::move(column));
    }
    if (all_dictionary) fields[c] = fields[c]->WithType(first);
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
