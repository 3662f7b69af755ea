#pragma once
// Keyed state of stream operators and their event-time timers, behind an interface
// (docs/design/streams.md, "Keyed state and timers"). The in-memory backend is here
// (MakeMemoryStateBackend); a RocksDB backend and checkpoints implement the same
// interface next.
//
// Key groups. A key's hash picks one of kKeyGroups key groups (KeyGroupsOf; the keyed
// exchange routes rows by the same function, exchange.h), and worker w of n owns the
// range KeyGroupRange::OfWorker(w, n). Every state entry belongs to its key's group, so
// a snapshot can be cut by key-group range and restored into a backend that owns any
// other range: that is how a job resumes at another parallelism. A backend computes
// key groups from the stored key values when it snapshots; the hot paths never hash
// twice.
//
// The kinds of state (each vectorised: one call per batch, not per row):
// - KeyedAccumulators: keys -> accumulator rows ("slots") of the operator's aggregates,
//   each slot tagged with a window [start, end). Windows over panes keep one instance
//   per pane (a namespace: StateBackend::Accumulators(desc, ns)), one slot per key;
//   sessions keep one instance whose slots are sessions; an updating aggregate one with
//   a slot per key.
// - KeyedRows: the rows a stream join keeps per side, found by their encoded key, each
//   with its event time and the watermark at which it leaves (a time to live that
//   travels with the row, so a restored row leaves when it would have).
// - TimerService: event-time timers (time, key, namespace). A timer fires once, when
//   the operator's watermark reaches its time; registering it again is a no-op.
//   Timers without a key (kNoKey) are the operator's own (a pane that closes for every
//   key): they belong to every key group.
//
// Snapshots are Arrow record batches, one per state name, whose first columns say
// where each entry belongs (key group, and what the state needs to rebuild it); the
// checkpoint issue writes them as Arrow IPC files. Restore adds the entries of the
// backend's own key groups and ignores the rest.
//
// Ownership and threads: one backend per operator instance (worker), used by that
// worker's thread only. The backend owns every state it hands out; pointers stay valid
// until the backend is destroyed or the namespace is dropped. Memory: MemoryUsage()
// sums every state; the operator charges it to its reservation.
#include <arrow/api.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/exec/exec_context.h"
#include "sluice/exec/row_encoding.h"
#include "sluice/exec/state/key_groups.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

/// An event-time window: a slot's or a timer's namespace.
struct StateWindow {
  int64_t start = 0;
  int64_t end = 0;
};

// ---- accumulators
// ----------------------------------------------------------------------

class KeyedAccumulators {
 public:
  static constexpr uint32_t kNoSlot = 0xFFFFFFFFu;
  virtual ~KeyedAccumulators() = default;

  /// Finds or inserts the key of every row of `keys` (the descriptor's key types; no
  /// columns: the one empty key, id 0); key_ids[i] receives row i's key id (dense, in
  /// order of first insertion). NULL keys group together. With one slot per key the
  /// key's slot is its id and comes into being here, in the table's window.
  virtual Status FindOrInsert(const arrow::ArrayVector& keys, int64_t n,
                              uint32_t* key_ids) = 0;
  virtual int64_t num_keys() const = 0;
  /// The key columns of keys key_ids[0..n) (all keys in id order when key_ids is null).
  virtual Result<arrow::ArrayVector> KeyColumns(const uint32_t* key_ids, int64_t n) = 0;

  /// Slots that are not one per key: a new slot of key `key` in window `w`.
  virtual Result<uint32_t> AddSlot(uint32_t key, StateWindow w) = 0;
  /// The slot's accumulators are no longer read; it leaves at the next Compact().
  virtual void FreeSlot(uint32_t slot) = 0;
  virtual void SetWindow(uint32_t slot, StateWindow w) = 0;
  virtual StateWindow window(uint32_t slot) const = 0;
  virtual uint32_t key_of(uint32_t slot) const = 0;
  virtual int64_t num_slots() const = 0;  // slots ever added, freed ones included
  virtual int64_t live_slots() const = 0;

