#include "sluice/exec/operators/filter_project.h"

#include <arrow/array/concatenate.h>
#include <arrow/compute/api.h>
#include <arrow/util/bit_util.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "sluice/exec/dictionary_columns.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace cp = arrow::compute;

namespace {

// The rows of `batch` at `selection` (the batch itself when that is every row).
Result<std::shared_ptr<arrow::RecordBatch>> Select(
    const std::shared_ptr<arrow::RecordBatch>& batch,
    const std::vector<int32_t>& selection) {
  const int64_t n = static_cast<int64_t>(selection.size());
  if (n == batch->num_rows()) return batch;
  return TakeBatchRows(batch, selection.data(), n, arrow::default_memory_pool());
}

}  // namespace

Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, const arrow::Datum& mask) {
  if (mask.is_scalar()) {
    // A constant predicate keeps all rows or none (NULL counts as false).
    const auto& s = static_cast<const arrow::BooleanScalar&>(*mask.scalar());
    if (s.is_valid && s.value) return batch;
    return batch->Slice(0, 0);
  }
  const auto& m = *mask.array();
  std::vector<int32_t> selection;
  SelectionFromBits(m.GetValues<uint8_t>(1, 0),
                    m.MayHaveNulls() ? m.GetValues<uint8_t>(0, 0) : nullptr, m.offset,
                    m.length, &selection);
  return Select(batch, selection);
}

Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, const std::vector<uint8_t>& keep) {
  std::vector<int32_t> selection;
  SelectionFromBytes(keep.data(), static_cast<int64_t>(keep.size()), &selection);
  return Select(batch, selection);
}

