#pragma once
// Parquet input: one file, a glob, or a directory of files (optionally hive-partitioned:
// ".../country=DE/year=2025/part-0.parquet" adds columns country and year).
//
// Morsels are row groups. Only the projected columns are decoded. Row groups (and
// whole partitions) whose statistics prove that a pushed-down predicate cannot match
// are skipped. Every file must have the columns of the first one (types are cast to
// the first file's types when they differ); a file that does not is an error naming it.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/exec/scannable.h"
#include "sluice/plan/table_source.h"

namespace parquet {
class FileMetaData;
}

namespace sluice::connector {

struct ParquetReadOptions {
  /// Add hive partition columns found in directory names (key=value).
  bool hive_partitioning = true;
};

class ParquetTable : public plan::TableSource, public exec::Scannable {
 public:
  static Result<std::shared_ptr<ParquetTable>> Open(const std::string& path,
                                                    ParquetReadOptions options = {});

  std::string Describe() const override;
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  std::optional<int64_t> EstimatedRows() const override { return total_rows_; }
  std::optional<int64_t> EstimatedBytes() const override { return total_bytes_; }
  bool SupportsPredicatePruning() const override { return true; }
  /// Integer and date columns: max - min + 1 over all row groups' statistics (at most
  /// the row count). String columns of few values, dictionary-encoded in every row
  /// group: the largest dictionary (page headers read once, then remembered). Others:
  /// unknown.
  std::optional<int64_t> EstimatedDistinct(int column) const override;
  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection,
      const std::vector<expr::Expr>& pruning_predicates) const override;

  struct File {
    std::string path;
    std::shared_ptr<parquet::FileMetaData> metadata;
    std::shared_ptr<arrow::Schema> schema;
    std::vector<std::shared_ptr<arrow::Scalar>>
        partition_values;  // one per partition key
    int64_t size = 0;
  };
  const std::vector<File>& files() const { return files_; }
  int num_file_columns() const { return num_file_columns_; }

 private:
  std::optional<int64_t> EstimatedDistinctStrings(int column) const;
  mutable std::mutex distinct_mu_;
  mutable std::map<int, std::optional<int64_t>> distinct_strings_;  // by column

  std::string pattern_;
  std::vector<File> files_;
  std::shared_ptr<arrow::Schema> schema_;
  int num_file_columns_ = 0;
  int64_t total_rows_ = 0;
  int64_t total_bytes_ = 0;
};

/// Whether a row group (or partition) may contain rows matching `predicate`, judged from
/// per-column [min, max] ranges (null scalars = unknown) and null counts.
/// `column_min/max[i]` belong to column i of the schema the predicate is bound against.
bool MayMatch(const expr::Expr& predicate,
              const std::vector<std::shared_ptr<arrow::Scalar>>& column_min,
              const std::vector<std::shared_ptr<arrow::Scalar>>& column_max);

}  // namespace sluice::connector
