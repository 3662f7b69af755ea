#include "sluice/exec/spill.h"

#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/record_batch.h>

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
  Status st = writer_->WriteRecordBatch(batch);
  if (!st.ok()) {
    return Status::IOError(set_->owner_, ": cannot write the spill file ", path_, ": ",
                           st.message());
  }
  batches_[part].push_back(next_batch_++);
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
  set_->AddRun(SpillSet::Run{path_, std::move(batches_)}, bytes_);
  return Status::OK();
}

SpillSet::SpillSet(ExecContext* ctx, std::string owner,
                   std::shared_ptr<arrow::Schema> schema, int parts)
    : ctx_(ctx), owner_(std::move(owner)), schema_(std::move(schema)), parts_(parts) {}

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

void SpillSet::AddRun(Run run, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_.push_back(std::move(run));
  bytes_ += bytes;
  ctx_->AddSpilledBytes(bytes);
}

Status SpillSet::ReadPartition(
    int part,
    const std::function<Status(std::shared_ptr<arrow::RecordBatch>)>& fn) const {
  std::vector<const Run*> runs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : runs_) runs.push_back(&r);
  }
  for (const Run* r : runs) {
    if (r->batches[part].empty()) continue;
    auto fail = [&](const Status& st) {
      return Status::IOError(owner_, ": cannot read the spill file ", r->path, ": ",
                             st.message());
    };
    auto file = arrow::io::ReadableFile::Open(r->path);
    if (!file.ok()) return fail(file.status());
    auto reader = arrow::ipc::RecordBatchFileReader::Open(*file);
    if (!reader.ok()) return fail(reader.status());
    for (int b : r->batches[part]) {
      auto batch = (*reader)->ReadRecordBatch(b);
      if (!batch.ok()) return fail(batch.status());
      ARROW_RETURN_NOT_OK(fn(std::move(*batch)));
    }
  }
  return Status::OK();
}

int64_t SpillSet::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(runs_.size());
}

int64_t SpillSet::bytes_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace sluice::exec
