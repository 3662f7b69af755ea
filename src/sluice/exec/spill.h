#pragma once
// Spill files: what an operator sets aside on disk when its memory reservation cannot
// grow (docs/design/spilling.md).
//
// A SpillSet holds hash partitions [0, parts) of batches of one schema. Each spill
// writes one *run*: an Arrow IPC file in the job's spill directory whose batches are
// tagged with their partition. Reading a partition visits its batches in every run, in
// the order the runs were finished, one batch in memory at a time. The files are
// removed with the set (and, should that not happen, with the job's spill directory).
//
// Thread safety: several threads may write runs at once (each its own SpillRun) and
// read partitions at once, once writing is over.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/exec/exec_context.h"

namespace arrow {
class RecordBatch;
class Schema;
namespace ipc {
class RecordBatchWriter;
class RecordBatchFileReader;
}  // namespace ipc
namespace io {
class FileOutputStream;
}
}  // namespace arrow

namespace sluice::exec {

class SpillSet;

/// One run being written. Close() (or destruction, which drops an unclosed run) ends
/// it.
class SpillRun {
 public:
  ~SpillRun();
  /// Appends `batch` (of the set's schema) to partition `part`.
  Status Write(int part, const arrow::RecordBatch& batch);
  /// Finishes the file and adds the run to its set.
  Status Close();
  /// The file's size, once closed.
  int64_t bytes() const { return bytes_; }

 private:
  friend class SpillSet;
  SpillRun() = default;
  SpillSet* set_ = nullptr;
  std::string path_;
  std::shared_ptr<arrow::io::FileOutputStream> file_;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
  std::vector<std::vector<int>> batches_;  // per partition: its batch numbers
  int next_batch_ = 0;
  int64_t rows_ = 0;
  int64_t bytes_ = 0;
  bool closed_ = false;
};

/// Reads the batches of one partition of one run, in the order they were written.
class SpillRunReader {
 public:
  /// The next batch, or null after the last one.
  Result<std::shared_ptr<arrow::RecordBatch>> Next();

 private:
  friend class SpillSet;
  SpillRunReader() = default;
  std::string owner_;
  std::string path_;
  std::shared_ptr<arrow::ipc::RecordBatchFileReader> reader_;
  std::vector<int> batches_;
  size_t next_ = 0;
};

class SpillSet {
 public:
  /// `owner` names the files and errors ("HashAggregate"). Each finished run adds its
  /// size to the job's spilled bytes and, if given, to `owner_bytes` (the owning
  /// operator's metrics).
  SpillSet(ExecContext* ctx, std::string owner, std::shared_ptr<arrow::Schema> schema,
           int parts, std::atomic<int64_t>* owner_bytes = nullptr);
  ~SpillSet();
  SpillSet(const SpillSet&) = delete;
  SpillSet& operator=(const SpillSet&) = delete;

  int parts() const { return parts_; }
  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  /// Starts a run in a new file.
  Result<std::unique_ptr<SpillRun>> NewRun();
  /// Calls fn with each batch of partition `part`, run by run.
  Status ReadPartition(
      int part,
      const std::function<Status(std::shared_ptr<arrow::RecordBatch>)>& fn) const;
  /// A reader of partition `part` of run `run` (runs numbered in the order they
  /// finished, [0, runs())).
  Result<std::unique_ptr<SpillRunReader>> OpenRun(int64_t run, int part) const;
  int64_t runs() const;
  int64_t bytes_written() const;
  /// Rows in all runs.
  int64_t rows_written() const;

 private:
  friend class SpillRun;
  struct Run {
    std::string path;
    std::vector<std::vector<int>> batches;  // per partition: the batch numbers
  };
  void AddRun(Run run, int64_t bytes, int64_t rows);

  ExecContext* ctx_;
  std::string owner_;
  std::atomic<int64_t>* owner_bytes_;
  std::shared_ptr<arrow::Schema> schema_;
  int parts_;
  mutable std::mutex mu_;
  std::vector<Run> runs_;
  int64_t bytes_ = 0;
  int64_t rows_ = 0;
  int64_t next_file_ = 0;
};

/// Bytes of a worker's state (a table of groups, a sort buffer) under which a worker
/// that cannot grow its reservation goes over the limit instead of spilling: other
/// operators hold the budget, and spilling so small a state would write a run per batch.
/// A quarter of the limit over the threads, at most 32 MiB: bounded, because the
/// default limit (80 % of the machine) leaves less than that fraction to go over
/// (2.4 GiB a worker at 24 GiB: db-benchmark q10 at 1e8 was killed by the kernel).
int64_t OverLimitAllowance(ExecContext& ctx);

/// Hands memory freed by a spill back to the system: the allocators keep freed blocks
/// for reuse (glibc in its arenas, the Arrow pool in its heaps), which the budget no
/// longer counts, so a job that spills again and again could grow past its limit and
/// the machine (db-benchmark q10 at 1e8 was killed by the kernel at 24 GB with a
/// 19.2 GB limit). Called once a run is written and once a spilled partition is done.
void ReturnFreedMemory(ExecContext& ctx);

/// A partition in [0, 256) for a row whose key hash (EncodeRows) is `row_hash`: the
/// hash mixed with `seed`, top byte. Independent of the bits hash tables take from the
/// same hash for their home slots (keys of one partition would crowd into a cluster
/// there), and of the partitions under other seeds.
uint8_t PartitionOfHash(uint64_t row_hash, int seed);

/// Rows [0, n) ordered by their partition part_of[i] in [0, parts) (a stable counting
/// sort) into `order`; returns the first position of each partition, then n.
std::vector<int64_t> OrderByPartition(const uint8_t* part_of, int64_t n, int parts,
                                      std::vector<uint32_t>* order);

/// Writes the rows of `batch`, already ordered so that partition p's are rows
/// [start[p], start[p + 1]), to `run`: a slice per partition.
Status WriteByPartition(SpillRun* run, const arrow::RecordBatch& batch,
                        const std::vector<int64_t>& start);

/// Writes row i of `batch` to partition part_of[i] of `run` (parts partitions).
Status WritePartitioned(SpillRun* run, const std::shared_ptr<arrow::RecordBatch>& batch,
                        const uint8_t* part_of, int parts);

}  // namespace sluice::exec
