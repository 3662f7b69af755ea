#include "sluice/base/bad_rows.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "sluice/base/atomic_file.h"
#include "sluice/base/json_text.h"

namespace sluice {

Result<OnError> ParseOnError(const std::string& text) {
  if (text == "fail") return OnError::kFail;
  if (text == "skip") return OnError::kSkip;
  if (text == "reject") return OnError::kReject;
  return Status::Invalid("on_error must be fail, skip or reject, not '", text, "'");
}

const char* OnErrorName(OnError policy) {
  switch (policy) {
    case OnError::kFail:
      return "fail";
    case OnError::kSkip:
      return "skip";
    case OnError::kReject:
      return "reject";
  }
  return "?";
}

BadRowHandler::BadRowHandler(OnError policy, std::string rejects_path)
    : policy_(policy), rejects_path_(std::move(rejects_path)) {}

BadRowHandler::BadRowHandler(OnError policy, std::unique_ptr<RejectsOutput> output)
    : policy_(policy), rejects_path_(output->Describe()), output_(std::move(output)) {}

BadRowHandler::~BadRowHandler() {
  if (out_ != nullptr) {
    std::fclose(out_);
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
  }
}

std::string FormatBadRow(const BadRow& row) {
  std::string where =
      row.line > 0 ? fmt::format("{}:{}", row.source, row.line) : row.source;
  if (!row.column.empty())
    return fmt::format("{}: column '{}': {}", where, row.column, row.reason);
  return fmt::format("{}: {}", where, row.reason);
}

Status BadRowHandler::Report(const BadRow& row) {
  if (policy_ == OnError::kFail) {
    return Status::Invalid(FormatBadRow(row),
                           " (set on_error: skip or reject to continue past bad rows)");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!seen_.emplace(row.source, row.line).second) return Status::OK();
  }
  rejected_.fetch_add(1);
  if (policy_ == OnError::kSkip) return Status::OK();
  std::string line = "{\"source\":";
  AppendJsonString(&line, row.source);
  line += fmt::format(",\"line\":{},\"column\":", row.line);
  AppendJsonString(&line, row.column);
  line += ",\"reason\":";
  AppendJsonString(&line, row.reason);
  line += ",\"raw\":";
  AppendJsonString(&line, row.raw);
  line += "}";
  std::lock_guard<std::mutex> lock(mu_);
  if (output_) return output_->Write(line, row);
  line += "\n";
  if (out_ == nullptr) {
    if (rejects_path_.empty()) {
      return Status::Invalid("on_error: reject needs a rejects file path");
    }
    temp_path_ = TempPathFor(rejects_path_);
    std::filesystem::path parent = std::filesystem::path(rejects_path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    out_ = std::fopen(temp_path_.c_str(), "wb");
    if (out_ == nullptr) {
      return Status::IOError("cannot create rejects file '", temp_path_, "'");
    }
  }
  if (std::fwrite(line.data(), 1, line.size(), out_) != line.size()) {
    return Status::IOError("cannot write rejects file '", temp_path_, "'");
  }
  return Status::OK();
}

Status BadRowHandler::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (output_) return output_->Close();
  if (out_ == nullptr) return Status::OK();
  int rc = std::fclose(out_);
  out_ = nullptr;
  if (rc != 0) return Status::IOError("cannot write rejects file '", temp_path_, "'");
  return PublishTempFile(temp_path_, rejects_path_);
}

}  // namespace sluice