namespace {

// Decodes the dictionary columns of `batch` that `need(column)` says must be decoded.
template <typename Need>
Result<std::shared_ptr<arrow::RecordBatch>> DecodeWhere(
    const std::shared_ptr<arrow::RecordBatch>& batch, Need need) {
  std::vector<bool> keep(batch->num_columns(), true);
  bool any = false;
  for (int c = 0; c < batch->num_columns(); ++c) {
    if (batch->column(c)->type_id() == arrow::Type::DICTIONARY && need(c)) {
      keep[c] = false;
      any = true;
    }
  }
  if (!any) return batch;
  return DecodeDictionaries(batch, keep);
}

// kExpandBits[b]: eight bytes, byte j being bit j of b (little-endian).
constexpr std::array<uint64_t, 256> MakeExpandBits() {
  std::array<uint64_t, 256> t{};
  for (int b = 0; b < 256; ++b) {
    uint64_t v = 0;
    for (int j = 0; j < 8; ++j) v |= static_cast<uint64_t>((b >> j) & 1) << (8 * j);
    t[b] = v;
  }
  return t;
}
constexpr std::array<uint64_t, 256> kExpandBits = MakeExpandBits();

// ANDs a term's verdicts (TRUE keeps; FALSE and NULL drop) into keep[rows[j]] (rows
// null: into keep[j]).
void AndVerdicts(const arrow::Datum& verdict, const int32_t* rows, int64_t n,
                 uint8_t* keep) {
  if (verdict.is_scalar()) {
    const auto& s = static_cast<const arrow::BooleanScalar&>(*verdict.scalar());
    if (s.is_valid && s.value) return;
    for (int64_t j = 0; j < n; ++j) keep[rows ? rows[j] : j] = 0;
    return;
  }
  const auto& d = *verdict.array();
  const uint8_t* values = d.GetValues<uint8_t>(1, 0);
  const uint8_t* valid = d.MayHaveNulls() ? d.GetValues<uint8_t>(0, 0) : nullptr;
  const int64_t off = d.offset;
  int64_t j = 0;
  if (rows == nullptr && off % 8 == 0) {
    // Eight rows per step: one byte of bits expanded to eight bytes of 0/1.
    const uint8_t* v = values + off / 8;
    const uint8_t* m = valid ? valid + off / 8 : nullptr;
    for (; j + 8 <= n; j += 8) {
      const uint8_t bits = m ? static_cast<uint8_t>(v[j / 8] & m[j / 8]) : v[j / 8];
      uint64_t k;
      std::memcpy(&k, keep + j, 8);
      k &= kExpandBits[bits];
      std::memcpy(keep + j, &k, 8);
    }
  }
  for (; j < n; ++j) {
    const bool t = arrow::bit_util::GetBit(values, off + j) &&
                   (valid == nullptr || arrow::bit_util::GetBit(valid, off + j));
    keep[rows ? rows[j] : j] &= static_cast<uint8_t>(t);
  }
}

// Row i's verdict on `term` over one dictionary column, ANDed into keep[i]: the term
// evaluated over the dictionary's values and a NULL, looked up by each row's index.
// Fails if the term fails on a value (which no kept row may have): the caller then
// evaluates rows.
Status DictionaryTermMask(const FilterFactory::Term& term,
                          const arrow::DictionaryArray& d, uint8_t* keep) {
  const auto& dict = d.dictionary();
  ARROW_ASSIGN_OR_RAISE(auto null, arrow::MakeArrayOfNull(dict->type(), 1));
  ARROW_ASSIGN_OR_RAISE(auto values, arrow::Concatenate({dict, null}));
  auto batch = arrow::RecordBatch::Make(arrow::schema({arrow::field("v", dict->type())}),
                                        values->length(), {values});
  ARROW_ASSIGN_OR_RAISE(auto verdict, expr::Evaluate(term.compact, *batch));
  std::vector<uint8_t> by_value(values->length(), 1);
  AndVerdicts(verdict, nullptr, values->length(), by_value.data());
  const int64_t null_slot = dict->length();
  const auto& indices = *d.indices();
  auto apply = [&](const auto* idx) {
    for (int64_t i = 0; i < d.length(); ++i) {
      keep[i] &= by_value[indices.IsValid(i) ? static_cast<int64_t>(idx[i]) : null_slot];
    }
  };
  switch (indices.type_id()) {
    case arrow::Type::INT8:
      apply(indices.data()->GetValues<int8_t>(1));
      break;
    case arrow::Type::INT16:
      apply(indices.data()->GetValues<int16_t>(1));
      break;
    case arrow::Type::INT32:
      apply(indices.data()->GetValues<int32_t>(1));
      break;
    case arrow::Type::INT64:
      apply(indices.data()->GetValues<int64_t>(1));
      break;
    default:
      return Status::NotImplemented("dictionary indices of type ",
                                    indices.type()->ToString());
  }
  return Status::OK();
}

// The rows where `mask` (a boolean array or scalar over n rows) is TRUE.
void SelectionFromMask(const arrow::Datum& mask, int64_t n, std::vector<int32_t>* rows) {
  rows->clear();
  if (mask.is_scalar()) {
    const auto& s = static_cast<const arrow::BooleanScalar&>(*mask.scalar());
    if (s.is_valid && s.value) {
      rows->resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) (*rows)[i] = static_cast<int32_t>(i);
    }
    return;
  }
  const auto& m = *mask.array();
  SelectionFromBits(m.GetValues<uint8_t>(1, 0),
                    m.MayHaveNulls() ? m.GetValues<uint8_t>(0, 0) : nullptr, m.offset,
                    m.length, rows);
}

class FilterOp : public Operator, public FilterFactory::Selector {
 public:
  FilterOp(const expr::Expr* predicate, const std::vector<FilterFactory::Term>* terms,
           const std::vector<bool>* pass)
      : predicate_(predicate), terms_(terms), pass_(pass) {}

  Status ProcessBatch(Batch batch, Emitter* out) override {
    std::shared_ptr<arrow::RecordBatch> data = batch.data;
    ARROW_RETURN_NOT_OK(Select(data, &selection_));
    if (selection_.empty()) return Status::OK();
    if (static_cast<int64_t>(selection_.size()) < data->num_rows()) {
      ARROW_ASSIGN_OR_RAISE(data, TakeBatchRows(data, selection_.data(),
                                                static_cast<int64_t>(selection_.size()),
                                                arrow::default_memory_pool()));
    }
    return EmitFiltered(DecodeForOutput(data), batch.seq, out);
  }

