#include "sluice/exec/exec_context.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "sluice/base/parallel.h"

namespace sluice::exec {

static int64_t ResolveLimit(int64_t limit) {
  if (limit == 0) return MemoryBudget::DefaultLimit();
  return limit < 0 ? 0 : limit;
}

ExecContext::ExecContext(ExecOptions options)
    : options_(options),
      threads_(options.threads > 0 ? options.threads : DefaultThreadCount()),
      budget_(ResolveLimit(options.memory_limit)) {}

ExecContext::~ExecContext() {
  if (spill_dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(spill_dir_, ec);  // best effort: nothing to report to
}

namespace {

// The spill folders in `base` of jobs whose process is gone (killed before it could
// remove its own): sluice-spill-<pid>-<n> where no process <pid> exists. Best effort.
void RemoveStaleSpillDirectories(const std::string& base) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string prefix = "sluice-spill-";
  for (fs::directory_iterator it(base, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const size_t dash = name.find('-', prefix.size());
    if (dash == std::string::npos) continue;
    char* rest = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &rest, 10);
    if (pid <= 0 || rest != name.c_str() + dash || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

}  // namespace

Result<std::string> ExecContext::SpillDirectory() {
  std::lock_guard<std::mutex> lock(spill_mu_);
  if (!spill_dir_.empty()) return spill_dir_;
  namespace fs = std::filesystem;
  std::string base = options_.spill_directory;
  if (base.empty()) {
    const char* env = std::getenv("SLUICE_SPILL_DIR");
    std::error_code ec;
    base = env != nullptr && *env != '\0' ? std::string(env)
                                          : fs::temp_directory_path(ec).string();
    if (base.empty()) base = "/tmp";
  }
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) {
    return Status::IOError("cannot create the spill directory ", base, ": ",
                           ec.message());
  }
  RemoveStaleSpillDirectories(base);
  // A name no other job on the machine uses: the process id and a counter.
  static std::atomic<int> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path dir = fs::path(base) / ("sluice-spill-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(counter++));
    if (fs::create_directory(dir, ec)) {
      spill_dir_ = dir.string();
      return spill_dir_;
    }
    if (ec) {
      return Status::IOError("cannot create a spill directory in ", base, ": ",
                             ec.message());
    }
  }
  return Status::IOError("cannot create a spill directory in ", base);
}

}  // namespace sluice::exec
