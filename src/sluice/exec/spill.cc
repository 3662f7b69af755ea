#include "sluice/exec/spill.h"

#include <arrow/array/array_primitive.h>
#include <arrow/compute/api_vector.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/record_batch.h>
#include <malloc.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace sluice::exec {

SpillRun::~SpillRun() {
  if (closed_ || !file_) return;
  // Dropped without Close (an error on the way): the partial file is not part of the
  // set.
  (void)file_->Close();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

Status SpillRun::Write(int part, const arrow::RecordBatch& batch) {
  if (batch.num_rows() == 0) return Status::OK();
  const auto& schema = *set_->schema_;
  if (batch.num_columns() != schema.num_fields()) {
    return Status::Invalid(set_->owner_, ": a batch of ", batch.num_columns(),
                           " columns for a spill file of ", schema.num_fields());
  }
  for (int c = 0; c < batch.num_columns(); ++c) {
    if (!batch.column(c)->type()->Equals(*schema.field(c)->type())) {
      return Status::Invalid(set_->owner_, ": column ", c, " of type ",
                             batch.column(c)->type()->ToString(), " for a spill file of ",
                             schema.field(c)->type()->ToString());
    }
  }
  // The set's schema (field names and nullability may differ between operators' batches
  // of the same types).
  auto same = arrow::RecordBatch::Make(set_->schema_, batch.num_rows(), batch.columns());
  Status st = writer_->WriteRecordBatch(*same);
  if (!st.ok()) {
    return Status::IOError(set_->owner_, ": cannot write the spill file ", path_, ": ",
                           st.message());
  }
  batches_[part].push_back(next_batch_++);
  rows_ += batch.num_rows();
  return Status::OK();
}

Status SpillRun::Close() {
  Status st = writer_->Close();
  if (st.ok()) {
    auto pos = file_->Tell();
    st = pos.status();
    if (st.ok()) bytes_ = *pos;
  }
  if (st.ok()) st = file_->Close();
  if (!st.ok()) {
    return Status::IOError(set_->owner_, ": cannot write the spill file ", path_, ": ",
                           st.message());
  }
  closed_ = true;
  set_->AddRun(SpillSet::Run{path_, std::move(batches_)}, bytes_, rows_);
  return Status::OK();
}

SpillSet::SpillSet(ExecContext* ctx, std::string owner,
                   std::shared_ptr<arrow::Schema> schema, int parts,
                   std::atomic<int64_t>* owner_bytes)
    : ctx_(ctx),
      owner_(std::move(owner)),
      owner_bytes_(owner_bytes),
      schema_(std::move(schema)),
      parts_(parts) {}

SpillSet::~SpillSet() {
  for (const auto& r : runs_) {
    std::error_code ec;
    std::filesystem::remove(r.path, ec);
  }
}

Result<std::unique_ptr<SpillRun>> SpillSet::NewRun() {
  ARROW_ASSIGN_OR_RAISE(auto dir, ctx_->SpillDirectory());
  int64_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = next_file_++;
  }
  // The set's address keeps two sets of one owner apart.
  auto run = std::unique_ptr<SpillRun>(new SpillRun());
  run->set_ = this;
  run->path_ = dir + "/" + owner_ + "-" +
               std::to_string(reinterpret_cast<uintptr_t>(this)) + "-" +
               std::to_string(n) + ".arrow";
  run->batches_.resize(parts_);
  auto file = arrow::io::FileOutputStream::Open(run->path_);
  if (!file.ok()) {
    return Status::IOError(owner_, ": cannot create the spill file ", run->path_, ": ",
                           file.status().message());
  }
  run->file_ = *file;
  auto writer = arrow::ipc::MakeFileWriter(run->file_, schema_);
  if (!writer.ok()) {
    return Status::IOError(owner_, ": cannot write the spill file ", run->path_, ": ",
                           writer.status().message());
  }
  run->writer_ = *writer;
  return run;
}

void SpillSet::AddRun(Run run, int64_t bytes, int64_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_.push_back(std::move(run));
  bytes_ += bytes;
  rows_ += rows;
  ctx_->AddSpilledBytes(bytes);
  if (owner_bytes_ != nullptr) *owner_bytes_ += bytes;
}