  Status Select(const std::shared_ptr<arrow::RecordBatch>& data,
                std::vector<int32_t>* selection) override {
    const int64_t n = data->num_rows();
    bool encoded = false;
    for (int c = 0; c < data->num_columns(); ++c) {
      encoded |= Reads(c) && data->column(c)->type_id() == arrow::Type::DICTIONARY;
    }
    if (!encoded && terms_->size() == 1) {
      ARROW_ASSIGN_OR_RAISE(auto mask, expr::Evaluate(*predicate_, *data));
      SelectionFromMask(mask, n, selection);
      return Status::OK();
    }
    keep_.assign(n, 1);
    int64_t kept = n;
    // Terms over one small dictionary first, by value.
    rest_.clear();
    for (const auto& t : *terms_) {
      const auto& col = t.columns.size() == 1 ? data->column(t.columns[0]) : nullptr;
      if (col && col->type_id() == arrow::Type::DICTIONARY &&
          static_cast<const arrow::DictionaryArray&>(*col).dictionary()->length() <=
              n / 2 &&
          DictionaryTermMask(t, static_cast<const arrow::DictionaryArray&>(*col),
                             keep_.data())
              .ok()) {
        kept = -1;  // unknown
      } else {
        rest_.push_back(&t);
      }
    }
    if (kept == n && rest_.size() == 1) {
      // Nothing decided by value: the one term's verdicts filter directly.
      const auto* t = rest_[0];
      ARROW_ASSIGN_OR_RAISE(auto rows,
                            DecodeWhere(data, [&](int c) { return t->reads(c); }));
      ARROW_ASSIGN_OR_RAISE(auto mask, expr::Evaluate(t->expr, *rows));
      SelectionFromMask(mask, n, selection);
      return Status::OK();
    }
    // The others in order, each over the rows still kept.
    std::shared_ptr<arrow::RecordBatch> decoded;  // data with their columns decoded
    for (const auto* t : rest_) {
      if (kept < 0) kept = std::count(keep_.begin(), keep_.end(), uint8_t{1});
      if (kept == 0) break;
      if (kept * 2 > n) {
        // Most rows left: evaluate them all, only the kept ones' verdicts counting. If
        // that fails, a rejected row may be the cause: the kept rows alone decide.
        if (!decoded) {
          ARROW_ASSIGN_OR_RAISE(decoded, DecodeWhere(data, [&](int c) {
                                  for (const auto* r : rest_) {
                                    if (r->reads(c)) return true;
                                  }
                                  return false;
                                }));
        }
        auto verdict = expr::Evaluate(t->expr, *decoded);
        if (verdict.ok()) {
          AndVerdicts(*verdict, nullptr, n, keep_.data());
        } else if (kept == n) {
          return verdict.status();
        } else {
          ARROW_RETURN_NOT_OK(EvaluateOnKept(*t, data));
        }
      } else {
        ARROW_RETURN_NOT_OK(EvaluateOnKept(*t, data));
      }
      kept = -1;
    }
    SelectionFromBytes(keep_.data(), n, selection);
    return Status::OK();
  }

  // `data` with the dictionary columns the next operator does not take decoded.
  Result<std::shared_ptr<arrow::RecordBatch>> DecodeForOutput(
      const std::shared_ptr<arrow::RecordBatch>& data) override {
    return DecodeWhere(data, [&](int c) {
      return !(c < static_cast<int>(pass_->size()) && (*pass_)[c]);
    });
  }

 private:
  bool Reads(int column) const {
    for (const auto& t : *terms_) {
      if (t.reads(column)) return true;
    }
    return false;
  }

  // Evaluates `t` over a copy of the kept rows of the columns it reads.
  Status EvaluateOnKept(const FilterFactory::Term& t,
                        const std::shared_ptr<arrow::RecordBatch>& data) {
    SelectionFromBytes(keep_.data(), static_cast<int64_t>(keep_.size()), &rows_);
    arrow::FieldVector fields;
    arrow::ArrayVector columns;
    for (int c : t.columns) {
      ARROW_ASSIGN_OR_RAISE(auto taken, TakeRows(data->column(c), rows_.data(),
                                                 static_cast<int64_t>(rows_.size()),
                                                 arrow::default_memory_pool()));
      ARROW_ASSIGN_OR_RAISE(auto column, DecodeDictionary(taken));
      fields.push_back(arrow::field(data->schema()->field(c)->name(), column->type()));
      columns.push_back(std::move(column));
    }
    auto sub = arrow::RecordBatch::Make(arrow::schema(std::move(fields)),
                                        static_cast<int64_t>(rows_.size()), columns);
    ARROW_ASSIGN_OR_RAISE(auto verdict, expr::Evaluate(t.compact, *sub));
    AndVerdicts(verdict, rows_.data(), static_cast<int64_t>(rows_.size()), keep_.data());
    return Status::OK();
  }

