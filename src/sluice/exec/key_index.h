#pragma once
// A map from the key columns of rows to dense ids 0, 1, 2, ... in order of first
// insertion: what hash aggregation (group ids) and hash joins (build key ids) share.
//
// Make() picks the implementation for the key types:
// - one integer-like column (ints, dates, timestamps, times, durations of at most 8
//   bytes) or float column (by its bits, IsWordKey): the keys sit inline in the slots,
//   hashed by one multiplication, no row encoding; after Seal(), a dense domain (max -
//   min small against the number of keys) is looked up by direct indexing instead of
//   probing;
// - one string or binary column: its bytes are the key, hashed directly;
// - several columns, each integer-like, float or string: each column maps its values to
//   column ids in an index of its own, and the column ids packed into one 64-bit word
//   (each in as many bits as its column's ids need) are the key of an integer index;
//   when the ids need more than 64 bits together, the index turns into the next kind;
// - anything else: row-encoded keys (row_encoding.h) in a KeyTable.
// NULL is a key like any other for Insert with Nulls::kGroup (SQL GROUP BY groups the
// NULLs together); joins use Nulls::kSkip, and Find never matches a NULL key.
//
// Thread safety: Insert/InsertAll/Seal need exclusive access. Find is const and may run
// concurrently from several threads once inserts are over; each caller brings its own
// ProbeScratch.
#include <arrow/array.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/base/huge_pages.h"
#include "sluice/base/status.h"
#include "sluice/exec/row_encoding.h"

namespace sluice::exec {

/// The integer-like types (integers, dates, times, timestamps, durations) whose values
/// are keys as they are (no normalisation: unlike floats, equal values have equal bits).
bool IsIntegerLike(const arrow::DataType& t);

/// The types whose values are key words, a 64-bit integer each: the integer-like ones,
/// and floats by their bits (LoadIntegers).
bool IsWordKey(const arrow::DataType& t);

/// The values of an integer-like array as int64 (unsigned ones zero-extended, so equal
/// values of one type stay equal and distinct ones distinct); nulls' slots unspecified.
/// A float array's values become words equal exactly for equal keys: their bits with
/// -0.0 as 0.0 and every NaN as one NaN (as row encoding has them); a double's two
/// halves swapped, so that its sign, exponent and leading mantissa bits are the low
/// bits a multiplicative hash spreads over all of its top bits (FloatFromWord undoes it).
Status LoadIntegers(const arrow::Array& array, HugeVector<int64_t>* out);
Status LoadIntegers(const arrow::Array& array, std::vector<int64_t>* out);

/// The float of type `t` (FLOAT or DOUBLE) whose key word (LoadIntegers) is `word`, in
/// its bytes (the low 4 of a FLOAT's).
uint64_t FloatFromWord(const arrow::DataType& t, int64_t word);

/// Per-caller scratch space for KeyIndex::Find (reused across batches).
struct ProbeScratch {
  EncodedRows rows;
  HugeVector<int64_t> ints;
  std::vector<int64_t> pair_ids;  // several key columns: their packed column ids
  std::vector<int64_t> high_ids;  // the high words of keys packed into two
  std::vector<std::vector<int64_t>> column_ids;  // several key columns: each one's ids
  std::vector<uint8_t> missing;                  // several key columns: a value unknown
  std::vector<int32_t> candidates;
  std::vector<int32_t> known;      // several key columns: rows whose first value is known
  std::vector<int64_t> found_ids;  // for the caller (ProbeKeyFilter): Find's result
  // Keys probed and found so far: an index with a filter of its keys uses it while
  // most probes miss.
  int64_t probed = 0;
  int64_t found = 0;
};

class KeyIndex {
 public:
  enum class Nulls { kGroup, kSkip };
  /// ids[i] of a row that Insert skipped (a NULL key under Nulls::kSkip).
  static constexpr uint32_t kSkipped = 0xFFFFFFFFu;

  virtual ~KeyIndex() = default;

  /// The implementation for key columns of these types (at least one). Fails for types
  /// that cannot be keys.
  static Result<std::unique_ptr<KeyIndex>> Make(
      const std::vector<std::shared_ptr<arrow::DataType>>& types);
  /// An index of keys of two int64 columns without NULLs, hashed as one 128-bit key
  /// (MergedKeys' two-word keys): one probe per key, where Make's index of two columns
  /// looks each column up first. InsertAll and Find are not supported.
  static std::unique_ptr<KeyIndex> MakeTwoWords();