Status SpillSet::ReadPartition(
    int part,
    const std::function<Status(std::shared_ptr<arrow::RecordBatch>)>& fn) const {
  const int64_t n = runs();
  for (int64_t r = 0; r < n; ++r) {
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenRun(r, part));
    while (true) {
      ARROW_ASSIGN_OR_RAISE(auto batch, reader->Next());
      if (!batch) break;
      ARROW_RETURN_NOT_OK(fn(std::move(batch)));
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<SpillRunReader>> SpillSet::OpenRun(int64_t run, int part) const {
  auto reader = std::unique_ptr<SpillRunReader>(new SpillRunReader());
  {
    std::lock_guard<std::mutex> lock(mu_);
    reader->path_ = runs_[run].path;
    reader->batches_ = runs_[run].batches[part];
  }
  reader->owner_ = owner_;
  if (reader->batches_.empty()) return reader;
  auto fail = [&](const Status& st) {
    return Status::IOError(owner_, ": cannot read the spill file ", reader->path_, ": ",
                           st.message());
  };
  auto file = arrow::io::ReadableFile::Open(reader->path_);
  if (!file.ok()) return fail(file.status());
  auto opened = arrow::ipc::RecordBatchFileReader::Open(*file);
  if (!opened.ok()) return fail(opened.status());
  reader->reader_ = *opened;
  return reader;
}

Result<std::shared_ptr<arrow::RecordBatch>> SpillRunReader::Next() {
  if (next_ >= batches_.size()) return nullptr;
  auto batch = reader_->ReadRecordBatch(batches_[next_++]);
  if (!batch.ok()) {
    return Status::IOError(owner_, ": cannot read the spill file ", path_, ": ",
                           batch.status().message());
  }
  return *batch;
}

int64_t SpillSet::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(runs_.size());
}

int64_t SpillSet::rows_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_;
}

int64_t SpillSet::bytes_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

uint8_t PartitionOfHash(uint64_t row_hash, int seed) {
  uint64_t h = row_hash ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(seed + 1));
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return static_cast<uint8_t>(h >> 56);
}

void ReturnFreedMemory(ExecContext& ctx) {
  malloc_trim(0);
  ctx.pool()->ReleaseUnused();
}

int64_t OverLimitAllowance(ExecContext& ctx) {
  constexpr int64_t kMaxAllowance = int64_t{32} << 20;
  return std::min<int64_t>(kMaxAllowance, ctx.budget()->limit() / (4 * ctx.threads()));
}

std::vector<int64_t> OrderByPartition(const uint8_t* part_of, int64_t n, int parts,
                                      std::vector<uint32_t>* order) {
  std::vector<int64_t> start(parts + 1, 0);
  for (int64_t i = 0; i < n; ++i) start[part_of[i] + 1]++;
  for (int p = 0; p < parts; ++p) start[p + 1] += start[p];
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  order->resize(n);
  for (int64_t i = 0; i < n; ++i) (*order)[fill[part_of[i]]++] = static_cast<uint32_t>(i);
  return start;
}

Status WriteByPartition(SpillRun* run, const arrow::RecordBatch& batch,
                        const std::vector<int64_t>& start) {
  for (size_t p = 0; p + 1 < start.size(); ++p) {
    if (start[p + 1] == start[p]) continue;
    ARROW_RETURN_NOT_OK(
        run->Write(static_cast<int>(p), *batch.Slice(start[p], start[p + 1] - start[p])));
  }
  return Status::OK();
}

Status WritePartitioned(SpillRun* run, const std::shared_ptr<arrow::RecordBatch>& batch,
                        const uint8_t* part_of, int parts) {
  const int64_t n = batch->num_rows();
  if (n == 0) return Status::OK();
  std::vector<uint32_t> order;
  auto start = OrderByPartition(part_of, n, parts, &order);
  auto indices =
      std::make_shared<arrow::UInt32Array>(n, arrow::Buffer::Wrap(order.data(), n));
  ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch, indices));
  return WriteByPartition(run, *taken.record_batch(), start);
}

}  // namespace sluice::exec