  static Status EmitFiltered(Result<std::shared_ptr<arrow::RecordBatch>> data,
                             int64_t seq, Emitter* out) {
    ARROW_RETURN_NOT_OK(data.status());
    if ((*data)->num_rows() == 0) return Status::OK();
    return out->Emit(Batch{std::move(data).ValueOrDie(), seq});
  }

  const expr::Expr* predicate_;
  const std::vector<FilterFactory::Term>* terms_;
  const std::vector<bool>* pass_;
  std::vector<uint8_t> keep_;
  std::vector<const FilterFactory::Term*> rest_;
  std::vector<int32_t> rows_;
  std::vector<int32_t> selection_;
};

class ProjectOp : public Operator {
 public:
  ProjectOp(const std::vector<expr::Expr>* exprs, std::shared_ptr<arrow::Schema> schema)
      : exprs_(exprs), schema_(std::move(schema)) {}
  Status ProcessBatch(Batch batch, Emitter* out) override {
    arrow::ArrayVector columns;
    columns.reserve(exprs_->size());
    for (size_t i = 0; i < exprs_->size(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray((*exprs_)[i], *batch.data));
      const auto& want = schema_->field(static_cast<int>(i))->type();
      if (!arr->type()->Equals(*want)) {
        ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, want));
        arr = d.make_array();
      }
      columns.push_back(std::move(arr));
    }
    return out->Emit(Batch{
        arrow::RecordBatch::Make(schema_, batch.data->num_rows(), std::move(columns)),
        batch.seq});
  }

 private:
  const std::vector<expr::Expr>* exprs_;
  std::shared_ptr<arrow::Schema> schema_;
};

}  // namespace

FilterFactory::FilterFactory(expr::Expr predicate, int input_width)
    : OperatorFactory("Filter"),
      predicate_(std::move(predicate)),
      input_width_(input_width) {
  std::vector<expr::Expr> conjuncts;
  expr::SplitConjunction(predicate_, &conjuncts);
  for (auto& e : conjuncts) {
    Term t;
    t.expr = e;
    expr::CollectColumns(e, &t.columns);
    std::sort(t.columns.begin(), t.columns.end());
    t.columns.erase(std::unique(t.columns.begin(), t.columns.end()), t.columns.end());
    std::vector<int> mapping(input_width_, -1);
    for (size_t i = 0; i < t.columns.size(); ++i)
      mapping[t.columns[i]] = static_cast<int>(i);
    t.compact = expr::RemapColumns(e, mapping);
    terms_.push_back(std::move(t));
  }
}

void FilterFactory::PassDictionaries(const std::vector<int>& columns) {
  pass_.assign(input_width_, false);
  for (int c : columns) {
    if (c >= 0 && c < input_width_) pass_[c] = true;
  }
}

Result<std::unique_ptr<Operator>> FilterFactory::Make(ExecContext* ctx, int worker) {
  return std::make_unique<FilterOp>(&predicate_, &terms_, &pass_);
}

std::unique_ptr<FilterFactory::Selector> FilterFactory::MakeSelector() const {
  return std::make_unique<FilterOp>(&predicate_, &terms_, &pass_);
}

std::vector<int> FilterFactory::columns() const {
  std::vector<int> out;
  for (const auto& t : terms_) out.insert(out.end(), t.columns.begin(), t.columns.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::unique_ptr<Operator>> ProjectFactory::Make(ExecContext* ctx, int worker) {
  return std::make_unique<ProjectOp>(&exprs_, schema_);
}

}  // namespace sluice::exec