  /// Adds rows: args[a][i] (the aggregate's argument, null for count(*)) into slot
  /// slots[i] of aggregate a, for i < n.
  virtual Status Update(const arrow::ArrayVector& args, const uint32_t* slots,
                        int64_t n) = 0;
  /// Merges slot from[j] into slot to[j] for j < n (sessions that a row bridges).
  virtual Status MergeSlots(const uint32_t* from, const uint32_t* to, int64_t n) = 0;
  /// Every key's slot of `other` (one slot per key, same descriptor) into this table's
  /// slot of the same key, inserting keys as needed; `other` is unchanged.
  virtual Status MergeFrom(KeyedAccumulators* other) = 0;
  /// The aggregates' values of slots[0..n) (all slots in order when slots is null), one
  /// array per aggregate; the slots keep their state. Needs aggregates that merge.
  virtual Result<arrow::ArrayVector> Finalize(const uint32_t* slots, int64_t n) = 0;
  /// Every slot's values in slot order, any aggregate; the state is spent (drop the
  /// namespace after: a tumbling window as it fires).
  virtual Result<arrow::ArrayVector> Consume() = 0;
  /// Drops freed slots and keys without live slots, renumbering both; mapping[old key
  /// id] receives the new id (kNoSlot: gone), slot_mapping likewise for slots.
  virtual Status Compact(std::vector<uint32_t>* key_mapping,
                         std::vector<uint32_t>* slot_mapping) = 0;

  virtual int64_t MemoryUsage() const = 0;
  /// The live slots of keys in `range`: columns key_group (uint16), key_id (uint32),
  /// slot (uint32), window_start, window_end (int64), the key columns, then each
  /// aggregate's saved state. Null when there is nothing to save.
  virtual Result<std::shared_ptr<arrow::RecordBatch>> Snapshot(KeyGroupRange range) = 0;
  /// Adds the rows of a Snapshot whose key group is in `range`, each as a new slot of
  /// its key (one slot per key: merged into the key's slot). key_mapping/slot_mapping
  /// (indexed by the snapshot's key_id/slot) receive the new ids (kNoSlot: not
  /// restored).
  virtual Status Restore(const arrow::RecordBatch& snapshot, KeyGroupRange range,
                         std::vector<uint32_t>* key_mapping,
                         std::vector<uint32_t>* slot_mapping) = 0;
};

/// What a KeyedAccumulators holds.
struct AccumulatorsDesc {
  std::string name;
  std::vector<std::shared_ptr<arrow::DataType>> key_types;
  std::vector<expr::Expr> aggregates;  // bound Aggregate expressions
  /// One slot per key (its id), made by FindOrInsert; otherwise AddSlot makes them.
  bool slot_per_key = true;
};

// ---- rows (stream join sides)
// ----------------------------------------------------------

/// A stored row: the id of its batch in the state (64 bits: a long stream stores many)
/// and its row there.
struct RowRef {
  uint64_t batch;
  uint32_t row;
};

class KeyedRows {
 public:
  virtual ~KeyedRows() = default;

  /// Keeps rows `rows` of `batch`: keys encoded in `keys`, event times in `time` (empty:
  /// none), whether each matched already in `matched` (empty: none), all indexed by
  /// row of `batch`. Row i leaves when Expire reaches time[i] + reach (kForever: only
  /// at the end).
  virtual Status Add(std::shared_ptr<arrow::RecordBatch> batch, const EncodedRows& keys,
                     const std::vector<int64_t>& time,
                     const std::vector<uint8_t>& matched,
                     const std::vector<int32_t>& rows, int64_t reach) = 0;

  struct Candidate {
    int32_t probe_row;  // the row of the probing batch
    RowRef ref;         // a kept row with an equal key
    int64_t time;       // its event time
  };
  /// Every kept row whose key equals keys.row(i), for the rows i < n with usable[i],
  /// and, when min_time/max_time are given, whose time lies in [min_time[i],
  /// max_time[i]] (rows outside are skipped as the key's rows are walked, never
  /// gathered).
  virtual void Probe(const EncodedRows& keys, const uint8_t* usable,
                     const int64_t* min_time, const int64_t* max_time, int64_t n,
                     std::vector<Candidate>* out) const = 0;
  /// The batch a kept row is in. REQUIRES: the row is still kept.
  virtual const std::shared_ptr<arrow::RecordBatch>& batch_of(RowRef r) const = 0;
  virtual bool matched(RowRef r) const = 0;
  virtual void SetMatched(RowRef r) = 0;

