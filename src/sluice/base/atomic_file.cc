#include "sluice/base/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

namespace sluice {

namespace fs = std::filesystem;

static constexpr const char* kTempPrefix = ".sluice-tmp-";

std::string TempPathFor(const std::string& final_path) {
  static std::atomic<int64_t> counter{0};
  fs::path p(final_path);
  std::string name = fmt::format("{}{}-{}-{}", kTempPrefix, getpid(),
                                 counter.fetch_add(1), p.filename().string());
  return (p.parent_path() / name).string();
}

Status PublishTempFile(const std::string& temp_path, const std::string& final_path) {
  int fd = ::open(temp_path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  fs::rename(temp_path, final_path, ec);
  if (ec) {
    return Status::IOError("cannot rename '", temp_path, "' to '", final_path,
                           "': ", ec.message());
  }
  return Status::OK();
}

void RemoveStaleTempFiles(const std::string& dir, bool recursive) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  const std::string prefix = kTempPrefix;
  auto visit = [&](const fs::directory_entry& entry) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) return;
    // ".sluice-tmp-<pid>-...": keep the files of live processes (this one included).
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && (pid == getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0)) return;
    std::error_code rm;
    fs::remove(entry.path(), rm);
  };
  if (recursive) {
    for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) visit(entry);
  } else {
    for (const auto& entry : fs::directory_iterator(dir, ec)) visit(entry);
  }
}

}  // namespace sluice
