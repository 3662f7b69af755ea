#include "sluice/connector/parquet/parquet_table.h"

#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/statistics.h>

#include <filesystem>
#include <map>

#include "sluice/base/input_file.h"
#include "sluice/connector/parquet/column_chunk_reader.h"
#include "sluice/connector/parquet/page_header.h"
#include "sluice/exec/dictionary_columns.h"
#include "sluice/exec/operators/filter_project.h"
#include "sluice/exec/operators/hash_join.h"
#include "sluice/exec/pipeline.h"
#include "sluice/exec/take_rows.h"

namespace sluice::connector {

namespace cp = arrow::compute;
namespace fs = std::filesystem;

namespace {

// The directory part of a path or glob that contains no glob characters.
std::string BaseDir(const std::string& pattern) {
  size_t star = pattern.find_first_of("*?[");
  std::string prefix = star == std::string::npos ? pattern : pattern.substr(0, star);
  std::error_code ec;
  if (star == std::string::npos && fs::is_directory(prefix, ec)) return prefix;
  size_t slash = prefix.rfind('/');
  return slash == std::string::npos ? "." : prefix.substr(0, slash);
}

std::vector<std::pair<std::string, std::string>> PartitionSegments(
    const std::string& base, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string rel = fs::path(path).lexically_relative(base).parent_path().string();
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string seg = rel.substr(start, end - start);
    size_t eq = seg.find('=');
    if (eq != std::string::npos && eq > 0)
      out.emplace_back(seg.substr(0, eq), seg.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

bool IsInteger(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = (s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// Hive writers percent-encode special characters in partition values ("a%2Fb").
std::string UnescapePartitionValue(const std::string& v) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      int hi = hex(v[i + 1]), lo = hex(v[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(v[i]);
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<ParquetTable>> ParquetTable::Open(const std::string& path,
                                                         ParquetReadOptions options) {
  ARROW_ASSIGN_OR_RAISE(auto paths, ExpandPaths(path));
  auto table = std::make_shared<ParquetTable>();
  table->pattern_ = path;
  std::string base = BaseDir(path);
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> raw_values;
  for (size_t f = 0; f < paths.size(); ++f) {
    const auto& p = paths[f];
    File file;
    file.path = p;
    auto opened = arrow::io::ReadableFile::Open(p);
    if (!opened.ok())
      return Status::IOError("cannot open '", p, "': ", opened.status().message());
    ARROW_ASSIGN_OR_RAISE(file.size, (*opened)->GetSize());
    try {
      auto reader = parquet::ParquetFileReader::Open(*opened);
      file.metadata = reader->metadata();
    } catch (const std::exception& e) {
      return Status::IOError("'", p, "' is not a readable Parquet file: ", e.what());
    }
    std::shared_ptr<arrow::Schema> schema;
    auto st = parquet::arrow::FromParquetSchema(file.metadata->schema(), &schema);
    if (!st.ok()) return Status::IOError("'", p, "': ", st.message());
    file.schema = schema;
    std::vector<std::string> values;
    if (options.hive_partitioning) {
      auto segs = PartitionSegments(base, p);
      if (f == 0) {
        for (const auto& [k, v] : segs) keys.push_back(k);
      } else {
        bool same = segs.size() == keys.size();
        for (size_t i = 0; same && i < segs.size(); ++i) same = segs[i].first == keys[i];
        if (!same) {
          return Status::Invalid("'", p, "' has different partition directories than '",
                                 paths[0], "'");
        }
      }
      for (const auto& [k, v] : segs) values.push_back(UnescapePartitionValue(v));
    }
    raw_values.push_back(values);
    table->total_rows_ += file.metadata->num_rows();
    table->total_bytes_ += file.size;
    table->files_.push_back(std::move(file));
  }
  // File columns: the first file's; every other file must have them.
  auto first = table->files_[0].schema;
  for (const auto& file : table->files_) {
    for (const auto& field : first->fields()) {
      if (file.schema->GetFieldIndex(field->name()) < 0) {
        return Status::Invalid("Parquet file '", file.path, "' has no column '",
                               field->name(), "' (which '", table->files_[0].path,
                               "' has)");
      }
    }
  }
  arrow::FieldVector fields = first->fields();
  table->num_file_columns_ = first->num_fields();
  for (size_t k = 0; k < keys.size(); ++k) {
    bool all_int = true;
    for (const auto& v : raw_values) {
      all_int = all_int && (IsInteger(v[k]) || v[k] == "__HIVE_DEFAULT_PARTITION__");
    }
    auto type = all_int ? arrow::int64() : arrow::utf8();
    fields.push_back(arrow::field(keys[k], type));
    for (size_t f = 0; f < table->files_.size(); ++f) {
      const std::string& v = raw_values[f][k];
      std::shared_ptr<arrow::Scalar> s;
      if (v == "__HIVE_DEFAULT_PARTITION__") {
        s = arrow::MakeNullScalar(type);
      } else if (all_int) {
        s = arrow::MakeScalar(static_cast<int64_t>(std::stoll(v)));
      } else {
        s = arrow::MakeScalar(v);
      }
      table->files_[f].partition_values.push_back(s);
    }
  }
  table->schema_ = arrow::schema(fields);
  return table;
}

std::string ParquetTable::Describe() const {
  if (files_.size() == 1) return "parquet " + files_[0].path;
  return fmt::format("parquet {} ({} files)", pattern_, files_.size());
}

namespace {

Result<bool> CompareScalars(const std::string& fn,
                            const std::shared_ptr<arrow::Scalar>& a,
                            const std::shared_ptr<arrow::Scalar>& b) {
  std::shared_ptr<arrow::Scalar> x = a, y = b;
  if (!x->type->Equals(*y->type)) {
    // A checked cast: a constant that does not fit the column's type (-1 for an
    // unsigned column) must not wrap around, it makes the check inconclusive.
    ARROW_ASSIGN_OR_RAISE(auto cast,
                          cp::Cast(arrow::Datum(y), cp::CastOptions::Safe(x->type)));
    y = cast.scalar();
  }
  ARROW_ASSIGN_OR_RAISE(auto d, cp::CallFunction(fn, {arrow::Datum(x), arrow::Datum(y)}));
  const auto& s = static_cast<const arrow::BooleanScalar&>(*d.scalar());
  return s.is_valid && s.value;
}

// Three outcomes: definitely no match (false) or maybe (true). Unknown forms: maybe.
bool MayMatchNode(const expr::Expr& e,
                  const std::vector<std::shared_ptr<arrow::Scalar>>& mins,
                  const std::vector<std::shared_ptr<arrow::Scalar>>& maxs) {
  using expr::ExprKind;
  if (e->kind != ExprKind::kCall) return true;
  const std::string& fn = e->name;
  if (fn == "and")
    return MayMatchNode(e->args[0], mins, maxs) && MayMatchNode(e->args[1], mins, maxs);
  if (fn == "or")
    return MayMatchNode(e->args[0], mins, maxs) || MayMatchNode(e->args[1], mins, maxs);
  auto column_range = [&](const expr::Expr& c, std::shared_ptr<arrow::Scalar>* lo,
                          std::shared_ptr<arrow::Scalar>* hi) {
    if (c->kind != ExprKind::kColumn || c->index < 0 ||
        c->index >= static_cast<int>(mins.size())) {
      return false;
    }
    *lo = mins[c->index];
    *hi = maxs[c->index];
    return *lo && *hi && (*lo)->is_valid && (*hi)->is_valid;
  };
  auto literal = [](const expr::Expr& l) -> std::shared_ptr<arrow::Scalar> {
    if (l->kind != ExprKind::kLiteral || !l->value || !l->value->is_valid) return nullptr;
    return l->value;
  };
  auto check = [&](auto&& fnc) {
    auto r = fnc();
    return !r.ok() || *r;  // an error in the check means "cannot tell"
  };
  if (fn == "=" || fn == "<" || fn == "<=" || fn == ">" || fn == ">=") {
    std::shared_ptr<arrow::Scalar> lo, hi;
    std::string op = fn;
    expr::Expr col = e->args[0], lit_e = e->args[1];
    if (!column_range(col, &lo, &hi)) {
      std::swap(col, lit_e);
      // Mirror the operator: lit < col  <=>  col > lit.
      if (op == "<")
        op = ">";
      else if (op == ">")
        op = "<";
      else if (op == "<=")
        op = ">=";
      else if (op == ">=")
        op = "<=";
      if (!column_range(col, &lo, &hi)) return true;
    }
    auto v = literal(lit_e);
    if (!v) return true;
    if (op == "=") {
      return check([&]() -> Result<bool> {
        ARROW_ASSIGN_OR_RAISE(bool a, CompareScalars("less_equal", lo, v));
        ARROW_ASSIGN_OR_RAISE(bool b, CompareScalars("greater_equal", hi, v));
        return a && b;
      });
    }
    if (op == "<") return check([&] { return CompareScalars("less", lo, v); });
    if (op == "<=") return check([&] { return CompareScalars("less_equal", lo, v); });
    if (op == ">") return check([&] { return CompareScalars("greater", hi, v); });
    return check([&] { return CompareScalars("greater_equal", hi, v); });
  }
  if (fn == "between") {
    std::shared_ptr<arrow::Scalar> lo, hi;
    if (!column_range(e->args[0], &lo, &hi)) return true;
    auto a = literal(e->args[1]);
    auto b = literal(e->args[2]);
    if (!a || !b) return true;
    return check([&]() -> Result<bool> {
      ARROW_ASSIGN_OR_RAISE(bool x, CompareScalars("greater_equal", hi, a));
      ARROW_ASSIGN_OR_RAISE(bool y, CompareScalars("less_equal", lo, b));
      return x && y;
    });
  }
  if (fn == "in") {
    std::shared_ptr<arrow::Scalar> lo, hi;
    if (!column_range(e->args[0], &lo, &hi)) return true;
    for (size_t i = 1; i < e->args.size(); ++i) {
      auto v = literal(e->args[i]);
      if (!v) return true;
      bool maybe = check([&]() -> Result<bool> {
        ARROW_ASSIGN_OR_RAISE(bool a, CompareScalars("less_equal", lo, v));
        ARROW_ASSIGN_OR_RAISE(bool b, CompareScalars("greater_equal", hi, v));
        return a && b;
      });
      if (maybe) return true;
    }
    return false;
  }
  return true;
}

}  // namespace

bool MayMatch(const expr::Expr& predicate,
              const std::vector<std::shared_ptr<arrow::Scalar>>& column_min,
              const std::vector<std::shared_ptr<arrow::Scalar>>& column_max) {
  return MayMatchNode(predicate, column_min, column_max);
}

namespace {

// The leaf column index of top-level string column `name` if every data page of its
// chunk in `row_group` is dictionary-encoded, else -1. Such a column is read as
// dictionary indices and expanded with one gather per batch (cheaper than Arrow's
// decoding of each value into a string builder); read that way, a column with plain
// pages would be dictionary-encoded on the fly instead, which is slower.
int DictionaryEncodedStrings(const parquet::FileMetaData& metadata, int row_group,
                             const std::string& name) {
  const parquet::SchemaDescriptor* schema = metadata.schema();
  int leaf = schema->ColumnIndex(name);
  if (leaf < 0) return -1;
  const parquet::ColumnDescriptor* col = schema->Column(leaf);
  if (col->physical_type() != parquet::Type::BYTE_ARRAY ||
      col->max_repetition_level() > 0 || col->path()->ToDotVector().size() != 1) {
    return -1;
  }
  auto chunk = metadata.RowGroup(row_group)->ColumnChunk(leaf);
  const auto& stats = chunk->encoding_stats();
  if (stats.empty() || !chunk->has_dictionary_page()) return -1;
  for (const auto& s : stats) {
    bool data = s.page_type == parquet::PageType::DATA_PAGE ||
                s.page_type == parquet::PageType::DATA_PAGE_V2;
    bool dict = s.encoding == parquet::Encoding::PLAIN_DICTIONARY ||
                s.encoding == parquet::Encoding::RLE_DICTIONARY;
    if (data && !dict && s.count > 0) return -1;
  }
  return leaf;
}

class ParquetScan : public exec::Source {
 public:
  ParquetScan(const ParquetTable* table, std::vector<int> projection,
              std::vector<std::pair<int, int>> morsels,
              std::shared_ptr<arrow::Schema> schema, int64_t bytes)
      : PhysicalNode("Scan " + table->Describe()),
        table_(table),
        projection_(std::move(projection)),
        morsels_(std::move(morsels)),
        schema_(std::move(schema)),
        bytes_(bytes) {}

  Status Prepare(exec::ExecContext* ctx) override {
    ctx->progress().bytes_total += bytes_;
    return Status::OK();
  }
  int64_t num_morsels() const override { return static_cast<int64_t>(morsels_.size()); }
  int64_t EstimatedBytes() const override { return bytes_; }
  void AllowDictionaryColumns(const std::vector<int>& columns) override {
    keep_dictionary_.assign(projection_.size(), false);
    for (int c : columns) {
      if (c >= 0 && c < static_cast<int>(projection_.size())) keep_dictionary_[c] = true;
    }
  }

  // Late materialization: the filter's columns are read first, the others only at the
  // rows it keeps (ColumnChunkReader::NextSelected). Taken when some projected column
  // is not read by the filter.
  bool TakeFilter(const std::shared_ptr<exec::FilterFactory>& filter) override {
    const int width = static_cast<int>(projection_.size());
    if (filter->input_width() != width) return false;
    std::vector<int> read = filter->columns();
    if (read.empty() || static_cast<int>(read.size()) >= width) return false;
    if (read.back() >= width) return false;
    filter_ = filter;
    early_.assign(width, false);
    for (int c : read) early_[c] = true;
    return true;
  }

  // Sideways information passing: rows whose join keys the build side lacks are left
  // out before the other columns are read. Taken when some projected column is not
  // read by the keys (nor by a taken filter).
  bool TakeKeyFilter(const std::shared_ptr<exec::ProbeKeyFilter>& keys) override {
    const int width = static_cast<int>(projection_.size());
    const auto& read = keys->columns();
    if (read.empty() || read.back() >= width) return false;
    std::vector<bool> early = early_.empty() ? std::vector<bool>(width, false) : early_;
    for (int c : read) early[c] = true;
    if (std::all_of(early.begin(), early.end(), [](bool b) { return b; })) return false;
    early_ = std::move(early);
    key_filter_ = keys;
    return true;
  }

  Status Produce(exec::ExecContext* ctx, int64_t morsel, exec::Emitter* out) override {
    auto [file_index, row_group] = morsels_[morsel];
    const auto& file = table_->files()[file_index];
    ARROW_ASSIGN_OR_RAISE(auto input, arrow::io::ReadableFile::Open(file.path));
    // File column indices for the projected file columns (by name: files may order
    // columns differently).
    std::vector<int> file_columns;
    std::vector<int>
        output_of;  // for each projected column: index into read batch, or -1
    const int nfile = table_->num_file_columns();
    for (int c : projection_) {
      if (c < nfile) {
        int idx = file.schema->GetFieldIndex(table_->schema()->field(c)->name());
        output_of.push_back(static_cast<int>(file_columns.size()));
        file_columns.push_back(idx);
      } else {
        output_of.push_back(-1);
      }
    }
    int64_t rows_in_group = file.metadata->RowGroup(row_group)->num_rows();
    int64_t group_bytes = file.metadata->RowGroup(row_group)->total_compressed_size();
    int64_t k = 0;
    // Output column i from what was read for it (`col`: null for a partition column):
    // the table's type, or kept dictionary-encoded where the consumer takes that.
    auto output_column = [&](size_t i, std::shared_ptr<arrow::Array> col,
                             int64_t n) -> Result<std::shared_ptr<arrow::Array>> {
      if (col == nullptr) {
        const auto& v = file.partition_values[projection_[i] - nfile];
        ARROW_ASSIGN_OR_RAISE(col, arrow::MakeArrayFromScalar(*v, n, ctx->pool()));
      }
      const auto& want = schema_->field(static_cast<int>(i))->type();
      if (col->type_id() == arrow::Type::DICTIONARY && !keep_dictionary_.empty() &&
          keep_dictionary_[i] &&
          static_cast<const arrow::DictionaryType&>(*col->type())
              .value_type()
              ->Equals(*want)) {
        return col;  // kept as indices for a consumer that groups or filters by them
      }
      if (!col->type()->Equals(*want)) {
        auto cast = cp::Cast(col, want);
        if (!cast.ok()) {
          return Status::Invalid(
              "'", file.path, "': column '", schema_->field(static_cast<int>(i))->name(),
              "' has type ", col->type()->ToString(), ", expected ", want->ToString());
        }
        col = cast->make_array();
      }
      return col;
    };
    auto schema_of = [&](const arrow::ArrayVector& cols) {
      arrow::FieldVector fields;
      for (size_t i = 0; i < cols.size(); ++i) {
        fields.push_back(schema_->field(static_cast<int>(i))->WithType(cols[i]->type()));
      }
      return arrow::schema(std::move(fields));
    };
    std::unique_ptr<exec::FilterFactory::Selector> selector;
    if (filter_) selector = filter_->MakeSelector();
    std::vector<int32_t> kept, key_kept;
    exec::ProbeScratch key_scratch;
    // A join's keys filter a scan where most probes miss: the build's own filter of its
    // keys (range bits, Bloom) is tried from the first batch on (KeyIndex::Find turns
    // it off again when most rows turn out to match).
    key_scratch.probed = 1;
    // Emits output columns `cols` (n rows): through the taken filter, if any.
    auto emit_columns = [&](arrow::ArrayVector cols, int64_t n) -> Status {
      ctx->progress().rows_read += n;
      auto schema = schema_of(cols);
      auto batch = arrow::RecordBatch::Make(std::move(schema), n, std::move(cols));
      if (selector) {
        ARROW_RETURN_NOT_OK(exec::TimeSelf(&filter_->metrics().nanos, [&]() -> Status {
          ARROW_RETURN_NOT_OK(selector->Select(batch, &kept));
          if (kept.size() < static_cast<size_t>(n) && !kept.empty()) {
            ARROW_ASSIGN_OR_RAISE(
                batch,
                exec::TakeBatchRows(batch, kept.data(), static_cast<int64_t>(kept.size()),
                                    ctx->pool()));
          }
          if (!kept.empty()) {
            ARROW_ASSIGN_OR_RAISE(batch, selector->DecodeForOutput(batch));
          }
          return Status::OK();
        }));
        filter_->metrics().rows_out += static_cast<int64_t>(kept.size());
        if (kept.empty()) return Status::OK();
      }
      return out->Emit(exec::Batch{std::move(batch), exec::MorselSeq(morsel, k++)});
    };
    auto emit = [&](const std::shared_ptr<arrow::RecordBatch>& batch,
                    int64_t n) -> Status {
      arrow::ArrayVector cols;
      for (size_t i = 0; i < projection_.size(); ++i) {
        ARROW_ASSIGN_OR_RAISE(
            auto col,
            output_column(i, output_of[i] >= 0 ? batch->column(output_of[i]) : nullptr,
                          n));
        cols.push_back(std::move(col));
      }
      return emit_columns(std::move(cols), n);
    };
    if (rows_in_group == 0) return Status::OK();  // its offsets may be meaningless
    if (!file_columns.empty()) {
      ARROW_ASSIGN_OR_RAISE(auto fast, FastReaders(ctx, *input, file, row_group));
      if (!fast.empty()) {
        const int64_t batch_rows = ctx->batch_rows();
        // Column i's next n rows: all of them (every_row), or rows[0, count) of them.
        auto read = [&](size_t i, int64_t n, bool every_row, const int32_t* rows,
                        int64_t count) -> Result<std::shared_ptr<arrow::Array>> {
          if (output_of[i] < 0) {
            ARROW_ASSIGN_OR_RAISE(auto all, output_column(i, nullptr, n));
            return every_row ? all : exec::TakeRows(all, rows, count, ctx->pool());
          }
          auto& r = fast[output_of[i]];
          std::shared_ptr<arrow::Array> col;
          if (every_row) {
            ARROW_ASSIGN_OR_RAISE(col, r->Next(n));
            count = n;
          } else {
            ARROW_ASSIGN_OR_RAISE(col, r->NextSelected(n, rows, count));
          }
          if (col->length() != count) {
            return Status::IOError("'", file.path, "' row group ", row_group,
                                   ": a column chunk ends before the row group");
          }
          return output_column(i, std::move(col), count);
        };
        for (int64_t off = 0; off < rows_in_group; off += batch_rows) {
          const int64_t n = std::min(batch_rows, rows_in_group - off);
          arrow::ArrayVector cols(projection_.size());
          if (!selector && !key_filter_) {
            for (size_t i = 0; i < projection_.size(); ++i) {
              ARROW_ASSIGN_OR_RAISE(cols[i], read(i, n, true, nullptr, 0));
            }
            ARROW_RETURN_NOT_OK(emit_columns(std::move(cols), n));
            continue;
          }
          // The columns the filter and the join's keys read, their verdicts (the other
          // columns are placeholders neither looks at), then the others at the rows
          // kept only.
          for (size_t i = 0; i < projection_.size(); ++i) {
            if (early_[i]) {
              ARROW_ASSIGN_OR_RAISE(cols[i], read(i, n, true, nullptr, 0));
            } else {
              cols[i] = std::make_shared<arrow::NullArray>(n);
            }
          }
          ctx->progress().rows_read += n;
          auto probe = arrow::RecordBatch::Make(schema_of(cols), n, cols);
          bool all_rows = true;
          if (selector) {
            ARROW_RETURN_NOT_OK(exec::TimeSelf(&filter_->metrics().nanos, [&] {
              return selector->Select(probe, &kept);
            }));
            filter_->metrics().rows_out += static_cast<int64_t>(kept.size());
            all_rows = static_cast<int64_t>(kept.size()) == n;
          }
          if (key_filter_ && (all_rows || !kept.empty())) {
            ARROW_RETURN_NOT_OK(
                exec::TimeSelf(&key_filter_->probe().metrics().nanos, [&]() -> Status {
                  // The keys as the join sees them: dictionary columns decoded.
                  ARROW_ASSIGN_OR_RAISE(auto keyed, exec::DecodeDictionaries(probe, {}));
                  return key_filter_->Select(
                      keyed, all_rows ? nullptr : kept.data(),
                      all_rows ? n : static_cast<int64_t>(kept.size()), &key_scratch,
                      &key_kept);
                }));
            kept.swap(key_kept);
          } else if (!selector) {
            kept.resize(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) kept[i] = static_cast<int32_t>(i);
          }
          const int64_t m = static_cast<int64_t>(kept.size());
          const bool every_row = m == n;
          for (size_t i = 0; i < projection_.size(); ++i) {
            if (early_[i]) {
              if (!every_row && m > 0) {
                ARROW_ASSIGN_OR_RAISE(
                    cols[i], exec::TakeRows(cols[i], kept.data(), m, ctx->pool()));
              }
            } else {
              ARROW_ASSIGN_OR_RAISE(cols[i], read(i, n, every_row, kept.data(), m));
            }
          }
          if (m == 0) continue;
          auto schema = schema_of(cols);
          auto batch = arrow::RecordBatch::Make(std::move(schema), m, std::move(cols));
          if (selector) {
            ARROW_RETURN_NOT_OK(
                exec::TimeSelf(&filter_->metrics().nanos, [&]() -> Status {
                  ARROW_ASSIGN_OR_RAISE(batch, selector->DecodeForOutput(batch));
                  return Status::OK();
                }));
          }
          ARROW_RETURN_NOT_OK(
              out->Emit(exec::Batch{std::move(batch), exec::MorselSeq(morsel, k++)}));
        }
        ctx->progress().bytes_read += group_bytes;
        return Status::OK();
      }
    }
    if (file_columns.empty()) {
      // Only partition columns (or nothing, e.g. count(*)): rows without reading data.
      for (int64_t off = 0; off < rows_in_group; off += ctx->batch_rows()) {
        int64_t n = std::min<int64_t>(ctx->batch_rows(), rows_in_group - off);
        ARROW_RETURN_NOT_OK(emit(nullptr, n));
      }
    } else {
      // Arrow's reader, for row groups our own decoder does not take.
      parquet::ArrowReaderProperties props;
      props.set_batch_size(ctx->batch_rows());
      props.set_use_threads(false);
      props.set_pre_buffer(true);
      for (int c : projection_) {
        if (c >= table_->num_file_columns()) continue;
        int leaf = DictionaryEncodedStrings(*file.metadata, row_group,
                                            table_->schema()->field(c)->name());
        if (leaf >= 0) props.set_read_dictionary(leaf, true);
      }
      std::unique_ptr<parquet::arrow::FileReader> reader;
      try {
        auto pf = parquet::ParquetFileReader::Open(
            input, parquet::default_reader_properties(), file.metadata);
        ARROW_RETURN_NOT_OK(
            parquet::arrow::FileReader::Make(ctx->pool(), std::move(pf), props, &reader));
      } catch (const std::exception& e) {
        return Status::IOError("'", file.path, "': ", e.what());
      }
      auto rb_reader = reader->GetRecordBatchReader({row_group}, file_columns);
      if (!rb_reader.ok()) {
        return Status::IOError("'", file.path, "': ", rb_reader.status().message());
      }
      while (true) {
        std::shared_ptr<arrow::RecordBatch> batch;
        Status st = (*rb_reader)->ReadNext(&batch);
        if (!st.ok())
          return Status::IOError("'", file.path, "' row group ", row_group, ": ",
                                 st.message());
        if (!batch) break;
        ARROW_RETURN_NOT_OK(emit(batch, batch->num_rows()));
      }
    }
    ctx->progress().bytes_read += group_bytes;
    return Status::OK();
  }

 private:
  // Readers of this row group's projected file columns, in projection order, if our
  // own decoder takes every one of them (column_chunk_reader.h); else none, and the
  // row group is read with Arrow's reader.
  Result<std::vector<std::unique_ptr<ColumnChunkReader>>> FastReaders(
      exec::ExecContext* ctx, arrow::io::RandomAccessFile& input,
      const ParquetTable::File& file, int row_group) const {
    std::vector<std::unique_ptr<ColumnChunkReader>> readers;
    const parquet::SchemaDescriptor* schema = file.metadata->schema();
    auto rg = file.metadata->RowGroup(row_group);
    struct Chunk {
      int leaf;
      std::shared_ptr<arrow::DataType> type;
    };
    std::vector<Chunk> chunks;
    for (size_t i = 0; i < projection_.size(); ++i) {
      const int c = projection_[i];
      if (c >= table_->num_file_columns()) continue;
      const std::string& name = table_->schema()->field(c)->name();
      const int leaf = schema->ColumnIndex(name);
      const int field = file.schema->GetFieldIndex(name);
      if (leaf < 0 || field < 0 ||
          schema->Column(leaf)->path()->ToDotVector().size() != 1) {
        return readers;
      }
      std::shared_ptr<arrow::DataType> type = file.schema->field(field)->type();
      if (!keep_dictionary_.empty() && keep_dictionary_[i] &&
          (type->id() == arrow::Type::STRING || type->id() == arrow::Type::BINARY) &&
          DictionaryEncodedStrings(*file.metadata, row_group, name) >= 0) {
        type = arrow::dictionary(arrow::int32(), type);
      }
      if (!ColumnChunkReader::Supports(*rg->ColumnChunk(leaf), *schema->Column(leaf),
                                       *type)) {
        return readers;
      }
      chunks.push_back({leaf, std::move(type)});
    }
    for (const auto& chunk : chunks) {
      auto meta = rg->ColumnChunk(chunk.leaf);
      auto [offset, length] = ColumnChunkReader::ByteRange(*meta);
      if (offset < 0 || length < 0 || offset + length > file.size) {
        return Status::IOError("'", file.path, "' row group ", row_group, ": column '",
                               schema->Column(chunk.leaf)->name(),
                               "' lies outside the file");
      }
      ARROW_ASSIGN_OR_RAISE(
          auto bytes,
          arrow::AllocateBuffer(length + ColumnChunkReader::kPadding, ctx->pool()));
      ARROW_ASSIGN_OR_RAISE(int64_t got,
                            input.ReadAt(offset, length, bytes->mutable_data()));
      if (got != length) {
        return Status::IOError("'", file.path, "': short read in row group ", row_group);
      }
      std::memset(bytes->mutable_data() + length, 0, ColumnChunkReader::kPadding);
      auto reader = ColumnChunkReader::Make(
          std::move(bytes), *meta, *schema->Column(chunk.leaf), chunk.type, ctx->pool(),
          fmt::format("'{}' row group {} column '{}'", file.path, row_group,
                      schema->Column(chunk.leaf)->name()));
      if (reader.status().IsNotImplemented()) {
        readers.clear();
        return readers;
      }
      ARROW_RETURN_NOT_OK(reader.status());
      readers.push_back(std::move(reader).ValueOrDie());
    }
    return readers;
  }

  const ParquetTable* table_;
  std::vector<bool> keep_dictionary_;  // by output column (AllowDictionaryColumns)
  std::shared_ptr<exec::FilterFactory> filter_;       // TakeFilter, or null
  std::shared_ptr<exec::ProbeKeyFilter> key_filter_;  // TakeKeyFilter, or null
  std::vector<bool> early_;  // by output column: read first (filter or join keys)
  std::vector<int> projection_;
  std::vector<std::pair<int, int>> morsels_;
  std::shared_ptr<arrow::Schema> schema_;
  int64_t bytes_;
};

}  // namespace

// A string column's distinct values from its dictionary pages: each row group's
// dictionary holds the distinct values of that row group, so the largest one is a lower
// bound of the column's, and close to it for a column of few values repeated
// everywhere (p_type's 150, c_mktsegment's 5). Only then: where a dictionary holds more
// than a tenth of its row group's rows, the row groups may share values or not (names
// repeat in every row group, order comments in none), and the count is unknown, as
// before; an estimate near the row count would also claim the column a key of its
// table (cardinality.h). Every row group must be dictionary-encoded throughout; reads
// one page header per row group.
std::optional<int64_t> ParquetTable::EstimatedDistinctStrings(int column) const {
  std::lock_guard<std::mutex> lock(distinct_mu_);
  auto known = distinct_strings_.find(column);
  if (known != distinct_strings_.end()) return known->second;
  auto estimate = [&]() -> std::optional<int64_t> {
    const std::string& name = schema_->field(column)->name();
    int64_t largest = 0;
    for (const auto& file : files_) {
      auto input = arrow::io::ReadableFile::Open(file.path);
      if (!input.ok()) return std::nullopt;
      for (int rg = 0; rg < file.metadata->num_row_groups(); ++rg) {
        const int leaf = DictionaryEncodedStrings(*file.metadata, rg, name);
        if (leaf < 0) return std::nullopt;
        auto chunk = file.metadata->RowGroup(rg)->ColumnChunk(leaf);
        const int64_t offset = chunk->dictionary_page_offset();
        const int64_t length = std::min<int64_t>(256, file.size - offset);
        if (offset < 0 || length <= 0) return std::nullopt;
        auto bytes = (*input)->ReadAt(offset, length);
        if (!bytes.ok()) return std::nullopt;
        PageHeader header;
        size_t header_length = 0;
        if (!ParsePageHeader((*bytes)->data(), static_cast<size_t>((*bytes)->size()),
                             &header, &header_length)
                 .ok() ||
            header.type != PageType::kDictionaryPage) {
          return std::nullopt;
        }
        const int64_t values = header.num_values;
        if (values * 10 > file.metadata->RowGroup(rg)->num_rows()) return std::nullopt;
        largest = std::max(largest, values);
      }
    }
    return std::max<int64_t>(1, largest);
  };
  auto d = estimate();
  distinct_strings_[column] = d;
  return d;
}

std::optional<int64_t> ParquetTable::EstimatedDistinct(int column) const {
  if (column < 0 || column >= num_file_columns_ || total_rows_ <= 0) return std::nullopt;
  const auto& type = schema_->field(column)->type();
  if (type->id() == arrow::Type::STRING || type->id() == arrow::Type::BINARY) {
    return EstimatedDistinctStrings(column);
  }
  if (!arrow::is_integer(type->id()) && type->id() != arrow::Type::DATE32) {
    return std::nullopt;
  }
  int64_t lo = INT64_MAX;
  int64_t hi = INT64_MIN;
  for (const auto& file : files_) {
    int idx = file.schema->GetFieldIndex(schema_->field(column)->name());
    if (idx < 0) return std::nullopt;
    for (int rg = 0; rg < file.metadata->num_row_groups(); ++rg) {
      auto rg_meta = file.metadata->RowGroup(rg);
      if (idx >= rg_meta->num_columns()) return std::nullopt;
      auto stats = rg_meta->ColumnChunk(idx)->statistics();
      if (!stats || !stats->HasMinMax()) return std::nullopt;
      std::shared_ptr<arrow::Scalar> min, max;
      if (!parquet::arrow::StatisticsAsScalars(*stats, &min, &max).ok()) {
        return std::nullopt;
      }
      auto l = min->CastTo(arrow::int64());
      auto h = max->CastTo(arrow::int64());
      if (!l.ok() || !h.ok()) return std::nullopt;
      lo = std::min(lo, static_cast<const arrow::Int64Scalar&>(**l).value);
      hi = std::max(hi, static_cast<const arrow::Int64Scalar&>(**h).value);
    }
  }
  if (lo > hi) return int64_t{0};
  // max - min + 1 without overflow.
  uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  return static_cast<int64_t>(
      std::min<uint64_t>(span, static_cast<uint64_t>(total_rows_ - 1)) + 1);
}

Result<std::shared_ptr<exec::Source>> ParquetTable::MakeSource(
    const std::vector<int>& projection,
    const std::vector<expr::Expr>& pruning_predicates) const {
  arrow::FieldVector fields;
  for (int c : projection) fields.push_back(schema_->field(c));
  auto out_schema = arrow::schema(fields);
  std::vector<std::pair<int, int>> morsels;
  int64_t bytes = 0;
  for (size_t f = 0; f < files_.size(); ++f) {
    const auto& file = files_[f];
    for (int rg = 0; rg < file.metadata->num_row_groups(); ++rg) {
      bool keep = true;
      if (!pruning_predicates.empty()) {
        auto rg_meta = file.metadata->RowGroup(rg);
        std::vector<std::shared_ptr<arrow::Scalar>> mins(projection.size()),
            maxs(projection.size());
        for (size_t i = 0; i < projection.size(); ++i) {
          int c = projection[i];
          if (c >= num_file_columns_) {
            mins[i] = maxs[i] = file.partition_values[c - num_file_columns_];
            continue;
          }
          int idx = file.schema->GetFieldIndex(schema_->field(c)->name());
          if (idx < 0 || idx >= rg_meta->num_columns()) continue;
          auto chunk = rg_meta->ColumnChunk(idx);
          auto stats = chunk->statistics();
          if (!stats || !stats->HasMinMax()) continue;
          std::shared_ptr<arrow::Scalar> lo, hi;
          if (!parquet::arrow::StatisticsAsScalars(*stats, &lo, &hi).ok()) continue;
          // Statistics come in the physical type; bring them to the column's type.
          const auto& want = schema_->field(c)->type();
          if (!lo->type->Equals(*want)) {
            auto l2 = lo->CastTo(want);
            auto h2 = hi->CastTo(want);
            if (!l2.ok() || !h2.ok()) continue;
            lo = *l2;
            hi = *h2;
          }
          mins[i] = lo;
          maxs[i] = hi;
        }
        for (const auto& p : pruning_predicates) {
          if (!MayMatch(p, mins, maxs)) {
            keep = false;
            break;
          }
        }
      }
      if (keep) {
        morsels.emplace_back(static_cast<int>(f), rg);
        bytes += file.metadata->RowGroup(rg)->total_compressed_size();
      }
    }
  }
  return std::make_shared<ParquetScan>(this, projection, std::move(morsels), out_schema,
                                       bytes);
}

}  // namespace sluice::connector