  /// Finds or inserts the key of every row of `columns` (the key types, equal lengths);
  /// ids[i] receives row i's id (kSkipped: see Nulls).
  virtual Status Insert(const arrow::ArrayVector& columns, Nulls nulls,
                        uint32_t* ids) = 0;
  /// Inserts every key of `other` (an index made for the same types) in its id order;
  /// mapping[g] receives the id here of other's key g. With `part_of` (one entry per
  /// key of other, from other.Partitions), only the keys g with part_of[g] == part are
  /// inserted and the others get kSkipped.
  virtual Status InsertAll(const KeyIndex& other, uint32_t* mapping,
                           const uint8_t* part_of = nullptr, uint8_t part = 0) = 0;
  /// The hash partition in [0, parts) of every key, by id (parts: a power of two at most
  /// 256). A key falls in the same partition in every index made for the same types,
  /// which lets several threads merge indexes, one partition each.
  virtual void Partitions(int parts, uint8_t* out) const = 0;
  /// Partitions(256) of the keys ids[0..n) only (for an index of one column: what a
  /// multi-column index mixes its columns' partitions from).
  virtual void PartitionsOf(const uint32_t* ids, int64_t n, uint8_t* out) const;
  /// Looks every row's key up: ids[i] = its id, or -1 if absent or NULL.
  virtual Status Find(const arrow::ArrayVector& columns, ProbeScratch* scratch,
                      int64_t* ids) const = 0;
  /// Makes room for `keys` more keys of about `bytes` bytes in all (a hint).
  virtual Status Reserve(int64_t keys, int64_t bytes) { return Status::OK(); }
  /// Bytes the keys take (0 for inline integer keys): for Reserve.
  virtual int64_t KeyBytes() const { return 0; }
  /// Whether keys are found by direct indexing, without hashing (integer keys of a
  /// dense range): inserting another index's keys then costs a load per key, and a
  /// merge is faster done in one pass than partitioned by hash.
  virtual bool DirectlyIndexed() const { return false; }
  /// Declares that no more keys come (lets the index pick a faster lookup structure).
  virtual Status Seal() { return Status::OK(); }
  /// Frees what only inserting needs (per-batch buffers), for an index that is kept
  /// but gets no more keys and is not sealed (a hash aggregate's handed-over table,
  /// whose column indexes the worker's next table goes on using).
  virtual void ReleaseInsertBuffers() {}
  /// Insert of every key there will be, then Seal: into an empty index, all at once (a
  /// join's build side). Knowing all keys first lets an integer index whose keys span a
  /// dense range place them by direct indexing instead of hashing.
  virtual Status Build(const arrow::ArrayVector& columns, Nulls nulls, uint32_t* ids) {
    ARROW_RETURN_NOT_OK(Insert(columns, nulls, ids));
    return Seal();
  }

  /// An empty index for the same key types: a worker's next table of groups. A
  /// multi-column index shares its columns' value indexes with the new one (their ids
  /// only grow, so both stay valid), which makes a worker's tables agree on column ids
  /// and saves looking every value up again. REQUIRES: the two are then used from one
  /// thread at a time (a worker's tables: by that worker, or once it finished).
  virtual Result<std::unique_ptr<KeyIndex>> MakeEmpty() const = 0;

  virtual int64_t size() const = 0;
  /// The keys, one array per key column, row g holding the key of id g.
  virtual Result<arrow::ArrayVector> KeyColumns(arrow::MemoryPool* pool) const = 0;
  /// Bytes held (for memory accounting).
  virtual int64_t MemoryUsage() const = 0;
};

/// Merging the groups of several indexes of multi-column keys (made by Make for the
/// same types; a hash aggregate's tables) into hash partitions: every column's values
/// of all the indexes get one id space, so that each key becomes one 64-bit integer,
/// equal for equal keys whichever index held it. A partition's table is then an
/// integer index, and each key's partition is known before any is inserted (so that
/// there can be many small partitions, each table small enough for the caches).
/// Read-only once made: several threads may use it at once.
class MergedKeys {
 public:
  /// nullptr when the indexes do not all hold packed column ids (one column, other
  /// key types, or ids that needed more than 128 bits) or when all their columns'
  /// values together need more than 128 bits. Keys of more than 64 bits are two words
  /// (wide(): keys() the low words, high_keys() the high ones). Holds copies of what it
  /// needs: the indexes may change or go once it is made. Converts the indexes on
  /// `threads` threads.
  static Result<std::unique_ptr<MergedKeys>> Make(
      const std::vector<const KeyIndex*>& indexes, int threads, arrow::MemoryPool* pool);
  ~MergedKeys();

  /// The merged key of each group of index i, by group id.
  const std::vector<int64_t>& keys(size_t i) const { return keys_[i]; }
  /// Whether keys take two words; then the high word of each group of index i.
  bool wide() const { return wide_; }
  const std::vector<int64_t>& high_keys(size_t i) const { return high_[i]; }
  /// The partition in [0, 256) of each group of index i (the top bits of a hash of its
  /// values: keys(i)[g] == keys(j)[h] implies equal partitions).
  const std::vector<uint8_t>& partitions(size_t i) const { return parts_[i]; }
  /// Bytes held.
  int64_t MemoryUsage() const;
  /// The key columns of the merged keys keys[0, n) (and high[0, n) when wide()).
  Result<arrow::ArrayVector> KeyColumns(const int64_t* keys, const int64_t* high,
                                        int64_t n, arrow::MemoryPool* pool) const;

 private:
  MergedKeys() = default;
  struct Column;
  std::vector<Column> columns_;
  std::vector<std::vector<int64_t>> keys_;
  std::vector<std::vector<int64_t>> high_;  // when wide_
  std::vector<std::vector<uint8_t>> parts_;
  bool wide_ = false;
};

}  // namespace sluice::exec
