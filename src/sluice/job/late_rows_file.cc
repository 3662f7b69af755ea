#include "sluice/job/late_rows_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "sluice/base/atomic_file.h"
#include "sluice/base/duration.h"
#include "sluice/base/json_text.h"
#include "sluice/connector/writer/json_rows.h"

namespace sluice::job {

LateRowsFile::LateRowsFile(std::string path) : path_(std::move(path)) {}

LateRowsFile::~LateRowsFile() {
  if (out_ != nullptr) {
    std::fclose(out_);
    std::remove(temp_.c_str());
  }
}

Status LateRowsFile::Open() {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenLocked();
}

Status LateRowsFile::OpenLocked() {
  if (out_ != nullptr) return Status::OK();
  temp_ = TempPathFor(path_);
  out_ = std::fopen(temp_.c_str(), "w");
  if (out_ == nullptr) {
    return Status::IOError("late rows: cannot create ", temp_, ": ",
                           std::strerror(errno));
  }
  return Status::OK();
}

Status LateRowsFile::Write(const std::string& where, int64_t watermark,
                           const std::shared_ptr<arrow::RecordBatch>& rows) {
  const auto keys = connector::JsonRows::Keys(*rows->schema());
  ARROW_ASSIGN_OR_RAISE(auto json, connector::JsonRows::Make(*rows, &keys));
  std::string prefix = "{\"operator\":";
  AppendJsonString(&prefix, where);
  prefix += ",\"watermark\":";
  AppendJsonString(&prefix, FormatUtcMicros(watermark, /*fraction=*/true));
  prefix += ",\"row\":";
  std::string text;
  for (int64_t r = 0; r < rows->num_rows(); ++r) {
    text += prefix;
    json.Append(r, &text);
    text += "}\n";
  }
  std::lock_guard<std::mutex> lock(mu_);
  ARROW_RETURN_NOT_OK(OpenLocked());
  if (std::fwrite(text.data(), 1, text.size(), out_) != text.size()) {
    return Status::IOError("late rows: cannot write ", temp_, ": ", std::strerror(errno));
  }
  rows_ += rows->num_rows();
  return Status::OK();
}

Status LateRowsFile::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  ARROW_RETURN_NOT_OK(OpenLocked());
  const bool ok = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!ok) {
    std::remove(temp_.c_str());
    return Status::IOError("late rows: cannot write ", temp_);
  }
  return PublishTempFile(temp_, path_);
}

}  // namespace sluice::job