  struct Gone {
    std::shared_ptr<arrow::RecordBatch> batch;
    std::vector<int32_t> rows;  // ascending
    std::vector<uint8_t> matched;
  };
  /// Removes the rows whose time + reach is at or below `watermark` (every row when it
  /// is kForever), returning them by batch in *gone (null: not returned).
  virtual void Expire(int64_t watermark, std::vector<Gone>* gone) = 0;

  virtual int64_t MemoryUsage() const = 0;
  /// The kept rows of keys in `range`: columns key_group (uint16), key (binary, the
  /// encoded key), time, expires (int64), matched (bool), then the rows' own columns.
  virtual Result<std::shared_ptr<arrow::RecordBatch>> Snapshot(KeyGroupRange range) = 0;
  virtual Status Restore(const arrow::RecordBatch& snapshot, KeyGroupRange range) = 0;
};

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

// ---- timers
// ----------------------------------------------------------------------------

struct Timer {
  static constexpr uint32_t kNoKey = 0xFFFFFFFFu;
  int64_t time;
  uint32_t key;  // a key id of the keyed state the timers belong to, or kNoKey
  StateWindow window;
  bool operator<(const Timer& o) const;
  bool operator==(const Timer& o) const;
};

class TimerService {
 public:
  virtual ~TimerService() = default;
  /// Registers a timer (a no-op when the same one is registered).
  virtual void Register(const Timer& t) = 0;
  virtual void Delete(const Timer& t) = 0;
  /// Removes the timers with time <= watermark, appending them to *fired in order of
  /// time (then key, then window).
  virtual void PopUpTo(int64_t watermark, std::vector<Timer>* fired) = 0;
  /// The earliest timer's time (kForever when there is none).
  virtual int64_t NextTime() const = 0;
  /// The earliest timer into *out; false when there is none.
  virtual bool Peek(Timer* out) const = 0;
  virtual int64_t size() const = 0;
  /// Key ids renumbered (KeyedAccumulators::Compact): key k becomes mapping[k]; timers
  /// of keys mapped to kNoSlot go.
  virtual void RemapKeys(const std::vector<uint32_t>& mapping) = 0;
  virtual int64_t MemoryUsage() const = 0;
};

// ---- the backend
// -----------------------------------------------------------------------

/// A backend's state, cut by key-group range: per state name, its entries.
struct StateSnapshot {
  KeyGroupRange range;
  std::map<std::string, std::shared_ptr<arrow::RecordBatch>> states;
};

class StateBackend {
 public:
  virtual ~StateBackend() = default;
  virtual KeyGroupRange key_groups() const = 0;

  /// The accumulators of `desc.name` in namespace `ns` (made empty on first use; a
  /// name keeps the descriptor it was first asked with).
  virtual Result<KeyedAccumulators*> Accumulators(const AccumulatorsDesc& desc,
                                                  int64_t ns) = 0;
  /// The namespaces of `name` in ascending order.
  virtual std::vector<int64_t> Namespaces(const std::string& name) const = 0;
  /// Drops namespace `ns` of `name` and its state.
  virtual void DropNamespace(const std::string& name, int64_t ns) = 0;
  /// The rows state `name` (made empty on first use).
  virtual Result<KeyedRows*> Rows(const std::string& name) = 0;
  /// The timers `name`; `keys_from` names the accumulators (namespace 0) whose key ids
  /// the timers' keys are (empty: timers without keys only).
  virtual Result<TimerService*> Timers(const std::string& name,
                                       const std::string& keys_from) = 0;

  virtual int64_t MemoryUsage() const = 0;
  /// Every state's entries of the key groups in `range`.
  virtual Result<StateSnapshot> Snapshot(KeyGroupRange range) = 0;
  /// Adds the entries of `snapshot` (of this backend's states: the operator asks for its
  /// states first, so descriptors are known) that fall in this backend's key groups.
  /// May be called with several snapshots (a job resumed at lower parallelism).
  virtual Status Restore(const StateSnapshot& snapshot) = 0;
};

/// The in-memory backend for the key groups `range`.
std::unique_ptr<StateBackend> MakeMemoryStateBackend(KeyGroupRange range,
                                                     arrow::MemoryPool* pool);

/// The backend of worker `worker` of a keyed operator (one per consumer of its keyed
/// exchange: ctx->threads() of them): the in-memory one until the job can choose.
Result<std::unique_ptr<StateBackend>> MakeStateBackend(ExecContext* ctx, int64_t worker);

}  // namespace sluice::exec
